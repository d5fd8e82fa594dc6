//! An in-memory incident store for handler tests: links write the ticket through the
//! in-memory ticket store it is given, so tickets and links agree as they do in DynamoDB.

use std::collections::BTreeMap;
use std::sync::Mutex;

use jiff::Timestamp;

use crate::common::paging::Page;
use crate::common::store::StoreError;
use crate::incidents::ports::{
    Claimed, IncidentRecord, IncidentStart, IncidentStore, LinkWrite, Opened,
};
use crate::incidents::rules::{
    EscalationProgress, Incident, IncidentId, IncidentStatus, IncidentUpdate, Link, Report,
    Subject, SubjectMarker,
};
use crate::outbox::rules::OutboxMessage;
use crate::tickets::memory::MemoryTicketStore;
use crate::tickets::ports::{TicketStore, TicketUpdate, Updated};
use crate::tickets::ticket::Team;
use crate::tickets::workflow::Change;

pub struct MemoryIncidentStore<'a> {
    tickets: &'a MemoryTicketStore,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    reports: BTreeMap<String, Vec<Report>>,
    markers: BTreeMap<String, SubjectMarker>,
    incidents: BTreeMap<String, IncidentRecord>,
    /// How many times an incident was read by id: what a round-trip count would show.
    reads: usize,
}

impl<'a> MemoryIncidentStore<'a> {
    pub fn new(tickets: &'a MemoryTicketStore) -> Self {
        Self {
            tickets,
            state: Mutex::new(State::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How many incidents were read by id so far.
    pub fn reads(&self) -> usize {
        self.lock().reads
    }

    /// Every incident's id, in id order.
    pub fn incident_ids(&self) -> Vec<IncidentId> {
        self.lock()
            .incidents
            .values()
            .map(|r| r.incident.id.clone())
            .collect()
    }

    fn resolved(&self, id: &IncidentId) -> bool {
        self.lock()
            .incidents
            .get(id.as_str())
            .is_none_or(|r| r.incident.status == IncidentStatus::Resolved)
    }

    /// Whether the stored incident is the one a `state` token claims (any, with none).
    fn is_claimed(&self, id: &IncidentId, claimed: Option<&str>) -> bool {
        claimed.is_none_or(|fingerprint| {
            self.lock()
                .incidents
                .get(id.as_str())
                .is_some_and(|r| crate::common::seen::fingerprint(&r.incident) == fingerprint)
        })
    }

    async fn write_ticket(
        &self,
        change: &Change,
        claimed: Option<&str>,
    ) -> Result<Updated, StoreError> {
        let basis = match claimed {
            None => crate::tickets::ports::Basis::Read,
            Some(fingerprint) => crate::tickets::ports::Basis::Seen { fingerprint },
        };
        self.tickets
            .update(TicketUpdate {
                basis,
                change,
                escalation: None,
                notification: None,
                outbox: &[],
            })
            .await
    }
}

impl IncidentStore for MemoryIncidentStore<'_> {
    async fn index_report(&self, subject: &Subject, report: &Report) -> Result<(), StoreError> {
        let mut state = self.lock();
        let reports = state.reports.entry(subject.key()).or_default();
        if !reports.iter().any(|r| r.reference == report.reference) {
            reports.push(report.clone());
            reports.sort_by_key(|r| r.received_at);
        }
        Ok(())
    }

    async fn reports_since(
        &self,
        subject: &Subject,
        from: Timestamp,
    ) -> Result<Vec<Report>, StoreError> {
        Ok(self
            .lock()
            .reports
            .get(&subject.key())
            .map(|all| {
                all.iter()
                    .filter(|r| r.received_at >= from)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default())
    }

    async fn marker(&self, subject: &Subject) -> Result<Option<SubjectMarker>, StoreError> {
        Ok(self.lock().markers.get(&subject.key()).cloned())
    }

    async fn open(&self, incident: &Incident) -> Result<Opened, StoreError> {
        let mut state = self.lock();
        let key = incident.subject.key();
        if state.markers.get(&key).is_some_and(SubjectMarker::is_open) {
            return Ok(Opened::SubjectTaken);
        }
        state.markers.insert(
            key,
            SubjectMarker {
                incident: incident.id.clone(),
                resolved_at: None,
            },
        );
        state.incidents.insert(
            incident.id.as_str().to_owned(),
            IncidentRecord {
                incident: incident.clone(),
                links: Vec::new(),
                updates: Vec::new(),
            },
        );
        Ok(Opened::Created)
    }

    async fn current(
        &self,
        team: Team,
        limit: u16,
        start: Option<&IncidentStart>,
    ) -> Result<Page<Incident, IncidentStart>, StoreError> {
        let state = self.lock();
        let mut current: Vec<Incident> = state
            .incidents
            .values()
            .map(|r| r.incident.clone())
            .filter(|i| i.team == team && i.status != IncidentStatus::Resolved)
            .filter(|i| start.is_none_or(|s| (i.created_at, &i.id) < (s.created_at, &s.id)))
            .collect();
        current.sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)));
        Ok(Page::of_over_fetched(current, limit, |last| {
            IncidentStart {
                created_at: last.created_at,
                id: last.id.clone(),
            }
        }))
    }

    async fn read(&self, id: &IncidentId) -> Result<Option<IncidentRecord>, StoreError> {
        let mut state = self.lock();
        state.reads += 1;
        Ok(state.incidents.get(id.as_str()).cloned())
    }

    async fn link(
        &self,
        incident: &IncidentId,
        change: &Change,
        link: &Link,
        claimed: Claimed<'_>,
    ) -> Result<LinkWrite, StoreError> {
        if self.resolved(incident) {
            return Ok(LinkWrite::IncidentResolved);
        }
        if !self.is_claimed(incident, claimed.incident)
            || self.write_ticket(change, claimed.ticket).await? == Updated::Stale
        {
            return Ok(LinkWrite::Stale);
        }
        if let Some(record) = self.lock().incidents.get_mut(incident.as_str()) {
            record.links.push(link.clone());
        }
        Ok(LinkWrite::Done)
    }

    async fn unlink(
        &self,
        incident: &IncidentId,
        change: &Change,
        claimed: Claimed<'_>,
    ) -> Result<LinkWrite, StoreError> {
        if self.resolved(incident) {
            return Ok(LinkWrite::IncidentResolved);
        }
        if !self.is_claimed(incident, claimed.incident)
            || self.write_ticket(change, claimed.ticket).await? == Updated::Stale
        {
            return Ok(LinkWrite::Stale);
        }
        if let Some(record) = self.lock().incidents.get_mut(incident.as_str()) {
            record
                .links
                .retain(|l| l.reference != change.ticket.reference);
        }
        Ok(LinkWrite::Done)
    }

    async fn save_status(
        &self,
        incident: &Incident,
        expected_version: u64,
        update: &IncidentUpdate,
        fan_out: &OutboxMessage,
        claimed: Claimed<'_>,
    ) -> Result<Updated, StoreError> {
        if !self.is_claimed(&incident.id, claimed.incident) {
            return Ok(Updated::Stale);
        }
        let mut state = self.lock();
        let Some(record) = state.incidents.get_mut(incident.id.as_str()) else {
            return Ok(Updated::Stale);
        };
        if record.incident.version != expected_version {
            return Ok(Updated::Stale);
        }
        // Only the status fields: the escalation's progress is written on its own.
        record.incident.status = incident.status;
        record.incident.version = incident.version;
        record.incident.updated_at = incident.updated_at;
        record.incident.resolved_at = incident.resolved_at;
        record.updates.push(update.clone());
        self.tickets.add_to_outbox(fan_out.clone());
        if let Some(resolved_at) = incident.resolved_at {
            if let Some(marker) = state.markers.get_mut(&incident.subject.key()) {
                if marker.incident == incident.id {
                    marker.resolved_at = Some(resolved_at);
                }
            }
        }
        Ok(Updated::Done)
    }

    async fn settle_escalation(
        &self,
        incident: &Incident,
        state: EscalationProgress,
    ) -> Result<Updated, StoreError> {
        let mut guard = self.lock();
        match guard.incidents.get_mut(incident.id.as_str()) {
            Some(record) if record.incident.escalation.state == EscalationProgress::Pending => {
                record.incident.escalation.state = state;
                Ok(Updated::Done)
            }
            _ => Ok(Updated::Stale),
        }
    }
}

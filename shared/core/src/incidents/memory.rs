//! An in-memory incident store for handler tests: links write the ticket through the
//! in-memory ticket store it is given, so tickets and links agree as they do in DynamoDB.

use std::collections::BTreeMap;
use std::sync::Mutex;

use jiff::Timestamp;

use crate::common::paging::Page;
use crate::common::store::StoreError;
use crate::incidents::ports::{IncidentRecord, IncidentStart, IncidentStore, LinkWrite, Opened};
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

    async fn write_ticket(&self, change: &Change) -> Result<Updated, StoreError> {
        self.tickets
            .update(TicketUpdate {
                basis: crate::tickets::ports::Basis::Read,
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
        Ok(self.lock().incidents.get(id.as_str()).cloned())
    }

    async fn link(
        &self,
        incident: &IncidentId,
        change: &Change,
        link: &Link,
    ) -> Result<LinkWrite, StoreError> {
        if self.resolved(incident) {
            return Ok(LinkWrite::IncidentResolved);
        }
        if self.write_ticket(change).await? == Updated::Stale {
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
    ) -> Result<LinkWrite, StoreError> {
        if self.resolved(incident) {
            return Ok(LinkWrite::IncidentResolved);
        }
        if self.write_ticket(change).await? == Updated::Stale {
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
    ) -> Result<Updated, StoreError> {
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
        id: &IncidentId,
        state: EscalationProgress,
    ) -> Result<Updated, StoreError> {
        let mut guard = self.lock();
        match guard.incidents.get_mut(id.as_str()) {
            Some(record) if record.incident.escalation.state == EscalationProgress::Pending => {
                record.incident.escalation.state = state;
                Ok(Updated::Done)
            }
            _ => Ok(Updated::Stale),
        }
    }
}

//! Use cases of multi-player incidents, over the ports: recording a report after intake (and
//! opening an incident when enough players report the same subject), staff linking and
//! unlinking tickets by hand, and status updates that reach every linked player.
//!
//! What must hold, and how:
//!
//! - **One incident per outbreak.** Each subject has a marker item created with the incident
//!   under `attribute_not_exists` (or over a resolved one), so concurrent reports open one; the
//!   losers link themselves to the winner's. A report is indexed *before* the window is counted,
//!   so whatever the interleaving, the last report of a burst sees them all.
//! - **Linking is atomic.** The ticket (under its version, `urgent`, `linked_incident`, its
//!   queue sort key), the link item and a history line are one transaction in the store, so the
//!   incident's links and the tickets never disagree.
//! - **One escalation.** Its id and its ticket (the report that reached the threshold) are fixed
//!   in the incident item when it is created; the escalation record is written on that ticket
//!   with `attribute_not_exists`, through the ticket store's own transaction (ticket, record and
//!   outbox request together, exactly like `Desk::escalate`). Whoever finds it still `pending`
//!   (the opener, or a later report after an interrupted opening) writes that same one.
//! - **Every linked player hears a status update once.** The notification id is derived from the
//!   incident, the update's sequence and the ticket; it is written with the ticket's change and
//!   its outbox message in one transaction, and a retry skips tickets that already have it.

use jiff::SignedDuration;

use crate::common::access::Actor;
use crate::common::paging::Page;
use crate::common::player::Author;
use crate::common::reference::TicketReference;
use crate::common::retry::{Attempt, RetryPolicy};
use crate::common::seen::{on_seen_else_read, Seen};
use crate::common::store::StoreError;
use crate::common::validation::ValidationError;
use crate::escalation::rules as escalation;
use crate::incidents::ports::Claimed;
use crate::incidents::ports::IncidentRecord;
use crate::incidents::ports::IncidentStart;
use crate::incidents::ports::IncidentStore;
use crate::incidents::ports::LinkWrite;
use crate::incidents::ports::Opened;
use crate::incidents::rules::{
    self as rules, EscalationProgress, FanOut, Incident, IncidentId, IncidentRuleError,
    IncidentStatus, IncidentUpdate, Link, Linking, Opening, Report, Subject,
};
use crate::notifications::rules::NotifyError;
use crate::outbox::rules::{Destination, MessageId, OutboxMessage};
use crate::tickets::desk::Desk;
use crate::tickets::ports::{TicketStore, TicketUpdate, Updated};
use crate::tickets::staff::now_ms;
use crate::tickets::ticket::{Team, Ticket};
use crate::tickets::workflow::WorkflowError;

/// Reads and writes that race with agents' updates try again this many times, reading the
/// ticket afresh each time, before giving up with `Contended`.
const RETRY: RetryPolicy = RetryPolicy::CONTENDED_WRITE.with_attempts(5);

#[derive(Debug, thiserror::Error)]
pub enum IncidentError {
    #[error("no such incident")]
    NotFound,
    #[error("no such ticket")]
    TicketNotFound,
    #[error("only the {} team's agents and supervisors may do this", .0.as_str())]
    OtherTeam(Team),
    #[error(transparent)]
    Rule(#[from] IncidentRuleError),
    #[error(transparent)]
    Workflow(#[from] WorkflowError),
    #[error("the linked tickets kept changing; send the same request again")]
    Contended,
    #[error("the incident's escalation could not be built")]
    Escalation(#[source] ValidationError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Notify(#[from] NotifyError),
    #[error("the random source failed")]
    Random(#[from] getrandom::Error),
    #[error("the incident has no status update {0}")]
    NoSuchUpdate(u64),
    #[error("the fan-out message could not be built")]
    FanOutMessage(#[source] serde_json::Error),
}

/// What recording a report did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportOutcome {
    /// Not an incident report naming a game or payment system: nothing to group.
    NotApplicable,
    /// Indexed; fewer than the threshold in the window so far.
    Counted { reports: usize },
    /// Linked to the subject's open incident (or found already linked).
    Linked(IncidentId),
    /// This report reached the threshold: a new incident, every report of the window linked.
    Opened { incident: IncidentId, linked: usize },
}

/// A recorded report, and the outbox messages written on the way (the incident's escalation
/// request), for the caller to relay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub outcome: ReportOutcome,
    pub outbox: Vec<OutboxMessage>,
}

/// The `state` tokens a link or an unlink came with: the incident's and the ticket's.
#[derive(Debug, Clone, Copy, Default)]
pub struct SeenPair<'a> {
    pub incident: Option<&'a Seen<Incident>>,
    pub ticket: Option<&'a Seen<Ticket>>,
}

impl<'a> SeenPair<'a> {
    /// Both tokens, when they name this incident and this ticket and the caller works for both
    /// teams: a decision on them is then worth writing (the write still checks them).
    fn usable(
        self,
        caller: &Actor,
        id: &IncidentId,
        reference: &TicketReference,
    ) -> Option<(&'a Seen<Incident>, &'a Seen<Ticket>)> {
        let (incident, ticket) = (self.incident?, self.ticket?);
        let ok = &incident.record().id == id
            && &ticket.record().reference == reference
            && caller.works_for(incident.record().team)
            && caller.works_for(ticket.record().team);
        ok.then_some((incident, ticket))
    }

    /// What the write must find stored: both records as their tokens claim them.
    fn claimed(incident: &'a Seen<Incident>, ticket: &'a Seen<Ticket>) -> Claimed<'a> {
        Claimed {
            incident: Some(incident.fingerprint()),
            ticket: Some(ticket.fingerprint()),
        }
    }
}

/// A link or unlink by staff: the incident (a link does not change it) and the ticket as
/// written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkChanged {
    pub incident: Incident,
    pub ticket: Ticket,
    /// False when nothing had to change (linking a ticket already linked to this incident).
    pub changed: bool,
    pub outbox: Vec<OutboxMessage>,
}

/// A status update, and the first page of its fan-out for the caller to relay (the same
/// message when the update is sent again: relaying it again restarts a stalled fan-out, and
/// players already told are skipped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusUpdated {
    /// The incident as the update left it.
    pub incident: Incident,
    pub update: IncidentUpdate,
    /// The same update sent again: nothing was written.
    pub replayed: bool,
    pub outbox: Vec<OutboxMessage>,
}

/// One fan-out page done: the players notified now (those told before are skipped), their
/// notifications' outbox messages for the caller to relay, and the next page, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FannedOut {
    pub notified: usize,
    pub outbox: Vec<OutboxMessage>,
    pub next: Option<FanOut>,
}

/// Whether intake should call [`Incidents::record_report`] for a request it just stored: only
/// incident reports naming a game or a payment system can be grouped, and skipping the others
/// saves their ticket read.
pub fn may_group(request: &crate::tickets::intake::TicketRequest) -> bool {
    Subject::of_report(request.category, request.incident.as_ref()).is_some()
}

/// The incident desk: its store and the rule's configuration. The tickets are read and
/// written through the [`Desk`] each call is given.
/// The multi-player incident rule (`rules`): `threshold` reports of the same game
/// or payment system within `window` open an incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IncidentConfig {
    /// `INCIDENT_THRESHOLD`: reports that open an incident, the last one included (2–100).
    pub threshold: u32,
    /// `INCIDENT_WINDOW_MINUTES`: how far back reports count (5–1440 minutes).
    pub window: SignedDuration,
}

pub struct Incidents<I> {
    pub store: I,
    pub config: IncidentConfig,
}

impl<I: IncidentStore> Incidents<I> {
    /// Called by intake once a ticket is stored (`Submitted::Created`, and safely on a replay
    /// too: every step is idempotent). Indexes an incident report under its subject, links it
    /// to the subject's open incident, or opens one when the window holds `threshold` reports.
    pub async fn record_report<S: TicketStore>(
        &self,
        desk: &Desk<S>,
        reference: &TicketReference,
    ) -> Result<Recorded, IncidentError> {
        let found = desk
            .store
            .get(reference)
            .await?
            .ok_or(IncidentError::TicketNotFound)?;
        let ticket = found.ticket;
        let Some(subject) = Subject::of(&ticket) else {
            return Ok(Recorded {
                outcome: ReportOutcome::NotApplicable,
                outbox: Vec::new(),
            });
        };
        // The report's own time, not the clock: a retry indexes the same item and counts the
        // same window.
        let report = Report {
            reference: ticket.reference.clone(),
            received_at: ticket.created_at,
        };
        self.store.index_report(&subject, &report).await?;
        RETRY
            .run(|_| self.report_attempt(desk, reference, &ticket, &subject))
            .await?
            .ok_or(IncidentError::Contended)
    }

    /// One attempt of [`Incidents::record_report`]: links the report to the subject's open
    /// incident, or counts the window and opens one; `Retry` when another report opened it
    /// first.
    async fn report_attempt<S: TicketStore>(
        &self,
        desk: &Desk<S>,
        reference: &TicketReference,
        ticket: &Ticket,
        subject: &Subject,
    ) -> Result<Attempt<Recorded>, IncidentError> {
        let marker = self.store.marker(subject).await?;
        if let Some(open) = marker.as_ref().filter(|m| m.is_open()) {
            let record = self
                .read(&open.incident)
                .await?
                .ok_or(StoreError::Corrupt {
                    attribute: "incident_id",
                })?;
            let incident = record.incident;
            // A report whose ticket cannot be linked (already in another incident, say)
            // is still counted; only store failures are errors.
            match self
                .link_ticket(desk, &incident, reference, Author::System)
                .await
            {
                Ok(_) | Err(IncidentError::Rule(_)) => {}
                Err(other) => return Err(other),
            }
            let outbox = self.ensure_escalated(desk, &incident).await?;
            return Ok(Attempt::Done(Recorded {
                outcome: ReportOutcome::Linked(incident.id),
                outbox,
            }));
        }
        let from = rules::window_start(
            ticket.created_at,
            self.config.window,
            marker.as_ref().and_then(|m| m.resolved_at),
        );
        let reports = self.store.reports_since(subject, from).await?;
        if !rules::is_due(reports.len(), self.config.threshold) {
            return Ok(Attempt::Done(Recorded {
                outcome: ReportOutcome::Counted {
                    reports: reports.len(),
                },
                outbox: Vec::new(),
            }));
        }
        let incident = rules::open(Opening {
            id: IncidentId::generate()?,
            subject: subject.clone(),
            trigger: ticket.reference.clone(),
            reports: reports.len(),
            threshold: self.config.threshold,
            window: self.config.window,
            window_start: from,
            escalation_id: MessageId::generate()?,
            at: now_ms(desk.clock.now()),
        });
        match self.store.open(&incident).await? {
            // Another report won the race: the next pass finds its incident open.
            Opened::SubjectTaken => Ok(Attempt::Retry),
            Opened::Created => {
                let linked = self.link_all(desk, &incident, &reports).await?;
                let outbox = self.ensure_escalated(desk, &incident).await?;
                tracing::info!(
                    incident = %incident.id,
                    team = incident.team.as_str(),
                    reports = reports.len(),
                    linked,
                    "incident opened"
                );
                Ok(Attempt::Done(Recorded {
                    outcome: ReportOutcome::Opened {
                        incident: incident.id,
                        linked,
                    },
                    outbox,
                }))
            }
        }
    }

    /// Links every report of the window that can be linked; returns how many are linked.
    async fn link_all<S: TicketStore>(
        &self,
        desk: &Desk<S>,
        incident: &Incident,
        reports: &[Report],
    ) -> Result<usize, IncidentError> {
        let mut linked = 0;
        for report in reports {
            match self
                .link_ticket(desk, incident, &report.reference, Author::System)
                .await
            {
                Ok(_) => linked += 1,
                // Resolved or closed meanwhile, in another incident: left as it is.
                Err(IncidentError::Rule(refused)) => {
                    tracing::info!(incident = %incident.id, ticket = %report.reference, reason = %refused, "report not linked");
                }
                Err(IncidentError::TicketNotFound) => {
                    tracing::warn!(incident = %incident.id, ticket = %report.reference, "indexed report without a ticket");
                }
                Err(other) => return Err(other),
            }
        }
        Ok(linked)
    }

    /// The incident with its links and updates, for staff of its team.
    pub async fn view(
        &self,
        caller: &Actor,
        id: &IncidentId,
    ) -> Result<IncidentRecord, IncidentError> {
        self.read_for(caller, id).await
    }

    /// A team's current incidents (open or monitoring), newest first, for staff of that team:
    /// where an agent starting a shift finds the outbreaks under way.
    pub async fn current(
        &self,
        caller: &Actor,
        team: Team,
        limit: u16,
        start: Option<&IncidentStart>,
    ) -> Result<Page<Incident, IncidentStart>, IncidentError> {
        if !caller.works_for(team) {
            return Err(IncidentError::OtherTeam(team));
        }
        Ok(self.store.current(team, limit, start).await?)
    }

    /// Staff link a ticket by hand (a report that named the game differently, a chat hand-off
    /// filed as `technical`). The caller must work for the incident's team and the ticket's.
    /// With the `state` tokens of both (see [`crate::common::seen`]), one round trip.
    pub async fn link<S: TicketStore>(
        &self,
        desk: &Desk<S>,
        caller: &Actor,
        id: &IncidentId,
        reference: &TicketReference,
        seen: SeenPair<'_>,
    ) -> Result<LinkChanged, IncidentError> {
        on_seen_else_read(
            async {
                let (incident, ticket) = seen.usable(caller, id, reference)?;
                // An incident whose escalation is still to write takes the read path, which
                // repairs it.
                if incident.record().escalation.state == EscalationProgress::Pending {
                    return None;
                }
                let now = now_ms(desk.clock.now());
                let actor = staff(caller);
                let Ok(Linking::Link(mut change)) =
                    rules::link(ticket.record(), incident.record(), actor.clone(), now)
                else {
                    return None;
                };
                desk.keep_promises(ticket.record(), &mut change);
                let link = Link {
                    reference: reference.clone(),
                    linked_at: now,
                    linked_by: actor,
                };
                let written = self
                    .store
                    .link(id, &change, &link, SeenPair::claimed(incident, ticket))
                    .await;
                on_seen_written(written, incident.record(), change.ticket)
            },
            async {
                let record = self.read_for(caller, id).await?;
                self.check_ticket_team(desk, caller, reference).await?;
                let (ticket, changed) = self
                    .link_ticket(desk, &record.incident, reference, staff(caller))
                    .await?;
                // Also a repair point for an opening interrupted before its escalation.
                let outbox = self.ensure_escalated(desk, &record.incident).await?;
                Ok(LinkChanged {
                    incident: record.incident,
                    ticket,
                    changed,
                    outbox,
                })
            },
        )
        .await
    }

    /// Staff unlink a ticket linked by mistake: it gets its intake priority back. With the
    /// `state` tokens of both, one round trip.
    pub async fn unlink<S: TicketStore>(
        &self,
        desk: &Desk<S>,
        caller: &Actor,
        id: &IncidentId,
        reference: &TicketReference,
        seen: SeenPair<'_>,
    ) -> Result<LinkChanged, IncidentError> {
        on_seen_else_read(
            async {
                let (incident, ticket) = seen.usable(caller, id, reference)?;
                let now = now_ms(desk.clock.now());
                let mut change =
                    rules::unlink(ticket.record(), incident.record(), staff(caller), now).ok()?;
                desk.keep_promises(ticket.record(), &mut change);
                let written = self
                    .store
                    .unlink(id, &change, SeenPair::claimed(incident, ticket))
                    .await;
                on_seen_written(written, incident.record(), change.ticket)
            },
            async {
                let record = self.read_for(caller, id).await?;
                self.check_ticket_team(desk, caller, reference).await?;
                RETRY
                    .run(|_| self.unlink_attempt(desk, caller, &record, reference))
                    .await?
                    .ok_or(IncidentError::Contended)
            },
        )
        .await
    }

    /// One attempt of [`Incidents::unlink`], on the ticket as it is now.
    async fn unlink_attempt<S: TicketStore>(
        &self,
        desk: &Desk<S>,
        caller: &Actor,
        record: &IncidentRecord,
        reference: &TicketReference,
    ) -> Result<Attempt<LinkChanged>, IncidentError> {
        let id = &record.incident.id;
        let found = desk
            .store
            .get(reference)
            .await?
            .ok_or(IncidentError::TicketNotFound)?;
        let now = now_ms(desk.clock.now());
        let mut change = rules::unlink(&found.ticket, &record.incident, staff(caller), now)?;
        desk.keep_promises(&found.ticket, &mut change);
        match self.store.unlink(id, &change, Claimed::default()).await? {
            LinkWrite::Done => {
                tracing::info!(incident = %id, ticket = %reference, "ticket unlinked");
                Ok(Attempt::Done(LinkChanged {
                    incident: record.incident.clone(),
                    ticket: change.ticket,
                    changed: true,
                    outbox: Vec::new(),
                }))
            }
            LinkWrite::Stale => Ok(Attempt::Retry),
            LinkWrite::IncidentResolved => Err(IncidentRuleError::Resolved.into()),
        }
    }

    /// A status update on the version staff read, written with the first page of its fan-out
    /// (see [`Incidents::fan_out`]) in one transaction: the update is never recorded without
    /// its players being told. The same update sent again (same version, status and note)
    /// writes nothing and hands back the same first page, to relay again. With the incident's
    /// `state` token, one round trip.
    #[allow(clippy::too_many_arguments)]
    pub async fn update_status<S: TicketStore>(
        &self,
        desk: &Desk<S>,
        caller: &Actor,
        id: &IncidentId,
        expected_version: u64,
        to: IncidentStatus,
        note: Option<String>,
        seen: Option<&Seen<Incident>>,
    ) -> Result<StatusUpdated, IncidentError> {
        let usable =
            seen.filter(|seen| &seen.record().id == id && caller.works_for(seen.record().team));
        on_seen_else_read(
            async {
                let seen = usable?;
                let now = now_ms(desk.clock.now());
                let (next, update) = rules::change_status(
                    seen.record(),
                    expected_version,
                    to,
                    note.clone(),
                    staff(caller),
                    now,
                )
                .ok()?;
                let fan_out = match fan_out_message(id, &update) {
                    Ok(fan_out) => fan_out,
                    Err(error) => return Some(Err(error)),
                };
                let claimed = Claimed {
                    incident: Some(seen.fingerprint()),
                    ticket: None,
                };
                match self
                    .store
                    .save_status(&next, expected_version, &update, &fan_out, claimed)
                    .await
                {
                    Ok(Updated::Done) => {
                        tracing::info!(incident = %id, seq = update.seq, status = update.status.as_str(), "incident status updated; fan-out queued");
                        Some(Ok(StatusUpdated {
                            incident: next,
                            update,
                            replayed: false,
                            outbox: vec![fan_out],
                        }))
                    }
                    // Another write first, or not the stored incident: decided on the truth.
                    Ok(Updated::Stale) => None,
                    Err(error) => Some(Err(error.into())),
                }
            },
            async {
                self.update_status_read(desk, caller, id, expected_version, to, note.clone())
                    .await
            },
        )
        .await
    }

    /// [`Incidents::update_status`] on the incident as read.
    async fn update_status_read<S: TicketStore>(
        &self,
        desk: &Desk<S>,
        caller: &Actor,
        id: &IncidentId,
        expected_version: u64,
        to: IncidentStatus,
        note: Option<String>,
    ) -> Result<StatusUpdated, IncidentError> {
        let record = self.read_for(caller, id).await?;
        let now = now_ms(desk.clock.now());
        let replay = |record: &IncidentRecord| {
            rules::replay_of(
                &record.incident,
                &record.updates,
                expected_version,
                to,
                note.as_deref(),
            )
            .cloned()
        };
        let stale = IncidentRuleError::Stale {
            expected: expected_version,
            actual: record.incident.version.max(expected_version + 1),
        };
        let (incident, update, saved) = match rules::change_status(
            &record.incident,
            expected_version,
            to,
            note.clone(),
            staff(caller),
            now,
        ) {
            Ok((next, update)) => {
                let fan_out = fan_out_message(id, &update)?;
                match self
                    .store
                    .save_status(
                        &next,
                        expected_version,
                        &update,
                        &fan_out,
                        Claimed::default(),
                    )
                    .await?
                {
                    Updated::Done => (next, update, Some(fan_out)),
                    // Lost a race: to the same update (a retry sent while the first was in
                    // flight) that is done, to another one it is stale.
                    Updated::Stale => {
                        let latest = self.read(id).await?.ok_or(IncidentError::NotFound)?;
                        match replay(&latest) {
                            Some(previous) => (latest.incident, previous, None),
                            None => return Err(stale.into()),
                        }
                    }
                }
            }
            Err(IncidentRuleError::Stale { .. }) => match replay(&record) {
                Some(previous) => (record.incident.clone(), previous, None),
                None => return Err(stale.into()),
            },
            Err(refused) => return Err(refused.into()),
        };
        // A replay writes nothing: its first page is rebuilt, the same message as written then.
        let replayed = saved.is_none();
        let fan_out = match saved {
            Some(fan_out) => fan_out,
            None => fan_out_message(id, &update)?,
        };
        tracing::info!(
            incident = %id,
            seq = update.seq,
            status = update.status.as_str(),
            replayed,
            linked = record.links.len(),
            "incident status updated; fan-out queued"
        );
        Ok(StatusUpdated {
            incident,
            outbox: vec![fan_out],
            update,
            replayed,
        })
    }

    /// One page of a status update's fan-out: each linked ticket of the page still in work
    /// gets the update's effect and its player's notification (see `notify_linked`: a ticket
    /// that has it already is skipped, so a page handled twice tells nobody twice). At most
    /// `page_size` tickets, so that however many players an incident has, a page fits in one
    /// function run; `next` is the page to queue after this one.
    pub async fn fan_out<S: TicketStore>(
        &self,
        desk: &Desk<S>,
        page: &FanOut,
        page_size: usize,
    ) -> Result<FannedOut, IncidentError> {
        let record = self
            .read(&page.incident_id)
            .await?
            .ok_or(IncidentError::NotFound)?;
        let update = record
            .updates
            .iter()
            .find(|u| u.seq == page.seq)
            .ok_or(IncidentError::NoSuchUpdate(page.seq))?;
        let (references, more) = rules::fan_out_page(&record.links, page.after.as_ref(), page_size);
        let mut outbox = Vec::new();
        for reference in &references {
            if let Some(message) = self
                .notify_linked(desk, &page.incident_id, update, reference)
                .await?
            {
                outbox.push(message);
            }
        }
        let next = match references.last() {
            Some(last) if more => Some(page.next(last)),
            _ => None,
        };
        Ok(FannedOut {
            notified: outbox.len(),
            outbox,
            next,
        })
    }

    async fn read(&self, id: &IncidentId) -> Result<Option<IncidentRecord>, IncidentError> {
        Ok(self.store.read(id).await?)
    }

    /// The incident, if the caller works for its team (supervisors work for all).
    async fn read_for(
        &self,
        caller: &Actor,
        id: &IncidentId,
    ) -> Result<IncidentRecord, IncidentError> {
        let record = self.read(id).await?.ok_or(IncidentError::NotFound)?;
        if !caller.works_for(record.incident.team) {
            return Err(IncidentError::OtherTeam(record.incident.team));
        }
        Ok(record)
    }

    /// Linking changes the ticket (its priority): like any other change of a ticket, only staff
    /// of its team may make it.
    async fn check_ticket_team<S: TicketStore>(
        &self,
        desk: &Desk<S>,
        caller: &Actor,
        reference: &TicketReference,
    ) -> Result<(), IncidentError> {
        let found = desk
            .store
            .get(reference)
            .await?
            .ok_or(IncidentError::TicketNotFound)?;
        if caller.works_for(found.ticket.team) {
            Ok(())
        } else {
            Err(IncidentError::OtherTeam(found.ticket.team))
        }
    }

    /// Links one ticket, reading it afresh on every attempt. Returns the ticket as linked and
    /// whether this call linked it.
    async fn link_ticket<S: TicketStore>(
        &self,
        desk: &Desk<S>,
        incident: &Incident,
        reference: &TicketReference,
        actor: Author,
    ) -> Result<(Ticket, bool), IncidentError> {
        RETRY
            .run(|_| self.link_attempt(desk, incident, reference, &actor))
            .await?
            .ok_or(IncidentError::Contended)
    }

    async fn link_attempt<S: TicketStore>(
        &self,
        desk: &Desk<S>,
        incident: &Incident,
        reference: &TicketReference,
        actor: &Author,
    ) -> Result<Attempt<(Ticket, bool)>, IncidentError> {
        let found = desk
            .store
            .get(reference)
            .await?
            .ok_or(IncidentError::TicketNotFound)?;
        let now = now_ms(desk.clock.now());
        let mut change = match rules::link(&found.ticket, incident, actor.clone(), now)? {
            Linking::AlreadyLinked => return Ok(Attempt::Done((found.ticket, false))),
            Linking::Link(change) => change,
        };
        desk.keep_promises(&found.ticket, &mut change);
        let link = Link {
            reference: reference.clone(),
            linked_at: now,
            linked_by: actor.clone(),
        };
        match self
            .store
            .link(&incident.id, &change, &link, Claimed::default())
            .await?
        {
            LinkWrite::Done => {
                tracing::info!(incident = %incident.id, ticket = %reference, "ticket linked");
                Ok(Attempt::Done((change.ticket, true)))
            }
            LinkWrite::Stale => Ok(Attempt::Retry),
            LinkWrite::IncidentResolved => Err(IncidentRuleError::Resolved.into()),
        }
    }

    /// Writes the incident's one escalation if it is still pending: on the ticket fixed when
    /// the incident opened, with the id fixed then, so that two callers racing here (or a
    /// retry) write at most one. Returns the outbox request to relay.
    async fn ensure_escalated<S: TicketStore>(
        &self,
        desk: &Desk<S>,
        incident: &Incident,
    ) -> Result<Vec<OutboxMessage>, IncidentError> {
        if incident.escalation.state != EscalationProgress::Pending {
            return Ok(Vec::new());
        }
        RETRY
            .run(|_| self.escalation_attempt(desk, incident))
            .await?
            .ok_or(IncidentError::Contended)
    }

    /// One attempt of [`Incidents::ensure_escalated`], on the target ticket as it is now.
    async fn escalation_attempt<S: TicketStore>(
        &self,
        desk: &Desk<S>,
        incident: &Incident,
    ) -> Result<Attempt<Vec<OutboxMessage>>, IncidentError> {
        let target = &incident.escalation;
        let Some(found) = desk.store.get(&target.reference).await? else {
            self.settle(incident, EscalationProgress::Skipped).await?;
            return Ok(Attempt::Done(Vec::new()));
        };
        if found.escalations.iter().any(|e| e.id == target.id) {
            // Written by an earlier attempt that stopped before settling.
            self.settle(incident, EscalationProgress::Requested).await?;
            return Ok(Attempt::Done(Vec::new()));
        }
        if !rules::can_escalate(&found.ticket) {
            // Resolved, or already escalated by an agent: the team has it or needs it no
            // more; the incident shows `skipped` so staff can escalate by hand if needed.
            tracing::warn!(incident = %incident.id, ticket = %target.reference, status = found.ticket.status.as_str(), "incident escalation skipped");
            self.settle(incident, EscalationProgress::Skipped).await?;
            return Ok(Attempt::Done(Vec::new()));
        }
        let now = now_ms(desk.clock.now());
        let ask = rules::escalation_ask(incident).map_err(IncidentError::Escalation)?;
        let (mut change, escalation) = escalation::request(
            &found.ticket,
            found.ticket.version,
            ask,
            Author::System,
            target.id.clone(),
            now,
        )?;
        desk.keep_promises(&found.ticket, &mut change);
        // The request carries identifiers only; route-escalations reads the ticket, whose
        // `linked_incident` then goes into the team's message.
        let outbox = vec![OutboxMessage::new(
            MessageId::generate()?,
            Destination::Escalations,
            target.reference.as_str(),
            &escalation.request_message(),
            now,
        )
        .map_err(NotifyError::from)?];
        let written = desk
            .store
            .update(TicketUpdate {
                basis: crate::tickets::ports::Basis::Read,
                change: &change,
                escalation: Some(&escalation),
                notification: None,
                outbox: &outbox,
            })
            .await?;
        match written {
            Updated::Done => {
                self.settle(incident, EscalationProgress::Requested).await?;
                tracing::info!(incident = %incident.id, ticket = %target.reference, team = incident.team.as_str(), "incident escalated");
                Ok(Attempt::Done(outbox))
            }
            Updated::Stale => Ok(Attempt::Retry),
        }
    }

    async fn settle(
        &self,
        incident: &Incident,
        state: EscalationProgress,
    ) -> Result<(), IncidentError> {
        // `Stale` means another caller settled it first: the same outcome.
        self.store.settle_escalation(incident, state).await?;
        Ok(())
    }

    /// One linked player's notification of `update`, with the ticket's change, unless the
    /// ticket has it already (a retry) or is no longer concerned.
    async fn notify_linked<S: TicketStore>(
        &self,
        desk: &Desk<S>,
        incident: &IncidentId,
        update: &IncidentUpdate,
        reference: &TicketReference,
    ) -> Result<Option<OutboxMessage>, IncidentError> {
        let id = rules::notification_id(incident, update.seq, reference);
        RETRY
            .run(|_| self.notify_attempt(desk, incident, update, reference, &id))
            .await?
            .ok_or(IncidentError::Contended)
    }

    /// One attempt of [`Incidents::notify_linked`], on the ticket as it is now.
    async fn notify_attempt<S: TicketStore>(
        &self,
        desk: &Desk<S>,
        incident: &IncidentId,
        update: &IncidentUpdate,
        reference: &TicketReference,
        id: &MessageId,
    ) -> Result<Attempt<Option<OutboxMessage>>, IncidentError> {
        let Some(found) = desk.store.get(reference).await? else {
            return Ok(Attempt::Done(None));
        };
        if found.notifications.iter().any(|n| &n.id == id) {
            return Ok(Attempt::Done(None));
        }
        let now = now_ms(desk.clock.now());
        let Some((mut change, kind)) = rules::effect(&found.ticket, incident, update, now) else {
            return Ok(Attempt::Done(None));
        };
        desk.keep_promises(&found.ticket, &mut change);
        // Rendered at the update's time, which a retry repeats: the notification item's
        // key (time and id) is then the same, and its conditional write refuses a copy.
        let (notification, message) =
            desk.notifier
                .for_ticket(kind, &change.ticket, id.clone(), update.at)?;
        let written = desk
            .store
            .update(TicketUpdate {
                basis: crate::tickets::ports::Basis::Read,
                change: &change,
                escalation: None,
                notification: Some(&notification),
                outbox: std::slice::from_ref(&message),
            })
            .await?;
        match written {
            Updated::Done => Ok(Attempt::Done(Some(message))),
            Updated::Stale => Ok(Attempt::Retry),
        }
    }
}

/// A link or an unlink written on `state` tokens: done, or declined (nothing written: the
/// records were not as claimed, or the incident is resolved, which the read path tells).
fn on_seen_written(
    written: Result<LinkWrite, StoreError>,
    incident: &Incident,
    ticket: Ticket,
) -> Option<Result<LinkChanged, IncidentError>> {
    match written {
        Ok(LinkWrite::Done) => {
            tracing::info!(incident = %incident.id, ticket = %ticket.reference, "ticket link changed");
            Some(Ok(LinkChanged {
                incident: incident.clone(),
                ticket,
                changed: true,
                outbox: Vec::new(),
            }))
        }
        Ok(LinkWrite::Stale | LinkWrite::IncidentResolved) => None,
        Err(error) => Some(Err(error.into())),
    }
}

/// The outbox message of `update`'s first fan-out page, at the update's time: the same message
/// (id, body and time) however often it is built.
fn fan_out_message(
    id: &IncidentId,
    update: &IncidentUpdate,
) -> Result<OutboxMessage, IncidentError> {
    let page = FanOut::first(id, update);
    OutboxMessage::new(
        page.message_id(),
        Destination::IncidentUpdates,
        id.as_str(),
        &page,
        update.at,
    )
    .map_err(IncidentError::FanOutMessage)
}

fn staff(caller: &Actor) -> Author {
    Author::Staff {
        id: caller.subject.as_str().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::access::Role;
    use crate::common::clock::Clock;
    use crate::common::player::PlayerId;
    use crate::incidents::memory::MemoryIncidentStore;
    use crate::notifications::rules::NotificationKind;
    use crate::outbox::ports::OutboxStore;
    use crate::tickets::desk::Submitted;
    use crate::tickets::intake::TicketRequest;
    use crate::tickets::memory::{desk_with_clock, FixedClock, MemoryTicketStore};
    use crate::tickets::ticket::{Priority, TicketStatus};

    const START: &str = "2026-11-26T15:00:00Z";

    fn config() -> IncidentConfig {
        IncidentConfig {
            threshold: 3,
            window: jiff::SignedDuration::from_mins(60),
        }
    }

    async fn report(desk: &Desk<MemoryTicketStore>, player: &str, game: &str) -> TicketReference {
        let body = serde_json::json!({
            "channel": "chat", "category": "incident", "subject": "Jeu figé",
            "description": "Le jeu s'est figé pendant une mise.",
            "incident": {"occurred_at": "2026-11-26T09:00:00-05:00", "game_name": game,
                         "steps_tried": []}
        });
        let request = TicketRequest::parse(&body, None, desk.clock.now()).expect("valid");
        let player = PlayerId::parse(player).expect("valid");
        match desk
            .submit(player, request, None, None)
            .await
            .expect("stored")
        {
            Submitted::Created(receipt, _) | Submitted::Replayed(receipt) => receipt.reference,
        }
    }

    fn supervisor() -> Actor {
        Actor {
            subject: PlayerId::parse("sup-1").expect("valid"),
            roles: vec![Role::Supervisor],
            teams: vec![],
            email: None,
        }
    }

    async fn ticket(desk: &Desk<MemoryTicketStore>, reference: &TicketReference) -> Ticket {
        desk.store
            .get(reference)
            .await
            .expect("read")
            .expect("found")
            .ticket
    }

    #[tokio::test]
    async fn the_third_report_in_the_window_opens_one_incident_and_escalates_it_once() {
        let clock = FixedClock::at(START);
        let desk = desk_with_clock(clock.clone());
        let incidents = Incidents {
            store: MemoryIncidentStore::new(&desk.store),
            config: config(),
        };
        let mut references = Vec::new();
        for (i, name) in ["Roulette Royale", "roulette  royale", " ROULETTE ROYALE"]
            .iter()
            .enumerate()
        {
            let reference = report(&desk, &format!("p-{i}"), name).await;
            let recorded = incidents
                .record_report(&desk, &reference)
                .await
                .expect("recorded");
            references.push(reference);
            match i {
                0 | 1 => assert_eq!(recorded.outcome, ReportOutcome::Counted { reports: i + 1 }),
                _ => {
                    assert!(matches!(
                        recorded.outcome,
                        ReportOutcome::Opened { linked: 3, .. }
                    ));
                    assert_eq!(recorded.outbox.len(), 1, "one escalation request");
                    assert_eq!(recorded.outbox[0].destination, Destination::Escalations);
                }
            }
            clock.set(clock.now() + jiff::SignedDuration::from_mins(10));
        }
        let ids = incidents.store.incident_ids();
        assert_eq!(ids.len(), 1);
        let record = incidents
            .view(&supervisor(), &ids[0])
            .await
            .expect("readable");
        assert_eq!(record.links.len(), 3);
        assert_eq!(
            record.incident.escalation.state,
            EscalationProgress::Requested
        );
        assert_eq!(record.incident.escalation.reference, references[2]);
        for reference in &references {
            let ticket = ticket(&desk, reference).await;
            assert_eq!(ticket.priority, Priority::Urgent);
            assert_eq!(ticket.linked_incident.as_deref(), Some(ids[0].as_str()));
        }
        assert_eq!(
            ticket(&desk, &references[2]).await.status,
            TicketStatus::Escalated
        );

        // A fourth report joins it; no second escalation.
        let fourth = report(&desk, "p-4", "Roulette Royale").await;
        let recorded = incidents
            .record_report(&desk, &fourth)
            .await
            .expect("recorded");
        assert_eq!(recorded.outcome, ReportOutcome::Linked(ids[0].clone()));
        assert!(recorded.outbox.is_empty());
        // Recording it again changes nothing.
        let again = incidents
            .record_report(&desk, &fourth)
            .await
            .expect("recorded");
        assert_eq!(again.outcome, ReportOutcome::Linked(ids[0].clone()));
        let escalations = desk
            .store
            .pending(100)
            .await
            .expect("outbox")
            .into_iter()
            .filter(|m| m.destination == Destination::Escalations)
            .count();
        assert_eq!(escalations, 1);
    }

    #[tokio::test]
    async fn a_report_outside_the_window_does_not_count() {
        let clock = FixedClock::at(START);
        let desk = desk_with_clock(clock.clone());
        let incidents = Incidents {
            store: MemoryIncidentStore::new(&desk.store),
            config: config(),
        };
        let old = report(&desk, "p-0", "Blackjack").await;
        incidents
            .record_report(&desk, &old)
            .await
            .expect("recorded");
        clock.set(clock.now() + jiff::SignedDuration::from_mins(61));
        for i in 1..=2 {
            let reference = report(&desk, &format!("p-{i}"), "Blackjack").await;
            let recorded = incidents
                .record_report(&desk, &reference)
                .await
                .expect("recorded");
            assert_eq!(recorded.outcome, ReportOutcome::Counted { reports: i });
        }
        assert!(incidents.store.incident_ids().is_empty());
        assert_eq!(ticket(&desk, &old).await.linked_incident, None);
    }

    /// Three players report "Roulette": the incident it opens, and their tickets.
    async fn three_reports(
        desk: &Desk<MemoryTicketStore>,
        incidents: &Incidents<MemoryIncidentStore<'_>>,
    ) -> (IncidentId, Vec<TicketReference>) {
        let mut references = Vec::new();
        for i in 0..3 {
            let reference = report(desk, &format!("p-{i}"), "Roulette").await;
            incidents
                .record_report(desk, &reference)
                .await
                .expect("recorded");
            references.push(reference);
        }
        (incidents.store.incident_ids().remove(0), references)
    }

    /// Runs a status update's fan-out to the end, page after page, as the incident-updates
    /// function does: (players notified, pages).
    async fn fan_out_all(
        incidents: &Incidents<MemoryIncidentStore<'_>>,
        desk: &Desk<MemoryTicketStore>,
        updated: &StatusUpdated,
        page_size: usize,
    ) -> (usize, usize) {
        let mut page: Option<FanOut> =
            Some(serde_json::from_str(&updated.outbox[0].body).expect("a fan-out page"));
        let (mut notified, mut pages) = (0, 0);
        while let Some(current) = page {
            let done = incidents
                .fan_out(desk, &current, page_size)
                .await
                .expect("fanned out");
            notified += done.notified;
            pages += 1;
            page = done.next;
        }
        (notified, pages)
    }

    fn told(desk: &Desk<MemoryTicketStore>, references: &[TicketReference]) -> usize {
        desk.store
            .count_notifications(references, NotificationKind::IncidentUpdate)
    }

    #[tokio::test]
    async fn a_fan_out_of_an_unknown_update_fails_rather_than_telling_nobody() {
        let desk = desk_with_clock(FixedClock::at(START));
        let incidents = Incidents {
            store: MemoryIncidentStore::new(&desk.store),
            config: config(),
        };
        let (id, _) = three_reports(&desk, &incidents).await;
        let page = FanOut {
            schema: rules::FAN_OUT_SCHEMA.to_owned(),
            incident_id: id,
            seq: 7,
            after: None,
        };
        assert!(matches!(
            incidents.fan_out(&desk, &page, 10).await,
            Err(IncidentError::NoSuchUpdate(7))
        ));
        let unknown = FanOut {
            incident_id: IncidentId::from_random([9; 12]),
            ..page
        };
        assert!(matches!(
            incidents.fan_out(&desk, &unknown, 10).await,
            Err(IncidentError::NotFound)
        ));
    }

    #[tokio::test]
    async fn a_status_update_notifies_each_linked_player_once_even_when_sent_again() {
        let clock = FixedClock::at(START);
        let desk = desk_with_clock(clock.clone());
        let incidents = Incidents {
            store: MemoryIncidentStore::new(&desk.store),
            config: config(),
        };
        let (id, references) = three_reports(&desk, &incidents).await;
        let caller = supervisor();
        let note = Some("correctif 2.3.1 déployé".to_owned());
        let first = incidents
            .update_status(
                &desk,
                &caller,
                &id,
                1,
                IncidentStatus::Monitoring,
                note.clone(),
                None,
            )
            .await
            .expect("updated");
        assert!(!first.replayed);
        // Written with the update, in its transaction, then handed to the caller to relay.
        assert_eq!(first.outbox.len(), 1);
        assert_eq!(first.outbox[0].destination, Destination::IncidentUpdates);
        assert!(desk.store.outbox().contains(&first.outbox[0]));
        // Nobody is told before the fan-out runs; then everyone once, two tickets a page.
        assert_eq!(told(&desk, &references), 0);
        assert_eq!(fan_out_all(&incidents, &desk, &first, 2).await, (3, 2));
        assert_eq!(told(&desk, &references), 3);
        // The same page delivered twice tells nobody twice.
        assert_eq!(fan_out_all(&incidents, &desk, &first, 2).await, (0, 2));
        let again = incidents
            .update_status(
                &desk,
                &caller,
                &id,
                1,
                IncidentStatus::Monitoring,
                note,
                None,
            )
            .await
            .expect("a replay");
        assert!(again.replayed);
        assert_eq!(
            again.outbox, first.outbox,
            "the same first page, to relay again"
        );
        assert_eq!(fan_out_all(&incidents, &desk, &again, 2).await, (0, 2));
        for reference in &references {
            let found = desk
                .store
                .get(reference)
                .await
                .expect("read")
                .expect("found");
            let updates: Vec<_> = found
                .notifications
                .iter()
                .filter(|n| n.kind == NotificationKind::IncidentUpdate)
                .collect();
            assert_eq!(updates.len(), 1, "{reference}");
        }
        let stale = incidents
            .update_status(&desk, &caller, &id, 1, IncidentStatus::Resolved, None, None)
            .await;
        assert!(matches!(
            stale,
            Err(IncidentError::Rule(IncidentRuleError::Stale { .. }))
        ));
        let resolved = incidents
            .update_status(&desk, &caller, &id, 2, IncidentStatus::Resolved, None, None)
            .await
            .expect("resolved");
        assert_eq!(fan_out_all(&incidents, &desk, &resolved, 10).await, (3, 1));
        for reference in &references {
            assert_eq!(
                ticket(&desk, reference).await.status,
                TicketStatus::Resolved
            );
        }
        // The window starts afresh after a resolution: a new report does not join the old one.
        clock.set(clock.now() + jiff::SignedDuration::from_mins(1));
        let next = report(&desk, "p-9", "Roulette").await;
        let recorded = incidents
            .record_report(&desk, &next)
            .await
            .expect("recorded");
        assert_eq!(recorded.outcome, ReportOutcome::Counted { reports: 1 });
    }
}

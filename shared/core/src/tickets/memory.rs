//! The ticket store, clock and references in memory, for unit tests (feature `mocks`): the
//! store follows DynamoDB's contract (conditional writes, newest-first pages) but proves nothing
//! about DynamoDB; the integration tests do that against the emulator.

use std::collections::BTreeMap;
use std::sync::Mutex;

use jiff::Timestamp;

use crate::common::clock::{Clock, ReferenceSource};
use crate::common::contact::ContactAddress;
use crate::common::paging::Page;
use crate::common::player::PlayerId;
use crate::common::reference::TicketReference;
use crate::common::store::StoreError;
use crate::escalation::rules::{Escalation, EscalationState};
use crate::outbox::ports::OutboxStore;
use crate::outbox::rules::{MessageId, OutboxMessage};
use crate::tickets::ports::{
    Basis, IdempotencyRecord, InsertOutcome, MergeWrite, MergeWritten, MergedRecord,
    NewTicketWrite, PageStart, QueueStart, TicketStore, TicketUpdate, TicketWithHistory, Updated,
};
use crate::tickets::ticket::Ticket;

#[derive(Default)]
pub struct MemoryTicketStore {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    open_cases: BTreeMap<String, crate::verification::rules::CaseId>,
    tickets: BTreeMap<String, TicketWithHistory>,
    keys: BTreeMap<(String, String), (IdempotencyRecord, Timestamp)>,
    outbox: Vec<OutboxMessage>,
    contacts: BTreeMap<String, ContactAddress>,
    /// Attachments of tickets as their item collection holds them ([`MemoryTicketStore::attach`]):
    /// what a merged duplicate's one read returns. The attachments' own fake
    /// (`attachments::memory`) is a separate store, as its port is.
    attachments: BTreeMap<String, Vec<crate::attachments::rules::Attachment>>,
    /// How many times a ticket was read: what a round-trip count would show in DynamoDB.
    reads: usize,
    /// Due-time index entries the sweep put off: reference → (version, until).
    put_off: BTreeMap<String, (u64, Timestamp)>,
    /// The configuration the open tickets' clocks were last recomputed on.
    applied_basis: Option<String>,
}

impl MemoryTicketStore {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic in another test thread must not hide this test's result.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How many tickets were read by reference so far.
    pub fn reads(&self) -> usize {
        self.lock().reads
    }

    /// Changes a stored ticket behind the desk's back without bumping its version, as a
    /// writer that broke the rules would: a test's way to show a write is conditioned on the
    /// whole ticket and not only on its version.
    pub fn tamper(&self, reference: &TicketReference, change: impl FnOnce(&mut Ticket)) {
        if let Some(stored) = self.lock().tickets.get_mut(reference.as_str()) {
            change(&mut stored.ticket);
        }
    }

    pub fn ticket_count(&self) -> usize {
        self.lock().tickets.len()
    }

    /// The outbox messages not yet relayed.
    pub fn outbox(&self) -> Vec<OutboxMessage> {
        self.lock().outbox.clone()
    }

    /// How many notifications of `kind` the tickets `references` carry between them.
    pub fn count_notifications(
        &self,
        references: &[crate::common::reference::TicketReference],
        kind: crate::notifications::rules::NotificationKind,
    ) -> usize {
        let state = self.lock();
        references
            .iter()
            .filter_map(|r| state.tickets.get(r.as_str()))
            .flat_map(|t| &t.notifications)
            .filter(|n| n.kind == kind)
            .count()
    }

    /// An outbox message written by another store's transaction (an incident's status update),
    /// which shares this table in DynamoDB.
    pub(crate) fn add_to_outbox(&self, message: OutboxMessage) {
        self.lock().outbox.push(message);
    }

    /// Records an attachment in its ticket's collection, as the attachment store writes it
    /// beside the ticket in DynamoDB.
    pub fn attach(&self, attachment: crate::attachments::rules::Attachment) {
        self.lock()
            .attachments
            .entry(attachment.reference.as_str().to_owned())
            .or_default()
            .push(attachment);
    }

    /// Gives the player an open verification case, as the case store's marker would.
    pub fn link_open_case(&self, player: &PlayerId, case: crate::verification::rules::CaseId) {
        self.lock()
            .open_cases
            .insert(player.as_str().to_owned(), case);
    }
}

/// An idempotency record's key: the caller and their key.
fn claim_id(claim: &crate::tickets::ports::IdempotencyClaim) -> (String, String) {
    (
        claim.player.as_str().to_owned(),
        claim.key.as_str().to_owned(),
    )
}

impl State {
    /// Whether the store takes `update`: the ticket at its expected version (and, on a token,
    /// its fingerprint), and its escalation record still open to the change.
    fn accepts(&self, update: &TicketUpdate<'_>) -> bool {
        let change = update.change;
        let Some(stored) = self.tickets.get(change.ticket.reference.as_str()) else {
            return false;
        };
        if stored.ticket.version != change.expected_version {
            return false;
        }
        if let Basis::Seen { fingerprint } = update.basis {
            if stored.ticket.fingerprint() != fingerprint {
                return false;
            }
        }
        update.escalation.is_none_or(|escalation| {
            match stored.escalations.iter().find(|e| e.id == escalation.id) {
                None => escalation.state == EscalationState::Requested,
                Some(e) => e.state == EscalationState::Requested,
            }
        })
    }

    /// Writes an update [`State::accepts`].
    fn write(&mut self, update: &TicketUpdate<'_>) {
        let change = update.change;
        if let Some(stored) = self.tickets.get_mut(change.ticket.reference.as_str()) {
            stored.ticket = change.ticket.clone();
            stored.history.extend_from_slice(&change.history);
            stored.messages.extend(change.message.clone());
            stored.notifications.extend(update.notification.cloned());
            if let Some(escalation) = update.escalation {
                stored.escalations.retain(|e| e.id != escalation.id);
                stored.escalations.push(escalation.clone());
            }
        }
        self.outbox.extend(update.outbox.iter().cloned());
    }
}

impl TicketStore for MemoryTicketStore {
    async fn insert(&self, write: &NewTicketWrite) -> Result<InsertOutcome, StoreError> {
        let mut state = self.lock();
        if let Some(claim) = &write.idempotency {
            if let Some((record, expires)) = state.keys.get(&claim_id(claim)) {
                if *expires >= claim.claimed_at {
                    return Ok(InsertOutcome::KeyAlreadyUsed(record.clone()));
                }
            }
        }
        let reference = write.ticket.reference.as_str().to_owned();
        if state.tickets.contains_key(&reference) {
            return Ok(InsertOutcome::ReferenceTaken);
        }
        if let Some(claim) = &write.idempotency {
            let record = IdempotencyRecord {
                fingerprint: claim.fingerprint.clone(),
                reference: write.ticket.reference.clone(),
            };
            state
                .keys
                .insert(claim_id(claim), (record, claim.expires_at));
        }
        state.tickets.insert(
            reference,
            TicketWithHistory {
                ticket: write.ticket.clone(),
                history: std::iter::once(write.received.clone())
                    .chain(write.history.iter().cloned())
                    .collect(),
                messages: Vec::new(),
                notifications: write.notification.iter().cloned().collect(),
                escalations: write.escalation.iter().cloned().collect(),
            },
        );
        state.outbox.extend(write.outbox.iter().cloned());
        if let Some(contact) = &write.contact {
            state
                .contacts
                .insert(write.ticket.player.as_str().to_owned(), contact.clone());
        }
        Ok(InsertOutcome::Created)
    }

    async fn get(
        &self,
        reference: &TicketReference,
    ) -> Result<Option<TicketWithHistory>, StoreError> {
        let mut state = self.lock();
        state.reads += 1;
        Ok(state.tickets.get(reference.as_str()).cloned())
    }

    async fn open_case_of(
        &self,
        player: &PlayerId,
    ) -> Result<Option<crate::verification::rules::CaseId>, StoreError> {
        Ok(self.lock().open_cases.get(player.as_str()).cloned())
    }

    async fn list_for_player(
        &self,
        player: &PlayerId,
        limit: u16,
        start: Option<&PageStart>,
    ) -> Result<Page<Ticket, PageStart>, StoreError> {
        let state = self.lock();
        let mut mine: Vec<Ticket> = state
            .tickets
            .values()
            .filter(|t| &t.ticket.player == player)
            .map(|t| t.ticket.clone())
            .collect();
        mine.sort_by(|a, b| {
            (b.created_at, b.reference.as_str()).cmp(&(a.created_at, a.reference.as_str()))
        });
        let after: Vec<Ticket> = mine
            .into_iter()
            .filter(|t| match start {
                None => true,
                Some(s) => {
                    (t.created_at, t.reference.as_str()) < (s.created_at, s.reference.as_str())
                }
            })
            .collect();
        let limit = usize::from(limit);
        let next = (after.len() > limit).then(|| PageStart {
            created_at: after[limit - 1].created_at,
            reference: after[limit - 1].reference.clone(),
        });
        Ok(Page {
            items: after.into_iter().take(limit).collect(),
            next,
        })
    }

    async fn update(&self, update: TicketUpdate<'_>) -> Result<Updated, StoreError> {
        let mut state = self.lock();
        if !state.accepts(&update) {
            return Ok(Updated::Stale);
        }
        state.write(&update);
        Ok(Updated::Done)
    }

    async fn merge(&self, write: MergeWrite<'_>) -> Result<MergeWritten, StoreError> {
        let mut state = self.lock();
        if let Some(claim) = write.idempotency {
            if let Some((record, expires)) = state.keys.get(&claim_id(claim)) {
                if *expires >= claim.claimed_at {
                    return Ok(MergeWritten::KeyAlreadyUsed(record.clone()));
                }
            }
        }
        if !state.accepts(&write.duplicate) || !state.accepts(&write.survivor) {
            return Ok(MergeWritten::Stale);
        }
        state.write(&write.duplicate);
        state.write(&write.survivor);
        if let Some(claim) = write.idempotency {
            let record = IdempotencyRecord {
                fingerprint: claim.fingerprint.clone(),
                reference: write.duplicate.change.ticket.reference.clone(),
            };
            state
                .keys
                .insert(claim_id(claim), (record, claim.expires_at));
        }
        Ok(MergeWritten::Done)
    }

    async fn merged_record(
        &self,
        reference: &TicketReference,
    ) -> Result<Option<MergedRecord>, StoreError> {
        let mut state = self.lock();
        state.reads += 1;
        let attachments = state
            .attachments
            .get(reference.as_str())
            .cloned()
            .unwrap_or_default();
        Ok(state
            .tickets
            .get(reference.as_str())
            .map(|found| MergedRecord {
                ticket: found.ticket.clone(),
                messages: found.messages.clone(),
                attachments,
            }))
    }

    async fn settle_escalation(&self, escalation: &Escalation) -> Result<Updated, StoreError> {
        let mut state = self.lock();
        let Some(stored) = state.tickets.get_mut(escalation.reference.as_str()) else {
            return Ok(Updated::Stale);
        };
        match stored
            .escalations
            .iter_mut()
            .find(|e| e.id == escalation.id)
        {
            Some(e) if e.state == EscalationState::Requested => {
                *e = escalation.clone();
                Ok(Updated::Done)
            }
            _ => Ok(Updated::Stale),
        }
    }

    async fn contact_of(&self, player: &PlayerId) -> Result<Option<ContactAddress>, StoreError> {
        Ok(self.lock().contacts.get(player.as_str()).cloned())
    }

    async fn team_queue(
        &self,
        team: crate::tickets::ticket::Team,
        limit: u16,
        start: Option<&QueueStart>,
    ) -> Result<Page<Ticket, QueueStart>, StoreError> {
        use crate::tickets::ticket::TicketStatus;
        let key = |t: &Ticket| {
            (
                t.queue_rank(),
                t.created_at,
                t.reference.as_str().to_owned(),
            )
        };
        let state = self.lock();
        let mut queue: Vec<Ticket> = state
            .tickets
            .values()
            .map(|t| &t.ticket)
            .filter(|t| t.team == team)
            .filter(|t| !matches!(t.status, TicketStatus::Resolved | TicketStatus::Closed))
            .filter(|t| match start {
                None => true,
                Some(s) => key(t) > (s.rank, s.created_at, s.reference.as_str().to_owned()),
            })
            .cloned()
            .collect();
        queue.sort_by_key(key);
        Ok(Page::of_over_fetched(queue, limit, |last| QueueStart {
            rank: last.queue_rank(),
            created_at: last.created_at,
            reference: last.reference.clone(),
        }))
    }
}

/// A clock that says what the test tells it; clones share the time.
#[derive(Clone)]
pub struct FixedClock(std::sync::Arc<Mutex<Timestamp>>);

impl FixedClock {
    pub fn at(text: &str) -> Self {
        let now = text
            .parse()
            .unwrap_or_else(|e| panic!("test clock {text}: {e}"));
        Self(std::sync::Arc::new(Mutex::new(now)))
    }

    pub fn set(&self, now: Timestamp) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = now;
    }
}

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// References in a fixed order, to test collisions.
pub struct ScriptedReferences(pub Mutex<Vec<TicketReference>>);

impl ReferenceSource for ScriptedReferences {
    fn next_reference(&self) -> Result<TicketReference, getrandom::Error> {
        let mut queue = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if queue.is_empty() {
            TicketReference::generate()
        } else {
            Ok(queue.remove(0))
        }
    }
}

impl OutboxStore for MemoryTicketStore {
    async fn pending(&self, limit: u16) -> Result<Vec<OutboxMessage>, StoreError> {
        Ok(self
            .lock()
            .outbox
            .iter()
            .take(usize::from(limit))
            .cloned()
            .collect())
    }

    async fn remove(&self, id: &MessageId) -> Result<(), StoreError> {
        self.lock().outbox.retain(|m| &m.id != id);
        Ok(())
    }
}

/// A desk over the in-memory store, its clock fixed at `now`.
pub fn desk(now: &str) -> crate::tickets::desk::Desk<MemoryTicketStore> {
    desk_with_clock(FixedClock::at(now))
}

/// A desk whose clock the test moves.
pub fn desk_with_clock(clock: FixedClock) -> crate::tickets::desk::Desk<MemoryTicketStore> {
    let calendar = crate::tickets::sla::SupportCalendar::published()
        .unwrap_or_else(|e| panic!("bundled time zone: {e}"));
    crate::tickets::desk::Desk {
        store: MemoryTicketStore::default(),
        clock: Box::new(clock),
        references: Box::new(crate::common::clock::RandomReferences),
        notifier: crate::notifications::rules::Notifier::new(
            crate::notifications::rules::NotificationTemplates::bundled()
                .unwrap_or_else(|e| panic!("bundled templates: {e}")),
            calendar.zone().clone(),
        ),
        calendar,
        idempotency_ttl: jiff::SignedDuration::from_hours(24),
        promises: crate::promises::clocks::Promises::bundled()
            .unwrap_or_else(|e| panic!("bundled promises: {e}")),
    }
}

/// The due-time index, computed from the stored tickets as the table's index is.
impl crate::promises::sweep::DueIndex for MemoryTicketStore {
    async fn due(
        &self,
        bucket: crate::promises::sweep::DueBucket,
        until: Timestamp,
        limit: u16,
        after: Option<&crate::promises::sweep::DueAfter>,
    ) -> Result<Page<Ticket, crate::promises::sweep::DueAfter>, StoreError> {
        use crate::promises::sweep::{DueAfter, DueBucket};
        use crate::tickets::ticket::TicketStatus;
        let state = self.lock();
        let key = |at: Timestamp, t: &Ticket| {
            format!("{:013}#{}", at.as_millisecond(), t.reference.as_str())
        };
        let mut due: Vec<(String, Ticket)> = state
            .tickets
            .values()
            .map(|t| &t.ticket)
            .filter(|t| !matches!(t.status, TicketStatus::Resolved | TicketStatus::Closed))
            .filter_map(|t| {
                let at = match state.put_off.get(t.reference.as_str()) {
                    Some((version, until)) if *version == t.version => *until,
                    _ => t.clocks.as_ref()?.next_check()?,
                };
                (DueBucket::of(at) == bucket && at <= until).then(|| (key(at, t), t.clone()))
            })
            .filter(|(k, _)| after.is_none_or(|a| k > &a.key))
            .collect();
        due.sort_by(|a, b| a.0.cmp(&b.0));
        let page = Page::of_over_fetched(due, limit, |(k, t)| DueAfter {
            reference: t.reference.clone(),
            key: k.clone(),
        });
        Ok(Page {
            items: page.items.into_iter().map(|(_, t)| t).collect(),
            next: page.next,
        })
    }

    async fn put_off(&self, ticket: &Ticket, until: Timestamp) -> Result<Updated, StoreError> {
        let mut state = self.lock();
        let current = state
            .tickets
            .get(ticket.reference.as_str())
            .map(|t| t.ticket.version);
        if current != Some(ticket.version) {
            return Ok(Updated::Stale);
        }
        state.put_off.insert(
            ticket.reference.as_str().to_owned(),
            (ticket.version, until),
        );
        Ok(Updated::Done)
    }

    async fn applied_basis(&self) -> Result<Option<String>, StoreError> {
        Ok(self.lock().applied_basis.clone())
    }

    async fn mark_applied_basis(&self, basis: &str) -> Result<(), StoreError> {
        self.lock().applied_basis = Some(basis.to_owned());
        Ok(())
    }
}

/// The index of open complaints, computed from the stored tickets.
impl crate::promises::report::ComplaintIndex for MemoryTicketStore {
    async fn open_complaints(
        &self,
        before: Timestamp,
        limit: u16,
        start: Option<&PageStart>,
    ) -> Result<Page<Ticket, PageStart>, StoreError> {
        use crate::tickets::ticket::{Category, TicketStatus};
        let state = self.lock();
        let key = |t: &Ticket| (t.created_at, t.reference.as_str().to_owned());
        let mut open: Vec<Ticket> = state
            .tickets
            .values()
            .map(|t| &t.ticket)
            .filter(|t| t.category == Category::Complaint)
            .filter(|t| !matches!(t.status, TicketStatus::Resolved | TicketStatus::Closed))
            .filter(|t| t.created_at < before)
            .filter(|t| {
                start.is_none_or(|s| key(t) > (s.created_at, s.reference.as_str().to_owned()))
            })
            .cloned()
            .collect();
        open.sort_by_key(key);
        Ok(Page::of_over_fetched(open, limit, |last| PageStart {
            created_at: last.created_at,
            reference: last.reference.clone(),
        }))
    }
}

/// Look-ups of players, recorded in memory.
#[derive(Default)]
pub struct MemoryLookupAudit(Mutex<Vec<crate::tickets::lookup::Lookup>>);

impl MemoryLookupAudit {
    pub fn recorded(&self) -> Vec<crate::tickets::lookup::Lookup> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl crate::tickets::lookup::LookupAudit for MemoryLookupAudit {
    async fn record(&self, lookup: &crate::tickets::lookup::Lookup) -> Result<(), StoreError> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(lookup.clone());
        Ok(())
    }
}

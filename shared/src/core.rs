//! Ports: the small traits the handlers depend on, so the rules can be tested without AWS and
//! the adapters (DynamoDB, the system clock) plugged in once at init.

use std::future::Future;

use jiff::Timestamp;

use crate::domain::contact::ContactAddress;
use crate::domain::escalation::Escalation;
use crate::domain::notification::Notification;
use crate::domain::outbox::{Destination, MessageId, OutboxMessage};
use crate::domain::reference::TicketReference;
use crate::domain::ticket::{PlayerId, StatusChange, Team, Ticket};

/// An `Idempotency-Key` header: what a client sends so a retry cannot create a second ticket.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub const MIN_LEN: usize = 8;
    pub const MAX_LEN: usize = 128;

    /// UUIDs and similar tokens: letters, digits, `-`, `_`, `.` and `:`.
    pub fn parse(raw: &str) -> Option<Self> {
        let ok = (Self::MIN_LEN..=Self::MAX_LEN).contains(&raw.len())
            && raw
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'));
        ok.then(|| Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Binds an idempotency key to one request for a while.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyClaim {
    pub player: PlayerId,
    pub key: IdempotencyKey,
    pub fingerprint: String,
    pub claimed_at: Timestamp,
    pub expires_at: Timestamp,
}

/// What an earlier request with the same key stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    pub fingerprint: String,
    pub reference: TicketReference,
}

/// Everything intake writes, in one all-or-nothing operation: the ticket, its first history
/// lines, the player's notification and, when the rules escalate at once, the escalation,
/// with the outbox messages that carry both on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTicketWrite {
    pub ticket: Ticket,
    pub received: StatusChange,
    pub idempotency: Option<IdempotencyClaim>,
    /// More history after `received` (an automatic escalation).
    pub history: Vec<StatusChange>,
    pub escalation: Option<Escalation>,
    pub notification: Option<Notification>,
    pub outbox: Vec<OutboxMessage>,
    /// The address notifications go to, from the token: stored per player, replaced by the
    /// newest one a player's token carries.
    pub contact: Option<ContactAddress>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InsertOutcome {
    Created,
    /// Another ticket already has this reference: draw a new one.
    ReferenceTaken,
    /// The key is bound (and not expired): nothing was written.
    KeyAlreadyUsed(IdempotencyRecord),
    /// A concurrent write touched the same items; trying again is safe.
    Contended,
}

/// A ticket with its status history, its messages, its notifications and its escalations,
/// oldest entry first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketWithHistory {
    pub ticket: Ticket,
    pub history: Vec<StatusChange>,
    pub messages: Vec<crate::domain::workflow::Message>,
    pub notifications: Vec<Notification>,
    pub escalations: Vec<Escalation>,
}

/// One update of a ticket and what it causes, all or nothing: the change (under its version
/// condition), the escalation record it creates or settles (created when `requested`,
/// otherwise written only if still `requested`), the player's notification and the outbox
/// messages.
#[derive(Debug, Clone, Copy)]
pub struct TicketUpdate<'a> {
    pub change: &'a crate::domain::workflow::Change,
    pub escalation: Option<&'a Escalation>,
    pub notification: Option<&'a Notification>,
    pub outbox: &'a [OutboxMessage],
}

/// Where the next page of a player's tickets starts: just after this ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageStart {
    pub created_at: Timestamp,
    pub reference: TicketReference,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T, S = PageStart> {
    pub items: Vec<T>,
    pub next: Option<S>,
}

impl<T, S> Page<T, S> {
    /// A page of `limit` from items read in order with one extra: the extra one, if it came,
    /// only tells that another page follows, which starts after the page's last item
    /// (`start_of`). Asking for one more avoids an empty last page.
    pub fn of_over_fetched(mut items: Vec<T>, limit: u16, start_of: impl Fn(&T) -> S) -> Self {
        let next = if items.len() > usize::from(limit) {
            items.truncate(usize::from(limit));
            items.last().map(start_of)
        } else {
            None
        };
        Page { items, next }
    }
}

/// Where the next page of a team queue starts: just after this ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueStart {
    pub priority: crate::domain::ticket::Priority,
    pub created_at: Timestamp,
    pub reference: TicketReference,
}

/// What a conditional ticket update did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Updated {
    Done,
    /// The ticket is no longer at the expected version (or a concurrent write won): nothing
    /// was written.
    Stale,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the ticket store could not be reached or refused the request")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("a stored item has a missing or malformed attribute `{attribute}`")]
    Corrupt { attribute: &'static str },
}

pub trait TicketStore: Send + Sync {
    fn insert(
        &self,
        write: &NewTicketWrite,
    ) -> impl Future<Output = Result<InsertOutcome, StoreError>> + Send;

    fn get(
        &self,
        reference: &TicketReference,
    ) -> impl Future<Output = Result<Option<TicketWithHistory>, StoreError>> + Send;

    /// The player's open identity-verification case, if any: what a verification ticket
    /// links to.
    fn open_case_of(
        &self,
        player: &PlayerId,
    ) -> impl Future<Output = Result<Option<crate::domain::verification::CaseId>, StoreError>> + Send;

    /// The player's tickets, newest first.
    fn list_for_player(
        &self,
        player: &PlayerId,
        limit: u16,
        start: Option<&PageStart>,
    ) -> impl Future<Output = Result<Page<Ticket>, StoreError>> + Send;

    /// Writes the ticket only if it is still at its expected version, with everything the
    /// update carries, all or nothing.
    fn update(
        &self,
        update: TicketUpdate<'_>,
    ) -> impl Future<Output = Result<Updated, StoreError>> + Send;

    /// Settles an escalation without touching its ticket (a withdrawn escalation), only if it
    /// is still `requested`.
    fn settle_escalation(
        &self,
        escalation: &Escalation,
    ) -> impl Future<Output = Result<Updated, StoreError>> + Send;

    /// The address the player's notifications go to, if a token ever carried one.
    fn contact_of(
        &self,
        player: &PlayerId,
    ) -> impl Future<Output = Result<Option<ContactAddress>, StoreError>> + Send;

    /// A team's open tickets, most urgent first, in arrival order within a priority.
    fn team_queue(
        &self,
        team: crate::domain::ticket::Team,
        limit: u16,
        start: Option<&QueueStart>,
    ) -> impl Future<Output = Result<Page<Ticket, QueueStart>, StoreError>> + Send;
}

/// The outbox items not yet relayed.
pub trait OutboxStore: Send + Sync {
    /// The oldest waiting messages, at most `limit`.
    fn pending(
        &self,
        limit: u16,
    ) -> impl Future<Output = Result<Vec<OutboxMessage>, StoreError>> + Send;

    /// Forgets a message once its queue accepted it.
    fn remove(&self, id: &MessageId) -> impl Future<Output = Result<(), StoreError>> + Send;
}

impl<T: OutboxStore> OutboxStore for &T {
    fn pending(
        &self,
        limit: u16,
    ) -> impl Future<Output = Result<Vec<OutboxMessage>, StoreError>> + Send {
        (**self).pending(limit)
    }

    fn remove(&self, id: &MessageId) -> impl Future<Output = Result<(), StoreError>> + Send {
        (**self).remove(id)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("the queue could not be reached or refused the message")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("no queue is configured for {0}")]
    NoQueue(&'static str),
}

/// The SQS queues Guichet sends to.
pub trait MessageQueues: Send + Sync {
    /// Sends an outbox message to its destination queue.
    fn send(
        &self,
        destination: Destination,
        body: &str,
    ) -> impl Future<Output = Result<(), SendError>> + Send;

    /// Sends a team's escalation message on its FIFO queue: one message group per ticket
    /// (per-ticket order), deduplicated by escalation id.
    fn send_to_team(
        &self,
        team: Team,
        group: &str,
        deduplication_id: &str,
        body: &str,
    ) -> impl Future<Output = Result<(), SendError>> + Send;
}

impl<T: MessageQueues> MessageQueues for &T {
    fn send(
        &self,
        destination: Destination,
        body: &str,
    ) -> impl Future<Output = Result<(), SendError>> + Send {
        (**self).send(destination, body)
    }

    fn send_to_team(
        &self,
        team: Team,
        group: &str,
        deduplication_id: &str,
        body: &str,
    ) -> impl Future<Output = Result<(), SendError>> + Send {
        (**self).send_to_team(team, group, deduplication_id, body)
    }
}

pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

pub trait ReferenceSource: Send + Sync {
    fn next_reference(&self) -> Result<TicketReference, getrandom::Error>;
}

/// Draws references from the operating system's random source.
pub struct RandomReferences;

impl ReferenceSource for RandomReferences {
    fn next_reference(&self) -> Result<TicketReference, getrandom::Error> {
        TicketReference::generate()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idempotency_keys_are_bounded_tokens() {
        assert!(IdempotencyKey::parse("3f1c2a9e-6b1d-4e0f-9a55-2b8f0c7d1e42").is_some());
        assert!(IdempotencyKey::parse("short").is_none());
        assert!(IdempotencyKey::parse(&"k".repeat(129)).is_none());
        assert!(IdempotencyKey::parse("has#hash-1234").is_none());
    }
}

// ---------------------------------------------------------------------------------------------
// Identity verification ports.

use crate::domain::ticket::Actor;
use crate::domain::verification::{
    AuditEntry, CaseId, CheckFailure, ContentType, DocumentKind, UploadId, VerificationCase,
};

/// A presigned upload handed to a client: what the document check compares with what arrives.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PendingUpload {
    pub upload: UploadId,
    pub case: CaseId,
    pub player: PlayerId,
    pub kind: DocumentKind,
    pub key: String,
    pub content_type: ContentType,
    pub size: u64,
    pub issued_at: Timestamp,
    pub expires_at: Timestamp,
    pub issued_by: Actor,
    pub state: UploadState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "state", content = "failure", rename_all = "snake_case")]
pub enum UploadState {
    Pending,
    Received,
    Refused(CheckFailure),
}

/// What writing a case transition did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Saved {
    Done,
    /// The case changed since it was read (another reviewer, a retry): nothing was written.
    Stale,
    /// The player already has an open case: nothing was written.
    PlayerHasOpenCase,
}

/// A case write: the new case, the etag it was computed from (0 for a new case), the audit
/// lines it adds and, for uploads, the upload record's new state — all or nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseWrite<'a> {
    pub case: &'a VerificationCase,
    pub expected_etag: u64,
    pub audit: &'a [AuditEntry],
    pub upload: Option<&'a PendingUpload>,
    /// The player's notification of a decision, relayed after the write.
    pub outbox: &'a [OutboxMessage],
}

pub trait CaseStore: Send + Sync {
    fn save(&self, write: CaseWrite<'_>) -> impl Future<Output = Result<Saved, StoreError>> + Send;

    fn case(
        &self,
        id: &CaseId,
    ) -> impl Future<Output = Result<Option<VerificationCase>, StoreError>> + Send;

    /// Every case of a player, newest first.
    fn cases_of(
        &self,
        player: &PlayerId,
    ) -> impl Future<Output = Result<Vec<VerificationCase>, StoreError>> + Send;

    fn upload(
        &self,
        id: &UploadId,
    ) -> impl Future<Output = Result<Option<PendingUpload>, StoreError>> + Send;

    fn audit_of(
        &self,
        id: &CaseId,
    ) -> impl Future<Output = Result<Vec<AuditEntry>, StoreError>> + Send;

    /// Cases in review, withdrawal-blocking ones first, then in arrival order.
    fn review_queue(
        &self,
        senior: bool,
        limit: u16,
    ) -> impl Future<Output = Result<Vec<VerificationCase>, StoreError>> + Send;
}

/// A presigned HTTP request: the client must send exactly these headers.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Presigned {
    pub method: String,
    pub url: String,
    pub headers: std::collections::BTreeMap<String, String>,
    pub expires_at: Timestamp,
}

/// What an object really is, read from storage, not from any client's claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectFacts {
    pub size: u64,
    /// The first bytes, for the magic-number check.
    pub head: Vec<u8>,
}

pub trait DocumentStorage: Send + Sync {
    fn presign_put(
        &self,
        key: &str,
        content_type: ContentType,
        size: u64,
        now: Timestamp,
    ) -> impl Future<Output = Result<Presigned, StoreError>> + Send;

    fn presign_get(
        &self,
        key: &str,
        now: Timestamp,
    ) -> impl Future<Output = Result<Presigned, StoreError>> + Send;

    /// `None` when the object is gone (already quarantined by an earlier delivery).
    fn inspect(
        &self,
        key: &str,
    ) -> impl Future<Output = Result<Option<ObjectFacts>, StoreError>> + Send;

    /// Moves an object out of the documents' prefixes, where no one reviews it and the
    /// lifecycle deletes it.
    fn quarantine(&self, key: &str) -> impl Future<Output = Result<(), StoreError>> + Send;
}

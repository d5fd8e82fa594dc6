//! Ports: the small traits the handlers depend on, so the rules can be tested without AWS and
//! the adapters (DynamoDB, the system clock) plugged in once at init.

use std::future::Future;

use jiff::Timestamp;

use crate::domain::reference::TicketReference;
use crate::domain::ticket::{PlayerId, StatusChange, Ticket};

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

/// Everything intake writes, in one all-or-nothing operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTicketWrite {
    pub ticket: Ticket,
    pub received: StatusChange,
    pub idempotency: Option<IdempotencyClaim>,
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

/// A ticket with its status history and its messages, oldest entry first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketWithHistory {
    pub ticket: Ticket,
    pub history: Vec<StatusChange>,
    pub messages: Vec<crate::domain::workflow::Message>,
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

    /// Writes the ticket only if it is still at `expected_version`, with its new history lines
    /// and message, all or nothing.
    fn update(
        &self,
        ticket: &Ticket,
        expected_version: u64,
        new_history: &[StatusChange],
        new_message: Option<&crate::domain::workflow::Message>,
    ) -> impl Future<Output = Result<Updated, StoreError>> + Send;

    /// A team's open tickets, most urgent first, in arrival order within a priority.
    fn team_queue(
        &self,
        team: crate::domain::ticket::Team,
        limit: u16,
        start: Option<&QueueStart>,
    ) -> impl Future<Output = Result<Page<Ticket, QueueStart>, StoreError>> + Send;
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

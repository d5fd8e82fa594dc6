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

/// A ticket with its status history, oldest entry first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketWithHistory {
    pub ticket: Ticket,
    pub history: Vec<StatusChange>,
}

/// Where the next page of a player's tickets starts: just after this ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageStart {
    pub created_at: Timestamp,
    pub reference: TicketReference,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<PageStart>,
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

    /// The player's tickets, newest first.
    fn list_for_player(
        &self,
        player: &PlayerId,
        limit: u16,
        start: Option<&PageStart>,
    ) -> impl Future<Output = Result<Page<Ticket>, StoreError>> + Send;
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

//! The ticket store's port: what intake, the desk and the staff workflow write and read.

use std::future::Future;

use jiff::Timestamp;

use crate::common::contact::ContactAddress;
use crate::common::paging::{millis_part, parse_millis_part, Page, PageCursor};
use crate::common::player::PlayerId;
use crate::common::reference::TicketReference;
use crate::common::store::StoreError;
use crate::escalation::rules::Escalation;
use crate::notifications::rules::Notification;
use crate::outbox::rules::OutboxMessage;
use crate::tickets::ticket::{StatusChange, Ticket};

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
    pub messages: Vec<crate::tickets::workflow::Message>,
    pub notifications: Vec<Notification>,
    pub escalations: Vec<Escalation>,
}

/// One update of a ticket and what it causes, all or nothing: the change (under its version
/// condition), the escalation record it creates or settles (created when `requested`,
/// otherwise written only if still `requested`), the player's notification and the outbox
/// messages.
#[derive(Debug, Clone, Copy)]
pub struct TicketUpdate<'a> {
    pub change: &'a crate::tickets::workflow::Change,
    /// What the change was decided on, and so what the write is conditioned on.
    pub basis: Basis<'a>,
    pub escalation: Option<&'a Escalation>,
    pub notification: Option<&'a Notification>,
    pub outbox: &'a [OutboxMessage],
}

/// A merge of a duplicate into another ticket of the same player (`tickets::merge`), all or
/// nothing: both tickets' updates (each under its own conditions, as [`TicketStore::update`]
/// writes one), the player's notification and its outbox message with the survivor's, and the
/// caller's `Idempotency-Key` when one was sent (bound to this merge, as intake binds a key).
#[derive(Debug, Clone, Copy)]
pub struct MergeWrite<'a> {
    pub duplicate: TicketUpdate<'a>,
    pub survivor: TicketUpdate<'a>,
    pub idempotency: Option<&'a IdempotencyClaim>,
}

/// What a merge's write did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MergeWritten {
    Done,
    /// Either ticket is no longer at its expected version: nothing was written.
    Stale,
    /// The key is bound (and not expired): nothing was written.
    KeyAlreadyUsed(IdempotencyRecord),
}

/// A merged duplicate as its survivor shows it: what one read of the duplicate's own item
/// collection holds of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergedRecord {
    pub ticket: Ticket,
    pub messages: Vec<crate::tickets::workflow::Message>,
    /// Every attachment recorded on it, whatever its state, in the order they were issued.
    pub attachments: Vec<crate::attachments::rules::Attachment>,
}

/// What a change was decided on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Basis<'a> {
    /// The ticket as read (consistently) just before: the version condition suffices.
    Read,
    /// The ticket as an agent's `state` token claims it ([`crate::common::seen::Seen`]): the
    /// stored ticket must also have this fingerprint, or nothing is written (`Stale`).
    Seen { fingerprint: &'a str },
}

/// Where the next page of a player's tickets starts: just after this ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageStart {
    pub created_at: Timestamp,
    pub reference: TicketReference,
}

/// Where the next page of a team queue starts: just after this ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueStart {
    /// [`Ticket::queue_rank`]: 0 (a broken promise) to 3.
    pub rank: u8,
    pub created_at: Timestamp,
    pub reference: TicketReference,
}

/// `<created ms>.<reference>`: the order of a player's tickets.
impl PageCursor for PageStart {
    const PARTS: usize = 2;

    fn parts(&self) -> Vec<String> {
        vec![
            millis_part(self.created_at),
            self.reference.as_str().to_owned(),
        ]
    }

    fn from_parts(parts: &[&str]) -> Option<Self> {
        Some(PageStart {
            created_at: parse_millis_part(parts[0])?,
            reference: TicketReference::parse(parts[1]).ok()?,
        })
    }
}

/// `<rank>.<created ms>.<reference>`: the order of a team queue.
impl PageCursor for QueueStart {
    const PARTS: usize = 3;

    fn parts(&self) -> Vec<String> {
        vec![
            self.rank.to_string(),
            millis_part(self.created_at),
            self.reference.as_str().to_owned(),
        ]
    }

    fn from_parts(parts: &[&str]) -> Option<Self> {
        let rank: u8 = parts[0].parse().ok()?;
        let known = rank == 0
            || crate::tickets::ticket::Priority::ALL
                .iter()
                .any(|p| p.rank() == rank);
        Some(QueueStart {
            rank: known.then_some(rank)?,
            created_at: parse_millis_part(parts[1])?,
            reference: TicketReference::parse(parts[2]).ok()?,
        })
    }
}

/// What a conditional ticket update did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Updated {
    Done,
    /// The ticket is no longer at the expected version (or a concurrent write won): nothing
    /// was written.
    Stale,
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
    ) -> impl Future<Output = Result<Option<crate::verification::rules::CaseId>, StoreError>> + Send;

    /// The player's tickets, newest first.
    fn list_for_player(
        &self,
        player: &PlayerId,
        limit: u16,
        start: Option<&PageStart>,
    ) -> impl Future<Output = Result<Page<Ticket, PageStart>, StoreError>> + Send;

    /// Writes the ticket only if it is still at its expected version, with everything the
    /// update carries, all or nothing.
    fn update(
        &self,
        update: TicketUpdate<'_>,
    ) -> impl Future<Output = Result<Updated, StoreError>> + Send;

    /// Writes a merge: both tickets only if each is still at its expected version, with the
    /// survivor's notification and outbox messages and the idempotency record, all or nothing.
    fn merge(
        &self,
        write: MergeWrite<'_>,
    ) -> impl Future<Output = Result<MergeWritten, StoreError>> + Send;

    /// A merged duplicate's ticket, messages and attachments, in one read.
    fn merged_record(
        &self,
        reference: &TicketReference,
    ) -> impl Future<Output = Result<Option<MergedRecord>, StoreError>> + Send;

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
        team: crate::tickets::ticket::Team,
        limit: u16,
        start: Option<&QueueStart>,
    ) -> impl Future<Output = Result<Page<Ticket, QueueStart>, StoreError>> + Send;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tickets::ticket::Priority;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;

    #[test]
    fn ticket_page_cursors_round_trip_and_refuse_tampering() {
        let start = PageStart {
            created_at: Timestamp::from_millisecond(1_764_169_200_123).expect("valid"),
            reference: TicketReference::from_random([5; 9]),
        };
        assert_eq!(PageStart::from_cursor(&start.to_cursor()), Some(start));
        assert_eq!(PageStart::from_cursor("not-base64!"), None);
        assert_eq!(
            PageStart::from_cursor(&URL_SAFE_NO_PAD.encode("12.ABCDEFGHJK")),
            None
        );
        assert_eq!(PageStart::from_cursor(&URL_SAFE_NO_PAD.encode("x.")), None);
    }

    #[test]
    fn queue_cursors_round_trip_and_refuse_tampering() {
        let start = QueueStart {
            rank: Priority::High.rank(),
            created_at: Timestamp::from_millisecond(1_764_169_200_123).expect("valid"),
            reference: TicketReference::from_random([5; 9]),
        };
        assert_eq!(
            QueueStart::from_cursor(&start.to_cursor()),
            Some(start.clone())
        );
        assert_eq!(QueueStart::from_cursor("not-base64!"), None);
        let reference = start.reference.as_str();
        for tampered in [
            format!("9.12.{reference}"),
            format!("1.x.{reference}"),
            "1.12.ABCDEFGHJK".to_owned(),
        ] {
            assert_eq!(
                QueueStart::from_cursor(&URL_SAFE_NO_PAD.encode(&tampered)),
                None,
                "{tampered}"
            );
        }
    }

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

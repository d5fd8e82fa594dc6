//! The sender's ports: the e-mail service, the players' addresses, and the delivery ledger
//! that makes a notification go out at most once.

use crate::common::contact::ContactAddress;
use crate::common::player::PlayerId;
use crate::common::store::StoreError;
use crate::notifications::rules::{About, StoredNotification};
use crate::outbox::rules::MessageId;
use crate::tickets::ports::TicketStore;
use jiff::Timestamp;
use std::future::Future;

/// One e-mail, as the provider sends it: plain text, one recipient. Deliberately without
/// `Debug`: it would print the subject and body, which must never reach a log.
#[derive(Clone, Copy)]
pub struct Email<'a> {
    /// The desk's verified sender address (not personal information).
    pub from: &'a str,
    pub to: &'a ContactAddress,
    pub subject: &'a str,
    pub body: &'a str,
    /// Where the player's answer goes: a ticket's signed reply address
    /// (`mail::reply_address`), so that it threads onto the ticket.
    pub reply_to: Option<&'a crate::mail::message::MailAddress>,
    /// The `Auto-Submitted` value (RFC 3834) every mail of ours carries: `auto-generated` for
    /// a notification, `auto-replied` for an acknowledgement. A player's auto-responder that
    /// follows the RFC then stays silent.
    pub auto_submitted: &'static str,
}

/// `Auto-Submitted` of a notification: sent by the desk on its own, not in answer to a mail.
pub const AUTO_GENERATED: &str = "auto-generated";

/// Why the e-mail service did not take a message. Deliberately without the provider's error
/// message: SES quotes the addresses it refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    /// The service answered with an error (throttling, a rejected message, sending paused...).
    #[error("the e-mail service refused the message ({code})")]
    Refused { code: String },
    /// The service could not be reached, timed out or answered something unreadable.
    #[error("the e-mail service could not be reached ({kind})")]
    Unreachable { kind: &'static str },
}

/// The e-mail service (SES in production).
pub trait EmailSender: Send + Sync {
    /// Sends one e-mail; the provider's message id on success.
    fn send(&self, email: Email<'_>) -> impl Future<Output = Result<String, EmailError>> + Send;
}

/// Where a player's address is kept. Every ticket store is one (the address is stored per
/// player with their tickets, `TicketStore::contact_of`).
pub trait ContactBook: Send + Sync {
    fn contact_of(
        &self,
        player: &PlayerId,
    ) -> impl Future<Output = Result<Option<ContactAddress>, StoreError>> + Send;
}

impl<T: TicketStore> ContactBook for T {
    fn contact_of(
        &self,
        player: &PlayerId,
    ) -> impl Future<Output = Result<Option<ContactAddress>, StoreError>> + Send {
        TicketStore::contact_of(self, player)
    }
}

/// Where the notifications are kept: with their ticket or their case, each beside the player
/// who owns it. Every ticket store is one in production (one table holds both).
pub trait NotificationRecords: Send + Sync {
    /// The notification `id`, made at `at`, about `about`, as stored, with the owner of the
    /// ticket or case; `None` when no such notification is stored. Read consistently: the
    /// message naming it is only sent once its transaction committed.
    fn stored(
        &self,
        about: &About,
        id: &MessageId,
        at: Timestamp,
    ) -> impl Future<Output = Result<Option<StoredNotification>, StoreError>> + Send;
}

/// A delivery that is over: a duplicate of it sends nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    Sent,
    NoAddress,
}

/// What claiming a delivery found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// This attempt holds the delivery until its lease ends.
    Claimed,
    /// An earlier attempt finished it.
    Settled(Settled),
    /// Another attempt holds it until `until`.
    Held { until: Timestamp },
}

/// The per-notification delivery records.
pub trait DeliveryLedger: Send + Sync {
    /// Takes the delivery with a lease until `lease_until`, only if no record exists or the
    /// record is `sending` with a lease that ended before `now`.
    fn claim(
        &self,
        id: &MessageId,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> impl Future<Output = Result<Claim, StoreError>> + Send;

    /// Records the e-mail as sent.
    fn mark_sent(
        &self,
        id: &MessageId,
        provider_message_id: &str,
        sent_at: Timestamp,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Records that the player had no address: nothing was, or will be, sent.
    fn mark_no_address(
        &self,
        id: &MessageId,
        at: Timestamp,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Gives the delivery back after a failed send, only if this attempt's lease (`lease_until`)
    /// still holds it, so the next attempt need not wait for the lease to run out.
    fn release(
        &self,
        id: &MessageId,
        lease_until: Timestamp,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

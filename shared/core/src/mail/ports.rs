//! The mail desk's ports: what it records of the mail it received and sent, and how it finds a
//! player by address. One table holds them all in production (`guichet_aws::dynamo::mail`).

use std::future::Future;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::common::player::PlayerId;
use crate::common::reference::TicketReference;
use crate::common::store::StoreError;
use crate::mail::message::MailAddress;
use crate::mail::sender::QuarantineReason;

/// SES's id of a received mail (its receipt notification's `mail.messageId`), which is also
/// the raw mail's object name: what makes a second delivery of one mail inert, whether SQS
/// delivered it twice or the mail was addressed to two of our addresses. Letters, digits and
/// `-`, 1 to 100 of them, so that it is safe in a key and an object name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MailId(String);

validated_string!(MailId, "a mail id: 1 to 100 letters, digits or '-'");

impl MailId {
    pub const MAX_LEN: usize = 100;

    pub fn parse(raw: &str) -> Option<Self> {
        let ok = (1..=Self::MAX_LEN).contains(&raw.len())
            && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        ok.then(|| Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

vocabulary!(
    /// Why a mail waits for staff instead of reaching a ticket as the player's.
    HeldReason {
        /// Written by a program (an auto-responder, a list, a bounce) or from our own domain:
        /// no person asked anything.
        Automatic => "automatic",
        /// No single valid `From`.
        NoSender => "no_sender",
        /// No player has this address on file.
        UnknownSender => "unknown_sender",
        /// Several players have this address on file: the mail cannot speak for one of them.
        SharedAddress => "shared_address",
        /// `From` is not the address on file of the ticket's player.
        OtherAddress => "other_address",
        /// `From`'s domain publishes a DMARC policy and the mail fails it.
        DmarcFailed => "dmarc_failed",
        /// Neither DMARC nor aligned SPF and DKIM vouch for `From`.
        NotAuthenticated => "not_authenticated",
        /// Its MIME could not be read (too large, or not a mail): staff have the raw mail.
        Unreadable => "unreadable",
    }
);

/// What the desk did with a received mail: recorded under its [`MailId`], and answered again,
/// unchanged, to any later delivery of the same mail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Filed {
    /// A new ticket on the e-mail channel, for the player who wrote.
    Opened {
        reference: TicketReference,
        /// Whether its acknowledgement is e-mailed (RFC 3834 and one a day per sender).
        acknowledged: bool,
    },
    /// The player's answer on their ticket.
    Answered { reference: TicketReference },
    /// Kept for staff: not the player's, or nobody's.
    Held {
        reason: HeldReason,
        /// The ticket the mail names, if it does (staff decide what it is worth).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ticket: Option<TicketReference>,
        /// Whether the sender was sent the safe acknowledgement.
        acknowledged: bool,
    },
    /// Spam or a virus: moved aside, unread by anyone.
    Quarantined { reason: QuarantineReason },
}

impl Filed {
    /// For logs and metrics.
    pub fn as_str(&self) -> &'static str {
        match self {
            Filed::Opened { .. } => "opened",
            Filed::Answered { .. } => "answered",
            Filed::Held { .. } => "held",
            Filed::Quarantined { .. } => "quarantined",
        }
    }

    /// The ticket the mail reached or names.
    pub fn reference(&self) -> Option<&TicketReference> {
        match self {
            Filed::Opened { reference, .. } | Filed::Answered { reference } => Some(reference),
            Filed::Held { ticket, .. } => ticket.as_ref(),
            Filed::Quarantined { .. } => None,
        }
    }
}

/// A mail kept for staff. The address and the text are personal information: stored with the
/// mail, never logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldMail {
    pub id: MailId,
    pub received_at: Timestamp,
    pub reason: HeldReason,
    pub from: Option<MailAddress>,
    /// The ticket the mail names, if any.
    pub ticket: Option<TicketReference>,
    pub subject: String,
    pub text: String,
    pub attachments: usize,
}

/// The desk's records of mail.
pub trait Mailroom: Send + Sync {
    /// What the desk did with this mail, if it already filed it.
    fn filed(&self, id: &MailId) -> impl Future<Output = Result<Option<Filed>, StoreError>> + Send;

    /// Records what the desk did with a mail. Written last: a mail whose record is missing is
    /// filed again, which every step makes harmless.
    fn record(
        &self,
        id: &MailId,
        filed: &Filed,
        at: Timestamp,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The players whose address on file is `address` (normalised), at most `limit`.
    fn players_at(
        &self,
        address: &MailAddress,
        limit: u8,
    ) -> impl Future<Output = Result<Vec<PlayerId>, StoreError>> + Send;

    /// The tickets of the mails we sent whose SES message id is among `ids` (SES's id alone,
    /// without `@` and domain), in any order.
    fn tickets_of_sent(
        &self,
        ids: &[&str],
    ) -> impl Future<Output = Result<Vec<(String, TicketReference)>, StoreError>> + Send;

    /// Takes `sender`'s automatic answer for now: `true` only if none was taken since
    /// `now - interval` (one conditional write, so two deliveries at once send one).
    fn claim_ack(
        &self,
        sender: &MailAddress,
        now: Timestamp,
        interval: jiff::SignedDuration,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Gives the claim taken at `at` back (its answer could not be sent), if it is still that
    /// one.
    fn release_ack(
        &self,
        sender: &MailAddress,
        at: Timestamp,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Keeps a mail for staff; a second write of the same mail changes nothing.
    fn hold(&self, held: &HeldMail) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Why a raw mail could not be read.
#[derive(Debug, thiserror::Error)]
pub enum RawReadError {
    /// Nothing is stored under this id: SES stored no such mail, or it was quarantined.
    #[error("no raw mail is stored under this id")]
    Missing,
    #[error("the raw mail has {size} bytes, more than the {max} read")]
    TooLarge { size: u64, max: u64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The raw mails SES stored, by their mail id (never by a key a message names).
pub trait RawMail: Send + Sync {
    /// The raw mail, refused whole when larger than `max` bytes.
    fn read(
        &self,
        id: &MailId,
        max: u64,
    ) -> impl Future<Output = Result<Vec<u8>, RawReadError>> + Send;

    /// Sets the raw mail aside (spam, a virus) where only its retention rule reaches it.
    fn quarantine(&self, id: &MailId) -> impl Future<Output = Result<(), StoreError>> + Send;
}

vocabulary!(
    /// Why mail to an address stopped: what SES reported of it.
    Refusal {
        /// A permanent bounce: the address does not exist, or its server refuses our mail.
        Bounce => "bounce",
        /// The recipient marked our mail as spam.
        Complaint => "complaint",
    }
);

/// What the desk records of the mail it sends: the SES message id of each mail about a ticket,
/// so that an answer's `In-Reply-To` finds the ticket, and the addresses mail must no longer
/// go to.
pub trait OutgoingMail: Send + Sync {
    fn record_sent(
        &self,
        ses_message_id: &str,
        reference: &TicketReference,
        at: Timestamp,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Why mail to `address` stopped, if it did.
    fn refused(
        &self,
        address: &MailAddress,
    ) -> impl Future<Output = Result<Option<Refusal>, StoreError>> + Send;

    /// Stops mail to `address` (SES reported a bounce or a complaint at `at`).
    fn refuse(
        &self,
        address: &MailAddress,
        refusal: Refusal,
        at: Timestamp,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Mail to `address` may go again: its owner wrote from it, authenticated.
    fn accept_again(
        &self,
        address: &MailAddress,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mail_ids_are_safe_tokens() {
        assert!(MailId::parse("o3vrnil0e2ic28trm7dfhrc2v0clambda4nbp0g81").is_some());
        assert!(MailId::parse("0100019ab-cdef").is_some());
        for bad in ["", "a/b", "a b", "../x", "a@b", &"a".repeat(101)] {
            assert!(MailId::parse(bad).is_none(), "{bad}");
        }
        let id: Result<MailId, _> = serde_json::from_str("\"a/../b\"");
        assert!(id.is_err());
    }

    #[test]
    fn what_was_filed_reads_back_as_written() {
        let reference = TicketReference::from_random([1; 9]);
        for filed in [
            Filed::Opened {
                reference: reference.clone(),
                acknowledged: true,
            },
            Filed::Answered {
                reference: reference.clone(),
            },
            Filed::Held {
                reason: HeldReason::DmarcFailed,
                ticket: Some(reference.clone()),
                acknowledged: false,
            },
            Filed::Quarantined {
                reason: QuarantineReason::Virus,
            },
        ] {
            let json = serde_json::to_string(&filed).expect("json");
            assert_eq!(
                serde_json::from_str::<Filed>(&json).expect("read"),
                filed,
                "{json}"
            );
        }
    }
}

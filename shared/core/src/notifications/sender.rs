//! Sending the players' notifications: what the send-notifications function does with each
//! message of the notifications queue ([`NotificationMessage`]). The message only *names* a
//! notification; nothing in it is trusted or sent:
//!
//! - the notification itself (kind, language, subject, body, rendered when the change
//!   happened) is read from the table, with the owner of its ticket or case, and sent only if
//!   it is owed to the player the message names ([`owed`]); anything else is refused for good
//!   and dead-lettered, since only a writer other than the outbox relay can produce it;
//! - the address is looked up here, at the last moment, so no queue, dead letter or log ever
//!   holds one.
//!
//! SQS delivers at least once, and the outbox relay may send the same message twice, so every
//! notification goes through a per-notification delivery record ([`DeliveryLedger`]) that makes
//! a duplicate send nothing:
//!
//! 1. **claim**: a conditional write sets the record to `sending` with a lease, only if there is
//!    no record yet or an earlier attempt's lease has run out (that attempt crashed). A record
//!    already `sent` (or `no_address`) means this is a duplicate: nothing is sent. A live lease
//!    means another attempt is sending right now: this one fails, and SQS redelivers it later.
//! 2. **look up** the player's address; without one there is nothing to send, which is settled
//!    as `no_address` (not retried: an address only arrives with the player's next ticket).
//! 3. **send** through the e-mail service, then settle `sent` with the provider's message id.
//!    A failed send releases the lease and fails, so SQS retries it (and dead-letters it after
//!    the queue's five receives).
//!
//! Exactly once is out of reach (a crash between the send and the settle sends again once the
//! lease runs out), but it takes a crash inside that window; duplicates delivered by SQS or the
//! relay never send twice.
//!
//! Never logged, never put in an error: the address, the subject, the body. Spans carry the
//! notification id, the ticket reference and the kind.

use jiff::{SignedDuration, Timestamp};
use tracing::Instrument;

use crate::common::clock::Clock;
use crate::common::store::StoreError;
use crate::mail::ports::OutgoingMail;
use crate::notifications::ports::Claim;
use crate::notifications::ports::ContactBook;
use crate::notifications::ports::DeliveryLedger;
use crate::notifications::ports::Email;
use crate::notifications::ports::EmailError;
use crate::notifications::ports::EmailSender;
use crate::notifications::ports::NotificationRecords;
use crate::notifications::ports::AUTO_GENERATED;
use crate::notifications::rules::{owed, About, NotOwed, NotificationMessage};
use crate::outbox::rules::MessageId;

/// How long a claim keeps other attempts away: longer than the function's timeout (10 s) so a
/// live attempt is never overtaken, short enough that a crashed one is retried within a couple
/// of the queue's redeliveries (visibility timeout 60 s, five receives).
pub const LEASE: SignedDuration = SignedDuration::from_secs(120);

/// What delivering a notification did; every variant acknowledges the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    Sent {
        provider_message_id: String,
    },
    /// A duplicate: an earlier delivery sent it (or found no address).
    AlreadySent,
    /// The player has no address on file: nothing to send.
    NoAddress,
    /// The player's address bounced or complained (settled as `no_address`): nothing is sent
    /// until the player writes from it again or gives another.
    Refused,
}

impl Delivery {
    /// For logs and metrics.
    pub fn as_str(&self) -> &'static str {
        match self {
            Delivery::Sent { .. } => "sent",
            Delivery::AlreadySent => "already_sent",
            Delivery::NoAddress => "no_address",
            Delivery::Refused => "refused",
        }
    }
}

/// Why a notification was not delivered now; every variant means "retry later" (SQS
/// redelivers, then dead-letters). None of them carries an address or the text.
#[derive(Debug, thiserror::Error)]
pub enum SendFailure {
    /// Final: the message names no notification owed to its player (see [`owed`]).
    #[error("the message names no notification owed to its player")]
    NotOwed(#[source] NotOwed),
    #[error("the stored notification could not be read")]
    Records(#[source] StoreError),
    #[error("another attempt is sending this notification (lease until {until})")]
    InProgress { until: Timestamp },
    #[error("the delivery record could not be read or written")]
    Ledger(#[source] StoreError),
    #[error("the player's address could not be read")]
    Contact(#[source] StoreError),
    #[error("the e-mail was not sent")]
    Email(#[source] EmailError),
}

/// The sender's ports and settings; built once per container.
pub struct Sender<C, L, E> {
    /// The players' addresses and the stored notifications (in production, the tickets table
    /// holds both).
    pub contacts: C,
    pub ledger: L,
    pub email: E,
    pub clock: Box<dyn Clock>,
    /// `NOTIFICATION_SENDER`: the verified address e-mails are sent from.
    pub from: String,
    /// Signs each ticket's reply address; without it (a desk that receives no mail), the
    /// notifications carry none.
    pub replies: Option<Replies>,
}

/// What a ticket's notifications are answered to: its signed reply address in our mailbox.
#[derive(Clone)]
pub struct Replies {
    pub key: crate::mail::reply_address::ReplyKey,
    pub mailbox: crate::mail::reply_address::ReplyMailbox,
}

impl SendFailure {
    /// A failure no retry can mend: the message goes to the dead-letter queue.
    pub fn is_final(&self) -> bool {
        matches!(self, SendFailure::NotOwed(_))
    }
}

impl<C, L, E> Sender<C, L, E>
where
    C: ContactBook + NotificationRecords + OutgoingMail,
    L: DeliveryLedger,
    E: EmailSender,
{
    /// Delivers one notification at most once per claim (see the module documentation).
    pub async fn deliver(&self, message: &NotificationMessage) -> Result<Delivery, SendFailure> {
        let span = tracing::info_span!(
            "notification",
            notification_id = %message.notification_id,
            about = message.about.as_str(),
            kind = message.kind.as_str(),
        );
        // Boxed: the adapters' futures (the AWS SDK's above all) nest deeply, and inlined into
        // a Lambda handler's future they take the compiler past its layout recursion limit in
        // every crate that awaits it. One allocation per e-mail is nothing beside the send.
        Box::pin(self.deliver_claimed(message).instrument(span)).await
    }

    async fn deliver_claimed(
        &self,
        message: &NotificationMessage,
    ) -> Result<Delivery, SendFailure> {
        let id = &message.notification_id;
        let stored = self
            .contacts
            .stored(&message.about, id, message.created_at)
            .await
            .map_err(SendFailure::Records)?;
        let notification = owed(message, stored).map_err(SendFailure::NotOwed)?;
        let now = self.clock.now();
        let lease_until = now + LEASE;
        match self
            .ledger
            .claim(id, now, lease_until)
            .await
            .map_err(SendFailure::Ledger)?
        {
            Claim::Claimed => {}
            Claim::Settled(_) => return Ok(Delivery::AlreadySent),
            Claim::Held { until } => return Err(SendFailure::InProgress { until }),
        }

        let contact = match self.contacts.contact_of(&message.player).await {
            Ok(contact) => contact,
            Err(error) => {
                self.give_back(id, lease_until).await;
                return Err(SendFailure::Contact(error));
            }
        };
        let Some(to) = contact else {
            // Settled rather than retried: the address only arrives with the player's next
            // ticket, long after this message's retries. The player still reads the
            // notification on the ticket.
            tracing::warn!("the player has no contact address: notification not e-mailed");
            self.ledger
                .mark_no_address(id, self.clock.now())
                .await
                .map_err(SendFailure::Ledger)?;
            return Ok(Delivery::NoAddress);
        };

        // An address SES reported bouncing or complaining gets no more mail: sending would
        // bounce again, or count against our sending reputation.
        let refused = match crate::mail::message::MailAddress::of_contact(&to) {
            Some(address) => self.contacts.refused(&address).await,
            None => Ok(None),
        };
        match refused {
            Ok(None) => {}
            Ok(Some(refusal)) => {
                tracing::warn!(
                    refusal = refusal.as_str(),
                    "the player's address refuses our mail: notification not e-mailed"
                );
                self.ledger
                    .mark_no_address(id, self.clock.now())
                    .await
                    .map_err(SendFailure::Ledger)?;
                return Ok(Delivery::Refused);
            }
            Err(error) => {
                self.give_back(id, lease_until).await;
                return Err(SendFailure::Contact(error));
            }
        }
        let ticket = match &message.about {
            About::Ticket(reference) => Some(reference),
            About::Case(_) => None,
        };
        let reply_to = ticket
            .zip(self.replies.as_ref())
            .map(|(reference, replies)| {
                crate::mail::reply_address::reply_address(&replies.key, &replies.mailbox, reference)
            });
        let email = Email {
            from: &self.from,
            to: &to,
            subject: &notification.subject,
            body: &notification.body,
            reply_to: reply_to.as_ref(),
            auto_submitted: AUTO_GENERATED,
        };
        let provider_message_id = match self.email.send(email).await {
            Ok(id) => id,
            Err(error) => {
                self.give_back(id, lease_until).await;
                return Err(SendFailure::Email(error));
            }
        };
        if let Some(reference) = ticket {
            // Best effort, like the settle below: the player's answer still threads by its
            // reply address; only an answer that lost it needs this record.
            if let Err(error) = self
                .contacts
                .record_sent(&provider_message_id, reference, self.clock.now())
                .await
            {
                tracing::warn!(error = %error, "e-mail sent, but its message id was not recorded");
            }
        }
        if let Err(error) = self
            .ledger
            .mark_sent(id, &provider_message_id, self.clock.now())
            .await
        {
            // The e-mail is out: failing now would only make SQS deliver it again, and once the
            // lease runs out that retry would send a second e-mail. Acknowledge instead; the
            // record stays `sending` and expires with its TTL.
            tracing::warn!(
                error = %error,
                "e-mail sent, but the delivery record could not be marked sent"
            );
        }
        Ok(Delivery::Sent {
            provider_message_id,
        })
    }

    /// Best effort: a release that fails leaves the lease to run out, which only delays the
    /// retry.
    async fn give_back(&self, id: &MessageId, lease_until: Timestamp) {
        if let Err(error) = self.ledger.release(id, lease_until).await {
            tracing::warn!(error = %error, "delivery lease not released; it will expire");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::contact::ContactAddress;
    use crate::common::player::Language;
    use crate::common::player::PlayerId;
    use crate::common::reference::TicketReference;
    use crate::notifications::memory::{MemoryContacts, MemoryDeliveryLedger, MemoryEmailSender};
    use crate::notifications::rules::{About, Notification, NotificationKind};
    use crate::tickets::memory::FixedClock;

    const NOW: &str = "2026-11-26T15:00:00Z";

    type MemorySender = Sender<MemoryContacts, MemoryDeliveryLedger, MemoryEmailSender>;

    fn sender(clock: FixedClock) -> MemorySender {
        Sender {
            contacts: MemoryContacts::default(),
            ledger: MemoryDeliveryLedger::default(),
            email: MemoryEmailSender::default(),
            clock: Box::new(clock),
            from: "soutien@guichet.example".into(),
            replies: None,
        }
    }

    fn notification(kind: NotificationKind) -> Notification {
        Notification {
            id: MessageId::from_bytes([7; 16]),
            kind,
            language: Language::Fr,
            subject: "Demande reçue".into(),
            body: "Bonjour,\n\nNous avons bien reçu votre demande.".into(),
            at: NOW.parse().expect("valid"),
        }
    }

    fn about_reference() -> TicketReference {
        TicketReference::from_random([3; 9])
    }

    fn about() -> About {
        About::Ticket(about_reference())
    }

    /// Stores the "received" notification of a ticket of `player`, as the desk does, and
    /// returns the message the outbox relay puts on the queue for it.
    fn message(sender: &MemorySender, player: &str) -> NotificationMessage {
        let player = PlayerId::parse(player).expect("valid player");
        let notification = notification(NotificationKind::Received);
        sender.contacts.store(about(), &player, &notification);
        NotificationMessage::naming(&notification, &player, about())
    }

    fn with_address(sender: &MemorySender, player: &str, address: &str) {
        sender.contacts.set(
            &PlayerId::parse(player).expect("valid player"),
            ContactAddress::parse(address).expect("valid address"),
        );
    }

    #[tokio::test]
    async fn a_tickets_mail_is_answered_to_its_signed_address_and_its_id_recorded() {
        use crate::mail::reply_address::{reply_address, ReplyKey, ReplyMailbox};
        let mut sender = sender(FixedClock::at(NOW));
        sender.replies = Some(Replies {
            key: ReplyKey::parse(&[4u8; 32]).expect("32 bytes"),
            mailbox: ReplyMailbox::parse("soutien", "guichet.example").expect("valid"),
        });
        with_address(&sender, "p-1", "joueur@exemple.ca");
        let message = message(&sender, "p-1");
        let Delivery::Sent {
            provider_message_id,
        } = sender.deliver(&message).await.expect("delivered")
        else {
            panic!("not sent")
        };
        let sent = sender.email.sent();
        let replies = sender.replies.as_ref().expect("set");
        let expected = reply_address(&replies.key, &replies.mailbox, &about_reference());
        assert_eq!(sent[0].reply_to.as_deref(), Some(expected.expose()));
        assert_eq!(sent[0].auto_submitted, "auto-generated");
        assert_eq!(
            sender.contacts.sent_mail().get(&provider_message_id),
            Some(&about_reference())
        );
    }

    #[tokio::test]
    async fn an_address_that_bounced_gets_no_more_mail() {
        let sender = sender(FixedClock::at(NOW));
        with_address(&sender, "p-1", "joueur@exemple.ca");
        sender.contacts.refuse("joueur@exemple.ca");
        let message = message(&sender, "p-1");
        assert_eq!(
            sender.deliver(&message).await.expect("settled"),
            Delivery::Refused
        );
        assert!(sender.email.sent().is_empty());
        assert_eq!(
            sender.deliver(&message).await.expect("acknowledged"),
            Delivery::AlreadySent
        );
    }

    #[tokio::test]
    async fn a_duplicate_delivery_sends_once() {
        let sender = sender(FixedClock::at(NOW));
        with_address(&sender, "p-1", "joueur@exemple.ca");
        let message = message(&sender, "p-1");

        let first = sender.deliver(&message).await.expect("delivered");
        assert!(matches!(first, Delivery::Sent { .. }), "{first:?}");
        assert_eq!(
            sender.deliver(&message).await.expect("acknowledged"),
            Delivery::AlreadySent
        );

        let sent = sender.email.sent();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].to, "joueur@exemple.ca");
        assert_eq!(sent[0].from, "soutien@guichet.example");
        assert_eq!(sent[0].subject, "Demande reçue");
        assert_eq!(
            sender.ledger.state(&message.notification_id).as_deref(),
            Some("sent")
        );
    }

    #[tokio::test]
    async fn without_an_address_nothing_is_sent_and_nothing_is_retried() {
        let sender = sender(FixedClock::at(NOW));
        let message = message(&sender, "p-2");
        assert_eq!(
            sender.deliver(&message).await.expect("settled"),
            Delivery::NoAddress
        );
        assert!(sender.email.sent().is_empty());
        // A redelivery is a duplicate of a settled delivery, even if an address arrived since.
        with_address(&sender, "p-2", "joueur@exemple.ca");
        assert_eq!(
            sender.deliver(&message).await.expect("acknowledged"),
            Delivery::AlreadySent
        );
        assert!(sender.email.sent().is_empty());
    }

    #[tokio::test]
    async fn a_failed_send_is_retried_later_and_sent_once() {
        let sender = sender(FixedClock::at(NOW));
        with_address(&sender, "p-1", "joueur@exemple.ca");
        let message = message(&sender, "p-1");
        sender.email.fail_next(1);

        let failure = sender.deliver(&message).await.expect_err("SES refused");
        assert!(matches!(failure, SendFailure::Email(_)), "{failure:?}");
        // Nothing in the error names the player's address or the text.
        let text = format!("{failure} {failure:?}");
        assert!(!text.contains("joueur@exemple.ca"), "{text}");
        assert!(!text.contains("Demande"), "{text}");
        assert!(sender.email.sent().is_empty());

        // The lease was given back: SQS's redelivery sends at once, then never again.
        assert!(matches!(
            sender.deliver(&message).await.expect("delivered"),
            Delivery::Sent { .. }
        ));
        assert_eq!(
            sender.deliver(&message).await.expect("acknowledged"),
            Delivery::AlreadySent
        );
        assert_eq!(sender.email.sent().len(), 1);
    }

    #[tokio::test]
    async fn a_live_lease_defers_and_an_expired_one_is_taken_over() {
        let clock = FixedClock::at(NOW);
        let sender = sender(clock.clone());
        with_address(&sender, "p-1", "joueur@exemple.ca");
        let message = message(&sender, "p-1");
        let now: Timestamp = NOW.parse().expect("valid");
        // An attempt that claimed the delivery and crashed before sending.
        assert_eq!(
            sender
                .ledger
                .claim(&message.notification_id, now, now + LEASE)
                .await
                .expect("claimed"),
            Claim::Claimed
        );

        clock.set(now + SignedDuration::from_secs(60));
        let failure = sender.deliver(&message).await.expect_err("held");
        assert!(
            matches!(failure, SendFailure::InProgress { until } if until == now + LEASE),
            "{failure:?}"
        );
        assert!(sender.email.sent().is_empty());

        clock.set(now + LEASE + SignedDuration::from_secs(1));
        assert!(matches!(
            sender.deliver(&message).await.expect("taken over"),
            Delivery::Sent { .. }
        ));
        assert_eq!(sender.email.sent().len(), 1);
    }

    #[tokio::test]
    async fn a_failed_lookup_gives_the_lease_back() {
        let sender = sender(FixedClock::at(NOW));
        with_address(&sender, "p-1", "joueur@exemple.ca");
        let message = message(&sender, "p-1");
        sender.contacts.fail_next(1);
        assert!(matches!(
            sender.deliver(&message).await,
            Err(SendFailure::Contact(_))
        ));
        assert!(matches!(
            sender.deliver(&message).await.expect("delivered"),
            Delivery::Sent { .. }
        ));
        assert_eq!(sender.email.sent().len(), 1);
    }

    /// What a queue message could make the sender do, if it were trusted: the message is
    /// written by whoever can reach the queue; only what the table holds is sent.
    #[tokio::test]
    async fn a_message_naming_no_owed_notification_sends_nothing_and_is_final() {
        let sender = sender(FixedClock::at(NOW));
        with_address(&sender, "p-1", "joueur@exemple.ca");
        with_address(&sender, "p-2", "autre@exemple.ca");
        let stored = message(&sender, "p-1");

        let unknown = NotificationMessage {
            notification_id: MessageId::from_bytes([8; 16]),
            ..stored.clone()
        };
        let elsewhere = NotificationMessage {
            about: About::Ticket(TicketReference::from_random([4; 9])),
            ..stored.clone()
        };
        let other_time = NotificationMessage {
            created_at: stored.created_at + SignedDuration::from_millis(1),
            ..stored.clone()
        };
        let other_player = NotificationMessage {
            player: PlayerId::parse("p-2").expect("valid"),
            ..stored.clone()
        };
        let other_kind = NotificationMessage {
            kind: NotificationKind::Resolved,
            ..stored.clone()
        };
        for (forged, why) in [
            (unknown, NotOwed::Unknown),
            (elsewhere, NotOwed::Unknown),
            (other_time, NotOwed::Unknown),
            (other_player, NotOwed::OtherPlayer),
            (other_kind, NotOwed::OtherKind),
        ] {
            let failure = sender.deliver(&forged).await.expect_err("refused");
            assert!(
                matches!(failure, SendFailure::NotOwed(w) if w == why),
                "{failure:?}"
            );
            assert!(failure.is_final());
            // Refused before the ledger: the owed notification is still deliverable.
            assert_eq!(sender.ledger.state(&forged.notification_id), None);
        }
        assert!(sender.email.sent().is_empty());

        assert!(matches!(
            sender.deliver(&stored).await.expect("delivered"),
            Delivery::Sent { .. }
        ));
        let sent = sender.email.sent();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].to, "joueur@exemple.ca");
    }

    #[tokio::test]
    async fn the_text_of_a_v1_message_is_never_sent() {
        let sender = sender(FixedClock::at(NOW));
        with_address(&sender, "p-1", "joueur@exemple.ca");
        let stored = message(&sender, "p-1");
        // A v1 message, as the relay sent them before v2, its text replaced by a phishing one.
        let mut wire = serde_json::to_value(&stored).expect("serialises");
        wire["schema"] = crate::notifications::rules::LEGACY_NOTIFICATION_SCHEMA.into();
        wire["language"] = "fr".into();
        wire["subject"] = "Votre compte est suspendu".into();
        wire["body"] = "Confirmez votre mot de passe sur https://casino.example.net".into();
        let legacy: NotificationMessage = serde_json::from_value(wire).expect("v1 is read");
        assert_eq!(legacy, stored);

        sender.deliver(&legacy).await.expect("delivered");
        let sent = sender.email.sent();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].subject, "Demande reçue");
        assert!(!sent[0].body.contains("https://"), "{}", sent[0].body);
    }
}

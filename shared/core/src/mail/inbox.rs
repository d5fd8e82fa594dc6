//! The support mailbox: what the desk does with each mail SES received, once it is read
//! (`guichet_edge::mail`). The mail-in function is its driver: it reads the raw mail the
//! receipt notification names, and calls [`Inbox::receive`] with SES's verdicts.
//!
//! In the order the rules apply:
//! 1. **Once.** A mail already filed (SQS delivered it twice, or it was addressed to two of our
//!    addresses) is answered from its record, and nothing is written or sent again.
//! 2. **Quarantine.** A virus or spam verdict sets the raw mail aside; nobody reads it.
//! 3. **Automatons.** A bounce, an auto-reply, a list's copy or a mail from our own domain is
//!    kept for staff, never taken for a player's question, never answered (RFC 3834).
//! 4. **Which ticket** (`mail::threading`), then **who wrote** (`mail::sender`): the mail
//!    counts as the player's only when `From` is their address on file and SES's verdicts
//!    authenticate it. The threat is an account takeover by mail: a mail that merely claims the
//!    player's address never speaks for them.
//!    - The player's mail on one of their tickets is their answer on it, with the rules of
//!      `POST /tickets/{reference}/messages` (an answer to a closed ticket opens a new one).
//!    - The player's mail on nothing opens a ticket on the e-mail channel's response target.
//!    - Anything else is kept for staff, with the ticket it names if it names one, and the
//!      sender gets a fixed acknowledgement that says nothing of accounts or tickets.
//! 5. **Acknowledgements** follow RFC 3834 (`mail::loops`), at most one a day per sender, and
//!    carry `Auto-Submitted: auto-replied`. None is sent to a sender whose mail fails DMARC:
//!    the address is likely spoofed, and its owner never wrote to us.
//!
//! Every step is safe to repeat: a new ticket is opened under the idempotency key
//! `mail:<id>`, an answer is written with the mail's id and found on a second try, a kept mail
//! is written once, an acknowledgement is claimed per sender and day before it is sent. The
//! record of what was done is written last.
//!
//! Nothing in a log names a sender, a subject or a text: spans carry the mail id, the ticket
//! and the outcome.

use crate::attachments::ports::AttachmentStore;
use crate::attachments::service::{AttachmentError, Attachments};
use crate::common::contact::ContactAddress;
use crate::common::player::Author;
use crate::common::player::{Language, PlayerId};
use crate::common::reference::TicketReference;
use crate::common::store::StoreError;
use crate::documents::ports::DocumentStorage;
use crate::documents::rules::ContentType;
use crate::mail::body::{reply_text, within};
use crate::mail::loops::{AutoReply, Suppressed, ACK_HEADER, ACK_INTERVAL};
use crate::mail::message::{InboundMail, MailAddress};
use crate::mail::ports::{Filed, HeldMail, HeldReason, MailId, Mailroom, OutgoingMail, RawMail};
use crate::mail::reply_address::{ReplyKey, ReplyMailbox};
use crate::mail::sender::{Trust, UnverifiedReason, Verdicts};
use crate::mail::threading::{answered_ids, Thread};
use crate::notifications::ports::{Email, EmailError, EmailSender};
use crate::tickets::desk::{Desk, IntakeError, Submitted};
use crate::tickets::intake::{TicketRequest, DESCRIPTION_MAX, SUBJECT_MAX, SUBJECT_MIN};
use crate::tickets::ports::{IdempotencyKey, TicketStore};
use crate::tickets::staff::StaffError;
use crate::tickets::ticket::{Category, Channel, TicketStatus};
use crate::tickets::workflow::{MessageBody, WorkflowError};

/// The fixed answer to a mail the desk cannot take for a player's: it names no ticket, no
/// account and nothing of the mail (whose subject and text came from anyone), in both
/// languages since nothing tells us the sender's.
pub const SAFE_ACK_SUBJECT: &str = "Nous avons reçu votre message / We received your message";
pub const SAFE_ACK_BODY: &str = "Bonjour,\n\n\
Nous avons bien reçu votre message. Pour protéger les comptes de nos joueurs, nous ne donnons \
suite par courriel qu'aux messages envoyés depuis l'adresse enregistrée au dossier. Pour toute \
question sur un compte, écrivez-nous depuis cette adresse ou utilisez le formulaire de soutien \
de votre espace joueur.\n\n\
L'équipe du soutien\n\n\
---\n\n\
Hello,\n\n\
We have received your message. To protect our players' accounts, we follow up by e-mail only \
on messages sent from the address on file. For any question about an account, write to us from \
that address or use the support form in your player area.\n\n\
The support team\n";

/// The subject of a ticket opened by a mail without one (or with too short a one).
const NO_SUBJECT: &str = "(sans objet)";
/// The text of a mail without any (attachments only, an empty body).
const NO_TEXT: &str = "(courriel sans texte)";

/// How many players an address is looked up for: two is enough to know it is shared.
const ADDRESS_LOOKUP_LIMIT: u8 = 2;

/// What SES's receipt notification says of a mail: what the mail itself cannot prove.
#[derive(Debug, Clone)]
pub struct Arrival {
    pub id: MailId,
    /// The recipients SES received the mail for (`receipt.recipients`): the envelope, which
    /// may name a signed reply address the headers do not (a `Bcc`, a forward).
    pub envelope: Vec<MailAddress>,
    pub verdicts: Verdicts,
}

/// What [`Inbox::receive`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub filed: Filed,
    /// An earlier delivery filed it: nothing was written or sent now.
    pub duplicate: bool,
}

/// Why a mail could not be filed now; every cause is worth a retry (the queue redelivers, then
/// dead-letters).
#[derive(Debug, thiserror::Error)]
pub enum InboxError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the ticket could not be opened")]
    Intake(#[source] IntakeError),
    #[error("the answer could not be written")]
    Answer(#[source] StaffError),
    #[error("the acknowledgement was not sent")]
    Email(#[source] EmailError),
    #[error("an attachment could not be recorded or stored")]
    Attachment(#[source] AttachmentError),
}

/// The mailbox's ports and settings; built once per container.
pub struct Inbox<S, M, R, E, A, D> {
    pub desk: Desk<S>,
    pub mailroom: M,
    pub raw: R,
    pub email: E,
    /// The player's attachments go through the same records and checks as an upload.
    pub attachments: Attachments<A, D>,
    pub key: ReplyKey,
    pub mailbox: ReplyMailbox,
    /// The desk's verified sender address, which acknowledgements are sent from.
    pub from: String,
}

/// Who the mail speaks for, once the ticket it names and the sender are weighed.
enum Decision {
    Answer {
        player: PlayerId,
        reference: TicketReference,
    },
    Open {
        player: PlayerId,
    },
    Hold {
        reason: HeldReason,
        ticket: Option<TicketReference>,
    },
}

impl<S, M, R, E, A, D> Inbox<S, M, R, E, A, D>
where
    S: TicketStore,
    M: Mailroom + OutgoingMail,
    R: RawMail,
    E: EmailSender,
    A: AttachmentStore,
    D: DocumentStorage,
{
    /// What the desk did with this mail, if it filed it already.
    pub async fn filed(&self, id: &MailId) -> Result<Option<Filed>, StoreError> {
        self.mailroom.filed(id).await
    }

    /// Files one received mail (see the module documentation); `None` when its MIME could not
    /// be read (too large, not a mail): it is kept for staff, who have the raw mail.
    pub async fn receive(
        &self,
        arrival: &Arrival,
        mail: Option<&InboundMail>,
    ) -> Result<Received, InboxError> {
        if let Some(filed) = self.mailroom.filed(&arrival.id).await? {
            return Ok(Received {
                filed,
                duplicate: true,
            });
        }
        let filed = match mail {
            Some(mail) => self.file(arrival, mail).await?,
            None => {
                // Spam and viruses are set aside even unread; the rest waits for staff.
                if let Trust::Quarantine(reason) = Trust::of(None, None, arrival.verdicts) {
                    self.raw.quarantine(&arrival.id).await?;
                    Filed::Quarantined { reason }
                } else {
                    let unread = InboundMail::default();
                    self.hold(arrival, &unread, HeldReason::Unreadable, None, false)
                        .await?
                }
            }
        };
        let now = self.desk.clock.now();
        self.mailroom.record(&arrival.id, &filed, now).await?;
        Ok(Received {
            filed,
            duplicate: false,
        })
    }

    async fn file(&self, arrival: &Arrival, mail: &InboundMail) -> Result<Filed, InboxError> {
        // Spam and viruses first: nothing of such a mail is read, even to thread it.
        if let Trust::Quarantine(reason) = Trust::of(None, None, arrival.verdicts) {
            self.raw.quarantine(&arrival.id).await?;
            return Ok(Filed::Quarantined { reason });
        }
        let our_domains = [self.mailbox.domain()];
        let answerable = AutoReply::allowed(mail, &our_domains);
        if let Err(
            Suppressed::DeliveryReport
            | Suppressed::AutoSubmitted
            | Suppressed::Precedence
            | Suppressed::List
            | Suppressed::OwnDomain,
        ) = answerable
        {
            return self
                .hold(arrival, mail, HeldReason::Automatic, None, false)
                .await;
        }
        let decision = self.decide(arrival, mail).await?;
        if let (Decision::Answer { .. } | Decision::Open { .. }, Some(from)) =
            (&decision, &mail.from)
        {
            // The player wrote from this address, authenticated: it works, whatever bounced
            // before.
            self.mailroom.accept_again(from).await?;
        }
        let filed = match decision {
            Decision::Answer { player, reference } => {
                match self.answer(arrival, mail, &player, &reference).await? {
                    Some(filed) => filed,
                    // Closed: the player's mail is a new request.
                    None => self.open(arrival, mail, player, answerable.is_ok()).await?,
                }
            }
            Decision::Open { player } => {
                self.open(arrival, mail, player, answerable.is_ok()).await?
            }
            Decision::Hold { reason, ticket } => {
                // A mail that fails DMARC most likely names someone who never wrote to us:
                // answering it would send our mail to the spoofed address.
                let ack = answerable.is_ok() && reason != HeldReason::DmarcFailed;
                return self.hold(arrival, mail, reason, ticket, ack).await;
            }
        };
        if let Some(reference) = filed.reference() {
            self.attach(arrival, mail, reference).await?;
        }
        Ok(filed)
    }

    /// The player's attachments, on their ticket, through the attachment pipeline: an
    /// accepted type within the size limit is recorded and stored, and the document check
    /// decides on it as on any upload (a verification document among them reaches the
    /// player's case only through the verification team, who file it from the ticket). What
    /// the pipeline refuses (a type it does not take, a ticket already at its limit) stays in
    /// the raw mail, which staff have.
    async fn attach(
        &self,
        arrival: &Arrival,
        mail: &InboundMail,
        reference: &TicketReference,
    ) -> Result<(), InboxError> {
        for (index, part) in mail.attachments.iter().enumerate() {
            let Some(content_type) = ContentType::parse(&part.content_type) else {
                tracing::info!(index, "an attachment of a type the desk does not take");
                continue;
            };
            let origin = format!("mail:{}:{index}", arrival.id.as_str());
            let received = self
                .attachments
                .receive(
                    &Author::Player,
                    reference,
                    content_type,
                    &part.content.0,
                    &origin,
                )
                .await;
            match received {
                Ok(_) => {}
                Err(
                    error @ (AttachmentError::LimitReached { .. }
                    | AttachmentError::TicketClosed
                    | AttachmentError::TicketNotFound
                    | AttachmentError::Size),
                ) => {
                    tracing::info!(index, error = %error, "attachment kept in the mail only");
                }
                Err(error) => return Err(InboxError::Attachment(error)),
            }
        }
        Ok(())
    }

    /// Weighs the ticket the mail names against who sent it.
    async fn decide(&self, arrival: &Arrival, mail: &InboundMail) -> Result<Decision, InboxError> {
        let thread = self.thread(arrival, mail).await?;
        let Some(from) = mail.from.as_ref() else {
            return Ok(Decision::Hold {
                reason: HeldReason::NoSender,
                ticket: thread.reference().cloned(),
            });
        };
        if let Some(reference) = thread.reference() {
            if let Some(found) = self.desk.store.get(reference).await? {
                let player = found.ticket.player;
                let on_file = self.address_of(&player).await?;
                return Ok(
                    match Trust::of(Some(from), on_file.as_ref(), arrival.verdicts) {
                        Trust::Player => Decision::Answer {
                            player,
                            reference: reference.clone(),
                        },
                        trust => Decision::Hold {
                            reason: held_reason(trust),
                            ticket: Some(reference.clone()),
                        },
                    },
                );
            }
            // A reference that names no ticket (a typo in a subject, a forged one) is no
            // evidence: the mail is weighed as a new one.
        }
        let players = self.mailroom.players_at(from, ADDRESS_LOOKUP_LIMIT).await?;
        let player = match players.as_slice() {
            [player] => player.clone(),
            [] => {
                return Ok(Decision::Hold {
                    reason: HeldReason::UnknownSender,
                    ticket: None,
                })
            }
            _ => {
                return Ok(Decision::Hold {
                    reason: HeldReason::SharedAddress,
                    ticket: None,
                })
            }
        };
        // The index may lag the address on file: the address on file decides.
        let on_file = self.address_of(&player).await?;
        Ok(
            match Trust::of(Some(from), on_file.as_ref(), arrival.verdicts) {
                Trust::Player => Decision::Open { player },
                trust => Decision::Hold {
                    reason: held_reason(trust),
                    ticket: None,
                },
            },
        )
    }

    /// The ticket the mail continues, by the strongest evidence it carries; the envelope's
    /// recipients count as recipients too.
    async fn thread(&self, arrival: &Arrival, mail: &InboundMail) -> Result<Thread, InboxError> {
        let ids: Vec<&str> = answered_ids(mail)
            .into_iter()
            .filter_map(ses_message_id)
            .collect();
        let known = if ids.is_empty() {
            Vec::new()
        } else {
            self.mailroom.tickets_of_sent(&ids).await?
        };
        // Only what threading reads: the attachments' bytes (megabytes) are not copied.
        let mut addressed = InboundMail {
            to: mail.to.clone(),
            cc: mail.cc.clone(),
            subject: mail.subject.clone(),
            in_reply_to: mail.in_reply_to.clone(),
            references: mail.references.clone(),
            ..InboundMail::default()
        };
        for address in &arrival.envelope {
            if !addressed.recipients().any(|known| known == address) {
                addressed.cc.push(address.clone());
            }
        }
        Ok(Thread::of(&addressed, &self.key, &self.mailbox, |id| {
            let id = ses_message_id(id)?;
            known
                .iter()
                .find(|(sent, _)| sent == id)
                .map(|(_, reference)| reference.clone())
        }))
    }

    async fn address_of(&self, player: &PlayerId) -> Result<Option<MailAddress>, StoreError> {
        Ok(self
            .desk
            .store
            .contact_of(player)
            .await?
            .as_ref()
            .and_then(MailAddress::of_contact))
    }

    /// The player's answer on their ticket; `None` when the ticket is closed.
    async fn answer(
        &self,
        arrival: &Arrival,
        mail: &InboundMail,
        player: &PlayerId,
        reference: &TicketReference,
    ) -> Result<Option<Filed>, InboxError> {
        let text = within(reply_text(&mail.text), MessageBody::MAX_CHARS);
        let body = MessageBody::parse("text", &text)
            .or_else(|_| MessageBody::parse("text", NO_TEXT))
            .map_err(|error| {
                InboxError::Answer(StaffError::Workflow(WorkflowError::Invalid(error)))
            })?;
        match self
            .desk
            .answer_once(player, reference, body, &origin_of(&arrival.id))
            .await
        {
            Ok(_) => Ok(Some(Filed::Answered {
                reference: reference.clone(),
            })),
            Err(StaffError::Workflow(WorkflowError::NotWorkable {
                status: TicketStatus::Closed,
                ..
            })) => Ok(None),
            Err(error) => Err(InboxError::Answer(error)),
        }
    }

    /// A new ticket on the e-mail channel, acknowledged where the rules allow it.
    async fn open(
        &self,
        arrival: &Arrival,
        mail: &InboundMail,
        player: PlayerId,
        answerable: bool,
    ) -> Result<Filed, InboxError> {
        let acknowledged = match (&mail.from, answerable) {
            (Some(from), true) => {
                let now = self.desk.clock.now();
                self.mailroom.claim_ack(from, now, ACK_INTERVAL).await?
            }
            _ => false,
        };
        let request = ticket_request(mail);
        // `mail:<id>` is within the key's alphabet and length (a mail id is at most 100
        // characters of letters, digits and `-`).
        let key = IdempotencyKey::parse(&format!("mail:{}", arrival.id.as_str()));
        let submitted = self
            .desk
            .submit_with(player, request, key, None, acknowledged)
            .await
            .map_err(InboxError::Intake)?;
        let reference = match submitted {
            Submitted::Created(receipt, _) | Submitted::Replayed(receipt) => receipt.reference,
        };
        Ok(Filed::Opened {
            reference,
            acknowledged,
        })
    }

    /// Keeps the mail for staff and, where allowed, sends the safe acknowledgement.
    async fn hold(
        &self,
        arrival: &Arrival,
        mail: &InboundMail,
        reason: HeldReason,
        ticket: Option<TicketReference>,
        answerable: bool,
    ) -> Result<Filed, InboxError> {
        let now = self.desk.clock.now();
        self.mailroom
            .hold(&HeldMail {
                id: arrival.id.clone(),
                received_at: now,
                reason,
                from: mail.from.clone(),
                ticket: ticket.clone(),
                subject: within(mail.subject.trim(), SUBJECT_MAX),
                text: within(&mail.text, DESCRIPTION_MAX),
                attachments: mail.attachments.len(),
            })
            .await?;
        let acknowledged = match (&mail.from, answerable) {
            (Some(from), true) => self.safe_ack(from).await?,
            _ => false,
        };
        Ok(Filed::Held {
            reason,
            ticket,
            acknowledged,
        })
    }

    /// The fixed acknowledgement, at most once a day per sender: claimed, then sent; a failed
    /// send gives the claim back so that the retry may send it.
    async fn safe_ack(&self, to: &MailAddress) -> Result<bool, InboxError> {
        let Some(recipient) = ContactAddress::parse(to.expose()) else {
            return Ok(false);
        };
        let now = self.desk.clock.now();
        if !self.mailroom.claim_ack(to, now, ACK_INTERVAL).await? {
            return Ok(false);
        }
        let email = Email {
            from: &self.from,
            to: &recipient,
            subject: SAFE_ACK_SUBJECT,
            body: SAFE_ACK_BODY,
            reply_to: None,
            auto_submitted: ACK_HEADER.1,
        };
        if let Err(error) = self.email.send(email).await {
            if let Err(release) = self.mailroom.release_ack(to, now).await {
                tracing::warn!(error = %release, "acknowledgement claim not released");
            }
            return Err(InboxError::Email(error));
        }
        Ok(true)
    }
}

/// The request a player's new mail makes: on the e-mail channel, in French until an agent
/// knows better (the desk's first language), as a `technical` request, the first-line team's,
/// which an agent hands to a specialist team if it is theirs: a mail says nothing reliable of
/// its category.
fn ticket_request(mail: &InboundMail) -> TicketRequest {
    let subject = within(mail.subject.trim(), SUBJECT_MAX);
    let subject = if subject.chars().count() < SUBJECT_MIN {
        NO_SUBJECT.to_owned()
    } else {
        subject
    };
    let text = mail.text.trim();
    let description = if text.chars().count() < crate::tickets::intake::DESCRIPTION_MIN {
        format!("{NO_TEXT}\n{text}").trim_end().to_owned()
    } else {
        within(text, DESCRIPTION_MAX)
    };
    TicketRequest {
        channel: Channel::Email,
        category: Category::Technical,
        subject,
        description,
        language: Language::Fr,
        incident: None,
    }
}

/// The id SES gave a mail we sent, from a message id as an answer quotes it
/// (`0100019…-000000@email.amazonses.com`): the part before `@`, for our ids only.
fn ses_message_id(id: &str) -> Option<&str> {
    let (local, domain) = id.split_once('@')?;
    let domain = domain.to_ascii_lowercase();
    (domain == "amazonses.com" || domain.ends_with(".amazonses.com"))
        .then_some(local)
        .filter(|local| !local.is_empty())
}

/// What a message that came in on mail `id` records as its origin.
fn origin_of(id: &MailId) -> String {
    format!("mail:{}", id.as_str())
}

fn held_reason(trust: Trust) -> HeldReason {
    match trust {
        Trust::Unverified(UnverifiedReason::NoSender) => HeldReason::NoSender,
        Trust::Unverified(UnverifiedReason::NoAddressOnFile) => HeldReason::UnknownSender,
        Trust::Unverified(UnverifiedReason::OtherAddress) => HeldReason::OtherAddress,
        Trust::Unverified(UnverifiedReason::DmarcFailed) => HeldReason::DmarcFailed,
        Trust::Unverified(UnverifiedReason::NotAuthenticated) => HeldReason::NotAuthenticated,
        // Quarantine is decided before any ticket is weighed, and a player is not held.
        Trust::Quarantine(_) | Trust::Player => HeldReason::NotAuthenticated,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::access::{Actor, Role};
    use crate::common::clock::Clock;
    use crate::mail::memory::{MemoryMailroom, MemoryRawMail};
    use crate::mail::ports::OutgoingMail;
    use crate::mail::reply_address::reply_address;
    use crate::mail::sender::{QuarantineReason, Verdict};
    use crate::notifications::memory::MemoryEmailSender;
    use crate::outbox::rules::Destination;
    use crate::tickets::memory::{desk_with_clock, FixedClock, MemoryTicketStore};
    use crate::tickets::ticket::Team;
    use crate::tickets::workflow;

    const NOW: &str = "2026-12-03T15:00:00Z";
    const PLAYER_ADDRESS: &str = "joueur@exemple.ca";

    type TestInbox = Inbox<
        MemoryTicketStore,
        MemoryMailroom,
        MemoryRawMail,
        MemoryEmailSender,
        crate::attachments::memory::MemoryAttachmentStore,
        crate::documents::memory::MemoryDocumentStorage,
    >;

    fn address(raw: &str) -> MailAddress {
        MailAddress::parse(raw).expect("valid")
    }

    fn player() -> PlayerId {
        PlayerId::parse("p-100").expect("valid")
    }

    fn inbox(clock: &FixedClock) -> TestInbox {
        Inbox {
            desk: desk_with_clock(clock.clone()),
            mailroom: MemoryMailroom::default(),
            raw: MemoryRawMail::default(),
            email: MemoryEmailSender::default(),
            attachments: crate::attachments::memory::attachments(NOW),
            key: ReplyKey::parse(&[9u8; 32]).expect("32 bytes"),
            mailbox: ReplyMailbox::parse("soutien", "guichet.example").expect("valid"),
            from: "soutien@guichet.example".into(),
        }
    }

    /// The player files a form ticket with their address (which puts it on file, as a token's
    /// `email` claim does), and the contact index lists it.
    async fn with_form_ticket(inbox: &TestInbox) -> TicketReference {
        let request = TicketRequest {
            channel: Channel::Form,
            category: Category::Technical,
            subject: "Jeu figé".into(),
            description: "Le jeu se fige au chargement.".into(),
            language: Language::Fr,
            incident: None,
        };
        let contact = ContactAddress::parse(PLAYER_ADDRESS).expect("valid");
        let submitted = inbox
            .desk
            .submit(player(), request, None, Some(contact))
            .await
            .expect("submitted");
        inbox.mailroom.index(&address(PLAYER_ADDRESS), &player());
        match submitted {
            Submitted::Created(receipt, _) | Submitted::Replayed(receipt) => receipt.reference,
        }
    }

    fn authenticated() -> Verdicts {
        Verdicts {
            spf: Verdict::Pass,
            dkim: Verdict::Pass,
            dmarc: Verdict::Pass,
            spam: Verdict::Pass,
            virus: Verdict::Pass,
            aligned: true,
        }
    }

    fn arrival(id: &str, verdicts: Verdicts) -> Arrival {
        Arrival {
            id: MailId::parse(id).expect("valid"),
            envelope: vec![address("soutien@guichet.example")],
            verdicts,
        }
    }

    fn mail_from(from: &str, subject: &str, text: &str) -> InboundMail {
        InboundMail {
            message_id: Some("m1@exemple.ca".into()),
            from: Some(address(from)),
            to: vec![address("soutien@guichet.example")],
            subject: subject.into(),
            text: text.into(),
            ..InboundMail::default()
        }
    }

    fn ticket_of(filed: &Filed) -> TicketReference {
        filed.reference().cloned().expect("a ticket")
    }

    async fn stored(
        inbox: &TestInbox,
        reference: &TicketReference,
    ) -> crate::tickets::ports::TicketWithHistory {
        inbox
            .desk
            .store
            .get(reference)
            .await
            .expect("read")
            .expect("stored")
    }

    /// Whether the ticket's "received" notification is on its way by e-mail.
    fn acknowledgement_queued(inbox: &TestInbox, reference: &TicketReference) -> bool {
        inbox
            .desk
            .store
            .outbox()
            .iter()
            .any(|m| m.destination == Destination::Notifications && m.group == reference.as_str())
    }

    #[tokio::test]
    async fn the_players_new_mail_opens_an_email_ticket_once() {
        let clock = FixedClock::at(NOW);
        let inbox = inbox(&clock);
        let _ = with_form_ticket(&inbox).await;
        let mail = mail_from(
            PLAYER_ADDRESS,
            "Retrait en attente",
            "Bonjour,\nmon retrait est en attente depuis mardi.",
        );
        let first = inbox
            .receive(&arrival("mail-1", authenticated()), Some(&mail))
            .await
            .expect("filed");
        assert!(!first.duplicate);
        assert!(
            matches!(
                first.filed,
                Filed::Opened {
                    acknowledged: true,
                    ..
                }
            ),
            "{first:?}"
        );
        let reference = ticket_of(&first.filed);
        let found = stored(&inbox, &reference).await;
        assert_eq!(found.ticket.channel, Channel::Email);
        assert_eq!(found.ticket.player, player());
        assert_eq!(found.ticket.subject, "Retrait en attente");
        assert!(found.ticket.description.contains("depuis mardi"));
        assert!(acknowledgement_queued(&inbox, &reference));

        // SQS delivers it again, or it was sent to two of our addresses: nothing new.
        let tickets = inbox.desk.store.ticket_count();
        let again = inbox
            .receive(&arrival("mail-1", authenticated()), Some(&mail))
            .await
            .expect("filed");
        assert!(again.duplicate);
        assert_eq!(again.filed, first.filed);
        assert_eq!(inbox.desk.store.ticket_count(), tickets);
    }

    #[tokio::test]
    async fn the_players_authenticated_mail_lifts_a_bounce() {
        let clock = FixedClock::at(NOW);
        let inbox = inbox(&clock);
        let _ = with_form_ticket(&inbox).await;
        let address = address(PLAYER_ADDRESS);
        inbox
            .mailroom
            .refuse(&address, crate::mail::ports::Refusal::Bounce, clock.now())
            .await
            .expect("refused");
        inbox
            .receive(
                &arrival("mail-30", authenticated()),
                Some(&mail_from(
                    PLAYER_ADDRESS,
                    "De retour",
                    "Ma boîte fonctionne de nouveau.",
                )),
            )
            .await
            .expect("filed");
        assert_eq!(inbox.mailroom.refused(&address).await.expect("read"), None);
    }

    #[tokio::test]
    async fn the_players_attachments_go_through_the_upload_checks_once() {
        use crate::attachments::ports::AttachmentStore;
        use crate::mail::message::{Content, MailAttachment};
        let clock = FixedClock::at(NOW);
        let inbox = inbox(&clock);
        let _ = with_form_ticket(&inbox).await;
        let png = crate::attachments::memory::png_bytes(120);
        let mail = InboundMail {
            attachments: vec![
                MailAttachment {
                    file_name: Some("erreur.png".into()),
                    content_type: "image/png".into(),
                    size: 120,
                    content: Content(png.clone()),
                },
                MailAttachment {
                    file_name: Some("outil.exe".into()),
                    content_type: "application/x-msdownload".into(),
                    size: 4,
                    content: Content(b"MZ\0\0".to_vec()),
                },
            ],
            ..mail_from(
                PLAYER_ADDRESS,
                "Capture d'écran",
                "Voici l'erreur affichée.",
            )
        };
        let received = inbox
            .receive(&arrival("mail-40", authenticated()), Some(&mail))
            .await
            .expect("filed");
        let reference = ticket_of(&received.filed);
        let listed = inbox
            .attachments
            .store
            .attachments_of(&reference)
            .await
            .expect("read");
        assert_eq!(listed.len(), 1, "the PNG only: {listed:?}");
        assert_eq!(listed[0].content_type, ContentType::Png);
        assert_eq!(listed[0].issued_by, Author::Player);
        // Stored where an upload would be: the bucket announces it to the document check.
        assert_eq!(
            inbox.attachments.storage.keys(),
            vec![listed[0].key.clone()]
        );

        // The mail again, before its record: the same attachment, nothing more.
        inbox
            .file(&arrival("mail-40", authenticated()), &mail)
            .await
            .expect("filed");
        let again = inbox
            .attachments
            .store
            .attachments_of(&reference)
            .await
            .expect("read");
        assert_eq!(again.len(), 1);
        assert_eq!(inbox.attachments.storage.keys().len(), 1);
    }

    #[tokio::test]
    async fn a_crash_before_the_record_opens_no_second_ticket() {
        let clock = FixedClock::at(NOW);
        let inbox = inbox(&clock);
        let _ = with_form_ticket(&inbox).await;
        let mail = mail_from(PLAYER_ADDRESS, "Question", "Une question sur mon compte.");
        let first = inbox
            .file(&arrival("mail-2", authenticated()), &mail)
            .await
            .expect("filed");
        // The record was never written: the redelivery files the mail again.
        let tickets = inbox.desk.store.ticket_count();
        let again = inbox
            .receive(&arrival("mail-2", authenticated()), Some(&mail))
            .await
            .expect("filed");
        assert_eq!(again.filed.reference(), first.reference());
        assert_eq!(inbox.desk.store.ticket_count(), tickets);
    }

    #[tokio::test]
    async fn a_spoofed_from_never_speaks_for_the_player() {
        let clock = FixedClock::at(NOW);
        let inbox = inbox(&clock);
        let reference = with_form_ticket(&inbox).await;
        let spoofed = Verdicts {
            dmarc: Verdict::Fail,
            ..authenticated()
        };
        let mail = mail_from(
            PLAYER_ADDRESS,
            &format!("Re: {reference}"),
            "Changez mon adresse de retrait pour ce compte-ci.",
        );
        let tickets = inbox.desk.store.ticket_count();
        let received = inbox
            .receive(&arrival("mail-3", spoofed), Some(&mail))
            .await
            .expect("filed");
        assert_eq!(
            received.filed,
            Filed::Held {
                reason: HeldReason::DmarcFailed,
                ticket: Some(reference.clone()),
                acknowledged: false,
            }
        );
        assert_eq!(inbox.desk.store.ticket_count(), tickets);
        assert!(stored(&inbox, &reference).await.messages.is_empty());
        // Nobody is answered: the address's owner never wrote.
        assert!(inbox.email.sent().is_empty());
        let held = inbox.mailroom.held();
        assert_eq!(held.len(), 1);
        assert_eq!(held[0].reason, HeldReason::DmarcFailed);
    }

    #[tokio::test]
    async fn a_stranger_gets_one_safe_acknowledgement_a_day() {
        let clock = FixedClock::at(NOW);
        let inbox = inbox(&clock);
        let _ = with_form_ticket(&inbox).await;
        let mail = mail_from(
            "inconnu@ailleurs.ca",
            "Mon compte joueur@exemple.ca",
            "Je n'ai plus accès, envoyez-moi le lien ici.",
        );
        let first = inbox
            .receive(&arrival("mail-4", authenticated()), Some(&mail))
            .await
            .expect("filed");
        assert_eq!(
            first.filed,
            Filed::Held {
                reason: HeldReason::UnknownSender,
                ticket: None,
                acknowledged: true,
            }
        );
        let sent = inbox.email.sent();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].to, "inconnu@ailleurs.ca");
        assert_eq!(sent[0].subject, SAFE_ACK_SUBJECT);
        assert_eq!(sent[0].body, SAFE_ACK_BODY);
        assert_eq!(sent[0].auto_submitted, "auto-replied");
        // Nothing the stranger wrote comes back to them, nor anything of the account.
        assert!(!sent[0].body.contains("joueur@exemple.ca"));

        clock.set("2026-12-03T20:00:00Z".parse().expect("valid"));
        let second = inbox
            .receive(&arrival("mail-5", authenticated()), Some(&mail))
            .await
            .expect("filed");
        assert!(matches!(
            second.filed,
            Filed::Held {
                acknowledged: false,
                ..
            }
        ));
        assert_eq!(inbox.email.sent().len(), 1);
        clock.set("2026-12-04T15:00:00Z".parse().expect("valid"));
        inbox
            .receive(&arrival("mail-6", authenticated()), Some(&mail))
            .await
            .expect("filed");
        assert_eq!(inbox.email.sent().len(), 2);
    }

    #[tokio::test]
    async fn a_failed_acknowledgement_is_sent_by_the_retry() {
        let clock = FixedClock::at(NOW);
        let inbox = inbox(&clock);
        let mail = mail_from("inconnu@ailleurs.ca", "Bonjour", "Une question générale.");
        inbox.email.fail_next(1);
        let failed = inbox
            .receive(&arrival("mail-7", authenticated()), Some(&mail))
            .await;
        assert!(matches!(failed, Err(InboxError::Email(_))), "{failed:?}");
        let retried = inbox
            .receive(&arrival("mail-7", authenticated()), Some(&mail))
            .await
            .expect("filed");
        assert!(matches!(
            retried.filed,
            Filed::Held {
                acknowledged: true,
                ..
            }
        ));
        assert_eq!(inbox.email.sent().len(), 1);
        assert_eq!(inbox.mailroom.held().len(), 1);
    }

    async fn waiting_on_player(inbox: &TestInbox, reference: &TicketReference) {
        let agent = Actor {
            subject: PlayerId::parse("agent-1").expect("valid"),
            roles: vec![Role::Agent],
            teams: vec![Team::Technical],
            email: None,
        };
        inbox
            .desk
            .work_on(&agent, reference, None, |t, now| {
                workflow::change_status(
                    t,
                    t.version,
                    TicketStatus::WaitingOnPlayer,
                    "agent-1",
                    None,
                    now,
                )
            })
            .await
            .expect("waiting");
    }

    #[tokio::test]
    async fn an_answer_to_the_reply_address_is_the_players_answer_once() {
        let clock = FixedClock::at(NOW);
        let inbox = inbox(&clock);
        let reference = with_form_ticket(&inbox).await;
        waiting_on_player(&inbox, &reference).await;
        let reply_to = reply_address(&inbox.key, &inbox.mailbox, &reference);
        let mail = InboundMail {
            to: vec![reply_to],
            ..mail_from(
                PLAYER_ADDRESS,
                "Re: Nous avons besoin de vous",
                "Voici la capture demandée.\n\nLe 3 déc. 2026, Soutien a écrit :\n> Pouvez-vous ?",
            )
        };
        let received = inbox
            .receive(&arrival("mail-8", authenticated()), Some(&mail))
            .await
            .expect("filed");
        assert_eq!(
            received.filed,
            Filed::Answered {
                reference: reference.clone()
            }
        );
        let found = stored(&inbox, &reference).await;
        assert_eq!(found.ticket.status, TicketStatus::Open);
        assert_eq!(found.messages.len(), 1);
        assert_eq!(found.messages[0].body, "Voici la capture demandée.");
        assert_eq!(found.messages[0].origin.as_deref(), Some("mail:mail-8"));

        // Delivered again before its record was written: the message is found on the ticket.
        inbox
            .file(&arrival("mail-8", authenticated()), &mail)
            .await
            .expect("filed");
        assert_eq!(stored(&inbox, &reference).await.messages.len(), 1);
    }

    #[tokio::test]
    async fn an_answer_keeping_in_reply_to_threads_by_our_message_id() {
        let clock = FixedClock::at(NOW);
        let inbox = inbox(&clock);
        let reference = with_form_ticket(&inbox).await;
        inbox
            .mailroom
            .record_sent("0100019abc-def", &reference, clock.now())
            .await
            .expect("recorded");
        let mail = InboundMail {
            in_reply_to: vec!["0100019abc-def@email.amazonses.com".into()],
            ..mail_from(PLAYER_ADDRESS, "Re: votre demande", "Toujours bloqué.")
        };
        let received = inbox
            .receive(&arrival("mail-9", authenticated()), Some(&mail))
            .await
            .expect("filed");
        assert_eq!(received.filed, Filed::Answered { reference });
    }

    #[tokio::test]
    async fn a_reference_in_the_subject_threads_only_the_players_own_mail() {
        let clock = FixedClock::at(NOW);
        let inbox = inbox(&clock);
        let reference = with_form_ticket(&inbox).await;
        let mail = mail_from(
            PLAYER_ADDRESS,
            &format!("Re: Demande {reference} reçue"),
            "J'ai trouvé le numéro de transaction.",
        );
        let answered = inbox
            .receive(&arrival("mail-10", authenticated()), Some(&mail))
            .await
            .expect("filed");
        assert_eq!(
            answered.filed,
            Filed::Answered {
                reference: reference.clone()
            }
        );
        let stranger = mail_from(
            "autre@ailleurs.ca",
            &format!("Re: Demande {reference} reçue"),
            "Fermez ce dossier.",
        );
        let held = inbox
            .receive(&arrival("mail-11", authenticated()), Some(&stranger))
            .await
            .expect("filed");
        assert_eq!(
            held.filed,
            Filed::Held {
                reason: HeldReason::OtherAddress,
                ticket: Some(reference.clone()),
                acknowledged: true,
            }
        );
        assert_eq!(stored(&inbox, &reference).await.messages.len(), 1);
    }

    #[tokio::test]
    async fn an_answer_to_a_closed_ticket_opens_a_new_one() {
        let clock = FixedClock::at(NOW);
        let inbox = inbox(&clock);
        let reference = with_form_ticket(&inbox).await;
        inbox
            .desk
            .store
            .tamper(&reference, |t| t.status = TicketStatus::Closed);
        let mail = InboundMail {
            to: vec![reply_address(&inbox.key, &inbox.mailbox, &reference)],
            ..mail_from(
                PLAYER_ADDRESS,
                "Re: résolu ?",
                "Le problème est revenu ce matin.",
            )
        };
        let received = inbox
            .receive(&arrival("mail-12", authenticated()), Some(&mail))
            .await
            .expect("filed");
        let Filed::Opened { reference: new, .. } = received.filed else {
            panic!("{received:?}")
        };
        assert_ne!(new, reference);
    }

    #[tokio::test]
    async fn automatons_are_kept_for_staff_and_never_answered() {
        let clock = FixedClock::at(NOW);
        let inbox = inbox(&clock);
        let reference = with_form_ticket(&inbox).await;
        let out_of_office = InboundMail {
            auto_submitted: Some("auto-replied".into()),
            to: vec![reply_address(&inbox.key, &inbox.mailbox, &reference)],
            ..mail_from(
                PLAYER_ADDRESS,
                "Absent du bureau",
                "Je suis absent jusqu'au 10.",
            )
        };
        let received = inbox
            .receive(&arrival("mail-13", authenticated()), Some(&out_of_office))
            .await
            .expect("filed");
        assert_eq!(
            received.filed,
            Filed::Held {
                reason: HeldReason::Automatic,
                ticket: None,
                acknowledged: false,
            }
        );
        assert!(stored(&inbox, &reference).await.messages.is_empty());
        let bounce = InboundMail {
            is_delivery_report: true,
            ..mail_from(
                "mailer-daemon@exemple.ca",
                "Undelivered",
                "550 no such user",
            )
        };
        inbox
            .receive(&arrival("mail-14", authenticated()), Some(&bounce))
            .await
            .expect("filed");
        let ours = mail_from("soutien@guichet.example", "Boucle", "Notre propre message.");
        inbox
            .receive(&arrival("mail-15", authenticated()), Some(&ours))
            .await
            .expect("filed");
        assert!(inbox.email.sent().is_empty());
        assert_eq!(inbox.mailroom.held().len(), 3);
    }

    #[tokio::test]
    async fn spam_and_viruses_are_quarantined_unread() {
        let clock = FixedClock::at(NOW);
        let inbox = inbox(&clock);
        let _ = with_form_ticket(&inbox).await;
        let virus = Verdicts {
            virus: Verdict::Fail,
            ..authenticated()
        };
        let mail = mail_from(PLAYER_ADDRESS, "Facture", "Voir la pièce jointe.");
        let received = inbox
            .receive(&arrival("mail-16", virus), Some(&mail))
            .await
            .expect("filed");
        assert_eq!(
            received.filed,
            Filed::Quarantined {
                reason: QuarantineReason::Virus
            }
        );
        assert_eq!(
            inbox.raw.quarantined(),
            vec![MailId::parse("mail-16").expect("valid")]
        );
        assert!(inbox.mailroom.held().is_empty());
        assert!(inbox.email.sent().is_empty());
    }

    #[tokio::test]
    async fn the_second_new_mail_of_the_day_is_not_acknowledged_by_email() {
        let clock = FixedClock::at(NOW);
        let inbox = inbox(&clock);
        let _ = with_form_ticket(&inbox).await;
        let first = inbox
            .receive(
                &arrival("mail-17", authenticated()),
                Some(&mail_from(
                    PLAYER_ADDRESS,
                    "Premier sujet",
                    "Une première question ici.",
                )),
            )
            .await
            .expect("filed");
        let second = inbox
            .receive(
                &arrival("mail-18", authenticated()),
                Some(&mail_from(
                    PLAYER_ADDRESS,
                    "Second sujet",
                    "Une seconde question ici.",
                )),
            )
            .await
            .expect("filed");
        assert!(matches!(
            first.filed,
            Filed::Opened {
                acknowledged: true,
                ..
            }
        ));
        let Filed::Opened {
            reference,
            acknowledged: false,
        } = second.filed
        else {
            panic!("{second:?}")
        };
        assert!(!acknowledgement_queued(&inbox, &reference));
        // The player still reads it on the ticket.
        assert_eq!(stored(&inbox, &reference).await.notifications.len(), 1);
    }

    #[tokio::test]
    async fn an_address_on_two_players_files_speaks_for_neither() {
        let clock = FixedClock::at(NOW);
        let inbox = inbox(&clock);
        let _ = with_form_ticket(&inbox).await;
        inbox.mailroom.index(
            &address(PLAYER_ADDRESS),
            &PlayerId::parse("p-200").expect("valid"),
        );
        let received = inbox
            .receive(
                &arrival("mail-19", authenticated()),
                Some(&mail_from(
                    PLAYER_ADDRESS,
                    "Question",
                    "Une question sur le solde.",
                )),
            )
            .await
            .expect("filed");
        assert!(matches!(
            received.filed,
            Filed::Held {
                reason: HeldReason::SharedAddress,
                ..
            }
        ));
    }

    #[tokio::test]
    async fn an_unreadable_mail_waits_for_staff_and_a_duplicate_changes_nothing() {
        let clock = FixedClock::at(NOW);
        let inbox = inbox(&clock);
        let received = inbox
            .receive(&arrival("mail-20", authenticated()), None)
            .await
            .expect("filed");
        assert_eq!(
            received.filed,
            Filed::Held {
                reason: HeldReason::Unreadable,
                ticket: None,
                acknowledged: false,
            }
        );
        let again = inbox
            .receive(&arrival("mail-20", authenticated()), None)
            .await
            .expect("filed");
        assert!(again.duplicate);
        assert_eq!(inbox.mailroom.held().len(), 1);
        assert_eq!(inbox.mailroom.filed_count(), 1);
        let infected = Verdicts {
            virus: Verdict::Fail,
            ..authenticated()
        };
        let quarantined = inbox
            .receive(&arrival("mail-21", infected), None)
            .await
            .expect("filed");
        assert!(matches!(quarantined.filed, Filed::Quarantined { .. }));
    }

    #[test]
    fn only_our_senders_ids_are_looked_up() {
        assert_eq!(
            ses_message_id("0100019abc@email.amazonses.com"),
            Some("0100019abc")
        );
        assert_eq!(
            ses_message_id("0100019abc@eu-west-1.AmazonSES.com"),
            Some("0100019abc")
        );
        assert_eq!(ses_message_id("abc@mail.gmail.com"), None);
        assert_eq!(ses_message_id("abc@evilamazonses.com"), None);
        assert_eq!(ses_message_id("@email.amazonses.com"), None);
        assert_eq!(ses_message_id("no-domain"), None);
    }
}

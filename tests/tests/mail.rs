//! E-mail end to end, through the emulator: a player's mail is stored where SES's receipt rule
//! stores it and announced on the inbound-mail queue as SES announces it
//! (`guichet_local::inbound`); mail-in files it; an agent's reply goes out through SES with the
//! ticket's signed reply address; the player's answer threads back onto the ticket; a spoofed
//! mail never speaks for the player; a bounce stops the mail and flags the ticket.

use guichet_core::common::access::{Actor, Role};
use guichet_core::common::contact::ContactAddress;
use guichet_core::common::player::PlayerId;
use guichet_core::common::reference::TicketReference;
use guichet_core::mail::feedback::REFUSED_LINE;
use guichet_core::mail::message::MailAddress;
use guichet_core::mail::ports::{Filed, HeldReason, MailId, Mailroom};
use guichet_core::mail::reply_address::reply_address;
use guichet_core::tickets::intake::TicketRequest;
use guichet_core::tickets::ports::TicketStore;
use guichet_core::tickets::ticket::{Channel, Team, TicketStatus};
use guichet_core::tickets::workflow::{self, MessageBody};
use guichet_local::consumers::Consumers;
use guichet_local::inbound::{announce, deliver, receipt_message, Verdicts};
use guichet_tests::{emails_to, LocalApi, Stack, MAIL_DOMAIN, MAIL_MAILBOX};
use serde_json::json;

struct Fixture {
    /// The local API on its own stack: staff read the held mail through it.
    api: LocalApi,
    consumers: Consumers,
    player: PlayerId,
    address: String,
}

impl Fixture {
    async fn new() -> Fixture {
        let api = LocalApi::start().await;
        let stack = &api.stack;
        // The emulator applies the bucket policy's Deny statements without their conditions
        // (`shared/emulator-notes.md`): storing the mail as SES does, and quarantining it,
        // would be refused.
        stack.remove_bucket_policy_for_object_access().await;
        let consumers = stack
            .consumers(&[
                ("InboundMailQueue", &stack.inbound_mail_queue_url),
                ("DocumentEventsQueue", &stack.document_events_queue_url),
                ("NotificationsQueue", &stack.notifications_queue_url),
                ("MailFeedbackQueue", &stack.mail_feedback_queue_url),
            ])
            .await;
        let address = format!("joueur.{}@exemple.ca", stack.name);
        let player = PlayerId::parse(&format!("player-{}", stack.name)).expect("valid");
        let fixture = Fixture {
            api,
            consumers,
            player,
            address,
        };
        // The player's token carried their address with a first ticket: it is on file.
        let request = TicketRequest::parse(
            &json!({"channel": "form", "category": "technical", "language": "fr",
                    "subject": "Jeu figé", "description": "Le jeu se fige au chargement."}),
            None,
            jiff::Timestamp::now(),
        )
        .expect("valid");
        fixture
            .stack()
            .desk()
            .submit(
                fixture.player.clone(),
                request,
                None,
                ContactAddress::parse(&fixture.address),
            )
            .await
            .expect("submitted");
        fixture.drain().await;
        fixture
    }

    fn stack(&self) -> &Stack {
        &self.api.stack
    }

    async fn drain(&self) {
        let drained = guichet_tests::drain(&self.consumers).await;
        assert_eq!(drained.failed, 0, "{drained:?}");
    }

    fn mailbox(&self) -> String {
        format!("{MAIL_MAILBOX}@{MAIL_DOMAIN}")
    }

    /// A mail from the player, as their mail program writes it: plain text unless `extra`
    /// gives another `Content-Type`.
    fn mail(&self, to: &str, subject: &str, extra: &str, text: &str) -> Vec<u8> {
        let plain = "Content-Type: text/plain; charset=UTF-8\r\n\
                     Content-Transfer-Encoding: 8bit\r\n";
        let content = if extra.contains("Content-Type:") {
            ""
        } else {
            plain
        };
        format!(
            "From: =?UTF-8?Q?=C3=89lise_Tremblay?= <{from}>\r\nTo: {to}\r\nSubject: {subject}\r\n\
             Date: Thu, 3 Dec 2026 10:02:00 -0500\r\nMessage-ID: <{id}@exemple.ca>\r\n{extra}\
             MIME-Version: 1.0\r\n{content}\r\n{text}\r\n",
            from = self.address,
            id = guichet_local::inbound::new_mail_id().expect("random"),
        )
        .into_bytes()
    }

    /// A mail from the player with its text and a PNG attached, base64 as mail programs send.
    fn multipart_mail(&self, to: &str, subject: &str, text: &str, png: &[u8]) -> Vec<u8> {
        use base64::Engine;
        let encoded = base64::engine::general_purpose::STANDARD.encode(png);
        let lines: Vec<&str> = encoded
            .as_bytes()
            .chunks(76)
            .filter_map(|c| std::str::from_utf8(c).ok())
            .collect();
        let boundary = "b0undary-guichet-test";
        let body = format!(
            "--{boundary}\r\nContent-Type: text/plain; charset=UTF-8\r\n\
             Content-Transfer-Encoding: 8bit\r\n\r\n{text}\r\n\
             --{boundary}\r\nContent-Type: image/png; name=\"capture.png\"\r\n\
             Content-Disposition: attachment; filename=\"capture.png\"\r\n\
             Content-Transfer-Encoding: base64\r\n\r\n{}\r\n--{boundary}--",
            lines.join("\r\n")
        );
        self.mail(
            to,
            subject,
            &format!("Content-Type: multipart/mixed; boundary=\"{boundary}\"\r\n"),
            &body,
        )
    }

    /// Receives `raw` as SES would, and lets the consumers file it.
    async fn receive(&self, raw: &[u8], to: &str, verdicts: Verdicts<'_>) -> String {
        let id = deliver(
            &self.stack().sdk,
            &self.stack().documents_bucket,
            &self.stack().inbound_mail_queue_url,
            raw,
            &[to],
            verdicts,
        )
        .await
        .expect("delivered");
        self.drain().await;
        id
    }

    async fn filed(&self, id: &str) -> Filed {
        self.stack()
            .inbox()
            .await
            .mailroom
            .filed(&MailId::parse(id).expect("valid"))
            .await
            .expect("read")
            .expect("filed")
    }

    async fn ticket(
        &self,
        reference: &TicketReference,
    ) -> guichet_core::tickets::ports::TicketWithHistory {
        self.stack()
            .desk()
            .store
            .get(reference)
            .await
            .expect("read")
            .expect("stored")
    }

    async fn tickets(&self) -> Vec<guichet_core::tickets::ticket::Ticket> {
        self.stack()
            .desk()
            .tickets_of(&self.player, 20, None)
            .await
            .expect("listed")
            .items
    }

    async fn agent_reply(&self, reference: &TicketReference, text: &str) {
        let agent = Actor {
            subject: PlayerId::parse("agent-mail").expect("valid"),
            roles: vec![Role::Agent],
            teams: vec![Team::Technical],
            email: None,
        };
        let body = MessageBody::parse("body", text).expect("valid");
        self.stack()
            .desk()
            .work_on(&agent, reference, None, |t, now| {
                workflow::reply(t, t.version, "agent-mail", body.clone(), now, now)
            })
            .await
            .expect("replied");
        self.drain().await;
    }
}

#[tokio::test]
async fn a_mail_opens_a_ticket_the_reply_goes_out_and_the_answer_threads_onto_it() {
    let f = Fixture::new().await;
    assert_eq!(emails_to(&f.address).await.len(), 1, "the form ticket's");

    // The player writes to the support address with a screenshot: a new ticket on the e-mail
    // channel, acknowledged by mail with its reference; the screenshot goes through the
    // document check as an upload does.
    let png = guichet_core::attachments::memory::png_bytes(2048);
    let first = f.multipart_mail(
        &f.mailbox(),
        "Retrait bloqué",
        "Bonjour,\r\nmon retrait de 200 $ est bloqué depuis mardi.",
        &png,
    );
    let id = f.receive(&first, &f.mailbox(), Verdicts::PASS).await;
    let Filed::Opened {
        reference,
        acknowledged: true,
    } = f.filed(&id).await
    else {
        panic!("not opened")
    };
    let ticket = f.ticket(&reference).await;
    assert_eq!(ticket.ticket.channel, Channel::Email);
    assert_eq!(ticket.ticket.subject, "Retrait bloqué");
    assert!(ticket.ticket.description.contains("bloqué depuis mardi"));
    let received = emails_to(&f.address).await;
    assert!(
        received
            .iter()
            .any(|m| m.subject == format!("Demande {reference} reçue")),
        "{received:?}"
    );
    let checked = f
        .stack()
        .attachments()
        .checked(&reference, false)
        .await
        .expect("listed");
    assert_eq!(checked.len(), 1, "{checked:?}");
    assert_eq!(checked[0].0.size, 2048);

    // SQS delivers the announcement again: nothing new.
    announce(
        &f.stack().sdk,
        &f.stack().inbound_mail_queue_url,
        &receipt_message(
            &id,
            &f.stack().documents_bucket,
            &[&f.mailbox()],
            Verdicts::PASS,
        ),
    )
    .await
    .expect("announced");
    f.drain().await;
    assert_eq!(f.tickets().await.len(), 2);

    // The agent answers: the player is told by mail, which carries the reference and goes out
    // through SES, whose message id is recorded for threading.
    f.agent_reply(
        &reference,
        "Pouvez-vous nous envoyer le numéro de transaction ?",
    )
    .await;
    let sent = emails_to(&f.address).await;
    let reply = sent
        .iter()
        .find(|m| m.subject == format!("Nouvelle réponse à votre demande {reference}"))
        .unwrap_or_else(|| panic!("no reply notification in {sent:?}"));
    let recorded = f
        .stack()
        .dynamodb()
        .get_item()
        .table_name(&f.stack().tickets_table)
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S(format!("SENT#{}", reply.id)),
        )
        .key(
            "sk",
            aws_sdk_dynamodb::types::AttributeValue::S("SENT".into()),
        )
        .send()
        .await
        .unwrap();
    assert!(
        recorded.item().is_some(),
        "SES's id {} not recorded",
        reply.id
    );

    // The player answers from their mail program: to the ticket's reply address, quoting our
    // mail's id.
    let replies = f.stack().replies().await;
    let reply_to = reply_address(&replies.key, &replies.mailbox, &reference);
    let answer = f.mail(
        reply_to.expose(),
        &format!("Re: Nouvelle réponse à votre demande {reference}"),
        &format!(
            "In-Reply-To: <{id}@email.amazonses.com>\r\nReferences: <{id}@email.amazonses.com>\r\n",
            id = reply.id
        ),
        "C'est le TX-99812.\r\n\r\nLe jeu. 3 déc. 2026, Soutien a écrit :\r\n> Pouvez-vous ?",
    );
    let answer_id = f.receive(&answer, reply_to.expose(), Verdicts::PASS).await;
    assert_eq!(
        f.filed(&answer_id).await,
        Filed::Answered {
            reference: reference.clone()
        }
    );
    let ticket = f.ticket(&reference).await;
    let from_player: Vec<_> = ticket
        .messages
        .iter()
        .filter(|m| m.author == guichet_core::common::player::Author::Player)
        .collect();
    assert_eq!(from_player.len(), 1);
    assert_eq!(from_player[0].body, "C'est le TX-99812.");
    assert_eq!(
        from_player[0].origin.as_deref(),
        Some(format!("mail:{answer_id}").as_str())
    );
    assert_eq!(f.tickets().await.len(), 2);
}

#[tokio::test]
async fn a_spoofed_mail_is_held_and_a_bounce_stops_the_mail() {
    let f = Fixture::new().await;
    let reference = f.tickets().await[0].reference.clone();

    // Someone else writes "as" the player, naming the ticket: DMARC fails.
    let spoofed = f.mail(
        &f.mailbox(),
        &format!("Re: {reference} changement de compte bancaire"),
        "",
        "Versez mes retraits sur ce nouveau compte.",
    );
    let spoofed_verdicts = Verdicts {
        dmarc: "FAIL",
        ..Verdicts::PASS
    };
    let id = f.receive(&spoofed, &f.mailbox(), spoofed_verdicts).await;
    assert_eq!(
        f.filed(&id).await,
        Filed::Held {
            reason: HeldReason::DmarcFailed,
            ticket: Some(reference.clone()),
            acknowledged: false,
        }
    );
    let ticket = f.ticket(&reference).await;
    assert!(ticket.messages.is_empty());
    assert_eq!(f.tickets().await.len(), 1);
    assert_eq!(emails_to(&f.address).await.len(), 1, "nothing sent to them");
    // Staff read it, with the ticket it names; a player may not.
    let agent = f.api.token("agent-mail", &["agent", "team:technical"], 600);
    let held = f.api.call("GET", "/mail/held?limit=50", &agent, None).await;
    assert_eq!(held.status, 200);
    let held = held.json();
    let listed = held["held"]
        .as_array()
        .expect("a list")
        .iter()
        .find(|h| h["id"] == id.as_str())
        .unwrap_or_else(|| panic!("{id} not held: {held}"))
        .clone();
    assert_eq!(listed["reason"], "dmarc_failed");
    assert_eq!(listed["ticket"], reference.to_string());
    assert_eq!(listed["from"], f.address.as_str());
    let player = f.api.token(f.player.as_str(), &["player"], 600);
    let refused = f.api.call("GET", "/mail/held", &player, None).await;
    assert_eq!(refused.status, 403);

    // SES reports a permanent bounce of the player's address.
    let bounce = json!({
        "eventType": "Bounce",
        "bounce": {
            "bounceType": "Permanent",
            "bounceSubType": "General",
            "bouncedRecipients": [{"emailAddress": f.address}],
            "timestamp": jiff::Timestamp::now().to_string(),
        },
        "mail": {"messageId": "0101019a-bounce", "destination": [f.address]},
    });
    let envelope = json!({"Type": "Notification", "Message": bounce.to_string()});
    announce(
        &f.stack().sdk,
        &f.stack().mail_feedback_queue_url,
        &envelope.to_string(),
    )
    .await
    .expect("announced");
    f.drain().await;
    let ticket = f.ticket(&reference).await;
    assert!(ticket.history.iter().any(|l| l.reason == REFUSED_LINE));
    assert_eq!(ticket.ticket.status, TicketStatus::Open);

    // The agent's reply is on the ticket, but no mail goes to the dead address.
    f.agent_reply(&reference, "Nous avons bien noté votre demande.")
        .await;
    assert_eq!(emails_to(&f.address).await.len(), 1);
    let address = MailAddress::parse(&f.address).expect("valid");
    assert!(guichet_core::mail::ports::OutgoingMail::refused(
        &f.stack().inbox().await.mailroom,
        &address
    )
    .await
    .expect("read")
    .is_some());
}

#[tokio::test]
async fn contacts_written_before_the_address_look_up_are_indexed_once() {
    let stack = guichet_tests::fresh_stack().await;
    let client = stack.dynamodb();
    let text = |v: &str| aws_sdk_dynamodb::types::AttributeValue::S(v.to_owned());
    // A contact as the release before wrote it: no gsi5 entry.
    client
        .put_item()
        .table_name(&stack.tickets_table)
        .item("pk", text("PLAYER#player-before"))
        .item("sk", text("CONTACT"))
        .item("type", text("contact"))
        .item("email", text("Avant@Exemple.ca"))
        .item("updated_at", text("2026-06-01T12:00:00Z"))
        .send()
        .await
        .expect("put");
    let address = MailAddress::parse("avant@exemple.ca").expect("valid");
    let mailroom = stack.inbox().await.mailroom;
    assert!(mailroom
        .players_at(&address, 2)
        .await
        .expect("read")
        .is_empty());

    let indexed = guichet_aws::dynamo::mail::index_contacts(&client, &stack.tickets_table)
        .await
        .expect("indexed");
    assert_eq!(indexed, 1);
    assert_eq!(
        mailroom.players_at(&address, 2).await.expect("read"),
        vec![PlayerId::parse("player-before").expect("valid")]
    );
    // A second run finds nothing left to do.
    assert_eq!(
        guichet_aws::dynamo::mail::index_contacts(&client, &stack.tickets_table)
            .await
            .expect("indexed"),
        0
    );
}

//! The mail-in function over the in-memory ports, fed the SQS event Lambda delivers
//! (`events/mail-in.json`: SES's receipt notification in SNS's envelope) and the sample mails
//! of `events/mail/`.

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use guichet_core::common::contact::ContactAddress;
use guichet_core::common::player::{Language, PlayerId};
use guichet_core::common::reference::TicketReference;
use guichet_core::mail::inbox::Inbox;
use guichet_core::mail::memory::{MemoryMailroom, MemoryRawMail};
use guichet_core::mail::message::MailAddress;
use guichet_core::mail::ports::{Filed, HeldReason, MailId, Mailroom};
use guichet_core::mail::reply_address::{ReplyKey, ReplyMailbox};
use guichet_core::notifications::memory::MemoryEmailSender;
use guichet_core::tickets::intake::TicketRequest;
use guichet_core::tickets::memory::{
    desk_with_clock, FixedClock, MemoryTicketStore, ScriptedReferences,
};
use guichet_core::tickets::ticket::{Category, Channel};
use guichet_edge::testing::failed_ids;

const NOW: &str = "2026-12-02T14:03:31Z";
/// The fixture's mail: `events/mail/webmail-reply.eml`, the player's answer on K7M2Q-9XW45.
const FIXTURE_MAIL: &str = "o3vrnil0e2ic28trm7dfhrc2v0clambda4nbp0g81";
/// The key the samples' reply addresses were signed with (`guichet_edge::mail`'s tests).
const SAMPLE_KEY: &[u8] = b"events/mail samples: a test key, never a real one";

type TestInbox = Inbox<
    MemoryTicketStore,
    MemoryMailroom,
    MemoryRawMail,
    MemoryEmailSender,
    guichet_core::attachments::memory::MemoryAttachmentStore,
    guichet_core::documents::memory::MemoryDocumentStorage,
>;

fn sample(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../events/mail")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

fn reference() -> TicketReference {
    TicketReference::parse("K7M2Q-9XW45").expect("the fixture's ticket")
}

fn player() -> PlayerId {
    PlayerId::parse("player-123").expect("valid")
}

/// The desk with the player's ticket K7M2Q-9XW45, opened by form with their address.
async fn inbox() -> TestInbox {
    let mut desk = desk_with_clock(FixedClock::at(NOW));
    desk.references = Box::new(ScriptedReferences(std::sync::Mutex::new(vec![reference()])));
    let inbox = Inbox {
        desk,
        mailroom: MemoryMailroom::default(),
        raw: MemoryRawMail::default(),
        email: MemoryEmailSender::default(),
        attachments: guichet_core::attachments::memory::attachments(NOW),
        key: ReplyKey::parse(SAMPLE_KEY).expect("long enough"),
        mailbox: ReplyMailbox::parse("soutien", "guichet.example").expect("valid"),
        from: "soutien@guichet.example".into(),
    };
    let request = TicketRequest {
        channel: Channel::Form,
        category: Category::Transaction,
        subject: "Retrait bloqué".into(),
        description: "Mon retrait est bloqué depuis lundi.".into(),
        language: Language::Fr,
        incident: None,
    };
    inbox
        .desk
        .submit(
            player(),
            request,
            None,
            ContactAddress::parse("joueur@exemple.ca"),
        )
        .await
        .expect("submitted");
    inbox.mailroom.index(
        &MailAddress::parse("joueur@exemple.ca").expect("valid"),
        &player(),
    );
    inbox
}

fn fixture() -> SqsEvent {
    guichet_edge::testing::sqs_event("mail-in.json")
}

/// The fixture's first message under another SQS message id, its SES JSON edited by `edit`.
fn message(message_id: &str, edit: impl FnOnce(&mut serde_json::Value)) -> SqsMessage {
    guichet_edge::testing::sns_fed_message("mail-in.json", message_id, edit)
}

fn batch(messages: Vec<SqsMessage>) -> SqsEvent {
    guichet_edge::testing::sqs_batch("mail-in.json", messages)
}

/// Another mail id for the fixture's notification, with its object key.
fn as_mail(ses: &mut serde_json::Value, id: &str) {
    ses["mail"]["messageId"] = id.into();
    ses["receipt"]["action"]["objectKey"] = format!("mail/inbound/{id}").into();
}

async fn filed(inbox: &TestInbox, id: &str) -> Option<Filed> {
    inbox
        .mailroom
        .filed(&MailId::parse(id).expect("valid"))
        .await
        .expect("read")
}

#[tokio::test]
async fn the_players_webmail_answer_threads_onto_their_ticket_once() {
    let inbox = inbox().await;
    let id = MailId::parse(FIXTURE_MAIL).expect("valid");
    inbox.raw.store(&id, &sample("webmail-reply.eml"));

    let response = mail_in::handle(&inbox, fixture()).await;
    assert!(failed_ids(&response).is_empty());
    assert_eq!(
        filed(&inbox, FIXTURE_MAIL).await,
        Some(Filed::Answered {
            reference: reference()
        })
    );
    let stored = guichet_core::tickets::ports::TicketStore::get(&inbox.desk.store, &reference())
        .await
        .expect("read")
        .expect("stored");
    assert_eq!(stored.messages.len(), 1);
    assert_eq!(
        stored.messages[0].body,
        "Merci. J'ai refait la vérification et le retrait est toujours bloqué."
    );

    // SQS delivers it again: nothing changes.
    let again = mail_in::handle(&inbox, fixture()).await;
    assert!(failed_ids(&again).is_empty());
    let stored = guichet_core::tickets::ports::TicketStore::get(&inbox.desk.store, &reference())
        .await
        .expect("read")
        .expect("stored");
    assert_eq!(stored.messages.len(), 1);
}

#[tokio::test]
async fn a_spoofed_from_with_failing_dmarc_is_held_and_answers_nobody() {
    let inbox = inbox().await;
    let id = "spoofedmail0001";
    inbox.raw.store(
        &MailId::parse(id).expect("valid"),
        &sample("spoofed-from.eml"),
    );
    let spoofed = message("m-1", |ses| {
        as_mail(ses, id);
        ses["receipt"]["recipients"] = serde_json::json!(["soutien@guichet.example"]);
        ses["receipt"]["dmarcVerdict"]["status"] = "FAIL".into();
    });
    let response = mail_in::handle(&inbox, batch(vec![spoofed])).await;
    assert!(failed_ids(&response).is_empty());
    assert_eq!(
        filed(&inbox, id).await,
        Some(Filed::Held {
            reason: HeldReason::DmarcFailed,
            ticket: None,
            acknowledged: false,
        })
    );
    assert!(inbox.email.sent().is_empty());
    assert_eq!(inbox.desk.store.ticket_count(), 1);
}

#[tokio::test]
async fn an_infected_mail_is_quarantined_and_its_redelivery_acknowledged() {
    let inbox = inbox().await;
    let id = "infectedmail0001";
    inbox.raw.store(
        &MailId::parse(id).expect("valid"),
        &sample("attachment.eml"),
    );
    let infected = || {
        message("m-2", |ses| {
            as_mail(ses, id);
            ses["receipt"]["virusVerdict"]["status"] = "FAIL".into();
        })
    };
    let response = mail_in::handle(&inbox, batch(vec![infected()])).await;
    assert!(failed_ids(&response).is_empty());
    assert!(matches!(
        filed(&inbox, id).await,
        Some(Filed::Quarantined { .. })
    ));
    // The raw mail is gone from where SES put it; the redelivery finds the record.
    let again = mail_in::handle(&inbox, batch(vec![infected()])).await;
    assert!(failed_ids(&again).is_empty());
}

#[tokio::test]
async fn what_is_not_a_receipt_of_ours_is_retried_and_never_filed() {
    let inbox = inbox().await;
    let other_object = message("bad-key", |ses| {
        ses["receipt"]["action"]["objectKey"] = "verification/someone-else/passport.jpg".into();
    });
    let bad_id = message("bad-id", |ses| {
        ses["mail"]["messageId"] = "../../tickets/x".into();
    });
    let missing = message("missing", |ses| as_mail(ses, "nosuchmail0001"));
    let mut not_sns = fixture().records.remove(0);
    not_sns.message_id = Some("not-sns".into());
    not_sns.body = Some("{\"Records\": []}".into());
    let mut no_body = fixture().records.remove(0);
    no_body.message_id = Some("no-body".into());
    no_body.body = None;
    let response = mail_in::handle(
        &inbox,
        batch(vec![other_object, bad_id, missing, not_sns, no_body]),
    )
    .await;
    assert_eq!(
        failed_ids(&response),
        vec!["bad-key", "bad-id", "missing", "not-sns", "no-body"]
    );
    assert_eq!(inbox.mailroom.filed_count(), 0);
}

#[tokio::test]
async fn the_topics_setup_notification_is_acknowledged() {
    let inbox = inbox().await;
    let mut setup = fixture().records.remove(0);
    setup.message_id = Some("setup".into());
    let envelope = serde_json::json!({
        "Type": "Notification",
        "Message": serde_json::json!({
            "notificationType": "AMAZON_SES_SETUP_NOTIFICATION",
            "receipt": {}
        }).to_string(),
    });
    setup.body = Some(envelope.to_string());
    let response = mail_in::handle(&inbox, batch(vec![setup])).await;
    assert!(failed_ids(&response).is_empty());
    assert_eq!(inbox.mailroom.filed_count(), 0);
}

#[tokio::test]
async fn a_mail_that_is_not_mime_waits_for_staff() {
    let inbox = inbox().await;
    let id = "garbledmail0001";
    inbox
        .raw
        .store(&MailId::parse(id).expect("valid"), b"\x00\x01 not a mail");
    let response =
        mail_in::handle(&inbox, batch(vec![message("m-3", |ses| as_mail(ses, id))])).await;
    assert!(failed_ids(&response).is_empty());
    assert!(matches!(
        filed(&inbox, id).await,
        Some(Filed::Held {
            reason: HeldReason::Unreadable,
            ..
        })
    ));
}

#[tokio::test]
async fn the_players_new_mail_with_a_screenshot_opens_a_ticket_with_its_attachment() {
    use guichet_core::attachments::ports::AttachmentStore;
    let inbox = inbox().await;
    let id = "withattachment01";
    inbox.raw.store(
        &MailId::parse(id).expect("valid"),
        &sample("attachment.eml"),
    );
    let response = mail_in::handle(
        &inbox,
        batch(vec![message("m-4", |ses| {
            as_mail(ses, id);
            ses["receipt"]["recipients"] = serde_json::json!(["soutien@guichet.example"]);
        })]),
    )
    .await;
    assert!(failed_ids(&response).is_empty());
    let Some(Filed::Opened { reference, .. }) = filed(&inbox, id).await else {
        panic!("not opened")
    };
    let attachments = inbox
        .attachments
        .store
        .attachments_of(&reference)
        .await
        .expect("read");
    assert_eq!(attachments.len(), 1);
    assert_eq!(attachments[0].size, 73);
    assert_eq!(
        inbox.attachments.storage.keys(),
        vec![attachments[0].key.clone()]
    );
}

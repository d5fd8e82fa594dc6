//! The notification function over the in-memory ports, fed SQS events shaped like the ones
//! Lambda delivers (`events/sqs-notification.json`).

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use guichet_core::common::contact::ContactAddress;
use guichet_core::common::player::{Language, PlayerId};
use guichet_core::common::reference::TicketReference;
use guichet_core::notifications::rules::{About, Notification, NotificationKind};
use guichet_core::outbox::rules::MessageId;
use guichet_edge::testing::failed_ids;

const NOW: &str = "2026-11-26T15:00:05Z";

fn fixture() -> SqsEvent {
    guichet_edge::testing::sqs_event("sqs-notification.json")
}

/// The fixture's message with another SQS message id and, if given, another notification id.
fn notification(message_id: &str, notification_id: Option<MessageId>) -> SqsMessage {
    let mut message = fixture().records.remove(0);
    if let Some(id) = notification_id {
        let body = message.body.as_deref().expect("the fixture has a body");
        let mut body: serde_json::Value = serde_json::from_str(body).expect("JSON body");
        body["notification_id"] = serde_json::Value::String(id.to_string());
        message.body = Some(body.to_string());
    }
    message.message_id = Some(message_id.to_owned());
    message
}

fn raw_message(message_id: &str, body: Option<&str>) -> SqsMessage {
    let mut message = notification(message_id, None);
    message.body = body.map(str::to_owned);
    message
}

fn batch(messages: Vec<SqsMessage>) -> SqsEvent {
    guichet_edge::testing::sqs_batch("sqs-notification.json", messages)
}

type MemorySender = guichet_core::notifications::sender::Sender<
    guichet_core::notifications::memory::MemoryContacts,
    guichet_core::notifications::memory::MemoryDeliveryLedger,
    guichet_core::notifications::memory::MemoryEmailSender,
>;

const FIXTURE_ID: &str = "5b0e7f0c2d7a4b8e9a613f4c2b1d0e9a";

/// Stores the notification `id` of the fixture's ticket and player, as the desk did when it
/// put the message naming it in the outbox.
fn store(sender: &MemorySender, id: MessageId) {
    let about = About::Ticket(TicketReference::parse("K7M2Q-9XW45").expect("the fixture's ticket"));
    sender.contacts.store(
        about,
        &PlayerId::parse("player-123").expect("the fixture's player"),
        &Notification {
            id,
            kind: NotificationKind::Received,
            language: Language::Fr,
            subject: "Demande K7M2Q-9XW45 reçue".into(),
            body: "Bonjour,\n\nNous avons bien reçu votre demande K7M2Q-9XW45. L'équipe \
                   sécurité des comptes vous répondra au plus tard le vendredi 27 novembre 2026 \
                   à 17 h 00 (heure de l'Est).\n\nL'équipe du soutien"
                .into(),
            at: "2026-11-26T15:00:00Z".parse().expect("the fixture's time"),
        },
    );
}

/// A sender whose table holds the fixture's notification (and those of ids `[1; 16]` and
/// `[2; 16]`) and the player's address.
fn sender_with_address() -> MemorySender {
    let sender = guichet_core::notifications::memory::sender(NOW);
    sender.contacts.set(
        &PlayerId::parse("player-123").expect("the fixture's player"),
        ContactAddress::parse("joueur.123@exemple.ca").expect("valid address"),
    );
    for id in [
        MessageId::parse(FIXTURE_ID).expect("the fixture's id"),
        MessageId::from_bytes([1; 16]),
        MessageId::from_bytes([2; 16]),
    ] {
        store(&sender, id);
    }
    sender
}

#[tokio::test]
async fn the_sample_notification_is_e_mailed_in_french() {
    let sender = sender_with_address();
    let response = send_notifications::handle(&sender, fixture()).await;
    assert!(failed_ids(&response).is_empty(), "{response:?}");
    let sent = sender.email.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].to, "joueur.123@exemple.ca");
    assert_eq!(sent[0].from, "soutien@guichet.example");
    assert_eq!(sent[0].subject, "Demande K7M2Q-9XW45 reçue");
    assert!(sent[0].body.contains("17 h 00"), "{}", sent[0].body);
}

#[tokio::test]
async fn a_duplicate_delivery_sends_nothing_more() {
    let sender = sender_with_address();
    // The relay sent it twice, and SQS delivered both, in one batch and in the next.
    let twice = batch(vec![notification("m-1", None), notification("m-2", None)]);
    assert!(failed_ids(&send_notifications::handle(&sender, twice).await).is_empty());
    assert!(failed_ids(&send_notifications::handle(&sender, fixture()).await).is_empty());
    assert_eq!(sender.email.sent().len(), 1);
}

#[tokio::test]
async fn only_the_poison_messages_of_a_batch_are_reported() {
    let sender = sender_with_address();
    let fixture_body = notification("x", None)
        .body
        .expect("the fixture has a body");
    let other_schema = fixture_body.replace("guichet.notification.v2", "guichet.notification.v0");
    let unknown_field =
        fixture_body.replace("\"kind\":", "\"email\":\"joueur.123@exemple.ca\",\"kind\":");
    let event = batch(vec![
        notification("good-1", Some(MessageId::from_bytes([1; 16]))),
        raw_message("garbage", Some("this is not JSON")),
        raw_message("empty-object", Some("{}")),
        raw_message("no-body", None),
        raw_message("other-schema", Some(&other_schema)),
        raw_message("unknown-field", Some(&unknown_field)),
        // Well formed, but naming a notification the table does not hold.
        notification("not-owed", Some(MessageId::from_bytes([3; 16]))),
        notification("good-2", Some(MessageId::from_bytes([2; 16]))),
    ]);
    let response = send_notifications::handle(&sender, event).await;
    assert_eq!(
        failed_ids(&response),
        [
            "garbage",
            "empty-object",
            "no-body",
            "other-schema",
            "unknown-field",
            "not-owed"
        ]
    );
    assert_eq!(sender.email.sent().len(), 2, "both good ones were sent");
    // The response is what the Lambda runtime serialises for SQS.
    assert_eq!(
        serde_json::to_value(&response).expect("JSON")["batchItemFailures"][0],
        serde_json::json!({"itemIdentifier": "garbage"})
    );
}

#[tokio::test]
async fn a_failed_send_is_reported_then_sent_once_on_redelivery() {
    let sender = sender_with_address();
    sender.email.fail_next(1);
    let response = send_notifications::handle(&sender, fixture()).await;
    assert_eq!(
        failed_ids(&response),
        ["2e1424d4-f796-459a-8184-9c92662be6da"]
    );
    assert!(sender.email.sent().is_empty());

    assert!(failed_ids(&send_notifications::handle(&sender, fixture()).await).is_empty());
    assert!(failed_ids(&send_notifications::handle(&sender, fixture()).await).is_empty());
    assert_eq!(sender.email.sent().len(), 1);
}

#[tokio::test]
async fn a_player_without_an_address_is_acknowledged_without_sending() {
    let sender = guichet_core::notifications::memory::sender(NOW);
    let id = MessageId::parse(FIXTURE_ID).expect("the fixture's id");
    store(&sender, id.clone());
    let response = send_notifications::handle(&sender, fixture()).await;
    assert!(failed_ids(&response).is_empty());
    assert!(sender.email.sent().is_empty());
    assert_eq!(sender.ledger.state(&id).as_deref(), Some("no_address"));
}

#[tokio::test]
async fn a_message_without_an_id_fails_the_whole_batch() {
    let sender = sender_with_address();
    let mut event = fixture();
    event.records.push(raw_message("ignored", Some("{}")));
    event.records[1].message_id = None;
    let response = send_notifications::handle(&sender, event).await;
    // Lambda reads an empty identifier as "retry the whole batch": never an acknowledgement.
    assert_eq!(failed_ids(&response), [""]);
    assert_eq!(sender.email.sent().len(), 1);
}

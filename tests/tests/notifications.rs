//! The notification function through the real AWS SDK against the emulator, on a table
//! provisioned from infra/template.yaml: a ticket submitted through the desk (which stores the
//! player's address and writes the "received" notification to the outbox), its outbox message
//! handed to the function as SQS delivers it, and the e-mails read back from what the emulator's
//! SES recorded (`/moto-api/data.json`, `ses.Message`; moto keeps SES v2 messages there too).
//!
//! The e-mails are global to the emulator, shared by every test running on it: each test sends
//! to an address of its own (its stack's name) and only counts those.

use aws_sdk_dynamodb::types::AttributeValue;
use guichet_aws::dynamo::tickets::DynamoTicketStore;
use guichet_core::common::contact::ContactAddress;
use guichet_core::common::player::PlayerId;
use guichet_core::notifications::ports::NotificationRecords;
use guichet_core::notifications::rules::{About, Notification, NotificationMessage};
use guichet_core::notifications::sender::Sender;
use guichet_core::outbox::rules::{Destination, OutboxMessage};
use guichet_core::tickets::desk::Submitted;
use guichet_core::tickets::intake::TicketRequest;
use guichet_edge::config::SenderConfig;
use guichet_tests::{error_chain, fresh_stack, SentEmail as Recorded, Stack};
use serde_json::{json, Value};

/// The template's default `NotificationSender`.
const SENDER: &str = "soutien@guichet.example";

/// Makes `address` a verified SES identity, as the template's `NotificationSenderIdentity` does
/// (the emulator refuses SendEmail from any other address). Creating it again is harmless.
async fn verify_sender(stack: &Stack, address: &str) {
    aws_sdk_sesv2::Client::new(&stack.sdk)
        .create_email_identity()
        .email_identity(address)
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateEmailIdentity {address}: {}", error_chain(&e)));
}

fn sender_config(stack: &Stack, sender: &str) -> SenderConfig {
    SenderConfig {
        tickets_table: stack.tickets_table.clone(),
        sender: sender.to_owned(),
        mail: None,
    }
}

/// An address no other test sends to.
fn unique_address(stack: &Stack, label: &str) -> ContactAddress {
    ContactAddress::parse(&format!("{label}.{}@exemple.ca", stack.name)).expect("valid address")
}

/// Submits a French transaction ticket for `player` with `contact` on file, through the desk
/// the create-ticket function uses; returns the notification the outbox holds for the queue.
async fn submit_ticket(stack: &Stack, player: &str, contact: Option<ContactAddress>) -> String {
    let desk = stack.desk();
    let body = json!({
        "channel": "form", "category": "transaction", "language": "fr",
        "subject": "Retrait en attente",
        "description": "Mon retrait de 200 $ est en attente depuis trois jours.",
    });
    let request = TicketRequest::parse(&body, None, jiff::Timestamp::now()).expect("valid request");
    let submitted = desk
        .submit(
            PlayerId::parse(player).expect("valid player"),
            request,
            None,
            contact,
        )
        .await
        .unwrap_or_else(|e| panic!("submit: {}", error_chain(&e)));
    let Submitted::Created(_, outbox) = submitted else {
        panic!("a new ticket was expected")
    };
    let notifications: Vec<&OutboxMessage> = outbox
        .iter()
        .filter(|m| m.destination == Destination::Notifications)
        .collect();
    assert_eq!(notifications.len(), 1, "one 'received' notification");
    notifications[0].body.clone()
}

/// An SQS record shaped as Lambda delivers it (`events/sqs-notification.json`), with this id
/// and body.
fn record(message_id: &str, body: &str) -> Value {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../events/sqs-notification.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let event: Value = serde_json::from_str(&text).expect("the sample event is JSON");
    let mut record = event["Records"][0].clone();
    record["messageId"] = json!(message_id);
    record["body"] = json!(body);
    record
}

fn event(records: Vec<Value>) -> Value {
    json!({ "Records": records })
}

/// Runs the function's handler on `event` with `sender`; returns the failed message ids.
async fn invoke<C, L, E>(sender: &Sender<C, L, E>, event: Value) -> Vec<String>
where
    C: guichet_core::notifications::ports::ContactBook
        + NotificationRecords
        + guichet_core::mail::ports::OutgoingMail,
    L: guichet_core::notifications::ports::DeliveryLedger,
    E: guichet_core::notifications::ports::EmailSender,
{
    let event = serde_json::from_value(event).expect("an SQS event");
    send_notifications::handle(sender, event)
        .await
        .batch_item_failures
        .into_iter()
        .map(|f| f.item_identifier)
        .collect()
}

/// The e-mails the emulator's SES accepted for `to`.
async fn emails_to(to: &ContactAddress) -> Vec<Recorded> {
    guichet_tests::emails_to(to.expose()).await
}

/// The notification `message` names, as the table holds it.
async fn stored(stack: &Stack, message: &NotificationMessage) -> Notification {
    DynamoTicketStore::new(stack.dynamodb(), stack.tickets_table.clone())
        .stored(&message.about, &message.notification_id, message.created_at)
        .await
        .unwrap_or_else(|e| panic!("reading the notification: {}", error_chain(&e)))
        .expect("the desk stored the notification it announced")
        .notification
}

/// The delivery record's `state` and `provider_message_id`, as stored.
async fn delivery_record(stack: &Stack, notification: &NotificationMessage) -> (String, String) {
    let output = stack
        .dynamodb()
        .get_item()
        .table_name(&stack.tickets_table)
        .key(
            "pk",
            AttributeValue::S(format!("NOTIFICATION#{}", notification.notification_id)),
        )
        .key("sk", AttributeValue::S("DELIVERY".into()))
        .consistent_read(true)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GetItem: {}", error_chain(&e)));
    let item = output.item().cloned().unwrap_or_default();
    let text = |name: &str| match item.get(name) {
        Some(AttributeValue::S(value)) => value.clone(),
        _ => String::new(),
    };
    (text("state"), text("provider_message_id"))
}

#[tokio::test]
async fn a_duplicate_delivery_sends_exactly_one_e_mail_in_french() {
    let stack = fresh_stack().await;
    verify_sender(&stack, SENDER).await;
    let address = unique_address(&stack, "joueur");
    let body = submit_ticket(&stack, "player-1", Some(address.clone())).await;
    let notification: NotificationMessage = serde_json::from_str(&body).expect("a notification");
    let About::Ticket(reference) = notification.about.clone() else {
        panic!("about a ticket")
    };
    let text = stored(&stack, &notification).await;
    let sender = guichet_aws::wiring::sender(&sender_config(&stack, SENDER), &stack.sdk, None);

    // The relay sent the message twice and SQS delivered both copies at once, to two
    // concurrent invocations (spawned, as the local consumers run a handler: its future must be
    // `Send`), then once more later.
    let sender = std::sync::Arc::new(sender);
    let concurrent = |message_id: &'static str| {
        let (sender, body) = (std::sync::Arc::clone(&sender), body.clone());
        tokio::spawn(async move { invoke(&*sender, event(vec![record(message_id, &body)])).await })
    };
    let (first, second) = (concurrent("m-1"), concurrent("m-2"));
    let (first, second) = (
        first.await.expect("no panic"),
        second.await.expect("no panic"),
    );
    // The copy that found the other's live lease is retried by SQS; the retry finds it sent.
    assert!(
        first.len() + second.len() <= 1,
        "at most one copy deferred: {first:?} {second:?}"
    );
    let later = invoke(&*sender, event(vec![record("m-3", &body)])).await;
    assert!(later.is_empty(), "{later:?}");

    let emails = emails_to(&address).await;
    assert_eq!(emails.len(), 1, "exactly one e-mail: {emails:?}");
    let email = &emails[0];
    assert_eq!(email.source, SENDER);
    // The French "received" template, as the desk rendered it for this ticket.
    assert_eq!(email.subject, text.subject);
    assert!(
        email.subject.starts_with("Demande ") && email.subject.ends_with(" reçue"),
        "{}",
        email.subject
    );
    assert!(
        email.subject.contains(reference.as_str())
            || email.subject.contains(&reference.to_string())
    );
    assert_eq!(email.body, text.body);
    assert!(email.body.starts_with("Bonjour,"), "{}", email.body);
    assert_eq!(
        delivery_record(&stack, &notification).await,
        ("sent".to_owned(), email.id.clone())
    );
}

#[tokio::test]
async fn only_the_poison_record_of_a_batch_is_reported() {
    let stack = fresh_stack().await;
    verify_sender(&stack, SENDER).await;
    let address = unique_address(&stack, "poison");
    let body = submit_ticket(&stack, "player-2", Some(address.clone())).await;
    let sender = guichet_aws::wiring::sender(&sender_config(&stack, SENDER), &stack.sdk, None);
    let wrong_schema = body.replace("guichet.notification.v2", "guichet.notification.v9");

    let failed = invoke(
        &sender,
        event(vec![
            record("poison-1", "{\"not\": \"a notification\"}"),
            record("good", &body),
            record("poison-2", &wrong_schema),
        ]),
    )
    .await;
    assert_eq!(failed, ["poison-1", "poison-2"]);
    assert_eq!(emails_to(&address).await.len(), 1);
}

#[tokio::test]
async fn a_refused_send_is_retried_and_then_sent_once() {
    let stack = fresh_stack().await;
    // A sender of this test's own that SES does not know yet: SES refuses to send from it.
    let from = format!("envoi.{}@guichet.example", stack.name);
    let address = unique_address(&stack, "refus");
    let body = submit_ticket(&stack, "player-3", Some(address.clone())).await;
    let notification: NotificationMessage = serde_json::from_str(&body).expect("a notification");
    let sender = guichet_aws::wiring::sender(&sender_config(&stack, &from), &stack.sdk, None);

    let failed = invoke(&sender, event(vec![record("m-1", &body)])).await;
    assert_eq!(failed, ["m-1"], "SES refused: the message is retried");
    assert!(emails_to(&address).await.is_empty());
    // The failed attempt gave its lease back: the redelivery need not wait for it to expire.
    assert_eq!(
        delivery_record(&stack, &notification).await,
        (String::new(), String::new())
    );

    verify_sender(&stack, &from).await;
    assert!(invoke(&sender, event(vec![record("m-1", &body)]))
        .await
        .is_empty());
    assert!(invoke(&sender, event(vec![record("m-1", &body)]))
        .await
        .is_empty());
    assert_eq!(emails_to(&address).await.len(), 1);
}

#[tokio::test]
async fn a_player_without_an_address_is_settled_without_an_e_mail() {
    let stack = fresh_stack().await;
    verify_sender(&stack, SENDER).await;
    let body = submit_ticket(&stack, "player-4", None).await;
    let notification: NotificationMessage = serde_json::from_str(&body).expect("a notification");
    let sender = guichet_aws::wiring::sender(&sender_config(&stack, SENDER), &stack.sdk, None);

    assert!(invoke(&sender, event(vec![record("m-1", &body)]))
        .await
        .is_empty());
    assert_eq!(
        delivery_record(&stack, &notification).await,
        ("no_address".to_owned(), String::new())
    );
}

/// Whoever can put a message on the queue (a leaked credential, a mis-scoped role) can at most
/// make an owed notification go out once: never mail a player words of their choosing, nor one
/// player's notification to another.
#[tokio::test]
async fn a_forged_message_mails_nothing_but_what_the_table_owes() {
    let stack = fresh_stack().await;
    verify_sender(&stack, SENDER).await;
    let victim = unique_address(&stack, "victime");
    let other = unique_address(&stack, "autre");
    let body = submit_ticket(&stack, "player-5", Some(victim.clone())).await;
    submit_ticket(&stack, "player-6", Some(other.clone())).await;
    let owed: NotificationMessage = serde_json::from_str(&body).expect("a notification");
    let text = stored(&stack, &owed).await;
    let sender = guichet_aws::wiring::sender(&sender_config(&stack, SENDER), &stack.sdk, None);

    let mut wire: Value = serde_json::from_str(&body).expect("JSON");
    let forge = |change: &dyn Fn(&mut Value)| {
        let mut forged = wire.clone();
        change(&mut forged);
        forged.to_string()
    };
    // Player 5's notification, to player 6.
    let to_other = forge(&|m| m["player"] = json!("player-6"));
    // A notification that was never made.
    let unknown = forge(&|m| m["notification_id"] = json!("ffffffffffffffffffffffffffffffff"));
    // Text in a v2 message.
    let with_text = forge(&|m| m["subject"] = json!("Votre compte est suspendu"));
    let failed = invoke(
        &sender,
        event(vec![
            record("to-other", &to_other),
            record("unknown", &unknown),
            record("with-text", &with_text),
        ]),
    )
    .await;
    assert_eq!(failed, ["to-other", "unknown", "with-text"]);
    assert!(emails_to(&victim).await.is_empty());
    assert!(emails_to(&other).await.is_empty());

    // A v1 message (as the relay wrote them before v2) with a phishing text of its own: the
    // owed notification goes out, in the desk's words.
    wire["schema"] = json!("guichet.notification.v1");
    wire["language"] = json!("fr");
    wire["subject"] = json!("Votre compte est suspendu");
    wire["body"] = json!("Confirmez votre mot de passe : https://casino.example.net");
    let failed = invoke(&sender, event(vec![record("legacy", &wire.to_string())])).await;
    assert!(failed.is_empty(), "{failed:?}");
    let emails = emails_to(&victim).await;
    assert_eq!(emails.len(), 1, "{emails:?}");
    assert_eq!(emails[0].subject, text.subject);
    assert_eq!(emails[0].body, text.body);
    assert!(emails_to(&other).await.is_empty());
}

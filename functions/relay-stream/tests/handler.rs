//! The stream relay over the in-memory outbox and queues, fed records shaped as the table's
//! stream delivers them (`events/dynamodb-outbox-insert.json`).

use std::sync::atomic::Ordering;

use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use guichet_core::outbox::memory::relay;
use guichet_core::outbox::rules::OutboxMessage;
use guichet_core::tickets::desk::Submitted;
use guichet_core::tickets::memory::desk;

const NOW: &str = "2026-11-26T15:00:00Z";

/// The sample event's one record.
fn sample() -> EventRecord {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../events/dynamodb-outbox-insert.json");
    let text = std::fs::read_to_string(&path).expect("the sample event");
    let mut event: Event = serde_json::from_str(&text).expect("a DynamoDB stream event");
    event.records.remove(0)
}

/// The record of `message`'s insert, at `sequence`.
fn insert(message: &OutboxMessage, sequence: u32) -> EventRecord {
    let mut record = sample();
    let image = guichet_aws::dynamo::tickets::outbox_image(message).expect("an image");
    record.change.keys = image
        .iter()
        .filter(|(name, _)| *name == "pk" || *name == "sk")
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect::<std::collections::HashMap<_, _>>()
        .into();
    record.change.new_image = image;
    record.change.sequence_number = Some(format!("{sequence:021}"));
    record
}

fn event(records: Vec<EventRecord>) -> Event {
    let mut event: Event =
        serde_json::from_value(serde_json::json!({"Records": []})).expect("an empty event");
    event.records = records;
    event
}

/// An account ticket: its escalation request and its "received" notification, in the outbox.
async fn submitted() -> (
    guichet_core::tickets::desk::Desk<guichet_core::tickets::memory::MemoryTicketStore>,
    Vec<OutboxMessage>,
) {
    let desk = desk(NOW);
    let body = serde_json::json!({"channel": "form", "category": "account",
        "subject": "Compte bloqué", "description": "Je ne peux plus me connecter."});
    let Submitted::Created(_, outbox) =
        guichet_edge::testing::submitted(&desk, "player-1", body, NOW).await
    else {
        panic!("created")
    };
    assert_eq!(outbox.len(), 2);
    (desk, outbox)
}

#[test]
fn the_sample_record_is_read_as_an_outbox_message() {
    let message = guichet_aws::dynamo::tickets::outbox_from_image(sample().change.new_image)
        .expect("the sample is an outbox item");
    assert_eq!(message.id.as_str(), "5b0e7f0c2d7a4b8e9a613f4c2b1d0e9a");
    assert_eq!(
        message.destination,
        guichet_core::outbox::rules::Destination::Notifications
    );
    // Written back, it is the very image the stream carried.
    assert_eq!(
        guichet_aws::dynamo::tickets::outbox_image(&message).expect("an image"),
        sample().change.new_image
    );
}

#[tokio::test]
async fn each_outbox_insert_is_sent_once_and_removed_and_nothing_else_is_relayed() {
    let (desk, outbox) = submitted().await;
    let relay = relay(&desk);
    // Other changes of the table come through the stream too, unless the filter drops them.
    let mut modified = insert(&outbox[0], 3);
    modified.event_name = "MODIFY".into();
    let mut ticket = insert(&outbox[1], 4);
    ticket.change.keys.insert(
        "pk".into(),
        serde_dynamo::AttributeValue::S("TICKET#K7M2Q9XW45".into()),
    );
    let response = relay_stream::handle(
        &relay,
        event(vec![
            insert(&outbox[0], 1),
            insert(&outbox[1], 2),
            modified,
            ticket,
        ]),
    )
    .await;
    assert!(response.batch_item_failures.is_empty(), "{response:?}");
    let sent = relay.queues.sent();
    let queues: Vec<&str> = sent.iter().map(|(q, _)| q.as_str()).collect();
    assert_eq!(queues, ["escalations", "notifications"]);
    assert_eq!(sent[1].1, outbox[1].body, "the body as written");
    assert!(
        desk.store.outbox().is_empty(),
        "relayed messages leave the outbox"
    );
}

#[tokio::test]
async fn a_failed_send_is_retried_from_its_record_and_nothing_is_lost() {
    let (desk, outbox) = submitted().await;
    let relay = relay(&desk);
    relay.queues.failing.store(true, Ordering::SeqCst);
    let records = vec![insert(&outbox[0], 1), insert(&outbox[1], 2)];
    let response = relay_stream::handle(&relay, event(records.clone())).await;
    let retry: Vec<Option<&str>> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_deref())
        .collect();
    assert_eq!(
        retry,
        [Some("000000000000000000001")],
        "from the first record on"
    );
    assert_eq!(desk.store.outbox().len(), 2, "nothing lost");

    relay.queues.failing.store(false, Ordering::SeqCst);
    let response = relay_stream::handle(&relay, event(records)).await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(relay.queues.sent().len(), 2);
    assert!(desk.store.outbox().is_empty());
}

#[tokio::test]
async fn an_unreadable_outbox_insert_is_left_to_the_sweep_without_blocking_the_stream() {
    let (desk, outbox) = submitted().await;
    let relay = relay(&desk);
    let mut damaged = insert(&outbox[0], 1);
    damaged.change.new_image.remove("body");
    let response = relay_stream::handle(&relay, event(vec![damaged, insert(&outbox[1], 2)])).await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(relay.queues.sent().len(), 1, "the readable one is sent");
    // The damaged one's item stays for the sweep (and its alarm).
    assert_eq!(desk.store.outbox().len(), 1);
}

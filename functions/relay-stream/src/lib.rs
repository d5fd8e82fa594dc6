//! The outbox relay off the request path: the tickets table's stream hands every new item to
//! this function (the event source mapping's filter keeps only outbox inserts), which sends
//! each outbox message to its queue and removes it ([`Relay::relay_one`]). A request therefore
//! costs only its own DynamoDB write; its notification or escalation leaves about a second
//! after the commit.
//!
//! A stream shard's records are delivered in batches, up to ten of a shard at once
//! (`ParallelizationFactor` in the template: outbox messages are independent items), each
//! item's records in order; a batch is retried from the first record a run reports
//! (`ReportBatchItemFailures` with its sequence number): a send that fails stops the batch
//! there, so nothing after it is skipped, and the retry resends only from it. When the
//! mapping's retries are spent, the record is dropped from the stream but the outbox item is
//! still there: the one-minute sweep (relay-outbox) sends it. Delivery stays at least once;
//! the consumers make a second delivery a no-op.
//!
//! The records are the table's own writes, in this function's own format: an image that is
//! not an outbox item (the filter misconfigured, a damaged item) is logged and skipped, never
//! retried forever, and left to the sweep, whose alarm then says it cannot be read.

use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use guichet_core::outbox::ports::{MessageQueues, OutboxStore};
use guichet_core::outbox::relay::Relay;
use tracing::info_span;
use tracing::Instrument;

/// The key prefix of outbox items (`pk`), the only records relayed.
const OUTBOX_PREFIX: &str = "OUTBOX#";

/// What one run did with its records.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Relayed {
    pub sent: usize,
    /// Not outbox inserts: other items, updates, removals (the relay's own deletes).
    pub ignored: usize,
    /// Outbox inserts whose image could not be read: left to the sweep.
    pub unreadable: usize,
}

/// Relays the outbox inserts of a batch, in order; names in the response the first record to
/// retry from, if a send failed.
pub async fn handle<O: OutboxStore, Q: MessageQueues>(
    relay: &Relay<O, Q>,
    event: Event,
) -> DynamoDbEventResponse {
    let mut response = DynamoDbEventResponse::default();
    let mut relayed = Relayed::default();
    for record in event.records {
        let sequence = record.change.sequence_number.clone();
        let Some(message) = outbox_insert(record, &mut relayed) else {
            continue;
        };
        let span = info_span!("outbox_message", outbox_id = %message.id, destination = message.destination.as_str());
        match relay.relay_one(&message).instrument(span).await {
            Ok(()) => relayed.sent += 1,
            Err(error) => {
                tracing::warn!(
                    outbox_id = %message.id,
                    error = %error,
                    "outbox message not sent; the stream retries from it"
                );
                // Without a sequence number, an empty identifier makes Lambda retry the
                // whole batch: never an acknowledgement.
                let mut failure = DynamoDbBatchItemFailure::default();
                failure.item_identifier = Some(sequence.unwrap_or_default());
                response.batch_item_failures.push(failure);
                break;
            }
        }
    }
    tracing::info!(
        sent = relayed.sent,
        ignored = relayed.ignored,
        unreadable = relayed.unreadable,
        retry = !response.batch_item_failures.is_empty(),
        "stream batch relayed"
    );
    response
}

/// The outbox message a record inserts, if it is one.
fn outbox_insert(
    record: EventRecord,
    relayed: &mut Relayed,
) -> Option<guichet_core::outbox::rules::OutboxMessage> {
    let is_outbox = record
        .change
        .keys
        .get("pk")
        .and_then(|pk| match pk {
            serde_dynamo::AttributeValue::S(pk) => Some(pk.starts_with(OUTBOX_PREFIX)),
            _ => None,
        })
        .unwrap_or(false);
    if record.event_name != "INSERT" || !is_outbox {
        relayed.ignored += 1;
        return None;
    }
    match guichet_aws::dynamo::tickets::outbox_from_image(record.change.new_image) {
        Ok(message) => Some(message),
        Err(error) => {
            relayed.unreadable += 1;
            tracing::error!(
                event_id = %record.event_id,
                error = %error,
                "an outbox insert could not be read; left to the sweep"
            );
            None
        }
    }
}

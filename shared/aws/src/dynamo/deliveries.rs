//! The DynamoDB adapter of [`DeliveryLedger`]: one record per notification in the tickets
//! table, beside nothing else (its own partition, so it is read and written by key only):
//!
//! | item              | pk                     | sk         |
//! |-------------------|------------------------|------------|
//! | delivery record   | `NOTIFICATION#<id>`    | `DELIVERY` |
//!
//! Attributes: `state` (`sending`, `sent`, `no_address`), `lease_until` (epoch milliseconds, a
//! number so the claim's condition compares it as one), `provider_message_id` and `sent_at` once
//! sent, and `expires_at` (epoch seconds), the table's TTL attribute. No address, subject or body
//! is ever stored here.

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use aws_sdk_dynamodb::Client;
use jiff::{SignedDuration, Timestamp};

use serde::{Deserialize, Serialize};

use crate::dynamo::item::{self, backend, from_item, s, to_item, Item};
use guichet_core::common::store::StoreError;
use guichet_core::notifications::ports::{Claim, DeliveryLedger, Settled};
use guichet_core::outbox::rules::MessageId;

const DELIVERY_SK: &str = "DELIVERY";
const SENDING: &str = "sending";
const SENT: &str = "sent";
const NO_ADDRESS: &str = "no_address";

/// How long a record is kept. A duplicate can only come from SQS (at most 14 days' retention,
/// dead-letter queue included) or the outbox relay (minutes): past that the record guards
/// nothing, and the ticket keeps its own copy of the notification.
const RETENTION: SignedDuration = SignedDuration::from_hours(30 * 24);

#[derive(Clone)]
pub struct DynamoDeliveryLedger {
    client: Client,
    table: String,
}

impl DynamoDeliveryLedger {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    async fn read(&self, id: &MessageId) -> Result<Option<Item>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(backend)?;
        Ok(output.item().cloned())
    }

    async fn settle(
        &self,
        id: &MessageId,
        state: &str,
        at: Timestamp,
        provider_message_id: Option<&str>,
    ) -> Result<(), StoreError> {
        let item = settled_item(id, state, at, provider_message_id)?;
        // Unconditional: settling is the end of this attempt's claim, and both settled states
        // are final, so overwriting either with the other loses nothing that matters.
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(backend)?;
        Ok(())
    }
}

fn millis(at: Timestamp) -> AttributeValue {
    AttributeValue::N(at.as_millisecond().to_string())
}

pub fn delivery_pk(id: &MessageId) -> String {
    format!("NOTIFICATION#{id}")
}

fn key(id: &MessageId) -> Item {
    item::key(delivery_pk(id), DELIVERY_SK)
}

/// The delivery record: claimed (`sending`, under a lease) or settled. Only `state` and
/// `lease_until` are read back.
#[derive(Default, Serialize, Deserialize)]
struct DeliveryItem {
    #[serde(skip_deserializing)]
    pk: String,
    #[serde(skip_deserializing)]
    sk: &'static str,
    #[serde(rename = "type", skip_deserializing)]
    kind: &'static str,
    state: String,
    /// Epoch milliseconds (`N`), so the claim's condition compares it as a number.
    #[serde(skip_serializing_if = "Option::is_none")]
    lease_until: Option<i64>,
    #[serde(skip_deserializing, skip_serializing_if = "Option::is_none")]
    claimed_at: Option<Timestamp>,
    #[serde(skip_deserializing, skip_serializing_if = "Option::is_none")]
    settled_at: Option<Timestamp>,
    #[serde(skip_deserializing, skip_serializing_if = "Option::is_none")]
    provider_message_id: Option<String>,
    #[serde(skip_deserializing, skip_serializing_if = "Option::is_none")]
    sent_at: Option<Timestamp>,
    /// The table's TTL attribute (epoch seconds).
    #[serde(skip_deserializing)]
    expires_at: i64,
}

impl DeliveryItem {
    fn new(id: &MessageId, state: &str, at: Timestamp) -> Self {
        Self {
            pk: delivery_pk(id),
            sk: DELIVERY_SK,
            kind: "notification_delivery",
            state: state.to_owned(),
            expires_at: (at + RETENTION).as_second(),
            ..Self::default()
        }
    }
}

fn claim_item(id: &MessageId, now: Timestamp, lease_until: Timestamp) -> Result<Item, StoreError> {
    to_item(&DeliveryItem {
        lease_until: Some(lease_until.as_millisecond()),
        claimed_at: Some(now),
        // A claim whose attempt died and whose message was dead-lettered must not stay forever.
        ..DeliveryItem::new(id, SENDING, now)
    })
}

fn settled_item(
    id: &MessageId,
    state: &str,
    at: Timestamp,
    provider_message_id: Option<&str>,
) -> Result<Item, StoreError> {
    to_item(&DeliveryItem {
        settled_at: Some(at),
        provider_message_id: provider_message_id.map(str::to_owned),
        sent_at: provider_message_id.map(|_| at),
        ..DeliveryItem::new(id, state, at)
    })
}

/// What a record that refused a claim says.
fn refusal(item: &Item) -> Result<Claim, StoreError> {
    let record: DeliveryItem = from_item(item)?;
    match record.state.as_str() {
        SENT => Ok(Claim::Settled(Settled::Sent)),
        NO_ADDRESS => Ok(Claim::Settled(Settled::NoAddress)),
        SENDING => {
            let until = record
                .lease_until
                .and_then(|ms| Timestamp::from_millisecond(ms).ok())
                .ok_or(StoreError::Corrupt {
                    attribute: "lease_until",
                })?;
            Ok(Claim::Held { until })
        }
        _ => Err(StoreError::Corrupt { attribute: "state" }),
    }
}

impl DeliveryLedger for DynamoDeliveryLedger {
    async fn claim(
        &self,
        id: &MessageId,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<Claim, StoreError> {
        let item = claim_item(id, now, lease_until)?;
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            // `#state`, `#lease`: moto mis-handles some bare attribute names.
            .condition_expression(
                "attribute_not_exists(pk) OR (#state = :sending AND #lease < :now)",
            )
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#lease", "lease_until")
            .expression_attribute_values(":sending", s(SENDING))
            .expression_attribute_values(":now", millis(now))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        let error = match result {
            Ok(_) => return Ok(Claim::Claimed),
            Err(error) => error,
        };
        let SdkError::ServiceError(service) = &error else {
            return Err(backend(error));
        };
        let PutItemError::ConditionalCheckFailedException(refused) = service.err() else {
            return Err(backend(error));
        };
        // The refusing record comes back with the error; read it if the service did not send it.
        let existing = match refused.item() {
            Some(item) if !item.is_empty() => Some(item.clone()),
            _ => self.read(id).await?,
        };
        match existing {
            Some(item) => refusal(&item),
            // Released between the refusal and the read: another attempt is in the middle of
            // it, so this one defers to the next redelivery.
            None => Ok(Claim::Held { until: now }),
        }
    }

    async fn mark_sent(
        &self,
        id: &MessageId,
        provider_message_id: &str,
        sent_at: Timestamp,
    ) -> Result<(), StoreError> {
        self.settle(id, SENT, sent_at, Some(provider_message_id))
            .await
    }

    async fn mark_no_address(&self, id: &MessageId, at: Timestamp) -> Result<(), StoreError> {
        self.settle(id, NO_ADDRESS, at, None).await
    }

    async fn release(&self, id: &MessageId, lease_until: Timestamp) -> Result<(), StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(id)))
            // Only this attempt's own lease: a later attempt may have taken over an expired one.
            .condition_expression("#state = :sending AND #lease = :mine")
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#lease", "lease_until")
            .expression_attribute_values(":sending", s(SENDING))
            .expression_attribute_values(":mine", millis(lease_until))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            // No longer ours (taken over, or settled): nothing to give back.
            Err(SdkError::ServiceError(e)) if e.err().is_conditional_check_failed_exception() => {
                Ok(())
            }
            Err(e) => Err(backend(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_delivery_items_are_pinned_attribute_for_attribute() {
        use crate::dynamo::item::expect::{item, num, text};
        let id = MessageId::from_bytes([1; 16]);
        let pk = format!("NOTIFICATION#{}", "01".repeat(16));
        let now: Timestamp = "2026-11-26T15:00:00Z".parse().expect("valid");
        let until: Timestamp = "2026-11-26T15:02:00.5Z".parse().expect("valid");
        let claim = item([
            ("pk", text(&pk)),
            ("sk", text("DELIVERY")),
            ("type", text("notification_delivery")),
            ("state", text("sending")),
            ("lease_until", num("1795705320500")),
            ("claimed_at", text("2026-11-26T15:00:00Z")),
            ("expires_at", num("1798297200")),
        ]);
        assert_eq!(claim_item(&id, now, until).expect("item"), claim);
        assert_eq!(refusal(&claim).expect("read"), Claim::Held { until });
        let sent = item([
            ("pk", text(&pk)),
            ("sk", text("DELIVERY")),
            ("type", text("notification_delivery")),
            ("state", text("sent")),
            ("settled_at", text("2026-11-26T15:00:00Z")),
            ("expires_at", num("1798297200")),
            ("provider_message_id", text("ses-1")),
            ("sent_at", text("2026-11-26T15:00:00Z")),
        ]);
        assert_eq!(
            settled_item(&id, SENT, now, Some("ses-1")).expect("item"),
            sent
        );
        assert_eq!(refusal(&sent).expect("read"), Claim::Settled(Settled::Sent));
        let no_address = item([
            ("pk", text(&pk)),
            ("sk", text("DELIVERY")),
            ("type", text("notification_delivery")),
            ("state", text("no_address")),
            ("settled_at", text("2026-11-26T15:00:00Z")),
            ("expires_at", num("1798297200")),
        ]);
        assert_eq!(
            settled_item(&id, NO_ADDRESS, now, None).expect("item"),
            no_address
        );
        let mut claim = claim;
        for damage in [None, Some(text("1795705320500")), Some(num("soon"))] {
            match damage {
                Some(value) => claim.insert("lease_until".into(), value),
                None => claim.remove("lease_until"),
            };
            assert!(matches!(
                refusal(&claim),
                Err(StoreError::Corrupt {
                    attribute: "lease_until"
                })
            ));
        }
        claim.insert("lease_until".into(), num("1795705320500"));
        claim.remove("state");
        assert!(matches!(
            refusal(&claim),
            Err(StoreError::Corrupt { attribute: "state" })
        ));
    }

    #[test]
    fn a_refusing_record_says_why() {
        let id = MessageId::from_bytes([1; 16]);
        let mut item = key(&id);
        item.insert("state".into(), s(SENT));
        assert_eq!(refusal(&item).expect("read"), Claim::Settled(Settled::Sent));
        item.insert("state".into(), s(NO_ADDRESS));
        assert_eq!(
            refusal(&item).expect("read"),
            Claim::Settled(Settled::NoAddress)
        );
        let until: Timestamp = "2026-11-26T15:02:00Z".parse().expect("valid");
        item.insert("state".into(), s(SENDING));
        item.insert("lease_until".into(), millis(until));
        assert_eq!(refusal(&item).expect("read"), Claim::Held { until });
        item.insert("state".into(), s("lost"));
        assert!(matches!(
            refusal(&item),
            Err(StoreError::Corrupt { attribute: "state" })
        ));
        assert_eq!(
            key(&id).get("pk"),
            Some(&s(format!("NOTIFICATION#{}", "01".repeat(16))))
        );
    }
}

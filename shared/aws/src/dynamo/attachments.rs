//! The DynamoDB adapter for ticket attachments, in the ticket's own item collection:
//!
//! | item             | pk              | sk                       |
//! |------------------|-----------------|--------------------------|
//! | attachment       | `TICKET#<ref>`  | `ATTACHMENT#<upload id>` |
//! | attachment count | `TICKET#<ref>`  | `ATTACHMENT_COUNT`       |
//!
//! An attachment's body is JSON (`body`) beside its `state`, which the conditional writes test.
//! The count of attachments that hold a slot (pending or checked) is its own item rather than an
//! attribute of the ticket item: the ticket is written whole (a Put), and a later Put of the
//! ticket would silently reset an attribute it does not know. Issuing is one TransactWriteItems
//! (the ticket exists; the count is below the limit, incremented; the attachment is new), so the
//! limit holds under any concurrency; a refusal or an expiry writes the attachment (on the state
//! it was read in) and gives the slot back in one transaction too.

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    CancellationReason, ConditionCheck, Put, ReturnValuesOnConditionCheckFailure,
    TransactWriteItem, Update,
};
use aws_sdk_dynamodb::Client;

use serde::Serialize;

use crate::dynamo::item::{self, backend, body, n, s, to_item, Item, Json};
use crate::dynamo::query::query_all;
use crate::dynamo::tickets::ticket_pk;
use guichet_core::attachments::ports::{AttachmentStore, Issued, Settled};
use guichet_core::attachments::rules::{Attachment, AttachmentState};
use guichet_core::common::reference::TicketReference;
use guichet_core::common::store::StoreError;
use guichet_core::documents::rules::UploadId;
use guichet_core::tickets::ticket::TicketStatus;

const TICKET_SK: &str = "TICKET";
pub(crate) const ATTACHMENT_PREFIX: &str = "ATTACHMENT#";
const COUNT_SK: &str = "ATTACHMENT_COUNT";

#[derive(Clone)]
pub struct DynamoAttachmentStore {
    client: Client,
    table: String,
}

impl DynamoAttachmentStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

fn key(reference: &TicketReference, sk: impl Into<String>) -> Item {
    item::key(ticket_pk(reference), sk)
}

fn attachment_sk(upload: &UploadId) -> String {
    format!("{ATTACHMENT_PREFIX}{}", upload.as_str())
}

fn state_name(state: AttachmentState) -> &'static str {
    match state {
        AttachmentState::Pending => "pending",
        AttachmentState::Checked => "checked",
        AttachmentState::Refused(_) => "refused",
        AttachmentState::Expired => "expired",
    }
}

/// The attachment item: its body as JSON beside its `state`, which the conditional writes test.
#[derive(Serialize)]
struct AttachmentItem<'a> {
    pk: String,
    sk: String,
    #[serde(rename = "type")]
    kind: &'static str,
    state: &'static str,
    body: Json<&'a Attachment>,
}

fn attachment_item(attachment: &Attachment) -> Result<Item, StoreError> {
    to_item(&AttachmentItem {
        pk: ticket_pk(&attachment.reference),
        sk: attachment_sk(&attachment.upload),
        kind: "attachment",
        state: state_name(attachment.state),
        body: Json(attachment),
    })
}

/// A ticket's attachments in the order they were issued. Upload ids are random: the sort key
/// says nothing of the order.
pub(crate) fn sort_attachments(attachments: &mut [Attachment]) {
    attachments
        .sort_by(|a, b| (a.issued_at, a.upload.as_str()).cmp(&(b.issued_at, b.upload.as_str())));
}

pub(crate) fn attachment_from(item: &Item) -> Result<Attachment, StoreError> {
    body(item)
}

/// The attachment, written only if it is new (`from: None`, when issued) or still in state
/// `from` (when settled).
fn attachment_put(
    table: &str,
    attachment: &Attachment,
    from: Option<AttachmentState>,
) -> Result<Put, StoreError> {
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(attachment_item(attachment)?));
    let put = match from {
        None => put.condition_expression("attribute_not_exists(pk)"),
        Some(from) => put
            .condition_expression("#state = :from")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":from", s(state_name(from))),
    };
    put.build().map_err(backend)
}

/// The cancellation reasons of a failed transaction, `Err` for any other failure.
fn cancellation(
    error: SdkError<TransactWriteItemsError, HttpResponse>,
) -> Result<Option<Vec<CancellationReason>>, StoreError> {
    match &error {
        SdkError::ServiceError(service) => match service.err() {
            TransactWriteItemsError::TransactionCanceledException(cancelled) => {
                Ok(Some(cancelled.cancellation_reasons().to_vec()))
            }
            // Another transaction on the same items is in flight: same as a conflict.
            TransactWriteItemsError::TransactionInProgressException(_) => Ok(None),
            _ => Err(backend(error)),
        },
        _ => Err(backend(error)),
    }
}

fn code(reasons: &[CancellationReason], index: usize) -> &str {
    reasons
        .get(index)
        .and_then(CancellationReason::code)
        .unwrap_or("None")
}

impl AttachmentStore for DynamoAttachmentStore {
    async fn issue(&self, attachment: &Attachment, max: u32) -> Result<Issued, StoreError> {
        let reference = &attachment.reference;
        // A closed ticket takes no more attachments, even if it closed after it was read; the
        // old item, returned when the check fails, tells a closed ticket from a missing one.
        let ticket_open = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(key(reference, TICKET_SK)))
            .condition_expression("attribute_exists(pk) AND #status <> :closed")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":closed", s(TicketStatus::Closed.as_str()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .map_err(backend)?;
        let count = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(reference, COUNT_SK)))
            .update_expression("SET #issued = if_not_exists(#issued, :zero) + :one, #type = :type")
            .condition_expression("attribute_not_exists(#issued) OR #issued < :max")
            .expression_attribute_names("#issued", "issued")
            .expression_attribute_names("#type", "type")
            .expression_attribute_values(":zero", n(0_u32))
            .expression_attribute_values(":one", n(1_u32))
            .expression_attribute_values(":max", n(max))
            .expression_attribute_values(":type", s("attachment_count"))
            .build()
            .map_err(backend)?;
        let result = self
            .client
            .transact_write_items()
            .transact_items(
                TransactWriteItem::builder()
                    .condition_check(ticket_open)
                    .build(),
            )
            .transact_items(TransactWriteItem::builder().update(count).build())
            .transact_items(
                TransactWriteItem::builder()
                    .put(attachment_put(&self.table, attachment, None)?)
                    .build(),
            )
            .send()
            .await;
        let reasons = match result {
            Ok(_) => return Ok(Issued::Done),
            Err(error) => match cancellation(error)? {
                Some(reasons) => reasons,
                None => return Ok(Issued::Contended),
            },
        };
        if reasons
            .iter()
            .any(|r| r.code() == Some("TransactionConflict"))
        {
            return Ok(Issued::Contended);
        }
        Ok(
            match (code(&reasons, 0), code(&reasons, 1), code(&reasons, 2)) {
                ("ConditionalCheckFailed", _, _) => match reasons.first().and_then(|r| r.item()) {
                    Some(_) => Issued::TicketClosed,
                    None => Issued::NoTicket,
                },
                (_, "ConditionalCheckFailed", _) => Issued::LimitReached,
                // The upload id was drawn twice: draw another.
                (_, _, "ConditionalCheckFailed") => Issued::Contended,
                _ => {
                    return Err(StoreError::Corrupt {
                        attribute: "cancellation_reasons",
                    })
                }
            },
        )
    }

    async fn attachment(
        &self,
        reference: &TicketReference,
        upload: &UploadId,
    ) -> Result<Option<Attachment>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(reference, attachment_sk(upload))))
            .consistent_read(true)
            .send()
            .await
            .map_err(backend)?;
        output.item().map(attachment_from).transpose()
    }

    async fn attachments_of(
        &self,
        reference: &TicketReference,
    ) -> Result<Vec<Attachment>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :attachments)")
            .expression_attribute_values(":pk", s(ticket_pk(reference)))
            .expression_attribute_values(":attachments", s(ATTACHMENT_PREFIX))
            .consistent_read(true);
        let mut attachments = query_all(query)
            .await?
            .iter()
            .map(attachment_from)
            .collect::<Result<Vec<_>, _>>()?;
        sort_attachments(&mut attachments);
        Ok(attachments)
    }

    async fn settle(
        &self,
        attachment: &Attachment,
        from: AttachmentState,
    ) -> Result<Settled, StoreError> {
        if !from.counts() || attachment.counts() {
            // Its slot does not change (pending to checked): one conditional Put.
            let result = self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(attachment_item(attachment)?))
                .condition_expression("#state = :from")
                .expression_attribute_names("#state", "state")
                .expression_attribute_values(":from", s(state_name(from)))
                .send()
                .await;
            return match result {
                Ok(_) => Ok(Settled::Done),
                Err(error)
                    if error
                        .as_service_error()
                        .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
                {
                    Ok(Settled::StateChanged)
                }
                Err(error) => Err(backend(error)),
            };
        }
        // Refused or expired: the slot goes back with the write. The count was incremented when
        // this attachment was issued, and it still held its slot (`from` counts, checked by the
        // condition), so the slot is given back exactly once.
        let release = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(&attachment.reference, COUNT_SK)))
            .update_expression("SET #issued = if_not_exists(#issued, :one) - :one")
            .expression_attribute_names("#issued", "issued")
            .expression_attribute_values(":one", n(1_u32))
            .build()
            .map_err(backend)?;
        let result = self
            .client
            .transact_write_items()
            .transact_items(
                TransactWriteItem::builder()
                    .put(attachment_put(&self.table, attachment, Some(from))?)
                    .build(),
            )
            .transact_items(TransactWriteItem::builder().update(release).build())
            .send()
            .await;
        let reasons = match result {
            Ok(_) => return Ok(Settled::Done),
            Err(error) => match cancellation(error)? {
                Some(reasons) => reasons,
                None => return Ok(Settled::Contended),
            },
        };
        if reasons
            .iter()
            .any(|r| r.code() == Some("TransactionConflict"))
        {
            return Ok(Settled::Contended);
        }
        if code(&reasons, 0) == "ConditionalCheckFailed" {
            return Ok(Settled::StateChanged);
        }
        Err(StoreError::Corrupt {
            attribute: "cancellation_reasons",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dynamo::item::expect::{self, text};
    use guichet_core::attachments::rules::attachment_key;
    use guichet_core::common::player::Author;
    use guichet_core::documents::rules::{CheckFailure, ContentType};

    #[test]
    fn an_attachment_survives_the_round_trip_through_its_item() {
        let reference = TicketReference::from_random([4; 9]);
        let upload = UploadId::parse("UP-0123456789ABCDEF").expect("valid");
        let attachment = Attachment {
            key: attachment_key(&reference, &upload),
            upload: upload.clone(),
            reference: reference.clone(),
            content_type: ContentType::Heic,
            size: 42,
            state: AttachmentState::Refused(CheckFailure::TypeMismatch),
            issued_at: "2026-11-26T15:00:00Z".parse().expect("valid"),
            expires_at: "2026-11-26T15:10:00Z".parse().expect("valid"),
            issued_by: Author::Staff {
                id: "agent-7".into(),
            },
            checked_at: Some("2026-11-26T15:01:00Z".parse().expect("valid")),
        };
        let item = attachment_item(&attachment).expect("item");
        assert_eq!(
            item,
            expect::item([
                ("pk", text("TICKET#444444444S")),
                ("sk", text("ATTACHMENT#UP-0123456789ABCDEF")),
                ("type", text("attachment")),
                ("state", text("refused")),
                (
                    "body",
                    text(&serde_json::to_string(&attachment).expect("serializable"))
                ),
            ])
        );
        assert_eq!(attachment_from(&item).expect("readable"), attachment);
        for (state, name) in [
            (AttachmentState::Pending, "pending"),
            (AttachmentState::Checked, "checked"),
            (AttachmentState::Expired, "expired"),
        ] {
            let attachment = Attachment {
                state,
                checked_at: None,
                ..attachment.clone()
            };
            let item = attachment_item(&attachment).expect("item");
            assert_eq!(item["state"], text(name));
            assert_eq!(attachment_from(&item).expect("readable"), attachment);
        }
        let mut damaged = item;
        for damage in [Some(text("{}")), Some(expect::num("1")), None] {
            match damage {
                Some(value) => damaged.insert("body".into(), value),
                None => damaged.remove("body"),
            };
            assert!(matches!(
                attachment_from(&damaged),
                Err(StoreError::Corrupt { attribute: "body" })
            ));
        }
        // The count item is not an attachment, whatever a prefix query returns.
        assert!(!COUNT_SK.starts_with(ATTACHMENT_PREFIX));
    }
}

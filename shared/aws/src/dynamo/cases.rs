//! The DynamoDB adapter for verification cases, in the tickets' table:
//!
//! | item             | pk                  | sk                          | gsi1 (player)                          | gsi2 (review queue, in review only)          |
//! |------------------|---------------------|-----------------------------|----------------------------------------|----------------------------------------------|
//! | case             | `CASE#<id>`         | `CASE`                      | `PLAYER#<id>` / `CASE#<opened ms>#<id>`| `REVIEW#standard|senior#<shard>` / `<0|1>#<submitted ms>#<id>` |
//! | audit line       | `CASE#<id>`         | `AUDIT#<ms>#<version>#<n>`  |                                        |                                              |
//! | open-case marker | `PLAYER#<id>`       | `OPENCASE`                  |                                        |                                              |
//! | upload           | `UPLOAD#<id>`       | `UPLOAD`                    |                                        |                                              |
//! | notification     | `CASE#<id>`         | `NOTIFICATION#<at ms>#<id>` |                                        |                                              |
//!
//! Each review queue is spread over four shards (`#0` to `#3`, by the id's first random
//! symbol, see `shards.rs`), so that the writes of cases in review do not all land on one index
//! key; a page of the queue reads the shards and the unsharded `REVIEW#standard|senior` of
//! before, and merges them.
//!
//! A case's body is stored as JSON (`body`) beside the key attributes: the documents list is
//! read and written whole, always with the case. Each write is one transaction conditioned on
//! the version it was computed from; the marker makes "one open case per player" a condition
//! rather than a hope.

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem};
use aws_sdk_dynamodb::Client;

use serde::Serialize;

use crate::dynamo::item::{backend, body, ms, s, to_item, Item, Json};
use crate::dynamo::notifications::notification_item;
use crate::dynamo::query::{IndexQuery, SortKeys};
use crate::dynamo::shards::{ShardedIndex, Shards};
use crate::dynamo::tickets::{outbox_item, PLAYER_INDEX, QUEUE_INDEX};
use guichet_core::common::player::PlayerId;
use guichet_core::common::store::StoreError;
use guichet_core::documents::rules::UploadId;
use guichet_core::verification::ports::{CaseStore, CaseWrite, PendingUpload, Saved};
use guichet_core::verification::rules::{AuditEntry, CaseId, CaseStatus, VerificationCase};

pub(crate) const CASE_SK: &str = "CASE";
const MARKER_SK: &str = "OPENCASE";
const UPLOAD_SK: &str = "UPLOAD";
const AUDIT_PREFIX: &str = "AUDIT#";

#[derive(Clone)]
pub struct DynamoCaseStore {
    client: Client,
    table: String,
}

impl DynamoCaseStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

pub(crate) fn case_pk(id: &CaseId) -> String {
    format!("CASE#{}", id.as_str())
}

fn player_pk(player: &PlayerId) -> String {
    format!("PLAYER#{}", player.as_str())
}

/// How many index partitions each review queue is spread over. Every change of a case in
/// review (a document checked, a note, a decision) rewrites its queue entry (projection `ALL`),
/// and at the desk's scale the standard queue's one partition key would near the 1,000 writes
/// per second one key takes. Four, like a team's queue: the review queue is another queue of
/// the same desk, and a page costs five small queries read at once.
const REVIEW_SHARDS: u8 = 4;

/// A review queue: `REVIEW#<standard|senior>#0` to `#3`, and the unsharded `REVIEW#<queue>`
/// of before (still read, so no case submitted before the change is hidden).
fn review_shards(senior: bool) -> Shards {
    let queue = if senior { "senior" } else { "standard" };
    Shards::new(format!("REVIEW#{queue}"), REVIEW_SHARDS)
}

/// The case item: its body as JSON beside the attributes its conditions and indexes use.
#[derive(Serialize)]
struct CaseItem<'a> {
    pk: String,
    sk: &'static str,
    #[serde(rename = "type")]
    kind: &'static str,
    gsi1pk: String,
    gsi1sk: String,
    status: CaseStatus,
    etag: u64,
    body: Json<&'a VerificationCase>,
    /// In its review queue only while in review.
    #[serde(skip_serializing_if = "Option::is_none")]
    gsi2pk: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    gsi2sk: Option<String>,
    /// The digest of the case as written: a write decided on a reviewer's `state` token is
    /// conditioned on it.
    fingerprint: String,
}

fn case_item(case: &VerificationCase) -> Result<Item, StoreError> {
    let review = (case.status == CaseStatus::InReview).then(|| {
        let rank = if case.blocks_withdrawal() { 0 } else { 1 };
        let submitted = case.submitted_at.unwrap_or(case.updated_at);
        (
            // The shard follows the case's random symbols: fixed for the case's life.
            review_shards(case.needs_senior).partition_of(case.id.symbols()),
            format!("{rank}#{}#{}", ms(submitted), case.id.as_str()),
        )
    });
    let (gsi2pk, gsi2sk) = review.unzip();
    to_item(&CaseItem {
        pk: case_pk(&case.id),
        sk: CASE_SK,
        kind: "verification_case",
        gsi1pk: player_pk(&case.player),
        gsi1sk: format!("CASE#{}#{}", ms(case.opened_at), case.id.as_str()),
        status: case.status,
        etag: case.etag,
        body: Json(case),
        gsi2pk,
        gsi2sk,
        fingerprint: guichet_core::common::seen::fingerprint(case),
    })
}

/// An audit line or a pending upload: its record as JSON in `body`.
#[derive(Serialize)]
struct BodyItem<'a, T> {
    pk: String,
    sk: String,
    #[serde(rename = "type")]
    kind: &'static str,
    body: Json<&'a T>,
}

fn audit_item(case: &VerificationCase, n: usize, entry: &AuditEntry) -> Result<Item, StoreError> {
    to_item(&BodyItem {
        pk: case_pk(&case.id),
        sk: format!("{AUDIT_PREFIX}{}#{:06}#{n:02}", ms(entry.at), case.version),
        kind: "audit",
        body: Json(entry),
    })
}

fn upload_item(upload: &PendingUpload) -> Result<Item, StoreError> {
    to_item(&BodyItem {
        pk: format!("UPLOAD#{}", upload.upload.as_str()),
        sk: UPLOAD_SK.into(),
        kind: "upload",
        body: Json(upload),
    })
}

/// The player's open-case marker: the ticket store reads it to link a verification ticket.
fn marker_item(case: &VerificationCase) -> Item {
    Item::from([
        ("pk".to_owned(), s(player_pk(&case.player))),
        ("sk".to_owned(), s(MARKER_SK)),
        ("case_id".to_owned(), s(case.id.as_str())),
    ])
}

fn put(table: &str, item: Item, condition: Option<&str>) -> Result<TransactWriteItem, StoreError> {
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .set_condition_expression(condition.map(str::to_owned))
        .build()
        .map_err(backend)?;
    Ok(TransactWriteItem::builder().put(put).build())
}

impl CaseStore for DynamoCaseStore {
    async fn save(&self, write: CaseWrite<'_>) -> Result<Saved, StoreError> {
        let case = write.case;
        let mut items = Vec::new();
        let mut case_put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(case_item(case)?));
        case_put = if write.expected_etag == 0 {
            case_put.condition_expression("attribute_not_exists(pk)")
        } else {
            let versioned = case_put
                .expression_attribute_names("#etag", "etag")
                .expression_attribute_values(
                    ":expected",
                    AttributeValue::N(write.expected_etag.to_string()),
                );
            // Decided on a reviewer's `state` token: the stored case must be that one.
            match write.seen {
                None => versioned.condition_expression("#etag = :expected"),
                Some(seen) => versioned
                    .condition_expression("#etag = :expected AND #fp = :seen")
                    .expression_attribute_names("#fp", "fingerprint")
                    .expression_attribute_values(":seen", s(seen)),
            }
        };
        items.push(
            TransactWriteItem::builder()
                .put(case_put.build().map_err(backend)?)
                .build(),
        );
        let marker_key = Item::from([
            ("pk".to_owned(), s(player_pk(&case.player))),
            ("sk".to_owned(), s(MARKER_SK)),
        ]);
        if write.expected_etag == 0 {
            items.push(put(
                &self.table,
                marker_item(case),
                Some("attribute_not_exists(pk)"),
            )?);
        } else if !case.is_open() {
            // The case closed: the player may have a new one. Only this case's marker goes.
            let delete = Delete::builder()
                .table_name(&self.table)
                .set_key(Some(marker_key))
                .condition_expression("attribute_not_exists(pk) OR case_id = :id")
                .expression_attribute_values(":id", s(case.id.as_str()))
                .build()
                .map_err(backend)?;
            items.push(TransactWriteItem::builder().delete(delete).build());
        }
        for (n, entry) in write.audit.iter().enumerate() {
            items.push(put(&self.table, audit_item(case, n, entry)?, None)?);
        }
        if let Some(upload) = write.upload {
            items.push(put(&self.table, upload_item(upload)?, None)?);
        }
        if let Some((notification, message)) = write.notification {
            items.push(put(
                &self.table,
                notification_item(case_pk(&case.id), notification)?,
                Some("attribute_not_exists(pk)"),
            )?);
            items.push(put(
                &self.table,
                outbox_item(message)?,
                Some("attribute_not_exists(pk)"),
            )?);
        }
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => Ok(Saved::Done),
            Err(SdkError::ServiceError(service)) => match service.err() {
                TransactWriteItemsError::TransactionCanceledException(cancelled) => {
                    let failed = |i: usize| {
                        cancelled
                            .cancellation_reasons()
                            .get(i)
                            .and_then(|r| r.code())
                            .is_some_and(|c| {
                                c == "ConditionalCheckFailed" || c == "TransactionConflict"
                            })
                    };
                    if write.expected_etag == 0 && failed(1) && !failed(0) {
                        Ok(Saved::PlayerHasOpenCase)
                    } else {
                        Ok(Saved::Stale)
                    }
                }
                _ => Err(backend(SdkError::ServiceError(service))),
            },
            Err(e) => Err(backend(e)),
        }
    }

    async fn case(&self, id: &CaseId) -> Result<Option<VerificationCase>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(case_pk(id)))
            .key("sk", s(CASE_SK))
            .consistent_read(true)
            .send()
            .await
            .map_err(backend)?;
        output.item().map(body).transpose()
    }

    async fn cases_of(&self, player: &PlayerId) -> Result<Vec<VerificationCase>, StoreError> {
        let cases = IndexQuery {
            client: &self.client,
            table: &self.table,
            index: PLAYER_INDEX,
            partition: player_pk(player),
            keys: SortKeys::Prefix("CASE#"),
            forward: false,
        };
        cases.all().await?.iter().map(body).collect()
    }

    async fn upload(&self, id: &UploadId) -> Result<Option<PendingUpload>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(format!("UPLOAD#{}", id.as_str())))
            .key("sk", s(UPLOAD_SK))
            .consistent_read(true)
            .send()
            .await
            .map_err(backend)?;
        output.item().map(body).transpose()
    }

    async fn audit_of(&self, id: &CaseId) -> Result<Vec<AuditEntry>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :audit)")
            .expression_attribute_values(":pk", s(case_pk(id)))
            .expression_attribute_values(":audit", s(AUDIT_PREFIX))
            .consistent_read(true);
        crate::dynamo::query::query_all(query)
            .await?
            .iter()
            .map(body)
            .collect()
    }

    async fn review_queue(
        &self,
        senior: bool,
        limit: u16,
    ) -> Result<Vec<VerificationCase>, StoreError> {
        // Withdrawals first, then by submission: the first `limit` across the shards.
        let queue = ShardedIndex {
            client: &self.client,
            table: &self.table,
            index: QUEUE_INDEX,
            shards: review_shards(senior),
            forward: true,
        };
        let items = queue.items(usize::from(limit), None).await?;
        items.iter().map(body).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dynamo::item::expect::{item, num, text};
    use guichet_core::common::player::{Author, Language};
    use guichet_core::documents::rules::ContentType;
    use guichet_core::verification::ports::UploadState;
    use guichet_core::verification::rules::{AuditAction, CaseReason, DocumentKind};
    use jiff::Timestamp;

    fn at(text: &str) -> Timestamp {
        text.parse().expect("valid")
    }

    fn json<T: serde::Serialize>(value: &T) -> AttributeValue {
        AttributeValue::S(serde_json::to_string(value).expect("serializable"))
    }

    fn case(reason: CaseReason) -> VerificationCase {
        let mut case = VerificationCase::open(
            CaseId::parse("VC-7K2M9Q4XW3BD").expect("valid"),
            PlayerId::parse("p-1").expect("valid"),
            reason,
            &[],
            Language::Fr,
            at("2026-11-26T15:00:00.123Z"),
        );
        case.etag = 4;
        case.version = 2;
        case
    }

    #[test]
    fn the_case_items_are_pinned_attribute_for_attribute() {
        let awaiting = case(CaseReason::SecurityReview);
        let expected = item([
            ("pk", text("CASE#VC-7K2M9Q4XW3BD")),
            ("sk", text("CASE")),
            ("type", text("verification_case")),
            ("gsi1pk", text("PLAYER#p-1")),
            ("gsi1sk", text("CASE#001795705200123#VC-7K2M9Q4XW3BD")),
            ("status", text("awaiting_documents")),
            ("etag", num("4")),
            ("body", json(&awaiting)),
            // The digest of the case as its body stores it (core's rule).
            (
                "fingerprint",
                text(&guichet_core::common::seen::fingerprint(&awaiting)),
            ),
        ]);
        assert_eq!(case_item(&awaiting).expect("item"), expected);
        assert_eq!(
            body::<VerificationCase>(&expected).expect("readable"),
            awaiting
        );
        // In review: in its queue, a withdrawal first, by the time it was submitted.
        let mut review = case(CaseReason::FirstWithdrawal);
        review.status = CaseStatus::InReview;
        review.needs_senior = true;
        review.submitted_at = Some(at("2026-11-26T16:00:00Z"));
        let mut expected = expected;
        expected.insert("status".into(), text("in_review"));
        expected.insert("body".into(), json(&review));
        let fingerprint = guichet_core::common::seen::fingerprint(&review);
        expected.insert("fingerprint".into(), text(&fingerprint));
        // The shard: the id's first random symbol, `7`, modulo 4.
        expected.insert("gsi2pk".into(), text("REVIEW#senior#3"));
        expected.insert("gsi2sk".into(), text("0#001795708800000#VC-7K2M9Q4XW3BD"));
        assert_eq!(case_item(&review).expect("item"), expected);
        let standard = VerificationCase {
            needs_senior: false,
            submitted_at: None,
            reason: CaseReason::StaffRequest,
            ..review.clone()
        };
        expected.insert("body".into(), json(&standard));
        let fingerprint = guichet_core::common::seen::fingerprint(&standard);
        expected.insert("fingerprint".into(), text(&fingerprint));
        expected.insert("gsi2pk".into(), text("REVIEW#standard#3"));
        expected.insert("gsi2sk".into(), text("1#001795705200123#VC-7K2M9Q4XW3BD"));
        assert_eq!(case_item(&standard).expect("item"), expected);

        assert_eq!(
            marker_item(&review),
            item([
                ("pk", text("PLAYER#p-1")),
                ("sk", text("OPENCASE")),
                ("case_id", text("VC-7K2M9Q4XW3BD")),
            ])
        );
        let entry = AuditEntry {
            at: at("2026-11-26T15:00:00Z"),
            actor: Author::Player,
            action: AuditAction::Opened {
                reason: CaseReason::FirstWithdrawal,
            },
            internal_note: None,
        };
        let expected = item([
            ("pk", text("CASE#VC-7K2M9Q4XW3BD")),
            ("sk", text("AUDIT#001795705200000#000002#03")),
            ("type", text("audit")),
            ("body", json(&entry)),
        ]);
        assert_eq!(audit_item(&review, 3, &entry).expect("item"), expected);
        assert_eq!(body::<AuditEntry>(&expected).expect("readable"), entry);
        let upload = PendingUpload {
            upload: UploadId::parse("UP-0123456789ABCDEF").expect("valid"),
            case: review.id.clone(),
            player: review.player.clone(),
            kind: DocumentKind::GovernmentId,
            key: "verification/p-1/UP-0123456789ABCDEF".into(),
            content_type: ContentType::Heic,
            size: 42,
            issued_at: at("2026-11-26T15:00:00Z"),
            expires_at: at("2026-11-26T15:10:00Z"),
            issued_by: Author::Player,
            state: UploadState::Pending,
        };
        let expected = item([
            ("pk", text("UPLOAD#UP-0123456789ABCDEF")),
            ("sk", text("UPLOAD")),
            ("type", text("upload")),
            ("body", json(&upload)),
        ]);
        assert_eq!(upload_item(&upload).expect("item"), expected);
        assert_eq!(body::<PendingUpload>(&expected).expect("readable"), upload);
    }

    #[test]
    fn a_damaged_body_is_refused_naming_it() {
        let mut item = case_item(&case(CaseReason::SecurityReview)).expect("item");
        for damage in [Some(text("{}")), Some(num("1")), None] {
            match damage {
                Some(value) => item.insert("body".into(), value),
                None => item.remove("body"),
            };
            assert!(matches!(
                body::<VerificationCase>(&item),
                Err(StoreError::Corrupt { attribute: "body" })
            ));
        }
    }
}

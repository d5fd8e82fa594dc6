//! The DynamoDB adapter for multi-player incidents, in the tickets table:
//!
//! | item            | pk                   | sk                          |
//! |-----------------|----------------------|-----------------------------|
//! | report index    | `SUBJECT#<key>`      | `REPORT#<received ms>#<ref>`|
//! | subject marker  | `SUBJECT#<key>`      | `INCIDENT`                  |
//! | incident        | `INCIDENT#<id>`      | `INCIDENT`                  |
//! | link            | `INCIDENT#<id>`      | `LINK#<ref>`                |
//! | status update   | `INCIDENT#<id>`      | `UPDATE#<seq>`              |
//!
//! An incident that is not resolved is also in the sparse `gsi2` under
//! `INCIDENTS#<team>#<shard>` / `<created ms>#<id>` (the team's current incidents, newest
//! first); the resolution removes those two attributes in its own update, so the index holds
//! only what is under way. The shard (`0` to `3`) is the id's first random symbol modulo four
//! (`shards.rs`), so an incident's updates do not share one index key with every other
//! incident's of the team; the listing reads the four shards and the unsharded
//! `INCIDENTS#<team>` of before, and merges them.
//!
//! `<key>` is the subject's normalised key (`game:roulette royale`). A subject's reports in a
//! window are one consistent `Query` on its partition (a `BETWEEN` on the sort key); its marker
//! names the current incident and is created with it under `attribute_not_exists(pk) OR
//! state = resolved`, so concurrent reports open one incident. An incident and its links and
//! updates are one item collection, read by one `Query`.
//!
//! The incident item keeps its creation-time fields as JSON (`data`) and the fields that change
//! as attributes of their own (`status`, `version`, `updated_at`, `resolved_at`,
//! `escalation_state`), which win over `data` when read: a status update and the escalation's
//! progress are `UpdateItem`s of disjoint attributes, so neither can undo the other.
//!
//! Linking and unlinking update the ticket item in place (its `linked_incident`, `priority`, the
//! queue sort key `gsi2sk` that carries the priority, `version` and `updated_at`) under its
//! version, with the link and a history line, in one `TransactWriteItems`. The ticket item's
//! layout is `dynamo.rs`'s: the queue sort key and the history lines are built by its functions
//! (the integration tests read them back through `DynamoTicketStore`).

use std::collections::HashMap;

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    CancellationReason, ConditionCheck, Delete, Put, TransactWriteItem, Update,
};
use aws_sdk_dynamodb::Client;
use jiff::Timestamp;

use serde::{Deserialize, Serialize};

use crate::dynamo::item::{
    backend, data, from_item, get_s, key, ms, n, reference, s, to_item, DataItem, Item, Json,
};
use crate::dynamo::query::{query_all, read_collection};
use crate::dynamo::shards::{ShardedIndex, Shards};
use crate::dynamo::tickets::{
    change_history_items, outbox_item, ticket_item, ticket_pk, QUEUE_INDEX, TICKET_SK,
};
use guichet_core::common::paging::Page;
use guichet_core::common::reference::TicketReference;
use guichet_core::common::store::StoreError;
use guichet_core::incidents::ports::{
    Claimed, IncidentRecord, IncidentStart, IncidentStore, LinkWrite, Opened,
};
use guichet_core::incidents::rules::{
    EscalationProgress, Incident, IncidentId, IncidentStatus, IncidentUpdate, Link, Report,
    Subject, SubjectMarker,
};
use guichet_core::outbox::rules::OutboxMessage;
use guichet_core::tickets::ports::Updated;
use guichet_core::tickets::ticket::{Team, Ticket};
use guichet_core::tickets::workflow::Change;

const REPORT_PREFIX: &str = "REPORT#";
const MARKER_SK: &str = "INCIDENT";
const INCIDENT_SK: &str = "INCIDENT";
const LINK_PREFIX: &str = "LINK#";
const UPDATE_PREFIX: &str = "UPDATE#";
/// Sorts after every `REPORT#<digits>` key: the open end of a window.
const REPORTS_END: &str = "REPORT#~";

#[derive(Clone)]
pub struct DynamoIncidentStore {
    client: Client,
    table: String,
}

impl DynamoIncidentStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

fn subject_pk(subject: &Subject) -> String {
    format!("SUBJECT#{}", subject.key())
}

fn incident_pk(id: &IncidentId) -> String {
    format!("INCIDENT#{id}")
}

fn names(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// A report, indexed under its subject by the time it was received.
#[derive(Serialize, Deserialize)]
struct ReportItem {
    #[serde(skip_deserializing)]
    pk: String,
    #[serde(skip_deserializing)]
    sk: String,
    #[serde(rename = "type", skip_deserializing)]
    kind: &'static str,
    #[serde(with = "reference")]
    reference: TicketReference,
    received_at: Timestamp,
}

fn report_item(subject: &Subject, report: &Report) -> Result<Item, StoreError> {
    let (reference, received_at) = (&report.reference, report.received_at);
    to_item(&ReportItem {
        pk: subject_pk(subject),
        sk: format!("{REPORT_PREFIX}{}#{}", ms(received_at), reference.as_str()),
        kind: "incident_report",
        reference: reference.clone(),
        received_at,
    })
}

fn report_from(item: &Item) -> Result<Report, StoreError> {
    let record: ReportItem = from_item(item)?;
    Ok(Report {
        reference: record.reference,
        received_at: record.received_at,
    })
}

/// The incident as created (`data`), and the fields that change afterwards as attributes of
/// their own, which win over `data` when read. `resolved_at` is only ever set by an update.
#[derive(Serialize, Deserialize)]
#[serde(bound(deserialize = "D: serde::de::DeserializeOwned"))]
struct IncidentItem<D> {
    #[serde(skip_deserializing)]
    pk: String,
    #[serde(skip_deserializing)]
    sk: &'static str,
    #[serde(rename = "type", skip_deserializing)]
    kind: &'static str,
    data: Json<D>,
    status: IncidentStatus,
    version: u64,
    updated_at: Timestamp,
    #[serde(skip_serializing)]
    resolved_at: Option<Timestamp>,
    escalation_state: EscalationProgress,
    /// Among the team's current incidents until it is resolved.
    #[serde(skip_deserializing, skip_serializing_if = "Option::is_none")]
    gsi2pk: Option<String>,
    #[serde(skip_deserializing, skip_serializing_if = "Option::is_none")]
    gsi2sk: Option<String>,
    /// The digest of the incident as it is read back: a write decided on a staff member's
    /// `state` token is conditioned on it.
    #[serde(skip_deserializing)]
    fingerprint: String,
}

fn incident_item(incident: &Incident) -> Result<Item, StoreError> {
    let current = incident.status != IncidentStatus::Resolved;
    to_item(&IncidentItem {
        pk: incident_pk(&incident.id),
        sk: INCIDENT_SK,
        kind: "incident",
        data: Json(incident),
        status: incident.status,
        version: incident.version,
        updated_at: incident.updated_at,
        resolved_at: None,
        escalation_state: incident.escalation.state,
        // The shard follows the incident's random symbols: fixed for the incident's life.
        gsi2pk: current.then(|| current_shards(incident.team).partition_of(incident.id.symbols())),
        gsi2sk: current.then(|| current_sk(incident.created_at, &incident.id)),
        fingerprint: guichet_core::common::seen::fingerprint(incident),
    })
}

/// How many index partitions a team's current incidents are spread over. Every change of an
/// incident under way (a status update, the escalation's progress) rewrites its entry
/// (projection `ALL`); incidents are few, but during an outage each is updated often, and a
/// team's one key would share its 1,000 writes per second between all of them. Four, like the
/// team's queue it sits beside: a page costs five small queries read at once.
const CURRENT_SHARDS: u8 = 4;

/// A team's current incidents: `INCIDENTS#<team>#0` to `#3`, and the unsharded
/// `INCIDENTS#<team>` of before (still read, so no incident opened before the change is hidden
/// until it is resolved).
fn current_shards(team: Team) -> Shards {
    Shards::new(format!("INCIDENTS#{}", team.as_str()), CURRENT_SHARDS)
}

fn current_sk(created_at: Timestamp, id: &IncidentId) -> String {
    format!("{}#{}", ms(created_at), id.as_str())
}

/// `data` as created, overlaid with the attributes that change afterwards.
fn incident_from(item: &Item) -> Result<Incident, StoreError> {
    let record: IncidentItem<Incident> = from_item(item)?;
    let mut incident = record.data.0;
    incident.status = record.status;
    incident.version = record.version;
    incident.updated_at = record.updated_at;
    incident.resolved_at = record.resolved_at;
    incident.escalation.state = record.escalation_state;
    Ok(incident)
}

/// The subject's marker: its current incident, `open` until resolved (then with `resolved_at`).
#[derive(Serialize, Deserialize)]
struct MarkerItem {
    #[serde(skip_deserializing)]
    pk: String,
    #[serde(skip_deserializing)]
    sk: &'static str,
    #[serde(rename = "type", skip_deserializing)]
    kind: &'static str,
    incident_id: IncidentId,
    state: String,
    #[serde(skip_serializing)]
    resolved_at: Option<Timestamp>,
}

fn marker_item(incident: &Incident) -> Result<Item, StoreError> {
    to_item(&MarkerItem {
        pk: subject_pk(&incident.subject),
        sk: MARKER_SK,
        kind: "subject_marker",
        incident_id: incident.id.clone(),
        state: "open".into(),
        resolved_at: None,
    })
}

fn marker_from(item: &Item) -> Result<SubjectMarker, StoreError> {
    let record: MarkerItem = from_item(item)?;
    Ok(SubjectMarker {
        incident: record.incident_id,
        resolved_at: match record.state.as_str() {
            "open" => None,
            "resolved" => Some(record.resolved_at.ok_or(StoreError::Corrupt {
                attribute: "resolved_at",
            })?),
            _ => return Err(StoreError::Corrupt { attribute: "state" }),
        },
    })
}

fn link_item(incident: &IncidentId, link: &Link) -> Result<Item, StoreError> {
    to_item(&DataItem {
        pk: incident_pk(incident),
        sk: format!("{LINK_PREFIX}{}", link.reference.as_str()),
        kind: "incident_link",
        data: Json(link),
    })
}

fn update_item(incident: &IncidentId, update: &IncidentUpdate) -> Result<Item, StoreError> {
    to_item(&DataItem {
        pk: incident_pk(incident),
        sk: format!("{UPDATE_PREFIX}{:010}", update.seq),
        kind: "incident_update",
        data: Json(update),
    })
}

fn put(table: &str, item: Item, condition: &str) -> Result<TransactWriteItem, StoreError> {
    Ok(TransactWriteItem::builder()
        .put(
            Put::builder()
                .table_name(table)
                .set_item(Some(item))
                .condition_expression(condition)
                .build()
                .map_err(backend)?,
        )
        .build())
}

/// What a link or an unlink writes of the ticket besides its version and its incident: the
/// priority and what follows it (the queue's sort key, the clocks, the due time and its index
/// entry), the time and the fingerprint. An attribute the ticket's item no longer has is
/// removed (a due-time entry when no clock has anything to come).
const LINK_WRITES: &[&str] = &[
    "priority",
    "updated_at",
    "fingerprint",
    "response_due_at",
    "clocks",
    "gsi2sk",
    "gsi3pk",
    "gsi3sk",
];

/// The ticket's fields a link or unlink changes, in place, under the version it was read at.
/// The queue sort key follows the priority for tickets still in a queue (the index is sparse:
/// resolved and closed tickets have none, and must not get one back).
fn ticket_update(
    table: &str,
    ticket: &Ticket,
    expected_version: u64,
    incident: &IncidentId,
    claimed: Option<&str>,
) -> Result<TransactWriteItem, StoreError> {
    // The fingerprint follows the fields, so an agent's `state` token of the ticket as it was
    // no longer matches it. The clocks follow the priority (and the due-time index entry
    // follows the clocks), so they are written from the ticket's item as every other writer
    // writes them.
    let item = ticket_item(ticket)?;
    let mut set = vec!["#v = :next".to_owned()];
    let mut remove = Vec::new();
    let mut attribute_names = names(&[("#v", "version"), ("#li", "linked_incident")]);
    let mut values = HashMap::from([
        (":next".to_owned(), n(ticket.version)),
        (":expected".to_owned(), n(expected_version)),
        (":incident".to_owned(), s(incident.as_str())),
    ]);
    for (i, attribute) in LINK_WRITES.iter().enumerate() {
        let (name, value) = (format!("#a{i}"), format!(":a{i}"));
        match item.get(*attribute) {
            Some(found) => {
                set.push(format!("{name} = {value}"));
                values.insert(value, found.clone());
            }
            // The queue's index is sparse: a resolved or closed ticket must not get an entry
            // back, and has none to remove.
            None if *attribute == "gsi2sk" => continue,
            None => remove.push(name.clone()),
        }
        attribute_names.insert(name, (*attribute).to_owned());
    }
    let mut condition = if ticket.linked_incident.is_some() {
        set.push("#li = :incident".to_owned());
        "#v = :expected AND attribute_not_exists(#li)".to_owned()
    } else {
        remove.push("#li".to_owned());
        "#v = :expected AND #li = :incident".to_owned()
    };
    let mut expression = format!("SET {}", set.join(", "));
    if !remove.is_empty() {
        expression.push_str(&format!(" REMOVE {}", remove.join(", ")));
    }
    // Decided on an agent's `state` token of the ticket: the stored one must be that one.
    if let Some(claimed) = claimed {
        condition.push_str(" AND #fp = :claimed");
        attribute_names.insert("#fp".into(), "fingerprint".into());
        values.insert(":claimed".into(), s(claimed));
    }
    Ok(TransactWriteItem::builder()
        .update(
            Update::builder()
                .table_name(table)
                .set_key(Some(key(ticket_pk(&ticket.reference), TICKET_SK)))
                .update_expression(expression)
                .condition_expression(condition)
                .set_expression_attribute_names(Some(attribute_names))
                .set_expression_attribute_values(Some(values))
                .build()
                .map_err(backend)?,
        )
        .build())
}

/// The incident must not be resolved when a link changes: its record is final then. Decided
/// on a staff member's `state` token of the incident, it must also be that one.
fn incident_not_resolved(
    table: &str,
    id: &IncidentId,
    claimed: Option<&str>,
) -> Result<TransactWriteItem, StoreError> {
    let check = ConditionCheck::builder()
        .table_name(table)
        .set_key(Some(key(incident_pk(id), INCIDENT_SK)))
        .expression_attribute_names("#s", "status")
        .expression_attribute_values(":resolved", s(IncidentStatus::Resolved.as_str()));
    let check = match claimed {
        None => check.condition_expression("attribute_exists(pk) AND #s <> :resolved"),
        Some(claimed) => check
            .condition_expression("attribute_exists(pk) AND #s <> :resolved AND #fp = :claimed")
            .expression_attribute_names("#fp", "fingerprint")
            .expression_attribute_values(":claimed", s(claimed)),
    };
    Ok(TransactWriteItem::builder()
        .condition_check(check.build().map_err(backend)?)
        .build())
}

/// Why a transaction was refused, when it was refused for a reason we expect: a condition (or
/// a concurrent transaction on the same items). `None` for anything else (a real failure).
fn cancellation<E>(
    error: &SdkError<TransactWriteItemsError, E>,
) -> Option<Vec<CancellationReason>> {
    match error {
        SdkError::ServiceError(service) => match service.err() {
            TransactWriteItemsError::TransactionCanceledException(cancelled) => {
                Some(cancelled.cancellation_reasons().to_vec())
            }
            TransactWriteItemsError::TransactionInProgressException(_) => Some(Vec::new()),
            _ => None,
        },
        _ => None,
    }
}

fn failed(reasons: &[CancellationReason], index: usize) -> bool {
    reasons
        .get(index)
        .and_then(|r| r.code())
        .is_some_and(|code| code == "ConditionalCheckFailed")
}

impl DynamoIncidentStore {
    async fn transact(
        &self,
        items: Vec<TransactWriteItem>,
    ) -> Result<Result<(), Vec<CancellationReason>>, StoreError> {
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await;
        match result {
            Ok(_) => Ok(Ok(())),
            Err(error) => match cancellation(&error) {
                Some(reasons) => Ok(Err(reasons)),
                None => Err(backend(error)),
            },
        }
    }

    /// Link and unlink: the ticket first (index 0), the incident's check last.
    async fn change_link(
        &self,
        incident: &IncidentId,
        change: &Change,
        link: Option<&Link>,
        claimed: Claimed<'_>,
    ) -> Result<LinkWrite, StoreError> {
        let mut items = vec![ticket_update(
            &self.table,
            &change.ticket,
            change.expected_version,
            incident,
            claimed.ticket,
        )?];
        match link {
            Some(link) => items.push(put(
                &self.table,
                link_item(incident, link)?,
                "attribute_not_exists(pk)",
            )?),
            None => items.push(
                TransactWriteItem::builder()
                    .delete(
                        Delete::builder()
                            .table_name(&self.table)
                            .set_key(Some(key(
                                incident_pk(incident),
                                format!("{LINK_PREFIX}{}", change.ticket.reference.as_str()),
                            )))
                            .condition_expression("attribute_exists(pk)")
                            .build()
                            .map_err(backend)?,
                    )
                    .build(),
            ),
        }
        // Keyed as `DynamoTicketStore::update` keys a change's lines.
        for line in change_history_items(change) {
            items.push(put(&self.table, line?, "attribute_not_exists(pk)")?);
        }
        let check = items.len();
        items.push(incident_not_resolved(
            &self.table,
            incident,
            claimed.incident,
        )?);
        Ok(match self.transact(items).await? {
            Ok(()) => LinkWrite::Done,
            // On a claimed incident the check also fails when it is not the one claimed: that
            // is told apart by reading it (the desk's read path).
            Err(reasons) if failed(&reasons, check) && claimed.incident.is_none() => {
                LinkWrite::IncidentResolved
            }
            // The ticket's version or link state moved, or a concurrent transaction: read again.
            Err(_) => LinkWrite::Stale,
        })
    }
}

impl IncidentStore for DynamoIncidentStore {
    async fn index_report(&self, subject: &Subject, report: &Report) -> Result<(), StoreError> {
        // Unconditional: the same report always writes the same item.
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(report_item(subject, report)?))
            .send()
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn reports_since(
        &self,
        subject: &Subject,
        from: Timestamp,
    ) -> Result<Vec<Report>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND sk BETWEEN :from AND :end")
            .expression_attribute_values(":pk", s(subject_pk(subject)))
            .expression_attribute_values(":from", s(format!("{REPORT_PREFIX}{}", ms(from))))
            .expression_attribute_values(":end", s(REPORTS_END))
            .consistent_read(true);
        query_all(query).await?.iter().map(report_from).collect()
    }

    async fn marker(&self, subject: &Subject) -> Result<Option<SubjectMarker>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(subject_pk(subject), MARKER_SK)))
            .consistent_read(true)
            .send()
            .await
            .map_err(backend)?;
        output.item().map(marker_from).transpose()
    }

    async fn open(&self, incident: &Incident) -> Result<Opened, StoreError> {
        let marker = TransactWriteItem::builder()
            .put(
                Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(marker_item(incident)?))
                    .condition_expression("attribute_not_exists(pk) OR #state = :resolved")
                    .expression_attribute_names("#state", "state")
                    .expression_attribute_values(":resolved", s("resolved"))
                    .build()
                    .map_err(backend)?,
            )
            .build();
        let items = vec![
            marker,
            put(
                &self.table,
                incident_item(incident)?,
                "attribute_not_exists(pk)",
            )?,
        ];
        Ok(match self.transact(items).await? {
            Ok(()) => Opened::Created,
            // The marker's condition (another report opened one first) or a transaction racing
            // on it: either way the caller reads the marker again.
            Err(_) => Opened::SubjectTaken,
        })
    }

    async fn current(
        &self,
        team: Team,
        limit: u16,
        start: Option<&IncidentStart>,
    ) -> Result<Page<Incident, IncidentStart>, StoreError> {
        // Newest first: a page starts in every shard just before the cursor's entry (sort keys
        // are unique: they end with the incident's id).
        let current = ShardedIndex {
            client: &self.client,
            table: &self.table,
            index: QUEUE_INDEX,
            shards: current_shards(team),
            forward: false,
        };
        let after = start.map(|start| current_sk(start.created_at, &start.id));
        current
            .page(limit, after.as_deref(), incident_from, |last| {
                IncidentStart {
                    created_at: last.created_at,
                    id: last.id.clone(),
                }
            })
            .await
    }

    async fn read(&self, id: &IncidentId) -> Result<Option<IncidentRecord>, StoreError> {
        let mut incident = None;
        let mut links: Vec<Link> = Vec::new();
        let mut updates = Vec::new();
        for item in read_collection(&self.client, &self.table, incident_pk(id)).await? {
            match get_s(&item, "sk")? {
                INCIDENT_SK => incident = Some(incident_from(&item)?),
                sk if sk.starts_with(LINK_PREFIX) => links.push(data(&item)?),
                // Sorted by their zero-padded sequence already.
                sk if sk.starts_with(UPDATE_PREFIX) => updates.push(data(&item)?),
                _ => {}
            }
        }
        links.sort_by(|a, b| {
            (a.linked_at, a.reference.as_str()).cmp(&(b.linked_at, b.reference.as_str()))
        });
        Ok(incident.map(|incident| IncidentRecord {
            incident,
            links,
            updates,
        }))
    }

    async fn link(
        &self,
        incident: &IncidentId,
        change: &Change,
        link: &Link,
        claimed: Claimed<'_>,
    ) -> Result<LinkWrite, StoreError> {
        self.change_link(incident, change, Some(link), claimed)
            .await
    }

    async fn unlink(
        &self,
        incident: &IncidentId,
        change: &Change,
        claimed: Claimed<'_>,
    ) -> Result<LinkWrite, StoreError> {
        self.change_link(incident, change, None, claimed).await
    }

    async fn save_status(
        &self,
        incident: &Incident,
        expected_version: u64,
        update: &IncidentUpdate,
        fan_out: &OutboxMessage,
        claimed: Claimed<'_>,
    ) -> Result<Updated, StoreError> {
        // The fingerprint follows the incident as it is read back: `state` tokens of the
        // incident as it was no longer match it.
        let mut set = vec![
            "#s = :status",
            "#v = :next",
            "#u = :updated_at",
            "#fp = :fingerprint",
        ];
        let mut attribute_names = names(&[
            ("#s", "status"),
            ("#v", "version"),
            ("#u", "updated_at"),
            ("#fp", "fingerprint"),
        ]);
        let mut condition = "#v = :expected".to_owned();
        if claimed.incident.is_some() {
            condition.push_str(" AND #fp = :claimed");
        }
        let mut values = HashMap::from([
            (
                ":fingerprint".to_owned(),
                s(guichet_core::common::seen::fingerprint(incident)),
            ),
            (":status".to_owned(), s(incident.status.as_str())),
            (":next".to_owned(), n(incident.version)),
            (":updated_at".to_owned(), s(incident.updated_at.to_string())),
            (":expected".to_owned(), n(expected_version)),
        ]);
        if let Some(claimed) = claimed.incident {
            values.insert(":claimed".into(), s(claimed));
        }
        if let Some(resolved_at) = incident.resolved_at {
            set.push("#r = :resolved_at");
            attribute_names.insert("#r".into(), "resolved_at".into());
            values.insert(":resolved_at".into(), s(resolved_at.to_string()));
        }
        let mut items = vec![
            TransactWriteItem::builder()
                .update(
                    Update::builder()
                        .table_name(&self.table)
                        .set_key(Some(key(incident_pk(&incident.id), INCIDENT_SK)))
                        .update_expression(if incident.resolved_at.is_some() {
                            // Out of the team's current incidents.
                            format!("SET {} REMOVE gsi2pk, gsi2sk", set.join(", "))
                        } else {
                            format!("SET {}", set.join(", "))
                        })
                        .condition_expression(condition)
                        .set_expression_attribute_names(Some(attribute_names))
                        .set_expression_attribute_values(Some(values))
                        .build()
                        .map_err(backend)?,
                )
                .build(),
            put(
                &self.table,
                update_item(&incident.id, update)?,
                "attribute_not_exists(pk)",
            )?,
            // The fan-out's first page, relayed by the caller or the outbox sweep.
            put(
                &self.table,
                outbox_item(fan_out)?,
                "attribute_not_exists(pk)",
            )?,
        ];
        if let Some(resolved_at) = incident.resolved_at {
            // The subject's next reports count from here, towards a new incident.
            items.push(
                TransactWriteItem::builder()
                    .update(
                        Update::builder()
                            .table_name(&self.table)
                            .set_key(Some(key(subject_pk(&incident.subject), MARKER_SK)))
                            .update_expression("SET #state = :resolved, #r = :resolved_at")
                            .condition_expression("#i = :incident")
                            .set_expression_attribute_names(Some(names(&[
                                ("#state", "state"),
                                ("#r", "resolved_at"),
                                ("#i", "incident_id"),
                            ])))
                            .set_expression_attribute_values(Some(HashMap::from([
                                (":resolved".to_owned(), s("resolved")),
                                (":resolved_at".to_owned(), s(resolved_at.to_string())),
                                (":incident".to_owned(), s(incident.id.as_str())),
                            ])))
                            .build()
                            .map_err(backend)?,
                    )
                    .build(),
            );
        }
        Ok(match self.transact(items).await? {
            Ok(()) => Updated::Done,
            Err(_) => Updated::Stale,
        })
    }

    async fn settle_escalation(
        &self,
        incident: &Incident,
        state: EscalationProgress,
    ) -> Result<Updated, StoreError> {
        let mut settled = incident.clone();
        settled.escalation.state = state;
        let seen = guichet_core::common::seen::fingerprint(incident);
        let next = guichet_core::common::seen::fingerprint(&settled);
        // When the stored incident is the one the caller read, its fingerprint follows the
        // change; otherwise (it changed since, or was written before fingerprints) the state
        // is set alone and the fingerprint removed, so no `state` token matches it until the
        // next status update writes one.
        let exact = self
            .settle(
                incident,
                state,
                "SET #e = :state, #fp = :next",
                "#e = :pending AND #fp = :seen",
                &[(":next", next), (":seen", seen)],
            )
            .await?;
        if exact == Updated::Done {
            return Ok(exact);
        }
        self.settle(
            incident,
            state,
            "SET #e = :state REMOVE #fp",
            "#e = :pending",
            &[],
        )
        .await
    }
}

impl DynamoIncidentStore {
    /// One conditional update of the incident's escalation state.
    async fn settle(
        &self,
        incident: &Incident,
        state: EscalationProgress,
        update: &str,
        condition: &str,
        fingerprints: &[(&str, String)],
    ) -> Result<Updated, StoreError> {
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(incident_pk(&incident.id), INCIDENT_SK)))
            .update_expression(update)
            .condition_expression(condition)
            .expression_attribute_names("#e", "escalation_state")
            .expression_attribute_names("#fp", "fingerprint")
            .expression_attribute_values(":state", s(state.as_str()))
            .expression_attribute_values(":pending", s(EscalationProgress::Pending.as_str()));
        for (name, value) in fingerprints {
            request = request.expression_attribute_values(*name, s(value));
        }
        match request.send().await {
            Ok(_) => Ok(Updated::Done),
            Err(SdkError::ServiceError(e)) if e.err().is_conditional_check_failed_exception() => {
                Ok(Updated::Stale)
            }
            Err(e) => Err(backend(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dynamo::tickets::queue_sk;
    use guichet_core::incidents::rules::{open, Opening};
    use guichet_core::outbox::rules::MessageId;
    use guichet_core::tickets::ticket::Priority;

    fn at(text: &str) -> Timestamp {
        text.parse().expect("valid")
    }

    fn incident() -> Incident {
        open(Opening {
            id: IncidentId::from_random([7; 12]),
            subject: Subject::from_report(Some("Roulette  Royale"), None).expect("named"),
            trigger: TicketReference::from_random([4; 9]),
            reports: 3,
            threshold: 3,
            window: jiff::SignedDuration::from_mins(60),
            window_start: at("2026-11-26T14:00:00Z"),
            escalation_id: MessageId::from_bytes([9; 16]),
            at: at("2026-11-26T15:00:00Z"),
        })
    }

    fn json<T: serde::Serialize>(value: &T) -> aws_sdk_dynamodb::types::AttributeValue {
        aws_sdk_dynamodb::types::AttributeValue::S(
            serde_json::to_string(value).expect("serializable"),
        )
    }

    #[test]
    fn the_incident_items_are_pinned_attribute_for_attribute() {
        use crate::dynamo::item::expect::{item, num, text};
        use guichet_core::common::player::Author;
        let incident = incident();
        let expected = item([
            ("pk", text("INCIDENT#INC-777777777777")),
            ("sk", text("INCIDENT")),
            ("type", text("incident")),
            ("data", json(&incident)),
            ("status", text("open")),
            ("version", num("1")),
            ("updated_at", text("2026-11-26T15:00:00Z")),
            ("escalation_state", text("pending")),
            // The shard: the id's first random symbol, `7`, modulo 4.
            ("gsi2pk", text("INCIDENTS#games#3")),
            ("gsi2sk", text("001795705200000#INC-777777777777")),
            // The digest of the incident as it is read back (core's rule).
            (
                "fingerprint",
                text(&guichet_core::common::seen::fingerprint(&incident)),
            ),
        ]);
        assert_eq!(incident_item(&incident).expect("item"), expected);
        assert_eq!(incident_from(&expected).expect("readable"), incident);
        // Resolved: out of the team's current incidents.
        let resolved = Incident {
            status: IncidentStatus::Resolved,
            resolved_at: Some(at("2026-11-26T16:00:00Z")),
            ..incident.clone()
        };
        let mut expected = expected;
        expected.remove("gsi2pk");
        expected.remove("gsi2sk");
        expected.insert("status".into(), text("resolved"));
        expected.insert("data".into(), json(&resolved));
        let fingerprint = guichet_core::common::seen::fingerprint(&resolved);
        expected.insert("fingerprint".into(), text(&fingerprint));
        assert_eq!(incident_item(&resolved).expect("item"), expected);

        assert_eq!(
            marker_item(&incident).expect("item"),
            item([
                ("pk", text("SUBJECT#game:roulette royale")),
                ("sk", text("INCIDENT")),
                ("type", text("subject_marker")),
                ("incident_id", text("INC-777777777777")),
                ("state", text("open")),
            ])
        );

        let subject = incident.subject.clone();
        let report = Report {
            reference: TicketReference::parse("444444444S").expect("valid"),
            received_at: at("2026-11-26T15:00:00.123Z"),
        };
        let expected = item([
            ("pk", text("SUBJECT#game:roulette royale")),
            ("sk", text("REPORT#001795705200123#444444444S")),
            ("type", text("incident_report")),
            ("reference", text("444444444S")),
            ("received_at", text("2026-11-26T15:00:00.123Z")),
        ]);
        assert_eq!(report_item(&subject, &report).expect("item"), expected);
        assert_eq!(report_from(&expected).expect("readable"), report);

        let link = Link {
            reference: TicketReference::parse("444444444S").expect("valid"),
            linked_at: at("2026-11-26T15:00:00Z"),
            linked_by: Author::System,
        };
        assert_eq!(
            link_item(&incident.id, &link).expect("item"),
            item([
                ("pk", text("INCIDENT#INC-777777777777")),
                ("sk", text("LINK#444444444S")),
                ("type", text("incident_link")),
                ("data", json(&link)),
            ])
        );
        let update = IncidentUpdate {
            seq: 2,
            at: at("2026-11-26T15:30:00Z"),
            from: IncidentStatus::Open,
            status: IncidentStatus::Monitoring,
            note: None,
            by: Author::Staff {
                id: "agent-1".into(),
            },
        };
        assert_eq!(
            update_item(&incident.id, &update).expect("item"),
            item([
                ("pk", text("INCIDENT#INC-777777777777")),
                ("sk", text("UPDATE#0000000002")),
                ("type", text("incident_update")),
                ("data", json(&update)),
            ])
        );
    }

    #[test]
    fn damaged_incident_items_are_refused_naming_the_attribute() {
        let good = incident_item(&incident()).expect("item");
        for (attribute, damage) in [
            ("data", None),
            ("data", Some(s("{}"))),
            ("status", None),
            ("status", Some(s("lost"))),
            ("version", Some(s("1"))),
            ("updated_at", Some(s("yesterday"))),
            ("resolved_at", Some(s("yesterday"))),
            ("escalation_state", None),
        ] {
            let mut item = good.clone();
            match damage.clone() {
                Some(value) => item.insert(attribute.into(), value),
                None => item.remove(attribute),
            };
            assert!(
                matches!(incident_from(&item), Err(StoreError::Corrupt { attribute: a }) if a == attribute),
                "{attribute} damaged as {damage:?}"
            );
        }
        let mut marker = marker_item(&incident()).expect("item");
        marker.insert("state".into(), s("resolved"));
        assert!(matches!(
            marker_from(&marker),
            Err(StoreError::Corrupt {
                attribute: "resolved_at"
            })
        ));
        marker.insert("state".into(), s("lost"));
        assert!(matches!(
            marker_from(&marker),
            Err(StoreError::Corrupt { attribute: "state" })
        ));
        marker.remove("incident_id");
        assert!(matches!(
            marker_from(&marker),
            Err(StoreError::Corrupt {
                attribute: "incident_id"
            })
        ));
    }

    #[test]
    fn an_incident_survives_its_item_and_its_changing_fields_win() {
        let incident = incident();
        let mut item = incident_item(&incident).expect("item");
        assert_eq!(
            item.get("pk"),
            Some(&s(format!("INCIDENT#{}", incident.id)))
        );
        assert_eq!(incident_from(&item).expect("readable"), incident);
        item.insert("status".into(), s("resolved"));
        item.insert("version".into(), n(2_u64));
        item.insert("resolved_at".into(), s("2026-11-26T16:00:00Z"));
        item.insert("escalation_state".into(), s("requested"));
        let read = incident_from(&item).expect("readable");
        assert_eq!(read.status, IncidentStatus::Resolved);
        assert_eq!(read.version, 2);
        assert_eq!(read.resolved_at, Some(at("2026-11-26T16:00:00Z")));
        assert_eq!(read.escalation.state, EscalationProgress::Requested);
        item.insert("escalation_state".into(), s("sideways"));
        assert!(matches!(
            incident_from(&item),
            Err(StoreError::Corrupt {
                attribute: "escalation_state"
            })
        ));
    }

    #[test]
    fn reports_sort_by_time_under_their_subject() {
        let subject = Subject::from_report(Some("Roulette Royale"), None).expect("named");
        let report = Report {
            reference: TicketReference::from_random([1; 9]),
            received_at: at("2026-11-26T15:00:00.123Z"),
        };
        let item = report_item(&subject, &report).expect("item");
        assert_eq!(item.get("pk"), Some(&s("SUBJECT#game:roulette royale")));
        let Some(aws_sdk_dynamodb::types::AttributeValue::S(sk)) = item.get("sk") else {
            panic!("sort key")
        };
        assert_eq!(
            sk,
            &format!("REPORT#001795705200123#{}", report.reference.as_str())
        );
        assert!(sk.as_str() < REPORTS_END);
        assert_eq!(report_from(&item).expect("readable"), report);
    }

    #[test]
    fn the_marker_says_open_or_when_resolved() {
        let incident = incident();
        let mut item = marker_item(&incident).expect("item");
        assert_eq!(
            marker_from(&item).expect("readable"),
            SubjectMarker {
                incident: incident.id.clone(),
                resolved_at: None
            }
        );
        item.insert("state".into(), s("resolved"));
        item.insert("resolved_at".into(), s("2026-11-26T16:00:00Z"));
        assert_eq!(
            marker_from(&item).expect("readable").resolved_at,
            Some(at("2026-11-26T16:00:00Z"))
        );
    }

    #[test]
    fn the_queue_key_carries_the_new_priority() {
        let reference = TicketReference::from_random([1; 9]);
        assert_eq!(
            queue_sk(
                Priority::Urgent.rank(),
                at("2026-11-26T15:00:00Z"),
                &reference
            ),
            format!("1#001795705200000#{}", reference.as_str())
        );
    }
}

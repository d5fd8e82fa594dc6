//! The DynamoDB adapter for tickets. One table, keyed for the access patterns:
//!
//! | item            | pk                        | sk                         | gsi1 (player)                       | gsi2 (team queue, open only)            |
//! |-----------------|---------------------------|----------------------------|-------------------------------------|-----------------------------------------|
//! | ticket          | `TICKET#<ref>`            | `TICKET`                   | `PLAYER#<id>` / `TICKET#<created ms>#<ref>`| `QUEUE#<team>` / `<rank>#<created ms>#<ref>` |
//! | status change   | `TICKET#<ref>`            | `HISTORY#<at ms>#<seq>`    |                                     |                                         |
//! | message         | `TICKET#<ref>`            | `MESSAGE#<at ms>#<version>`|                                     |                                         |
//! | idempotency key | `IDEMPOTENCY#<id>#<key>`  | `IDEMPOTENCY`              |                                     |                                         |
//! | escalation      | `TICKET#<ref>`            | `ESCALATION#<id>`          |                                     |                                         |
//! | notification    | `TICKET#<ref>`            | `NOTIFICATION#<at ms>#<id>`|                                     |                                         |
//! | outbox message  | `OUTBOX#<id>`             | `OUTBOX`                   |                                     | `OUTBOX` / `<created ms>#<id>`          |
//! | contact address | `PLAYER#<id>`             | `CONTACT`                  |                                     |                                         |
//!
//! Attachments (`dynamo_attachments.rs`) and verification cases (`dynamo_cases.rs`) live in the
//! same table: attachments in the ticket's item collection (`ATTACHMENT#…`, ignored here), cases
//! under `CASE#<id>` and in the player's gsi1 partition under `CASE#…`.
//!
//! A ticket and its history are one item collection (one Query reads both); a player's
//! tickets are one GSI partition read newest first; no access pattern scans.

use std::collections::HashMap;

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
};
use aws_sdk_dynamodb::Client;
use jiff::Timestamp;

use crate::dynamo::item::{backend, get_s, ms, number, opt_s, parse_with, s, timestamp, Item};
use guichet_core::common::contact::ContactAddress;
use guichet_core::common::paging::Page;
use guichet_core::common::player::{Author, Language, PlayerId};
use guichet_core::common::reference::TicketReference;
use guichet_core::common::store::StoreError;
use guichet_core::escalation::rules::{Escalation, EscalationState};
use guichet_core::notifications::rules::Notification;
use guichet_core::outbox::ports::OutboxStore;
use guichet_core::outbox::rules::{Destination, MessageId, OutboxMessage};
use guichet_core::tickets::ports::{
    IdempotencyClaim, IdempotencyRecord, InsertOutcome, NewTicketWrite, PageStart, QueueStart,
    TicketStore, TicketUpdate, TicketWithHistory, Updated,
};
use guichet_core::tickets::ticket::{
    Category, Channel, IncidentDetails, Priority, StatusChange, Team, Ticket, TicketStatus,
};
use guichet_core::tickets::workflow::{Change, Message};

pub(crate) const TICKET_SK: &str = "TICKET";
const IDEMPOTENCY_SK: &str = "IDEMPOTENCY";
const HISTORY_PREFIX: &str = "HISTORY#";
const MESSAGE_PREFIX: &str = "MESSAGE#";
const ESCALATION_PREFIX: &str = "ESCALATION#";
const NOTIFICATION_PREFIX: &str = "NOTIFICATION#";
const OUTBOX_SK: &str = "OUTBOX";
const OUTBOX_QUEUE: &str = "OUTBOX";
const CONTACT_SK: &str = "CONTACT";
pub const PLAYER_INDEX: &str = "gsi1";
pub const QUEUE_INDEX: &str = "gsi2";

#[derive(Clone)]
pub struct DynamoTicketStore {
    client: Client,
    table: String,
}

impl DynamoTicketStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

pub fn ticket_pk(reference: &TicketReference) -> String {
    format!("TICKET#{}", reference.as_str())
}

fn player_pk(player: &PlayerId) -> String {
    format!("PLAYER#{}", player.as_str())
}

/// Prefixed: verification cases share the player's partition of gsi1.
fn player_sk(created_at: Timestamp, reference: &TicketReference) -> String {
    format!("TICKET#{}#{}", ms(created_at), reference.as_str())
}

fn idempotency_pk(claim_player: &PlayerId, key: &str) -> String {
    // Scoped by player: one player's key can never collide with, or reveal, another's.
    format!("IDEMPOTENCY#{}#{key}", claim_player.as_str())
}

fn ticket_item(ticket: &Ticket) -> Item {
    let mut item = Item::new();
    item.insert("pk".into(), s(ticket_pk(&ticket.reference)));
    item.insert("sk".into(), s(TICKET_SK));
    item.insert("gsi1pk".into(), s(player_pk(&ticket.player)));
    item.insert(
        "gsi1sk".into(),
        s(player_sk(ticket.created_at, &ticket.reference)),
    );
    if let Some(sk) = ticket_queue_sk(ticket) {
        item.insert(
            "gsi2pk".into(),
            s(format!("QUEUE#{}", ticket.team.as_str())),
        );
        item.insert("gsi2sk".into(), s(sk));
    }
    item.insert("type".into(), s("ticket"));
    item.insert("reference".into(), s(ticket.reference.as_str()));
    item.insert("player".into(), s(ticket.player.as_str()));
    item.insert("channel".into(), s(ticket.channel.as_str()));
    item.insert("category".into(), s(ticket.category.as_str()));
    item.insert("subject".into(), s(&ticket.subject));
    item.insert("description".into(), s(&ticket.description));
    item.insert("language".into(), s(ticket.language.as_str()));
    item.insert("priority".into(), s(ticket.priority.as_str()));
    item.insert("team".into(), s(ticket.team.as_str()));
    item.insert("status".into(), s(ticket.status.as_str()));
    item.insert("created_at".into(), s(ticket.created_at.to_string()));
    item.insert("updated_at".into(), s(ticket.updated_at.to_string()));
    item.insert(
        "response_due_at".into(),
        s(ticket.response_due_at.to_string()),
    );
    item.insert(
        "version".into(),
        AttributeValue::N(ticket.version.to_string()),
    );
    if let Some(case) = &ticket.verification_case {
        item.insert("case_id".into(), s(case.as_str()));
    }
    if let Some(assignee) = &ticket.assignee {
        item.insert("assignee".into(), s(assignee));
    }
    if let Some(incident) = &ticket.linked_incident {
        item.insert("linked_incident".into(), s(incident));
    }
    if let Some(incident) = &ticket.incident {
        let mut m = Item::new();
        m.insert("occurred_at".into(), s(incident.occurred_at.to_string()));
        if let Some(game) = &incident.game_name {
            m.insert("game_name".into(), s(game));
        }
        if let Some(system) = &incident.payment_system {
            m.insert("payment_system".into(), s(system));
        }
        if let Some(tx) = &incident.transaction_id {
            m.insert("transaction_id".into(), s(tx));
        }
        m.insert(
            "steps_tried".into(),
            AttributeValue::L(incident.steps_tried.iter().map(s).collect()),
        );
        item.insert("incident".into(), AttributeValue::M(m));
    }
    item
}

fn history_item(reference: &TicketReference, change: &StatusChange, seq: u32) -> Item {
    let mut item = Item::new();
    item.insert("pk".into(), s(ticket_pk(reference)));
    item.insert(
        "sk".into(),
        s(format!("{HISTORY_PREFIX}{}#{seq:04}", ms(change.at))),
    );
    item.insert("type".into(), s("status_change"));
    item.insert("at".into(), s(change.at.to_string()));
    item.insert("status".into(), s(change.status.as_str()));
    item.insert("reason".into(), s(&change.reason));
    insert_actor(&mut item, &change.actor);
    item
}

/// The history lines of a change, keyed by the new version (unique to this write) times 16,
/// plus the line's index: whoever writes a change to a ticket keys its lines this way.
pub(crate) fn change_history_items(change: &Change) -> impl Iterator<Item = Item> + '_ {
    let base = u32::try_from(change.ticket.version)
        .unwrap_or(u32::MAX / 16)
        .saturating_mul(16);
    change.history.iter().enumerate().map(move |(i, line)| {
        let seq = base.saturating_add(u32::try_from(i).unwrap_or(u32::MAX));
        history_item(&change.ticket.reference, line, seq)
    })
}

fn insert_actor(item: &mut Item, actor: &Author) {
    let (kind, id) = match actor {
        Author::Player => ("player", None),
        Author::Staff { id } => ("staff", Some(id.as_str())),
        Author::System => ("system", None),
    };
    item.insert("actor".into(), s(kind));
    if let Some(id) = id {
        item.insert("actor_id".into(), s(id));
    }
}

fn actor_from(item: &Item) -> Result<Author, StoreError> {
    Ok(match get_s(item, "actor")? {
        "player" => Author::Player,
        "system" => Author::System,
        "staff" => Author::Staff {
            id: get_s(item, "actor_id")?.to_owned(),
        },
        _ => return Err(StoreError::Corrupt { attribute: "actor" }),
    })
}

/// A message's sort key carries the ticket version that added it: unique per ticket, since a
/// version is written once.
fn message_item(reference: &TicketReference, message: &Message, version: u64) -> Item {
    let mut item = Item::new();
    item.insert("pk".into(), s(ticket_pk(reference)));
    item.insert(
        "sk".into(),
        s(format!("{MESSAGE_PREFIX}{}#{version:010}", ms(message.at))),
    );
    item.insert("type".into(), s("message"));
    item.insert("at".into(), s(message.at.to_string()));
    item.insert("body".into(), s(&message.body));
    insert_actor(&mut item, &message.author);
    item
}

fn message_from(item: &Item) -> Result<Message, StoreError> {
    Ok(Message {
        at: timestamp(item, "at")?,
        author: actor_from(item)?,
        body: get_s(item, "body")?.to_owned(),
    })
}

/// A ticket's sort key in its team's queue, while it is in the queue. The index is sparse:
/// only open work (neither resolved nor closed) is in it, so its cost never grows with history.
pub(crate) fn ticket_queue_sk(ticket: &Ticket) -> Option<String> {
    (!matches!(ticket.status, TicketStatus::Resolved | TicketStatus::Closed))
        .then(|| queue_sk(ticket.priority, ticket.created_at, &ticket.reference))
}

/// The team queue's sort key: priority rank, then arrival, then reference.
pub(crate) fn queue_sk(
    priority: Priority,
    created_at: Timestamp,
    reference: &TicketReference,
) -> String {
    format!(
        "{}#{}#{}",
        priority.rank(),
        ms(created_at),
        reference.as_str()
    )
}

fn idempotency_item(claim: &IdempotencyClaim, reference: &TicketReference) -> Item {
    let mut item = Item::new();
    item.insert(
        "pk".into(),
        s(idempotency_pk(&claim.player, claim.key.as_str())),
    );
    item.insert("sk".into(), s(IDEMPOTENCY_SK));
    item.insert("type".into(), s("idempotency_key"));
    item.insert("fingerprint".into(), s(&claim.fingerprint));
    item.insert("reference".into(), s(reference.as_str()));
    item.insert("claimed_at".into(), s(claim.claimed_at.to_string()));
    // The table's TTL attribute: DynamoDB deletes the record some time after this second.
    item.insert(
        "expires_at".into(),
        AttributeValue::N(claim.expires_at.as_second().to_string()),
    );
    item
}

/// Escalation and notification records are stored whole, as JSON: they are read with their
/// ticket, never queried by their fields (the escalation's `state` is kept beside it for the
/// routing condition).
pub(crate) fn json_attribute<T: serde::Serialize>(value: &T) -> Result<AttributeValue, StoreError> {
    serde_json::to_string(value)
        .map(AttributeValue::S)
        .map_err(|_| StoreError::Corrupt { attribute: "data" })
}

pub(crate) fn from_json<T: serde::de::DeserializeOwned>(item: &Item) -> Result<T, StoreError> {
    serde_json::from_str(get_s(item, "data")?)
        .map_err(|_| StoreError::Corrupt { attribute: "data" })
}

fn escalation_item(escalation: &Escalation) -> Result<Item, StoreError> {
    Ok(Item::from([
        ("pk".to_owned(), s(ticket_pk(&escalation.reference))),
        (
            "sk".to_owned(),
            s(format!("{ESCALATION_PREFIX}{}", escalation.id)),
        ),
        ("type".to_owned(), s("escalation")),
        ("state".to_owned(), s(escalation.state.as_str())),
        ("data".to_owned(), json_attribute(escalation)?),
    ]))
}

fn notification_item(
    reference: &TicketReference,
    notification: &Notification,
) -> Result<Item, StoreError> {
    Ok(Item::from([
        ("pk".to_owned(), s(ticket_pk(reference))),
        (
            "sk".to_owned(),
            s(format!(
                "{NOTIFICATION_PREFIX}{}#{}",
                ms(notification.at),
                notification.id
            )),
        ),
        ("type".to_owned(), s("notification")),
        ("data".to_owned(), json_attribute(notification)?),
    ]))
}

pub(crate) fn outbox_item(message: &OutboxMessage) -> Item {
    Item::from([
        ("pk".to_owned(), s(format!("OUTBOX#{}", message.id))),
        ("sk".to_owned(), s(OUTBOX_SK)),
        ("gsi2pk".to_owned(), s(OUTBOX_QUEUE)),
        (
            "gsi2sk".to_owned(),
            s(format!("{}#{}", ms(message.created_at), message.id)),
        ),
        ("type".to_owned(), s("outbox")),
        ("id".to_owned(), s(message.id.as_str())),
        ("destination".to_owned(), s(message.destination.as_str())),
        ("group".to_owned(), s(&message.group)),
        ("body".to_owned(), s(&message.body)),
        ("created_at".to_owned(), s(message.created_at.to_string())),
    ])
}

fn outbox_from(item: &Item) -> Result<OutboxMessage, StoreError> {
    Ok(OutboxMessage {
        id: parse_with(item, "id", MessageId::parse)?,
        destination: parse_with(item, "destination", Destination::parse)?,
        group: get_s(item, "group")?.to_owned(),
        body: get_s(item, "body")?.to_owned(),
        created_at: timestamp(item, "created_at")?,
    })
}

fn contact_item(player: &PlayerId, contact: &ContactAddress, at: Timestamp) -> Item {
    Item::from([
        ("pk".to_owned(), s(player_pk(player))),
        ("sk".to_owned(), s(CONTACT_SK)),
        ("type".to_owned(), s("contact")),
        ("email".to_owned(), s(contact.expose())),
        ("updated_at".to_owned(), s(at.to_string())),
    ])
}

/// The escalation record's write: created with the request, otherwise settled only if still
/// `requested` (a duplicate routing finds it settled and fails the whole transaction).
fn escalation_put(table: &str, escalation: &Escalation) -> Result<Put, StoreError> {
    if escalation.state == EscalationState::Requested {
        return put(
            table,
            escalation_item(escalation)?,
            "attribute_not_exists(pk)",
        );
    }
    let mut p = put(table, escalation_item(escalation)?, "#state = :requested")?;
    p.expression_attribute_names = Some(HashMap::from([("#state".to_owned(), "state".to_owned())]));
    p.expression_attribute_values = Some(HashMap::from([(
        ":requested".to_owned(),
        s(EscalationState::Requested.as_str()),
    )]));
    Ok(p)
}

fn ticket_from(item: &Item) -> Result<Ticket, StoreError> {
    let incident = match item.get("incident") {
        Some(AttributeValue::M(m)) => Some(IncidentDetails {
            occurred_at: timestamp(m, "occurred_at")?,
            game_name: opt_s(m, "game_name"),
            payment_system: opt_s(m, "payment_system"),
            transaction_id: opt_s(m, "transaction_id"),
            steps_tried: match m.get("steps_tried") {
                Some(AttributeValue::L(list)) => list
                    .iter()
                    .map(|v| match v {
                        AttributeValue::S(text) => Ok(text.clone()),
                        _ => Err(StoreError::Corrupt {
                            attribute: "incident.steps_tried",
                        }),
                    })
                    .collect::<Result<_, _>>()?,
                _ => Vec::new(),
            },
        }),
        _ => None,
    };
    Ok(Ticket {
        reference: parse_with(item, "reference", |v| TicketReference::parse(v).ok())?,
        player: parse_with(item, "player", PlayerId::parse)?,
        channel: parse_with(item, "channel", Channel::parse)?,
        category: parse_with(item, "category", Category::parse)?,
        subject: get_s(item, "subject")?.to_owned(),
        description: get_s(item, "description")?.to_owned(),
        language: parse_with(item, "language", Language::parse)?,
        priority: parse_with(item, "priority", Priority::parse)?,
        team: parse_with(item, "team", Team::parse)?,
        status: parse_with(item, "status", TicketStatus::parse)?,
        incident,
        verification_case: match opt_s(item, "case_id") {
            Some(id) => Some(guichet_core::verification::rules::CaseId::parse(&id).ok_or(
                StoreError::Corrupt {
                    attribute: "case_id",
                },
            )?),
            None => None,
        },
        assignee: opt_s(item, "assignee"),
        linked_incident: opt_s(item, "linked_incident"),
        created_at: timestamp(item, "created_at")?,
        updated_at: timestamp(item, "updated_at")?,
        response_due_at: timestamp(item, "response_due_at")?,
        version: number(item, "version")?,
    })
}

fn status_change_from(item: &Item) -> Result<StatusChange, StoreError> {
    let actor = actor_from(item)?;
    Ok(StatusChange {
        at: timestamp(item, "at")?,
        status: parse_with(item, "status", TicketStatus::parse)?,
        actor,
        reason: get_s(item, "reason")?.to_owned(),
    })
}

fn idempotency_record_from(item: &Item) -> Result<IdempotencyRecord, StoreError> {
    Ok(IdempotencyRecord {
        fingerprint: get_s(item, "fingerprint")?.to_owned(),
        reference: parse_with(item, "reference", |v| TicketReference::parse(v).ok())?,
    })
}

/// Every page of a query, in order: an item collection (a ticket's history, a case's audit
/// trail) can outgrow one 1 MB response.
pub(crate) async fn query_all(
    query: aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
) -> Result<Vec<Item>, StoreError> {
    let mut items = Vec::new();
    let mut start: Option<Item> = None;
    loop {
        let output = query
            .clone()
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .map_err(backend)?;
        items.extend(output.items().iter().cloned());
        match output.last_evaluated_key() {
            Some(key) if !key.is_empty() => start = Some(key.clone()),
            _ => return Ok(items),
        }
    }
}

/// A whole item collection (every item under one `pk`), read consistently.
pub(crate) async fn read_collection(
    client: &Client,
    table: &str,
    pk: String,
) -> Result<Vec<Item>, StoreError> {
    let query = client
        .query()
        .table_name(table)
        .key_condition_expression("pk = :pk")
        .expression_attribute_values(":pk", s(pk))
        .consistent_read(true);
    query_all(query).await
}

fn put(table: &str, item: Item, condition: &str) -> Result<Put, StoreError> {
    Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .condition_expression(condition)
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
        .build()
        .map_err(backend)
}

impl DynamoTicketStore {
    async fn idempotency_record(
        &self,
        claim: &IdempotencyClaim,
    ) -> Result<Option<IdempotencyRecord>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(idempotency_pk(&claim.player, claim.key.as_str())))
            .key("sk", s(IDEMPOTENCY_SK))
            .consistent_read(true)
            .send()
            .await
            .map_err(backend)?;
        output.item().map(idempotency_record_from).transpose()
    }
}

/// A page from a Query asked for `limit + 1` items, each read by `read`
/// (see [`Page::of_over_fetched`]).
pub(crate) fn page_of<T, S>(
    items: &[Item],
    limit: u16,
    read: impl Fn(&Item) -> Result<T, StoreError>,
    start_of: impl Fn(&T) -> S,
) -> Result<Page<T, S>, StoreError> {
    let items = items.iter().map(read).collect::<Result<Vec<_>, _>>()?;
    Ok(Page::of_over_fetched(items, limit, start_of))
}

impl DynamoTicketStore {
    /// What a new ticket writes besides itself, its first history line and its key.
    fn opening_extras(&self, write: &NewTicketWrite) -> Result<Vec<Put>, StoreError> {
        let reference = &write.ticket.reference;
        let mut items = Vec::new();
        for (i, change) in write.history.iter().enumerate() {
            let seq = u32::try_from(i + 1).unwrap_or(u32::MAX);
            items.push(put(
                &self.table,
                history_item(reference, change, seq),
                "attribute_not_exists(pk)",
            )?);
        }
        if let Some(escalation) = &write.escalation {
            items.push(escalation_put(&self.table, escalation)?);
        }
        if let Some(notification) = &write.notification {
            items.push(put(
                &self.table,
                notification_item(reference, notification)?,
                "attribute_not_exists(pk)",
            )?);
        }
        for message in &write.outbox {
            items.push(put(
                &self.table,
                outbox_item(message),
                "attribute_not_exists(pk)",
            )?);
        }
        if let Some(contact) = &write.contact {
            // The newest address wins; no condition.
            items.push(
                Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(contact_item(
                        &write.ticket.player,
                        contact,
                        write.ticket.created_at,
                    )))
                    .build()
                    .map_err(backend)?,
            );
        }
        Ok(items)
    }
}

impl TicketStore for DynamoTicketStore {
    async fn insert(&self, write: &NewTicketWrite) -> Result<InsertOutcome, StoreError> {
        let reference = &write.ticket.reference;
        let mut items = vec![
            put(
                &self.table,
                ticket_item(&write.ticket),
                "attribute_not_exists(pk)",
            )?,
            put(
                &self.table,
                history_item(reference, &write.received, 0),
                "attribute_not_exists(pk)",
            )?,
        ];
        // The idempotency record must stay third: its cancellation reason is read by index.
        let extra = self.opening_extras(write)?;
        if let Some(claim) = &write.idempotency {
            // An expired record still counts as free: TTL deletion lags by up to days.
            let mut p = put(
                &self.table,
                idempotency_item(claim, reference),
                "attribute_not_exists(pk) OR expires_at < :now",
            )?;
            p.expression_attribute_values = Some(HashMap::from([(
                ":now".to_owned(),
                AttributeValue::N(claim.claimed_at.as_second().to_string()),
            )]));
            items.push(p);
        }
        items.extend(extra);
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(
                items
                    .into_iter()
                    .map(|p| TransactWriteItem::builder().put(p).build())
                    .collect(),
            ))
            .send()
            .await;
        let error = match result {
            Ok(_) => return Ok(InsertOutcome::Created),
            Err(error) => error,
        };
        let reasons = match &error {
            SdkError::ServiceError(service) => match service.err() {
                TransactWriteItemsError::TransactionCanceledException(cancelled) => {
                    cancelled.cancellation_reasons().to_vec()
                }
                TransactWriteItemsError::TransactionInProgressException(_) => {
                    return Ok(InsertOutcome::Contended)
                }
                _ => return Err(backend(error)),
            },
            _ => return Err(backend(error)),
        };
        let code = |i: usize| reasons.get(i).and_then(|r| r.code()).unwrap_or("None");
        if code(2) == "ConditionalCheckFailed" {
            let record = match reasons.get(2).and_then(|r| r.item()) {
                Some(old) => Some(idempotency_record_from(old)?),
                None => match &write.idempotency {
                    Some(claim) => self.idempotency_record(claim).await?,
                    None => None,
                },
            };
            return match record {
                Some(record) => Ok(InsertOutcome::KeyAlreadyUsed(record)),
                // Deleted between the failed condition and our read: try again.
                None => Ok(InsertOutcome::Contended),
            };
        }
        if reasons
            .iter()
            .any(|r| r.code() == Some("TransactionConflict"))
        {
            return Ok(InsertOutcome::Contended);
        }
        if code(0) == "ConditionalCheckFailed" || code(1) == "ConditionalCheckFailed" {
            return Ok(InsertOutcome::ReferenceTaken);
        }
        Err(backend(error))
    }

    async fn get(
        &self,
        reference: &TicketReference,
    ) -> Result<Option<TicketWithHistory>, StoreError> {
        let mut ticket = None;
        let mut history = Vec::new();
        let mut messages = Vec::new();
        let mut notifications = Vec::new();
        let mut escalations: Vec<Escalation> = Vec::new();
        for item in read_collection(&self.client, &self.table, ticket_pk(reference)).await? {
            match get_s(&item, "sk")? {
                TICKET_SK => ticket = Some(ticket_from(&item)?),
                sk if sk.starts_with(HISTORY_PREFIX) => history.push(status_change_from(&item)?),
                sk if sk.starts_with(MESSAGE_PREFIX) => messages.push(message_from(&item)?),
                sk if sk.starts_with(NOTIFICATION_PREFIX) => notifications.push(from_json(&item)?),
                sk if sk.starts_with(ESCALATION_PREFIX) => escalations.push(from_json(&item)?),
                _ => {}
            }
        }
        escalations.sort_by_key(|e| e.requested_at);
        Ok(ticket.map(|ticket| TicketWithHistory {
            ticket,
            history,
            messages,
            notifications,
            escalations,
        }))
    }

    async fn open_case_of(
        &self,
        player: &PlayerId,
    ) -> Result<Option<guichet_core::verification::rules::CaseId>, StoreError> {
        // The marker the case store writes with a case and deletes when it closes.
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(player_pk(player)))
            .key("sk", s("OPENCASE"))
            .consistent_read(true)
            .send()
            .await
            .map_err(backend)?;
        output
            .item()
            .and_then(|item| opt_s(item, "case_id"))
            .map(|id| {
                guichet_core::verification::rules::CaseId::parse(&id).ok_or(StoreError::Corrupt {
                    attribute: "case_id",
                })
            })
            .transpose()
    }

    async fn list_for_player(
        &self,
        player: &PlayerId,
        limit: u16,
        start: Option<&PageStart>,
    ) -> Result<Page<Ticket, PageStart>, StoreError> {
        let exclusive_start = start.map(|start| {
            Item::from([
                ("pk".to_owned(), s(ticket_pk(&start.reference))),
                ("sk".to_owned(), s(TICKET_SK)),
                ("gsi1pk".to_owned(), s(player_pk(player))),
                (
                    "gsi1sk".to_owned(),
                    s(player_sk(start.created_at, &start.reference)),
                ),
            ])
        });
        // One more than asked tells whether another page exists without an empty last page.
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(PLAYER_INDEX)
            .key_condition_expression("gsi1pk = :player AND begins_with(gsi1sk, :tickets)")
            .expression_attribute_values(":player", s(player_pk(player)))
            .expression_attribute_values(":tickets", s("TICKET#"))
            .scan_index_forward(false)
            .limit(i32::from(limit) + 1)
            .set_exclusive_start_key(exclusive_start)
            .send()
            .await
            .map_err(backend)?;
        page_of(output.items(), limit, ticket_from, |last| PageStart {
            created_at: last.created_at,
            reference: last.reference.clone(),
        })
    }

    async fn update(&self, update: TicketUpdate<'_>) -> Result<Updated, StoreError> {
        let change = update.change;
        let ticket = &change.ticket;
        let reference = &ticket.reference;
        // The whole item is replaced: a resolved or closed ticket loses its gsi2 attributes and
        // so leaves its team's queue. `#v`: moto mis-handles some bare attribute names.
        let mut ticket_put = put(&self.table, ticket_item(ticket), "#v = :expected")?;
        ticket_put.expression_attribute_names =
            Some(HashMap::from([("#v".to_owned(), "version".to_owned())]));
        ticket_put.expression_attribute_values = Some(HashMap::from([(
            ":expected".to_owned(),
            AttributeValue::N(change.expected_version.to_string()),
        )]));
        let mut items = vec![ticket_put];
        for line in change_history_items(change) {
            items.push(put(&self.table, line, "attribute_not_exists(pk)")?);
        }
        if let Some(message) = &change.message {
            items.push(put(
                &self.table,
                message_item(reference, message, ticket.version),
                "attribute_not_exists(pk)",
            )?);
        }
        if let Some(escalation) = update.escalation {
            items.push(escalation_put(&self.table, escalation)?);
        }
        if let Some(notification) = update.notification {
            items.push(put(
                &self.table,
                notification_item(reference, notification)?,
                "attribute_not_exists(pk)",
            )?);
        }
        for message in update.outbox {
            items.push(put(
                &self.table,
                outbox_item(message),
                "attribute_not_exists(pk)",
            )?);
        }
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(
                items
                    .into_iter()
                    .map(|p| TransactWriteItem::builder().put(p).build())
                    .collect(),
            ))
            .send()
            .await;
        let error = match result {
            Ok(_) => return Ok(Updated::Done),
            Err(error) => error,
        };
        if let SdkError::ServiceError(service) = &error {
            match service.err() {
                // A failed version check, or another transaction on the same items: either
                // way someone else changed the ticket first.
                TransactWriteItemsError::TransactionCanceledException(cancelled)
                    if cancelled.cancellation_reasons().iter().any(|r| {
                        matches!(
                            r.code(),
                            Some("ConditionalCheckFailed" | "TransactionConflict")
                        )
                    }) =>
                {
                    return Ok(Updated::Stale)
                }
                TransactWriteItemsError::TransactionInProgressException(_) => {
                    return Ok(Updated::Stale)
                }
                _ => {}
            }
        }
        Err(backend(error))
    }

    async fn team_queue(
        &self,
        team: Team,
        limit: u16,
        start: Option<&QueueStart>,
    ) -> Result<Page<Ticket, QueueStart>, StoreError> {
        let queue = format!("QUEUE#{}", team.as_str());
        let exclusive_start = start.map(|start| {
            Item::from([
                ("pk".to_owned(), s(ticket_pk(&start.reference))),
                ("sk".to_owned(), s(TICKET_SK)),
                ("gsi2pk".to_owned(), s(queue.clone())),
                (
                    "gsi2sk".to_owned(),
                    s(queue_sk(start.priority, start.created_at, &start.reference)),
                ),
            ])
        });
        // One Query on the sparse index: only open work is in it, so its cost never grows
        // with resolved and closed tickets. One more than asked tells whether a page follows.
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(QUEUE_INDEX)
            .key_condition_expression("gsi2pk = :queue")
            .expression_attribute_values(":queue", s(queue))
            .scan_index_forward(true)
            .limit(i32::from(limit) + 1)
            .set_exclusive_start_key(exclusive_start)
            .send()
            .await
            .map_err(backend)?;
        page_of(output.items(), limit, ticket_from, |last| QueueStart {
            priority: last.priority,
            created_at: last.created_at,
            reference: last.reference.clone(),
        })
    }

    async fn settle_escalation(&self, escalation: &Escalation) -> Result<Updated, StoreError> {
        let p = escalation_put(&self.table, escalation)?;
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(p.item))
            .set_condition_expression(p.condition_expression)
            .set_expression_attribute_names(p.expression_attribute_names)
            .set_expression_attribute_values(p.expression_attribute_values)
            .send()
            .await;
        match result {
            Ok(_) => Ok(Updated::Done),
            Err(SdkError::ServiceError(e)) if e.err().is_conditional_check_failed_exception() => {
                Ok(Updated::Stale)
            }
            Err(e) => Err(backend(e)),
        }
    }

    async fn contact_of(&self, player: &PlayerId) -> Result<Option<ContactAddress>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(player_pk(player)))
            .key("sk", s(CONTACT_SK))
            .consistent_read(true)
            .send()
            .await
            .map_err(backend)?;
        output
            .item()
            .map(|item| {
                ContactAddress::parse(get_s(item, "email")?)
                    .ok_or(StoreError::Corrupt { attribute: "email" })
            })
            .transpose()
    }
}

impl OutboxStore for DynamoTicketStore {
    async fn pending(&self, limit: u16) -> Result<Vec<OutboxMessage>, StoreError> {
        // The oldest first, from the sparse index's one `OUTBOX` partition: its size is the
        // backlog (normally empty), never the history. Eventually consistent, which is fine:
        // a message the index does not show yet is picked up by the next sweep.
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(QUEUE_INDEX)
            .key_condition_expression("gsi2pk = :outbox")
            .expression_attribute_values(":outbox", s(OUTBOX_QUEUE))
            .scan_index_forward(true)
            .limit(i32::from(limit))
            .send()
            .await
            .map_err(backend)?;
        output.items().iter().map(outbox_from).collect()
    }

    async fn remove(&self, id: &MessageId) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(format!("OUTBOX#{id}")))
            .key("sk", s(OUTBOX_SK))
            .send()
            .await
            .map_err(backend)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use guichet_core::tickets::intake::TicketRequest;
    use guichet_core::tickets::sla::SupportCalendar;

    fn ticket() -> (Ticket, StatusChange) {
        let body = serde_json::json!({
            "channel": "chat", "category": "incident", "subject": "Gel du jeu",
            "description": "La roulette s'est figée pendant une mise.",
            "incident": {"occurred_at": "2026-11-26T14:00:00Z", "game_name": "Roulette",
                          "transaction_id": "TX-9", "steps_tried": ["rechargé"]}
        });
        let now: Timestamp = "2026-11-26T15:00:00Z".parse().expect("valid");
        let request = TicketRequest::parse(&body, None, now).expect("valid");
        let calendar = SupportCalendar::published().expect("time zone");
        let (ticket, change, _) = request.open(
            TicketReference::from_random([9; 9]),
            PlayerId::parse("p-1").expect("valid"),
            now,
            &calendar,
        );
        (ticket, change)
    }

    fn at(text: &str) -> Timestamp {
        text.parse().expect("valid")
    }

    /// Every optional attribute present, and the ticket in its team's queue.
    fn full_ticket() -> Ticket {
        Ticket {
            reference: TicketReference::parse("9999999992").expect("valid"),
            player: PlayerId::parse("p-1").expect("valid"),
            channel: Channel::Chat,
            category: Category::Incident,
            subject: "Gel du jeu".into(),
            description: "La roulette s'est figée.".into(),
            language: Language::Fr,
            priority: Priority::High,
            team: Team::Games,
            status: TicketStatus::Open,
            incident: Some(IncidentDetails {
                occurred_at: at("2026-11-26T14:00:00Z"),
                game_name: Some("Roulette".into()),
                payment_system: Some("Interac e-Transfer".into()),
                transaction_id: Some("TX-9".into()),
                steps_tried: vec!["rechargé".into(), "".into()],
            }),
            linked_incident: Some("INC-777777777777".into()),
            verification_case: Some(
                guichet_core::verification::rules::CaseId::parse("VC-7K2M9Q4XW3BD").expect("valid"),
            ),
            assignee: Some("agent-1".into()),
            created_at: at("2026-11-26T15:00:00.123Z"),
            updated_at: at("2026-11-26T15:30:00Z"),
            response_due_at: at("2026-11-27T15:00:00Z"),
            version: 3,
        }
    }

    #[test]
    fn the_ticket_item_is_pinned_attribute_for_attribute() {
        use crate::dynamo::item::expect::{item, num, text};
        let ticket = full_ticket();
        assert_eq!(
            ticket_item(&ticket),
            item([
                ("pk", text("TICKET#9999999992")),
                ("sk", text("TICKET")),
                ("gsi1pk", text("PLAYER#p-1")),
                ("gsi1sk", text("TICKET#001795705200123#9999999992")),
                ("gsi2pk", text("QUEUE#games")),
                ("gsi2sk", text("2#001795705200123#9999999992")),
                ("type", text("ticket")),
                ("reference", text("9999999992")),
                ("player", text("p-1")),
                ("channel", text("chat")),
                ("category", text("incident")),
                ("subject", text("Gel du jeu")),
                ("description", text("La roulette s'est figée.")),
                ("language", text("fr")),
                ("priority", text("high")),
                ("team", text("games")),
                ("status", text("open")),
                ("created_at", text("2026-11-26T15:00:00.123Z")),
                ("updated_at", text("2026-11-26T15:30:00Z")),
                ("response_due_at", text("2026-11-27T15:00:00Z")),
                ("version", num("3")),
                ("case_id", text("VC-7K2M9Q4XW3BD")),
                ("assignee", text("agent-1")),
                ("linked_incident", text("INC-777777777777")),
                (
                    "incident",
                    AttributeValue::M(item([
                        ("occurred_at", text("2026-11-26T14:00:00Z")),
                        ("game_name", text("Roulette")),
                        ("payment_system", text("Interac e-Transfer")),
                        ("transaction_id", text("TX-9")),
                        (
                            "steps_tried",
                            AttributeValue::L(vec![text("rechargé"), text("")]),
                        ),
                    ])),
                ),
            ])
        );
        // Closed (out of the queue), nothing optional, incident details without their
        // optional fields and with no steps tried.
        let bare = Ticket {
            status: TicketStatus::Closed,
            incident: Some(IncidentDetails {
                occurred_at: at("2026-11-26T14:00:00Z"),
                game_name: None,
                payment_system: None,
                transaction_id: None,
                steps_tried: vec![],
            }),
            linked_incident: None,
            verification_case: None,
            assignee: None,
            ..ticket
        };
        let expected = item([
            ("pk", text("TICKET#9999999992")),
            ("sk", text("TICKET")),
            ("gsi1pk", text("PLAYER#p-1")),
            ("gsi1sk", text("TICKET#001795705200123#9999999992")),
            ("type", text("ticket")),
            ("reference", text("9999999992")),
            ("player", text("p-1")),
            ("channel", text("chat")),
            ("category", text("incident")),
            ("subject", text("Gel du jeu")),
            ("description", text("La roulette s'est figée.")),
            ("language", text("fr")),
            ("priority", text("high")),
            ("team", text("games")),
            ("status", text("closed")),
            ("created_at", text("2026-11-26T15:00:00.123Z")),
            ("updated_at", text("2026-11-26T15:30:00Z")),
            ("response_due_at", text("2026-11-27T15:00:00Z")),
            ("version", num("3")),
            (
                "incident",
                AttributeValue::M(item([
                    ("occurred_at", text("2026-11-26T14:00:00Z")),
                    ("steps_tried", AttributeValue::L(vec![])),
                ])),
            ),
        ]);
        assert_eq!(ticket_item(&bare), expected);
        assert_eq!(ticket_from(&expected).expect("readable"), bare);
        let mut without = expected;
        without.remove("incident");
        let no_incident = Ticket {
            incident: None,
            ..bare
        };
        assert_eq!(ticket_item(&no_incident), without);
        assert_eq!(ticket_from(&without).expect("readable"), no_incident);
        let ticket = full_ticket();
        assert_eq!(
            ticket_from(&ticket_item(&ticket)).expect("readable"),
            ticket
        );
    }

    #[test]
    fn history_and_message_items_are_pinned() {
        use crate::dynamo::item::expect::{item, text};
        let reference = TicketReference::parse("9999999992").expect("valid");
        let staff = Author::Staff {
            id: "agent-1".into(),
        };
        let change = StatusChange {
            at: at("2026-11-26T15:00:00.5Z"),
            status: TicketStatus::WaitingOnPlayer,
            actor: staff.clone(),
            reason: "agent_reply".into(),
        };
        let expected = item([
            ("pk", text("TICKET#9999999992")),
            ("sk", text("HISTORY#001795705200500#0049")),
            ("type", text("status_change")),
            ("at", text("2026-11-26T15:00:00.5Z")),
            ("status", text("waiting_on_player")),
            ("reason", text("agent_reply")),
            ("actor", text("staff")),
            ("actor_id", text("agent-1")),
        ]);
        assert_eq!(history_item(&reference, &change, 49), expected);
        assert_eq!(status_change_from(&expected).expect("readable"), change);
        for (author, name) in [(Author::Player, "player"), (Author::System, "system")] {
            let change = StatusChange {
                actor: author,
                ..change.clone()
            };
            let mut expected = expected.clone();
            expected.remove("actor_id");
            expected.insert("actor".into(), text(name));
            assert_eq!(history_item(&reference, &change, 49), expected);
            assert_eq!(status_change_from(&expected).expect("readable"), change);
        }

        let message = Message {
            at: at("2026-11-26T16:00:00Z"),
            author: staff,
            body: "Bonjour".into(),
        };
        let expected = item([
            ("pk", text("TICKET#9999999992")),
            ("sk", text("MESSAGE#001795708800000#0000000007")),
            ("type", text("message")),
            ("at", text("2026-11-26T16:00:00Z")),
            ("body", text("Bonjour")),
            ("actor", text("staff")),
            ("actor_id", text("agent-1")),
        ]);
        assert_eq!(message_item(&reference, &message, 7), expected);
        assert_eq!(message_from(&expected).expect("readable"), message);
        let message = Message {
            author: Author::Player,
            ..message
        };
        let mut expected = expected;
        expected.remove("actor_id");
        expected.insert("actor".into(), text("player"));
        assert_eq!(message_item(&reference, &message, 7), expected);
        assert_eq!(message_from(&expected).expect("readable"), message);
    }

    #[test]
    fn the_other_ticket_items_are_pinned() {
        use crate::dynamo::item::expect::{item, num, text};
        use guichet_core::escalation::rules::EscalationState;
        use guichet_core::notifications::rules::NotificationKind;
        use guichet_core::tickets::ports::IdempotencyKey;
        let reference = TicketReference::parse("9999999992").expect("valid");
        let player = PlayerId::parse("p-1").expect("valid");
        let claim = IdempotencyClaim {
            player: player.clone(),
            key: IdempotencyKey::parse("key-12345678").expect("valid"),
            fingerprint: "f00d".into(),
            claimed_at: at("2026-11-26T15:00:00Z"),
            expires_at: at("2026-11-27T15:00:00Z"),
        };
        let expected = item([
            ("pk", text("IDEMPOTENCY#p-1#key-12345678")),
            ("sk", text("IDEMPOTENCY")),
            ("type", text("idempotency_key")),
            ("fingerprint", text("f00d")),
            ("reference", text("9999999992")),
            ("claimed_at", text("2026-11-26T15:00:00Z")),
            ("expires_at", num("1795791600")),
        ]);
        assert_eq!(idempotency_item(&claim, &reference), expected);
        assert_eq!(
            idempotency_record_from(&expected).expect("readable"),
            IdempotencyRecord {
                fingerprint: "f00d".into(),
                reference: reference.clone(),
            }
        );

        let escalation = Escalation {
            id: MessageId::from_bytes([1; 16]),
            reference: reference.clone(),
            from_team: Team::Games,
            to_team: Team::Payments,
            reason: "payment".into(),
            note: None,
            requested_by: Author::System,
            requested_at: at("2026-11-26T15:00:00Z"),
            state: EscalationState::Routed,
            settled_at: None,
        };
        let id = "01".repeat(16);
        assert_eq!(
            escalation_item(&escalation).expect("item"),
            item([
                ("pk", text("TICKET#9999999992")),
                ("sk", text(&format!("ESCALATION#{id}"))),
                ("type", text("escalation")),
                ("state", text("routed")),
                ("data", json(&escalation)),
            ])
        );
        let notification = Notification {
            id: MessageId::from_bytes([2; 16]),
            kind: NotificationKind::Received,
            language: Language::Fr,
            subject: "Reçu".into(),
            body: "Nous avons bien reçu".into(),
            at: at("2026-11-26T15:00:00Z"),
        };
        assert_eq!(
            notification_item(&reference, &notification).expect("item"),
            item([
                ("pk", text("TICKET#9999999992")),
                (
                    "sk",
                    text(&format!("NOTIFICATION#001795705200000#{}", "02".repeat(16)))
                ),
                ("type", text("notification")),
                ("data", json(&notification)),
            ])
        );

        let message = OutboxMessage {
            id: MessageId::from_bytes([1; 16]),
            destination: Destination::IncidentUpdates,
            group: "9999999992".into(),
            body: "{}".into(),
            created_at: at("2026-11-26T15:00:00.007Z"),
        };
        let expected = item([
            ("pk", text(&format!("OUTBOX#{id}"))),
            ("sk", text("OUTBOX")),
            ("gsi2pk", text("OUTBOX")),
            ("gsi2sk", text(&format!("001795705200007#{id}"))),
            ("type", text("outbox")),
            ("id", text(&id)),
            ("destination", text("incident-updates")),
            ("group", text("9999999992")),
            ("body", text("{}")),
            ("created_at", text("2026-11-26T15:00:00.007Z")),
        ]);
        assert_eq!(outbox_item(&message), expected);
        assert_eq!(outbox_from(&expected).expect("readable"), message);

        let contact = ContactAddress::parse("joueur@example.com").expect("valid");
        assert_eq!(
            contact_item(&player, &contact, at("2026-11-26T15:00:00Z")),
            item([
                ("pk", text("PLAYER#p-1")),
                ("sk", text("CONTACT")),
                ("type", text("contact")),
                ("email", text("joueur@example.com")),
                ("updated_at", text("2026-11-26T15:00:00Z")),
            ])
        );
    }

    /// The JSON a record stores whole, as the core's serde writes it.
    fn json<T: serde::Serialize>(value: &T) -> AttributeValue {
        AttributeValue::S(serde_json::to_string(value).expect("serializable"))
    }

    #[test]
    fn damaged_ticket_items_are_refused_naming_the_attribute() {
        let named = |item: &Item| match ticket_from(item) {
            Err(StoreError::Corrupt { attribute }) => attribute,
            Err(StoreError::Backend(_)) => "backend",
            Ok(_) => "accepted",
        };
        let good = ticket_item(&full_ticket());
        for (attribute, damage) in [
            ("subject", None),
            ("version", None),
            ("created_at", None),
            ("reference", None),
            ("version", Some(s("3"))),
            ("version", Some(AttributeValue::N("three".into()))),
            ("subject", Some(AttributeValue::N("3".into()))),
            ("priority", Some(s("whenever"))),
            ("status", Some(s("lost"))),
            ("player", Some(s(""))),
            ("reference", Some(s("not a reference"))),
            ("case_id", Some(s("nope"))),
            ("updated_at", Some(s("yesterday"))),
        ] {
            let mut item = good.clone();
            match damage.clone() {
                Some(value) => item.insert(attribute.into(), value),
                None => item.remove(attribute),
            };
            assert_eq!(named(&item), attribute, "{attribute} damaged as {damage:?}");
        }
        let change = StatusChange {
            at: at("2026-11-26T15:00:00Z"),
            status: TicketStatus::Open,
            actor: Author::Player,
            reason: "received".into(),
        };
        let mut line = history_item(&TicketReference::from_random([1; 9]), &change, 0);
        line.insert("actor".into(), s("ghost"));
        assert!(matches!(
            status_change_from(&line),
            Err(StoreError::Corrupt { attribute: "actor" })
        ));
        line.insert("actor".into(), s("staff"));
        assert!(matches!(
            status_change_from(&line),
            Err(StoreError::Corrupt {
                attribute: "actor_id"
            })
        ));
    }

    #[test]
    fn a_ticket_survives_the_round_trip_through_its_item() {
        let (ticket, change) = ticket();
        assert_eq!(
            ticket_from(&ticket_item(&ticket)).expect("readable"),
            ticket
        );
        let item = history_item(&ticket.reference, &change, 0);
        assert_eq!(status_change_from(&item).expect("readable"), change);
        let mut paid = ticket;
        if let Some(details) = paid.incident.as_mut() {
            details.payment_system = Some("Interac e-Transfer".into());
        }
        let item = ticket_item(&paid);
        let Some(AttributeValue::M(incident)) = item.get("incident") else {
            panic!("incident details missing")
        };
        assert_eq!(
            incident.get("payment_system"),
            Some(&s("Interac e-Transfer"))
        );
        assert_eq!(ticket_from(&item).expect("readable"), paid);
    }

    #[test]
    fn open_tickets_are_in_their_team_queue_in_priority_order() {
        let (ticket, _) = ticket();
        let item = ticket_item(&ticket);
        assert_eq!(item.get("gsi2pk"), Some(&s("QUEUE#games")));
        let Some(AttributeValue::S(sk)) = item.get("gsi2sk") else {
            panic!("queue sort key missing")
        };
        assert!(sk.starts_with("2#001795705200000#"), "{sk}");
        let closed = Ticket {
            status: TicketStatus::Closed,
            ..ticket
        };
        assert!(!ticket_item(&closed).contains_key("gsi2pk"));
    }

    #[test]
    fn a_message_survives_the_round_trip_through_its_item() {
        let (ticket, _) = ticket();
        let message = Message {
            at: "2026-11-26T16:00:00Z".parse().expect("valid"),
            author: Author::Staff {
                id: "agent-1".into(),
            },
            body: "Bonjour".into(),
        };
        let item = message_item(&ticket.reference, &message, 7);
        assert_eq!(
            item.get("sk"),
            Some(&s("MESSAGE#001795708800000#0000000007"))
        );
        assert_eq!(message_from(&item).expect("readable"), message);
        let taken = Ticket {
            assignee: Some("agent-1".into()),
            ..ticket
        };
        assert_eq!(ticket_from(&ticket_item(&taken)).expect("readable"), taken);
    }

    #[test]
    fn a_damaged_item_names_the_attribute() {
        let (ticket, _) = ticket();
        let mut item = ticket_item(&ticket);
        item.insert("priority".into(), s("whenever"));
        assert!(matches!(
            ticket_from(&item),
            Err(StoreError::Corrupt {
                attribute: "priority"
            })
        ));
    }
}

//! The DynamoDB adapter for tickets. One table, keyed for the access patterns:
//!
//! | item            | pk                        | sk                         | gsi1 (player)                       | gsi2 (team queue, open only)            |
//! |-----------------|---------------------------|----------------------------|-------------------------------------|-----------------------------------------|
//! | ticket          | `TICKET#<ref>`            | `TICKET`                   | `PLAYER#<id>` / `TICKET#<created ms>#<ref>`| `QUEUE#<team>` / `<rank>#<created ms>#<ref>` |
//! | status change   | `TICKET#<ref>`            | `HISTORY#<at ms>#<seq>`    |                                     |                                         |
//! | message         | `TICKET#<ref>`            | `MESSAGE#<at ms>#<version>`|                                     |                                         |
//! | idempotency key | `IDEMPOTENCY#<id>#<key>`  | `IDEMPOTENCY`              |                                     |                                         |
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

use crate::core::{
    IdempotencyClaim, IdempotencyRecord, InsertOutcome, NewTicketWrite, Page, PageStart,
    QueueStart, StoreError, TicketStore, TicketWithHistory, Updated,
};
use crate::domain::reference::TicketReference;
use crate::domain::ticket::{
    Actor, Category, Channel, IncidentDetails, Language, PlayerId, Priority, StatusChange, Team,
    Ticket, TicketStatus,
};
use crate::domain::workflow::Message;

type Item = HashMap<String, AttributeValue>;

const TICKET_SK: &str = "TICKET";
const IDEMPOTENCY_SK: &str = "IDEMPOTENCY";
const HISTORY_PREFIX: &str = "HISTORY#";
const MESSAGE_PREFIX: &str = "MESSAGE#";
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

fn backend<E: std::error::Error + Send + Sync + 'static>(e: E) -> StoreError {
    StoreError::Backend(Box::new(e))
}

pub fn ticket_pk(reference: &TicketReference) -> String {
    format!("TICKET#{}", reference.as_str())
}

fn player_pk(player: &PlayerId) -> String {
    format!("PLAYER#{}", player.as_str())
}

/// Epoch milliseconds, zero-padded so that string order is time order.
fn sortable(at: Timestamp) -> String {
    format!("{:015}", at.as_millisecond().max(0))
}

/// Prefixed: verification cases share the player's partition of gsi1.
fn player_sk(created_at: Timestamp, reference: &TicketReference) -> String {
    format!("TICKET#{}#{}", sortable(created_at), reference.as_str())
}

fn idempotency_pk(claim_player: &PlayerId, key: &str) -> String {
    // Scoped by player: one player's key can never collide with, or reveal, another's.
    format!("IDEMPOTENCY#{}#{key}", claim_player.as_str())
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
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
    if !matches!(ticket.status, TicketStatus::Resolved | TicketStatus::Closed) {
        // Sparse: only open work is in a team's queue, so its cost never grows with history.
        item.insert(
            "gsi2pk".into(),
            s(format!("QUEUE#{}", ticket.team.as_str())),
        );
        item.insert(
            "gsi2sk".into(),
            s(queue_sk(
                ticket.priority,
                ticket.created_at,
                &ticket.reference,
            )),
        );
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
    if let Some(incident) = &ticket.incident {
        let mut m = Item::new();
        m.insert("occurred_at".into(), s(incident.occurred_at.to_string()));
        if let Some(game) = &incident.game_name {
            m.insert("game_name".into(), s(game));
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
        s(format!("{HISTORY_PREFIX}{}#{seq:04}", sortable(change.at))),
    );
    item.insert("type".into(), s("status_change"));
    item.insert("at".into(), s(change.at.to_string()));
    item.insert("status".into(), s(change.status.as_str()));
    item.insert("reason".into(), s(&change.reason));
    insert_actor(&mut item, &change.actor);
    item
}

fn insert_actor(item: &mut Item, actor: &Actor) {
    let (kind, id) = match actor {
        Actor::Player => ("player", None),
        Actor::Staff { id } => ("staff", Some(id.as_str())),
        Actor::System => ("system", None),
    };
    item.insert("actor".into(), s(kind));
    if let Some(id) = id {
        item.insert("actor_id".into(), s(id));
    }
}

fn actor_from(item: &Item) -> Result<Actor, StoreError> {
    Ok(match get_s(item, "actor")? {
        "player" => Actor::Player,
        "system" => Actor::System,
        "staff" => Actor::Staff {
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
        s(format!(
            "{MESSAGE_PREFIX}{}#{version:010}",
            sortable(message.at)
        )),
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

fn queue_sk(priority: Priority, created_at: Timestamp, reference: &TicketReference) -> String {
    format!(
        "{}#{}#{}",
        priority.rank(),
        sortable(created_at),
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

fn get_s<'a>(item: &'a Item, attribute: &'static str) -> Result<&'a str, StoreError> {
    match item.get(attribute) {
        Some(AttributeValue::S(value)) => Ok(value),
        _ => Err(StoreError::Corrupt { attribute }),
    }
}

fn opt_s(item: &Item, attribute: &'static str) -> Option<String> {
    match item.get(attribute) {
        Some(AttributeValue::S(value)) => Some(value.clone()),
        _ => None,
    }
}

fn parse_with<T>(
    item: &Item,
    attribute: &'static str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<T, StoreError> {
    parse(get_s(item, attribute)?).ok_or(StoreError::Corrupt { attribute })
}

fn timestamp(item: &Item, attribute: &'static str) -> Result<Timestamp, StoreError> {
    parse_with(item, attribute, |v| v.parse().ok())
}

fn ticket_from(item: &Item) -> Result<Ticket, StoreError> {
    let incident = match item.get("incident") {
        Some(AttributeValue::M(m)) => Some(IncidentDetails {
            occurred_at: timestamp(m, "occurred_at")?,
            game_name: opt_s(m, "game_name"),
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
            Some(id) => Some(crate::domain::verification::CaseId::parse(&id).ok_or(
                StoreError::Corrupt {
                    attribute: "case_id",
                },
            )?),
            None => None,
        },
        assignee: opt_s(item, "assignee"),
        created_at: timestamp(item, "created_at")?,
        updated_at: timestamp(item, "updated_at")?,
        response_due_at: timestamp(item, "response_due_at")?,
        version: match item.get("version") {
            Some(AttributeValue::N(n)) => n.parse().map_err(|_| StoreError::Corrupt {
                attribute: "version",
            })?,
            _ => {
                return Err(StoreError::Corrupt {
                    attribute: "version",
                })
            }
        },
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
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(ticket_pk(reference)))
            .consistent_read(true);
        let mut ticket = None;
        let mut history = Vec::new();
        let mut messages = Vec::new();
        for item in query_all(query).await? {
            match get_s(&item, "sk")? {
                TICKET_SK => ticket = Some(ticket_from(&item)?),
                sk if sk.starts_with(HISTORY_PREFIX) => history.push(status_change_from(&item)?),
                sk if sk.starts_with(MESSAGE_PREFIX) => messages.push(message_from(&item)?),
                _ => {}
            }
        }
        Ok(ticket.map(|ticket| TicketWithHistory {
            ticket,
            history,
            messages,
        }))
    }

    async fn open_case_of(
        &self,
        player: &PlayerId,
    ) -> Result<Option<crate::domain::verification::CaseId>, StoreError> {
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
                crate::domain::verification::CaseId::parse(&id).ok_or(StoreError::Corrupt {
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
    ) -> Result<Page<Ticket>, StoreError> {
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
        let mut items = output
            .items()
            .iter()
            .map(ticket_from)
            .collect::<Result<Vec<_>, _>>()?;
        let next = if items.len() > usize::from(limit) {
            items.truncate(usize::from(limit));
            items.last().map(|last| PageStart {
                created_at: last.created_at,
                reference: last.reference.clone(),
            })
        } else {
            None
        };
        Ok(Page { items, next })
    }

    async fn update(
        &self,
        ticket: &Ticket,
        expected_version: u64,
        new_history: &[StatusChange],
        new_message: Option<&Message>,
    ) -> Result<Updated, StoreError> {
        let reference = &ticket.reference;
        // The whole item is replaced: a resolved or closed ticket loses its gsi2 attributes and
        // so leaves its team's queue. `#v`: moto mis-handles some bare attribute names.
        let mut ticket_put = put(&self.table, ticket_item(ticket), "#v = :expected")?;
        ticket_put.expression_attribute_names =
            Some(HashMap::from([("#v".to_owned(), "version".to_owned())]));
        ticket_put.expression_attribute_values = Some(HashMap::from([(
            ":expected".to_owned(),
            AttributeValue::N(expected_version.to_string()),
        )]));
        let mut items = vec![ticket_put];
        // The new version is unique to this write, so it keeps the sort keys unique.
        let base = u32::try_from(ticket.version)
            .unwrap_or(u32::MAX / 16)
            .saturating_mul(16);
        for (i, change) in new_history.iter().enumerate() {
            let seq = base.saturating_add(u32::try_from(i).unwrap_or(u32::MAX));
            items.push(put(
                &self.table,
                history_item(reference, change, seq),
                "attribute_not_exists(pk)",
            )?);
        }
        if let Some(message) = new_message {
            items.push(put(
                &self.table,
                message_item(reference, message, ticket.version),
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
        let mut items = output
            .items()
            .iter()
            .map(ticket_from)
            .collect::<Result<Vec<_>, _>>()?;
        let next = if items.len() > usize::from(limit) {
            items.truncate(usize::from(limit));
            items.last().map(|last| QueueStart {
                priority: last.priority,
                created_at: last.created_at,
                reference: last.reference.clone(),
            })
        } else {
            None
        };
        Ok(Page { items, next })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::intake::TicketRequest;
    use crate::domain::sla::SupportCalendar;

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

    #[test]
    fn a_ticket_survives_the_round_trip_through_its_item() {
        let (ticket, change) = ticket();
        assert_eq!(
            ticket_from(&ticket_item(&ticket)).expect("readable"),
            ticket
        );
        let item = history_item(&ticket.reference, &change, 0);
        assert_eq!(status_change_from(&item).expect("readable"), change);
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
            author: Actor::Staff {
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

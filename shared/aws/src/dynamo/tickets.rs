//! The DynamoDB adapter for tickets. One table, keyed for the access patterns:
//!
//! | item            | pk                        | sk                         | gsi1 (player)                       | gsi2 (team queue, open only)            |
//! |-----------------|---------------------------|----------------------------|-------------------------------------|-----------------------------------------|
//! | ticket          | `TICKET#<ref>`            | `TICKET`                   | `PLAYER#<id>` / `TICKET#<created ms>#<ref>`| `QUEUE#<team>#<shard>` / `<rank>#<created ms>#<ref>` |
//! | status change   | `TICKET#<ref>`            | `HISTORY#<at ms>#<seq>`    |                                     |                                         |
//! | message         | `TICKET#<ref>`            | `MESSAGE#<at ms>#<version>`|                                     |                                         |
//! | idempotency key | `IDEMPOTENCY#<id>#<key>`  | `IDEMPOTENCY`              |                                     |                                         |
//! | escalation      | `TICKET#<ref>`            | `ESCALATION#<id>`          |                                     |                                         |
//! | notification    | `TICKET#<ref>`            | `NOTIFICATION#<at ms>#<id>`|                                     |                                         |
//! | outbox message  | `OUTBOX#<id>`             | `OUTBOX`                   |                                     | `OUTBOX#<shard>` / `<created ms>#<id>`  |
//! | contact address | `PLAYER#<id>`             | `CONTACT`                  |                                     |                                         |
//!
//! Attachments (`dynamo_attachments.rs`) and verification cases (`dynamo_cases.rs`) live in the
//! same table: attachments in the ticket's item collection (`ATTACHMENT#…`, ignored here), cases
//! under `CASE#<id>` and in the player's gsi1 partition under `CASE#…`.
//!
//! A ticket and its history are one item collection (one Query reads both); a player's
//! tickets are one GSI partition read newest first; no access pattern scans. A team's queue and
//! the outbox are spread over shards of gsi2 (`<shard>`: the first random symbol of the
//! reference or the id, see `shards.rs`), read together with the unsharded partition of before.

use std::collections::HashMap;

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
};
use aws_sdk_dynamodb::Client;
use jiff::Timestamp;

use serde::{Deserialize, Serialize};

use crate::dynamo::attachments::{attachment_from, sort_attachments, ATTACHMENT_PREFIX};
use crate::dynamo::item::{backend, data, from_item, get_s, ms, reference, s, to_item, Item, Json};
use crate::dynamo::notifications::notification_item;
use crate::dynamo::query::{
    page_of_over_fetched, read_collection, After, Index, IndexQuery, SortKeys,
};
use crate::dynamo::shards::{ShardedIndex, Shards};
use guichet_core::common::contact::ContactAddress;
use guichet_core::common::paging::Page;
use guichet_core::common::player::{Author, Language, PlayerId};
use guichet_core::common::reference::TicketReference;
use guichet_core::common::store::StoreError;
use guichet_core::escalation::rules::{Escalation, EscalationState};
use guichet_core::outbox::ports::OutboxStore;
use guichet_core::outbox::rules::{Destination, MessageId, OutboxMessage};
use guichet_core::promises::clocks::Clocks;
use guichet_core::promises::report::ComplaintIndex;
use guichet_core::promises::sweep::{DueAfter, DueBucket, DueIndex};
use guichet_core::tickets::lookup::{Lookup, LookupAudit};
use guichet_core::tickets::ports::{
    Basis, IdempotencyClaim, IdempotencyRecord, InsertOutcome, MergeWrite, MergeWritten,
    MergedRecord, NewTicketWrite, PageStart, QueueStart, TicketStore, TicketUpdate,
    TicketWithHistory, Updated,
};
use guichet_core::tickets::ticket::{
    Category, Channel, IncidentDetails, Priority, StatusChange, Team, Ticket, TicketStatus,
};
use guichet_core::tickets::workflow::{Change, Message};
use guichet_core::verification::rules::CaseId;

pub(crate) const TICKET_SK: &str = "TICKET";
const IDEMPOTENCY_SK: &str = "IDEMPOTENCY";
const HISTORY_PREFIX: &str = "HISTORY#";
const MESSAGE_PREFIX: &str = "MESSAGE#";
const ESCALATION_PREFIX: &str = "ESCALATION#";
pub(crate) const NOTIFICATION_PREFIX: &str = "NOTIFICATION#";
const OUTBOX_SK: &str = "OUTBOX";
/// The outbox's sparse index partitions: `OUTBOX#0` to `OUTBOX#f`, by the first hex digit of
/// the message's random id. One partition for every change's outbox write would cap the whole
/// desk's write rate at one index partition's (about 1,000 writes per second); sixteen spread
/// it evenly. Only the safety-net sweep reads them, one query per shard.
const OUTBOX_SHARDS: u8 = 16;
/// The one partition of the outbox before it was sharded: still swept, so that nothing written
/// before the change is left behind.
const UNSHARDED_OUTBOX: &str = "OUTBOX";
const CONTACT_SK: &str = "CONTACT";
/// A player's tickets and cases, newest first.
pub(crate) const PLAYER_INDEX: Index = Index {
    name: "gsi1",
    pk: "gsi1pk",
    sk: "gsi1sk",
};
/// The sparse index of work under way: team queues, the review queue, teams' current
/// incidents and the outbox, each under its own partition keys.
pub(crate) const QUEUE_INDEX: Index = Index {
    name: "gsi2",
    pk: "gsi2pk",
    sk: "gsi2sk",
};

#[derive(Clone)]
pub struct DynamoTicketStore {
    pub(crate) client: Client,
    pub(crate) table: String,
}

impl DynamoTicketStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// The table it reads and writes: where the stores that share it are built.
    pub fn table_name(&self) -> &str {
        &self.table
    }
}

pub fn ticket_pk(reference: &TicketReference) -> String {
    format!("TICKET#{}", reference.as_str())
}

pub(crate) fn player_pk(player: &PlayerId) -> String {
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

/// The ticket item, attribute for attribute. Its keys are computed from the ticket and never
/// read back.
#[derive(Serialize, Deserialize)]
struct TicketItem {
    #[serde(skip_deserializing)]
    pk: String,
    #[serde(skip_deserializing)]
    sk: &'static str,
    #[serde(skip_deserializing)]
    gsi1pk: String,
    #[serde(skip_deserializing)]
    gsi1sk: String,
    /// In its team's queue only while open (see [`ticket_queue_sk`]).
    #[serde(skip_deserializing, skip_serializing_if = "Option::is_none")]
    gsi2pk: Option<String>,
    #[serde(skip_deserializing, skip_serializing_if = "Option::is_none")]
    gsi2sk: Option<String>,
    /// In the due-time index only while a clock has a warning or a breach to come (see
    /// [`due_keys`]).
    #[serde(skip_deserializing, skip_serializing_if = "Option::is_none")]
    gsi3pk: Option<String>,
    #[serde(skip_deserializing, skip_serializing_if = "Option::is_none")]
    gsi3sk: Option<String>,
    /// In the open complaints' index only while a complaint is open (see
    /// [`COMPLAINT_INDEX`]).
    #[serde(skip_deserializing, skip_serializing_if = "Option::is_none")]
    gsi4pk: Option<&'static str>,
    #[serde(skip_deserializing, skip_serializing_if = "Option::is_none")]
    gsi4sk: Option<String>,
    #[serde(rename = "type", skip_deserializing)]
    kind: &'static str,
    #[serde(with = "reference")]
    reference: TicketReference,
    player: PlayerId,
    channel: Channel,
    category: Category,
    subject: String,
    description: String,
    language: Language,
    priority: Priority,
    team: Team,
    status: TicketStatus,
    created_at: Timestamp,
    updated_at: Timestamp,
    response_due_at: Timestamp,
    version: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    case_id: Option<CaseId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    assignee: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    linked_incident: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    incident: Option<IncidentItem>,
    /// A merged duplicate's survivor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    merged_into: Option<StoredReference>,
    /// The duplicates merged into this ticket, a list (`L`) in merge order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    merged_from: Vec<StoredReference>,
    /// The ticket's clocks, a map (`M`); absent on tickets from before the desk kept them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    clocks: Option<Clocks>,
    /// The digest of the ticket as written ([`Ticket::fingerprint`]): a write decided on an
    /// agent's `state` token is conditioned on it. Never read back (items written before it
    /// existed have none, and such a write falls back to reading the ticket).
    #[serde(skip_deserializing)]
    fingerprint: String,
}

/// A reference inside an option or a list, stored as the ticket's own (`reference`).
#[derive(Serialize, Deserialize)]
#[serde(transparent)]
struct StoredReference(#[serde(with = "reference")] TicketReference);

/// The ticket's incident details, a map (`M`) in its item.
#[derive(Serialize, Deserialize)]
struct IncidentItem {
    occurred_at: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    game_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    payment_system: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    transaction_id: Option<String>,
    #[serde(default)]
    steps_tried: Vec<String>,
}

impl From<&Ticket> for TicketItem {
    fn from(ticket: &Ticket) -> Self {
        let queue_sk = ticket_queue_sk(ticket);
        let due = ticket_due_keys(ticket);
        Self {
            pk: ticket_pk(&ticket.reference),
            sk: TICKET_SK,
            gsi1pk: player_pk(&ticket.player),
            gsi1sk: player_sk(ticket.created_at, &ticket.reference),
            gsi2pk: queue_sk
                .as_ref()
                .map(|_| queue_partition(ticket.team, &ticket.reference)),
            gsi2sk: queue_sk,
            gsi3pk: due.as_ref().map(|(pk, _)| pk.clone()),
            gsi3sk: due.map(|(_, sk)| sk),
            gsi4pk: open_complaint(ticket).then_some(OPEN_COMPLAINTS),
            gsi4sk: open_complaint(ticket)
                .then(|| complaint_sk(ticket.created_at, &ticket.reference)),
            kind: "ticket",
            reference: ticket.reference.clone(),
            player: ticket.player.clone(),
            channel: ticket.channel,
            category: ticket.category,
            subject: ticket.subject.clone(),
            description: ticket.description.clone(),
            language: ticket.language,
            priority: ticket.priority,
            team: ticket.team,
            status: ticket.status,
            created_at: ticket.created_at,
            updated_at: ticket.updated_at,
            response_due_at: ticket.response_due_at,
            version: ticket.version,
            case_id: ticket.verification_case.clone(),
            assignee: ticket.assignee.clone(),
            linked_incident: ticket.linked_incident.clone(),
            incident: ticket.incident.as_ref().map(|i| IncidentItem {
                occurred_at: i.occurred_at,
                game_name: i.game_name.clone(),
                payment_system: i.payment_system.clone(),
                transaction_id: i.transaction_id.clone(),
                steps_tried: i.steps_tried.clone(),
            }),
            merged_into: ticket.merged_into.clone().map(StoredReference),
            merged_from: ticket
                .merged_from
                .iter()
                .cloned()
                .map(StoredReference)
                .collect(),
            clocks: ticket.clocks.clone(),
            fingerprint: ticket.fingerprint(),
        }
    }
}

impl From<TicketItem> for Ticket {
    fn from(item: TicketItem) -> Self {
        Ticket {
            reference: item.reference,
            player: item.player,
            channel: item.channel,
            category: item.category,
            subject: item.subject,
            description: item.description,
            language: item.language,
            priority: item.priority,
            team: item.team,
            status: item.status,
            incident: item.incident.map(|i| IncidentDetails {
                occurred_at: i.occurred_at,
                game_name: i.game_name,
                payment_system: i.payment_system,
                transaction_id: i.transaction_id,
                steps_tried: i.steps_tried,
            }),
            linked_incident: item.linked_incident,
            verification_case: item.case_id,
            assignee: item.assignee,
            merged_into: item.merged_into.map(|r| r.0),
            merged_from: item.merged_from.into_iter().map(|r| r.0).collect(),
            created_at: item.created_at,
            updated_at: item.updated_at,
            response_due_at: item.response_due_at,
            clocks: item.clocks,
            version: item.version,
        }
    }
}

pub(crate) fn ticket_item(ticket: &Ticket) -> Result<Item, StoreError> {
    to_item(&TicketItem::from(ticket))
}

fn ticket_from(item: &Item) -> Result<Ticket, StoreError> {
    from_item::<TicketItem>(item).map(Ticket::from)
}

/// A line of the ticket's history or one of its messages: the same item but for what it says
/// (`status` and `reason`, or `body`).
#[derive(Serialize, Deserialize)]
struct LineItem {
    #[serde(skip_deserializing)]
    pk: String,
    #[serde(skip_deserializing)]
    sk: String,
    #[serde(rename = "type", skip_deserializing)]
    kind: &'static str,
    at: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<TicketStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    body: Option<String>,
    /// What a message came in on (`mail:<SES id>`, `chat:<provider>:<conversation>`), so a
    /// second delivery adds nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    origin: Option<String>,
    /// A staff member's internal note (absent for every other message).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    internal: bool,
    /// An extended delay's minutes, on its status line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    extended_minutes: Option<u32>,
    /// The clocks a change of configuration recomputed, on its status line (a map).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rebased: Option<Box<Clocks>>,
    /// `player`, `staff` or `system`; a staff member's id beside it.
    actor: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    actor_id: Option<String>,
}

impl LineItem {
    fn new(reference: &TicketReference, sk: String, kind: &'static str, at: Timestamp) -> Self {
        Self {
            pk: ticket_pk(reference),
            sk,
            kind,
            at,
            status: None,
            reason: None,
            body: None,
            origin: None,
            internal: false,
            extended_minutes: None,
            rebased: None,
            actor: String::new(),
            actor_id: None,
        }
    }

    fn by(mut self, actor: &Author) -> Self {
        (self.actor, self.actor_id) = match actor {
            Author::Player => ("player".into(), None),
            Author::Staff { id } => ("staff".into(), Some(id.clone())),
            Author::System => ("system".into(), None),
        };
        self
    }

    fn author(&mut self) -> Result<Author, StoreError> {
        Ok(match self.actor.as_str() {
            "player" => Author::Player,
            "system" => Author::System,
            "staff" => Author::Staff {
                id: self.actor_id.take().ok_or(StoreError::Corrupt {
                    attribute: "actor_id",
                })?,
            },
            _ => return Err(StoreError::Corrupt { attribute: "actor" }),
        })
    }
}

fn history_item(
    reference: &TicketReference,
    change: &StatusChange,
    seq: u32,
) -> Result<Item, StoreError> {
    let sk = format!("{HISTORY_PREFIX}{}#{seq:04}", ms(change.at));
    let line = LineItem {
        status: Some(change.status),
        reason: Some(change.reason.clone()),
        extended_minutes: change.extended_minutes,
        rebased: change.rebased.clone(),
        ..LineItem::new(reference, sk, "status_change", change.at)
    };
    to_item(&line.by(&change.actor))
}

fn status_change_from(item: &Item) -> Result<StatusChange, StoreError> {
    let mut line: LineItem = from_item(item)?;
    Ok(StatusChange {
        actor: line.author()?,
        at: line.at,
        status: line.status.ok_or(StoreError::Corrupt {
            attribute: "status",
        })?,
        reason: line.reason.ok_or(StoreError::Corrupt {
            attribute: "reason",
        })?,
        extended_minutes: line.extended_minutes,
        rebased: line.rebased,
    })
}

/// The history lines of a change, keyed by the new version (unique to this write) times 16,
/// plus the line's index: whoever writes a change to a ticket keys its lines this way.
pub(crate) fn change_history_items(
    change: &Change,
) -> impl Iterator<Item = Result<Item, StoreError>> + '_ {
    let base = u32::try_from(change.ticket.version)
        .unwrap_or(u32::MAX / 16)
        .saturating_mul(16);
    change.history.iter().enumerate().map(move |(i, line)| {
        let seq = base.saturating_add(u32::try_from(i).unwrap_or(u32::MAX));
        history_item(&change.ticket.reference, line, seq)
    })
}

/// A message's sort key carries the ticket version that added it: unique per ticket, since a
/// version is written once.
fn message_item(
    reference: &TicketReference,
    message: &Message,
    version: u64,
) -> Result<Item, StoreError> {
    let sk = format!("{MESSAGE_PREFIX}{}#{version:010}", ms(message.at));
    let line = LineItem {
        body: Some(message.body.clone()),
        origin: message.origin.clone(),
        internal: message.internal,
        ..LineItem::new(reference, sk, "message", message.at)
    };
    to_item(&line.by(&message.author))
}

fn message_from(item: &Item) -> Result<Message, StoreError> {
    let mut line: LineItem = from_item(item)?;
    Ok(Message {
        author: line.author()?,
        at: line.at,
        body: line.body.ok_or(StoreError::Corrupt { attribute: "body" })?,
        origin: line.origin,
        internal: line.internal,
    })
}

/// A ticket's sort key in its team's queue, while it is in the queue. The index is sparse:
/// only open work (neither resolved nor closed) is in it, so its cost never grows with history.
pub(crate) fn ticket_queue_sk(ticket: &Ticket) -> Option<String> {
    (!matches!(ticket.status, TicketStatus::Resolved | TicketStatus::Closed))
        .then(|| queue_sk(ticket.queue_rank(), ticket.created_at, &ticket.reference))
}

/// The due-time index (gsi3): a ticket whose clocks have a warning or a breach to come is
/// listed under the UTC hour of the next one (`DUE#2026-11-30T15`), sorted by its instant, so
/// a sweep reads one partition per hour that fell due and never scans. Work that is over
/// leaves the index.
pub(crate) const DUE_INDEX: Index = Index {
    name: "gsi3",
    pk: "gsi3pk",
    sk: "gsi3sk",
};

/// The record of the configuration the open tickets' clocks were last recomputed on, by the
/// sweep (`promises::sweep`): one item for the table.
const PROMISES_PK: &str = "CONFIG#PROMISES";
const PROMISES_SK: &str = "CONFIG";

/// The open complaints (gsi4): one partition, oldest first. Complaints are few beside the
/// desk's tickets, and a complaint's entry only changes when the complaint does, so one index
/// partition holds them all; the report reads a page at a time below a cutoff.
pub(crate) const COMPLAINT_INDEX: Index = Index {
    name: "gsi4",
    pk: "gsi4pk",
    sk: "gsi4sk",
};
const OPEN_COMPLAINTS: &str = "COMPLAINTS#OPEN";

fn open_complaint(ticket: &Ticket) -> bool {
    ticket.category == Category::Complaint
        && !matches!(ticket.status, TicketStatus::Resolved | TicketStatus::Closed)
}

/// `<received ms>#<reference>`, the time as every time key of the table writes it (`ms`).
fn complaint_sk(created_at: Timestamp, reference: &TicketReference) -> String {
    format!("{}#{}", ms(created_at), reference.as_str())
}

/// A ticket's entry in the due-time index: when its next clock check falls (or, when the
/// sweep put it off to its team's next opening, `until`).
pub(crate) fn ticket_due_keys(ticket: &Ticket) -> Option<(String, String)> {
    if matches!(ticket.status, TicketStatus::Resolved | TicketStatus::Closed) {
        return None;
    }
    let next = ticket.clocks.as_ref()?.next_check()?;
    Some(due_keys(next, &ticket.reference))
}

/// `DUE#<UTC hour>` and `<ms>#<reference>` (`ms`, as every time key of the table).
pub(crate) fn due_keys(at: Timestamp, reference: &TicketReference) -> (String, String) {
    (
        due_partition(DueBucket::of(at)),
        format!("{}#{}", ms(at), reference.as_str()),
    )
}

pub(crate) fn due_partition(bucket: DueBucket) -> String {
    format!("DUE#{}", bucket.label())
}

/// How many index partitions a team's queue is spread over. Every change of an open ticket
/// rewrites its queue entry; at a thousand tickets a second, the busiest team's one partition
/// would take more than the 1,000 writes per second a partition accepts. Four spread it; a
/// page of the queue reads the four and the partition of before at once, and merges them: five
/// small queries instead of one.
const QUEUE_SHARDS: u8 = 4;

/// A team's queue: `QUEUE#<team>#0` to `#3`, and the unsharded `QUEUE#<team>` of before (still
/// read, so nothing written before the change is hidden).
fn queue_shards(team: Team) -> Shards {
    Shards::new(format!("QUEUE#{}", team.as_str()), QUEUE_SHARDS)
}

/// The queue partition of a ticket: its team's, and a shard fixed by its reference (random),
/// so the ticket stays in one shard while it is in the queue.
fn queue_partition(team: Team, reference: &TicketReference) -> String {
    queue_shards(team).partition_of(reference.as_str())
}

/// The team queue's sort key: rank ([`Ticket::queue_rank`]: a broken promise, then
/// priority), then arrival, then reference.
pub(crate) fn queue_sk(rank: u8, created_at: Timestamp, reference: &TicketReference) -> String {
    format!("{}#{}#{}", rank, ms(created_at), reference.as_str())
}

/// An idempotency key's record. Only what an earlier request stored is read back.
#[derive(Serialize, Deserialize)]
struct IdempotencyItem {
    #[serde(skip_deserializing)]
    pk: String,
    #[serde(skip_deserializing)]
    sk: &'static str,
    #[serde(rename = "type", skip_deserializing)]
    kind: &'static str,
    fingerprint: String,
    #[serde(with = "reference")]
    reference: TicketReference,
    #[serde(skip_deserializing)]
    claimed_at: Timestamp,
    /// The table's TTL attribute (epoch seconds): DynamoDB deletes the record some time after.
    #[serde(skip_deserializing)]
    expires_at: i64,
}

fn idempotency_item(
    claim: &IdempotencyClaim,
    reference: &TicketReference,
) -> Result<Item, StoreError> {
    to_item(&IdempotencyItem {
        pk: idempotency_pk(&claim.player, claim.key.as_str()),
        sk: IDEMPOTENCY_SK,
        kind: "idempotency_key",
        fingerprint: claim.fingerprint.clone(),
        reference: reference.clone(),
        claimed_at: claim.claimed_at,
        expires_at: claim.expires_at.as_second(),
    })
}

fn idempotency_record_from(item: &Item) -> Result<IdempotencyRecord, StoreError> {
    let record: IdempotencyItem = from_item(item)?;
    Ok(IdempotencyRecord {
        fingerprint: record.fingerprint,
        reference: record.reference,
    })
}

/// Escalation and notification records are stored whole, as JSON (`data`): they are read with
/// their ticket, never queried by their fields. The escalation's `state` is kept beside it for
/// the routing condition.
#[derive(Serialize)]
struct EscalationItem<'a> {
    pk: String,
    sk: String,
    #[serde(rename = "type")]
    kind: &'static str,
    state: EscalationState,
    data: Json<&'a Escalation>,
}

fn escalation_item(escalation: &Escalation) -> Result<Item, StoreError> {
    to_item(&EscalationItem {
        pk: ticket_pk(&escalation.reference),
        sk: format!("{ESCALATION_PREFIX}{}", escalation.id),
        kind: "escalation",
        state: escalation.state,
        data: Json(escalation),
    })
}

/// An outbox message, in its shard of the sparse index until it is relayed.
#[derive(Serialize, Deserialize)]
struct OutboxItem {
    #[serde(skip_deserializing)]
    pk: String,
    #[serde(skip_deserializing)]
    sk: &'static str,
    #[serde(skip_deserializing)]
    gsi2pk: String,
    #[serde(skip_deserializing)]
    gsi2sk: String,
    #[serde(rename = "type", skip_deserializing)]
    kind: &'static str,
    id: MessageId,
    destination: Destination,
    group: String,
    body: String,
    created_at: Timestamp,
}

pub(crate) fn outbox_item(message: &OutboxMessage) -> Result<Item, StoreError> {
    to_item(&OutboxItem {
        pk: format!("OUTBOX#{}", message.id),
        sk: OUTBOX_SK,
        gsi2pk: outbox_partition(&message.id),
        gsi2sk: format!("{}#{}", ms(message.created_at), message.id),
        kind: "outbox",
        id: message.id.clone(),
        destination: message.destination,
        group: message.group.clone(),
        body: message.body.clone(),
        created_at: message.created_at,
    })
}

/// The outbox's partitions: sixteen shards, then the one of old.
fn outbox_shards() -> Shards {
    Shards::new(UNSHARDED_OUTBOX, OUTBOX_SHARDS)
}

/// The outbox shard of a message: the first hex digit of its random id, so evenly spread.
fn outbox_partition(id: &MessageId) -> String {
    outbox_shards().partition_of(id.as_str())
}

/// The outbox message an item holds: what the sweep reads from the index, and what the table's
/// stream carries to the relay (`NewImage` of an outbox item's insert).
pub fn outbox_from(item: &Item) -> Result<OutboxMessage, StoreError> {
    let record: OutboxItem = from_item(item)?;
    Ok(OutboxMessage {
        id: record.id,
        destination: record.destination,
        group: record.group,
        body: record.body,
        created_at: record.created_at,
    })
}

/// The outbox message of an item image as the table's stream delivers it to a function
/// (`NewImage`), read through the same record as the sweep's.
pub fn outbox_from_image(image: serde_dynamo::Item) -> Result<OutboxMessage, StoreError> {
    outbox_from(&image.into())
}

/// The image of an outbox item, as the stream's `NewImage` of its insert holds it: for the
/// local stream poller's and the relay's tests.
pub fn outbox_image(message: &OutboxMessage) -> Result<serde_dynamo::Item, StoreError> {
    Ok(outbox_item(message)?.into())
}

/// The player's contact address, kept apart from the tickets that name the player.
#[derive(Serialize, Deserialize)]
struct ContactItem {
    #[serde(skip_deserializing)]
    pk: String,
    #[serde(skip_deserializing)]
    sk: &'static str,
    #[serde(rename = "type", skip_deserializing)]
    kind: &'static str,
    email: String,
    #[serde(skip_deserializing)]
    updated_at: Timestamp,
    /// The reverse look-up (gsi5): `ADDRESS#<the address's lookup key>` / `PLAYER#<id>`, for
    /// inbound mail and bounces (`dynamo::mail`). Absent when the address is not one mail can
    /// be compared with.
    #[serde(skip_deserializing, skip_serializing_if = "Option::is_none")]
    gsi5pk: Option<String>,
    #[serde(skip_deserializing, skip_serializing_if = "Option::is_none")]
    gsi5sk: Option<String>,
}

fn contact_item(
    player: &PlayerId,
    contact: &ContactAddress,
    at: Timestamp,
) -> Result<Item, StoreError> {
    let lookup = guichet_core::mail::message::MailAddress::of_contact(contact);
    to_item(&ContactItem {
        pk: player_pk(player),
        sk: CONTACT_SK,
        kind: "contact",
        email: contact.expose().to_owned(),
        updated_at: at,
        gsi5pk: lookup.as_ref().map(crate::dynamo::mail::address_pk),
        gsi5sk: lookup.map(|_| player_pk(player)),
    })
}

/// The open-case marker the case store writes (`cases.rs`); only its case id is read here.
#[derive(Deserialize)]
struct OpenCaseItem {
    case_id: Option<CaseId>,
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

impl DynamoTicketStore {
    /// What a new ticket writes besides itself, its first history line and its key.
    fn opening_extras(&self, write: &NewTicketWrite) -> Result<Vec<Put>, StoreError> {
        let reference = &write.ticket.reference;
        let mut items = Vec::new();
        for (i, change) in write.history.iter().enumerate() {
            let seq = u32::try_from(i + 1).unwrap_or(u32::MAX);
            items.push(put(
                &self.table,
                history_item(reference, change, seq)?,
                "attribute_not_exists(pk)",
            )?);
        }
        if let Some(escalation) = &write.escalation {
            items.push(escalation_put(&self.table, escalation)?);
        }
        if let Some(notification) = &write.notification {
            items.push(put(
                &self.table,
                notification_item(ticket_pk(reference), notification)?,
                "attribute_not_exists(pk)",
            )?);
        }
        for message in &write.outbox {
            items.push(put(
                &self.table,
                outbox_item(message)?,
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
                    )?))
                    .build()
                    .map_err(backend)?,
            );
        }
        Ok(items)
    }
}

impl DynamoTicketStore {
    /// The writes of one ticket update: the whole ticket item under its version (and, on an
    /// agent's token, its fingerprint), its history lines and message, the escalation record,
    /// the notification and the outbox items. A merge writes two of these in one transaction.
    fn update_puts(&self, update: TicketUpdate<'_>) -> Result<Vec<Put>, StoreError> {
        let change = update.change;
        let ticket = &change.ticket;
        let reference = &ticket.reference;
        // The whole item is replaced: a resolved or closed ticket loses its gsi2 attributes and
        // so leaves its team's queue. `#v`: moto mis-handles some bare attribute names.
        // Decided on an agent's `state` token: the stored ticket must be that one, every field.
        let (condition, fingerprint) = match update.basis {
            Basis::Read => ("#v = :expected", None),
            Basis::Seen { fingerprint } => ("#v = :expected AND #fp = :seen", Some(fingerprint)),
        };
        let mut ticket_put = put(&self.table, ticket_item(ticket)?, condition)?;
        let mut names = HashMap::from([("#v".to_owned(), "version".to_owned())]);
        let mut values = HashMap::from([(
            ":expected".to_owned(),
            AttributeValue::N(change.expected_version.to_string()),
        )]);
        if let Some(fingerprint) = fingerprint {
            names.insert("#fp".to_owned(), "fingerprint".to_owned());
            values.insert(":seen".to_owned(), s(fingerprint));
        }
        ticket_put.expression_attribute_names = Some(names);
        ticket_put.expression_attribute_values = Some(values);
        let mut items = vec![ticket_put];
        for line in change_history_items(change) {
            items.push(put(&self.table, line?, "attribute_not_exists(pk)")?);
        }
        if let Some(message) = &change.message {
            items.push(put(
                &self.table,
                message_item(reference, message, ticket.version)?,
                "attribute_not_exists(pk)",
            )?);
        }
        if let Some(escalation) = update.escalation {
            items.push(escalation_put(&self.table, escalation)?);
        }
        if let Some(notification) = update.notification {
            items.push(put(
                &self.table,
                notification_item(ticket_pk(reference), notification)?,
                "attribute_not_exists(pk)",
            )?);
        }
        for message in update.outbox {
            items.push(put(
                &self.table,
                outbox_item(message)?,
                "attribute_not_exists(pk)",
            )?);
        }
        Ok(items)
    }

    /// One all-or-nothing write of `items`.
    async fn transact(&self, items: Vec<Put>) -> Result<(), SdkError<TransactWriteItemsError>> {
        self.client
            .transact_write_items()
            .set_transact_items(Some(
                items
                    .into_iter()
                    .map(|p| TransactWriteItem::builder().put(p).build())
                    .collect(),
            ))
            .send()
            .await
            .map(|_| ())
    }
}

/// A ticket's item collection as one Query reads it, each kind of item in its place.
#[derive(Default)]
struct Collection {
    ticket: Option<Ticket>,
    history: Vec<StatusChange>,
    messages: Vec<Message>,
    notifications: Vec<guichet_core::notifications::rules::Notification>,
    escalations: Vec<Escalation>,
    attachments: Vec<guichet_core::attachments::rules::Attachment>,
}

impl DynamoTicketStore {
    /// Reads `reference`'s whole item collection: one Query (paged only past 1 MB).
    async fn collection(&self, reference: &TicketReference) -> Result<Collection, StoreError> {
        let mut read = Collection::default();
        for item in read_collection(&self.client, &self.table, ticket_pk(reference)).await? {
            match get_s(&item, "sk")? {
                TICKET_SK => read.ticket = Some(ticket_from(&item)?),
                sk if sk.starts_with(HISTORY_PREFIX) => {
                    read.history.push(status_change_from(&item)?)
                }
                sk if sk.starts_with(MESSAGE_PREFIX) => read.messages.push(message_from(&item)?),
                sk if sk.starts_with(NOTIFICATION_PREFIX) => read.notifications.push(data(&item)?),
                sk if sk.starts_with(ESCALATION_PREFIX) => read.escalations.push(data(&item)?),
                sk if sk.starts_with(ATTACHMENT_PREFIX) => {
                    read.attachments.push(attachment_from(&item)?)
                }
                _ => {}
            }
        }
        read.escalations.sort_by_key(|e| e.requested_at);
        sort_attachments(&mut read.attachments);
        Ok(read)
    }
}

/// Why each item of a cancelled transaction failed, when it was cancelled.
fn cancellation_reasons(
    error: &SdkError<TransactWriteItemsError>,
) -> Option<&[aws_sdk_dynamodb::types::CancellationReason]> {
    match error {
        SdkError::ServiceError(service) => match service.err() {
            TransactWriteItemsError::TransactionCanceledException(cancelled) => {
                Some(cancelled.cancellation_reasons())
            }
            _ => None,
        },
        _ => None,
    }
}

/// Whether a failed write lost to another: a failed version check, or another transaction on
/// the same items. Either way someone else changed a ticket first, and nothing was written.
fn lost_race(error: &SdkError<TransactWriteItemsError>) -> bool {
    if let SdkError::ServiceError(service) = error {
        if matches!(
            service.err(),
            TransactWriteItemsError::TransactionInProgressException(_)
        ) {
            return true;
        }
    }
    cancellation_reasons(error).is_some_and(|reasons| {
        reasons.iter().any(|r| {
            matches!(
                r.code(),
                Some("ConditionalCheckFailed" | "TransactionConflict")
            )
        })
    })
}

/// An idempotency record's write: free if absent or expired (TTL deletion lags by up to days).
fn idempotency_put(
    table: &str,
    claim: &IdempotencyClaim,
    reference: &TicketReference,
) -> Result<Put, StoreError> {
    let mut p = put(
        table,
        idempotency_item(claim, reference)?,
        "attribute_not_exists(pk) OR expires_at < :now",
    )?;
    p.expression_attribute_values = Some(HashMap::from([(
        ":now".to_owned(),
        AttributeValue::N(claim.claimed_at.as_second().to_string()),
    )]));
    Ok(p)
}

impl TicketStore for DynamoTicketStore {
    async fn insert(&self, write: &NewTicketWrite) -> Result<InsertOutcome, StoreError> {
        let reference = &write.ticket.reference;
        let mut items = vec![
            put(
                &self.table,
                ticket_item(&write.ticket)?,
                "attribute_not_exists(pk)",
            )?,
            put(
                &self.table,
                history_item(reference, &write.received, 0)?,
                "attribute_not_exists(pk)",
            )?,
        ];
        // The idempotency record must stay third: its cancellation reason is read by index.
        let extra = self.opening_extras(write)?;
        if let Some(claim) = &write.idempotency {
            items.push(idempotency_put(&self.table, claim, reference)?);
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
        let collection = self.collection(reference).await?;
        Ok(collection.ticket.map(|ticket| TicketWithHistory {
            ticket,
            history: collection.history,
            messages: collection.messages,
            notifications: collection.notifications,
            escalations: collection.escalations,
        }))
    }

    async fn open_case_of(&self, player: &PlayerId) -> Result<Option<CaseId>, StoreError> {
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
        let marker = output.item().map(from_item::<OpenCaseItem>).transpose()?;
        Ok(marker.and_then(|marker| marker.case_id))
    }

    async fn list_for_player(
        &self,
        player: &PlayerId,
        limit: u16,
        start: Option<&PageStart>,
    ) -> Result<Page<Ticket, PageStart>, StoreError> {
        let tickets = IndexQuery {
            client: &self.client,
            table: &self.table,
            index: PLAYER_INDEX,
            partition: player_pk(player),
            keys: SortKeys::Prefix("TICKET#"),
            forward: false,
        };
        let after = start.map(|start| After {
            pk: ticket_pk(&start.reference),
            sk: TICKET_SK,
            index_sk: player_sk(start.created_at, &start.reference),
        });
        tickets
            .page(limit, after, ticket_from, |last| PageStart {
                created_at: last.created_at,
                reference: last.reference.clone(),
            })
            .await
    }

    async fn update(&self, update: TicketUpdate<'_>) -> Result<Updated, StoreError> {
        match self.transact(self.update_puts(update)?).await {
            Ok(()) => Ok(Updated::Done),
            Err(error) if lost_race(&error) => Ok(Updated::Stale),
            Err(error) => Err(backend(error)),
        }
    }

    async fn merge(&self, write: MergeWrite<'_>) -> Result<MergeWritten, StoreError> {
        // The idempotency record first: its cancellation reason is read by index.
        let mut items = Vec::new();
        if let Some(claim) = write.idempotency {
            items.push(idempotency_put(
                &self.table,
                claim,
                &write.duplicate.change.ticket.reference,
            )?);
        }
        items.extend(self.update_puts(write.duplicate)?);
        items.extend(self.update_puts(write.survivor)?);
        let error = match self.transact(items).await {
            Ok(()) => return Ok(MergeWritten::Done),
            Err(error) => error,
        };
        if let (Some(claim), Some(reasons)) = (write.idempotency, cancellation_reasons(&error)) {
            if reasons.first().and_then(|r| r.code()) == Some("ConditionalCheckFailed") {
                let record = match reasons.first().and_then(|r| r.item()) {
                    Some(old) => Some(idempotency_record_from(old)?),
                    None => self.idempotency_record(claim).await?,
                };
                return Ok(match record {
                    Some(record) => MergeWritten::KeyAlreadyUsed(record),
                    // Deleted between the failed condition and our read: try again.
                    None => MergeWritten::Stale,
                });
            }
        }
        if lost_race(&error) {
            return Ok(MergeWritten::Stale);
        }
        Err(backend(error))
    }

    async fn merged_record(
        &self,
        reference: &TicketReference,
    ) -> Result<Option<MergedRecord>, StoreError> {
        // The duplicate's own item collection, once: its ticket, messages and attachments.
        let collection = self.collection(reference).await?;
        Ok(collection.ticket.map(|ticket| MergedRecord {
            ticket,
            messages: collection.messages,
            attachments: collection.attachments,
        }))
    }

    async fn team_queue(
        &self,
        team: Team,
        limit: u16,
        start: Option<&QueueStart>,
    ) -> Result<Page<Ticket, QueueStart>, StoreError> {
        // The sparse index: only open work is in it, so its cost never grows with resolved and
        // closed tickets. A page starts in every shard just after the cursor's entry (sort
        // keys are unique: they end with the reference), in queue order.
        let queue = ShardedIndex {
            client: &self.client,
            table: &self.table,
            index: QUEUE_INDEX,
            shards: queue_shards(team),
            forward: true,
        };
        let after = start.map(|start| queue_sk(start.rank, start.created_at, &start.reference));
        queue
            .page(limit, after.as_deref(), ticket_from, |last| QueueStart {
                rank: last.queue_rank(),
                created_at: last.created_at,
                reference: last.reference.clone(),
            })
            .await
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
                ContactAddress::parse(&from_item::<ContactItem>(item)?.email)
                    .ok_or(StoreError::Corrupt { attribute: "email" })
            })
            .transpose()
    }
}

impl OutboxStore for DynamoTicketStore {
    async fn pending(&self, limit: u16) -> Result<Vec<OutboxMessage>, StoreError> {
        // The oldest first of each shard of the sparse index: its size is the backlog
        // (normally empty: the stream relays each message as it is written), never the
        // history. Eventually consistent, which is fine: a message the index does not show
        // yet is picked up by the next sweep.
        let mut pending = Vec::new();
        for partition in outbox_shards().partitions() {
            let left = usize::from(limit).saturating_sub(pending.len());
            if left == 0 {
                break;
            }
            let shard = IndexQuery {
                client: &self.client,
                table: &self.table,
                index: QUEUE_INDEX,
                partition,
                keys: SortKeys::All,
                forward: true,
            };
            let items = shard
                .items(i32::try_from(left).unwrap_or(i32::MAX), None)
                .await?;
            for item in &items {
                pending.push(outbox_from(item)?);
            }
        }
        Ok(pending)
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

/// The open complaints' index (gsi4), read by the regulator's report.
impl ComplaintIndex for DynamoTicketStore {
    async fn open_complaints(
        &self,
        before: Timestamp,
        limit: u16,
        start: Option<&PageStart>,
    ) -> Result<Page<Ticket, PageStart>, StoreError> {
        // `#` sorts before every digit: the whole millisecond `before` is left out.
        let end = format!("{}#", ms(before));
        let query = IndexQuery {
            client: &self.client,
            table: &self.table,
            index: COMPLAINT_INDEX,
            partition: OPEN_COMPLAINTS.to_owned(),
            keys: SortKeys::Below(&end),
            forward: true,
        };
        let after = start.map(|s| After {
            pk: ticket_pk(&s.reference),
            sk: TICKET_SK,
            index_sk: complaint_sk(s.created_at, &s.reference),
        });
        query
            .page(limit, after, ticket_from, |last| PageStart {
                created_at: last.created_at,
                reference: last.reference.clone(),
            })
            .await
    }
}

/// A staff member's look-up of a player, in the player's partition beside their contact:
/// `PLAYER#<id>` / `LOOKUP#<at ms>#<staff id>`, kept with the player's other records.
#[derive(Serialize)]
struct LookupItem<'a> {
    pk: String,
    sk: String,
    #[serde(rename = "type")]
    kind: &'static str,
    staff: &'a str,
    at: Timestamp,
}

fn lookup_item(lookup: &Lookup) -> Result<Item, StoreError> {
    to_item(&LookupItem {
        pk: player_pk(&lookup.player),
        sk: format!("LOOKUP#{}#{}", ms(lookup.at), lookup.staff.as_str()),
        kind: "player_lookup",
        staff: lookup.staff.as_str(),
        at: lookup.at,
    })
}

impl LookupAudit for DynamoTicketStore {
    async fn record(&self, lookup: &Lookup) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(lookup_item(lookup)?))
            .send()
            .await
            .map_err(backend)?;
        Ok(())
    }
}

/// The due-time index (gsi3), read by the clocks' sweep.
impl DueIndex for DynamoTicketStore {
    async fn due(
        &self,
        bucket: DueBucket,
        until: Timestamp,
        limit: u16,
        after: Option<&DueAfter>,
    ) -> Result<Page<Ticket, DueAfter>, StoreError> {
        // `~` sorts after every reference symbol: the whole millisecond `until` is included.
        let end = format!("{}#~", ms(until));
        let query = IndexQuery {
            client: &self.client,
            table: &self.table,
            index: DUE_INDEX,
            partition: due_partition(bucket),
            keys: SortKeys::UpTo(&end),
            forward: true,
        };
        let after = after.map(|a| After {
            pk: ticket_pk(&a.reference),
            sk: TICKET_SK,
            index_sk: a.key.clone(),
        });
        let items = query.items(i32::from(limit) + 1, after).await?;
        let page = page_of_over_fetched(
            &items,
            limit,
            |item| Ok((ticket_from(item)?, get_s(item, DUE_INDEX.sk)?.to_owned())),
            |(ticket, key)| DueAfter {
                reference: ticket.reference.clone(),
                key: key.clone(),
            },
        )?;
        Ok(Page {
            items: page.items.into_iter().map(|(ticket, _)| ticket).collect(),
            next: page.next,
        })
    }

    async fn applied_basis(&self) -> Result<Option<String>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(PROMISES_PK))
            .key("sk", s(PROMISES_SK))
            .consistent_read(true)
            .send()
            .await
            .map_err(backend)?;
        Ok(output
            .item()
            .and_then(|item| get_s(item, "basis").ok())
            .map(str::to_owned))
    }

    async fn mark_applied_basis(&self, basis: &str) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(PROMISES_PK))
            .item("sk", s(PROMISES_SK))
            .item("type", s("promises_basis"))
            .item("basis", s(basis))
            .send()
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn put_off(&self, ticket: &Ticket, until: Timestamp) -> Result<Updated, StoreError> {
        let (pk, sk) = due_keys(until, &ticket.reference);
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(ticket_pk(&ticket.reference)))
            .key("sk", s(TICKET_SK))
            .update_expression("SET gsi3pk = :pk, gsi3sk = :sk")
            .condition_expression("version = :version")
            .expression_attribute_values(":pk", s(pk))
            .expression_attribute_values(":sk", s(sk))
            .expression_attribute_values(":version", AttributeValue::N(ticket.version.to_string()))
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
            merged_into: None,
            merged_from: vec![TicketReference::from_random([8; 9])],
            created_at: at("2026-11-26T15:00:00.123Z"),
            updated_at: at("2026-11-26T15:30:00Z"),
            response_due_at: at("2026-11-27T15:00:00Z"),
            clocks: None,
            version: 3,
        }
    }

    #[test]
    fn the_ticket_item_is_pinned_attribute_for_attribute() {
        use crate::dynamo::item::expect::{item, num, text};
        let ticket = full_ticket();
        assert_eq!(
            ticket_item(&ticket).expect("item"),
            item([
                ("pk", text("TICKET#9999999992")),
                ("sk", text("TICKET")),
                ("gsi1pk", text("PLAYER#p-1")),
                ("gsi1sk", text("TICKET#001795705200123#9999999992")),
                // The shard: the reference's first byte (`9`, 57) modulo four.
                ("gsi2pk", text("QUEUE#games#1")),
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
                    "merged_from",
                    AttributeValue::L(vec![text(TicketReference::from_random([8; 9]).as_str())]),
                ),
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
                // The digest of the ticket's own fields (core's rule), not of the item.
                ("fingerprint", text(&ticket.fingerprint())),
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
            merged_from: Vec::new(),
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
            ("fingerprint", text(&bare.fingerprint())),
        ]);
        assert_eq!(ticket_item(&bare).expect("item"), expected);
        assert_eq!(ticket_from(&expected).expect("readable"), bare);
        let mut without = expected;
        without.remove("incident");
        let no_incident = Ticket {
            incident: None,
            ..bare
        };
        without.insert("fingerprint".into(), text(&no_incident.fingerprint()));
        assert_eq!(ticket_item(&no_incident).expect("item"), without);
        assert_eq!(ticket_from(&without).expect("readable"), no_incident);
        // A merged duplicate points at its survivor, stored as a reference is.
        let merged = Ticket {
            merged_into: Some(TicketReference::from_random([8; 9])),
            ..no_incident
        };
        let mut pointing = without;
        pointing.insert(
            "merged_into".into(),
            text(TicketReference::from_random([8; 9]).as_str()),
        );
        pointing.insert("fingerprint".into(), text(&merged.fingerprint()));
        assert_eq!(ticket_item(&merged).expect("item"), pointing);
        assert_eq!(ticket_from(&pointing).expect("readable"), merged);
        let ticket = full_ticket();
        assert_eq!(
            ticket_from(&ticket_item(&ticket).expect("item")).expect("readable"),
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
            extended_minutes: None,
            rebased: None,
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
        assert_eq!(
            history_item(&reference, &change, 49).expect("item"),
            expected
        );
        assert_eq!(status_change_from(&expected).expect("readable"), change);
        for (author, name) in [(Author::Player, "player"), (Author::System, "system")] {
            let change = StatusChange {
                actor: author,
                ..change.clone()
            };
            let mut expected = expected.clone();
            expected.remove("actor_id");
            expected.insert("actor".into(), text(name));
            assert_eq!(
                history_item(&reference, &change, 49).expect("item"),
                expected
            );
            assert_eq!(status_change_from(&expected).expect("readable"), change);
        }

        let message = Message {
            at: at("2026-11-26T16:00:00Z"),
            author: staff,
            body: "Bonjour".into(),
            origin: None,
            internal: false,
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
        assert_eq!(
            message_item(&reference, &message, 7).expect("item"),
            expected
        );
        assert_eq!(message_from(&expected).expect("readable"), message);
        let message = Message {
            author: Author::Player,
            ..message
        };
        let mut expected = expected;
        expected.remove("actor_id");
        expected.insert("actor".into(), text("player"));
        assert_eq!(
            message_item(&reference, &message, 7).expect("item"),
            expected
        );
        assert_eq!(message_from(&expected).expect("readable"), message);
    }

    #[test]
    fn the_other_ticket_items_are_pinned() {
        use crate::dynamo::item::expect::{item, num, text};
        use guichet_core::escalation::rules::EscalationState;
        use guichet_core::notifications::rules::{Notification, NotificationKind};
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
        assert_eq!(
            idempotency_item(&claim, &reference).expect("item"),
            expected
        );
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
            notification_item(ticket_pk(&reference), &notification).expect("item"),
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
            // The shard: the id's first hex digit (`01…`).
            ("gsi2pk", text("OUTBOX#0")),
            ("gsi2sk", text(&format!("001795705200007#{id}"))),
            ("type", text("outbox")),
            ("id", text(&id)),
            ("destination", text("incident-updates")),
            ("group", text("9999999992")),
            ("body", text("{}")),
            ("created_at", text("2026-11-26T15:00:00.007Z")),
        ]);
        assert_eq!(outbox_item(&message).expect("item"), expected);
        // Sixteen shards and the partition of old, each once.
        let partitions: std::collections::BTreeSet<String> = outbox_shards().partitions().collect();
        assert_eq!(partitions.len(), 17);
        assert!(partitions.contains("OUTBOX#f") && partitions.contains("OUTBOX"));
        assert_eq!(
            outbox_partition(&MessageId::from_bytes([0xab; 16])),
            "OUTBOX#a"
        );
        assert_eq!(outbox_from(&expected).expect("readable"), message);

        let contact = ContactAddress::parse("joueur@example.com").expect("valid");
        assert_eq!(
            contact_item(&player, &contact, at("2026-11-26T15:00:00Z")).expect("item"),
            item([
                ("pk", text("PLAYER#p-1")),
                ("sk", text("CONTACT")),
                ("type", text("contact")),
                ("email", text("joueur@example.com")),
                ("updated_at", text("2026-11-26T15:00:00Z")),
                (
                    "gsi5pk",
                    text(
                        "ADDRESS#8fc7df54684a8e718f3a0f869baedcf706c5bf301f44c211de7dd8d3d8b7ad00"
                    )
                ),
                ("gsi5sk", text("PLAYER#p-1")),
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
            Err(StoreError::Backend(_) | StoreError::Unavailable(_)) => "backend",
            Ok(_) => "accepted",
        };
        let good = ticket_item(&full_ticket()).expect("item");
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
            extended_minutes: None,
            rebased: None,
        };
        let mut line =
            history_item(&TicketReference::from_random([1; 9]), &change, 0).expect("item");
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
            ticket_from(&ticket_item(&ticket).expect("item")).expect("readable"),
            ticket
        );
        let item = history_item(&ticket.reference, &change, 0).expect("item");
        assert_eq!(status_change_from(&item).expect("readable"), change);
        let mut paid = ticket;
        if let Some(details) = paid.incident.as_mut() {
            details.payment_system = Some("Interac e-Transfer".into());
        }
        let item = ticket_item(&paid).expect("item");
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
        let item = ticket_item(&ticket).expect("item");
        assert_eq!(item.get("gsi2pk"), Some(&s("QUEUE#games#1")));
        // Four shards and the partition of before, each read once.
        let partitions: std::collections::BTreeSet<String> =
            queue_shards(Team::Games).partitions().collect();
        assert_eq!(partitions.len(), 5);
        assert!(partitions.contains("QUEUE#games#3") && partitions.contains("QUEUE#games"));
        let Some(AttributeValue::S(sk)) = item.get("gsi2sk") else {
            panic!("queue sort key missing")
        };
        assert!(sk.starts_with("2#001795705200000#"), "{sk}");
        let closed = Ticket {
            status: TicketStatus::Closed,
            ..ticket
        };
        assert!(!ticket_item(&closed).expect("item").contains_key("gsi2pk"));
    }

    #[test]
    fn a_look_up_is_kept_in_the_players_partition() {
        let lookup = Lookup {
            staff: PlayerId::parse("agent-1").expect("valid"),
            player: PlayerId::parse("p-42").expect("valid"),
            at: "2026-12-03T15:00:00Z".parse().expect("valid"),
        };
        let written = lookup_item(&lookup).expect("item");
        assert_eq!(written.get("pk"), Some(&s("PLAYER#p-42")));
        assert_eq!(
            written.get("sk"),
            Some(&s("LOOKUP#001796310000000#agent-1"))
        );
        assert_eq!(written.get("staff"), Some(&s("agent-1")));
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
            origin: Some("mail:0100019abc".into()),
            internal: false,
        };
        let item = message_item(&ticket.reference, &message, 7).expect("item");
        assert_eq!(item.get("origin"), Some(&s("mail:0100019abc")));
        assert!(!item.contains_key("internal"));
        let note = Message {
            internal: true,
            origin: None,
            ..message.clone()
        };
        let noted = message_item(&ticket.reference, &note, 8).expect("item");
        assert_eq!(noted.get("internal"), Some(&AttributeValue::Bool(true)));
        assert_eq!(message_from(&noted).expect("readable"), note);
        assert_eq!(
            item.get("sk"),
            Some(&s("MESSAGE#001795708800000#0000000007"))
        );
        assert_eq!(message_from(&item).expect("readable"), message);
        let taken = Ticket {
            assignee: Some("agent-1".into()),
            ..ticket
        };
        assert_eq!(
            ticket_from(&ticket_item(&taken).expect("item")).expect("readable"),
            taken
        );
    }

    #[test]
    fn a_damaged_item_names_the_attribute() {
        let (ticket, _) = ticket();
        let mut item = ticket_item(&ticket).expect("item");
        item.insert("priority".into(), s("whenever"));
        assert!(matches!(
            ticket_from(&item),
            Err(StoreError::Corrupt {
                attribute: "priority"
            })
        ));
    }
}

//! The SDK interceptor that counts every AWS call a client makes, by service and operation, and
//! prices each DynamoDB call in on-demand request units from the items it writes and reads.
//!
//! Why sizes and not `ReturnConsumedCapacity`: the emulator (moto 5.2.5) answers a constant
//! (`1.0`, or `0.5` for a `GetItem`) whatever the item, so its figure says nothing. The units
//! here follow DynamoDB's published rules instead: a write is 1 WRU per started KB of the item
//! (2 in a transaction), an eventually consistent read 0.5 RRU per started 4 KB of what the call
//! returns (a strongly consistent one 1), and every global secondary index the item enters,
//! leaves or moves in costs 1 WRU per started KB of its projection (both indexes project ALL).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use aws_sdk_dynamodb::config::interceptors::{
    AfterDeserializationInterceptorContextRef, BeforeSerializationInterceptorContextRef,
};
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::operation::delete_item::DeleteItemInput;
use aws_sdk_dynamodb::operation::get_item::{GetItemInput, GetItemOutput};
use aws_sdk_dynamodb::operation::put_item::PutItemInput;
use aws_sdk_dynamodb::operation::query::{QueryInput, QueryOutput};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsInput;
use aws_sdk_dynamodb::operation::update_item::UpdateItemInput;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_types::config_bag::{Storable, StoreReplace};

type Item = HashMap<String, AttributeValue>;

/// The two global secondary indexes of `TicketsTable`, by their partition key attribute.
const INDEXES: [&str; 2] = ["gsi1pk", "gsi2pk"];

/// One AWS call as the interceptor saw it.
#[derive(Debug, Clone)]
pub struct Call {
    /// Which part of the system made it: `request`, `relay` or `consumer`.
    pub path: &'static str,
    /// `DynamoDB:TransactWriteItems`, `SQS:SendMessage`, …
    pub name: String,
    pub write_units: f64,
    pub read_units: f64,
    /// The items a DynamoDB call wrote and their sizes in bytes, e.g. `ticket 1.3 KB`.
    pub items: Vec<(String, usize)>,
    /// Whether a request went out: a presigned URL runs the whole pipeline but the transmit.
    pub sent: bool,
}

/// What the interceptor knows of an item it saw written: its size and its index keys, so that
/// a later update, condition check or delete of it is priced on the real item.
#[derive(Debug, Clone, Default)]
struct Known {
    size: usize,
    index_keys: [Option<String>; 2],
}

#[derive(Debug, Default)]
struct Ledger {
    calls: Vec<Call>,
    known: HashMap<(String, String), Known>,
}

/// A clone per client, all writing to one ledger; `path` tells the clients apart.
#[derive(Debug, Clone)]
pub struct Counter {
    path: &'static str,
    ledger: Arc<Mutex<Ledger>>,
}

/// The position of the call being made in the ledger, kept in the call's own config bag from
/// its start to its answer (a handler may have several calls in flight).
#[derive(Debug, Clone, Copy)]
struct Slot {
    index: usize,
    consistent: bool,
}

impl Storable for Slot {
    type Storer = StoreReplace<Self>;
}

impl Counter {
    pub fn new() -> Counter {
        Counter {
            path: "request",
            ledger: Arc::default(),
        }
    }

    /// The same ledger, recording calls under `path`.
    pub fn on(&self, path: &'static str) -> Counter {
        Counter {
            path,
            ledger: Arc::clone(&self.ledger),
        }
    }

    fn ledger(&self) -> std::sync::MutexGuard<'_, Ledger> {
        // A panic while counting leaves the ledger as it was: still worth reading.
        self.ledger.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The calls since the last take, and forgets them (not the item sizes).
    pub fn take(&self) -> Vec<Call> {
        std::mem::take(&mut self.ledger().calls)
    }

    /// Builds the SDK clients with this counter registered.
    pub fn dynamodb(&self, sdk: &aws_config::SdkConfig) -> aws_sdk_dynamodb::Client {
        let config = aws_sdk_dynamodb::config::Builder::from(sdk)
            .interceptor(self.clone())
            .build();
        aws_sdk_dynamodb::Client::from_conf(config)
    }

    pub fn s3(&self, sdk: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
        let config = aws_sdk_s3::config::Builder::from(sdk)
            .interceptor(self.clone())
            .build();
        aws_sdk_s3::Client::from_conf(config)
    }

    pub fn sqs(&self, sdk: &aws_config::SdkConfig) -> aws_sdk_sqs::Client {
        let config = aws_sdk_sqs::config::Builder::from(sdk)
            .interceptor(self.clone())
            .build();
        aws_sdk_sqs::Client::from_conf(config)
    }

    pub fn sesv2(&self, sdk: &aws_config::SdkConfig) -> aws_sdk_sesv2::Client {
        let config = aws_sdk_sesv2::config::Builder::from(sdk)
            .interceptor(self.clone())
            .build();
        aws_sdk_sesv2::Client::from_conf(config)
    }
}

impl Intercept for Counter {
    fn name(&self) -> &'static str {
        "guichet-bench-call-counter"
    }

    // Not `read_before_execution`: a client's interceptors run that before the operation's
    // configuration, which holds its name, is in the bag.
    fn read_before_serialization(
        &self,
        context: &BeforeSerializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let (service, operation) = cfg
            .load::<Metadata>()
            .map(|m| (m.service().to_owned(), m.name().to_owned()))
            .unwrap_or_else(|| ("?".to_owned(), "?".to_owned()));
        let input = context.input();
        let mut ledger = self.ledger();
        let mut writes = Vec::new();
        let mut consistent = false;
        if let Some(put) = input.downcast_ref::<PutItemInput>() {
            if let Some(item) = &put.item {
                writes.push(Write::Put(item.clone(), 1.0));
            }
        } else if let Some(update) = input.downcast_ref::<UpdateItemInput>() {
            writes.extend(update.key.clone().map(|k| Write::Touch(k, 1.0)));
        } else if let Some(delete) = input.downcast_ref::<DeleteItemInput>() {
            writes.extend(delete.key.clone().map(|k| Write::Delete(k, 1.0)));
        } else if let Some(transaction) = input.downcast_ref::<TransactWriteItemsInput>() {
            for entry in transaction.transact_items.iter().flatten() {
                if let Some(put) = &entry.put {
                    writes.push(Write::Put(put.item.clone(), 2.0));
                } else if let Some(update) = &entry.update {
                    writes.push(Write::Touch(update.key.clone(), 2.0));
                } else if let Some(delete) = &entry.delete {
                    writes.push(Write::Delete(delete.key.clone(), 2.0));
                } else if let Some(check) = &entry.condition_check {
                    // DynamoDB bills a transaction's condition check as a transactional write
                    // of the item checked (it writes nothing).
                    writes.push(Write::Check(check.key.clone()));
                }
            }
        } else if let Some(query) = input.downcast_ref::<QueryInput>() {
            consistent = query.consistent_read == Some(true);
        } else if let Some(get) = input.downcast_ref::<GetItemInput>() {
            consistent = get.consistent_read == Some(true);
        }
        let mut call = Call {
            path: self.path,
            name: format!("{service}:{operation}"),
            write_units: 0.0,
            read_units: 0.0,
            items: Vec::new(),
            sent: false,
        };
        for write in writes {
            write.price(&mut ledger.known, &mut call);
        }
        let index = ledger.calls.len();
        ledger.calls.push(call);
        cfg.interceptor_state()
            .store_put(Slot { index, consistent });
        Ok(())
    }

    fn read_before_deserialization(
        &self,
        _context: &aws_sdk_dynamodb::config::interceptors::BeforeDeserializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(slot) = cfg.load::<Slot>().copied() {
            if let Some(call) = self.ledger().calls.get_mut(slot.index) {
                call.sent = true;
            }
        }
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(slot) = cfg.load::<Slot>().copied() else {
            return Ok(());
        };
        let Ok(output) = context.output_or_error() else {
            return Ok(());
        };
        // What a read returns is what it is billed for: the items, rounded up to 4 KB.
        let returned: Option<usize> = if let Some(query) = output.downcast_ref::<QueryOutput>() {
            Some(query.items.iter().flatten().map(item_size).sum())
        } else {
            output
                .downcast_ref::<GetItemOutput>()
                .map(|get| get.item.as_ref().map_or(0, item_size))
        };
        if let Some(bytes) = returned {
            let per_4kb = if slot.consistent { 1.0 } else { 0.5 };
            // A read that finds nothing is still billed its minimum.
            let units = bytes.div_ceil(4096).max(1) as f64 * per_4kb;
            if let Some(call) = self.ledger().calls.get_mut(slot.index) {
                call.read_units += units;
            }
        }
        Ok(())
    }
}

/// One item a write names, and the rate its table write is billed at (1, or 2 in a
/// transaction).
enum Write {
    Put(Item, f64),
    Touch(Item, f64),
    Delete(Item, f64),
    Check(Item),
}

impl Write {
    fn price(self, known: &mut HashMap<(String, String), Known>, call: &mut Call) {
        match self {
            Write::Put(item, rate) => {
                let key = key_of(&item);
                let size = item_size(&item);
                let index_keys = INDEXES.map(|name| string(&item, name));
                let before = known.get(&key).cloned().unwrap_or_default();
                call.write_units += rate * kb(size.max(before.size));
                call.write_units += index_writes(&before, &index_keys, size);
                call.items.push((kind_of(&key), size));
                known.insert(key, Known { size, index_keys });
            }
            Write::Touch(item, rate) => {
                // An update's new size is not in the request: the item as last seen written
                // (at least 1 KB is billed either way).
                let before = known.get(&key_of(&item)).cloned().unwrap_or_default();
                call.write_units += rate * kb(before.size);
                call.items.push((kind_of(&key_of(&item)), before.size));
            }
            Write::Delete(item, rate) => {
                let key = key_of(&item);
                let before = known.remove(&key).unwrap_or_default();
                call.write_units += rate * kb(before.size);
                call.write_units += index_writes(&before, &[None, None], before.size);
                call.items.push((kind_of(&key), before.size));
            }
            Write::Check(item) => {
                let key = key_of(&item);
                let before = known.get(&key).cloned().unwrap_or_default();
                call.write_units += 2.0 * kb(before.size);
                call.items
                    .push((format!("{} (condition check)", kind_of(&key)), before.size));
            }
        }
    }
}

/// Index writes of an item going from `before` to `after` keys: entering or leaving an index is
/// one write, moving within it (a new sort key) a delete and a put. A put that leaves the keys
/// unchanged still rewrites the projection (ALL).
fn index_writes(before: &Known, after: &[Option<String>; 2], size: usize) -> f64 {
    let mut units = 0.0;
    for (old, new) in before.index_keys.iter().zip(after) {
        units += match (old, new) {
            (None, None) => 0.0,
            (Some(_), None) => kb(before.size),
            (None, Some(_)) => kb(size),
            (Some(a), Some(b)) if a == b => kb(size),
            (Some(_), Some(_)) => kb(before.size) + kb(size),
        };
    }
    units
}

/// Started kilobytes, at least one.
fn kb(bytes: usize) -> f64 {
    bytes.div_ceil(1024).max(1) as f64
}

fn string(item: &Item, name: &str) -> Option<String> {
    // An index entry moves when its sort key does: both attributes make the entry's identity.
    let sort = name.replace("pk", "sk");
    match (item.get(name), item.get(&sort)) {
        (Some(AttributeValue::S(pk)), Some(AttributeValue::S(sk))) => Some(format!("{pk}|{sk}")),
        (Some(AttributeValue::S(pk)), _) => Some(pk.clone()),
        _ => None,
    }
}

fn key_of(item: &Item) -> (String, String) {
    let part = |name: &str| match item.get(name) {
        Some(AttributeValue::S(s)) => s.clone(),
        _ => String::new(),
    };
    (part("pk"), part("sk"))
}

/// `TICKET#K7M2Q9XW45` / `HISTORY#…` → `TICKET/HISTORY`: the item's kind, for the table.
fn kind_of((pk, sk): &(String, String)) -> String {
    let head = |s: &str| s.split('#').next().unwrap_or_default().to_owned();
    format!("{}/{}", head(pk), head(sk))
}

/// An item's size as DynamoDB counts it: each attribute's name plus its value (strings and
/// binaries their bytes, numbers about one byte per two digits plus one, 3 bytes of overhead and
/// one per element for lists and maps).
pub fn item_size(item: &Item) -> usize {
    item.iter()
        .map(|(name, value)| name.len() + value_size(value))
        .sum()
}

fn value_size(value: &AttributeValue) -> usize {
    match value {
        AttributeValue::S(s) => s.len(),
        AttributeValue::N(n) => number_size(n),
        AttributeValue::B(b) => b.as_ref().len(),
        AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
        AttributeValue::Ss(v) => v.iter().map(String::len).sum(),
        AttributeValue::Ns(v) => v.iter().map(|n| number_size(n)).sum(),
        AttributeValue::Bs(v) => v.iter().map(|b| b.as_ref().len()).sum(),
        AttributeValue::L(v) => 3 + v.iter().map(|e| 1 + value_size(e)).sum::<usize>(),
        AttributeValue::M(m) => {
            3 + m
                .iter()
                .map(|(k, e)| 1 + k.len() + value_size(e))
                .sum::<usize>()
        }
        _ => 0,
    }
}

fn number_size(n: &str) -> usize {
    let digits = n.chars().filter(char::is_ascii_digit).count();
    digits.div_ceil(2) + 1
}

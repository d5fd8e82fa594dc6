//! Strategies shared by the property tests of the core, the edge and the functions: random and
//! near-valid inputs (a valid value with a few characters edited), which get past a parser's
//! first checks where purely random strings rarely do. A test-only module included by path, so
//! proptest stays a dev-dependency of each crate that uses it.

// Each including test binary uses only some of these.
#![allow(dead_code)]

use guichet_core::common::reference::TicketReference;
use guichet_core::documents::rules::UploadId;
use guichet_core::escalation::rules::{EscalationRequest, REQUEST_SCHEMA};
use guichet_core::incidents::rules::{FanOut, IncidentId, FAN_OUT_SCHEMA};
use guichet_core::outbox::rules::MessageId;
use jiff::Timestamp;
use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::Value;

/// Enough cases to reach the branches, few enough that each file runs in about a second.
pub const CASES: u32 = 256;

/// Any text: every Unicode scalar value is possible, with proptest's bias towards the awkward
/// ones (controls, surrogate neighbours, combining marks).
pub fn any_text() -> impl Strategy<Value = String> {
    prop::collection::vec(any::<char>(), 0..40).prop_map(String::from_iter)
}

/// A character to edit a valid input with: mostly printable ASCII (what gets furthest into a
/// parser), sometimes anything.
pub fn edit_char() -> impl Strategy<Value = char> {
    prop_oneof![
        3 => (0x20u8..0x7f).prop_map(char::from),
        1 => any::<char>(),
    ]
}

/// `valid` with up to three characters inserted, deleted or replaced.
pub fn near(valid: String) -> impl Strategy<Value = String> {
    prop::collection::vec((0u8..3, any::<Index>(), edit_char()), 0..4).prop_map(move |edits| {
        let mut chars: Vec<char> = valid.chars().collect();
        for (op, at, c) in edits {
            match op {
                0 => chars.insert(at.index(chars.len() + 1), c),
                1 if !chars.is_empty() => {
                    chars.remove(at.index(chars.len()));
                }
                _ if !chars.is_empty() => {
                    let i = at.index(chars.len());
                    chars[i] = c;
                }
                _ => {}
            }
        }
        chars.into_iter().collect()
    })
}

pub fn reference() -> impl Strategy<Value = TicketReference> {
    any::<[u8; 9]>().prop_map(TicketReference::from_random)
}

pub fn upload_id() -> impl Strategy<Value = UploadId> {
    any::<[u8; 16]>().prop_map(UploadId::from_random)
}

pub fn incident_id() -> impl Strategy<Value = IncidentId> {
    any::<[u8; 12]>().prop_map(IncidentId::from_random)
}

pub fn message_id() -> impl Strategy<Value = MessageId> {
    any::<[u8; 16]>().prop_map(MessageId::from_bytes)
}

/// Any instant a cursor can name, to the millisecond (the precision the listings' keys sort by).
pub fn millis_instant() -> impl Strategy<Value = Timestamp> {
    (Timestamp::MIN.as_millisecond()..=Timestamp::MAX.as_millisecond())
        .prop_map(|ms| Timestamp::from_millisecond(ms).expect("within jiff's range"))
}

/// Any JSON value, nested a few levels.
pub fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        any_text().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(any_text(), inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A value near `valid`: a string with a few characters edited; a number at or around the
/// bounds rules draw (0, 1, -1), moved by one, huge, or fractional; any JSON value otherwise.
pub fn near_value(valid: Value) -> BoxedStrategy<Value> {
    match valid {
        Value::String(text) => near(text).prop_map(Value::String).boxed(),
        Value::Number(n) => {
            let n = n.as_i64().unwrap_or(0);
            prop_oneof![
                3 => prop::sample::select(&[0, 1, -1][..]).prop_map(Value::from),
                1 => prop::sample::select(&[-1, 1][..]).prop_map(move |d| Value::from(n.saturating_add(d))),
                2 => prop_oneof![any::<u64>().prop_map(Value::from), Just(Value::from(i64::MIN))],
                1 => Just(Value::from(n as f64 + 0.5)),
            ]
            .boxed()
        }
        _ => json_value().boxed(),
    }
}

/// `valid` (an object) with up to three of its fields set to a value near theirs or any JSON
/// value, or removed, or joined by a field of any name: bodies and messages that get past the
/// first checks.
pub fn near_object(valid: Value) -> impl Strategy<Value = Value> {
    let fields = valid.as_object().expect("an object").clone();
    let names: Vec<String> = fields.keys().cloned().collect();
    let known = prop::sample::select(names).prop_flat_map(move |name| {
        let value = prop_oneof![1 => json_value(), 3 => near_value(fields[&name].clone())];
        (Just(name), prop::option::weighted(0.8, value))
    });
    let any_field = (any_text(), prop::option::of(json_value()));
    let edit = prop_oneof![4 => known, 1 => any_field];
    // Mostly one edit: the rest of the value stays valid, so the edited field's rule decides.
    let edits = prop_oneof![1 => 0..1usize, 4 => 1..2usize, 1 => 2..4usize];
    edits
        .prop_flat_map(move |count| prop::collection::vec(edit.clone(), count))
        .prop_map(move |edits| {
            let mut object = valid.clone();
            for (name, value) in edits {
                let map = object.as_object_mut().expect("an object");
                match value {
                    Some(v) => map.insert(name, v),
                    None => map.remove(&name),
                };
            }
            object
        })
}

pub fn escalation_request() -> impl Strategy<Value = EscalationRequest> {
    (message_id(), reference()).prop_map(|(escalation_id, reference)| EscalationRequest {
        schema: REQUEST_SCHEMA.to_owned(),
        escalation_id,
        reference,
    })
}

pub fn fan_out() -> impl Strategy<Value = FanOut> {
    (incident_id(), any::<u64>(), prop::option::of(reference())).prop_map(
        |(incident_id, seq, after)| FanOut {
            schema: FAN_OUT_SCHEMA.to_owned(),
            incident_id,
            seq,
            after,
        },
    )
}

/// A request body: any JSON value, or more often `valid` edited field by field.
pub fn body_near(valid: Value) -> impl Strategy<Value = Value> {
    prop_oneof![1 => json_value(), 3 => near_object(valid)]
}

/// A queue message's body near `valid`: any text, `valid` edited as text, or edited field by
/// field.
pub fn message_body(valid: Value) -> impl Strategy<Value = String> {
    prop_oneof![
        any_text(),
        near(valid.to_string()),
        near_object(valid).prop_map(|body| body.to_string()),
    ]
}

/// One to three messages' bodies near the `valid` ones, some messages without a body.
pub fn message_bodies(
    valid: impl Strategy<Value = Value>,
) -> impl Strategy<Value = Vec<Option<String>>> {
    prop::collection::vec(prop::option::of(valid.prop_flat_map(message_body)), 1..4)
}

/// The ids [`sqs_records`] gives `count` messages.
pub fn message_ids(count: usize) -> Vec<String> {
    (0..count).map(|i| format!("m-{i}")).collect()
}

/// An SQS event as Lambda hands it to a consumer, one message per body, with ids `m-0`,
/// `m-1`...; `None` is a message without a body.
pub fn sqs_records(bodies: &[Option<String>]) -> Value {
    let records: Vec<Value> = message_ids(bodies.len())
        .into_iter()
        .zip(bodies)
        .map(|(id, body)| serde_json::json!({"messageId": id, "body": body}))
        .collect();
    serde_json::json!({ "Records": records })
}

/// Runs a handler's future to its end, on a runtime of its own (one per case).
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime")
        .block_on(future)
}

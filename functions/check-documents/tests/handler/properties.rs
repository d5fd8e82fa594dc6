//! Property tests of what this function reads from S3's announcements: the URL-encoded key, and
//! the message body. Whatever arrives, the handler answers, and a message it cannot read is
//! retried (named in the response), never acknowledged: its document would otherwise never be
//! checked.

use aws_lambda_events::event::sqs::SqsMessage;
use guichet_edge::testing::{failed_ids, sqs_batch, sqs_event};
use proptest::prelude::*;
use serde_json::Value;

use check_documents::{decode_key, handle, Notification, S3_TEST_EVENT};

#[path = "../../../../shared/core/tests/strategies/mod.rs"]
mod strategies;
use strategies::*;

const NOW: &str = "2026-11-26T16:00:00Z";

/// `key` as S3 may write it in an event: each byte as itself when it is safe, otherwise (or
/// when `choices` says so) as `%XX` in either case of hex digits, a space also as `+`.
fn s3_encoded(key: &str, choices: &[(bool, bool)]) -> String {
    key.bytes()
        .zip(choices.iter().cycle())
        .map(|(byte, &(escape, upper))| {
            let safe = byte.is_ascii_alphanumeric() || b"-_./~".contains(&byte);
            if byte == b' ' && !escape {
                "+".to_owned()
            } else if safe && !escape {
                char::from(byte).to_string()
            } else if upper {
                format!("%{byte:02X}")
            } else {
                format!("%{byte:02x}")
            }
        })
        .collect()
}

/// The JSON body of the message of a sample event: S3's announcement of an object, or its
/// test event.
fn sample_body(name: &str) -> Value {
    let event = sqs_event(name);
    let body = event.records[0]
        .body
        .as_deref()
        .expect("the sample has a body");
    serde_json::from_str(body).expect("a JSON body")
}

fn announcement() -> Value {
    sample_body("document-uploaded.json")
}

/// Bodies from the unreadable to the nearly valid: any text, the announcement edited as text
/// or as JSON, the announcement of any key (encoded or not) under any event name, S3's test
/// event edited.
fn body() -> impl Strategy<Value = Option<String>> {
    let event_name = prop_oneof![
        Just("ObjectCreated:Put".to_owned()),
        Just("ObjectCreated:CompleteMultipartUpload".to_owned()),
        Just("ObjectRemoved:Delete".to_owned()),
        any_text(),
    ];
    let key = prop_oneof![
        (
            any_text(),
            prop::collection::vec(any::<(bool, bool)>(), 1..4)
        )
            .prop_map(|(key, choices)| s3_encoded(&key, &choices)),
        any_text(),
        near("verification/player-1/VC-0123456789AB/government_id/UP-0123456789ABCDEF".to_owned()),
    ];
    let announced = (event_name, key).prop_map(|(name, key)| {
        let mut body = announcement();
        body["Records"][0]["eventName"] = Value::String(name);
        body["Records"][0]["s3"]["object"]["key"] = Value::String(key);
        body.to_string()
    });
    prop::option::of(prop_oneof![
        any_text(),
        near(announcement().to_string()),
        near_object(announcement()).prop_map(|b| b.to_string()),
        announced,
        near_object(sample_body("document-s3-test-event.json")).prop_map(|b| b.to_string()),
    ])
}

/// Whether the message cannot be read: no body, not an S3 event nor S3's test event, or a
/// creation whose key is not valid URL encoding.
fn unreadable(body: Option<&str>) -> bool {
    let Some(notification) = body.and_then(|b| serde_json::from_str::<Notification>(b).ok()) else {
        return true;
    };
    match notification.records {
        None => notification.event.as_deref() != Some(S3_TEST_EVENT),
        Some(records) => records.iter().any(|record| {
            record
                .event_name
                .as_deref()
                .is_some_and(|name| name.starts_with("ObjectCreated:"))
                && decode_key(&record.s3.object.key).is_none()
        }),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn a_key_decodes_back_to_what_s3_encoded(
        key in any_text(),
        choices in prop::collection::vec(any::<(bool, bool)>(), 1..4),
    ) {
        prop_assert_eq!(decode_key(&s3_encoded(&key, &choices)), Some(key));
    }

    #[test]
    fn any_encoded_key_decodes_or_is_refused(
        raw in prop_oneof![
            any_text(),
            (any_text(), prop::collection::vec(any::<(bool, bool)>(), 1..4))
                .prop_flat_map(|(key, choices)| near(s3_encoded(&key, &choices))),
        ],
    ) {
        let decoded = decode_key(&raw);
        // Without escapes, the key is itself.
        if !raw.contains(['%', '+']) {
            prop_assert_eq!(decoded, Some(raw));
        }
    }

    #[test]
    fn only_a_message_that_cannot_be_read_is_retried(
        bodies in prop::collection::vec(body(), 1..4),
    ) {
        let template = sqs_event("document-uploaded.json").records.remove(0);
        let messages: Vec<SqsMessage> = bodies
            .iter()
            .enumerate()
            .map(|(i, body)| {
                let mut message = template.clone();
                message.message_id = Some(format!("m-{i}"));
                message.body = body.clone();
                message
            })
            .collect();
        // The in-memory stores never fail: whatever is readable is handled.
        let (verification, attachments) = (
            guichet_core::verification::memory::verification(NOW),
            guichet_core::attachments::memory::attachments(NOW),
        );
        let response = block_on(handle(
            &verification,
            &attachments,
            sqs_batch("document-uploaded.json", messages),
        ));
        let expected: Vec<String> = bodies
            .iter()
            .enumerate()
            .filter(|(_, body)| unreadable(body.as_deref()))
            .map(|(i, _)| format!("m-{i}"))
            .collect();
        prop_assert_eq!(failed_ids(&response), expected);
    }
}

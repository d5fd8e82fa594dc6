//! The documents bucket announces new identity documents and ticket attachments on
//! DocumentEventsQueue, as provisioned from `infra/template.yaml`: what the checking functions will
//! consume. Uploads under `quarantine/` stay silent (moving a rejected file there must not start a
//! new check), and object keys arrive URL-encoded, as S3 sends them.

use std::time::{Duration, Instant};

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ServerSideEncryption;
use guichet_tests::{fresh_stack, Stack};

/// The emulator delivers synchronously; this only bounds a broken run.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);

#[tokio::test]
async fn created_documents_reach_the_queue_but_quarantine_does_not() {
    let stack = fresh_stack().await;
    stack.remove_bucket_policy_for_object_access().await;

    // Quarantine first: had it been announced, its record would come before the others.
    let quarantined = "quarantine/player-1/rejected.pdf";
    let document = "verification/player-1/passport scan.png";
    let attachment = "tickets/T-1/screenshot.png";
    for key in [quarantined, document, attachment] {
        put(&stack, key).await;
    }

    let records = receive_records(&stack, 2).await;
    let keys: Vec<&str> = records.iter().map(|r| r.raw_key.as_str()).collect();
    assert_eq!(
        records.len(),
        2,
        "expected two ObjectCreated records, got {keys:?}"
    );

    let decoded: Vec<String> = records.iter().map(|r| form_decode(&r.raw_key)).collect();
    assert_eq!(decoded, [document, attachment]);
    for record in &records {
        assert!(
            record.event_name.starts_with("ObjectCreated:"),
            "{}",
            record.event_name
        );
        assert_eq!(record.bucket, stack.documents_bucket);
    }

    // S3 form-encodes keys in events: the space arrives as `+`, never as itself. (The emulator
    // also encodes `/` as `%2F`, which S3 does not; decoding handles both.)
    let raw = &records[0].raw_key;
    assert!(raw.contains("passport+scan.png"), "{raw}");
    assert!(!raw.contains(' '), "{raw}");

    // Nothing else is on its way (the quarantined upload in particular).
    let late = receive_records(&stack, 0).await;
    assert!(late.is_empty(), "unexpected records: {late:?}");
}

async fn put(stack: &Stack, key: &str) {
    stack
        .s3()
        .put_object()
        .bucket(&stack.documents_bucket)
        .key(key)
        // The bucket policy refuses writes that do not ask for SSE-KMS.
        .server_side_encryption(ServerSideEncryption::AwsKms)
        .content_type("application/octet-stream")
        .body(ByteStream::from_static(b"not a real document"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("PutObject {key}: {}", guichet_tests::error_chain(&e)));
}

#[derive(Debug)]
struct Record {
    event_name: String,
    bucket: String,
    /// As S3 sent it: URL-encoded.
    raw_key: String,
}

/// Receives (and deletes) messages until `wanted` ObjectCreated records arrived, or a short quiet
/// period when `wanted` is 0. S3's `s3:TestEvent` (sent when the notification is configured) is
/// skipped, as the consumers must skip it.
async fn receive_records(stack: &Stack, wanted: usize) -> Vec<Record> {
    let sqs = stack.sqs();
    let deadline = Instant::now()
        + if wanted == 0 {
            Duration::from_secs(2)
        } else {
            DELIVERY_TIMEOUT
        };
    let mut records = Vec::new();
    while Instant::now() < deadline && (wanted == 0 || records.len() < wanted) {
        let received = sqs
            .receive_message()
            .queue_url(&stack.document_events_queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        for message in received.messages() {
            let body: serde_json::Value =
                serde_json::from_str(message.body().unwrap_or_default()).unwrap();
            if body["Event"] != "s3:TestEvent" {
                for record in body["Records"].as_array().unwrap() {
                    records.push(Record {
                        event_name: record["eventName"].as_str().unwrap().to_owned(),
                        bucket: record["s3"]["bucket"]["name"].as_str().unwrap().to_owned(),
                        raw_key: record["s3"]["object"]["key"].as_str().unwrap().to_owned(),
                    });
                }
            }
            if let Some(handle) = message.receipt_handle() {
                sqs.delete_message()
                    .queue_url(&stack.document_events_queue_url)
                    .receipt_handle(handle)
                    .send()
                    .await
                    .unwrap();
            }
        }
    }
    records
}

/// `application/x-www-form-urlencoded` decoding, as a consumer must apply to an event's key.
fn form_decode(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
                out.push(u8::from_str_radix(hex, 16).unwrap());
                i += 3;
            }
            byte => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap()
}

#[test]
fn form_decoding_reverses_s3_key_encoding() {
    assert_eq!(form_decode("a%2Fb+c%2B.png"), "a/b c+.png");
    assert_eq!(form_decode("plain/key"), "plain/key");
}

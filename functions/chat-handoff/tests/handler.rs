//! The handler fed with the sample event in `events/`, signed as the chat tool signs it, over
//! the in-memory store.

use guichet_core::handoffs::signature::HandoffKey;
use guichet_core::tickets::memory::desk;
use guichet_edge::testing::{body_json, event_json, request_of};
use lambda_http::http::StatusCode;

const NOW: &str = "2026-11-26T15:00:00Z";
/// `NOW` in Unix seconds: what the chat tool puts in `X-Guichet-Timestamp`.
const NOW_SECONDS: i64 = 1_795_705_200;

fn key() -> HandoffKey {
    HandoffKey::parse(b"the chat tool's secret, 32 bytes at least").expect("long enough")
}

/// The sample hand-off with `body` (or its own), signed with `key` at `seconds`.
fn signed(key: &HandoffKey, seconds: i64, body: Option<serde_json::Value>) -> lambda_http::Request {
    let mut event = event_json("chat-handoff.json", &[]);
    if let Some(body) = body {
        event["body"] = body.to_string().into();
    }
    let raw = event["body"].as_str().unwrap_or_default().to_owned();
    event["headers"]["content-length"] = raw.len().to_string().into();
    event["headers"]["x-guichet-timestamp"] = seconds.to_string().into();
    event["headers"]["x-guichet-signature"] = key.sign(seconds, raw.as_bytes()).into();
    request_of(&event)
}

#[tokio::test]
async fn a_signed_hand_off_opens_one_chat_ticket_however_often_it_is_sent() {
    let desk = desk(NOW);
    let first = chat_handoff::handle(&desk, &key(), signed(&key(), NOW_SECONDS, None)).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let receipt = body_json(&first);
    assert_eq!(receipt["response_target"]["channel"], "chat");
    assert_eq!(receipt["team"], "payments");
    let again = chat_handoff::handle(&desk, &key(), signed(&key(), NOW_SECONDS + 30, None)).await;
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(body_json(&again)["reference"], receipt["reference"]);
    assert_eq!(desk.store.ticket_count(), 1);
}

#[tokio::test]
async fn a_forged_replayed_or_unsigned_hand_off_is_refused_and_writes_nothing() {
    let desk = desk(NOW);
    let other = HandoffKey::parse(b"someone else's secret, 32 bytes long").expect("ok");
    let unsigned = {
        let mut event = event_json("chat-handoff.json", &[]);
        if let Some(headers) = event["headers"].as_object_mut() {
            headers.remove("x-guichet-signature");
        }
        request_of(&event)
    };
    for (request, field, rule) in [
        (
            signed(&other, NOW_SECONDS, None),
            "x-guichet-signature",
            "signature",
        ),
        (
            signed(&key(), NOW_SECONDS - 600, None),
            "x-guichet-timestamp",
            "signature_window",
        ),
        (unsigned, "x-guichet-signature", "required"),
    ] {
        let response = chat_handoff::handle(&desk, &key(), request).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let body = body_json(&response);
        assert_eq!(body["field"], field, "{body}");
        assert_eq!(body["rule"], rule, "{body}");
    }
    // A body changed after signing: the signature is of another body.
    let mut event = event_json("chat-handoff.json", &[]);
    let raw = event["body"].as_str().unwrap_or_default().to_owned();
    event["headers"]["x-guichet-timestamp"] = NOW_SECONDS.to_string().into();
    event["headers"]["x-guichet-signature"] = key().sign(NOW_SECONDS, raw.as_bytes()).into();
    event["body"] = raw.replace("player-7f3a9c", "player-victim").into();
    let response = chat_handoff::handle(&desk, &key(), request_of(&event)).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(desk.store.ticket_count(), 0);
}

#[tokio::test]
async fn a_signed_but_invalid_hand_off_names_its_field() {
    let desk = desk(NOW);
    let body = serde_json::json!({"provider": "zendesk", "conversation_id": "c-1",
        "player_id": "player-1", "language": "fr", "category": "transaction",
        "closed_at": "2026-11-26T14:58:00Z", "transcript": []});
    let response =
        chat_handoff::handle(&desk, &key(), signed(&key(), NOW_SECONDS, Some(body))).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(body_json(&response)["field"], "transcript");
    assert_eq!(desk.store.ticket_count(), 0);
}

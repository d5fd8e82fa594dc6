//! The handler fed with the sample events in `events/`, over the in-memory ports.

/// The property tests of this function's own parsers, run with its handler's tests (a lib
/// with `test = false` would never run them).
#[path = "handler/properties.rs"]
mod properties;

use guichet_core::common::player::{Author, PlayerId};
use guichet_core::verification::memory::verification;
use guichet_core::verification::ports::CaseStore;
use guichet_edge::testing::{body_json, event, with_caller, with_json};
use lambda_http::http::{HeaderValue, StatusCode};
use serde_json::json;

const NOW: &str = "2026-11-26T15:00:00Z";

fn player() -> PlayerId {
    PlayerId::parse("player-7f3a9c").expect("id")
}

#[tokio::test]
async fn staff_open_a_case_with_extra_documents() {
    let v = verification(NOW);
    let response = open_case::handle(&v, event("open-case.json")).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body = body_json(&response);
    assert_eq!(body["status"], "awaiting_documents");
    assert_eq!(body["reason"], "staff_request");
    assert_eq!(body["player"], "player-7f3a9c");
    let kinds: Vec<&str> = body["documents"]
        .as_array()
        .expect("documents")
        .iter()
        .map(|d| d["kind"].as_str().expect("kind"))
        .collect();
    assert_eq!(
        kinds,
        [
            "government_id",
            "proof_of_address",
            "payment_method_ownership"
        ]
    );
    let id = body["id"].as_str().expect("id");
    assert_eq!(
        response
            .headers()
            .get("location")
            .and_then(|l| l.to_str().ok()),
        Some(format!("/verification/cases/{id}").as_str())
    );
    // The audit trail names the staff member who opened it.
    let case = v
        .open_case_of(&player())
        .await
        .expect("store")
        .expect("open");
    let audit = v.cases.audit_of(&case.id).await.expect("audit");
    assert_eq!(
        audit[0].actor,
        Author::Staff {
            id: "reviewer-1".into()
        }
    );
}

#[tokio::test]
async fn the_casino_systems_open_a_case_as_the_system() {
    let v = verification(NOW);
    let response = open_case::handle(&v, event("open-case-service.json")).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body = body_json(&response);
    assert_eq!(body["reason"], "first_withdrawal");
    assert_eq!(body["language"], "fr");
    let case = v
        .open_case_of(&player())
        .await
        .expect("store")
        .expect("open");
    assert_eq!(
        v.cases.audit_of(&case.id).await.expect("audit")[0].actor,
        Author::System
    );
}

#[tokio::test]
async fn a_second_open_case_for_the_player_is_a_conflict() {
    let v = verification(NOW);
    let first = open_case::handle(&v, event("open-case-service.json")).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let second = open_case::handle(&v, event("open-case.json")).await;
    assert_eq!(second.status(), StatusCode::CONFLICT);
    let body = body_json(&second);
    assert_eq!(body["error"], "conflict");
    assert_eq!(body["reason"], "player_has_open_case");
}

#[tokio::test]
async fn players_and_agents_cannot_open_cases() {
    let v = verification(NOW);
    for groups in [&["player"][..], &["agent", "supervisor"], &[]] {
        let request = with_caller(event("open-case.json"), "player-7f3a9c", groups);
        let response = open_case::handle(&v, request).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{groups:?}");
        assert_eq!(body_json(&response)["required_role"], "verification");
    }
    assert!(v.open_case_of(&player()).await.expect("store").is_none());
}

#[tokio::test]
async fn each_bad_field_is_named_with_its_rule() {
    let v = verification(NOW);
    let cases = [
        (
            json!({"reason": "first_withdrawal"}),
            "player_id",
            "required",
        ),
        (
            json!({"player_id": "a#b", "reason": "first_withdrawal"}),
            "player_id",
            "player_id",
        ),
        (json!({"player_id": "p-1"}), "reason", "required"),
        (
            json!({"player_id": "p-1", "reason": "curiosity"}),
            "reason",
            "one_of",
        ),
        (
            json!({"player_id": "p-1", "reason": "first_withdrawal", "documents": ["government_id"]}),
            "documents",
            "not_allowed_here",
        ),
        (
            json!({"player_id": "p-1", "reason": "staff_request", "documents": ["selfie"]}),
            "documents[0]",
            "one_of",
        ),
        (
            json!({"player_id": "p-1", "reason": "staff_request", "documents": "government_id"}),
            "documents",
            "type",
        ),
        (
            json!({"player_id": "p-1", "reason": "staff_request", "documents": ["government_id", "proof_of_address", "government_id", "payment_method_ownership"]}),
            "documents",
            "max_items",
        ),
        (
            json!({"player_id": "p-1", "reason": "first_withdrawal", "language": "de"}),
            "language",
            "one_of",
        ),
        (
            json!({"player_id": "p-1", "reason": "first_withdrawal", "note": "x"}),
            "note",
            "unknown_field",
        ),
        (json!(["p-1"]), "body", "type"),
    ];
    for (body, field, rule) in cases {
        let response =
            open_case::handle(&v, with_json(event("open-case.json"), body.clone())).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
        let answer = body_json(&response);
        assert_eq!(answer["field"], field, "{body}");
        assert_eq!(answer["rule"], rule, "{body}");
    }
    assert!(v
        .cases
        .cases_of(&PlayerId::parse("p-1").expect("id"))
        .await
        .expect("store")
        .is_empty());
}

#[tokio::test]
async fn a_staff_request_is_only_opened_by_staff() {
    let v = verification(NOW);
    let request = with_caller(event("open-case.json"), "cashier-service", &["service"]);
    let response = open_case::handle(&v, request).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body = body_json(&response);
    assert_eq!(body["field"], "reason");
    assert_eq!(body["rule"], "not_allowed_here");
}

#[tokio::test]
async fn the_body_must_be_json() {
    let v = verification(NOW);
    let mut request = event("open-case.json");
    request
        .headers_mut()
        .insert("content-type", HeaderValue::from_static("text/plain"));
    let response = open_case::handle(&v, request).await;
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

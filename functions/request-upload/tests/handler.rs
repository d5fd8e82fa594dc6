//! The handler fed with the sample events in `events/`, over the in-memory ports.

/// The property tests of this function's own parsers, run with its handler's tests (a lib
/// with `test = false` would never run them).
#[path = "handler/properties.rs"]
mod properties;

use guichet_core::common::player::{Author, Language};
use guichet_core::documents::memory::MemoryDocumentStorage;
use guichet_core::verification::memory::{case_in_review, verification, MemoryCaseStore};
use guichet_core::verification::ports::CaseStore;
use guichet_core::verification::rules::{AuditAction, CaseReason, VerificationCase};
use guichet_core::verification::service::Verification;
use guichet_edge::testing::{body_json, event, with_caller, with_json};
use lambda_http::http::StatusCode;
use serde_json::json;

const NOW: &str = "2026-11-26T15:00:00Z";
const PLAYER: &str = "player-7f3a9c";

type V = Verification<MemoryCaseStore, MemoryDocumentStorage>;

async fn with_open_case(reason: CaseReason) -> (V, VerificationCase) {
    let v = verification(NOW);
    let case = guichet_edge::testing::opened_case(&v, PLAYER, reason, Language::Fr).await;
    (v, case)
}

#[tokio::test]
async fn a_player_gets_a_signed_put_for_their_own_case() {
    let (v, case) = with_open_case(CaseReason::FirstWithdrawal).await;
    let response = request_upload::handle(&v, event("request-upload.json")).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body = body_json(&response);
    assert_eq!(body["method"], "PUT");
    let upload_id = body["upload_id"].as_str().expect("upload id");
    assert!(upload_id.starts_with("UP-"));
    let url = body["url"].as_str().expect("url");
    assert!(url.contains(&format!(
        "verification/{PLAYER}/{}/government_id/{upload_id}",
        case.id.as_str()
    )));
    // What the client must send, exactly: the signed type, length and encryption.
    assert_eq!(
        body["headers"],
        json!({
            "content-type": "image/jpeg",
            "content-length": "1843200",
            "x-amz-server-side-encryption": "aws:kms",
        })
    );
    assert_eq!(body["expires_at"], "2026-11-26T15:10:00Z");
    assert_eq!(body.as_object().expect("object").len(), 5);

    let audit = v.cases.audit_of(&case.id).await.expect("audit");
    let last = audit.last().expect("audit line");
    assert_eq!(last.actor, Author::Player);
    assert!(matches!(
        last.action,
        AuditAction::UploadUrlIssued {
            on_behalf_of_player: false,
            ..
        }
    ));
}

#[tokio::test]
async fn the_verification_team_uploads_on_a_players_behalf() {
    let (v, case) = with_open_case(CaseReason::FirstWithdrawal).await;
    let response = request_upload::handle(&v, event("request-upload-staff.json")).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body = body_json(&response);
    assert_eq!(body["headers"]["content-type"], "application/pdf");
    let audit = v.cases.audit_of(&case.id).await.expect("audit");
    let last = audit.last().expect("audit line");
    assert_eq!(
        last.actor,
        Author::Staff {
            id: "reviewer-1".into()
        }
    );
    assert!(matches!(
        last.action,
        AuditAction::UploadUrlIssued {
            on_behalf_of_player: true,
            ..
        }
    ));
}

#[tokio::test]
async fn without_an_open_case_there_is_nothing_to_upload_for() {
    let v = verification(NOW);
    let response = request_upload::handle(&v, event("request-upload.json")).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert_eq!(body_json(&response)["reason"], "no_open_case");

    // Another player's open case is not theirs to upload to.
    let (v, case) = with_open_case(CaseReason::FirstWithdrawal).await;
    let other = with_caller(event("request-upload.json"), "player-other", &["player"]);
    let response = request_upload::handle(&v, other).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert_eq!(body_json(&response)["reason"], "no_open_case");
    assert_eq!(v.cases.audit_of(&case.id).await.expect("audit").len(), 1);
}

#[tokio::test]
async fn a_case_in_review_takes_no_new_upload() {
    let v = verification(NOW);
    case_in_review(&v, PLAYER, CaseReason::FirstWithdrawal).await;
    let response = request_upload::handle(&v, event("request-upload.json")).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert_eq!(body_json(&response)["reason"], "wrong_state");
}

#[tokio::test]
async fn a_kind_the_case_does_not_need_is_refused_before_any_url() {
    let (v, case) = with_open_case(CaseReason::FirstWithdrawal).await;
    let request = with_json(
        event("request-upload.json"),
        json!({"kind": "payment_method_ownership", "content_type": "application/pdf", "size": 1000}),
    );
    let response = request_upload::handle(&v, request).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body = body_json(&response);
    assert_eq!(body["field"], "kind");
    assert_eq!(body["rule"], "not_allowed_here");
    // Only the opening line: no URL was issued, nothing recorded.
    assert_eq!(v.cases.audit_of(&case.id).await.expect("audit").len(), 1);
}

#[tokio::test]
async fn each_bad_field_is_named_with_its_rule() {
    let (v, case) = with_open_case(CaseReason::FirstWithdrawal).await;
    let max = 10 * 1024 * 1024;
    let cases = [
        (
            json!({"content_type": "image/png", "size": 10}),
            "kind",
            "required",
        ),
        (
            json!({"kind": "passport", "content_type": "image/png", "size": 10}),
            "kind",
            "one_of",
        ),
        (
            json!({"kind": "government_id", "size": 10}),
            "content_type",
            "required",
        ),
        (
            json!({"kind": "government_id", "content_type": "image/gif", "size": 10}),
            "content_type",
            "one_of",
        ),
        (
            json!({"kind": "government_id", "content_type": "image/png"}),
            "size",
            "required",
        ),
        (
            json!({"kind": "government_id", "content_type": "image/png", "size": 0}),
            "size",
            "range",
        ),
        (
            json!({"kind": "government_id", "content_type": "image/png", "size": max + 1}),
            "size",
            "range",
        ),
        (
            json!({"kind": "government_id", "content_type": "image/png", "size": 12.5}),
            "size",
            "range",
        ),
        (
            json!({"kind": "government_id", "content_type": "image/png", "size": "12"}),
            "size",
            "type",
        ),
        (
            json!({"kind": "government_id", "content_type": "image/png", "size": 12, "key": "x"}),
            "key",
            "unknown_field",
        ),
        (
            json!({"player_id": PLAYER, "kind": "government_id", "content_type": "image/png", "size": 12}),
            "player_id",
            "not_allowed_here",
        ),
    ];
    for (body, field, rule) in cases {
        let response =
            request_upload::handle(&v, with_json(event("request-upload.json"), body.clone())).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
        let answer = body_json(&response);
        assert_eq!(answer["field"], field, "{body}");
        assert_eq!(answer["rule"], rule, "{body}");
    }
    // The largest allowed size and an upper-case media type pass.
    let request = with_json(
        event("request-upload.json"),
        json!({"kind": "government_id", "content_type": "IMAGE/HEIC", "size": max}),
    );
    let response = request_upload::handle(&v, request).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(
        body_json(&response)["headers"]["content-type"],
        "image/heic"
    );
    assert_eq!(v.cases.audit_of(&case.id).await.expect("audit").len(), 2);
}

#[tokio::test]
async fn staff_must_name_a_valid_player() {
    let (v, _) = with_open_case(CaseReason::FirstWithdrawal).await;
    let missing = with_json(
        event("request-upload-staff.json"),
        json!({"kind": "government_id", "content_type": "image/png", "size": 12}),
    );
    let response = request_upload::handle(&v, missing).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(body_json(&response)["field"], "player_id");
    assert_eq!(body_json(&response)["rule"], "required");

    let bad = with_json(
        event("request-upload-staff.json"),
        json!({"player_id": "a/b", "kind": "government_id", "content_type": "image/png", "size": 12}),
    );
    let response = request_upload::handle(&v, bad).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(body_json(&response)["rule"], "player_id");
}

#[tokio::test]
async fn other_roles_cannot_ask_for_upload_urls() {
    let (v, case) = with_open_case(CaseReason::FirstWithdrawal).await;
    for groups in [&["agent"][..], &["service"], &["verification_senior"]] {
        let request = with_caller(event("request-upload-staff.json"), "someone", groups);
        let response = request_upload::handle(&v, request).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{groups:?}");
    }
    assert_eq!(v.cases.audit_of(&case.id).await.expect("audit").len(), 1);
}

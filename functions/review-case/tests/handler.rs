//! The handler fed with the sample events in `events/`, over the in-memory ports.

/// The property tests of this function's own parsers, run with its handler's tests (a lib
/// with `test = false` would never run them).
#[path = "handler/properties.rs"]
mod properties;

use guichet_core::common::player::{Author, Language};
use guichet_core::documents::memory::MemoryDocumentStorage;
use guichet_core::tickets::memory::FixedClock;
use guichet_core::verification::memory::{case_in_review, verification, MemoryCaseStore};
use guichet_core::verification::ports::CaseStore;
use guichet_core::verification::rules::{AuditAction, CaseReason, DocumentKind, VerificationCase};
use guichet_core::verification::service::Verification;
use guichet_edge::testing::{body_json, event, with_caller, with_json, with_path};
use lambda_http::http::StatusCode;
use lambda_http::Request;
use serde_json::{json, Value};

const NOW: &str = "2026-11-26T15:00:00Z";
const PLAYER: &str = "player-7f3a9c";

type V = Verification<MemoryCaseStore, MemoryDocumentStorage>;

fn view_request(case: &VerificationCase, kind: &str) -> Request {
    with_path(
        event("review-case-view.json"),
        &[("case_id", case.id.as_str()), ("kind", kind)],
    )
}

fn decision_request(case: &VerificationCase, body: Value) -> Request {
    with_json(
        with_path(
            event("review-case-decision.json"),
            &[("case_id", case.id.as_str())],
        ),
        body,
    )
}

/// No resubmission allowed: the first request sends the case to a senior reviewer.
fn capped() -> V {
    Verification {
        cases: MemoryCaseStore::default(),
        storage: MemoryDocumentStorage::default(),
        clock: Box::new(FixedClock::at(NOW)),
        max_resubmissions: 0,
        notifier: guichet_core::notifications::rules::Notifier::bundled(),
    }
}

async fn current(v: &V, case: &VerificationCase) -> VerificationCase {
    v.cases.case(&case.id).await.expect("store").expect("case")
}

#[tokio::test]
async fn a_reviewer_views_a_document_and_the_view_is_audited() {
    let v = verification(NOW);
    let case = case_in_review(&v, PLAYER, CaseReason::FirstWithdrawal).await;
    let response = review_case::handle(&v, view_request(&case, "government_id")).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body = body_json(&response);
    assert_eq!(body["method"], "GET");
    let key = &case
        .slot(DocumentKind::GovernmentId)
        .and_then(|s| s.current.as_ref())
        .expect("received")
        .key;
    assert!(body["url"].as_str().expect("url").contains(key.as_str()));
    assert_eq!(body["expires_at"], "2026-11-26T15:05:00Z");
    let audit = v.cases.audit_of(&case.id).await.expect("audit");
    let last = audit.last().expect("line");
    assert_eq!(
        last.actor,
        Author::Staff {
            id: "reviewer-1".into()
        }
    );
    assert_eq!(
        last.action,
        AuditAction::DocumentViewed {
            kind: DocumentKind::GovernmentId
        }
    );
}

#[tokio::test]
async fn a_view_names_what_is_wrong() {
    let v = verification(NOW);
    let case = case_in_review(&v, PLAYER, CaseReason::FirstWithdrawal).await;

    let response = review_case::handle(&v, view_request(&case, "selfie")).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(body_json(&response)["field"], "kind");
    assert_eq!(body_json(&response)["rule"], "one_of");

    let response = review_case::handle(&v, view_request(&case, "payment_method_ownership")).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(body_json(&response)["field"], "kind");
    assert_eq!(body_json(&response)["rule"], "not_allowed_here");

    let bad_id = with_path(
        event("review-case-view.json"),
        &[("case_id", "nope"), ("kind", "government_id")],
    );
    let response = review_case::handle(&v, bad_id).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(body_json(&response)["field"], "case_id");

    // The sample's case id does not exist.
    let response = review_case::handle(&v, event("review-case-view.json")).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);

    // A document not received yet has nothing to view.
    let waiting = guichet_edge::testing::opened_case(
        &v,
        "player-other",
        CaseReason::SecurityReview,
        Language::En,
    )
    .await;
    let response = review_case::handle(&v, view_request(&waiting, "government_id")).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert_eq!(body_json(&response)["reason"], "document_not_expected");
}

#[tokio::test]
async fn players_and_other_staff_cannot_review() {
    let v = verification(NOW);
    let case = case_in_review(&v, PLAYER, CaseReason::FirstWithdrawal).await;
    for groups in [&["player"][..], &["agent", "supervisor"], &["service"]] {
        let view = with_caller(view_request(&case, "government_id"), PLAYER, groups);
        let response = review_case::handle(&v, view).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{groups:?}");
        assert_eq!(body_json(&response)["required_role"], "verification");
        let decide = with_caller(
            decision_request(
                &case,
                json!({"version": case.version, "decision": "approve"}),
            ),
            PLAYER,
            groups,
        );
        let response = review_case::handle(&v, decide).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{groups:?}");
    }
    assert_eq!(current(&v, &case).await, case, "nothing changed");
}

#[tokio::test]
async fn a_resubmission_request_reopens_the_named_document() {
    let v = verification(NOW);
    let case = case_in_review(&v, PLAYER, CaseReason::FirstWithdrawal).await;
    let mut request = event("review-case-decision.json");
    request = with_path(request, &[("case_id", case.id.as_str())]);
    // The sample's body with this case's version.
    let mut body: Value = serde_json::from_slice(request.body().as_ref()).expect("json");
    body["version"] = json!(case.version);
    let response = review_case::handle(&v, with_json(request, body)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let answer = body_json(&response);
    assert_eq!(answer["status"], "awaiting_documents");
    assert_eq!(answer["documents"][1]["status"], "resubmission_requested");
    assert_eq!(
        answer["documents"][1]["reasons"],
        json!(["address_too_old"])
    );
    assert_eq!(answer["documents"][0]["status"], "accepted");
    let audit = v.cases.audit_of(&case.id).await.expect("audit");
    let last = audit.last().expect("line");
    assert_eq!(
        last.internal_note.as_deref(),
        Some("Relevé de mars, adresse conforme.")
    );
}

#[tokio::test]
async fn a_double_decision_is_a_conflict() {
    let v = verification(NOW);
    let case = case_in_review(&v, PLAYER, CaseReason::FirstWithdrawal).await;
    let approve = json!({"version": case.version, "decision": "approve"});
    let first = review_case::handle(&v, decision_request(&case, approve.clone())).await;
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(body_json(&first)["status"], "approved");
    let decided = current(&v, &case).await;

    // The same request again (a retry, a second reviewer on the same screen): stale.
    let again = review_case::handle(&v, decision_request(&case, approve)).await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    assert_eq!(body_json(&again)["reason"], "stale");

    // On the new version: the case is no longer in review.
    let reject = json!({"version": decided.version, "decision": "reject", "reasons": ["expired"]});
    let late = review_case::handle(&v, decision_request(&case, reject)).await;
    assert_eq!(late.status(), StatusCode::CONFLICT);
    assert_eq!(body_json(&late)["reason"], "wrong_state");
    assert_eq!(current(&v, &case).await, decided);
}

#[tokio::test]
async fn a_rejection_states_its_reasons() {
    let v = verification(NOW);
    let case = case_in_review(&v, PLAYER, CaseReason::FirstWithdrawal).await;
    let body = json!({"version": case.version, "decision": "reject",
        "reasons": ["suspected_tampering", "suspected_tampering"],
        "player_message": "Nous ne pouvons pas vérifier votre identité."});
    let response = review_case::handle(&v, decision_request(&case, body)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(body_json(&response)["status"], "rejected");
    let audit = v.cases.audit_of(&case.id).await.expect("audit");
    assert_eq!(
        audit.last().expect("line").action,
        AuditAction::Rejected {
            reasons: vec![guichet_core::verification::rules::ReasonCode::SuspectedTampering]
        }
    );
}

#[tokio::test]
async fn each_bad_field_is_named_with_its_rule() {
    let v = verification(NOW);
    let case = case_in_review(&v, PLAYER, CaseReason::FirstWithdrawal).await;
    let n = case.version;
    let cases = [
        (json!({"decision": "approve"}), "version", "required"),
        (
            json!({"version": 0, "decision": "approve"}),
            "version",
            "range",
        ),
        (
            json!({"version": "3", "decision": "approve"}),
            "version",
            "range",
        ),
        (json!({"version": n}), "decision", "required"),
        (
            json!({"version": n, "decision": "maybe"}),
            "decision",
            "one_of",
        ),
        (
            json!({"version": n, "decision": "approve", "reasons": ["expired"]}),
            "reasons",
            "not_allowed_here",
        ),
        (
            json!({"version": n, "decision": "reject", "documents": {"government_id": ["expired"]}}),
            "documents",
            "not_allowed_here",
        ),
        (
            json!({"version": n, "decision": "reject"}),
            "reasons",
            "required",
        ),
        (
            json!({"version": n, "decision": "reject", "reasons": []}),
            "reasons",
            "required",
        ),
        (
            json!({"version": n, "decision": "reject", "reasons": ["rude"]}),
            "reasons[0]",
            "one_of",
        ),
        (
            json!({"version": n, "decision": "request_resubmission"}),
            "documents",
            "required",
        ),
        (
            json!({"version": n, "decision": "request_resubmission", "documents": {}}),
            "documents",
            "required",
        ),
        (
            json!({"version": n, "decision": "request_resubmission", "documents": ["government_id"]}),
            "documents",
            "type",
        ),
        (
            json!({"version": n, "decision": "request_resubmission", "documents": {"passport": ["expired"]}}),
            "documents.passport",
            "one_of",
        ),
        (
            json!({"version": n, "decision": "request_resubmission", "documents": {"government_id": []}}),
            "documents.government_id",
            "required",
        ),
        (
            json!({"version": n, "decision": "request_resubmission", "documents": {"government_id": ["blurry"]}}),
            "documents.government_id[0]",
            "one_of",
        ),
        (
            json!({"version": n, "decision": "request_resubmission", "documents": {"payment_method_ownership": ["expired"]}}),
            "documents.payment_method_ownership",
            "not_allowed_here",
        ),
        (
            json!({"version": n, "decision": "approve", "player_message": "x".repeat(1001)}),
            "player_message",
            "max_length",
        ),
        (
            json!({"version": n, "decision": "approve", "internal_note": "x".repeat(2001)}),
            "internal_note",
            "max_length",
        ),
        (
            json!({"version": n, "decision": "approve", "internal_note": "a\u{7}b"}),
            "internal_note",
            "printable_text",
        ),
        (
            json!({"version": n, "decision": "approve", "senior": true}),
            "senior",
            "unknown_field",
        ),
    ];
    for (body, field, rule) in cases {
        let response = review_case::handle(&v, decision_request(&case, body.clone())).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
        let answer = body_json(&response);
        assert_eq!(answer["field"], field, "{body}");
        assert_eq!(answer["rule"], rule, "{body}");
    }
    assert_eq!(current(&v, &case).await, case, "nothing changed");
}

#[tokio::test]
async fn past_the_cap_only_a_senior_reviewer_decides() {
    let v = capped();
    let case = case_in_review(&v, PLAYER, CaseReason::FirstWithdrawal).await;
    let body = json!({"version": case.version, "decision": "request_resubmission",
        "documents": {"government_id": ["unreadable"]}});
    let response = review_case::handle(&v, decision_request(&case, body)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let answer = body_json(&response);
    assert_eq!(answer["status"], "in_review");
    assert_eq!(answer["needs_senior"], true);
    let version = answer["version"].as_u64().expect("version");

    let approve = json!({"version": version, "decision": "approve"});
    let response = review_case::handle(&v, decision_request(&case, approve.clone())).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(body_json(&response)["required_role"], "verification_senior");

    let senior = with_caller(
        decision_request(&case, approve),
        "senior-1",
        &["verification", "verification_senior"],
    );
    let response = review_case::handle(&v, senior).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(body_json(&response)["status"], "approved");
}

/// The case's `state` token as the reviewers' view hands it out.
fn state_of(case: &VerificationCase) -> Value {
    json!(guichet_core::common::seen::token(case).expect("a case fits a token"))
}

/// A token whose case says something else than the stored one.
fn forged(case: &VerificationCase, edit: impl FnOnce(&mut VerificationCase)) -> Value {
    let mut claimed = case.clone();
    edit(&mut claimed);
    state_of(&claimed)
}

/// `body` as JSON: the view's sample event has no body, so no content type either.
fn with_body(mut request: Request, body: Value) -> Request {
    request.headers_mut().insert(
        "content-type",
        lambda_http::http::HeaderValue::from_static("application/json"),
    );
    with_json(request, body)
}

#[tokio::test]
async fn a_view_and_a_decision_on_the_state_they_were_handed_read_nothing() {
    let v = verification(NOW);
    let case = case_in_review(&v, PLAYER, CaseReason::FirstWithdrawal).await;
    let read = current(&v, &case).await;
    let reads = v.cases.reads();
    let request = with_body(
        view_request(&read, "government_id"),
        json!({"state": state_of(&read)}),
    );
    let response = review_case::handle(&v, request).await;
    assert_eq!(response.status(), StatusCode::OK);
    let viewed = body_json(&response);
    assert!(viewed["url"].is_string());
    let body = json!({"version": read.version, "decision": "approve", "state": viewed["state"]});
    let response = review_case::handle(&v, decision_request(&read, body)).await;
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "{}",
        body_json(&response)
    );
    let decided = body_json(&response);
    assert_eq!(decided["status"], "approved");
    assert!(decided["state"].is_string(), "{decided}");
    assert_eq!(v.cases.reads(), reads, "both decided on their tokens");
    let audit = v.cases.audit_of(&case.id).await.expect("audit");
    assert!(matches!(
        audit.last().map(|l| &l.action),
        Some(AuditAction::Approved)
    ));
}

#[tokio::test]
async fn a_forged_case_state_is_decided_again_on_the_stored_case() {
    let v = capped();
    let case = case_in_review(&v, PLAYER, CaseReason::FirstWithdrawal).await;
    let body = json!({"version": case.version, "decision": "request_resubmission",
        "documents": {"government_id": ["unreadable"]}});
    let response = review_case::handle(&v, decision_request(&case, body)).await;
    assert_eq!(body_json(&response)["needs_senior"], true);
    let senior_case = current(&v, &case).await;

    // A reviewer who is not senior claims the case needs no senior: the write's condition
    // fails, and the decision is refused on the stored case.
    let claimed = forged(&senior_case, |c| c.needs_senior = false);
    let body = json!({"version": senior_case.version, "decision": "approve", "state": claimed});
    let response = review_case::handle(&v, decision_request(&case, body)).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(body_json(&response)["required_role"], "verification_senior");
    assert_eq!(current(&v, &case).await, senior_case, "nothing written");

    // A forged player language on a view: the view is written on the stored case.
    let claimed = forged(&senior_case, |c| c.language = Language::En);
    let request = with_body(
        view_request(&senior_case, "government_id"),
        json!({"state": claimed}),
    );
    let response = review_case::handle(&v, request).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(current(&v, &case).await.language, senior_case.language);

    // Not a token at all: a 400 naming it.
    let request = with_body(
        view_request(&senior_case, "government_id"),
        json!({"state": "not a token"}),
    );
    let response = review_case::handle(&v, request).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(body_json(&response)["field"], "state");
}

//! The handler fed with the sample events in `events/`, over the in-memory ports.

use guichet_core::common::player::Language;
use guichet_core::verification::memory::{case_in_review, verification};
use guichet_core::verification::rules::{CaseReason, Decision, ReasonCode};
use guichet_edge::testing::{body_json, event, reviewer, with_caller, with_path, with_query};
use lambda_http::http::StatusCode;
use serde_json::json;

const NOW: &str = "2026-11-26T15:00:00Z";
const PLAYER: &str = "player-7f3a9c";

#[tokio::test]
async fn withdrawals_wait_until_a_case_is_approved() {
    let v = verification(NOW);
    let response = eligibility::handle(&v, event("eligibility.json")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        body_json(&response),
        json!({"action": "withdrawal", "allowed": false, "reason": "verification_required"})
    );

    let case =
        guichet_edge::testing::opened_case(&v, PLAYER, CaseReason::FirstWithdrawal, Language::Fr)
            .await;
    let body = body_json(&eligibility::handle(&v, event("eligibility.json")).await);
    assert_eq!(body["allowed"], false);
    assert_eq!(body["reason"], "verification_in_progress");
    assert_eq!(body["case"], case.id.as_str());
}

#[tokio::test]
async fn an_approved_player_is_allowed_and_a_rejected_one_is_not() {
    let v = verification(NOW);
    let case = case_in_review(&v, PLAYER, CaseReason::FirstWithdrawal).await;
    v.decide(
        &reviewer(),
        false,
        &case.id,
        case.version,
        None,
        &Decision::Approve,
        None,
        None,
    )
    .await
    .expect("approved");
    for action in [
        "withdrawal",
        "payment_method_change",
        "bonus_redemption",
        "account_change",
    ] {
        let request = with_query(event("eligibility.json"), &[("action", action)]);
        let response = eligibility::handle(&v, request).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            body_json(&response),
            json!({"action": action, "allowed": true, "reason": "verified"})
        );
    }

    let other = "player-other";
    let rejected = case_in_review(&v, other, CaseReason::PaymentMethodChange).await;
    v.decide(
        &reviewer(),
        false,
        &rejected.id,
        rejected.version,
        None,
        &Decision::Reject {
            reasons: vec![ReasonCode::NameMismatch],
        },
        None,
        None,
    )
    .await
    .expect("rejected");
    let request = with_path(event("eligibility.json"), &[("player_id", other)]);
    let body = body_json(&eligibility::handle(&v, request).await);
    assert_eq!(body["allowed"], false);
    assert_eq!(body["reason"], "verification_rejected");
    assert_eq!(body["case"], rejected.id.as_str());
}

#[tokio::test]
async fn only_the_casinos_systems_ask() {
    let v = verification(NOW);
    for groups in [
        &["player"][..],
        &["verification"],
        &["agent", "supervisor"],
        &[],
    ] {
        let request = with_caller(event("eligibility.json"), PLAYER, groups);
        let response = eligibility::handle(&v, request).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{groups:?}");
        assert_eq!(body_json(&response)["required_role"], "service");
    }
}

#[tokio::test]
async fn bad_parameters_are_named() {
    let v = verification(NOW);
    let no_action = with_query(event("eligibility.json"), &[]);
    let response = eligibility::handle(&v, no_action).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(body_json(&response)["field"], "action");
    assert_eq!(body_json(&response)["rule"], "required");

    let unknown_action = with_query(event("eligibility.json"), &[("action", "deposit")]);
    let response = eligibility::handle(&v, unknown_action).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(body_json(&response)["rule"], "one_of");

    let extra = with_query(
        event("eligibility.json"),
        &[("action", "withdrawal"), ("amount", "100")],
    );
    let response = eligibility::handle(&v, extra).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(body_json(&response)["field"], "amount");
    assert_eq!(body_json(&response)["rule"], "unknown_field");

    let bad_player = with_path(event("eligibility.json"), &[("player_id", "a#b")]);
    let response = eligibility::handle(&v, bad_player).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(body_json(&response)["field"], "player_id");
    assert_eq!(body_json(&response)["rule"], "player_id");
}

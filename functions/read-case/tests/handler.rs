//! The handler fed with the sample events in `events/`, over the in-memory ports.

use guichet_core::common::player::Language;
use guichet_core::documents::memory::MemoryDocumentStorage;
use guichet_core::tickets::memory::FixedClock;
use guichet_core::verification::memory::{case_in_review, verification, MemoryCaseStore};
use guichet_core::verification::rules::{CaseReason, Decision, DocumentKind, ReasonCode};
use guichet_core::verification::service::Verification;
use guichet_edge::testing::{body_json, event, reviewer, with_caller, with_path, with_query};
use lambda_http::http::StatusCode;
use serde_json::json;

const NOW: &str = "2026-11-26T15:00:00Z";
const PLAYER: &str = "player-7f3a9c";

type V = Verification<MemoryCaseStore, MemoryDocumentStorage>;

fn verification_with(clock: &FixedClock, max_resubmissions: u8) -> V {
    Verification {
        cases: MemoryCaseStore::default(),
        storage: MemoryDocumentStorage::default(),
        clock: Box::new(clock.clone()),
        max_resubmissions,
        notifier: guichet_core::notifications::rules::Notifier::bundled(),
    }
}

#[tokio::test]
async fn a_player_reads_what_is_required_in_their_language() {
    let v = verification(NOW);
    guichet_edge::testing::opened_case(&v, PLAYER, CaseReason::PaymentMethodChange, Language::En)
        .await;
    let response = read_case::handle(&v, event("read-case-player.json")).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body = body_json(&response);
    assert_eq!(body["status"], "awaiting_documents");
    assert_eq!(body["status_text"], "Waiting for your documents");
    let documents = body["documents"].as_array().expect("documents");
    assert_eq!(documents.len(), 2);
    assert_eq!(documents[0]["kind"], "government_id");
    assert_eq!(documents[0]["kind_text"], "Government-issued photo ID");
    assert_eq!(documents[1]["kind"], "payment_method_ownership");
    assert!(documents.iter().all(|d| d["to_send"] == true));
}

#[tokio::test]
async fn a_player_reads_what_must_be_sent_again_and_why_but_no_internal_note() {
    let v = verification(NOW);
    let case = case_in_review(&v, PLAYER, CaseReason::FirstWithdrawal).await;
    v.decide(
        &reviewer(),
        false,
        &case.id,
        case.version,
        None,
        &Decision::RequestResubmission {
            documents: vec![(
                DocumentKind::ProofOfAddress,
                vec![ReasonCode::AddressTooOld, ReasonCode::SuspectedTampering],
            )],
        },
        Some("Merci d'envoyer un relevé récent.".into()),
        Some("INTERNAL: compared with the bank's records".into()),
    )
    .await
    .expect("decided");
    let response = read_case::handle(&v, event("read-case-player.json")).await;
    assert_eq!(response.status(), StatusCode::OK);
    let text = std::str::from_utf8(response.body().as_ref()).expect("utf-8");
    assert!(!text.contains("INTERNAL"));
    assert!(!text.contains("needs_senior"));
    assert!(!text.contains("verification/"), "no storage keys: {text}");
    let body = body_json(&response);
    assert_eq!(body["status_text"], "En attente de vos documents");
    assert_eq!(body["message"], "Merci d'envoyer un relevé récent.");
    let documents = body["documents"].as_array().expect("documents");
    let id = &documents[0];
    assert_eq!(id["status"], "accepted");
    assert_eq!(id["to_send"], false);
    let address = &documents[1];
    assert_eq!(address["status"], "resubmission_requested");
    assert_eq!(address["status_text"], "À envoyer de nouveau");
    assert_eq!(address["to_send"], true);
    assert_eq!(
        address["reasons"],
        json!([
            {"code": "address_too_old", "text": "Le document date de plus de 3 mois"},
            {"code": "suspected_tampering", "text": "Le document ne peut pas être accepté tel qu'il a été envoyé"},
        ])
    );
}

#[tokio::test]
async fn another_players_case_is_not_found_exactly_like_none() {
    let v = verification(NOW);
    let none = read_case::handle(&v, event("read-case-player.json")).await;
    assert_eq!(none.status(), StatusCode::NOT_FOUND);

    case_in_review(&v, "player-other", CaseReason::FirstWithdrawal).await;
    let not_mine = read_case::handle(&v, event("read-case-player.json")).await;
    assert_eq!(not_mine.status(), StatusCode::NOT_FOUND);
    assert_eq!(body_json(&none), body_json(&not_mine));
}

#[tokio::test]
async fn a_reviewer_reads_a_case_with_its_audit_trail() {
    let v = verification(NOW);
    let case = case_in_review(&v, PLAYER, CaseReason::FirstWithdrawal).await;
    for groups in [&["verification"][..], &["verification_senior"]] {
        let request = with_caller(
            with_path(
                event("read-case-staff.json"),
                &[("case_id", case.id.as_str())],
            ),
            "reviewer-1",
            groups,
        );
        let response = read_case::handle(&v, request).await;
        assert_eq!(response.status(), StatusCode::OK, "{groups:?}");
        let body = body_json(&response);
        assert_eq!(body["case"]["id"], case.id.as_str());
        assert_eq!(body["case"]["version"], case.version);
        let actions: Vec<&str> = body["audit"]
            .as_array()
            .expect("audit")
            .iter()
            .map(|line| line["action"]["action"].as_str().expect("action"))
            .collect();
        assert_eq!(actions.first(), Some(&"opened"));
        assert_eq!(actions.last(), Some(&"submitted_for_review"));
    }
}

#[tokio::test]
async fn a_bad_or_unknown_case_id_is_refused() {
    let v = verification(NOW);
    let response = read_case::handle(&v, event("read-case-staff.json")).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let request = with_path(event("read-case-staff.json"), &[("case_id", "VC-1")]);
    let response = read_case::handle(&v, request).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(body_json(&response)["field"], "case_id");
    assert_eq!(body_json(&response)["rule"], "case_id");
}

#[tokio::test]
async fn players_and_other_staff_cannot_call_the_review_routes() {
    let v = verification(NOW);
    let case = case_in_review(&v, PLAYER, CaseReason::FirstWithdrawal).await;
    for groups in [&["player"][..], &["agent", "supervisor"], &["service"]] {
        let staff_case = with_caller(
            with_path(
                event("read-case-staff.json"),
                &[("case_id", case.id.as_str())],
            ),
            PLAYER,
            groups,
        );
        let response = read_case::handle(&v, staff_case).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{groups:?}");
        assert_eq!(body_json(&response)["required_role"], "verification");
        let queue = with_caller(event("read-case-reviews.json"), PLAYER, groups);
        let response = read_case::handle(&v, queue).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{groups:?}");
    }
    // And the player's route is for players.
    let staff = with_caller(
        event("read-case-player.json"),
        "reviewer-1",
        &["verification"],
    );
    let response = read_case::handle(&v, staff).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(body_json(&response)["required_role"], "player");
}

#[tokio::test]
async fn the_queue_puts_blocked_withdrawals_first_then_arrival_order() {
    let clock = FixedClock::at(NOW);
    let v = verification_with(&clock, 2);
    let review = case_in_review(&v, "player-a", CaseReason::SecurityReview).await;
    clock.set("2026-11-26T16:00:00Z".parse().expect("time"));
    let change = case_in_review(&v, "player-b", CaseReason::PaymentMethodChange).await;
    clock.set("2026-11-26T17:00:00Z".parse().expect("time"));
    let withdrawal = case_in_review(&v, "player-c", CaseReason::FirstWithdrawal).await;

    let response = read_case::handle(&v, event("read-case-reviews.json")).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body = body_json(&response);
    assert_eq!(body["queue"], "standard");
    let ids: Vec<&str> = body["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .map(|c| c["id"].as_str().expect("id"))
        .collect();
    assert_eq!(
        ids,
        [
            withdrawal.id.as_str(),
            review.id.as_str(),
            change.id.as_str()
        ]
    );

    let limited = with_query(event("read-case-reviews.json"), &[("limit", "1")]);
    let body = body_json(&read_case::handle(&v, limited).await);
    assert_eq!(body["cases"].as_array().expect("cases").len(), 1);
}

#[tokio::test]
async fn the_senior_queue_needs_a_senior_reviewer() {
    let clock = FixedClock::at(NOW);
    // No resubmission allowed: the first request sends the case to a senior reviewer.
    let v = verification_with(&clock, 0);
    let case = case_in_review(&v, PLAYER, CaseReason::FirstWithdrawal).await;
    v.decide(
        &reviewer(),
        false,
        &case.id,
        case.version,
        None,
        &Decision::RequestResubmission {
            documents: vec![(DocumentKind::GovernmentId, vec![ReasonCode::Unreadable])],
        },
        None,
        None,
    )
    .await
    .expect("sent to senior review");

    let senior = with_query(event("read-case-reviews.json"), &[("queue", "senior")]);
    let response = read_case::handle(&v, senior).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(body_json(&response)["required_role"], "verification_senior");

    let senior = with_caller(
        with_query(event("read-case-reviews.json"), &[("queue", "senior")]),
        "senior-1",
        &["verification", "verification_senior"],
    );
    let response = read_case::handle(&v, senior).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body = body_json(&response);
    assert_eq!(body["queue"], "senior");
    assert_eq!(body["cases"][0]["id"], case.id.as_str());
    assert_eq!(body["cases"][0]["needs_senior"], true);

    let standard = read_case::handle(&v, event("read-case-reviews.json")).await;
    assert_eq!(body_json(&standard)["cases"], json!([]));
}

#[tokio::test]
async fn bad_query_parameters_are_named() {
    let v = verification(NOW);
    for (params, field, rule) in [
        (&[("queue", "urgent")][..], "queue", "one_of"),
        (&[("limit", "0")], "limit", "range"),
        (&[("limit", "51")], "limit", "range"),
        (&[("limit", "ten")], "limit", "range"),
        (
            &[("status", "open"), ("limit", "0")],
            "status",
            "unknown_field",
        ),
    ] {
        let request = with_query(event("read-case-reviews.json"), params);
        let response = read_case::handle(&v, request).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{params:?}");
        let body = body_json(&response);
        assert_eq!(body["field"], field, "{params:?}");
        assert_eq!(body["rule"], rule, "{params:?}");
    }
}

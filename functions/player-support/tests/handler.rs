//! The handler fed with the sample event in `events/`, over the in-memory stores.

use guichet_core::tickets::memory::{desk, MemoryLookupAudit as Audit};
use guichet_core::verification::memory::MemoryCaseStore;
use guichet_edge::testing::{body_json, event_json, request_of, set_groups};
use lambda_http::http::StatusCode;

const NOW: &str = "2026-12-03T15:00:00Z";

fn ask(player: &str, groups: &str) -> lambda_http::Request {
    let mut event = event_json("player-support.json", &[("player-7f3a9c", player)]);
    set_groups(&mut event, groups);
    request_of(&event)
}

#[tokio::test]
async fn an_agent_sees_the_players_tickets_in_work_and_the_look_up_is_audited() {
    let desk = desk(NOW);
    guichet_edge::testing::submitted(
        &desk,
        "player-7f3a9c",
        serde_json::json!({"channel": "chat", "category": "technical", "subject": "Jeu figé",
            "description": "Le jeu se fige au chargement."}),
        NOW,
    )
    .await;
    let (cases, audit) = (MemoryCaseStore::default(), Audit::default());
    let response = player_support::handle(
        &desk,
        &cases,
        &audit,
        ask("player-7f3a9c", "[agent team:games]"),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body = body_json(&response);
    assert_eq!(body["player_id"], "player-7f3a9c");
    assert_eq!(body["open_tickets"][0]["subject"], "Jeu figé");
    assert_eq!(body["open_tickets"][0]["channel"], "chat");
    assert!(body["verification"].is_null());
    let recorded = audit.recorded();
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].staff.as_str(), "agent-0042");
}

#[tokio::test]
async fn players_are_refused_unaudited_and_a_bad_id_is_named() {
    let desk = desk(NOW);
    let (cases, audit) = (MemoryCaseStore::default(), Audit::default());
    for groups in ["[player]", "[service]"] {
        let response =
            player_support::handle(&desk, &cases, &audit, ask("player-7f3a9c", groups)).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{groups}");
    }
    assert!(audit.recorded().is_empty());
    let response =
        player_support::handle(&desk, &cases, &audit, ask("bad id!", "[verification]")).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(body_json(&response)["field"], "player_id");
}

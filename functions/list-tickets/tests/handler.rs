//! The handler fed with the sample events in `events/`, over the in-memory store.

use std::collections::HashMap;

use guichet_core::common::player::PlayerId;
use guichet_core::tickets::desk::Desk;
use guichet_core::tickets::intake::TicketRequest;
use guichet_core::tickets::memory::{desk_with_clock, FixedClock, MemoryTicketStore};
use guichet_edge::testing::{body_json, event};
use jiff::{SignedDuration, Timestamp};
use lambda_http::http::StatusCode;
use lambda_http::RequestExt;

const NOW: &str = "2026-11-26T15:00:00Z";

/// Submits `n` tickets one second apart; returns their subjects, oldest first.
async fn submit(desk: &Desk<MemoryTicketStore>, clock: &FixedClock, player: &str, n: usize) {
    let start: Timestamp = NOW.parse().expect("valid");
    for i in 0..n {
        clock.set(start + SignedDuration::from_secs(i as i64));
        let body = serde_json::json!({
            "channel": "form", "category": "technical",
            "subject": format!("Demande {i}"), "description": "Le lobby ne charge pas."
        });
        let request = TicketRequest::parse(&body, None, desk.clock.now()).expect("valid");
        desk.submit(PlayerId::parse(player).expect("id"), request, None, None)
            .await
            .expect("stored");
    }
}

fn with_query(pairs: &[(&str, &str)]) -> lambda_http::Request {
    let query: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    event("list-tickets.json").with_query_string_parameters(query)
}

fn subjects(body: &serde_json::Value) -> Vec<String> {
    body["tickets"]
        .as_array()
        .map(|tickets| {
            tickets
                .iter()
                .filter_map(|t| t["subject"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn pages_run_newest_first_and_only_over_the_callers_tickets() {
    let clock = FixedClock::at(NOW);
    let desk = desk_with_clock(clock.clone());
    submit(&desk, &clock, "player-7f3a9c", 5).await;
    submit(&desk, &clock, "player-other", 2).await;

    let first = list_tickets::handle(&desk, with_query(&[("limit", "2")])).await;
    assert_eq!(first.status(), StatusCode::OK);
    let first = body_json(&first);
    assert_eq!(subjects(&first), ["Demande 4", "Demande 3"]);
    let cursor = first["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_owned();

    let second =
        list_tickets::handle(&desk, with_query(&[("limit", "2"), ("cursor", &cursor)])).await;
    let second = body_json(&second);
    assert_eq!(subjects(&second), ["Demande 2", "Demande 1"]);
    let cursor = second["next_cursor"]
        .as_str()
        .expect("a last page")
        .to_owned();

    let last =
        list_tickets::handle(&desk, with_query(&[("limit", "2"), ("cursor", &cursor)])).await;
    let last = body_json(&last);
    assert_eq!(subjects(&last), ["Demande 0"]);
    assert!(last["next_cursor"].is_null());
}

#[tokio::test]
async fn bad_query_parameters_are_named() {
    let desk = desk_with_clock(FixedClock::at(NOW));
    for (pairs, field) in [
        (vec![("limit", "0")], "limit"),
        (vec![("limit", "51")], "limit"),
        (vec![("limit", "ten")], "limit"),
        (vec![("cursor", "forged")], "cursor"),
        (vec![("player", "someone")], "player"),
    ] {
        let response = list_tickets::handle(&desk, with_query(&pairs)).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{pairs:?}");
        assert_eq!(body_json(&response)["field"], field);
    }
}

#[tokio::test]
async fn the_sample_event_lists_an_empty_desk() {
    let desk = desk_with_clock(FixedClock::at(NOW));
    let response = list_tickets::handle(&desk, event("list-tickets.json")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(body_json(&response)["tickets"], serde_json::json!([]));
}

#[tokio::test]
async fn a_request_without_claims_is_unauthenticated() {
    let desk = desk_with_clock(FixedClock::at(NOW));
    let response = list_tickets::handle(&desk, event("no-authorizer.json")).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

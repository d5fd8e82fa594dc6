//! The handler fed with the sample event in `events/`, over the in-memory store.

use guichet_core::common::access::{Actor, Role};
use guichet_core::common::player::PlayerId;
use guichet_core::tickets::memory::{desk_with_clock, FixedClock};
use guichet_core::tickets::ticket::{Team, TicketStatus};
use guichet_core::tickets::workflow;
use guichet_edge::testing::{body_json, event_json, request_of, set_groups};
use lambda_http::http::StatusCode;

fn complaint(subject: &str) -> serde_json::Value {
    serde_json::json!({"channel": "email", "category": "complaint", "subject": subject,
        "description": "Ma mise gagnante n'a pas été payée."})
}

fn ask(query: &str, groups: &str) -> lambda_http::Request {
    let mut pairs = serde_json::Map::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        pairs.insert(name.to_owned(), value.into());
    }
    let mut event = event_json("complaints-report.json", &[]);
    event["rawQueryString"] = query.into();
    event["queryStringParameters"] = serde_json::Value::Object(pairs);
    set_groups(&mut event, groups);
    request_of(&event)
}

#[tokio::test]
async fn supervisors_list_the_open_complaints_older_than_n_days_oldest_first() {
    let clock = FixedClock::at("2026-10-01T14:00:00Z");
    let desk = desk_with_clock(clock.clone());
    let old = guichet_edge::testing::reference_of(
        &guichet_edge::testing::submitted(&desk, "p-1", complaint("Gain"), "2026-10-01T14:00:00Z")
            .await,
    );
    let settled = guichet_edge::testing::reference_of(
        &guichet_edge::testing::submitted(&desk, "p-2", complaint("Bonus"), "2026-10-01T14:00:00Z")
            .await,
    );
    // Not a complaint, however old.
    guichet_edge::testing::submitted(
        &desk,
        "p-3",
        serde_json::json!({"channel": "form",
        "category": "technical", "subject": "Lobby", "description": "Page blanche."}),
        "2026-10-01T14:00:00Z",
    )
    .await;
    let officer = Actor {
        subject: PlayerId::parse("officer-1").expect("valid"),
        roles: vec![Role::Agent],
        teams: vec![Team::Complaints],
        email: None,
    };
    let reference = guichet_core::common::reference::TicketReference::parse(&settled).expect("ok");
    desk.work_on(&officer, &reference, None, |t, now| {
        workflow::change_status(t, t.version, TicketStatus::Resolved, "officer-1", None, now)
    })
    .await
    .expect("resolved");
    clock.set("2026-11-01T14:00:00Z".parse().expect("valid"));
    let recent = guichet_edge::testing::reference_of(
        &guichet_edge::testing::submitted(
            &desk,
            "p-4",
            complaint("Retrait"),
            "2026-11-01T14:00:00Z",
        )
        .await,
    );
    clock.set("2026-11-20T14:00:00Z".parse().expect("valid"));

    let response = complaints_report::handle(&desk, ask("open_over_days=30", "[supervisor]")).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body = body_json(&response);
    let listed: Vec<&str> = body["complaints"]
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|c| c["reference"].as_str())
        .collect();
    assert_eq!(listed, [old.as_str()], "{body}");
    assert_eq!(body["complaints"][0]["open_days"], 50);
    assert_eq!(body["complaints"][0]["team"], "complaints");
    assert!(
        body["complaints"][0]["regulator_limit_at"].is_string(),
        "{body}"
    );
    assert!(
        body["complaints"][0].get("description").is_none(),
        "no player text"
    );

    // All of them, a page of one at a time.
    let first = body_json(
        &complaints_report::handle(&desk, ask("open_over_days=0&limit=1", "[supervisor]")).await,
    );
    let cursor = first["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_owned();
    let second = body_json(
        &complaints_report::handle(
            &desk,
            ask(
                &format!("open_over_days=0&limit=1&cursor={cursor}"),
                "[supervisor]",
            ),
        )
        .await,
    );
    assert_eq!(first["complaints"][0]["reference"], old.as_str());
    assert_eq!(second["complaints"][0]["reference"], recent.as_str());
    assert!(second["next_cursor"].is_null());
}

#[tokio::test]
async fn only_supervisors_read_it_and_every_bad_parameter_is_named() {
    let desk = desk_with_clock(FixedClock::at("2026-11-20T14:00:00Z"));
    for groups in ["[agent team:complaints]", "[player]"] {
        let response = complaints_report::handle(&desk, ask("open_over_days=30", groups)).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{groups}");
    }
    for (query, field, rule) in [
        ("", "open_over_days", "required"),
        ("open_over_days=-1", "open_over_days", "range"),
        ("open_over_days=3651", "open_over_days", "range"),
        ("open_over_days=ten", "open_over_days", "range"),
        ("open_over_days=30&team=games", "team", "unknown_field"),
        ("open_over_days=30&limit=101", "limit", "range"),
        ("open_over_days=30&cursor=nope", "cursor", "opaque"),
    ] {
        let response = complaints_report::handle(&desk, ask(query, "[supervisor]")).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query}");
        let body = body_json(&response);
        assert_eq!(body["field"], field, "{query}: {body}");
        assert_eq!(body["rule"], rule, "{query}: {body}");
    }
}

//! The handler fed with the sample event in `events/`, over the in-memory store.

use guichet_core::tickets::desk::Desk;
use guichet_core::tickets::memory::{desk_with_clock, FixedClock, MemoryTicketStore};
use guichet_edge::testing::body_json;
use lambda_http::http::StatusCode;

async fn submit(
    desk: &Desk<MemoryTicketStore>,
    clock: &FixedClock,
    at: &str,
    body: serde_json::Value,
) -> String {
    clock.set(at.parse().expect("valid"));
    guichet_edge::testing::reference_of(
        &guichet_edge::testing::submitted(desk, "player-1", body, at).await,
    )
}

fn request(groups: &str, team: &str, query: &str) -> lambda_http::Request {
    guichet_edge::testing::request_of(&event("team-queue.json", "", groups, team, query))
}

/// The sample event `name` for `/queues/{team}{suffix}?{query}`, with the caller's groups.
fn event(name: &str, suffix: &str, groups: &str, team: &str, query: &str) -> serde_json::Value {
    let mut event = guichet_edge::testing::event_json(name, &[]);
    guichet_edge::testing::set_groups(&mut event, groups);
    event["pathParameters"]["team"] = team.into();
    event["rawPath"] = format!("/queues/{team}{suffix}").into();
    event["rawQueryString"] = query.into();
    event["queryStringParameters"] = serde_json::Value::Object(
        query
            .split('&')
            .filter(|p| !p.is_empty())
            .filter_map(|p| p.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.into()))
            .collect(),
    );
    event
}

fn transaction() -> serde_json::Value {
    serde_json::json!({"channel":"email","category":"transaction","subject":"Dépôt manquant","description":"Mon dépôt n'apparaît pas."})
}

fn incident_with_payment() -> serde_json::Value {
    // High priority too, payments team.
    serde_json::json!({"channel":"chat","category":"incident","subject":"Paiement perdu","description":"Le paiement a disparu.",
        "incident": {"occurred_at": "2026-11-26T14:00:00Z", "transaction_id": "TX-1", "steps_tried": []}})
}

#[tokio::test]
async fn the_queue_is_in_arrival_order_a_page_at_a_time() {
    let clock = FixedClock::at("2026-11-26T15:00:00Z");
    let desk = desk_with_clock(clock.clone());
    let first = submit(&desk, &clock, "2026-11-26T15:00:00Z", transaction()).await;
    let second = submit(
        &desk,
        &clock,
        "2026-11-26T15:01:00Z",
        incident_with_payment(),
    )
    .await;
    let third = submit(&desk, &clock, "2026-11-26T15:02:00Z", transaction()).await;
    let response = team_queue::handle(
        &desk,
        &replies(),
        request("[agent team:payments]", "payments", "limit=2"),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body = body_json(&response);
    assert_eq!(body["tickets"][0]["reference"], first.as_str());
    assert_eq!(body["tickets"][1]["reference"], second.as_str());
    let cursor = body["next_cursor"]
        .as_str()
        .expect("another page")
        .to_owned();
    let response = team_queue::handle(
        &desk,
        &replies(),
        request(
            "[supervisor]",
            "payments",
            &format!("limit=2&cursor={cursor}"),
        ),
    )
    .await;
    let body = body_json(&response);
    assert_eq!(body["tickets"][0]["reference"], third.as_str());
    assert_eq!(body["tickets"].as_array().map(Vec::len), Some(1));
    assert!(body["next_cursor"].is_null());
}

#[tokio::test]
async fn only_the_teams_staff_read_its_queue() {
    let desk = desk_with_clock(FixedClock::at("2026-11-26T15:00:00Z"));
    let status = |groups: &'static str, team: &'static str| {
        let desk = &desk;
        async move {
            team_queue::handle(desk, &replies(), request(groups, team, ""))
                .await
                .status()
        }
    };
    assert_eq!(
        status("[agent team:payments]", "payments").await,
        StatusCode::OK
    );
    assert_eq!(status("[supervisor]", "games").await, StatusCode::OK);
    assert_eq!(
        status("[agent team:payments]", "games").await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(status("[agent]", "payments").await, StatusCode::FORBIDDEN);
    assert_eq!(status("[player]", "payments").await, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn bad_parameters_are_named() {
    let desk = desk_with_clock(FixedClock::at("2026-11-26T15:00:00Z"));
    for (team, query, field) in [
        ("nobody", "", "team"),
        ("payments", "limit=0", "limit"),
        ("payments", "cursor=tampered", "cursor"),
        ("payments", "sort=asc", "sort"),
    ] {
        let response =
            team_queue::handle(&desk, &replies(), request("[supervisor]", team, query)).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert_eq!(body_json(&response)["field"], field);
    }
}

/// The `overdue` flag of the first ticket of the payments queue, which must be `reference`.
async fn first_overdue(desk: &Desk<MemoryTicketStore>, reference: &str) -> serde_json::Value {
    let request = request("[agent team:payments]", "payments", "");
    let body = body_json(&team_queue::handle(desk, &replies(), request).await);
    assert_eq!(body["tickets"][0]["reference"], reference);
    body["tickets"][0]["overdue"].clone()
}

#[tokio::test]
async fn a_ticket_past_its_response_target_is_marked_overdue() {
    let clock = FixedClock::at("2026-11-26T15:00:00Z");
    let desk = desk_with_clock(clock.clone());
    let reference = submit(&desk, &clock, "2026-11-26T15:00:00Z", transaction()).await;
    assert_eq!(first_overdue(&desk, &reference).await, false);
    // An e-mail is answered within two business days: a week later, it is late.
    clock.set("2026-12-03T15:00:00Z".parse().expect("valid"));
    assert_eq!(first_overdue(&desk, &reference).await, true);

    // An agent answers: the desk owes its next update two business days from now, not before.
    let agent = guichet_core::common::access::Actor {
        subject: guichet_core::common::player::PlayerId::parse("agent-1").expect("id"),
        roles: guichet_edge::http::parse_groups("[agent team:payments]"),
        teams: vec![guichet_core::tickets::ticket::Team::Payments],
        email: None,
    };
    let parsed = guichet_core::common::reference::TicketReference::parse(&reference).expect("ref");
    desk.work_on(&agent, &parsed, None, |ticket, now| {
        let body = guichet_core::tickets::workflow::MessageBody::parse("body", "Nous vérifions.")
            .expect("valid");
        let next_due = desk.follow_up_due(ticket.priority, now);
        guichet_core::tickets::workflow::reply(
            ticket,
            ticket.version,
            "agent-1",
            body,
            now,
            next_due,
        )
    })
    .await
    .expect("answered");
    assert_eq!(first_overdue(&desk, &reference).await, false);
    clock.set("2026-12-08T15:00:00Z".parse().expect("valid"));
    assert_eq!(first_overdue(&desk, &reference).await, true);
}

fn replies() -> guichet_core::tickets::saved_replies::SavedReplies {
    guichet_core::tickets::saved_replies::SavedReplies::bundled().expect("bundled")
}

fn saved(groups: &str, team: &str, query: &str, language: &str) -> lambda_http::Request {
    let mut event = event("saved-replies.json", "/saved-replies", groups, team, query);
    event["headers"]["accept-language"] = language.into();
    guichet_edge::testing::request_of(&event)
}

#[tokio::test]
async fn an_agent_reads_their_teams_saved_replies_in_the_language_asked() {
    let desk = desk_with_clock(FixedClock::at("2026-11-26T15:00:00Z"));
    let agent = "[agent team:payments]";
    let response = team_queue::handle(
        &desk,
        &replies(),
        saved(agent, "payments", "language=en", "fr"),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body = body_json(&response);
    assert_eq!(body["team"], "payments");
    assert_eq!(body["language"], "en");
    assert!(body["replies"][0]["body"]
        .as_str()
        .is_some_and(|b| b.starts_with("Hello")));
    // Without `language`, the request's.
    let body = body_json(
        &team_queue::handle(&desk, &replies(), saved(agent, "payments", "", "fr-CA")).await,
    );
    assert_eq!(body["language"], "fr");
    assert!(body["replies"][0]["body"]
        .as_str()
        .is_some_and(|b| b.starts_with("Bonjour")));
    // Another team's are not theirs; a player's never; a bad language is named.
    let other = team_queue::handle(&desk, &replies(), saved(agent, "games", "", "fr")).await;
    assert_eq!(other.status(), StatusCode::FORBIDDEN);
    let player =
        team_queue::handle(&desk, &replies(), saved("[player]", "payments", "", "fr")).await;
    assert_eq!(player.status(), StatusCode::FORBIDDEN);
    let bad = team_queue::handle(
        &desk,
        &replies(),
        saved(agent, "payments", "language=de", "fr"),
    )
    .await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    assert_eq!(body_json(&bad)["field"], "language");
}

//! The handler fed with the sample events in `events/`, over the in-memory stores.

/// The property tests of this function's own parsers, run with its handler's tests (a lib
/// with `test = false` would never run them).
#[path = "handler/properties.rs"]
mod properties;

use guichet_core::incidents::memory::MemoryIncidentStore;
use guichet_core::incidents::rules::IncidentId;
use guichet_core::incidents::service::IncidentConfig;
use guichet_core::incidents::service::{Incidents, ReportOutcome};
use guichet_core::outbox::memory::MemoryQueues;
use guichet_core::outbox::relay::Relay;
use guichet_core::tickets::desk::Desk;
use guichet_core::tickets::memory::{desk, MemoryTicketStore};
use guichet_core::tickets::ports::TicketStore;
use guichet_edge::testing::body_json;
use lambda_http::http::StatusCode;

const NOW: &str = "2026-11-26T15:00:00Z";
const SAMPLE_INCIDENT: &str = "INC-7K2M9Q4XW3BD";
const SAMPLE_REFERENCE: &str = "K7M2Q-9XW45";
const GAMES: &str = "[agent team:games]";

fn rule() -> IncidentConfig {
    IncidentConfig {
        threshold: 3,
        window: jiff::SignedDuration::from_mins(60),
    }
}

/// A player's report of a problem with `game` (games team), not yet recorded as a report.
async fn report(desk: &Desk<MemoryTicketStore>, player: &str, game: &str) -> String {
    guichet_edge::testing::reference_of(
        &guichet_edge::testing::submitted(
            desk,
            player,
            serde_json::json!({
                "channel": "chat", "category": "incident", "subject": "Roulette figée",
                "description": "La roue s'est arrêtée pendant ma mise de 20 $.",
                "incident": {"occurred_at": "2026-11-26T09:40:00-05:00", "game_name": game,
                             "steps_tried": ["Rechargé la page"]}
            }),
            NOW,
        )
        .await,
    )
}

/// Three reports of the same game: one incident, its three tickets linked.
async fn incident(
    desk: &Desk<MemoryTicketStore>,
    incidents: &Incidents<MemoryIncidentStore<'_>>,
) -> (String, Vec<String>) {
    let mut references = Vec::new();
    let mut opened = None;
    for (i, name) in ["Roulette Royale", "roulette  royale", "ROULETTE ROYALE"]
        .iter()
        .enumerate()
    {
        let reference = report(desk, &format!("player-{i}"), name).await;
        let parsed =
            guichet_core::common::reference::TicketReference::parse(&reference).expect("ref");
        let recorded = incidents
            .record_report(desk, &parsed)
            .await
            .expect("recorded");
        if let ReportOutcome::Opened { incident, .. } = recorded.outcome {
            opened = Some(incident);
        }
        references.push(reference);
    }
    let id: IncidentId = opened.expect("the third report opens an incident");
    (id.to_string(), references)
}

/// A sample event aimed at `incident` and `reference`, with the caller's groups and the body
/// swapped in.
fn event(
    name: &str,
    incident: &str,
    reference: &str,
    groups: &str,
    body: Option<serde_json::Value>,
) -> lambda_http::Request {
    guichet_edge::testing::shaped(
        name,
        &[(SAMPLE_INCIDENT, incident), (SAMPLE_REFERENCE, reference)],
        groups,
        body,
    )
}

struct World<'a> {
    desk: &'a Desk<MemoryTicketStore>,
    incidents: Incidents<MemoryIncidentStore<'a>>,
    relay: Relay<&'a MemoryTicketStore, MemoryQueues>,
}

impl<'a> World<'a> {
    fn new(desk: &'a Desk<MemoryTicketStore>) -> Self {
        World {
            desk,
            incidents: Incidents {
                store: MemoryIncidentStore::new(&desk.store),
                config: rule(),
            },
            relay: Relay {
                store: &desk.store,
                queues: MemoryQueues::default(),
            },
        }
    }

    async fn call(&self, request: lambda_http::Request) -> (StatusCode, serde_json::Value) {
        let response = incidents::handle(self.desk, &self.incidents, request).await;
        // What the table's stream then does with what the request wrote to the outbox.
        self.relay.sweep(100).await.expect("relayed");
        (response.status(), body_json(&response))
    }

    fn sent_to(&self, queue: &str) -> usize {
        self.relay
            .queues
            .sent()
            .iter()
            .filter(|(q, _)| q == queue)
            .count()
    }
}

#[tokio::test]
async fn staff_of_the_incidents_team_read_it_with_its_links() {
    let desk = desk(NOW);
    let world = World::new(&desk);
    let (id, references) = incident(&desk, &world.incidents).await;
    let (status, body) = world
        .call(event("incidents-get.json", &id, "", GAMES, None))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["incident"]["id"], id.as_str());
    assert_eq!(body["incident"]["status"], "open");
    assert_eq!(body["incident"]["team"], "games");
    assert_eq!(body["incident"]["subject"]["name"], "roulette royale");
    assert_eq!(body["incident"]["escalation"]["state"], "requested");
    assert_eq!(
        body["incident"]["escalation"]["reference"],
        references[2].as_str()
    );
    assert_eq!(body["links"].as_array().map(Vec::len), Some(3));
    assert_eq!(body["links"][0]["linked_by"]["kind"], "system");
}

#[tokio::test]
async fn players_and_other_teams_are_refused() {
    let desk = desk(NOW);
    let world = World::new(&desk);
    let (id, _) = incident(&desk, &world.incidents).await;
    let (status, body) = world
        .call(event("incidents-get.json", &id, "", "[player]", None))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["required_role"], "agent");
    let (status, body) = world
        .call(event("incidents-status.json", &id, "", "[player]", None))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = world
        .call(event(
            "incidents-get.json",
            &id,
            "",
            "[agent team:payments]",
            None,
        ))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["required_team"], "games");
    let (status, _) = world
        .call(event("incidents-get.json", &id, "", "[supervisor]", None))
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_malformed_id_is_a_400_and_an_unknown_one_a_404() {
    let desk = desk(NOW);
    let world = World::new(&desk);
    let (status, body) = world
        .call(event("incidents-get.json", "INC-nope", "", GAMES, None))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["field"], "incident_id");
    let (status, _) = world
        .call(event(
            "incidents-get.json",
            SAMPLE_INCIDENT,
            "",
            GAMES,
            None,
        ))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn staff_link_and_unlink_a_ticket_by_hand() {
    let desk = desk(NOW);
    let world = World::new(&desk);
    let (id, _) = incident(&desk, &world.incidents).await;
    // Misspelt: the rule did not group it, an agent does.
    let stray = report(&desk, "player-9", "Roulete Royal").await;

    let (status, body) = world
        .call(event("incidents-link.json", &id, &stray, GAMES, None))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["ticket"]["priority"], "urgent");
    assert_eq!(body["ticket"]["version"], 2);
    assert_eq!(body["ticket"]["linked_incident"], id.as_str());
    assert_eq!(body["incident"]["id"], id.as_str());
    let (_, view) = world
        .call(event("incidents-get.json", &id, "", GAMES, None))
        .await;
    assert_eq!(view["links"].as_array().map(Vec::len), Some(4));
    assert_eq!(view["links"][3]["linked_by"]["id"], "agent-0042");
    let (status, _) = world
        .call(event("incidents-link.json", &id, &stray, GAMES, None))
        .await;
    assert_eq!(status, StatusCode::OK, "already linked: nothing changes");

    let (status, body) = world
        .call(event("incidents-unlink.json", &id, &stray, GAMES, None))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["ticket"]["priority"], "normal", "its intake priority");
    assert!(body["ticket"].get("linked_incident").is_none());
    let (_, view) = world
        .call(event("incidents-get.json", &id, "", GAMES, None))
        .await;
    assert_eq!(view["links"].as_array().map(Vec::len), Some(3));
    let (status, _) = world
        .call(event("incidents-unlink.json", &id, &stray, GAMES, None))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "no such link any more");
}

#[tokio::test]
async fn every_bad_link_is_named() {
    let desk = desk(NOW);
    let world = World::new(&desk);
    let (id, _) = incident(&desk, &world.incidents).await;
    let cases = [
        (serde_json::json!({}), "reference", "required"),
        (
            serde_json::json!({"reference": "K7M2Q-9XW4"}),
            "reference",
            "reference",
        ),
        (serde_json::json!({"reference": 12}), "reference", "type"),
        (
            serde_json::json!({"reference": SAMPLE_REFERENCE, "priority": "urgent"}),
            "priority",
            "unknown_field",
        ),
    ];
    for (body, field, rule) in cases {
        let (status, answer) = world
            .call(event(
                "incidents-link.json",
                &id,
                SAMPLE_REFERENCE,
                GAMES,
                Some(body),
            ))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
        assert_eq!(answer["field"], field, "{answer}");
        assert_eq!(answer["rule"], rule, "{answer}");
    }
    // Well-formed but unknown.
    let (status, _) = world
        .call(event(
            "incidents-link.json",
            &id,
            SAMPLE_REFERENCE,
            GAMES,
            None,
        ))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = world
        .call(event(
            "incidents-unlink.json",
            &id,
            "K7M2Q-9XW4",
            GAMES,
            None,
        ))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["field"], "reference");
}

#[tokio::test]
async fn a_status_update_queues_its_fan_out_to_every_linked_player() {
    let desk = desk(NOW);
    let world = World::new(&desk);
    let (id, _) = incident(&desk, &world.incidents).await;
    // The reports' own "received" notifications, relayed before the update.
    world.relay.sweep(100).await.expect("relayed");
    let received = world.sent_to("notifications");
    let (status, body) = world
        .call(event("incidents-status.json", &id, "", GAMES, None))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["incident"]["status"], "monitoring");
    assert_eq!(body["incident"]["version"], 2);
    assert_eq!(
        body["update"]["note"],
        "Correctif 2.3.1 déployé sur la table de roulette."
    );
    // The fan-out's first page, relayed from the outbox; the players hear from
    // incident-updates.
    assert_eq!(world.sent_to("incident-updates"), 1);
    assert_eq!(world.sent_to("notifications"), received);
    let sent = world.relay.queues.sent();
    let pages: Vec<&(String, String)> = sent
        .iter()
        .filter(|(q, _)| q == "incident-updates")
        .collect();
    let page: serde_json::Value = serde_json::from_str(&pages[0].1).expect("json");
    assert_eq!(
        page,
        serde_json::json!({"schema": "guichet.incident-update.v1", "incident_id": id, "seq": 2})
    );
    assert!(
        sent.iter().all(|(_, b)| !b.contains("Correctif")),
        "the note is staff's, never on a queue"
    );

    // The same update again: nothing written, so nothing more to relay.
    let (status, body) = world
        .call(event("incidents-status.json", &id, "", GAMES, None))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["incident"]["version"], 2);
    assert_eq!(world.sent_to("incident-updates"), 1);

    // Another update on the old version is stale.
    let (status, body) = world
        .call(event(
            "incidents-status.json",
            &id,
            "",
            GAMES,
            Some(serde_json::json!({"version": 1, "status": "resolved"})),
        ))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["reason"], "stale");
    let (status, body) = world
        .call(event(
            "incidents-status.json",
            &id,
            "",
            GAMES,
            Some(serde_json::json!({"version": 2, "status": "resolved"})),
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["incident"]["status"], "resolved");
    assert_eq!(
        world.sent_to("incident-updates"),
        2,
        "the resolution's first page"
    );
    // Resolution is final.
    let (status, body) = world
        .call(event(
            "incidents-status.json",
            &id,
            "",
            GAMES,
            Some(serde_json::json!({"version": 3, "status": "open"})),
        ))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["reason"], "wrong_state");
}

#[tokio::test]
async fn every_bad_status_field_is_named() {
    let desk = desk(NOW);
    let world = World::new(&desk);
    let (id, _) = incident(&desk, &world.incidents).await;
    let cases = [
        (
            serde_json::json!({"status": "resolved"}),
            "version",
            "required",
        ),
        (
            serde_json::json!({"version": 0, "status": "resolved"}),
            "version",
            "type",
        ),
        (serde_json::json!({"version": 1}), "status", "required"),
        (
            serde_json::json!({"version": 1, "status": "closed"}),
            "status",
            "one_of",
        ),
        (
            serde_json::json!({"version": 1, "status": "resolved", "note": "x".repeat(1001)}),
            "note",
            "max_length",
        ),
        (
            serde_json::json!({"version": 1, "status": "resolved", "reason": "fixed"}),
            "reason",
            "unknown_field",
        ),
    ];
    for (body, field, rule) in cases {
        let (status, answer) = world
            .call(event("incidents-status.json", &id, "", GAMES, Some(body)))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
        assert_eq!(answer["field"], field, "{answer}");
        assert_eq!(answer["rule"], rule, "{answer}");
    }
}

/// `GET /incidents` with this query (name, value pairs) and the caller's groups.
fn listing(query: &[(&str, &str)], groups: &str) -> lambda_http::Request {
    let mut event = guichet_edge::testing::event_json("incidents-list.json", &[]);
    guichet_edge::testing::set_groups(&mut event, groups);
    event["rawQueryString"] = query
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
        .into();
    event["queryStringParameters"] = query
        .iter()
        .map(|(k, v)| ((*k).to_owned(), serde_json::Value::from(*v)))
        .collect::<serde_json::Map<_, _>>()
        .into();
    guichet_edge::testing::request_of(&event)
}

#[tokio::test]
async fn a_team_lists_its_current_incidents_a_page_at_a_time() {
    let desk = desk(NOW);
    let world = World::new(&desk);
    let (id, _) = incident(&desk, &world.incidents).await;

    let (status, body) = world.call(listing(&[("team", "games")], GAMES)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["team"], "games");
    assert_eq!(body["incidents"][0]["id"], id);
    assert_eq!(body["incidents"][0]["status"], "open");
    assert_eq!(body["next_cursor"], serde_json::Value::Null);

    // The sample event itself (team=games&limit=20) is a valid listing.
    let (status, _) = world
        .call(event("incidents-list.json", "", "", GAMES, None))
        .await;
    assert_eq!(status, StatusCode::OK);

    // Another team's incidents are theirs; players list none.
    let (status, body) = world
        .call(listing(&[("team", "games")], "[agent team:payments]"))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = world.call(listing(&[("team", "payments")], GAMES)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, _) = world.call(listing(&[("team", "games")], "[player]")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // A supervisor reads any team's.
    let (status, body) = world
        .call(listing(&[("team", "games")], "[supervisor]"))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["incidents"].as_array().map(Vec::len), Some(1));
    let (status, body) = world
        .call(listing(&[("team", "payments")], "[supervisor]"))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["incidents"], serde_json::json!([]));

    // Resolved, it is no longer current.
    let (status, body) = world
        .call(event(
            "incidents-status.json",
            &id,
            "",
            GAMES,
            Some(serde_json::json!({"version": 1, "status": "resolved"})),
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, body) = world.call(listing(&[("team", "games")], GAMES)).await;
    assert_eq!(body["incidents"], serde_json::json!([]));
}

#[tokio::test]
async fn every_bad_listing_parameter_is_named() {
    let desk = desk(NOW);
    let world = World::new(&desk);
    for (query, field) in [
        (vec![], "team"),
        (vec![("team", "casino")], "team"),
        (vec![("team", "games"), ("limit", "0")], "limit"),
        (vec![("team", "games"), ("limit", "51")], "limit"),
        (vec![("team", "games"), ("limit", "dix")], "limit"),
        (vec![("team", "games"), ("cursor", "not-ours")], "cursor"),
        (vec![("team", "games"), ("status", "open")], "status"),
    ] {
        let (status, body) = world.call(listing(&query, GAMES)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query:?}: {body}");
        assert_eq!(body["field"], field, "{query:?}: {body}");
    }
}

/// `request` with a JSON content type: the unlink sample (a `DELETE`) has none.
fn json_typed(mut request: lambda_http::Request) -> lambda_http::Request {
    request.headers_mut().insert(
        "content-type",
        lambda_http::http::HeaderValue::from_static("application/json"),
    );
    request
}

/// Reads of tickets and incidents so far: what round trips a DynamoDB store would make.
fn reads(world: &World<'_>) -> (usize, usize) {
    (world.desk.store.reads(), world.incidents.store.reads())
}

#[tokio::test]
async fn actions_sent_with_their_state_tokens_read_nothing() {
    let desk = desk(NOW);
    let world = World::new(&desk);
    let (id, _) = incident(&desk, &world.incidents).await;
    let stray = report(&desk, "player-9", "Roulete Royal").await;
    let (_, view) = world
        .call(event("incidents-get.json", &id, "", GAMES, None))
        .await;
    let ticket = desk
        .store
        .get(&guichet_core::common::reference::TicketReference::parse(&stray).expect("ref"))
        .await
        .expect("read")
        .expect("ticket")
        .ticket;
    let ticket_state = guichet_core::common::seen::token(&ticket).expect("fits");

    let before = reads(&world);
    let body = serde_json::json!({"reference": stray, "state": view["state"],
        "ticket_state": ticket_state});
    let (status, linked) = world
        .call(event("incidents-link.json", &id, &stray, GAMES, Some(body)))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{linked}");
    assert_eq!(linked["ticket"]["priority"], "urgent");
    let body =
        serde_json::json!({"state": linked["state"], "ticket_state": linked["ticket_state"]});
    let (status, unlinked) = world
        .call(json_typed(event(
            "incidents-unlink.json",
            &id,
            &stray,
            GAMES,
            Some(body),
        )))
        .await;
    assert_eq!(status, StatusCode::OK, "{unlinked}");
    assert_eq!(unlinked["ticket"]["priority"], "normal");
    let body = serde_json::json!({"version": 1, "status": "monitoring",
        "state": unlinked["state"]});
    let (status, updated) = world
        .call(event("incidents-status.json", &id, "", GAMES, Some(body)))
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["incident"]["version"], 2);
    assert_eq!(reads(&world), before, "each decided on its tokens");
    // What they wrote is what a read shows.
    let (_, view) = world
        .call(event("incidents-get.json", &id, "", GAMES, None))
        .await;
    assert_eq!(view["links"].as_array().map(Vec::len), Some(3));
    assert_eq!(view["updates"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn a_forged_incident_state_is_answered_from_the_stored_incident() {
    let desk = desk(NOW);
    let world = World::new(&desk);
    let (id, _) = incident(&desk, &world.incidents).await;
    let (_, view) = world
        .call(event("incidents-get.json", &id, "", GAMES, None))
        .await;
    // The technical team's agent claims the incident is theirs.
    let mut claimed: guichet_core::incidents::rules::Incident =
        serde_json::from_value(view["incident"].clone()).expect("incident");
    claimed.team = guichet_core::tickets::ticket::Team::Technical;
    let forged = guichet_core::common::seen::token(&claimed).expect("fits");
    let body = serde_json::json!({"version": 1, "status": "resolved", "state": forged});
    let (status, answer) = world
        .call(event(
            "incidents-status.json",
            &id,
            "",
            "[agent team:technical]",
            Some(body),
        ))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
    assert_eq!(answer["required_team"], "games");
    let (_, after) = world
        .call(event("incidents-get.json", &id, "", GAMES, None))
        .await;
    assert_eq!(after["incident"]["status"], "open");
    assert_eq!(after["incident"]["version"], 1);
}

//! The router fed with the sample SQS event in `events/`, over the in-memory store and queues.

/// The property tests of this function's own parsers, run with its handler's tests (a lib
/// with `test = false` would never run them).
#[path = "handler/properties.rs"]
mod properties;

use aws_lambda_events::event::sqs::SqsEvent;
use guichet_core::common::player::PlayerId;
use guichet_core::common::reference::TicketReference;
use guichet_core::escalation::rules::{EscalationAsk, EscalationState};
use guichet_core::outbox::memory::relay;
use guichet_core::tickets::desk::{Desk, Submitted};
use guichet_core::tickets::memory::{desk, MemoryTicketStore};
use guichet_core::tickets::ports::TicketStore;
use guichet_core::tickets::ticket::{Team, TicketStatus};
use guichet_core::tickets::workflow::ReasonCode;
use guichet_edge::http::parse_groups;

const NOW: &str = "2026-11-26T15:00:00Z";

fn sample(body: &str) -> SqsEvent {
    let mut event = guichet_edge::testing::sqs_event("sqs-escalation-request.json");
    event.records[0].body = Some(body.to_owned());
    event
}

/// A technical ticket escalated to games by a supervisor: returns its reference and the
/// escalation request the outbox carries.
async fn escalated(desk: &Desk<MemoryTicketStore>) -> (TicketReference, String) {
    let Submitted::Created(receipt, _) = guichet_edge::testing::submitted(desk, "player-7f3a9c", serde_json::json!({"channel":"form","category":"technical","subject":"Roulette figée","description":"La roue ne tourne plus depuis ce matin."}), NOW).await
    else {
        panic!("created");
    };
    let supervisor = guichet_core::common::access::Actor {
        subject: PlayerId::parse("sup-1").expect("id"),
        roles: parse_groups("[supervisor]"),
        teams: vec![],
        email: None,
    };
    let applied = desk
        .escalate(
            &supervisor,
            &receipt.reference,
            1,
            None,
            EscalationAsk {
                to_team: Team::Games,
                reason: ReasonCode::parse("reason", "needs_game_logs").expect("valid"),
                note: None,
            },
        )
        .await
        .expect("escalated");
    let request = applied
        .outbox
        .iter()
        .find(|m| m.destination.as_str() == "escalations")
        .expect("an escalation request")
        .body
        .clone();
    (receipt.reference, request)
}

#[tokio::test]
async fn a_request_reaches_the_team_moves_the_ticket_and_tells_the_player_once() {
    let desk = desk(NOW);
    let (reference, request) = escalated(&desk).await;
    let relay = relay(&desk);
    let response = route_escalations::handle(&desk, &relay, sample(&request)).await;
    assert!(response.batch_item_failures.is_empty());
    let sent = relay.queues.sent();
    let queues: Vec<&str> = sent.iter().map(|(q, _)| q.as_str()).collect();
    assert_eq!(queues, ["team:games"]);
    let message: serde_json::Value = serde_json::from_str(&sent[0].1).expect("json");
    assert_eq!(message["schema"], "guichet.escalation.v1");
    assert_eq!(message["ticket"]["reference"], reference.to_string());
    // The player's notification was written with the routing, for the table's stream.
    let outbox = desk.store.outbox();
    let written = outbox.last().expect("the routing's notification");
    assert_eq!(written.destination.as_str(), "notifications");
    let notification: serde_json::Value = serde_json::from_str(&written.body).expect("json");
    assert_eq!(notification["kind"], "escalated");

    let stored = desk
        .store
        .get(&reference)
        .await
        .expect("read")
        .expect("found");
    assert_eq!(stored.ticket.team, Team::Games);
    // The message names the notification stored with the ticket, in the ticket's language.
    let told = stored
        .notifications
        .iter()
        .find(|n| n.id.to_string() == notification["notification_id"])
        .expect("the notification the message names is stored");
    assert!(told.body.contains("jeux"), "{}", told.body);
    assert_eq!(stored.ticket.status, TicketStatus::Escalated);
    assert_eq!(stored.escalations[0].state, EscalationState::Routed);
    assert_eq!(
        stored.history.last().map(|h| h.reason.as_str()),
        Some("routed_to_games")
    );
    assert_eq!(stored.notifications.len(), 2, "received, escalated");

    // A duplicate delivery sends nothing and changes nothing.
    let again = route_escalations::handle(&desk, &relay, sample(&request)).await;
    assert!(again.batch_item_failures.is_empty());
    assert_eq!(relay.queues.sent().len(), 1);
    assert_eq!(desk.store.outbox().len(), outbox.len());
    let after = desk
        .store
        .get(&reference)
        .await
        .expect("read")
        .expect("found");
    assert_eq!(after.ticket.version, stored.ticket.version);
}

#[tokio::test]
async fn a_poison_message_fails_alone_and_a_team_queue_outage_is_retried() {
    let desk = desk(NOW);
    let (reference, request) = escalated(&desk).await;
    let relay = relay(&desk);
    for poison in [
        "not json",
        r#"{"schema":"guichet.escalation-request.v9","escalation_id":"0f1e2d3c4b5a69788796a5b4c3d2e1f0","reference":"K7M2Q-9XW45"}"#,
        r#"{"schema":"guichet.escalation-request.v1","escalation_id":"0f1e2d3c4b5a69788796a5b4c3d2e1f0","reference":"K7M2Q-9XW45"}"#,
    ] {
        let response = route_escalations::handle(&desk, &relay, sample(poison)).await;
        assert_eq!(response.batch_item_failures.len(), 1, "{poison}");
    }
    relay
        .queues
        .failing
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let failed = route_escalations::handle(&desk, &relay, sample(&request)).await;
    assert_eq!(failed.batch_item_failures.len(), 1, "retried by SQS");
    let stored = desk
        .store
        .get(&reference)
        .await
        .expect("read")
        .expect("found");
    assert_eq!(stored.escalations[0].state, EscalationState::Requested);
    assert_eq!(stored.ticket.team, Team::Technical);
    relay
        .queues
        .failing
        .store(false, std::sync::atomic::Ordering::SeqCst);
    let retried = route_escalations::handle(&desk, &relay, sample(&request)).await;
    assert!(retried.batch_item_failures.is_empty());
    let stored = desk
        .store
        .get(&reference)
        .await
        .expect("read")
        .expect("found");
    assert_eq!(stored.escalations[0].state, EscalationState::Routed);
}

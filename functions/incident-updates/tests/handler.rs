//! The fan-out fed with the sample SQS event in `events/`, over the in-memory stores and queues.

/// The property tests of this function's own parsers, run with its handler's tests (a lib
/// with `test = false` would never run them).
#[path = "handler/properties.rs"]
mod properties;

use aws_lambda_events::event::sqs::SqsEvent;
use guichet_core::common::access::Actor;
use guichet_core::common::player::PlayerId;
use guichet_core::common::reference::TicketReference;
use guichet_core::incidents::memory::MemoryIncidentStore;
use guichet_core::incidents::rules::{IncidentId, IncidentStatus};
use guichet_core::incidents::service::IncidentConfig;
use guichet_core::incidents::service::{Incidents, ReportOutcome};
use guichet_core::notifications::rules::NotificationKind;
use guichet_core::outbox::memory::relay;
use guichet_core::tickets::desk::{Desk, Submitted};
use guichet_core::tickets::memory::{desk, MemoryTicketStore};
use guichet_edge::http::parse_groups;
use guichet_edge::testing::failed_ids;
use std::sync::atomic::Ordering;

const NOW: &str = "2026-11-26T15:00:00Z";

/// The sample event with these bodies, one record each (ids `m0`, `m1`, …).
fn batch(bodies: &[&str]) -> SqsEvent {
    let sample = guichet_edge::testing::sqs_event("sqs-incident-update.json").records;
    let records = bodies
        .iter()
        .enumerate()
        .map(|(i, body)| {
            let mut record = sample[0].clone();
            record.message_id = Some(format!("m{i}"));
            record.body = Some((*body).to_owned());
            record
        })
        .collect();
    guichet_edge::testing::sqs_batch("sqs-incident-update.json", records)
}

/// Three players report the same game: one incident, three tickets linked, and a supervisor's
/// status update on it. Returns the incident, the tickets and the first page's body.
async fn updated_incident(
    desk: &Desk<MemoryTicketStore>,
    incidents: &Incidents<MemoryIncidentStore<'_>>,
) -> (IncidentId, Vec<TicketReference>, String) {
    let mut references = Vec::new();
    let mut opened = None;
    for i in 0..3 {
        let Submitted::Created(receipt, _) = guichet_edge::testing::submitted(
            desk,
            &format!("player-{i}"),
            serde_json::json!({
                "channel": "chat", "category": "incident", "subject": "Roulette figée",
                "description": "La roue s'est arrêtée pendant ma mise.",
                "incident": {"occurred_at": "2026-11-26T09:40:00-05:00",
                             "game_name": "Roulette Royale", "steps_tried": ["Rechargé la page"]}
            }),
            NOW,
        )
        .await
        else {
            panic!("created");
        };
        let recorded = incidents
            .record_report(desk, &receipt.reference)
            .await
            .expect("recorded");
        if let ReportOutcome::Opened { incident, .. } = recorded.outcome {
            opened = Some(incident);
        }
        references.push(receipt.reference);
    }
    let id = opened.expect("the third report opens an incident");
    let supervisor = Actor {
        subject: PlayerId::parse("sup-1").expect("id"),
        roles: parse_groups("[supervisor]"),
        teams: vec![],
        email: None,
    };
    let updated = incidents
        .update_status(
            desk,
            &supervisor,
            &id,
            1,
            IncidentStatus::Monitoring,
            Some("Correctif déployé".to_owned()),
            None,
        )
        .await
        .expect("updated");
    (id, references, updated.outbox[0].body.clone())
}

fn incidents(desk: &Desk<MemoryTicketStore>) -> Incidents<MemoryIncidentStore<'_>> {
    Incidents {
        store: MemoryIncidentStore::new(&desk.store),
        config: IncidentConfig {
            threshold: 3,
            window: jiff::SignedDuration::from_mins(60),
        },
    }
}

/// How many of `references` have been told of the incident's update.
fn told(desk: &Desk<MemoryTicketStore>, references: &[TicketReference]) -> usize {
    desk.store
        .count_notifications(references, NotificationKind::IncidentUpdate)
}

#[tokio::test]
async fn each_page_tells_its_players_and_queues_the_next() {
    let desk = desk(NOW);
    let incidents = incidents(&desk);
    let relay = relay(&desk);
    let (_, references, first) = updated_incident(&desk, &incidents).await;
    // The page's notifications are written with each change, for the table's stream to relay.
    let notifications = |desk: &Desk<MemoryTicketStore>| {
        desk.store
            .outbox()
            .iter()
            .filter(|m| m.destination.as_str() == "notifications")
            .count()
    };
    let before = notifications(&desk);

    let response =
        incident_updates::handle(&desk, &incidents, &relay, 2, batch(&[first.as_str()])).await;
    assert!(failed_ids(&response).is_empty());
    assert_eq!(told(&desk, &references), 2);
    assert_eq!(
        notifications(&desk),
        before + 2,
        "the page's notifications are in the outbox"
    );
    let sent = relay.queues.sent();
    let next: Vec<&String> = sent
        .iter()
        .filter(|(q, _)| q == "incident-updates")
        .map(|(_, b)| b)
        .collect();
    assert_eq!(next.len(), 1, "{sent:?}");
    let page: serde_json::Value = serde_json::from_str(next[0]).expect("json");
    let mut sorted = references.clone();
    sorted.sort();
    assert_eq!(page["after"], sorted[1].to_string());
    assert!(sent.iter().all(|(_, b)| !b.contains("Correctif")));

    let response =
        incident_updates::handle(&desk, &incidents, &relay, 2, batch(&[next[0].as_str()])).await;
    assert!(failed_ids(&response).is_empty());
    assert_eq!(told(&desk, &references), 3);
    let after = relay.queues.sent();
    assert_eq!(after.len(), sent.len(), "no further page");
    assert_eq!(notifications(&desk), before + 3, "one more notification");

    // The first page delivered again: nobody is told twice.
    let response =
        incident_updates::handle(&desk, &incidents, &relay, 2, batch(&[first.as_str()])).await;
    assert!(failed_ids(&response).is_empty());
    assert_eq!(told(&desk, &references), 3);
    assert_eq!(notifications(&desk), before + 3);
}

#[tokio::test]
async fn bad_pages_fail_alone_and_the_good_one_is_done() {
    let desk = desk(NOW);
    let incidents = incidents(&desk);
    let relay = relay(&desk);
    let (id, references, first) = updated_incident(&desk, &incidents).await;
    let unknown_update = serde_json::json!({
        "schema": "guichet.incident-update.v1", "incident_id": id, "seq": 9
    })
    .to_string();
    let unknown_schema = first.replace("incident-update.v1", "incident-update.v9");
    let response = incident_updates::handle(
        &desk,
        &incidents,
        &relay,
        25,
        batch(&["not json", &unknown_schema, first.as_str(), &unknown_update]),
    )
    .await;
    assert_eq!(failed_ids(&response), vec!["m0", "m1", "m3"]);
    assert_eq!(told(&desk, &references), 3);
}

#[tokio::test]
async fn a_next_page_that_cannot_be_queued_fails_the_page_and_its_retry_tells_nobody_twice() {
    let desk = desk(NOW);
    let incidents = incidents(&desk);
    let relay = relay(&desk);
    let (_, references, first) = updated_incident(&desk, &incidents).await;

    relay.queues.failing.store(true, Ordering::SeqCst);
    let response =
        incident_updates::handle(&desk, &incidents, &relay, 2, batch(&[first.as_str()])).await;
    assert_eq!(
        failed_ids(&response),
        vec!["m0"],
        "SQS will hand the page out again"
    );
    // The page's tickets were told (their notifications wait in the outbox for the sweep).
    assert_eq!(told(&desk, &references), 2);
    assert!(relay.queues.sent().is_empty());

    relay.queues.failing.store(false, Ordering::SeqCst);
    let response =
        incident_updates::handle(&desk, &incidents, &relay, 2, batch(&[first.as_str()])).await;
    assert!(failed_ids(&response).is_empty());
    assert_eq!(told(&desk, &references), 2, "nobody told twice");
    let sent = relay.queues.sent();
    assert_eq!(
        sent.iter().filter(|(q, _)| q == "incident-updates").count(),
        1,
        "{sent:?}"
    );
}

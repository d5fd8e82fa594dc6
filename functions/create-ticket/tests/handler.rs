//! The handler fed with the sample events in `events/`, over the in-memory store.

use guichet_core::outbox::memory::relay;
use guichet_core::tickets::memory::desk;
use guichet_edge::testing::{body_json, event};
use lambda_http::http::{HeaderValue, StatusCode};
use lambda_http::Body;

const NOW: &str = "2026-11-26T15:00:00Z";

/// Incident grouping over the desk's in-memory tickets: three reports within an hour.
fn incidents(
    desk: &guichet_core::tickets::desk::Desk<guichet_core::tickets::memory::MemoryTicketStore>,
) -> guichet_core::incidents::service::Incidents<
    guichet_core::incidents::memory::MemoryIncidentStore<'_>,
> {
    guichet_core::incidents::service::Incidents {
        store: guichet_core::incidents::memory::MemoryIncidentStore::new(&desk.store),
        config: guichet_core::incidents::service::IncidentConfig {
            threshold: 3,
            window: jiff::SignedDuration::from_mins(60),
        },
    }
}

#[tokio::test]
async fn an_account_report_becomes_an_urgent_security_ticket_escalated_at_once() {
    let desk = desk(NOW);
    let response =
        create_ticket::handle(&desk, &incidents(&desk), event("create-ticket.json")).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body = body_json(&response);
    // The rules escalate account security at intake: the request and the player's
    // "received" notification were written with the ticket, in its outbox, for the table's
    // stream to relay (nothing is sent on the request's path).
    assert_eq!(body["status"], "escalated");
    let written = desk.store.outbox();
    assert_eq!(
        written
            .iter()
            .map(|m| m.destination.as_str())
            .collect::<Vec<_>>(),
        ["escalations", "notifications"]
    );
    let notification: serde_json::Value = serde_json::from_str(&written[1].body).expect("json");
    assert_eq!(notification["schema"], "guichet.notification.v2");
    assert_eq!(notification["kind"], "received");
    // It names the notification stored with the ticket: no text, no address on the queue.
    for text in ["language", "subject", "body"] {
        assert!(notification.get(text).is_none(), "{notification}");
    }
    assert!(!written[1].body.contains('@'), "no address on the queue");
    assert_eq!(body["priority"], "urgent");
    assert_eq!(body["team"], "security");
    assert_eq!(body["language"], "fr");
    assert_eq!(body["response_target"]["within"]["business_days"], 1);
    let reference = body["reference"].as_str().expect("reference");
    assert!(body["acknowledgement"]
        .as_str()
        .expect("text")
        .contains(reference));
    assert_eq!(
        response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok()),
        Some(format!("/tickets/{reference}").as_str())
    );
    assert_eq!(desk.store.ticket_count(), 1);
}

#[tokio::test]
async fn a_retry_with_the_same_key_returns_the_same_ticket() {
    let desk = desk(NOW);
    let first = create_ticket::handle(&desk, &incidents(&desk), event("create-ticket.json")).await;
    let second = create_ticket::handle(&desk, &incidents(&desk), event("create-ticket.json")).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    assert_eq!(second.status(), StatusCode::OK);
    assert_eq!(body_json(&first), body_json(&second));
    assert_eq!(desk.store.ticket_count(), 1);
    // A replay notifies nobody a second time.
    assert_eq!(desk.store.outbox().len(), 2);
}

#[tokio::test]
async fn the_same_key_with_another_body_is_refused() {
    let desk = desk(NOW);
    create_ticket::handle(&desk, &incidents(&desk), event("create-ticket.json")).await;
    let mut changed = event("create-ticket.json");
    *changed.body_mut() = Body::Text(
        r#"{"channel":"form","category":"technical","subject":"Autre chose","description":"Une tout autre demande."}"#
            .to_owned(),
    );
    let response = create_ticket::handle(&desk, &incidents(&desk), changed).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body_json(&response)["field"], "Idempotency-Key");
    assert_eq!(desk.store.ticket_count(), 1);
}

#[tokio::test]
async fn an_incident_in_chat_is_routed_by_what_it_names() {
    let desk = desk(NOW);
    let response = create_ticket::handle(
        &desk,
        &incidents(&desk),
        event("create-ticket-incident.json"),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body = body_json(&response);
    assert_eq!(body["team"], "games");
    assert_eq!(body["priority"], "high");
    assert_eq!(body["response_target"]["within"]["minutes"], 5);
    // French from Accept-Language, since the body names no language.
    assert_eq!(body["language"], "fr");
}

#[tokio::test]
async fn an_incident_naming_only_a_payment_system_goes_to_payments() {
    use guichet_core::incidents::ports::IncidentStore;
    let desk = desk(NOW);
    let incidents = incidents(&desk);
    let response = create_ticket::handle(
        &desk,
        &incidents,
        event("create-ticket-incident-payment.json"),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body = body_json(&response);
    assert_eq!(body["team"], "payments");
    assert_eq!(body["priority"], "high", "like a transaction-only incident");
    assert_eq!(body["response_target"]["within"]["minutes"], 5);
    // The report counts towards an incident of its payment system, however typed.
    let subject =
        guichet_core::incidents::rules::Subject::from_report(None, Some("INTERAC E-TRANSFER"))
            .expect("named");
    let reports = incidents
        .store
        .reports_since(&subject, jiff::Timestamp::UNIX_EPOCH)
        .await
        .expect("readable");
    assert_eq!(reports.len(), 1);
    assert_eq!(body["reference"], reports[0].reference.to_string());
}

#[tokio::test]
async fn an_invalid_field_is_named_and_nothing_is_written() {
    let desk = desk(NOW);
    let response = create_ticket::handle(
        &desk,
        &incidents(&desk),
        event("create-ticket-invalid.json"),
    )
    .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body = body_json(&response);
    assert_eq!(body["error"], "validation_failed");
    assert_eq!(body["field"], "channel");
    assert_eq!(body["rule"], "one_of");
    assert_eq!(desk.store.ticket_count(), 0);
}

#[tokio::test]
async fn staff_cannot_open_tickets_as_players() {
    let desk = desk(NOW);
    let response =
        create_ticket::handle(&desk, &incidents(&desk), event("create-ticket-staff.json")).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(body_json(&response)["required_role"], "player");
}

#[tokio::test]
async fn no_claims_is_unauthenticated() {
    let desk = desk(NOW);
    let mut request = event("no-authorizer.json");
    *request.method_mut() = lambda_http::http::Method::POST;
    let response = create_ticket::handle(&desk, &incidents(&desk), request).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn media_type_size_and_key_are_checked() {
    let desk = desk(NOW);

    let mut plain = event("create-ticket.json");
    plain
        .headers_mut()
        .insert("content-type", HeaderValue::from_static("text/plain"));
    let response = create_ticket::handle(&desk, &incidents(&desk), plain).await;
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(body_json(&response)["field"], "Content-Type");

    let mut huge = event("create-ticket.json");
    *huge.body_mut() = Body::Text(format!(
        r#"{{"channel":"form","category":"technical","subject":"x","description":"{}"}}"#,
        "a".repeat(guichet_edge::http::MAX_BODY_BYTES)
    ));
    let response = create_ticket::handle(&desk, &incidents(&desk), huge).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(body_json(&response)["rule"], "max_bytes");

    let mut bad_key = event("create-ticket.json");
    bad_key
        .headers_mut()
        .insert("idempotency-key", HeaderValue::from_static("no"));
    let response = create_ticket::handle(&desk, &incidents(&desk), bad_key).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(body_json(&response)["field"], "Idempotency-Key");

    let mut broken = event("create-ticket.json");
    *broken.body_mut() = Body::Text("{\"channel\":".to_owned());
    let response = create_ticket::handle(&desk, &incidents(&desk), broken).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(body_json(&response)["field"], "body");

    // serde_json alone would keep the last `channel` and open a ticket.
    let mut twice = event("create-ticket.json");
    *twice.body_mut() = Body::Text(
        r#"{"channel":"zzz","channel":"form","category":"technical","subject":"Connexion","description":"Impossible de me connecter."}"#
            .to_owned(),
    );
    let response = create_ticket::handle(&desk, &incidents(&desk), twice).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(body_json(&response)["field"], "channel");
    assert_eq!(body_json(&response)["rule"], "duplicate_key");

    assert_eq!(desk.store.ticket_count(), 0);
}

#[tokio::test]
async fn a_verification_ticket_links_to_the_open_case_and_others_do_not() {
    let desk = desk(NOW);
    let case = guichet_core::verification::rules::CaseId::generate().expect("random");
    let player = guichet_core::common::player::PlayerId::parse("player-7f3a9c").expect("id");
    desk.store.link_open_case(&player, case.clone());

    let mut verification = event("create-ticket.json");
    *verification.body_mut() = Body::Text(
        r#"{"channel":"form","category":"verification","subject":"Mes documents","description":"J'ai envoyé mon relevé hier soir."}"#
            .to_owned(),
    );
    verification.headers_mut().remove("idempotency-key");
    let response = create_ticket::handle(&desk, &incidents(&desk), verification).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let reference = body_json(&response)["reference"]
        .as_str()
        .expect("reference")
        .to_owned();
    let parsed =
        guichet_core::common::reference::TicketReference::parse(&reference).expect("valid");
    let stored = desk
        .ticket_of(&player, &parsed)
        .await
        .expect("read")
        .expect("present");
    assert_eq!(stored.ticket.verification_case, Some(case));

    let response =
        create_ticket::handle(&desk, &incidents(&desk), event("create-ticket.json")).await;
    let reference = body_json(&response)["reference"]
        .as_str()
        .expect("reference")
        .to_owned();
    let parsed =
        guichet_core::common::reference::TicketReference::parse(&reference).expect("valid");
    let stored = desk
        .ticket_of(&player, &parsed)
        .await
        .expect("read")
        .expect("present");
    assert_eq!(
        stored.ticket.verification_case, None,
        "an account ticket links nothing"
    );
}

#[tokio::test]
async fn the_outbox_is_relayed_off_the_request_path_and_a_queue_outage_loses_nothing() {
    let desk = desk(NOW);
    let relay = relay(&desk);
    relay
        .queues
        .failing
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let response =
        create_ticket::handle(&desk, &incidents(&desk), event("create-ticket.json")).await;
    assert_eq!(
        response.status(),
        StatusCode::CREATED,
        "the ticket is stored"
    );
    assert!(
        relay.queues.sent().is_empty(),
        "nothing sent on the request's path"
    );
    assert_eq!(desk.store.outbox().len(), 2, "kept for the relay");
    // The queues are down: the relay keeps them.
    let swept = relay.sweep(10).await.expect("sweep");
    assert_eq!((swept.sent, swept.kept), (0, 2));
    relay
        .queues
        .failing
        .store(false, std::sync::atomic::Ordering::SeqCst);
    let swept = relay.sweep(10).await.expect("sweep");
    assert_eq!((swept.sent, swept.kept), (2, 0));
    assert!(desk.store.outbox().is_empty());
}

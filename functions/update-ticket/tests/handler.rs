//! The handler fed with the sample events in `events/`, over the in-memory store.

/// The property tests of this function's own parsers, run with its handler's tests (a lib
/// with `test = false` would never run them).
#[path = "handler/properties.rs"]
mod properties;

use guichet_core::tickets::desk::{Desk, Submitted};
use guichet_core::tickets::memory::{desk, MemoryTicketStore};
use guichet_core::tickets::ports::TicketStore;
use guichet_edge::testing::body_json;
use lambda_http::http::StatusCode;

const NOW: &str = "2026-11-26T15:00:00Z";
const SAMPLE_REFERENCE: &str = "K7M2Q-9XW45";

/// A transaction ticket (payments team) from `player-7f3a9c`.
async fn submit(desk: &Desk<MemoryTicketStore>) -> String {
    guichet_edge::testing::reference_of(&guichet_edge::testing::submitted(desk, "player-7f3a9c", serde_json::json!({"channel":"email","category":"transaction","subject":"Dépôt manquant","description":"Mon dépôt de 50 $ n'apparaît pas."}), NOW).await)
}

/// A sample event aimed at `reference`, with the caller's groups and the body swapped in.
fn event(
    name: &str,
    reference: &str,
    groups: &str,
    body: Option<serde_json::Value>,
) -> lambda_http::Request {
    guichet_edge::testing::shaped(name, &[(SAMPLE_REFERENCE, reference)], groups, body)
}

const AGENT: &str = "[agent team:payments]";

async fn call(
    desk: &Desk<MemoryTicketStore>,
    name: &str,
    reference: &str,
    groups: &str,
    body: Option<serde_json::Value>,
) -> (StatusCode, serde_json::Value) {
    let response = update_ticket::handle(desk, event(name, reference, groups, body)).await;
    (response.status(), body_json(&response))
}

#[tokio::test]
async fn an_agent_takes_answers_and_resolves_a_ticket_of_their_team() {
    let desk = desk(NOW);
    let reference = submit(&desk).await;
    let (status, body) = call(&desk, "update-ticket-take.json", &reference, AGENT, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["assignee"], "agent-0042");
    assert_eq!(body["version"], 2);
    let (status, body) = call(&desk, "update-ticket-reply.json", &reference, AGENT, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["version"], 3);
    assert_eq!(body["message"]["author"]["id"], "agent-0042");
    let (status, body) = call(&desk, "update-ticket-status.json", &reference, AGENT, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "resolved");
    assert_eq!(body["history"][0]["reason"], "deposit_credited");

    let stored = desk
        .store
        .get(
            &guichet_core::common::reference::TicketReference::parse(&reference)
                .expect("reference"),
        )
        .await
        .expect("read")
        .expect("found");
    assert_eq!(stored.messages.len(), 1);
    assert_eq!(stored.history.len(), 3, "received, taken, resolved");
    assert_eq!(stored.ticket.version, 4);
}

#[tokio::test]
async fn a_stale_version_and_an_impossible_move_are_conflicts() {
    let desk = desk(NOW);
    let reference = submit(&desk).await;
    // The reply sample carries version 2; the ticket is at 1.
    let (status, body) = call(&desk, "update-ticket-reply.json", &reference, AGENT, None).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["reason"], "stale");
    let (status, body) = call(
        &desk,
        "update-ticket-status.json",
        &reference,
        AGENT,
        Some(serde_json::json!({"version": 1, "status": "closed"})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["reason"], "wrong_state");
}

#[tokio::test]
async fn only_staff_of_the_tickets_team_may_act() {
    let desk = desk(NOW);
    let reference = submit(&desk).await;
    let (status, body) = call(
        &desk,
        "update-ticket-take.json",
        &reference,
        "[player]",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["required_role"], "agent");
    let (status, body) = call(
        &desk,
        "update-ticket-take.json",
        &reference,
        "[agent team:games]",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["required_team"], "payments");
    let (status, _) = call(
        &desk,
        "update-ticket-take.json",
        &reference,
        "[supervisor]",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn every_bad_field_is_named() {
    let desk = desk(NOW);
    let reference = submit(&desk).await;
    let cases = [
        (
            "update-ticket-take.json",
            serde_json::json!({}),
            "version",
            "required",
        ),
        (
            "update-ticket-take.json",
            serde_json::json!({"version": "1"}),
            "version",
            "type",
        ),
        (
            "update-ticket-take.json",
            serde_json::json!({"version": 1, "extra": 1}),
            "extra",
            "unknown_field",
        ),
        (
            "update-ticket-reply.json",
            serde_json::json!({"version": 1, "body": "  "}),
            "body",
            "required",
        ),
        (
            "update-ticket-reply.json",
            serde_json::json!({"version": 1, "body": "x".repeat(5001)}),
            "body",
            "max_length",
        ),
        (
            "update-ticket-reply.json",
            serde_json::json!({"version": 1, "body": "a\u{1b}b"}),
            "body",
            "printable_text",
        ),
        (
            "update-ticket-reply.json",
            serde_json::json!({"version": 1, "body": "Remboursé \u{202E}00,05 $"}),
            "body",
            "invisible_character",
        ),
        (
            "update-ticket-status.json",
            serde_json::json!({"version": 1}),
            "status",
            "required",
        ),
        (
            "update-ticket-status.json",
            serde_json::json!({"version": 1, "status": "done"}),
            "status",
            "one_of",
        ),
        (
            "update-ticket-status.json",
            serde_json::json!({"version": 1, "status": "resolved", "reason": "Because!"}),
            "reason",
            "identifier",
        ),
    ];
    for (name, body, field, rule) in cases {
        let (status, answer) = call(&desk, name, &reference, AGENT, Some(body.clone())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
        assert_eq!(answer["field"], field, "{body}: {answer}");
        assert_eq!(answer["rule"], rule, "{body}: {answer}");
    }
    let (status, _) = call(&desk, "update-ticket-take.json", "K7M2Q-9XW46", AGENT, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = call(
        &desk,
        "update-ticket-take.json",
        SAMPLE_REFERENCE,
        AGENT,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_escalation_is_accepted_and_leaves_in_the_outbox_with_the_change() {
    let desk = desk(NOW);
    let reference = submit(&desk).await;
    // What the change writes to the outbox, for the table's stream to relay.
    let before = desk.store.outbox().len();
    let response = update_ticket::handle(
        &desk,
        event("update-ticket-escalate.json", &reference, AGENT, None),
    )
    .await;
    let body = body_json(&response);
    assert_eq!(response.status(), StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["status"], "escalated");
    assert_eq!(body["team"], "payments", "moves when routed");
    assert_eq!(body["escalation"]["to_team"], "payments");
    assert_eq!(body["escalation"]["state"], "requested");
    let written = desk.store.outbox()[before..].to_vec();
    assert_eq!(written.len(), 1, "{written:?}");
    assert_eq!(
        written[0].destination,
        guichet_core::outbox::rules::Destination::Escalations
    );
    let request: serde_json::Value = serde_json::from_str(&written[0].body).expect("json");
    assert_eq!(request["schema"], "guichet.escalation-request.v1");
    assert_eq!(request["escalation_id"], body["escalation"]["id"]);

    // The same request again: the version moved on, so it is a conflict, not a second one.
    let again = update_ticket::handle(
        &desk,
        event("update-ticket-escalate.json", &reference, AGENT, None),
    )
    .await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    assert_eq!(desk.store.outbox().len(), before + 1);
}

#[tokio::test]
async fn escalation_needs_a_specialist_team_and_a_reason() {
    let desk = desk(NOW);
    let reference = submit(&desk).await;
    for (body, field, rule) in [
        (
            serde_json::json!({"version": 1, "reason": "x"}),
            "team",
            "required",
        ),
        (
            serde_json::json!({"version": 1, "team": "verification", "reason": "x"}),
            "team",
            "one_of",
        ),
        (
            serde_json::json!({"version": 1, "team": "games"}),
            "reason",
            "required",
        ),
        (
            serde_json::json!({"version": 1, "team": "games", "reason": "x", "note": "a\u{7}"}),
            "note",
            "printable_text",
        ),
        (
            serde_json::json!({"version": 1, "team": "games", "reason": "x", "note": "n".repeat(1001)}),
            "note",
            "max_length",
        ),
    ] {
        let (status, answer) = call(
            &desk,
            "update-ticket-escalate.json",
            &reference,
            AGENT,
            Some(body),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
        assert_eq!(answer["field"], field, "{answer}");
        assert_eq!(answer["rule"], rule, "{answer}");
    }
    // `escalated` is not a plain status change: it needs a team.
    let (status, answer) = call(
        &desk,
        "update-ticket-status.json",
        &reference,
        AGENT,
        Some(serde_json::json!({"version": 1, "status": "escalated"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert_eq!(answer["field"], "status");
    // Players cannot escalate.
    let (status, _) = call(
        &desk,
        "update-ticket-escalate.json",
        &reference,
        "[player]",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_player_answers_and_the_ticket_waiting_on_them_is_back_in_work() {
    let desk = desk(NOW);
    let reference = submit(&desk).await;
    let (status, _) = call(
        &desk,
        "update-ticket-status.json",
        &reference,
        AGENT,
        Some(serde_json::json!({"version": 1, "status": "waiting_on_player"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let before = desk.store.outbox().len();
    let response = update_ticket::handle(
        &desk,
        event(
            "update-ticket-player-message.json",
            &reference,
            "[player]",
            None,
        ),
    )
    .await;
    let body = body_json(&response);
    assert_eq!(response.status(), StatusCode::CREATED, "{body}");
    assert_eq!(body["status"], "open");
    assert_eq!(body["history"][0]["reason"], "player_answered");
    assert_eq!(body["message"]["author"]["kind"], "player");
    assert_eq!(
        desk.store.outbox().len(),
        before,
        "the player is not notified of their own answer"
    );

    // Another player's ticket is unknown to this one; staff answer through `replies`.
    let request = guichet_core::tickets::intake::TicketRequest::parse(
        &serde_json::json!({"channel":"email","category":"technical","subject":"Autre","description":"La demande d'un autre joueur."}),
        None,
        NOW.parse().expect("valid"),
    )
    .expect("valid request");
    let other = guichet_core::common::player::PlayerId::parse("player-other").expect("id");
    let Submitted::Created(theirs, _) = desk
        .submit(other, request, None, None)
        .await
        .expect("stored")
    else {
        panic!("created");
    };
    let (status, answer) = call(
        &desk,
        "update-ticket-player-message.json",
        &theirs.reference.to_string(),
        "[player]",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");
    let (status, answer) = call(
        &desk,
        "update-ticket-player-message.json",
        &reference,
        AGENT,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
    let (status, answer) = call(
        &desk,
        "update-ticket-player-message.json",
        &reference,
        "[player]",
        Some(serde_json::json!({"body": " ", "version": 1})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert_eq!(answer["field"], "version", "{answer}");
}

#[tokio::test]
async fn a_body_naming_a_key_twice_is_refused_and_changes_nothing() {
    let desk = desk(NOW);
    let reference = submit(&desk).await;
    // serde_json alone would keep the last `version` and take the ticket.
    let mut request = event("update-ticket-take.json", &reference, AGENT, None);
    *request.body_mut() = lambda_http::Body::Text(r#"{"version":"zzz","version":1}"#.to_owned());
    let response = update_ticket::handle(&desk, request).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let answer = body_json(&response);
    assert_eq!(answer["field"], "version", "{answer}");
    assert_eq!(answer["rule"], "duplicate_key", "{answer}");
    let reference = guichet_core::common::reference::TicketReference::parse(&reference)
        .expect("a reference we made");
    let stored = desk
        .store
        .get(&reference)
        .await
        .expect("read")
        .expect("there");
    assert_eq!(stored.ticket.version, 1, "the ticket was not taken");
    assert_eq!(stored.ticket.assignee, None);
}

fn parsed(reference: &str) -> guichet_core::common::reference::TicketReference {
    guichet_core::common::reference::TicketReference::parse(reference).expect("reference")
}

async fn stored(
    desk: &Desk<MemoryTicketStore>,
    reference: &str,
) -> guichet_core::tickets::ticket::Ticket {
    desk.store
        .get(&parsed(reference))
        .await
        .expect("read")
        .expect("found")
        .ticket
}

/// A `state` token whose ticket says something else than the stored one.
fn forged(state: &serde_json::Value, edit: impl FnOnce(&mut serde_json::Value)) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    let bytes = URL_SAFE_NO_PAD
        .decode(state.as_str().expect("a token"))
        .expect("base64");
    let mut ticket: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
    edit(&mut ticket);
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&ticket).expect("json"))
}

#[tokio::test]
async fn an_action_sent_with_the_state_it_was_handed_reads_nothing() {
    let desk = desk(NOW);
    let reference = submit(&desk).await;
    let (status, taken) = call(&desk, "update-ticket-take.json", &reference, AGENT, None).await;
    assert_eq!(status, StatusCode::OK, "{taken}");
    let reads = desk.store.reads();
    assert!(reads >= 1, "without a token the ticket is read");
    let (status, replied) = call(
        &desk,
        "update-ticket-reply.json",
        &reference,
        AGENT,
        Some(serde_json::json!({"version": 2, "body": "Nous vérifions.", "state": taken["state"]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{replied}");
    let (status, resolved) = call(
        &desk,
        "update-ticket-status.json",
        &reference,
        AGENT,
        Some(serde_json::json!({"version": 3, "status": "resolved", "state": replied["state"]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{resolved}");
    assert_eq!(desk.store.reads(), reads, "both decided on their tokens");
    let ticket = stored(&desk, &reference).await;
    assert_eq!(ticket.version, 4);
    assert_eq!(ticket.status.as_str(), "resolved");
    assert_eq!(ticket.assignee.as_deref(), Some("agent-0042"));
    assert_eq!(
        desk.store.count_notifications(
            &[parsed(&reference)],
            guichet_core::notifications::rules::NotificationKind::Resolved
        ),
        1,
        "the player is told once, as without a token"
    );
}

#[tokio::test]
async fn a_forged_or_outdated_state_writes_nothing_of_its_own() {
    let desk = desk(NOW);
    let reference = submit(&desk).await;
    let (_, taken) = call(&desk, "update-ticket-take.json", &reference, AGENT, None).await;
    let before = stored(&desk, &reference).await;

    // Another team's agent claims the ticket is theirs: the write's condition fails, the desk
    // reads the ticket and answers from it.
    let games = forged(&taken["state"], |t| t["team"] = "games".into());
    let (status, body) = call(
        &desk,
        "update-ticket-status.json",
        &reference,
        "[agent team:games]",
        Some(serde_json::json!({"version": 2, "status": "resolved", "state": games})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["required_team"], "payments");
    assert_eq!(stored(&desk, &reference).await, before);

    // The right team, but a rewritten description and priority: the change is decided again
    // on the stored ticket, and nothing of the forgery is written.
    let rewritten = forged(&taken["state"], |t| {
        t["description"] = "Remboursez 5 000 $.".into();
        t["priority"] = "urgent".into();
    });
    let (status, body) = call(
        &desk,
        "update-ticket-reply.json",
        &reference,
        AGENT,
        Some(serde_json::json!({"version": 2, "body": "Bonjour.", "state": rewritten})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let after = stored(&desk, &reference).await;
    assert_eq!(after.description, before.description);
    assert_eq!(after.priority, before.priority);
    assert_eq!(after.version, 3);

    // The token of version 2, sent once the ticket is at 3: stale, as without a token.
    let (status, body) = call(
        &desk,
        "update-ticket-status.json",
        &reference,
        AGENT,
        Some(serde_json::json!({"version": 2, "status": "resolved", "state": taken["state"]})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["reason"], "stale");
    assert_eq!(stored(&desk, &reference).await, after);
}

#[tokio::test]
async fn the_write_is_conditioned_on_the_whole_ticket_not_only_its_version() {
    let desk = desk(NOW);
    let reference = submit(&desk).await;
    let (_, taken) = call(&desk, "update-ticket-take.json", &reference, AGENT, None).await;
    // A field changes without a new version (a writer breaking the rules): the token no
    // longer describes the stored ticket, so it is not written back over it.
    desk.store.tamper(&parsed(&reference), |ticket| {
        ticket.subject = "Changé ailleurs".into();
    });
    let reads = desk.store.reads();
    let (status, body) = call(
        &desk,
        "update-ticket-reply.json",
        &reference,
        AGENT,
        Some(serde_json::json!({"version": 2, "body": "Bonjour.", "state": taken["state"]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(stored(&desk, &reference).await.subject, "Changé ailleurs");
    assert_eq!(desk.store.reads(), reads + 2, "read to decide, read here");
}

#[tokio::test]
async fn a_state_that_is_not_a_token_is_refused_naming_it() {
    let desk = desk(NOW);
    let reference = submit(&desk).await;
    for state in [
        serde_json::json!("not a token"),
        serde_json::json!(12),
        serde_json::json!("e30"),
    ] {
        let (status, body) = call(
            &desk,
            "update-ticket-take.json",
            &reference,
            AGENT,
            Some(serde_json::json!({"version": 1, "state": state})),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(body["field"], "state", "{body}");
    }
    assert_eq!(stored(&desk, &reference).await.version, 1);
}

#[tokio::test]
async fn an_agent_extends_the_delay_and_the_player_is_told_the_new_date() {
    let desk = desk(NOW);
    let reference = submit(&desk).await;
    call(&desk, "update-ticket-take.json", &reference, AGENT, None).await;
    call(&desk, "update-ticket-reply.json", &reference, AGENT, None).await;
    // A high-priority e-mail received Thursday 10:00 EST: resolution in 2,400 business
    // minutes, Thursday 3 December 10:00 EST; two business days more: Monday 7 December.
    let (status, body) = call(
        &desk,
        "update-ticket-extension.json",
        &reference,
        AGENT,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["history"][0]["reason"], "awaiting_provider");
    assert_eq!(body["history"][0]["extended_minutes"], 960);
    let resolution = body["promises"]
        .as_array()
        .and_then(|clocks| clocks.iter().find(|c| c["clock"] == "resolution"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(resolution["due_at"], "2026-12-07T15:00:00Z", "{body}");
    assert_eq!(resolution["extended_minutes"], 960);
    let found = desk
        .store
        .get(&guichet_core::common::reference::TicketReference::parse(&reference).expect("valid"))
        .await
        .expect("read")
        .expect("found");
    let told = found
        .notifications
        .iter()
        .find(|n| n.kind == guichet_core::notifications::rules::NotificationKind::DelayExtended)
        .expect("the player is told");
    assert!(
        told.body.contains("le lundi 7 décembre 2026 à 10 h 00"),
        "{}",
        told.body
    );
}

#[tokio::test]
async fn an_extension_names_what_is_wrong_with_it() {
    let desk = desk(NOW);
    let reference = submit(&desk).await;
    let ask = |body: serde_json::Value| {
        let desk = &desk;
        let reference = reference.clone();
        async move {
            call(
                desk,
                "update-ticket-extension.json",
                &reference,
                AGENT,
                Some(body),
            )
            .await
        }
    };
    for (body, field, rule) in [
        (
            serde_json::json!({"version": 1, "business_days": 2, "until": "2026-12-15", "reason": "x"}),
            "business_days",
            "one_of_fields",
        ),
        (
            serde_json::json!({"version": 1, "reason": "x"}),
            "business_days",
            "one_of_fields",
        ),
        (
            serde_json::json!({"version": 1, "business_days": 0, "reason": "x"}),
            "business_days",
            "range",
        ),
        (
            serde_json::json!({"version": 1, "until": "12/15/2026", "reason": "x"}),
            "until",
            "date",
        ),
        (
            serde_json::json!({"version": 1, "until": "2026-12-12", "reason": "x"}),
            "until",
            "open_day",
        ),
        (
            serde_json::json!({"version": 1, "until": "2026-11-30", "reason": "x"}),
            "until",
            "later",
        ),
        (
            serde_json::json!({"version": 1, "business_days": 2}),
            "reason",
            "required",
        ),
    ] {
        let (status, answer) = ask(body.clone()).await;
        assert!(status.is_client_error(), "{body} → {status}");
        assert_eq!(answer["field"], field, "{body} → {answer}");
        assert_eq!(answer["rule"], rule, "{body} → {answer}");
    }
    // A player may not extend, nor another team's agent.
    let body = serde_json::json!({"version": 1, "business_days": 2, "reason": "x"});
    let (status, _) = call(
        &desk,
        "update-ticket-extension.json",
        &reference,
        "[player]",
        Some(body.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = call(
        &desk,
        "update-ticket-extension.json",
        &reference,
        "[agent team:games]",
        Some(body),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn an_internal_note_is_for_staff_only_and_tells_the_player_nothing() {
    let desk = desk(NOW);
    let reference = submit(&desk).await;
    let outbox_before = desk.store.outbox().len();
    let (status, body) = call(&desk, "update-ticket-note.json", &reference, AGENT, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["version"], 2);
    assert_eq!(body["message"]["internal"], true);
    assert_eq!(body["message"]["author"]["id"], "agent-0042");
    // No notification, no e-mail: nothing went to the outbox.
    assert_eq!(desk.store.outbox().len(), outbox_before);
    let stored = desk
        .store
        .get(&parsed(&reference))
        .await
        .expect("read")
        .expect("found");
    assert!(stored.messages[0].internal);
    assert_eq!(stored.notifications.len(), 1, "the receipt's only");
    // It answers no promise: the first response is still owed.
    let first = stored
        .ticket
        .clocks
        .as_ref()
        .and_then(|c| c.first_response.as_ref())
        .expect("a first-response clock");
    assert!(first.met_at.is_none());

    // Players may not write one.
    let (status, _) = call(
        &desk,
        "update-ticket-note.json",
        &reference,
        "[player]",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_merge_answers_both_tickets_and_names_into_in_its_refusals() {
    let desk = desk(NOW);
    let duplicate = submit(&desk).await;
    let survivor = submit(&desk).await;
    let into = |reference: &str| Some(serde_json::json!({ "into": reference }));
    // Then the sample's own key again, on a retry: the same answer, nothing written again.
    let mut outbox = 0;
    for replayed in [false, true] {
        let merged = call(
            &desk,
            "merge-ticket.json",
            &duplicate,
            AGENT,
            into(&survivor),
        );
        let (status, body) = merged.await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["replayed"], replayed);
        assert_eq!(body["duplicate"]["status"], "closed");
        assert_eq!(body["duplicate"]["merged_into"], survivor.as_str());
        assert_eq!(body["survivor"]["merged_from"][0], duplicate.as_str());
        assert!(body["survivor"]["state"].is_string());
        if replayed {
            assert_eq!(desk.store.outbox().len(), outbox);
        } else {
            assert_eq!(body["duplicate"]["history"][0]["reason"], "merged_into");
            assert_eq!(body["survivor"]["history"][0]["actor"]["id"], "agent-0042");
            outbox = desk.store.outbox().len();
        }
    }

    // Each refusal, with the key of its body: the field, rule, reason or role it names.
    let third = submit(&desk).await;
    let unknown_key = "K7M2Q-9XW4".to_owned();
    let with_version = Some(serde_json::json!({"into": survivor, "version": 1}));
    let refusals = [
        (&third, AGENT, into(&third), 400, "rule", "other_ticket"),
        (&third, AGENT, into(&duplicate), 400, "rule", "not_closed"),
        (&third, AGENT, into(&unknown_key), 400, "rule", "reference"),
        (&third, AGENT, with_version, 400, "field", "version"),
        // The sample's key is bound to the first merge: another merge under it is a 422.
        (
            &third,
            AGENT,
            into(&survivor),
            422,
            "field",
            "Idempotency-Key",
        ),
        (
            &duplicate,
            AGENT,
            into(&third),
            409,
            "reason",
            "already_merged",
        ),
        (
            &third,
            "[player]",
            into(&survivor),
            403,
            "required_role",
            "agent",
        ),
        (
            &third,
            "[agent team:games]",
            into(&survivor),
            403,
            "required_team",
            "payments",
        ),
    ];
    for (reference, groups, body, expected, key, value) in refusals {
        let (status, answer) = call(&desk, "merge-ticket.json", reference, groups, body).await;
        assert_eq!(status.as_u16(), expected, "{answer}");
        assert_eq!(answer[key], value, "{answer}");
        if status == StatusCode::BAD_REQUEST && key == "rule" {
            assert_eq!(answer["field"], "into", "{answer}");
        }
    }
}

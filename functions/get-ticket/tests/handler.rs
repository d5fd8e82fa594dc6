//! The handler fed with the sample events in `events/`, over the in-memory store.

use guichet_core::attachments::memory::attachments;
use guichet_core::tickets::memory::desk;
use guichet_edge::testing::{body_json, event};
use lambda_http::http::StatusCode;
use lambda_http::RequestExt;

const NOW: &str = "2026-11-26T15:00:00Z";

async fn submit_for(
    desk: &guichet_core::tickets::desk::Desk<guichet_core::tickets::memory::MemoryTicketStore>,
    player: &str,
) -> String {
    guichet_edge::testing::reference_of(&guichet_edge::testing::submitted(desk, player, serde_json::json!({"channel":"email","category":"transaction","subject":"Dépôt manquant","description":"Mon dépôt de 50 $ n'apparaît pas."}), NOW).await)
}

fn get(reference: &str, groups: &str, sub: &str) -> lambda_http::Request {
    let groups = format!("\"{groups}\"");
    guichet_edge::testing::request_of(&guichet_edge::testing::event_json(
        "get-ticket.json",
        &[
            ("K7M2Q-9XW45", reference),
            ("\"[player]\"", &groups),
            ("player-7f3a9c", sub),
        ],
    ))
}

#[tokio::test]
async fn a_player_reads_their_ticket_with_its_history() {
    let desk = desk(NOW);
    let reference = submit_for(&desk, "player-7f3a9c").await;
    let response = get_ticket::handle(
        &desk,
        &attachments(NOW),
        get(&reference, "[player]", "player-7f3a9c"),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body = body_json(&response);
    assert_eq!(body["reference"], reference.as_str());
    assert_eq!(body["history"][0]["status"], "open");
    assert_eq!(body["history"][0]["reason"], "received");
}

#[tokio::test]
async fn references_are_read_in_any_case() {
    let desk = desk(NOW);
    let reference = submit_for(&desk, "player-7f3a9c").await;
    let typed = reference.to_lowercase().replace('-', "");
    let response = get_ticket::handle(
        &desk,
        &attachments(NOW),
        get(&typed, "[player]", "player-7f3a9c"),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn another_players_ticket_is_not_found_like_an_unknown_one() {
    let desk = desk(NOW);
    let reference = submit_for(&desk, "player-other").await;
    let theirs = get_ticket::handle(
        &desk,
        &attachments(NOW),
        get(&reference, "[player]", "player-7f3a9c"),
    )
    .await;
    let unknown = get_ticket::handle(&desk, &attachments(NOW), event("get-ticket.json")).await;
    assert_eq!(theirs.status(), StatusCode::NOT_FOUND);
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert_eq!(body_json(&theirs), body_json(&unknown));
}

#[tokio::test]
async fn agents_read_any_ticket_and_other_roles_are_refused() {
    let desk = desk(NOW);
    let reference = submit_for(&desk, "player-other").await;
    let agent = get_ticket::handle(
        &desk,
        &attachments(NOW),
        get(&reference, "[agent]", "agent-0042"),
    )
    .await;
    assert_eq!(agent.status(), StatusCode::OK);
    let service = get_ticket::handle(
        &desk,
        &attachments(NOW),
        get(&reference, "[service]", "svc-cashier"),
    )
    .await;
    assert_eq!(service.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_mistyped_reference_is_a_named_error() {
    let desk = desk(NOW);
    let request =
        event("get-ticket.json").with_path_parameters(std::collections::HashMap::from([(
            "reference".to_owned(),
            "K7M2Q-9XW46".to_owned(),
        )]));
    let response = get_ticket::handle(&desk, &attachments(NOW), request).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(body_json(&response)["field"], "reference");
}

/// Issues three attachments of the ticket and checks what arrives: a good PNG, a PDF that is a
/// PNG (refused), and one never uploaded (pending).
async fn with_attachments(
    a: &guichet_core::attachments::service::Attachments<
        guichet_core::attachments::memory::MemoryAttachmentStore,
        guichet_core::documents::memory::MemoryDocumentStorage,
    >,
    reference: &str,
) -> String {
    use guichet_core::documents::rules::ContentType;
    let reference =
        guichet_core::common::reference::TicketReference::parse(reference).expect("reference");
    let player = guichet_core::common::player::Author::Player;
    let png = guichet_core::attachments::memory::png_bytes(2048);
    let (good, _) = a
        .request(&player, &reference, ContentType::Png, 2048)
        .await
        .expect("issued");
    let (liar, _) = a
        .request(&player, &reference, ContentType::Pdf, 2048)
        .await
        .expect("issued");
    a.request(&player, &reference, ContentType::Jpeg, 100)
        .await
        .expect("issued");
    for key in [&good.key, &liar.key] {
        a.storage.put(key, &png);
        a.check_object(key).await.expect("checked");
    }
    good.upload.as_str().to_owned()
}

#[tokio::test]
async fn players_see_their_checked_attachments_without_any_url() {
    let (desk, a) = (desk(NOW), attachments(NOW));
    let reference = submit_for(&desk, "player-7f3a9c").await;
    let good = with_attachments(&a, &reference).await;
    let response =
        get_ticket::handle(&desk, &a, get(&reference, "[player]", "player-7f3a9c")).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body = body_json(&response);
    assert_eq!(
        body["attachments"],
        serde_json::json!([{"upload_id": good, "content_type": "image/png", "size": 2048,
                            "checked_at": NOW}])
    );
    let text = body.to_string();
    assert!(!text.contains("tickets/"), "no storage key: {text}");
    assert!(!text.contains("http"), "no URL: {text}");
}

#[tokio::test]
async fn staff_get_a_short_lived_url_per_checked_attachment() {
    let (desk, a) = (desk(NOW), attachments(NOW));
    let reference = submit_for(&desk, "player-7f3a9c").await;
    let good = with_attachments(&a, &reference).await;
    let response = get_ticket::handle(&desk, &a, get(&reference, "[agent]", "agent-0042")).await;
    assert_eq!(response.status(), StatusCode::OK);
    let listed = body_json(&response)["attachments"].clone();
    let listed = listed.as_array().expect("a list");
    assert_eq!(listed.len(), 1, "only the checked one: {listed:?}");
    assert_eq!(listed[0]["upload_id"], good.as_str());
    assert!(listed[0]["url"]
        .as_str()
        .expect("a URL")
        .contains(&format!("tickets/{}/{good}", reference.replace('-', ""))));
    assert_eq!(listed[0]["expires_at"], "2026-11-26T15:05:00Z");
}

#[tokio::test]
async fn a_ticket_without_attachments_lists_none() {
    let (desk, a) = (desk(NOW), attachments(NOW));
    let reference = submit_for(&desk, "player-7f3a9c").await;
    let response =
        get_ticket::handle(&desk, &a, get(&reference, "[player]", "player-7f3a9c")).await;
    assert_eq!(body_json(&response)["attachments"], serde_json::json!([]));
}

#[tokio::test]
async fn the_player_sees_when_to_expect_an_answer_and_staff_see_each_clock_and_why() {
    let desk = desk(NOW);
    let reference = submit_for(&desk, "player-7f3a9c").await;
    // Thursday 10:00 EST, a high-priority e-mail: two business days of 8 hours (960
    // minutes), due Monday 10:00 EST.
    let player = body_json(
        &get_ticket::handle(
            &desk,
            &attachments(NOW),
            get(&reference, "[player]", "player-7f3a9c"),
        )
        .await,
    );
    assert_eq!(player["expected_answer_at"], "2026-11-30T15:00:00Z");
    assert!(player.get("clocks").is_none(), "{player}");
    assert!(player.get("promises").is_none(), "{player}");
    let staff = body_json(
        &get_ticket::handle(
            &desk,
            &attachments(NOW),
            get(&reference, "[agent team:payments]", "agent-1"),
        )
        .await,
    );
    assert_eq!(staff["expected_answer_at"], "2026-11-30T15:00:00Z");
    let first = &staff["promises"][0];
    assert_eq!(first["clock"], "first_response");
    assert_eq!(first["state"], "running");
    assert_eq!(first["budget_minutes"], 960);
    assert_eq!(first["used_minutes"], 0);
    assert_eq!(first["due_at"], "2026-11-30T15:00:00Z");
    // Why Monday: Thursday from 10:00 and Friday count, the weekend is closed.
    let days: Vec<(String, i64, String)> = first["counted"]
        .as_array()
        .expect("days")
        .iter()
        .map(|d| {
            (
                d["date"].as_str().unwrap_or_default().to_owned(),
                d["minutes"].as_i64().unwrap_or(-1),
                d["why"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        days,
        [
            ("2026-11-26".into(), 420, "weekly".into()),
            ("2026-11-27".into(), 480, "weekly".into()),
            ("2026-11-28".into(), 0, "weekly".into()),
            ("2026-11-29".into(), 0, "weekly".into()),
            ("2026-11-30".into(), 60, "weekly".into()),
        ]
    );
    assert_eq!(staff["promises"][1]["clock"], "resolution");
}

#[tokio::test]
async fn staff_read_the_internal_notes_and_the_player_never_does() {
    use guichet_core::common::access::{Actor, Role};
    use guichet_core::tickets::workflow;
    let desk = desk(NOW);
    let reference = submit_for(&desk, "player-7f3a9c").await;
    let agent = Actor {
        subject: guichet_core::common::player::PlayerId::parse("agent-0042").expect("valid"),
        roles: vec![Role::Agent],
        teams: vec![guichet_core::tickets::ticket::Team::Payments],
        email: None,
    };
    let parsed = guichet_core::common::reference::TicketReference::parse(&reference).expect("ok");
    for (text, internal) in [
        ("Rappel prévu demain.", true),
        ("Bonjour, nous vérifions.", false),
    ] {
        let body = workflow::MessageBody::parse("body", text).expect("valid");
        desk.work_on(&agent, &parsed, None, |t, now| {
            if internal {
                workflow::note(t, t.version, "agent-0042", body.clone(), now)
            } else {
                workflow::reply(t, t.version, "agent-0042", body.clone(), now, now)
            }
        })
        .await
        .expect("written");
    }
    let player = body_json(
        &get_ticket::handle(
            &desk,
            &attachments(NOW),
            get(&reference, "[player]", "player-7f3a9c"),
        )
        .await,
    );
    let messages = player["messages"].as_array().expect("a list");
    assert_eq!(messages.len(), 1, "{player}");
    assert_eq!(messages[0]["body"], "Bonjour, nous vérifions.");
    assert!(!player.to_string().contains("Rappel prévu"));
    let staff = body_json(
        &get_ticket::handle(
            &desk,
            &attachments(NOW),
            get(&reference, "[agent team:payments]", "agent-0042"),
        )
        .await,
    );
    let messages = staff["messages"].as_array().expect("a list");
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0]["internal"], true);
    assert_eq!(messages[1].get("internal"), None);
}

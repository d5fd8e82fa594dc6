//! The handler fed with the sample events in `events/`, over the in-memory ports.

/// The property tests of this function's own parsers, run with its handler's tests (a lib
/// with `test = false` would never run them).
#[path = "handler/properties.rs"]
mod properties;

use guichet_core::attachments::memory::{attachments, MemoryAttachmentStore};
use guichet_core::attachments::ports::AttachmentStore;
use guichet_core::attachments::rules::{AttachmentState, MAX_ATTACHMENTS_PER_TICKET};
use guichet_core::attachments::service::Attachments;
use guichet_core::common::player::{Author, PlayerId};
use guichet_core::common::reference::TicketReference;
use guichet_core::documents::memory::MemoryDocumentStorage;
use guichet_core::documents::rules::UploadId;
use guichet_core::tickets::desk::Desk;
use guichet_core::tickets::memory::{desk, MemoryTicketStore};
use guichet_edge::testing::{body_json, event, with_caller, with_json, with_path};
use lambda_http::http::StatusCode;
use serde_json::json;

const NOW: &str = "2026-11-26T15:00:00Z";

type Memory = Attachments<MemoryAttachmentStore, MemoryDocumentStorage>;

async fn ticket_of(desk: &Desk<MemoryTicketStore>, player: &str) -> String {
    guichet_edge::testing::reference_of(
        &guichet_edge::testing::submitted(
            desk,
            player,
            json!({"channel": "form", "category": "incident", "subject": "Roulette figée",
                "description": "La roue s'est arrêtée pendant ma mise de 20 $.",
                "incident": {"occurred_at": "2026-11-26T14:00:00Z", "game_name": "Roulette",
                             "steps_tried": []}}),
            NOW,
        )
        .await,
    )
}

/// The reference as keys spell it (no hyphen).
fn canonical(reference: &str) -> String {
    TicketReference::parse(reference)
        .expect("reference")
        .as_str()
        .to_owned()
}

fn on(name: &str, reference: &str) -> lambda_http::Request {
    with_path(event(name), &[("reference", reference)])
}

async fn stored(
    a: &Memory,
    reference: &str,
    upload: &str,
) -> guichet_core::attachments::rules::Attachment {
    a.store
        .attachment(
            &TicketReference::parse(reference).expect("reference"),
            &UploadId::parse(upload).expect("upload id"),
        )
        .await
        .expect("store")
        .expect("recorded")
}

#[tokio::test]
async fn the_owner_gets_a_presigned_put_under_the_tickets_prefix() {
    let (desk, a) = (desk(NOW), attachments(NOW));
    let reference = ticket_of(&desk, "player-7f3a9c").await;
    let response = add_attachment::handle(&desk, &a, on("add-attachment.json", &reference)).await;
    assert_eq!(
        response.status(),
        StatusCode::CREATED,
        "{}",
        body_json(&response)
    );
    let body = body_json(&response);
    let upload = body["upload_id"].as_str().expect("upload id");
    assert!(upload.starts_with("UP-"));
    assert_eq!(body["method"], "PUT");
    assert!(body["url"]
        .as_str()
        .expect("url")
        .contains(&format!("tickets/{}/{upload}", canonical(&reference))));
    assert_eq!(body["headers"]["content-type"], "image/png");
    assert_eq!(body["headers"]["content-length"], "245760");
    assert_eq!(body["headers"]["x-amz-server-side-encryption"], "aws:kms");
    assert_eq!(body["expires_at"], "2026-11-26T15:10:00Z");
    let attachment = stored(&a, &reference, upload).await;
    assert_eq!(attachment.state, AttachmentState::Pending);
    assert_eq!(attachment.issued_by, Author::Player);
    assert_eq!(attachment.size, 245_760);
}

#[tokio::test]
async fn staff_attach_to_any_ticket_and_are_recorded_by_id() {
    let (desk, a) = (desk(NOW), attachments(NOW));
    let reference = ticket_of(&desk, "player-other").await;
    let response =
        add_attachment::handle(&desk, &a, on("add-attachment-staff.json", &reference)).await;
    assert_eq!(
        response.status(),
        StatusCode::CREATED,
        "{}",
        body_json(&response)
    );
    let upload = body_json(&response)["upload_id"]
        .as_str()
        .expect("upload id")
        .to_owned();
    let attachment = stored(&a, &reference, &upload).await;
    assert_eq!(
        attachment.issued_by,
        Author::Staff {
            id: "agent-0042".into()
        }
    );
    assert_eq!(
        attachment.content_type,
        guichet_core::documents::rules::ContentType::Pdf
    );
}

#[tokio::test]
async fn another_players_ticket_is_not_found_like_an_unknown_one() {
    let (desk, a) = (desk(NOW), attachments(NOW));
    let reference = ticket_of(&desk, "player-other").await;
    let theirs = add_attachment::handle(&desk, &a, on("add-attachment.json", &reference)).await;
    let unknown = add_attachment::handle(&desk, &a, event("add-attachment.json")).await;
    assert_eq!(theirs.status(), StatusCode::NOT_FOUND);
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert_eq!(body_json(&theirs), body_json(&unknown));
    assert!(a
        .store
        .attachments_of(&TicketReference::parse(&reference).expect("reference"))
        .await
        .expect("store")
        .is_empty());
}

#[tokio::test]
async fn other_roles_are_refused() {
    let (desk, a) = (desk(NOW), attachments(NOW));
    let reference = ticket_of(&desk, "player-7f3a9c").await;
    for groups in [&["service"][..], &["verification"], &[]] {
        let request = with_caller(on("add-attachment.json", &reference), "someone", groups);
        let response = add_attachment::handle(&desk, &a, request).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{groups:?}");
        assert_eq!(body_json(&response)["required_role"], "player");
    }
}

#[tokio::test]
async fn the_sixth_attachment_is_a_conflict() {
    let (desk, a) = (desk(NOW), attachments(NOW));
    let reference = ticket_of(&desk, "player-7f3a9c").await;
    for _ in 0..MAX_ATTACHMENTS_PER_TICKET {
        let response =
            add_attachment::handle(&desk, &a, on("add-attachment.json", &reference)).await;
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    let response = add_attachment::handle(&desk, &a, on("add-attachment.json", &reference)).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let body = body_json(&response);
    assert_eq!(body["error"], "conflict");
    assert_eq!(body["reason"], "attachment_limit");
    // Staff are bound by the same limit.
    let staff =
        add_attachment::handle(&desk, &a, on("add-attachment-staff.json", &reference)).await;
    assert_eq!(staff.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn a_closed_ticket_takes_no_more_attachments() {
    let (desk, a) = (desk(NOW), attachments(NOW));
    let reference = ticket_of(&desk, "player-7f3a9c").await;
    let supervisor = guichet_core::common::access::Actor {
        subject: PlayerId::parse("sup-1").expect("id"),
        roles: guichet_edge::http::parse_groups("[supervisor]"),
        teams: vec![],
        email: None,
    };
    let parsed = TicketReference::parse(&reference).expect("reference");
    for (version, to) in [
        (1, guichet_core::tickets::ticket::TicketStatus::Resolved),
        (2, guichet_core::tickets::ticket::TicketStatus::Closed),
    ] {
        desk.work_on(&supervisor, &parsed, None, |ticket, now| {
            guichet_core::tickets::workflow::change_status(ticket, version, to, "sup-1", None, now)
        })
        .await
        .expect("moved");
    }
    let response = add_attachment::handle(&desk, &a, on("add-attachment.json", &reference)).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert_eq!(body_json(&response)["reason"], "wrong_state");
    assert!(a
        .store
        .attachments_of(&parsed)
        .await
        .expect("read")
        .is_empty());
}

#[tokio::test]
async fn bad_input_names_the_field_and_the_rule() {
    let (desk, a) = (desk(NOW), attachments(NOW));
    let reference = ticket_of(&desk, "player-7f3a9c").await;
    let cases = [
        (
            json!({"content_type": "image/gif", "size": 10}),
            "content_type",
            "one_of",
        ),
        (
            json!({"content_type": "image/png", "size": 10_485_761}),
            "size",
            "range",
        ),
        (
            json!({"content_type": "image/png", "size": 10, "key": "tickets/x"}),
            "key",
            "unknown_field",
        ),
    ];
    for (body, field, rule) in cases {
        let request = with_json(on("add-attachment.json", &reference), body);
        let response = add_attachment::handle(&desk, &a, request).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let body = body_json(&response);
        assert_eq!(
            (body["field"].as_str(), body["rule"].as_str()),
            (Some(field), Some(rule))
        );
    }
    let response =
        add_attachment::handle(&desk, &a, on("add-attachment.json", "K7M2Q-9XW46")).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(body_json(&response)["field"], "reference");
}

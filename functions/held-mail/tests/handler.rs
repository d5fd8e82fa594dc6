//! The handler fed with the sample event in `events/`, over the in-memory mail records.

use guichet_core::mail::memory::MemoryMailroom;
use guichet_core::mail::message::MailAddress;
use guichet_core::mail::ports::{HeldMail, HeldReason, MailId, Mailroom};
use guichet_edge::testing::{body_json, event_json, request_of, set_groups};
use lambda_http::http::StatusCode;

fn ask(query: &str, groups: &str) -> lambda_http::Request {
    let mut pairs = serde_json::Map::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        pairs.insert(name.to_owned(), value.into());
    }
    let mut event = event_json("held-mail.json", &[]);
    event["rawQueryString"] = query.into();
    event["queryStringParameters"] = serde_json::Value::Object(pairs);
    set_groups(&mut event, groups);
    request_of(&event)
}

async fn held(mailroom: &MemoryMailroom, id: &str, at: &str, reason: HeldReason) {
    mailroom
        .hold(&HeldMail {
            id: MailId::parse(id).expect("valid"),
            received_at: at.parse().expect("valid"),
            reason,
            from: MailAddress::parse("joueur@exemple.ca"),
            ticket: None,
            subject: "Changement de compte".into(),
            text: "Versez mes retraits ailleurs.".into(),
            attachments: 1,
        })
        .await
        .expect("held");
}

#[tokio::test]
async fn agents_read_the_held_mail_oldest_first_a_page_at_a_time() {
    let mailroom = MemoryMailroom::default();
    held(
        &mailroom,
        "mail0002",
        "2026-12-03T16:00:00Z",
        HeldReason::DmarcFailed,
    )
    .await;
    held(
        &mailroom,
        "mail0001",
        "2026-12-03T15:00:00Z",
        HeldReason::UnknownSender,
    )
    .await;

    let response = held_mail::handle(&mailroom, ask("limit=1", "[agent team:technical]")).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body = body_json(&response);
    assert_eq!(body["held"][0]["id"], "mail0001");
    assert_eq!(body["held"][0]["reason"], "unknown_sender");
    assert_eq!(body["held"][0]["from"], "joueur@exemple.ca");
    assert_eq!(body["held"][0]["attachments"], 1);
    let cursor = body["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_owned();

    let response = held_mail::handle(
        &mailroom,
        ask(&format!("limit=1&cursor={cursor}"), "[supervisor]"),
    )
    .await;
    let body = body_json(&response);
    assert_eq!(body["held"][0]["id"], "mail0002");
    assert_eq!(body["held"][0]["reason"], "dmarc_failed");
    assert!(body["next_cursor"].is_null());
}

#[tokio::test]
async fn players_and_reviewers_are_refused_and_bad_parameters_named() {
    let mailroom = MemoryMailroom::default();
    for groups in ["[player]", "[verification]"] {
        let response = held_mail::handle(&mailroom, ask("", groups)).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{groups}");
    }
    let response = held_mail::handle(&mailroom, ask("limit=500", "[agent]")).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(body_json(&response)["field"], "limit");
    let response = held_mail::handle(&mailroom, ask("sort=newest", "[agent]")).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(body_json(&response)["field"], "sort");
    let response = held_mail::handle(&mailroom, ask("cursor=forged!", "[agent]")).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(body_json(&response)["field"], "cursor");
}

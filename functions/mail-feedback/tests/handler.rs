//! The mail-feedback function over the in-memory ports, fed the SQS event Lambda delivers
//! (`events/mail-feedback.json`: SES's bounce and complaint events in SNS's envelope).

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use guichet_core::common::contact::ContactAddress;
use guichet_core::common::player::{Language, PlayerId};
use guichet_core::mail::feedback::REFUSED_LINE;
use guichet_core::mail::memory::MemoryMailroom;
use guichet_core::mail::message::MailAddress;
use guichet_core::mail::ports::{OutgoingMail, Refusal};
use guichet_core::tickets::desk::{Desk, Submitted};
use guichet_core::tickets::intake::TicketRequest;
use guichet_core::tickets::memory::{desk_with_clock, FixedClock, MemoryTicketStore};
use guichet_core::tickets::ports::TicketStore;
use guichet_core::tickets::ticket::{Category, Channel};
use guichet_edge::testing::failed_ids;

const ADDRESS: &str = "joueur@exemple.ca";

fn fixture() -> SqsEvent {
    guichet_edge::testing::sqs_event("mail-feedback.json")
}

/// The fixture's first message under another SQS message id, its SES JSON edited by `edit`.
fn bounce(message_id: &str, edit: impl FnOnce(&mut serde_json::Value)) -> SqsMessage {
    guichet_edge::testing::sns_fed_message("mail-feedback.json", message_id, edit)
}

async fn desk_with_ticket() -> (Desk<MemoryTicketStore>, MemoryMailroom) {
    let desk = desk_with_clock(FixedClock::at("2026-12-02T15:13:00Z"));
    let mailroom = MemoryMailroom::default();
    let player = PlayerId::parse("player-123").expect("valid");
    let request = TicketRequest {
        channel: Channel::Form,
        category: Category::Transaction,
        subject: "Retrait bloqué".into(),
        description: "Mon retrait est bloqué depuis lundi.".into(),
        language: Language::Fr,
        incident: None,
    };
    let submitted = desk
        .submit(
            player.clone(),
            request,
            None,
            ContactAddress::parse(ADDRESS),
        )
        .await
        .expect("submitted");
    assert!(matches!(submitted, Submitted::Created(..)));
    mailroom.index(&MailAddress::parse(ADDRESS).expect("valid"), &player);
    (desk, mailroom)
}

async fn refusal_lines(desk: &Desk<MemoryTicketStore>) -> usize {
    let player = PlayerId::parse("player-123").expect("valid");
    let page = desk.tickets_of(&player, 10, None).await.expect("listed");
    let mut lines = 0;
    for ticket in page.items {
        let found = desk
            .store
            .get(&ticket.reference)
            .await
            .expect("read")
            .expect("stored");
        lines += found
            .history
            .iter()
            .filter(|l| l.reason == REFUSED_LINE)
            .count();
    }
    lines
}

#[tokio::test]
async fn a_permanent_bounce_and_a_complaint_stop_mail_and_flag_the_ticket_once() {
    let (desk, mailroom) = desk_with_ticket().await;
    let response = mail_feedback::handle(&desk, &mailroom, fixture()).await;
    assert!(failed_ids(&response).is_empty());
    let address = MailAddress::parse(ADDRESS).expect("valid");
    // The complaint came last.
    assert_eq!(
        mailroom.refused(&address).await.expect("read"),
        Some(Refusal::Complaint)
    );
    // The ticket is flagged once: the complaint (15:12) finds it flagged since (the bounce's
    // line, written when the report was read, at 15:13).
    assert_eq!(refusal_lines(&desk).await, 1);

    // SQS delivers them again: nothing more.
    let again = mail_feedback::handle(&desk, &mailroom, fixture()).await;
    assert!(failed_ids(&again).is_empty());
    assert_eq!(refusal_lines(&desk).await, 1);
}

#[tokio::test]
async fn a_transient_bounce_stops_nothing() {
    let (desk, mailroom) = desk_with_ticket().await;
    let transient = bounce("t-1", |ses| {
        ses["bounce"]["bounceType"] = "Transient".into();
    });
    let event = guichet_edge::testing::sqs_batch("mail-feedback.json", vec![transient]);
    let response = mail_feedback::handle(&desk, &mailroom, event).await;
    assert!(failed_ids(&response).is_empty());
    let address = MailAddress::parse(ADDRESS).expect("valid");
    assert_eq!(mailroom.refused(&address).await.expect("read"), None);
    assert_eq!(refusal_lines(&desk).await, 0);
}

#[tokio::test]
async fn what_is_not_an_ses_event_is_retried() {
    let (desk, mailroom) = desk_with_ticket().await;
    let mut garbage = fixture().records.remove(0);
    garbage.message_id = Some("garbage".into());
    garbage.body = Some("not json".into());
    let no_time = bounce("no-time", |ses| {
        ses["bounce"]["timestamp"] = "yesterday".into();
    });
    let event = guichet_edge::testing::sqs_batch("mail-feedback.json", vec![garbage, no_time]);
    let response = mail_feedback::handle(&desk, &mailroom, event).await;
    assert_eq!(failed_ids(&response), vec!["garbage", "no-time"]);
}

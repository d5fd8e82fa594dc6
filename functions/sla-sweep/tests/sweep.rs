//! The sweep's handler over the in-memory store.

use guichet_core::common::player::PlayerId;
use guichet_core::promises::sweep::Sweep;
use guichet_core::tickets::desk::Submitted;
use guichet_core::tickets::intake::TicketRequest;
use guichet_core::tickets::memory::{desk_with_clock, FixedClock};

#[tokio::test]
async fn a_sweep_reports_what_it_recorded_and_a_second_finds_nothing_new() {
    let clock = FixedClock::at("2026-11-26T15:00:00Z");
    let desk = desk_with_clock(clock.clone());
    let body = serde_json::json!({"channel": "form", "category": "account",
        "subject": "Compte bloqué", "description": "Je ne peux plus me connecter."});
    let request = TicketRequest::parse(&body, None, desk.clock.now()).expect("valid");
    let player = PlayerId::parse("player-1").expect("valid");
    let Submitted::Created(..) = desk
        .submit(player, request, None, None)
        .await
        .expect("stored")
    else {
        panic!("created");
    };
    let sweep = Sweep {
        desk,
        lookback_hours: 24,
    };
    // An account ticket is urgent: one business day (480 minutes) for the first response,
    // due Friday 10:00 EST; Friday 11:00 EST it has warned and breached.
    clock.set("2026-11-27T16:00:00Z".parse().expect("valid"));
    let report = sla_sweep::handle(&sweep).await.expect("swept");
    assert_eq!((report.warnings, report.breaches), (1, 1));
    let again = sla_sweep::handle(&sweep).await.expect("swept");
    assert_eq!((again.warnings, again.breaches), (0, 0));
}

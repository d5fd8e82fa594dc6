//! What intake costs in CPU, without I/O: validating a request, opening the ticket (priority,
//! team, response target), the idempotency fingerprint and the acknowledgement text — the work
//! a `create-ticket` invocation does besides its one DynamoDB round trip.
//!
//! `cargo bench -p guichet-core --bench intake` prints the median and 95th percentile per request
//! over 30 samples of 2,000 requests each. No timing is asserted: the figures go in the README.

use std::hint::black_box;
use std::time::Instant;

use guichet_core::common::player::PlayerId;
use guichet_core::common::reference::TicketReference;
use guichet_core::notifications::rules::{NotificationKind, Notifier};
use guichet_core::outbox::rules::MessageId;
use guichet_core::tickets::acknowledgement::acknowledgement;
use guichet_core::tickets::intake::TicketRequest;
use guichet_core::tickets::sla::SupportCalendar;

const SAMPLES: usize = 30;
const PER_SAMPLE: usize = 2_000;

fn main() {
    let calendar = SupportCalendar::published().expect("bundled time zone");
    let now = "2026-11-26T15:00:00Z".parse().expect("valid timestamp");
    let player = PlayerId::parse("player-7f3a9c").expect("valid id");
    let body = serde_json::json!({
        "channel": "chat", "category": "incident", "subject": "Roulette figée pendant une mise",
        "description": "La roue s'est arrêtée et ma mise de 20 $ a disparu du solde. ".repeat(10),
        "incident": {"occurred_at": "2026-11-26T09:40:00-05:00", "game_name": "Roulette Royale",
                     "transaction_id": "TX-20261126-88412",
                     "steps_tried": ["Rechargé la page", "Vidé le cache du navigateur"]}
    })
    .to_string();

    let mut per_request_ns = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        let started = Instant::now();
        for i in 0..PER_SAMPLE {
            let value: serde_json::Value = serde_json::from_str(black_box(&body)).expect("json");
            let request = TicketRequest::parse(&value, Some("fr-CA"), now).expect("valid");
            let fingerprint = request.fingerprint();
            let reference = TicketReference::from_random([(i % 251) as u8; 9]);
            let (ticket, _, target) = request.open(reference, player.clone(), now, &calendar);
            let due = target.due_at.to_zoned(calendar.zone().clone());
            let text = acknowledgement(
                &ticket.reference,
                ticket.team,
                &target,
                &due,
                ticket.language,
            );
            black_box((fingerprint, text));
        }
        per_request_ns.push(started.elapsed().as_nanos() as f64 / PER_SAMPLE as f64);
    }
    per_request_ns.sort_by(f64::total_cmp);
    let median = per_request_ns[SAMPLES / 2];
    let p95 = per_request_ns[(SAMPLES * 95) / 100];
    println!("intake domain work per request: median {median:.0} ns, p95 {p95:.0} ns ({SAMPLES} samples x {PER_SAMPLE})");

    // What intake and every status change add since notifications: rendering the player's
    // notification from its template (with the local due date) and serialising its queue
    // message, all written in the change's transaction.
    let notifier = Notifier::bundled();
    let value: serde_json::Value = serde_json::from_str(&body).expect("json");
    let request = TicketRequest::parse(&value, Some("fr-CA"), now).expect("valid");
    let (ticket, _, _) = request.open(
        TicketReference::from_random([7; 9]),
        player.clone(),
        now,
        &calendar,
    );
    let mut render_ns = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        let started = Instant::now();
        for i in 0..PER_SAMPLE {
            let rendered = notifier
                .for_ticket(
                    NotificationKind::Received,
                    black_box(&ticket),
                    MessageId::from_bytes([(i % 251) as u8; 16]),
                    now,
                )
                .expect("rendered");
            black_box(rendered);
        }
        render_ns.push(started.elapsed().as_nanos() as f64 / PER_SAMPLE as f64);
    }
    render_ns.sort_by(f64::total_cmp);
    println!(
        "notification rendering + queue message: median {:.0} ns, p95 {:.0} ns ({SAMPLES} samples x {PER_SAMPLE})",
        render_ns[SAMPLES / 2],
        render_ns[(SAMPLES * 95) / 100]
    );

    let started = Instant::now();
    for _ in 0..PER_SAMPLE {
        black_box(TicketReference::generate().expect("random source"));
    }
    println!(
        "reference generation (OS random source): {:.0} ns each",
        started.elapsed().as_nanos() as f64 / PER_SAMPLE as f64
    );
}

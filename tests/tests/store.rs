//! The ticket store through the real AWS SDK against the emulator, on a table provisioned
//! from infra/template.yaml: conditional writes, idempotency, the player index.

use std::sync::{Arc, Mutex};

use guichet_aws::dynamo::tickets::DynamoTicketStore;
use guichet_core::common::player::PlayerId;
use guichet_core::common::reference::TicketReference;
use guichet_core::tickets::desk::{Desk, IntakeError, Submitted};
use guichet_core::tickets::intake::TicketRequest;
use guichet_core::tickets::memory::{FixedClock, ScriptedReferences};
use guichet_core::tickets::ports::{IdempotencyKey, TicketStore};
use guichet_core::tickets::sla::SupportCalendar;
use guichet_tests::{fresh_stack, Stack};
use jiff::{SignedDuration, Timestamp};

const NOW: &str = "2026-11-26T15:00:00Z";

fn desk(
    stack: &Stack,
    clock: FixedClock,
    references: Vec<TicketReference>,
) -> Desk<DynamoTicketStore> {
    Desk {
        store: DynamoTicketStore::new(stack.dynamodb(), stack.tickets_table.clone()),
        clock: Box::new(clock),
        references: Box::new(ScriptedReferences(Mutex::new(references))),
        calendar: SupportCalendar::published().expect("bundled time zone"),
        idempotency_ttl: SignedDuration::from_hours(24),
        notifier: guichet_core::notifications::rules::Notifier::bundled(),
        promises: guichet_core::promises::clocks::Promises::bundled().expect("bundled"),
    }
}

fn request(subject: &str) -> TicketRequest {
    let body = serde_json::json!({
        "channel": "email", "category": "transaction", "subject": subject,
        "description": "Mon retrait de 200 $ est en attente depuis trois jours."
    });
    TicketRequest::parse(&body, None, NOW.parse().expect("valid")).expect("valid request")
}

fn player(id: &str) -> PlayerId {
    PlayerId::parse(id).expect("valid player id")
}

fn key(raw: &str) -> Option<IdempotencyKey> {
    Some(IdempotencyKey::parse(raw).expect("valid key"))
}

fn receipt(outcome: Submitted) -> (bool, guichet_core::tickets::desk::Receipt) {
    match outcome {
        Submitted::Created(r, _) => (true, r),
        Submitted::Replayed(r) => (false, r),
    }
}

async fn count_for(desk: &Desk<DynamoTicketStore>, who: &str) -> usize {
    desk.tickets_of(&player(who), 50, None)
        .await
        .expect("listing")
        .items
        .len()
}

#[tokio::test]
async fn a_ticket_is_written_once_and_read_back_with_its_history() {
    let stack = fresh_stack().await;
    let desk = desk(&stack, FixedClock::at(NOW), vec![]);
    let (created, receipt) = receipt(
        desk.submit(player("p-1"), request("Retrait bloqué"), None, None)
            .await
            .expect("stored"),
    );
    assert!(created);
    let found = desk
        .ticket_of(&player("p-1"), &receipt.reference)
        .await
        .expect("read")
        .expect("present");
    assert_eq!(found.ticket.subject, "Retrait bloqué");
    assert_eq!(
        found.ticket.created_at,
        NOW.parse::<Timestamp>().expect("valid")
    );
    assert_eq!(found.history.len(), 1);
    assert_eq!(found.history[0].reason, "received");
    assert_eq!(
        desk.ticket_of(&player("p-2"), &receipt.reference)
            .await
            .expect("read"),
        None,
        "another player's ticket reads as absent"
    );
}

#[tokio::test]
async fn a_retry_with_the_same_key_replays_and_another_body_is_refused() {
    let stack = fresh_stack().await;
    let desk = desk(&stack, FixedClock::at(NOW), vec![]);
    let k = "retry-key-0001";
    let (first_created, first) = receipt(
        desk.submit(player("p-1"), request("Retrait"), key(k), None)
            .await
            .expect("stored"),
    );
    let (second_created, second) = receipt(
        desk.submit(player("p-1"), request("Retrait"), key(k), None)
            .await
            .expect("replayed"),
    );
    assert!(first_created && !second_created);
    assert_eq!(first, second);
    let refused = desk
        .submit(player("p-1"), request("Autre sujet"), key(k), None)
        .await;
    assert!(
        matches!(refused, Err(IntakeError::KeyReused)),
        "{refused:?}"
    );
    // Another player's identical key is theirs alone.
    let (other_created, other) = receipt(
        desk.submit(player("p-2"), request("Retrait"), key(k), None)
            .await
            .expect("stored"),
    );
    assert!(other_created);
    assert_ne!(other.reference, first.reference);
    assert_eq!(count_for(&desk, "p-1").await, 1);
}

#[tokio::test]
async fn concurrent_duplicates_write_exactly_one_ticket() {
    let stack = fresh_stack().await;
    let desk = Arc::new(desk(&stack, FixedClock::at(NOW), vec![]));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let desk = Arc::clone(&desk);
        tasks.spawn(async move {
            desk.submit(
                player("p-1"),
                request("Double clic"),
                key("double-click-42"),
                None,
            )
            .await
        });
    }
    let mut created = 0;
    let mut references = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let (was_created, r) = receipt(joined.expect("task").expect("submitted"));
        created += usize::from(was_created);
        references.push(r.reference);
    }
    assert_eq!(created, 1, "exactly one request created the ticket");
    references.dedup();
    assert_eq!(
        references.len(),
        1,
        "every duplicate answered the same ticket"
    );
    assert_eq!(count_for(&desk, "p-1").await, 1);
}

#[tokio::test]
async fn an_expired_key_is_free_again() {
    let stack = fresh_stack().await;
    let clock = FixedClock::at(NOW);
    let mut desk = desk(&stack, clock.clone(), vec![]);
    desk.idempotency_ttl = SignedDuration::from_hours(1);
    desk.submit(
        player("p-1"),
        request("Premier"),
        key("reused-key-0001"),
        None,
    )
    .await
    .expect("stored");
    clock.set(NOW.parse::<Timestamp>().expect("valid") + SignedDuration::from_hours(2));
    let (created, _) = receipt(
        desk.submit(
            player("p-1"),
            request("Second"),
            key("reused-key-0001"),
            None,
        )
        .await
        .expect("the expired binding no longer holds"),
    );
    assert!(created);
    assert_eq!(count_for(&desk, "p-1").await, 2);
}

#[tokio::test]
async fn a_reference_collision_draws_a_new_reference() {
    let stack = fresh_stack().await;
    let taken = TicketReference::from_random([7; 9]);
    let desk = desk(
        &stack,
        FixedClock::at(NOW),
        vec![taken.clone(), taken.clone()],
    );
    let (_, first) = receipt(
        desk.submit(player("p-1"), request("Premier ticket"), None, None)
            .await
            .expect("stored"),
    );
    let (_, second) = receipt(
        desk.submit(player("p-2"), request("Second ticket"), None, None)
            .await
            .expect("stored under another reference"),
    );
    assert_eq!(first.reference, taken);
    assert_ne!(second.reference, taken);
    // The first ticket was not overwritten by the second.
    let kept = desk
        .store
        .get(&taken)
        .await
        .expect("read")
        .expect("present");
    assert_eq!(kept.ticket.subject, "Premier ticket");
}

#[tokio::test]
async fn the_player_index_pages_newest_first() {
    let stack = fresh_stack().await;
    let clock = FixedClock::at(NOW);
    let desk = desk(&stack, clock.clone(), vec![]);
    let start: Timestamp = NOW.parse().expect("valid");
    for i in 0..5 {
        clock.set(start + SignedDuration::from_mins(i));
        desk.submit(player("p-1"), request(&format!("Demande {i}")), None, None)
            .await
            .expect("stored");
    }
    desk.submit(player("p-2"), request("Pas à moi"), None, None)
        .await
        .expect("stored");
    let mut subjects = Vec::new();
    let mut next = None;
    let mut pages = 0;
    loop {
        let page = desk
            .tickets_of(&player("p-1"), 2, next.as_ref())
            .await
            .expect("page");
        pages += 1;
        subjects.extend(page.items.into_iter().map(|t| t.subject));
        next = page.next;
        if next.is_none() {
            break;
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(
        subjects,
        [
            "Demande 4",
            "Demande 3",
            "Demande 2",
            "Demande 1",
            "Demande 0"
        ]
    );
}

async fn stored_ticket(
    store: &DynamoTicketStore,
    reference: &TicketReference,
) -> guichet_core::tickets::ticket::Ticket {
    store
        .get(reference)
        .await
        .expect("read")
        .expect("present")
        .ticket
}

async fn write_seen(
    store: &DynamoTicketStore,
    change: guichet_core::tickets::workflow::Change,
    fingerprint: &str,
) -> guichet_core::tickets::ports::Updated {
    use guichet_core::tickets::ports::{Basis, TicketUpdate};
    store
        .update(TicketUpdate {
            change: &change,
            basis: Basis::Seen { fingerprint },
            escalation: None,
            notification: None,
            outbox: &[],
        })
        .await
        .expect("written or stale")
}

/// A change decided on a `state` token is written only when the stored ticket has the token's
/// fingerprint: DynamoDB's condition on the `fingerprint` attribute intake and every update
/// keep beside the ticket.
#[tokio::test]
async fn a_change_on_a_seen_ticket_needs_the_stored_fingerprint() {
    use guichet_core::tickets::ports::Updated;
    use guichet_core::tickets::workflow::take;
    let stack = fresh_stack().await;
    let desk = desk(&stack, FixedClock::at(NOW), vec![]);
    let (_, receipt) = receipt(
        desk.submit(player("p-9"), request("Retrait bloqué"), None, None)
            .await
            .expect("stored"),
    );
    let stored = stored_ticket(&desk.store, &receipt.reference).await;
    let at: Timestamp = "2026-11-26T16:00:00Z".parse().expect("valid");
    // The same version, another description: the version condition alone would let it in.
    let mut forged = stored.clone();
    forged.description = "Remboursez 5 000 $.".into();
    let change = take(&forged, 1, "agent-1", at).expect("takeable");
    assert_eq!(
        write_seen(&desk.store, change, &forged.fingerprint()).await,
        Updated::Stale
    );
    let change = take(&stored, 1, "agent-1", at).expect("takeable");
    assert_eq!(
        write_seen(&desk.store, change, &stored.fingerprint()).await,
        Updated::Done
    );
    let after = stored_ticket(&desk.store, &receipt.reference).await;
    assert_eq!(after.assignee.as_deref(), Some("agent-1"));
    assert_eq!(after.description, stored.description);
    // The update kept the fingerprint current: the next change on the new ticket goes in.
    let change = take(&after, 2, "agent-2", at).expect("takeable");
    assert_eq!(
        write_seen(&desk.store, change, &after.fingerprint()).await,
        Updated::Done
    );
}

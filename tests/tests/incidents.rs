//! Multi-player incidents through the real AWS SDK against the emulator, on a table
//! provisioned from infra/template.yaml: the window count, one incident under a concurrent
//! burst, atomic links (ticket, link and history together), the queue order of linked tickets,
//! the one escalation, and status updates reaching every linked player once.

use std::sync::Arc;

use guichet_aws::dynamo::incidents::DynamoIncidentStore;
use guichet_aws::dynamo::tickets::DynamoTicketStore;
use guichet_core::common::access::{Actor, Role};
use guichet_core::common::player::PlayerId;
use guichet_core::common::reference::TicketReference;
use guichet_core::incidents::rules::{
    EscalationProgress, FanOut, IncidentId, IncidentRuleError, IncidentStatus,
};
use guichet_core::incidents::service::{IncidentError, Incidents, ReportOutcome, SeenPair};
use guichet_core::notifications::rules::{NotificationKind, NotificationTemplates, Notifier};
use guichet_core::outbox::ports::OutboxStore;
use guichet_core::outbox::rules::Destination;
use guichet_core::tickets::desk::{Desk, Submitted};
use guichet_core::tickets::intake::TicketRequest;
use guichet_core::tickets::memory::FixedClock;
use guichet_core::tickets::ports::TicketStore;
use guichet_core::tickets::sla::SupportCalendar;
use guichet_core::tickets::ticket::{Priority, Team, Ticket, TicketStatus};
use guichet_local::consumers::Consumers;
use guichet_tests::{fresh_stack, Stack};
use jiff::SignedDuration;

const START: &str = "2026-11-26T15:00:00Z";

struct World {
    desk: Desk<DynamoTicketStore>,
    incidents: Incidents<DynamoIncidentStore>,
    clock: FixedClock,
    stack: Stack,
}

impl World {
    async fn new() -> World {
        let stack = fresh_stack().await;
        let clock = FixedClock::at(START);
        World {
            desk: desk(&stack, clock.clone()),
            incidents: stack.incidents(),
            clock,
            stack,
        }
    }

    /// The incident-updates function's consumer (only that queue), as `scripts/up` runs it.
    async fn fan_out_consumer(&self) -> Consumers {
        self.stack
            .consumers(&[(
                "IncidentUpdatesQueue",
                &self.stack.incident_updates_queue_url,
            )])
            .await
    }

    /// What waits on the notifications queue (received and deleted), bodies as text.
    async fn notifications_sent(&self) -> Vec<String> {
        let sqs = self.stack.sqs();
        let mut bodies = Vec::new();
        loop {
            let received = sqs
                .receive_message()
                .queue_url(&self.stack.notifications_queue_url)
                .max_number_of_messages(10)
                .send()
                .await
                .expect("receive");
            let messages = received.messages();
            if messages.is_empty() {
                return bodies;
            }
            for message in messages {
                bodies.push(message.body().unwrap_or_default().to_owned());
                sqs.delete_message()
                    .queue_url(&self.stack.notifications_queue_url)
                    .receipt_handle(message.receipt_handle().unwrap_or_default())
                    .send()
                    .await
                    .expect("delete");
            }
        }
    }

    /// How many of `references` have a notification of `kind`.
    async fn told(&self, references: &[TicketReference], kind: NotificationKind) -> usize {
        let mut told = 0;
        for reference in references {
            told += self
                .ticket(reference)
                .await
                .notifications
                .iter()
                .filter(|n| n.kind == kind)
                .count();
        }
        told
    }

    fn later(&self, minutes: i64) {
        self.clock.set(
            jiff::Timestamp::from_millisecond(now_ms(&self.clock) + minutes * 60_000)
                .expect("valid"),
        );
    }

    /// A player's report of a problem with `game`, stored by intake (not yet recorded).
    async fn submit(&self, player: &str, game: &str) -> TicketReference {
        submit(&self.desk, player, game).await
    }

    async fn record(&self, reference: &TicketReference) -> ReportOutcome {
        self.incidents
            .record_report(&self.desk, reference)
            .await
            .expect("recorded")
            .outcome
    }

    async fn report(&self, player: &str, game: &str) -> (TicketReference, ReportOutcome) {
        let reference = self.submit(player, game).await;
        let outcome = self.record(&reference).await;
        (reference, outcome)
    }

    /// A player's report of a payment made with `system` (no game named), stored and recorded.
    async fn report_payment(&self, player: &str, system: &str) -> (TicketReference, ReportOutcome) {
        let incident = serde_json::json!({"occurred_at": "2026-11-26T09:40:00-05:00",
                                          "payment_system": system, "steps_tried": []});
        let reference = submit_incident(&self.desk, player, incident).await;
        let outcome = self.record(&reference).await;
        (reference, outcome)
    }

    /// Three reports of `game`, ten minutes apart: the incident they open.
    async fn incident(&self, game: &str) -> (IncidentId, Vec<TicketReference>) {
        let mut references = Vec::new();
        let mut opened = None;
        for i in 0..3 {
            let (reference, outcome) = self
                .report(&format!("player-{}-{i}", game.replace(' ', "_")), game)
                .await;
            if let ReportOutcome::Opened { incident, .. } = outcome {
                opened = Some(incident);
            }
            references.push(reference);
            self.later(10);
        }
        (opened.expect("the third report opens it"), references)
    }

    async fn ticket(
        &self,
        reference: &TicketReference,
    ) -> guichet_core::tickets::ports::TicketWithHistory {
        self.desk
            .store
            .get(reference)
            .await
            .expect("read")
            .expect("found")
    }

    async fn pending(&self, destination: Destination) -> Vec<String> {
        self.desk
            .store
            .pending(500)
            .await
            .expect("outbox")
            .into_iter()
            .filter(|m| m.destination == destination)
            .map(|m| m.body)
            .collect()
    }
}

fn now_ms(clock: &FixedClock) -> i64 {
    guichet_core::common::clock::Clock::now(clock).as_millisecond()
}

fn desk(stack: &Stack, clock: FixedClock) -> Desk<DynamoTicketStore> {
    let calendar = SupportCalendar::published().expect("bundled time zone");
    Desk {
        store: DynamoTicketStore::new(stack.dynamodb(), stack.tickets_table.clone()),
        clock: Box::new(clock),
        references: Box::new(guichet_core::common::clock::RandomReferences),
        notifier: Notifier::new(
            NotificationTemplates::bundled().expect("bundled templates"),
            calendar.zone().clone(),
        ),
        calendar,
        idempotency_ttl: SignedDuration::from_hours(24),
        promises: guichet_core::promises::clocks::Promises::bundled().expect("bundled"),
    }
}

async fn submit(desk: &Desk<DynamoTicketStore>, player: &str, game: &str) -> TicketReference {
    let incident = serde_json::json!({"occurred_at": "2026-11-26T09:40:00-05:00",
                                      "game_name": game, "steps_tried": ["Rechargé la page"]});
    submit_incident(desk, player, incident).await
}

async fn submit_incident(
    desk: &Desk<DynamoTicketStore>,
    player: &str,
    incident: serde_json::Value,
) -> TicketReference {
    let body = serde_json::json!({
        "channel": "chat", "category": "incident", "subject": "Jeu figé pendant une mise",
        "description": "La roue s'est arrêtée et ma mise de 20 $ a quitté mon solde.",
        "incident": incident
    });
    let now = guichet_core::common::clock::Clock::now(desk.clock.as_ref());
    let request = TicketRequest::parse(&body, None, now).expect("valid request");
    let player = PlayerId::parse(player).expect("valid player id");
    match desk
        .submit(player, request, None, None)
        .await
        .expect("stored")
    {
        Submitted::Created(receipt, _) | Submitted::Replayed(receipt) => receipt.reference,
    }
}

/// An incident on `subject` opened at `at` by three reports, its id, trigger and escalation
/// drawn from `seed` (the id's random symbols all `seed`).
fn opening(
    seed: u8,
    subject: &guichet_core::incidents::rules::Subject,
    at: jiff::Timestamp,
) -> guichet_core::incidents::rules::Incident {
    use guichet_core::incidents::rules::{open, Opening};
    open(Opening {
        id: IncidentId::from_random([seed; 12]),
        subject: subject.clone(),
        trigger: TicketReference::from_random([seed; 9]),
        reports: 3,
        threshold: 3,
        window: SignedDuration::from_mins(60),
        window_start: at,
        escalation_id: guichet_core::outbox::rules::MessageId::from_bytes([seed; 16]),
        at,
    })
}

fn supervisor() -> Actor {
    Actor {
        subject: PlayerId::parse("sup-0001").expect("valid"),
        roles: vec![Role::Supervisor],
        teams: vec![],
        email: None,
    }
}

fn linked_to(ticket: &Ticket, id: &IncidentId) -> bool {
    ticket.linked_incident.as_deref() == Some(id.as_str())
}

#[tokio::test]
async fn reports_of_the_same_game_within_the_window_open_one_urgent_incident() {
    let world = World::new().await;
    // An earlier, ordinary games ticket: linked tickets must overtake it in the queue.
    let (earlier, outcome) = world.report("player-b", "Blackjack Classique").await;
    assert_eq!(outcome, ReportOutcome::Counted { reports: 1 });
    world.later(1);

    let mut references = Vec::new();
    let mut opened = None;
    for (i, name) in ["Roulette Royale", "roulette  royale", " ROULETTE ROYALE "]
        .iter()
        .enumerate()
    {
        let (reference, outcome) = world.report(&format!("player-{i}"), name).await;
        match i {
            0 | 1 => assert_eq!(outcome, ReportOutcome::Counted { reports: i + 1 }),
            _ => match outcome {
                ReportOutcome::Opened { incident, linked } => {
                    assert_eq!(linked, 3);
                    opened = Some(incident);
                }
                other => panic!("the third report opens the incident, got {other:?}"),
            },
        }
        references.push(reference);
        world.later(5);
    }
    let id = opened.expect("opened");

    let record = world
        .incidents
        .view(&supervisor(), &id)
        .await
        .expect("readable");
    assert_eq!(record.incident.status, IncidentStatus::Open);
    assert_eq!(record.incident.team, Team::Games);
    assert_eq!(record.incident.subject.key(), "game:roulette royale");
    assert_eq!(record.links.len(), 3);
    assert_eq!(
        record.incident.escalation.state,
        EscalationProgress::Requested
    );
    assert_eq!(record.incident.escalation.reference, references[2]);

    for reference in &references {
        let found = world.ticket(reference).await;
        assert!(linked_to(&found.ticket, &id), "{reference} linked");
        assert_eq!(found.ticket.priority, Priority::Urgent);
        // The history line written beside the link reads back through the ticket store.
        assert!(
            found.history.iter().any(|h| h.reason == "incident_linked"),
            "{:?}",
            found.history
        );
    }
    // One escalation, on the report that reached the threshold.
    let trigger = world.ticket(&references[2]).await;
    assert_eq!(trigger.ticket.status, TicketStatus::Escalated);
    assert_eq!(trigger.escalations.len(), 1);
    assert_eq!(trigger.escalations[0].id, record.incident.escalation.id);
    assert_eq!(trigger.escalations[0].to_team, Team::Games);
    assert_eq!(world.pending(Destination::Escalations).await.len(), 1);

    // The queue serves the linked (urgent) reports before the earlier ordinary one.
    let queue = world
        .desk
        .team_queue(Team::Games, 10, None)
        .await
        .expect("queue");
    let order: Vec<&TicketReference> = queue.items.iter().map(|t| &t.reference).collect();
    assert_eq!(order.len(), 4, "{order:?}");
    assert_eq!(order[..3], references.iter().collect::<Vec<_>>()[..]);
    assert_eq!(order[3], &earlier);

    // A later report in the window joins the incident; the team is not told twice.
    let (fourth, outcome) = world.report("player-4", "Roulette royale").await;
    assert_eq!(outcome, ReportOutcome::Linked(id.clone()));
    assert!(linked_to(&world.ticket(&fourth).await.ticket, &id));
    assert_eq!(
        world.record(&fourth).await,
        ReportOutcome::Linked(id.clone()),
        "idempotent"
    );
    assert_eq!(world.pending(Destination::Escalations).await.len(), 1);
    let record = world
        .incidents
        .view(&supervisor(), &id)
        .await
        .expect("readable");
    assert_eq!(record.links.len(), 4);
}

#[tokio::test]
async fn reports_of_the_same_payment_system_open_one_incident_owned_by_payments() {
    let world = World::new().await;
    let mut references = Vec::new();
    let mut opened = None;
    for (i, system) in [
        "Interac  e-Transfer",
        "interac e-transfer",
        " INTERAC E-Transfer ",
    ]
    .iter()
    .enumerate()
    {
        let (reference, outcome) = world.report_payment(&format!("payer-{i}"), system).await;
        match outcome {
            ReportOutcome::Counted { reports } if i < 2 => assert_eq!(reports, i + 1),
            ReportOutcome::Opened { incident, linked } if i == 2 => {
                assert_eq!(linked, 3);
                opened = Some(incident);
            }
            other => panic!("report {i}: {other:?}"),
        }
        references.push(reference);
        world.later(5);
    }
    let id = opened.expect("the third report opens it");
    let record = world
        .incidents
        .view(&supervisor(), &id)
        .await
        .expect("readable");
    assert_eq!(record.incident.team, Team::Payments);
    assert_eq!(record.incident.subject.key(), "payment:interac e-transfer");
    assert_eq!(record.links.len(), 3);
    for reference in &references {
        let ticket = world.ticket(reference).await.ticket;
        assert!(linked_to(&ticket, &id), "{reference} linked");
        assert_eq!(ticket.team, Team::Payments);
        assert_eq!(ticket.priority, Priority::Urgent);
    }
    // The one escalation goes to the payments team.
    let trigger = world.ticket(&references[2]).await;
    assert_eq!(trigger.escalations.len(), 1);
    assert_eq!(trigger.escalations[0].to_team, Team::Payments);
    assert_eq!(world.pending(Destination::Escalations).await.len(), 1);
    // Another payment system is another subject.
    let (_, outcome) = world.report_payment("payer-3", "PayPal").await;
    assert_eq!(outcome, ReportOutcome::Counted { reports: 1 });
}

#[tokio::test]
async fn a_report_outside_the_window_is_not_linked() {
    let world = World::new().await;
    let (old, _) = world.report("player-0", "Poker Rapide").await;
    world.later(61);
    let mut outcomes = Vec::new();
    for i in 1..=3 {
        let (_, outcome) = world.report(&format!("player-{i}"), "Poker Rapide").await;
        outcomes.push(outcome);
        world.later(1);
    }
    assert_eq!(
        outcomes[0],
        ReportOutcome::Counted { reports: 1 },
        "the old one is out"
    );
    assert_eq!(outcomes[1], ReportOutcome::Counted { reports: 2 });
    let ReportOutcome::Opened { incident, linked } = &outcomes[2] else {
        panic!("the third report in the window opens it: {outcomes:?}");
    };
    assert_eq!(*linked, 3);
    let record = world
        .incidents
        .view(&supervisor(), incident)
        .await
        .expect("readable");
    assert!(record.links.iter().all(|l| l.reference != old));
    let old = world.ticket(&old).await.ticket;
    assert_eq!(old.linked_incident, None);
    assert_eq!(old.priority, Priority::Normal);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_concurrent_burst_opens_one_incident() {
    let world = Arc::new(World::new().await);
    let mut references = Vec::new();
    for i in 0..6 {
        references.push(
            world
                .submit(&format!("burst-{i}"), "Machine à sous Dorée")
                .await,
        );
    }
    let mut tasks = Vec::new();
    for reference in references.clone() {
        let world = Arc::clone(&world);
        tasks.push(tokio::spawn(async move {
            world
                .incidents
                .record_report(&world.desk, &reference)
                .await
                .map(|r| r.outcome)
        }));
    }
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.expect("task").expect("recorded"));
    }
    let opened: Vec<&IncidentId> = outcomes
        .iter()
        .filter_map(|o| match o {
            ReportOutcome::Opened { incident, .. } => Some(incident),
            _ => None,
        })
        .collect();
    assert_eq!(opened.len(), 1, "{outcomes:?}");
    let id = opened[0].clone();
    for outcome in &outcomes {
        assert!(
            matches!(
                outcome,
                ReportOutcome::Opened { .. }
                    | ReportOutcome::Linked(_)
                    | ReportOutcome::Counted { .. }
            ),
            "{outcome:?}"
        );
        if let ReportOutcome::Linked(other) = outcome {
            assert_eq!(other, &id);
        }
    }
    // Every report of the burst ends up linked to it, whatever the interleaving.
    for reference in &references {
        let ticket = world.ticket(reference).await.ticket;
        assert!(linked_to(&ticket, &id), "{reference}: {outcomes:?}");
        assert_eq!(ticket.priority, Priority::Urgent);
    }
    let record = world
        .incidents
        .view(&supervisor(), &id)
        .await
        .expect("readable");
    assert_eq!(record.links.len(), 6);
    assert_eq!(
        world.pending(Destination::Escalations).await.len(),
        1,
        "one escalation"
    );
}

#[tokio::test]
async fn staff_link_and_unlink_a_ticket_by_hand() {
    let world = World::new().await;
    let (id, _) = world.incident("Roulette Royale").await;
    // Misspelt: its own subject, so the rule leaves it alone.
    let (stray, outcome) = world.report("player-s", "Roulete Royal").await;
    assert_eq!(outcome, ReportOutcome::Counted { reports: 1 });
    let caller = supervisor();

    let linked = world
        .incidents
        .link(&world.desk, &caller, &id, &stray, SeenPair::default())
        .await
        .expect("linked");
    assert!(linked.changed);
    assert_eq!(
        world
            .incidents
            .view(&caller, &id)
            .await
            .expect("view")
            .links
            .len(),
        4
    );
    let found = world.ticket(&stray).await;
    assert!(linked_to(&found.ticket, &id));
    assert_eq!(found.ticket.priority, Priority::Urgent);
    assert_eq!(found.ticket.version, linked.ticket.version);
    let queue = world
        .desk
        .team_queue(Team::Games, 10, None)
        .await
        .expect("queue");
    assert_eq!(
        queue
            .items
            .iter()
            .filter(|t| t.priority == Priority::Urgent)
            .count(),
        4
    );

    let again = world
        .incidents
        .link(&world.desk, &caller, &id, &stray, SeenPair::default())
        .await
        .expect("idempotent");
    assert!(!again.changed);
    assert_eq!(
        world
            .incidents
            .view(&caller, &id)
            .await
            .expect("view")
            .links
            .len(),
        4
    );

    let unlinked = world
        .incidents
        .unlink(&world.desk, &caller, &id, &stray, SeenPair::default())
        .await
        .expect("unlinked");
    assert_eq!(unlinked.ticket.linked_incident, None);
    assert_eq!(
        world
            .incidents
            .view(&caller, &id)
            .await
            .expect("view")
            .links
            .len(),
        3
    );
    let found = world.ticket(&stray).await;
    assert_eq!(found.ticket.linked_incident, None);
    assert_eq!(
        found.ticket.priority,
        Priority::Normal,
        "back to its intake priority"
    );
    let line = found
        .history
        .iter()
        .find(|h| h.reason == "incident_unlinked")
        .expect("history says who unlinked it");
    assert_eq!(
        line.actor,
        guichet_core::common::player::Author::Staff {
            id: "sup-0001".into()
        }
    );
    // Back in arrival order among the normal tickets: last in the queue.
    let queue = world
        .desk
        .team_queue(Team::Games, 10, None)
        .await
        .expect("queue");
    assert_eq!(queue.items.last().map(|t| &t.reference), Some(&stray));
    assert!(matches!(
        world
            .incidents
            .unlink(&world.desk, &caller, &id, &stray, SeenPair::default())
            .await,
        Err(IncidentError::Rule(IncidentRuleError::NotLinked))
    ));

    // A ticket of another incident stays with it.
    let (_, others) = world.incident("Blackjack").await;
    assert!(matches!(
        world
            .incidents
            .link(&world.desk, &caller, &id, &others[0], SeenPair::default())
            .await,
        Err(IncidentError::Rule(IncidentRuleError::LinkedElsewhere))
    ));
}

#[tokio::test]
async fn a_status_update_reaches_every_linked_player_once() {
    let world = World::new().await;
    let (id, references) = world.incident("Roulette Royale").await;
    let caller = supervisor();
    let note = Some("Correctif 2.3.1 déployé".to_owned());
    let consumer = world.fan_out_consumer().await;
    // The reports' own notifications, relayed first, so that only the update's are counted.
    guichet_tests::drain(&consumer).await;
    world.notifications_sent().await;

    let update = world
        .incidents
        .update_status(
            &world.desk,
            &caller,
            &id,
            1,
            IncidentStatus::Monitoring,
            note.clone(),
            None,
        )
        .await
        .expect("updated");
    assert_eq!(update.incident.version, 2);
    assert_eq!(
        world
            .incidents
            .view(&caller, &id)
            .await
            .expect("view")
            .updates
            .len(),
        1
    );
    // The fan-out's first page was written with the update, in the same transaction.
    assert_eq!(world.pending(Destination::IncidentUpdates).await.len(), 1);
    assert_eq!(
        world
            .told(&references, NotificationKind::IncidentUpdate)
            .await,
        0
    );

    // The table's stream relays it; the incident-updates function takes it from the real
    // queue.
    let drained = guichet_tests::drain(&consumer).await;
    assert_eq!((drained.received, drained.failed), (1, 0), "{drained:?}");
    assert!(world.pending(Destination::IncidentUpdates).await.is_empty());
    assert_eq!(
        world
            .told(&references, NotificationKind::IncidentUpdate)
            .await,
        3
    );
    let news = world.notifications_sent().await;
    assert_eq!(news.len(), 3, "one message per linked player: {news:?}");
    assert!(news.iter().all(|b| b.contains("\"incident_update\"")));
    assert!(
        news.iter().all(|b| !b.contains("Correctif")),
        "the note stays with staff"
    );

    // Sent again (a retry): nothing new is written, the same page runs again, nobody is told
    // twice.
    let replay = world
        .incidents
        .update_status(
            &world.desk,
            &caller,
            &id,
            1,
            IncidentStatus::Monitoring,
            note,
            None,
        )
        .await
        .expect("replayed");
    assert!(replay.replayed);
    assert_eq!(replay.outbox, update.outbox);
    // Nothing was written, so the stream has nothing to relay: no page runs again.
    let drained = guichet_tests::drain(&consumer).await;
    assert_eq!((drained.received, drained.failed), (0, 0), "{drained:?}");
    assert_eq!(
        world
            .told(&references, NotificationKind::IncidentUpdate)
            .await,
        3
    );
    assert!(world.notifications_sent().await.is_empty());

    let resolved = world
        .incidents
        .update_status(
            &world.desk,
            &caller,
            &id,
            2,
            IncidentStatus::Resolved,
            None,
            None,
        )
        .await
        .expect("resolved");
    assert!(!resolved.outbox.is_empty());
    guichet_tests::drain(&consumer).await;
    for reference in &references {
        let found = world.ticket(reference).await;
        assert_eq!(found.ticket.status, TicketStatus::Resolved);
        assert!(found
            .history
            .iter()
            .any(|h| h.reason == "incident_resolved"));
    }
    assert_eq!(world.told(&references, NotificationKind::Resolved).await, 3);
    let queue = world
        .desk
        .team_queue(Team::Games, 10, None)
        .await
        .expect("queue");
    assert!(queue.items.is_empty(), "resolved tickets leave the queue");

    // The outbreak is over: the next report counts afresh instead of joining it.
    world.later(1);
    let (_, outcome) = world.report("player-late", "Roulette Royale").await;
    assert_eq!(outcome, ReportOutcome::Counted { reports: 1 });
}

/// A large incident's fan-out, a page at a time against the real table: every linked player
/// once, in as many pages as it takes, and a page run twice tells nobody twice.
#[tokio::test]
async fn a_fan_out_goes_page_by_page_and_a_page_run_twice_tells_nobody_twice() {
    let world = World::new().await;
    let (id, mut references) = world.incident("Mega Fortune").await;
    // Two more reports of the outbreak join it.
    for i in 0..2 {
        let (reference, outcome) = world
            .report(&format!("player-more-{i}"), "Mega Fortune")
            .await;
        assert_eq!(outcome, ReportOutcome::Linked(id.clone()));
        references.push(reference);
    }
    let update = world
        .incidents
        .update_status(
            &world.desk,
            &supervisor(),
            &id,
            1,
            IncidentStatus::Monitoring,
            None,
            None,
        )
        .await
        .expect("updated");
    let first: FanOut = serde_json::from_str(&update.outbox[0].body).expect("a page");

    let mut page = Some(first.clone());
    let mut pages = 0;
    while let Some(current) = page {
        let done = world
            .incidents
            .fan_out(&world.desk, &current, 2)
            .await
            .expect("a page");
        assert!(done.notified <= 2);
        pages += 1;
        page = done.next;
    }
    assert_eq!(pages, 3, "five tickets, two a page");
    assert_eq!(
        world
            .told(&references, NotificationKind::IncidentUpdate)
            .await,
        5
    );

    let again = world
        .incidents
        .fan_out(&world.desk, &first, 2)
        .await
        .expect("the first page again");
    assert_eq!(again.notified, 0);
    assert!(again.next.is_some());
    assert_eq!(
        world
            .told(&references, NotificationKind::IncidentUpdate)
            .await,
        5
    );
}

/// A team's current incidents are spread over four index partitions: every page merges them
/// newest first, and an incident opened before the sharding (under the one `INCIDENTS#<team>`
/// of before) keeps its place until its resolution takes it out.
#[tokio::test]
async fn current_incidents_page_across_their_shards_and_the_partition_of_before() {
    use guichet_core::incidents::ports::{IncidentStore, Opened};
    use guichet_core::incidents::rules::Subject;

    let world = World::new().await;
    let store = &world.incidents.store;
    let start: jiff::Timestamp = START.parse().expect("valid");
    // Seven incidents whose ids' random symbols start with 0 to 6 (shards 0 to 3, then 0 to
    // 2), a minute apart, each its own game.
    let mut opened = Vec::new();
    for seed in 0..7u8 {
        let at = start + SignedDuration::from_mins(i64::from(seed));
        let subject = Subject::from_report(Some(&format!("Machine {seed}")), None).expect("named");
        let incident = opening(seed, &subject, at);
        assert_eq!(
            store.open(&incident).await.expect("written"),
            Opened::Created
        );
        opened.push(incident.id);
    }
    let legacy = opened[2].clone();
    world
        .stack
        .move_gsi2_entry(
            &format!("INCIDENT#{}", legacy.as_str()),
            "INCIDENT",
            "INCIDENTS#games",
        )
        .await;

    let caller = supervisor();
    let listed = |expected: usize| {
        let world = &world;
        let caller = &caller;
        async move {
            let mut seen = Vec::new();
            let mut cursor = None;
            loop {
                let page = world
                    .incidents
                    .current(caller, Team::Games, 2, cursor.as_ref())
                    .await
                    .expect("a page");
                assert!(!page.items.is_empty() && page.items.len() <= 2);
                seen.extend(page.items.into_iter().map(|i| i.id));
                match page.next {
                    Some(next) => cursor = Some(next),
                    None => break,
                }
            }
            assert_eq!(seen.len(), expected, "{seen:?}");
            seen
        }
    };
    // Newest first, each once, whichever partition it is in.
    let mut newest_first = opened.clone();
    newest_first.reverse();
    assert_eq!(listed(7).await, newest_first);

    world
        .incidents
        .update_status(
            &world.desk,
            &caller,
            &legacy,
            1,
            IncidentStatus::Resolved,
            None,
            None,
        )
        .await
        .expect("resolved");
    newest_first.retain(|id| *id != legacy);
    assert_eq!(listed(6).await, newest_first);
}

/// The store's guarantee the burst relies on, without timing luck: the subject's marker admits
/// one open incident, and a new one again once that one is resolved.
#[tokio::test]
async fn the_subject_marker_admits_one_open_incident_at_a_time() {
    use guichet_core::incidents::ports::{IncidentStore, Opened};
    use guichet_core::incidents::rules::{change_status, Subject};

    let world = World::new().await;
    let store = &world.incidents.store;
    let subject = Subject::from_report(Some("Roulette Royale"), None).expect("named");
    let at: jiff::Timestamp = START.parse().expect("valid");
    let opening = |seed: u8| opening(seed, &subject, at);
    let first = opening(1);
    assert_eq!(store.open(&first).await.expect("written"), Opened::Created);
    assert_eq!(
        store.open(&opening(2)).await.expect("refused"),
        Opened::SubjectTaken
    );
    let marker = store.marker(&subject).await.expect("read").expect("marker");
    assert_eq!(marker.incident, first.id);
    assert!(marker.is_open());

    let staff = guichet_core::common::player::Author::Staff {
        id: "sup-0001".into(),
    };
    let (resolved, update) =
        change_status(&first, 1, IncidentStatus::Resolved, None, staff, at).expect("resolves");
    let page = guichet_core::incidents::rules::FanOut::first(&first.id, &update);
    let fan_out = guichet_core::outbox::rules::OutboxMessage::new(
        page.message_id(),
        Destination::IncidentUpdates,
        first.id.as_str(),
        &page,
        at,
    )
    .expect("a message");
    assert_eq!(
        store
            .save_status(&resolved, 1, &update, &fan_out, Default::default())
            .await
            .expect("written"),
        guichet_core::tickets::ports::Updated::Done
    );
    assert_eq!(
        store
            .save_status(&resolved, 1, &update, &fan_out, Default::default())
            .await
            .expect("refused"),
        guichet_core::tickets::ports::Updated::Stale,
        "the version moved"
    );
    let marker = store.marker(&subject).await.expect("read").expect("marker");
    assert_eq!(marker.resolved_at, Some(at));
    assert_eq!(
        store.open(&opening(3)).await.expect("written"),
        Opened::Created
    );
}

/// `GET /incidents`'s read: a team's current incidents, newest first, a page at a time, on the
/// sparse index that a resolution leaves.
#[tokio::test]
async fn a_teams_current_incidents_are_listed_newest_first_until_resolved() {
    let world = World::new().await;
    let caller = supervisor();
    let mut opened = Vec::new();
    for game in ["Roulette Royale", "Blackjack Classique", "Poker Pro"] {
        let (id, _) = world.incident(game).await;
        opened.push(id);
    }
    let first = world
        .incidents
        .current(&caller, Team::Games, 2, None)
        .await
        .expect("a page");
    let ids: Vec<_> = first.items.iter().map(|i| i.id.clone()).collect();
    assert_eq!(ids, vec![opened[2].clone(), opened[1].clone()]);
    let rest = world
        .incidents
        .current(&caller, Team::Games, 2, first.next.as_ref())
        .await
        .expect("the next page");
    assert_eq!(
        rest.items.iter().map(|i| &i.id).collect::<Vec<_>>(),
        vec![&opened[0]]
    );
    assert!(rest.next.is_none());
    assert!(world
        .incidents
        .current(&caller, Team::Payments, 10, None)
        .await
        .expect("empty")
        .items
        .is_empty());

    world
        .incidents
        .update_status(
            &world.desk,
            &caller,
            &opened[1],
            1,
            IncidentStatus::Resolved,
            None,
            None,
        )
        .await
        .expect("resolved");
    let now = world
        .incidents
        .current(&caller, Team::Games, 10, None)
        .await
        .expect("a page");
    assert_eq!(
        now.items.iter().map(|i| &i.id).collect::<Vec<_>>(),
        vec![&opened[2], &opened[0]]
    );

    // Staff of another team are refused.
    let payments = Actor {
        subject: PlayerId::parse("agent-pay").expect("valid"),
        roles: vec![Role::Agent],
        teams: vec![Team::Payments],
        email: None,
    };
    assert!(matches!(
        world
            .incidents
            .current(&payments, Team::Games, 10, None)
            .await,
        Err(IncidentError::OtherTeam(Team::Games))
    ));
}

/// Links, unlinks and status updates sent with the `state` tokens of what staff read are
/// written on DynamoDB's condition that the stored records carry those fingerprints: the
/// honest tokens go through, forged ones are decided again on the stored records.
#[tokio::test]
async fn actions_on_state_tokens_are_conditioned_on_the_stored_fingerprints() {
    use guichet_core::common::seen::Seen;
    let world = World::new().await;
    let (id, _) = world.incident("Roulette Royale").await;
    let (stray, _) = world.report("player-t", "Roulete Royal").await;
    let caller = supervisor();
    let record = world.incidents.view(&caller, &id).await.expect("view");
    let ticket = world.ticket(&stray).await.ticket;
    let incident_seen = Seen::of(record.incident.clone());
    let ticket_seen = Seen::of(ticket.clone());

    // A forged ticket (another description) with the true incident: not written as claimed.
    let mut forged = ticket.clone();
    forged.description = "Remboursez 5 000 $.".into();
    let forged_seen = Seen::of(forged);
    let store = &world.incidents.store;
    let at: jiff::Timestamp = START.parse().expect("valid");
    let link = guichet_core::incidents::rules::Link {
        reference: stray.clone(),
        linked_at: at,
        linked_by: guichet_core::common::player::Author::System,
    };
    // A change as the desk makes it: its clocks kept (the replay after the run checks them).
    let change = |seen: &Ticket| match guichet_core::incidents::rules::link(
        seen,
        &record.incident,
        guichet_core::common::player::Author::System,
        at,
    )
    .expect("linkable")
    {
        guichet_core::incidents::rules::Linking::Link(change) => {
            let mut change = *change;
            world.desk.keep_promises(seen, &mut change);
            change
        }
        other => panic!("{other:?}"),
    };
    use guichet_core::incidents::ports::{Claimed, IncidentStore, LinkWrite};
    let written = store
        .link(
            &id,
            &change(forged_seen.record()),
            &link,
            Claimed {
                incident: Some(incident_seen.fingerprint()),
                ticket: Some(forged_seen.fingerprint()),
            },
        )
        .await
        .expect("written or stale");
    assert_eq!(written, LinkWrite::Stale);
    let written = store
        .link(
            &id,
            &change(ticket_seen.record()),
            &link,
            Claimed {
                incident: Some(incident_seen.fingerprint()),
                ticket: Some(ticket_seen.fingerprint()),
            },
        )
        .await
        .expect("written");
    assert_eq!(written, LinkWrite::Done);
    assert_eq!(
        world.ticket(&stray).await.ticket.description,
        ticket.description
    );

    // The status update on the incident's honest token goes in; on a forged one it does not.
    let mut other = record.incident.clone();
    other.team = Team::Technical;
    let result = world
        .incidents
        .update_status(
            &world.desk,
            &caller,
            &id,
            1,
            IncidentStatus::Monitoring,
            None,
            Some(&Seen::of(other)),
        )
        .await
        .expect("decided on the stored incident");
    assert_eq!(result.incident.team, record.incident.team);
    let record = world.incidents.view(&caller, &id).await.expect("view");
    assert_eq!(record.incident.version, 2);
    let seen = Seen::of(record.incident.clone());
    let (resolved, update) = guichet_core::incidents::rules::change_status(
        &record.incident,
        2,
        IncidentStatus::Resolved,
        None,
        guichet_core::common::player::Author::System,
        at,
    )
    .expect("resolves");
    let page = guichet_core::incidents::rules::FanOut::first(&id, &update);
    let fan_out = guichet_core::outbox::rules::OutboxMessage::new(
        page.message_id(),
        Destination::IncidentUpdates,
        id.as_str(),
        &page,
        at,
    )
    .expect("a message");
    let claimed = Claimed {
        incident: Some(seen.fingerprint()),
        ticket: None,
    };
    assert_eq!(
        store
            .save_status(&resolved, 2, &update, &fan_out, claimed)
            .await
            .expect("written"),
        guichet_core::tickets::ports::Updated::Done,
        "the incident read back has the fingerprint its writes keep"
    );
}

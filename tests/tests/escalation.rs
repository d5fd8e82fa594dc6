//! Escalation end to end: an agent escalates through the local gateway, the outbox relays the
//! request to the escalations queue, the route-escalations function (run by the local
//! consumers, as Lambda's event source mapping would) puts the versioned message on the
//! team's FIFO queue and moves the ticket; all through the real AWS SDK against the emulator.

use guichet_core::common::player::PlayerId;
use guichet_core::common::reference::TicketReference;
use guichet_core::escalation::rules::EscalationAsk;
use guichet_core::outbox::ports::OutboxStore;
use guichet_core::tickets::ticket::Team;
use guichet_core::tickets::workflow::ReasonCode;
use guichet_local::client::ClientResponse;
use guichet_local::consumers::{Consumers, Drained};
use guichet_tests::{error_chain, LocalApi};
use serde_json::{json, Value};

/// The escalations queue's `maxReceiveCount` in the template.
const MAX_RECEIVE_COUNT: usize = 5;

struct Fixture {
    api: LocalApi,
    consumers: Consumers,
}

async fn fixture() -> Fixture {
    let api = LocalApi::start().await;
    let consumers = api
        .stack
        .consumers(&[("EscalationsQueue", &api.stack.escalations_queue_url)])
        .await;
    Fixture { api, consumers }
}

impl Fixture {
    async fn call(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<&Value>,
    ) -> ClientResponse {
        self.api.call(method, path, token, body).await
    }

    fn agent(&self, team: &str) -> String {
        self.api
            .token("agent-7", &["agent", &format!("team:{team}")], 600)
    }

    /// A technical ticket (version 1), through the API.
    async fn technical_ticket(&self) -> String {
        let token = self.api.token("player-esc", &["player"], 600);
        let body = json!({
            "channel": "form", "category": "technical", "subject": "Roulette figée",
            "description": "La roue ne tourne plus depuis la mise à jour de ce matin.",
        });
        let receipt = self.api.create_ticket(&token, &[], &body).await;
        receipt["reference"].as_str().expect("reference").to_owned()
    }

    async fn escalate(&self, reference: &str, version: u64, team: &str) -> ClientResponse {
        self.call(
            "POST",
            &format!("/tickets/{reference}/escalate"),
            &self.agent("technical"),
            Some(
                &json!({"version": version, "team": team, "reason": "needs_game_logs",
                         "note": "Le tour 12 s'est figé pour plusieurs joueurs."}),
            ),
        )
        .await
    }

    async fn ticket(&self, reference: &str) -> Value {
        let read = self
            .call(
                "GET",
                &format!("/tickets/{reference}"),
                &self.api.token("sup-1", &["supervisor"], 600),
                None,
            )
            .await;
        assert_eq!(read.status, 200, "{:?}", read.json());
        read.json()
    }

    /// Receive-and-dispatch rounds until the queues have nothing visible.
    async fn drain(&self) -> Drained {
        guichet_tests::drain(&self.consumers).await
    }

    /// Everything waiting on a team's FIFO queue (received and deleted, as the team's tool
    /// would), bodies as JSON.
    async fn team_messages(&self, team: &str) -> Vec<Value> {
        let sqs = self.api.stack.sqs();
        let url = self.api.stack.team_queue_url(team);
        let mut messages = Vec::new();
        loop {
            let received = sqs
                .receive_message()
                .queue_url(url)
                .max_number_of_messages(10)
                .wait_time_seconds(1)
                .send()
                .await
                .unwrap_or_else(|e| panic!("ReceiveMessage: {}", error_chain(&e)));
            if received.messages().is_empty() {
                return messages;
            }
            for message in received.messages() {
                messages.push(serde_json::from_str(message.body().unwrap_or("")).expect("JSON"));
                sqs.delete_message()
                    .queue_url(url)
                    .receipt_handle(message.receipt_handle().unwrap_or_default())
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("DeleteMessage: {}", error_chain(&e)));
            }
        }
    }

    async fn send_raw(&self, body: &str) -> String {
        self.api
            .stack
            .send_message(&self.api.stack.escalations_queue_url, body)
            .await
    }
}

/// The request the outbox sent, rebuilt from the ticket's escalation record.
fn request_of(ticket: &Value) -> String {
    let escalation = &ticket["escalations"][0];
    json!({
        "schema": "guichet.escalation-request.v1",
        "escalation_id": escalation["id"],
        "reference": ticket["reference"],
    })
    .to_string()
}

#[tokio::test]
async fn an_escalation_reaches_the_teams_queue_and_moves_the_ticket() {
    let f = fixture().await;
    let reference = f.technical_ticket().await;

    let accepted = f.escalate(&reference, 1, "games").await;
    assert_eq!(accepted.status, 202, "{:?}", accepted.json());
    let accepted = accepted.json();
    assert_eq!(accepted["status"], "escalated");
    assert_eq!(accepted["escalation"]["state"], "requested");

    // The API relayed the request at once; the router takes it from the queue.
    let drained = f.drain().await;
    assert_eq!(
        (drained.received, drained.deleted, drained.failed),
        (1, 1, 0),
        "{drained:?}"
    );

    let messages = f.team_messages("games").await;
    assert_eq!(messages.len(), 1, "{messages:?}");
    let message = &messages[0];
    assert_eq!(message["schema"], "guichet.escalation.v1");
    assert_eq!(message["escalation_id"], accepted["escalation"]["id"]);
    assert_eq!(message["team"], "games");
    assert_eq!(message["from_team"], "technical");
    assert_eq!(message["reason"], "needs_game_logs");
    assert_eq!(message["ticket"]["reference"], reference);
    assert_eq!(message["ticket"]["category"], "technical");
    assert_eq!(message["links"]["ticket"], format!("/tickets/{reference}"));
    assert!(
        !message.to_string().contains("La roue ne tourne plus"),
        "the player's words stay behind the API"
    );
    assert!(
        f.team_messages("technical").await.is_empty(),
        "only the target team"
    );

    let ticket = f.ticket(&reference).await;
    assert_eq!(ticket["team"], "games");
    assert_eq!(ticket["status"], "escalated");
    assert_eq!(ticket["escalations"][0]["state"], "routed");
    let reasons: Vec<&str> = ticket["history"]
        .as_array()
        .expect("history")
        .iter()
        .filter_map(|h| h["reason"].as_str())
        .collect();
    assert_eq!(
        reasons,
        ["received", "escalation_requested_games", "routed_to_games"]
    );
    // The player was told: received at intake, then escalated, in French.
    let kinds: Vec<&str> = ticket["notifications"]
        .as_array()
        .expect("notifications")
        .iter()
        .filter_map(|n| n["kind"].as_str())
        .collect();
    assert_eq!(kinds, ["received", "escalated"]);
    assert!(ticket["notifications"][1]["body"]
        .as_str()
        .expect("text")
        .contains("l'équipe jeux"));

    // It is now in the games team's queue, and games agents may work it.
    let queue = f
        .call("GET", "/queues/games", &f.agent("games"), None)
        .await
        .json();
    assert!(queue["tickets"]
        .as_array()
        .expect("tickets")
        .iter()
        .any(|t| t["reference"] == reference.as_str()));

    // A duplicate delivery of the same request changes nothing and sends nothing.
    f.send_raw(&request_of(&ticket)).await;
    let again = f.drain().await;
    assert_eq!((again.received, again.failed), (1, 0), "{again:?}");
    assert!(f.team_messages("games").await.is_empty(), "not sent twice");
    let after = f.ticket(&reference).await;
    assert_eq!(after["version"], ticket["version"]);
    assert_eq!(after["notifications"], ticket["notifications"]);
}

#[tokio::test]
async fn a_poison_message_goes_to_the_dead_letter_queue_and_spares_the_good_one() {
    let f = fixture().await;
    let reference = f.technical_ticket().await;
    let poison = f.send_raw("{\"schema\":\"something.else\"}").await;
    assert_eq!(f.escalate(&reference, 1, "payments").await.status, 202);

    let (receives, handled) =
        guichet_tests::drain_with_poison(&f.consumers, &f.api.stack, &poison).await;
    assert_eq!(
        receives, MAX_RECEIVE_COUNT,
        "received maxReceiveCount times"
    );
    assert_eq!(handled, 1, "the good request was routed once");
    assert_eq!(f.team_messages("payments").await.len(), 1);
    let dead: Vec<String> = f
        .api
        .stack
        .dead_letters(&f.api.stack.escalations_dlq_url)
        .await
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(dead, [poison]);
}

#[tokio::test]
async fn an_escalation_whose_send_fails_is_kept_and_delivered_by_the_sweep() {
    let f = fixture().await;
    let reference = f.technical_ticket().await;
    let stack = &f.api.stack;
    // The relay's view of the queues, with the escalations queue unreachable: its sends fail,
    // as the stream relay's would if SQS failed past the mapping's retries.
    let mut broken = stack.queues_config();
    broken.escalations_queue_url = format!("{}-gone", stack.escalations_queue_url);
    let broken = guichet_aws::wiring::relay(&stack.tickets_table, &broken, &stack.sdk);
    let desk = stack.desk();
    let supervisor = guichet_core::common::access::Actor {
        subject: PlayerId::parse("sup-1").expect("id"),
        roles: guichet_edge::http::parse_groups("[supervisor]"),
        teams: vec![],
        email: None,
    };
    let reference = TicketReference::parse(&reference).expect("reference");
    let applied = desk
        .escalate(
            &supervisor,
            &reference,
            1,
            None,
            EscalationAsk {
                to_team: Team::Security,
                reason: ReasonCode::parse("reason", "suspected_fraud").expect("valid"),
                note: None,
            },
        )
        .await
        .expect("the escalation is written");
    let relayed = broken.deliver(&applied.outbox).await;
    assert_eq!((relayed.sent, relayed.kept), (0, 1), "the send failed");

    // Nothing reached the queue, but nothing is lost: the state and the message are stored.
    let ticket = f.ticket(reference.as_str()).await;
    assert_eq!(ticket["status"], "escalated");
    let pending = stack.relay().store.pending(25).await.expect("outbox");
    assert!(
        pending.iter().any(|m| m.id == applied.outbox[0].id),
        "the request waits in the outbox"
    );

    // The scheduled sweep sends it; the router routes it.
    let swept = f.consumers.sweep_outbox().await.expect("sweep");
    assert!(swept.sent >= 1, "{swept:?}");
    // (The stream's record of the insert relays it once more: the router routes it once.)
    let drained = f.drain().await;
    assert_eq!(drained.failed, 0, "{drained:?}");
    let messages = f.team_messages("security").await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["ticket"]["reference"], reference.to_string());
    assert!(stack
        .relay()
        .store
        .pending(25)
        .await
        .expect("outbox")
        .iter()
        .all(|m| m.id != applied.outbox[0].id));
}

#[tokio::test]
async fn concurrent_escalations_make_one_and_the_rest_conflict() {
    let f = fixture().await;
    let reference = f.technical_ticket().await;
    let (a, b, c) = tokio::join!(
        f.escalate(&reference, 1, "games"),
        f.escalate(&reference, 1, "payments"),
        f.escalate(&reference, 1, "security"),
    );
    let mut statuses = [a.status, b.status, c.status];
    statuses.sort_unstable();
    assert_eq!(statuses, [202, 409, 409]);
    let ticket = f.ticket(&reference).await;
    assert_eq!(ticket["escalations"].as_array().map(Vec::len), Some(1));
    assert_eq!(f.drain().await.deleted, 1);
}

#[tokio::test]
async fn only_staff_of_the_tickets_team_may_escalate() {
    let f = fixture().await;
    let reference = f.technical_ticket().await;
    let path = format!("/tickets/{reference}/escalate");
    let body = json!({"version": 1, "team": "games", "reason": "x"});
    let player = f
        .call(
            "POST",
            &path,
            &f.api.token("player-esc", &["player"], 600),
            Some(&body),
        )
        .await;
    assert_eq!(player.status, 403, "{:?}", player.json());
    let other_team = f
        .call("POST", &path, &f.agent("payments"), Some(&body))
        .await;
    assert_eq!(other_team.status, 403);
    assert_eq!(other_team.json()["required_team"], "technical");
    let bad = f
        .call(
            "POST",
            &path,
            &f.agent("technical"),
            Some(&json!({"version": 1, "team": "marketing", "reason": "x"})),
        )
        .await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json()["field"], "team");
    // Nothing was written by the refused calls.
    assert_eq!(f.ticket(&reference).await["version"], 1);
    assert_eq!(f.drain().await.received, 0);
}

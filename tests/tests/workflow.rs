//! The agents' workflow end to end: team queues and ticket updates through the local gateway
//! (routes from the template, JWT checked as API Gateway's authorizer does), the same handler
//! code as in Lambda, and the real AWS SDK against the emulator.

use std::sync::Arc;

use guichet_aws::dynamo::tickets::DynamoTicketStore;
use guichet_core::common::player::PlayerId;
use guichet_core::common::reference::TicketReference;
use guichet_core::tickets::intake::TicketRequest;
use guichet_core::tickets::ports::{NewTicketWrite, TicketStore};
use guichet_core::tickets::sla::SupportCalendar;
use guichet_core::tickets::ticket::{Priority, Team, TicketStatus};
use guichet_local::client::ClientResponse;
use guichet_tests::LocalApi;
use serde_json::{json, Value};

struct Api {
    local: LocalApi,
    /// The stack's ticket store, to set up tickets intake cannot make (any priority, any time).
    store: DynamoTicketStore,
}

impl Api {
    async fn start() -> Api {
        let local = LocalApi::start().await;
        Api {
            store: DynamoTicketStore::new(
                aws_sdk_dynamodb::Client::new(&local.stack.sdk),
                local.stack.tickets_table.clone(),
            ),
            local,
        }
    }

    fn token(&self, sub: &str, groups: &[&str]) -> String {
        self.local.token(sub, groups, 600)
    }

    async fn get(&self, path: &str, token: &str) -> ClientResponse {
        self.local.call("GET", path, token, None).await
    }

    async fn post(&self, path: &str, token: &str, body: &Value) -> ClientResponse {
        self.local.call("POST", path, token, Some(body)).await
    }

    /// A player's transaction ticket (payments team, version 1), through the API.
    async fn transaction_ticket(&self, player: &str) -> String {
        let token = self.token(player, &["player"]);
        let body = json!({
            "channel": "email", "category": "transaction", "subject": "Dépôt manquant",
            "description": "Mon dépôt de 50 $ n'apparaît pas dans mon solde.",
        });
        let receipt = self.local.create_ticket(&token, &[], &body).await;
        assert_eq!(receipt["team"], "payments");
        receipt["reference"].as_str().expect("reference").to_owned()
    }

    /// A ticket of `team` with `priority`, received at `at`, written straight to the store.
    async fn seed(&self, team: Team, priority: Priority, at: &str, status: TicketStatus) -> String {
        let reference = TicketReference::generate().expect("random");
        self.seed_as(reference, team, priority, at, status).await
    }

    /// [`Api::seed`] under a chosen reference (its first symbol picks its queue shard).
    async fn seed_as(
        &self,
        reference: TicketReference,
        team: Team,
        priority: Priority,
        at: &str,
        status: TicketStatus,
    ) -> String {
        let at: jiff::Timestamp = at.parse().expect("valid");
        let request = TicketRequest::parse(
            &json!({"channel": "form", "category": "technical", "subject": "Écran figé",
                    "description": "Le jeu ne charge plus depuis ce matin."}),
            None,
            at,
        )
        .expect("valid");
        let (mut ticket, received, _) = request.open(
            reference,
            PlayerId::parse("player-seed").expect("valid"),
            at,
            &SupportCalendar::published().expect("time zone"),
        );
        ticket.team = team;
        ticket.priority = priority;
        ticket.status = status;
        let reference = ticket.reference.to_string();
        let outcome = self
            .store
            .insert(&NewTicketWrite {
                ticket,
                received,
                idempotency: None,
                history: Vec::new(),
                escalation: None,
                notification: None,
                outbox: Vec::new(),
                contact: None,
            })
            .await
            .expect("stored");
        assert_eq!(
            outcome,
            guichet_core::tickets::ports::InsertOutcome::Created
        );
        reference
    }
}

/// Every page of a team's queue through the API, `limit` at a time, following `next_cursor`.
async fn queue_pages(api: &Api, team: &str, limit: u16, token: &str) -> Vec<Vec<String>> {
    let mut pages = Vec::new();
    let mut path = format!("/queues/{team}?limit={limit}");
    loop {
        let page = api.get(&path, token).await;
        assert_eq!(page.status, 200, "{:?}", page.json());
        let page = page.json();
        assert_eq!(page["team"], team);
        pages.push(references(&page));
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/queues/{team}?limit={limit}&cursor={cursor}"),
            None => return pages,
        }
    }
}

fn references(page: &Value) -> Vec<String> {
    page["tickets"]
        .as_array()
        .expect("tickets")
        .iter()
        .map(|t| t["reference"].as_str().expect("reference").to_owned())
        .collect()
}

#[tokio::test]
async fn a_team_queue_is_in_priority_then_arrival_order_a_page_at_a_time() {
    let api = Api::start().await;
    use Priority::*;
    let normal_early = api
        .seed(
            Team::Games,
            Normal,
            "2026-11-26T09:00:00Z",
            TicketStatus::Open,
        )
        .await;
    let urgent_late = api
        .seed(
            Team::Games,
            Urgent,
            "2026-11-26T12:00:00Z",
            TicketStatus::Open,
        )
        .await;
    let high_early = api
        .seed(
            Team::Games,
            High,
            "2026-11-26T10:00:00Z",
            TicketStatus::WaitingOnPlayer,
        )
        .await;
    let normal_late = api
        .seed(
            Team::Games,
            Normal,
            "2026-11-26T11:30:00Z",
            TicketStatus::Open,
        )
        .await;
    let urgent_early = api
        .seed(
            Team::Games,
            Urgent,
            "2026-11-26T10:30:00Z",
            TicketStatus::Escalated,
        )
        .await;
    let high_late = api
        .seed(
            Team::Games,
            High,
            "2026-11-26T13:00:00Z",
            TicketStatus::Open,
        )
        .await;
    // Not in the queue: finished work, and another team's ticket.
    api.seed(
        Team::Games,
        Urgent,
        "2026-11-26T08:00:00Z",
        TicketStatus::Resolved,
    )
    .await;
    api.seed(
        Team::Games,
        Urgent,
        "2026-11-26T08:00:00Z",
        TicketStatus::Closed,
    )
    .await;
    api.seed(
        Team::Payments,
        Urgent,
        "2026-11-26T08:00:00Z",
        TicketStatus::Open,
    )
    .await;

    let agent = api.token("agent-games-1", &["agent", "team:games"]);
    let pages = queue_pages(&api, "games", 4, &agent).await;
    assert_eq!(pages.len(), 2);
    assert_eq!(
        pages.concat(),
        vec![
            urgent_early,
            urgent_late,
            high_early,
            high_late,
            normal_early,
            normal_late
        ]
    );

    let tampered = api.get("/queues/games?cursor=Zm9v", &agent).await;
    assert_eq!(tampered.status, 400);
    assert_eq!(tampered.json()["field"], "cursor");
}

/// The queue is spread over four index partitions per team: a page merges them, and tickets
/// written before the sharding (under the one `QUEUE#<team>` of before) keep their place.
#[tokio::test]
async fn a_team_queue_pages_across_its_shards_and_the_partition_of_before() {
    let api = Api::start().await;
    use Priority::*;
    // Ten tickets whose references start with 0 to 9: shards 0, 1, 2, 3, 0, 1, ...; their
    // queue order is by priority, then arrival.
    let mut expected = Vec::new();
    for (seed, priority, at) in [
        (0, Normal, "2026-11-26T09:00:00Z"),
        (1, Urgent, "2026-11-26T12:00:00Z"),
        (2, High, "2026-11-26T10:00:00Z"),
        (3, Normal, "2026-11-26T11:30:00Z"),
        (4, Urgent, "2026-11-26T10:30:00Z"),
        (5, High, "2026-11-26T13:00:00Z"),
        (6, Urgent, "2026-11-26T08:00:00Z"),
        (7, Normal, "2026-11-26T08:30:00Z"),
        (8, High, "2026-11-26T09:30:00Z"),
        (9, Normal, "2026-11-26T07:00:00Z"),
    ] {
        let reference = TicketReference::from_random([seed; 9]);
        let shown = api
            .seed_as(reference, Team::Games, priority, at, TicketStatus::Open)
            .await;
        expected.push((priority.rank(), at, seed, shown));
    }
    expected.sort();
    let expected: Vec<String> = expected.into_iter().map(|(.., shown)| shown).collect();

    // Two of them as they were written before the sharding: in the unsharded partition.
    for seed in [4, 7] {
        let pk = format!(
            "TICKET#{}",
            TicketReference::from_random([seed; 9]).as_str()
        );
        api.local
            .stack
            .move_gsi2_entry(&pk, "TICKET", "QUEUE#games")
            .await;
    }

    let agent = api.token("agent-games-1", &["agent", "team:games"]);
    let pages = queue_pages(&api, "games", 3, &agent).await;
    assert!(pages.iter().all(|page| !page.is_empty() && page.len() <= 3));
    // Every ticket once, in queue order, whichever partition it is in.
    assert_eq!(pages.concat(), expected);
    assert_eq!(pages.len(), 4);
}

#[tokio::test]
async fn concurrent_updates_of_one_version_get_one_success_and_conflicts() {
    let api = Arc::new(Api::start().await);
    let reference = api.transaction_ticket("player-c").await;
    let agent = api.token("agent-pay-1", &["agent", "team:payments"]);
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..6 {
        let (api, agent, reference) = (Arc::clone(&api), agent.clone(), reference.clone());
        tasks.spawn(async move {
            let path = if i % 2 == 0 {
                format!("/tickets/{reference}/replies")
            } else {
                format!("/tickets/{reference}/status")
            };
            let body = if i % 2 == 0 {
                json!({"version": 1, "body": format!("Réponse {i}")})
            } else {
                json!({"version": 1, "status": "waiting_on_player"})
            };
            let response = api.post(&path, &agent, &body).await;
            (response.status, response.json())
        });
    }
    let mut ok = 0;
    let mut conflicts = 0;
    while let Some(result) = tasks.join_next().await {
        let (status, body) = result.expect("task");
        match status {
            200 => ok += 1,
            409 => {
                assert_eq!(body["error"], "conflict");
                assert_eq!(body["reason"], "stale", "{body}");
                conflicts += 1;
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!((ok, conflicts), (1, 5));

    // Exactly one change is stored: version 2, and either one message or one status change.
    let read = api
        .get(&format!("/tickets/{reference}"), &agent)
        .await
        .json();
    assert_eq!(read["version"], 2);
    let messages = read["messages"].as_array().expect("messages").len();
    let changes = read["history"].as_array().expect("history").len() - 1;
    assert_eq!(messages + changes, 1, "{read}");
}

#[tokio::test]
async fn players_and_other_teams_cannot_use_staff_routes() {
    let api = Api::start().await;
    let reference = api.transaction_ticket("player-d").await;
    let player = api.token("player-d", &["player"]);
    let other_team = api.token("agent-games-2", &["agent", "team:games"]);
    let version = json!({"version": 1});
    let routes = [
        ("take", version.clone()),
        ("replies", json!({"version": 1, "body": "Bonjour"})),
        ("status", json!({"version": 1, "status": "resolved"})),
    ];
    for (action, body) in &routes {
        let path = format!("/tickets/{reference}/{action}");
        let refused = api.post(&path, &player, body).await;
        assert_eq!(refused.status, 403, "{action}");
        assert_eq!(refused.json()["required_role"], "agent");
        let refused = api.post(&path, &other_team, body).await;
        assert_eq!(refused.status, 403, "{action}");
        assert_eq!(refused.json()["required_team"], "payments");
    }
    assert_eq!(api.get("/queues/payments", &player).await.status, 403);
    let refused = api.get("/queues/payments", &other_team).await;
    assert_eq!(refused.status, 403);
    assert_eq!(refused.json()["required_team"], "payments");
    // Nothing changed.
    let read = api
        .get(&format!("/tickets/{reference}"), &player)
        .await
        .json();
    assert_eq!(read["version"], 1);
}

#[tokio::test]
async fn a_reply_reaches_the_player_and_resolved_work_leaves_the_queue() {
    let api = Api::start().await;
    let reference = api.transaction_ticket("player-e").await;
    let player = api.token("player-e", &["player"]);
    let agent = api.token("agent-pay-2", &["agent", "team:payments"]);
    let ticket = |action: &str| format!("/tickets/{reference}/{action}");

    let taken = api
        .post(&ticket("take"), &agent, &json!({"version": 1}))
        .await;
    assert_eq!(taken.status, 200, "{:?}", taken.json());
    assert_eq!(taken.json()["assignee"], "agent-pay-2");
    let replied = api
        .post(
            &ticket("replies"),
            &agent,
            &json!({"version": 2, "body": "  Bonjour, votre dépôt sera crédité sous 24 heures.\n"}),
        )
        .await;
    assert_eq!(replied.status, 200, "{:?}", replied.json());

    let read = api.get(&format!("/tickets/{reference}"), &player).await;
    assert_eq!(read.status, 200);
    let read = read.json();
    assert_eq!(read["version"], 3);
    assert_eq!(read["assignee"], "agent-pay-2");
    assert_eq!(
        read["messages"][0]["body"],
        "Bonjour, votre dépôt sera crédité sous 24 heures."
    );
    assert_eq!(read["messages"][0]["author"]["kind"], "staff");
    assert_eq!(read["history"][1]["reason"], "taken");

    let queue = api.get("/queues/payments", &agent).await.json();
    assert_eq!(references(&queue), vec![reference.clone()]);
    let resolved = api
        .post(
            &ticket("status"),
            &agent,
            &json!({"version": 3, "status": "resolved", "reason": "deposit_credited"}),
        )
        .await;
    assert_eq!(resolved.status, 200, "{:?}", resolved.json());
    let queue = api.get("/queues/payments", &agent).await.json();
    assert!(references(&queue).is_empty(), "{queue}");

    let closed = api
        .post(
            &ticket("status"),
            &agent,
            &json!({"version": 4, "status": "closed"}),
        )
        .await;
    assert_eq!(closed.status, 200);
    let reopen = api
        .post(
            &ticket("status"),
            &agent,
            &json!({"version": 5, "status": "open"}),
        )
        .await;
    assert_eq!(reopen.status, 409);
    assert_eq!(reopen.json()["reason"], "wrong_state");
    let stale = api
        .post(
            &ticket("replies"),
            &agent,
            &json!({"version": 3, "body": "Encore"}),
        )
        .await;
    assert_eq!(stale.status, 409);
    assert_eq!(stale.json()["reason"], "stale");

    let read = api
        .get(&format!("/tickets/{reference}"), &player)
        .await
        .json();
    let statuses: Vec<&str> = read["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|h| h["status"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(statuses, ["open", "open", "resolved", "closed"]);
}

#[tokio::test]
async fn the_players_answer_puts_their_ticket_back_in_the_agents_work() {
    let api = Api::start().await;
    let reference = api.transaction_ticket("player-f").await;
    let player = api.token("player-f", &["player"]);
    let agent = api.token("agent-pay-3", &["agent", "team:payments"]);
    let path = |action: &str| format!("/tickets/{reference}/{action}");

    let waiting = api
        .post(
            &path("status"),
            &agent,
            &json!({"version": 1, "status": "waiting_on_player", "reason": "need_statement"}),
        )
        .await;
    assert_eq!(waiting.status, 200, "{:?}", waiting.json());
    let answered = api
        .post(
            &path("messages"),
            &player,
            &json!({"body": "Voici mon relevé : le dépôt a quitté mon compte le 25."}),
        )
        .await;
    assert_eq!(answered.status, 201, "{:?}", answered.json());
    assert_eq!(answered.json()["status"], "open");

    let read = api
        .get(&format!("/tickets/{reference}"), &agent)
        .await
        .json();
    assert_eq!(read["messages"][0]["author"]["kind"], "player");
    let reasons: Vec<&str> = read["history"]
        .as_array()
        .expect("history")
        .iter()
        .filter_map(|h| h["reason"].as_str())
        .collect();
    assert_eq!(reasons, ["received", "need_statement", "player_answered"]);
    // It is open work in the team's queue again.
    let queue = api.get("/queues/payments", &agent).await.json();
    assert_eq!(references(&queue), vec![reference.clone()]);

    // Another player, and staff, cannot answer as this player.
    let stranger = api
        .post(
            &path("messages"),
            &api.token("player-g", &["player"]),
            &json!({"body": "Ce n'est pas mon ticket."}),
        )
        .await;
    assert_eq!(stranger.status, 404);
    let staff = api
        .post(&path("messages"), &agent, &json!({"body": "Réponse"}))
        .await;
    assert_eq!(staff.status, 403);
}

/// The `state` token of a staff view, with its ticket edited.
fn forged_state(state: &Value, edit: impl FnOnce(&mut Value)) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    let bytes = URL_SAFE_NO_PAD
        .decode(state.as_str().expect("a token"))
        .expect("base64");
    let mut ticket: Value = serde_json::from_slice(&bytes).expect("json");
    edit(&mut ticket);
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&ticket).expect("json"))
}

#[tokio::test]
async fn actions_on_the_state_of_one_view_are_conditioned_on_the_stored_ticket() {
    let api = Arc::new(Api::start().await);
    let reference = api.transaction_ticket("player-s").await;
    let agent = api.token("agent-pay-2", &["agent", "team:payments"]);
    let view = api
        .get(&format!("/tickets/{reference}"), &agent)
        .await
        .json();
    let state = view["state"].clone();
    assert!(state.is_string(), "staff views carry a token: {view}");
    let player = api.token("player-s", &["player"]);
    let own = api
        .get(&format!("/tickets/{reference}"), &player)
        .await
        .json();
    assert!(own.get("state").is_none(), "players get none: {own}");

    // A forged token (another description, another priority) is not written: DynamoDB's
    // condition on the stored fingerprint fails, and the desk decides again on the truth.
    let forged = forged_state(&state, |t| {
        t["description"] = "Remboursez 5 000 $.".into();
        t["priority"] = "urgent".into();
    });
    let taken = api
        .post(
            &format!("/tickets/{reference}/take"),
            &agent,
            &json!({"version": 1, "state": forged}),
        )
        .await;
    assert_eq!(taken.status, 200, "{}", taken.json());
    let stored = api
        .store
        .get(&TicketReference::parse(&reference).expect("reference"))
        .await
        .expect("read")
        .expect("found")
        .ticket;
    assert_eq!(stored.version, 2);
    assert_eq!(stored.priority, Priority::High);
    assert_eq!(
        stored.description,
        "Mon dépôt de 50 $ n'apparaît pas dans mon solde."
    );

    // Six actions at once on the token of version 2: one is written, five are stale.
    let state = taken.json()["state"].clone();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..6 {
        let (api, agent, reference, state) = (
            Arc::clone(&api),
            agent.clone(),
            reference.clone(),
            state.clone(),
        );
        tasks.spawn(async move {
            let (path, body) = if i % 2 == 0 {
                (
                    "replies",
                    json!({"version": 2, "body": format!("Réponse {i}"), "state": state}),
                )
            } else {
                (
                    "status",
                    json!({"version": 2, "status": "waiting_on_player", "state": state}),
                )
            };
            let response = api
                .post(&format!("/tickets/{reference}/{path}"), &agent, &body)
                .await;
            (response.status, response.json())
        });
    }
    let mut statuses = Vec::new();
    while let Some(result) = tasks.join_next().await {
        let (status, body) = result.expect("task");
        if status == 409 {
            assert_eq!(body["reason"], "stale", "{body}");
        }
        statuses.push(status);
    }
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409, 409, 409, 409, 409]);
    let read = api
        .get(&format!("/tickets/{reference}"), &agent)
        .await
        .json();
    assert_eq!(read["version"], 3);
}

#[tokio::test]
async fn an_internal_note_stays_with_staff() {
    let api = Api::start().await;
    let reference = api.transaction_ticket("player-notes").await;
    let player = api.token("player-notes", &["player"]);
    let agent = api.token("agent-pay-9", &["agent", "team:payments"]);
    let noted = api
        .post(
            &format!("/tickets/{reference}/notes"),
            &agent,
            &json!({"version": 1, "body": "Rappelé : il confirme le virement du 2 décembre."}),
        )
        .await;
    assert_eq!(noted.status, 200, "{:?}", noted.json());
    assert_eq!(noted.json()["message"]["internal"], true);
    // A player may not write one.
    let refused = api
        .post(
            &format!("/tickets/{reference}/notes"),
            &player,
            &json!({"version": 2, "body": "Une note"}),
        )
        .await;
    assert_eq!(refused.status, 403);

    let read = api.get(&format!("/tickets/{reference}"), &player).await;
    assert_eq!(read.status, 200);
    let read = read.json();
    assert_eq!(read["messages"].as_array().map(Vec::len), Some(0), "{read}");
    assert!(!read.to_string().contains("Rappelé"));
    assert_eq!(read["notifications"].as_array().map(Vec::len), Some(1));
    let staff = api
        .get(&format!("/tickets/{reference}"), &agent)
        .await
        .json();
    assert_eq!(staff["messages"][0]["internal"], true);
    assert_eq!(
        staff["messages"][0]["body"],
        "Rappelé : il confirme le virement du 2 décembre."
    );
}

#[tokio::test]
async fn an_agent_looks_a_player_up_and_the_look_up_is_recorded() {
    let api = Api::start().await;
    let reference = api.transaction_ticket("player-lookup").await;
    let agent = api.token("agent-games-4", &["agent", "team:games"]);
    let found = api.get("/players/player-lookup/support", &agent).await;
    assert_eq!(found.status, 200, "{:?}", found.json());
    let found = found.json();
    assert_eq!(found["open_tickets"][0]["reference"], reference.as_str());
    assert_eq!(found["open_tickets"][0]["team"], "payments");
    assert!(found["verification"].is_null());
    // The look-up is on the record: who, whom, when.
    let audit = api
        .local
        .stack
        .dynamodb()
        .query()
        .table_name(&api.local.stack.tickets_table)
        .key_condition_expression("pk = :pk AND begins_with(sk, :lookup)")
        .expression_attribute_values(
            ":pk",
            aws_sdk_dynamodb::types::AttributeValue::S("PLAYER#player-lookup".into()),
        )
        .expression_attribute_values(
            ":lookup",
            aws_sdk_dynamodb::types::AttributeValue::S("LOOKUP#".into()),
        )
        .send()
        .await
        .expect("queried");
    assert_eq!(audit.items().len(), 1);
    assert_eq!(
        audit.items()[0].get("staff").and_then(|v| v.as_s().ok()),
        Some(&"agent-games-4".to_owned())
    );
    let player = api.token("player-lookup", &["player"]);
    let refused = api.get("/players/player-lookup/support", &player).await;
    assert_eq!(refused.status, 403);
}

#[tokio::test]
async fn an_agent_picks_a_saved_reply_edits_it_and_sends_it() {
    let api = Api::start().await;
    let reference = api.transaction_ticket("player-saved").await;
    let agent = api.token("agent-pay-5", &["agent", "team:payments"]);
    let saved = api
        .get("/queues/payments/saved-replies?language=fr", &agent)
        .await;
    assert_eq!(saved.status, 200, "{:?}", saved.json());
    let saved = saved.json();
    let chosen = saved["replies"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["id"] == "deposit_pending"))
        .expect("the payments team's deposit reply")
        .clone();
    let edited = chosen["body"]
        .as_str()
        .expect("a body")
        .replace("24 heures ouvrables", "48 heures ouvrables");
    let sent = api
        .post(
            &format!("/tickets/{reference}/replies"),
            &agent,
            &json!({"version": 1, "body": edited}),
        )
        .await;
    assert_eq!(sent.status, 200, "{:?}", sent.json());
    assert!(sent.json()["message"]["body"]
        .as_str()
        .is_some_and(|b| b.contains("48 heures ouvrables")));
}

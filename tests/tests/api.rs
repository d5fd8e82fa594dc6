//! The HTTP API end to end: a real HTTP request to the local gateway (routes from the
//! template, JWT checked as API Gateway's authorizer does), the same handler code as in
//! Lambda, and the real AWS SDK against the emulator.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use guichet_local::client::ClientResponse;
use guichet_local::jwt::{DevKey, DEV_AUDIENCE, DEV_ISSUER};
use guichet_tests::{unique_stack_name, LocalApi};
use serde_json::{json, Value};

struct Api {
    local: LocalApi,
}

impl Api {
    async fn start() -> Api {
        let local = LocalApi::start().await;
        Api { local }
    }

    fn token_with(&self, sub: &str, groups: &[&str], expires_in: i64) -> String {
        self.local.token(sub, groups, expires_in)
    }

    fn player(&self, sub: &str) -> String {
        self.token_with(sub, &["player"], 600)
    }

    async fn post_ticket(&self, token: &str, body: &Value, key: Option<&str>) -> ClientResponse {
        let mut headers = vec![("content-type", "application/json")];
        if let Some(k) = key {
            headers.push(("idempotency-key", k));
        }
        self.local
            .send(
                "POST",
                "/tickets",
                Some(token),
                &headers,
                Some(body.to_string().into_bytes()),
            )
            .await
    }
}

fn form() -> Value {
    json!({
        "channel": "form", "category": "account", "subject": "Compte verrouillé",
        "description": "Mon compte est verrouillé après trois essais de mot de passe.",
    })
}

#[tokio::test]
async fn a_player_submits_reads_and_lists_a_ticket() {
    let api = Api::start().await;
    let token = api.player("player-a");
    let created = api.post_ticket(&token, &form(), None).await;
    assert_eq!(created.status, 201, "{:?}", created.json());
    let receipt = created.json();
    let reference = receipt["reference"].as_str().expect("reference").to_owned();
    assert_eq!(receipt["priority"], "urgent");
    assert_eq!(receipt["team"], "security");
    assert!(receipt["acknowledgement"]
        .as_str()
        .expect("text")
        .starts_with("Merci"));

    let read = api
        .local
        .send(
            "GET",
            &format!("/tickets/{reference}"),
            Some(&token),
            &[],
            None,
        )
        .await;
    assert_eq!(read.status, 200);
    assert_eq!(read.json()["subject"], "Compte verrouillé");
    assert_eq!(read.json()["history"][0]["status"], "open");

    let listed = api
        .local
        .send("GET", "/tickets", Some(&token), &[], None)
        .await;
    assert_eq!(listed.status, 200);
    assert_eq!(listed.json()["tickets"][0]["reference"], reference.as_str());
}

#[tokio::test]
async fn english_comes_from_accept_language() {
    let api = Api::start().await;
    let token = api.player("player-en");
    let response = api
        .local
        .send(
            "POST",
            "/tickets",
            Some(&token),
            &[
                ("content-type", "application/json"),
                ("accept-language", "en-CA,en;q=0.9"),
            ],
            Some(form().to_string().into_bytes()),
        )
        .await;
    assert_eq!(response.status, 201);
    assert_eq!(response.json()["language"], "en");
    assert!(response.json()["acknowledgement"]
        .as_str()
        .expect("text")
        .starts_with("Thank you"));
}

#[tokio::test]
async fn retries_replay_and_a_changed_body_is_refused() {
    let api = Api::start().await;
    let token = api.player("player-b");
    let first = api
        .post_ticket(&token, &form(), Some("form-submit-0001"))
        .await;
    let again = api
        .post_ticket(&token, &form(), Some("form-submit-0001"))
        .await;
    assert_eq!((first.status, again.status), (201, 200));
    assert_eq!(first.json(), again.json());
    let mut changed = form();
    changed["subject"] = json!("Autre demande");
    let refused = api
        .post_ticket(&token, &changed, Some("form-submit-0001"))
        .await;
    assert_eq!(refused.status, 422);
    assert_eq!(refused.json()["field"], "Idempotency-Key");
    let listed = api
        .local
        .send("GET", "/tickets", Some(&token), &[], None)
        .await;
    assert_eq!(
        listed.json()["tickets"].as_array().map(Vec::len),
        Some(1),
        "exactly one ticket"
    );
}

#[tokio::test]
async fn concurrent_duplicates_over_http_create_one_ticket() {
    let api = Arc::new(Api::start().await);
    let token = api.player("player-c");
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..6 {
        let api = Arc::clone(&api);
        let token = token.clone();
        tasks.spawn(async move {
            api.post_ticket(&token, &form(), Some("double-submit-77"))
                .await
        });
    }
    let mut statuses = Vec::new();
    let mut references = Vec::new();
    while let Some(done) = tasks.join_next().await {
        let response = done.expect("task");
        statuses.push(response.status);
        references.push(response.json()["reference"].clone());
    }
    statuses.sort();
    assert_eq!(statuses, [200, 200, 200, 200, 200, 201]);
    references.dedup();
    assert_eq!(references.len(), 1);
}

#[tokio::test]
async fn another_players_ticket_is_not_found_exactly_like_an_unknown_one() {
    let api = Api::start().await;
    let owner = api.player("player-owner");
    let other = api.player("player-other");
    let created = api.post_ticket(&owner, &form(), None).await;
    let reference = created.json()["reference"]
        .as_str()
        .expect("reference")
        .to_owned();
    let theirs = api
        .local
        .send(
            "GET",
            &format!("/tickets/{reference}"),
            Some(&other),
            &[],
            None,
        )
        .await;
    let unknown = api
        .local
        .send("GET", "/tickets/K7M2Q-9XW45", Some(&other), &[], None)
        .await;
    assert_eq!((theirs.status, unknown.status), (404, 404));
    assert_eq!(theirs.body, unknown.body);
    let listed = api
        .local
        .send("GET", "/tickets", Some(&other), &[], None)
        .await;
    assert_eq!(listed.json()["tickets"], json!([]));
}

#[tokio::test]
async fn missing_bad_or_expired_tokens_are_unauthorized() {
    let api = Api::start().await;
    let valid = api.player("player-d");
    let mut tampered = valid.clone();
    tampered.pop();
    tampered.push(if valid.ends_with('A') { 'B' } else { 'A' });
    let expired = api.token_with("player-d", &["player"], -60);
    let foreign = {
        let path = std::env::temp_dir().join(format!("{}.key", unique_stack_name()));
        let other_key = DevKey::load_or_create(&path).expect("key");
        let _ = std::fs::remove_file(&path);
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let claims = json!({"sub": "player-d", "cognito:groups": ["player"], "iss": DEV_ISSUER,
                            "aud": DEV_AUDIENCE, "exp": now + 600});
        match claims {
            Value::Object(map) => other_key.issue(&map),
            _ => unreachable!(),
        }
    };
    for token in [
        None,
        Some("not-a-jwt"),
        Some(tampered.as_str()),
        Some(expired.as_str()),
        Some(foreign.as_str()),
    ] {
        let response = api.local.send("GET", "/tickets", token, &[], None).await;
        assert_eq!(response.status, 401, "{token:?}");
    }
    let posted = api
        .local
        .send(
            "POST",
            "/tickets",
            None,
            &[("content-type", "application/json")],
            Some(form().to_string().into_bytes()),
        )
        .await;
    assert_eq!(posted.status, 401);
}

#[tokio::test]
async fn staff_roles_cannot_use_player_routes() {
    let api = Api::start().await;
    let agent = api.token_with("agent-7", &["agent"], 600);
    let service = api.token_with("svc-cashier", &["service"], 600);
    let posted = api.post_ticket(&agent, &form(), None).await;
    assert_eq!(posted.status, 403);
    assert_eq!(posted.json()["required_role"], "player");
    let listed = api
        .local
        .send("GET", "/tickets", Some(&service), &[], None)
        .await;
    assert_eq!(listed.status, 403);
    let read = api
        .local
        .send("GET", "/tickets/K7M2Q-9XW45", Some(&service), &[], None)
        .await;
    assert_eq!(read.status, 403);
}

#[tokio::test]
async fn every_validation_error_names_its_field_and_rule_and_writes_nothing() {
    let api = Api::start().await;
    let token = api.player("player-e");
    let incident = |details: Value| {
        json!({"channel": "chat", "category": "incident", "subject": "Jeu figé",
               "description": "La partie s'est figée en pleine mise.", "incident": details})
    };
    let with = |field: &str, value: Value| {
        let mut body = form();
        body[field] = value;
        body
    };
    let without = |field: &str| {
        let mut body = form();
        body.as_object_mut().expect("object").remove(field);
        body
    };
    let cases: Vec<(Value, &str, &str)> = vec![
        (without("channel"), "channel", "required"),
        (with("channel", json!("fax")), "channel", "one_of"),
        (with("channel", json!(3)), "channel", "type"),
        (without("category"), "category", "required"),
        (with("category", json!("billing")), "category", "one_of"),
        (without("subject"), "subject", "required"),
        (with("subject", json!("ab")), "subject", "min_length"),
        (
            with("subject", json!("s".repeat(151))),
            "subject",
            "max_length",
        ),
        (
            with("subject", json!("a\u{0}bc")),
            "subject",
            "printable_text",
        ),
        (without("description"), "description", "required"),
        (
            with("description", json!("court")),
            "description",
            "min_length",
        ),
        (
            with("description", json!("d".repeat(5001))),
            "description",
            "max_length",
        ),
        (with("language", json!("de")), "language", "one_of"),
        (
            with("player_id", json!("player-x")),
            "player_id",
            "unknown_field",
        ),
        (with("incident", json!({})), "incident", "not_allowed_here"),
        (
            json!({"channel": "chat", "category": "incident", "subject": "Jeu figé",
                   "description": "La partie s'est figée en pleine mise."}),
            "incident",
            "required",
        ),
        (incident(json!("hier")), "incident", "type"),
        (
            incident(json!({"game_name": "Roulette", "steps_tried": []})),
            "incident.occurred_at",
            "required",
        ),
        (
            incident(
                json!({"occurred_at": "hier soir", "game_name": "Roulette", "steps_tried": []}),
            ),
            "incident.occurred_at",
            "timestamp",
        ),
        (
            incident(
                json!({"occurred_at": "2999-01-01T00:00:00Z", "game_name": "Roulette", "steps_tried": []}),
            ),
            "incident.occurred_at",
            "not_in_future",
        ),
        (
            incident(
                json!({"occurred_at": "2020-01-01T00:00:00Z", "game_name": "Roulette", "steps_tried": []}),
            ),
            "incident.occurred_at",
            "not_before",
        ),
        (
            incident(json!({"occurred_at": now_minus_hour(), "steps_tried": []})),
            "incident",
            "at_least_one_of",
        ),
        (
            incident(
                json!({"occurred_at": now_minus_hour(), "game_name": "g".repeat(101), "steps_tried": []}),
            ),
            "incident.game_name",
            "max_length",
        ),
        (
            incident(
                json!({"occurred_at": now_minus_hour(), "transaction_id": "TX 1", "steps_tried": []}),
            ),
            "incident.transaction_id",
            "identifier",
        ),
        (
            incident(json!({"occurred_at": now_minus_hour(), "game_name": "Roulette"})),
            "incident.steps_tried",
            "required",
        ),
        (
            incident(
                json!({"occurred_at": now_minus_hour(), "game_name": "Roulette", "steps_tried": vec!["x"; 11]}),
            ),
            "incident.steps_tried",
            "max_items",
        ),
        (
            incident(
                json!({"occurred_at": now_minus_hour(), "game_name": "Roulette", "steps_tried": ["s".repeat(501)]}),
            ),
            "incident.steps_tried[0]",
            "max_length",
        ),
        (
            incident(
                json!({"occurred_at": now_minus_hour(), "game_name": "Roulette", "steps_tried": [], "screenshot": "x"}),
            ),
            "incident.screenshot",
            "unknown_field",
        ),
        (json!([1, 2, 3]), "body", "type"),
    ];
    for (body, field, rule) in &cases {
        let response = api.post_ticket(&token, body, None).await;
        assert_eq!(
            response.status,
            400,
            "{field}/{rule}: {:?}",
            response.json()
        );
        let error = response.json();
        assert_eq!(error["error"], "validation_failed");
        assert_eq!(error["field"], *field, "{error}");
        assert_eq!(error["rule"], *rule, "{error}");
        assert!(error["message"].as_str().is_some_and(|m| m.contains(field)));
    }

    // Not JSON, wrong type, too big, bad key: each its own status, each named.
    let broken = api
        .local
        .send(
            "POST",
            "/tickets",
            Some(&token),
            &[("content-type", "application/json")],
            Some(b"{\"channel\":".to_vec()),
        )
        .await;
    assert_eq!(
        (broken.status, broken.json()["field"].clone()),
        (400, json!("body"))
    );
    let text = api
        .local
        .send(
            "POST",
            "/tickets",
            Some(&token),
            &[("content-type", "text/plain")],
            Some(b"bonjour".to_vec()),
        )
        .await;
    assert_eq!(text.status, 415);
    let huge = with("description", json!("d".repeat(50_000)));
    let too_big = api.post_ticket(&token, &huge, None).await;
    assert_eq!(too_big.status, 413);
    assert_eq!(too_big.json()["rule"], "max_bytes");
    let bad_key = api.post_ticket(&token, &form(), Some("k")).await;
    assert_eq!(bad_key.status, 400);
    assert_eq!(bad_key.json()["field"], "Idempotency-Key");
    let bad_limit = api
        .local
        .send("GET", "/tickets?limit=500", Some(&token), &[], None)
        .await;
    assert_eq!(
        (bad_limit.status, bad_limit.json()["field"].clone()),
        (400, json!("limit"))
    );
    let bad_reference = api
        .local
        .send("GET", "/tickets/NOT-A-REF", Some(&token), &[], None)
        .await;
    assert_eq!(bad_reference.status, 400);
    assert_eq!(bad_reference.json()["field"], "reference");

    let listed = api
        .local
        .send("GET", "/tickets", Some(&token), &[], None)
        .await;
    assert_eq!(listed.json()["tickets"], json!([]), "no partial write");
}

fn now_minus_hour() -> String {
    (jiff::Timestamp::now() - jiff::SignedDuration::from_hours(1)).to_string()
}

#[tokio::test]
async fn unknown_routes_answer_like_api_gateway() {
    let api = Api::start().await;
    let token = api.player("player-f");
    let response = api
        .local
        .send("DELETE", "/tickets", Some(&token), &[], None)
        .await;
    assert_eq!(response.status, 404);
    let response = api
        .local
        .send("GET", "/nowhere", Some(&token), &[], None)
        .await;
    assert_eq!(response.status, 404);
}

/// The identity-verification routes through the gateway on the emulator: the handlers' store
/// and presigner are the production adapters (DynamoDB, S3), wired as each Lambda wires them.
#[tokio::test]
async fn verification_routes_run_on_the_real_adapters() {
    let api = Api::start().await;
    let service = api.token_with("cashier-service", &["service"], 600);
    let reviewer = api.token_with("reviewer-1", &["verification"], 600);
    let player = api.player("player-kyc");
    let json_type = [("content-type", "application/json")];
    let open = json!({"player_id": "player-kyc", "reason": "first_withdrawal", "language": "en"});

    let opened = api
        .local
        .send(
            "POST",
            "/verification/cases",
            Some(&service),
            &json_type,
            Some(open.to_string().into_bytes()),
        )
        .await;
    assert_eq!(opened.status, 201, "{:?}", opened.json());
    let case_id = opened.json()["id"].as_str().expect("id").to_owned();
    let again = api
        .local
        .send(
            "POST",
            "/verification/cases",
            Some(&service),
            &json_type,
            Some(open.to_string().into_bytes()),
        )
        .await;
    assert_eq!(again.status, 409, "{:?}", again.json());
    assert_eq!(again.json()["reason"], "player_has_open_case");

    let upload = json!({"kind": "government_id", "content_type": "image/png", "size": 2048});
    let issued = api
        .local
        .send(
            "POST",
            "/verification/documents",
            Some(&player),
            &json_type,
            Some(upload.to_string().into_bytes()),
        )
        .await;
    assert_eq!(issued.status, 201, "{:?}", issued.json());
    let issued = issued.json();
    assert_eq!(issued["method"], "PUT");
    assert!(issued["url"]
        .as_str()
        .expect("url")
        .contains(&format!("verification/player-kyc/{case_id}/government_id/")));
    assert_eq!(issued["headers"]["content-type"], "image/png");

    let own = api
        .local
        .send("GET", "/verification/case", Some(&player), &[], None)
        .await;
    assert_eq!(own.status, 200, "{:?}", own.json());
    assert_eq!(own.json()["id"], case_id.as_str());
    assert_eq!(own.json()["status_text"], "Waiting for your documents");
    // What stays blocked, as the eligibility gate answers it: every gated action, in progress.
    let gates = own.json()["gates"].as_array().cloned().expect("gates");
    assert_eq!(gates.len(), 4, "{gates:?}");
    assert!(gates.iter().all(|gate| gate["allowed"] == false
        && gate["reason"] == "verification_in_progress"
        && gate["case"] == case_id.as_str()));
    assert_eq!(gates[0]["action"], "withdrawal");
    let stranger = api.player("player-stranger");
    let theirs = api
        .local
        .send("GET", "/verification/case", Some(&stranger), &[], None)
        .await;
    assert_eq!(theirs.status, 404);

    let staff = api
        .local
        .send(
            "GET",
            &format!("/verification/cases/{case_id}"),
            Some(&reviewer),
            &[],
            None,
        )
        .await;
    assert_eq!(staff.status, 200, "{:?}", staff.json());
    assert_eq!(staff.json()["audit"].as_array().map(Vec::len), Some(2));
    let queue = api
        .local
        .send("GET", "/verification/reviews", Some(&reviewer), &[], None)
        .await;
    assert_eq!(queue.status, 200, "{:?}", queue.json());
    assert_eq!(queue.json()["cases"], json!([]));

    let gate = api
        .local
        .send(
            "GET",
            "/players/player-kyc/eligibility?action=withdrawal",
            Some(&service),
            &[],
            None,
        )
        .await;
    assert_eq!(gate.status, 200, "{:?}", gate.json());
    assert_eq!(
        gate.json(),
        json!({"action": "withdrawal", "allowed": false,
               "reason": "verification_in_progress", "case": case_id})
    );
}

/// The support page's hours are public: no token is asked, and a bad one is not looked at
/// (the route has no authorizer), while every other route still refuses both.
#[tokio::test]
async fn the_published_hours_need_no_token() {
    let api = Api::start().await;
    for authorization in [None, Some("not-a-token")] {
        let response = api
            .local
            .send("GET", "/support/hours?lang=en", authorization, &[], None)
            .await;
        assert_eq!(response.status, 200, "{:?}", response.json());
        let body = response.json();
        assert_eq!(body["language"], "en");
        assert_eq!(body["channels"].as_array().map(Vec::len), Some(3), "{body}");
    }
    let year = api
        .local
        .send("GET", "/support/hours?year=2030", None, &[], None)
        .await;
    assert_eq!(year.status, 200);
    assert_eq!(year.json()["year"], 2030);
    let bad = api
        .local
        .send("GET", "/support/hours?year=3000", None, &[], None)
        .await;
    assert_eq!(
        (bad.status, bad.json()["field"].clone()),
        (400, json!("year"))
    );
    let tickets = api.local.send("GET", "/tickets", None, &[], None).await;
    assert_eq!(tickets.status, 401, "the others still ask for a token");
}

//! Merging a duplicate into another ticket of the same player, end to end: through the local
//! gateway (routes from the template, JWT checked as API Gateway's authorizer does), the same
//! handler code as in Lambda, and the real AWS SDK against the emulator: both tickets in one
//! transaction, the survivor showing the duplicate's messages and attachments, the player told
//! once.

use guichet_core::attachments::ports::AttachmentStore;
use guichet_core::attachments::rules::AttachmentState;
use guichet_core::common::player::Author;
use guichet_core::common::reference::TicketReference;
use guichet_core::documents::rules::ContentType;
use guichet_local::client::ClientResponse;
use guichet_tests::{error_chain, LocalApi};
use serde_json::{json, Value};

struct Api {
    local: LocalApi,
}

impl Api {
    async fn start() -> Api {
        Api {
            local: LocalApi::start().await,
        }
    }

    /// A player id of this test's own stack, so that no two tests share a player.
    fn player(&self, name: &str) -> String {
        format!("{name}-{}", self.local.stack.name)
    }

    fn token(&self, sub: &str, groups: &[&str]) -> String {
        self.local.token(sub, groups, 600)
    }

    fn payments(&self) -> String {
        self.token("agent-7", &["agent", "team:payments"])
    }

    async fn get(&self, reference: &str, token: &str) -> ClientResponse {
        self.local
            .call("GET", &format!("/tickets/{reference}"), token, None)
            .await
    }

    async fn post(&self, path: &str, token: &str, body: &Value) -> ClientResponse {
        self.local.call("POST", path, token, Some(body)).await
    }

    /// `POST /tickets/{duplicate}/merge` `{into}`, with an `Idempotency-Key` when given.
    async fn merge(
        &self,
        duplicate: &str,
        into: &str,
        token: &str,
        key: Option<&str>,
    ) -> ClientResponse {
        let mut headers = vec![("content-type", "application/json")];
        if let Some(key) = key {
            headers.push(("idempotency-key", key));
        }
        self.local
            .send(
                "POST",
                &format!("/tickets/{duplicate}/merge"),
                Some(token),
                &headers,
                Some(json!({ "into": into }).to_string().into_bytes()),
            )
            .await
    }

    /// A transaction ticket (payments team) of `player`, through the API.
    async fn ticket(&self, player: &str, subject: &str) -> String {
        let token = self.token(player, &["player"]);
        let body = json!({
            "channel": "form", "category": "transaction", "subject": subject,
            "description": "Mon dépôt de 50 $ n'apparaît pas dans mon solde.",
        });
        let receipt = self.local.create_ticket(&token, &[], &body).await;
        assert_eq!(receipt["team"], "payments");
        receipt["reference"].as_str().expect("reference").to_owned()
    }

    /// A checked PNG on `reference`, recorded through the attachment store as the document
    /// check records one.
    async fn checked_attachment(&self, reference: &str) -> String {
        let attachments = self.local.stack.attachments();
        let reference = TicketReference::parse(reference).expect("reference");
        let (mut attachment, _) = attachments
            .request(&Author::Player, &reference, ContentType::Png, 2048)
            .await
            .unwrap_or_else(|e| panic!("issued: {}", error_chain(&e)));
        attachment.state = AttachmentState::Checked;
        attachment.checked_at = Some(jiff::Timestamp::now());
        attachments
            .store
            .settle(&attachment, AttachmentState::Pending)
            .await
            .unwrap_or_else(|e| panic!("checked: {}", error_chain(&e)));
        attachment.upload.as_str().to_owned()
    }
}

/// The notifications of `kind` the tickets show between them, read as staff.
async fn notifications(api: &Api, references: &[&str], kind: &str) -> usize {
    let mut count = 0;
    for reference in references {
        let read = api.get(reference, &api.payments()).await;
        assert_eq!(read.status, 200, "{:?}", read.json());
        count += read.json()["notifications"]
            .as_array()
            .map_or(0, |all| all.iter().filter(|n| n["kind"] == kind).count());
    }
    count
}

#[tokio::test]
async fn a_merge_closes_the_duplicate_and_the_survivor_shows_its_conversation() {
    let api = Api::start().await;
    let owner = api.player("owner");
    let player = api.token(&owner, &["player"]);
    let duplicate = api.ticket(&owner, "Dépôt manquant").await;
    let survivor = api.ticket(&owner, "Dépôt toujours absent").await;
    let agent = api.payments();

    // The conversation on the duplicate: the player's answer, a reply, a note, a file.
    let path = |action: &str| format!("/tickets/{duplicate}/{action}");
    let answered = api
        .post(
            &path("messages"),
            &player,
            &json!({"body": "Voici mon relevé."}),
        )
        .await;
    assert_eq!(answered.status, 201, "{:?}", answered.json());
    for (action, version, text) in [
        ("replies", 2, "Merci, nous vérifions."),
        ("notes", 3, "Relevé conforme."),
    ] {
        let body = json!({"version": version, "body": text});
        let written = api.post(&path(action), &agent, &body).await;
        assert_eq!(written.status, 200, "{:?}", written.json());
    }
    let upload = api.checked_attachment(&duplicate).await;

    let merged = api.merge(&duplicate, &survivor, &agent, None).await;
    assert_eq!(merged.status, 200, "{:?}", merged.json());
    let answer = merged.json();
    assert_eq!(answer["replayed"], false);
    assert_eq!(answer["duplicate"]["status"], "closed");
    assert_eq!(answer["duplicate"]["merged_into"], survivor.as_str());
    assert_eq!(answer["survivor"]["merged_from"], json!([duplicate]));
    assert_eq!(answer["survivor"]["status"], "open");

    // The duplicate: closed, pointing at the survivor, its clocks stopped, a history line by
    // the agent.
    let read = api.get(&duplicate, &agent).await.json();
    assert_eq!(read["status"], "closed");
    assert_eq!(read["merged_into"], survivor.as_str());
    let last = &read["history"][read["history"].as_array().map_or(0, Vec::len) - 1];
    assert_eq!(last["reason"], "merged_into");
    assert_eq!(last["actor"]["id"], "agent-7");
    for promise in read["promises"].as_array().expect("promises") {
        assert_eq!(promise["state"], "met", "{promise}");
    }
    assert!(read.get("expected_answer_at").is_none(), "{read}");

    // The survivor, as its player reads it: the duplicate's messages (not the note) and its
    // checked attachment, metadata only.
    let mine = api.get(&survivor, &player).await;
    assert_eq!(mine.status, 200, "{:?}", mine.json());
    let mine = mine.json();
    assert_eq!(mine["merged_from"], json!([duplicate]));
    let shown = &mine["merged"][0];
    assert_eq!(shown["reference"], duplicate.as_str());
    assert_eq!(shown["subject"], "Dépôt manquant");
    let bodies: Vec<&str> = shown["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter_map(|m| m["body"].as_str())
        .collect();
    assert_eq!(bodies, ["Voici mon relevé.", "Merci, nous vérifions."]);
    assert_eq!(shown["attachments"][0]["upload_id"], upload.as_str());
    assert!(shown["attachments"][0].get("url").is_none(), "{shown}");
    let last = &mine["history"][mine["history"].as_array().map_or(0, Vec::len) - 1];
    assert_eq!(last["reason"], "merged_from");
    assert_eq!(last["actor"]["id"], "agent-7");

    // Staff also read the note, and get a URL for the file.
    let staff = api.get(&survivor, &agent).await.json();
    let shown = &staff["merged"][0];
    assert_eq!(
        shown["messages"].as_array().map(Vec::len),
        Some(3),
        "{shown}"
    );
    assert!(shown["attachments"][0]["url"].is_string(), "{shown}");

    // Another player sees neither ticket.
    let stranger = api.token(&api.player("stranger"), &["player"]);
    assert_eq!(api.get(&survivor, &stranger).await.status, 404);
    assert_eq!(api.get(&duplicate, &stranger).await.status, 404);

    // The player was told once, on the survivor.
    assert_eq!(
        notifications(&api, &[&duplicate, &survivor], "merged").await,
        1
    );
    let told = mine["notifications"]
        .as_array()
        .expect("notifications")
        .iter()
        .any(|n| n["kind"] == "merged");
    assert!(told, "{mine}");
}

#[tokio::test]
async fn a_retry_changes_nothing_and_tells_the_player_nothing_more() {
    let api = Api::start().await;
    let owner = api.player("owner");
    let duplicate = api.ticket(&owner, "Dépôt manquant").await;
    let survivor = api.ticket(&owner, "Dépôt toujours absent").await;
    let other = api.ticket(&owner, "Retrait bloqué").await;
    let agent = api.payments();
    let key = "5b0e7f0c-2d7a-4b8e-9a61-3f4c2b1d0e9a";

    let first = api.merge(&duplicate, &survivor, &agent, Some(key)).await;
    assert_eq!(first.status, 200, "{:?}", first.json());
    let version = first.json()["survivor"]["version"].clone();
    for key in [Some(key), None] {
        let again = api.merge(&duplicate, &survivor, &agent, key).await;
        assert_eq!(again.status, 200, "{:?}", again.json());
        assert_eq!(again.json()["replayed"], true);
        assert_eq!(again.json()["survivor"]["version"], version);
        assert_eq!(again.json()["duplicate"]["merged_into"], survivor.as_str());
    }
    assert_eq!(
        notifications(&api, &[&duplicate, &survivor], "merged").await,
        1
    );
    // The key is bound to that merge; the duplicate to its survivor.
    let reused = api.merge(&other, &survivor, &agent, Some(key)).await;
    assert_eq!(reused.status, 422, "{:?}", reused.json());
    assert_eq!(reused.json()["field"], "Idempotency-Key");
    let elsewhere = api.merge(&duplicate, &other, &agent, None).await;
    assert_eq!(elsewhere.status, 409, "{:?}", elsewhere.json());
    assert_eq!(elsewhere.json()["reason"], "already_merged");
    assert_eq!(elsewhere.json()["field"], "into");
    let untouched = api.get(&other, &agent).await.json();
    assert_eq!(untouched["status"], "open");
    assert_eq!(untouched["version"], 1);
}

#[tokio::test]
async fn refused_merges_write_nothing() {
    let api = Api::start().await;
    let owner = api.player("owner");
    let duplicate = api.ticket(&owner, "Dépôt manquant").await;
    let survivor = api.ticket(&owner, "Dépôt toujours absent").await;
    let stranger = api
        .ticket(&api.player("stranger"), "Dépôt manquant aussi")
        .await;
    let agent = api.payments();

    // Another player's ticket.
    let refused = api.merge(&duplicate, &stranger, &agent, None).await;
    assert_eq!(refused.status, 409, "{:?}", refused.json());
    assert_eq!(refused.json()["reason"], "other_player");
    assert_eq!(refused.json()["field"], "into");

    // A closed survivor (resolved, then closed, by the agent).
    let status = |version: u64, to: &str| json!({"version": version, "status": to});
    let path = format!("/tickets/{survivor}/status");
    assert_eq!(
        api.post(&path, &agent, &status(1, "resolved")).await.status,
        200
    );
    assert_eq!(
        api.post(&path, &agent, &status(2, "closed")).await.status,
        200
    );
    let refused = api.merge(&duplicate, &survivor, &agent, None).await;
    assert_eq!(refused.status, 400, "{:?}", refused.json());
    assert_eq!(refused.json()["field"], "into");
    assert_eq!(refused.json()["rule"], "not_closed");

    // Itself, an unknown ticket, a malformed reference.
    let refused = api.merge(&duplicate, &duplicate, &agent, None).await;
    assert_eq!(refused.status, 400, "{:?}", refused.json());
    assert_eq!(refused.json()["rule"], "other_ticket");
    let unknown = TicketReference::generate().expect("random").to_string();
    assert_eq!(
        api.merge(&duplicate, &unknown, &agent, None).await.status,
        404
    );
    assert_eq!(
        api.merge(&unknown, &duplicate, &agent, None).await.status,
        404
    );
    let refused = api.merge(&duplicate, "K7M2Q-9XW4", &agent, None).await;
    assert_eq!(refused.status, 400, "{:?}", refused.json());
    assert_eq!(refused.json()["rule"], "reference");

    // An agent of another team, and a player (even the tickets' own).
    let games = api.token("agent-9", &["agent", "team:games"]);
    let third = api.ticket(&owner, "Encore mon dépôt").await;
    let refused = api.merge(&duplicate, &third, &games, None).await;
    assert_eq!(refused.status, 403, "{:?}", refused.json());
    assert_eq!(refused.json()["required_team"], "payments");
    let player = api.token(&owner, &["player"]);
    let refused = api.merge(&duplicate, &third, &player, None).await;
    assert_eq!(refused.status, 403, "{:?}", refused.json());
    assert_eq!(refused.json()["required_role"], "agent");

    // Nothing of it was written.
    for reference in [&duplicate, &third, &stranger] {
        let read = api.get(reference, &agent).await.json();
        assert_eq!(read["status"], "open", "{read}");
        assert_eq!(read["version"], 1, "{read}");
        assert!(read.get("merged_into").is_none(), "{read}");
        assert!(read.get("merged_from").is_none(), "{read}");
    }
    assert_eq!(
        notifications(&api, &[&duplicate, &third, &stranger], "merged").await,
        0
    );

    // A supervisor merges for any team.
    let supervisor = api.token("sup-1", &["supervisor"]);
    let merged = api.merge(&duplicate, &third, &supervisor, None).await;
    assert_eq!(merged.status, 200, "{:?}", merged.json());
}

//! Players hear of every change, end to end: a change through the local gateway writes the
//! notification with it, the outbox relays it to the notifications queue, the
//! send-notifications function (run by the local consumers) e-mails it through SES, and the
//! e-mail is read back from the emulator — exactly once, in the ticket's language.

use guichet_local::client::ClientResponse;
use guichet_local::consumers::Consumers;
use guichet_tests::{emails_to, unique_stack_name, LocalApi};
use serde_json::{json, Value};

struct Fixture {
    api: LocalApi,
    consumers: Consumers,
}

async fn fixture() -> Fixture {
    let api = LocalApi::start().await;
    let consumers = api
        .stack
        .consumers(&[
            ("EscalationsQueue", &api.stack.escalations_queue_url),
            ("NotificationsQueue", &api.stack.notifications_queue_url),
        ])
        .await;
    Fixture { api, consumers }
}

impl Fixture {
    async fn call(&self, path: &str, token: &str, language: &str, body: &Value) -> ClientResponse {
        let headers = [
            ("content-type", "application/json"),
            ("accept-language", language),
        ];
        let body = Some(body.to_string().into_bytes());
        self.api
            .send("POST", path, Some(token), &headers, body)
            .await
    }

    /// A technical ticket from a player whose token carries `email`.
    async fn ticket(&self, email: &str, language: &str) -> String {
        let token = self
            .api
            .token_with_email("player-notified", &["player"], 600, email);
        let body = json!({"channel": "form", "category": "technical", "subject": "Jeu figé",
                          "description": "Le jeu se fige au chargement depuis ce matin."});
        let headers = [("accept-language", language)];
        let receipt = self.api.create_ticket(&token, &headers, &body).await;
        receipt["reference"].as_str().expect("reference").to_owned()
    }

    fn agent(&self) -> String {
        self.api.token("agent-3", &["agent", "team:technical"], 600)
    }

    /// Receive-and-dispatch rounds over both queues until neither has anything visible; every
    /// message is handled at the first attempt.
    async fn drain(&self) {
        let drained = guichet_tests::drain(&self.consumers).await;
        assert_eq!(drained.failed, 0, "{drained:?}");
    }
}

fn address(label: &str) -> String {
    format!("{label}.{}@joueurs.example", unique_stack_name())
}

#[tokio::test]
async fn a_status_change_sends_exactly_one_e_mail_in_the_tickets_language() {
    let f = fixture().await;
    let to = address("en");
    let reference = f.ticket(&to, "en-CA").await;
    f.drain().await;
    let received = emails_to(&to).await;
    assert_eq!(received.len(), 1, "{received:?}");
    assert_eq!(received[0].subject, format!("Request {reference} received"));
    assert_eq!(received[0].source, f.api.stack.notification_sender);

    let resolved = f
        .call(
            &format!("/tickets/{reference}/status"),
            &f.agent(),
            "fr-CA",
            &json!({"version": 1, "status": "resolved", "reason": "cache_cleared"}),
        )
        .await;
    assert_eq!(resolved.status, 200, "{:?}", resolved.json());
    f.drain().await;
    let emails = emails_to(&to).await;
    assert_eq!(emails.len(), 2, "{emails:?}");
    let last = &emails[1];
    assert!(
        last.subject.contains(&reference) && last.subject.contains("resolved"),
        "English, as the ticket, whatever the agent's language: {}",
        last.subject
    );

    // A duplicate delivery of the same notification sends nothing.
    let ticket = f
        .api
        .call("GET", &format!("/tickets/{reference}"), &f.agent(), None)
        .await
        .json();
    let notification = &ticket["notifications"][1];
    assert_eq!(notification["kind"], "resolved");
    let duplicate = json!({
        "schema": "guichet.notification.v1",
        "notification_id": notification["id"],
        "player": "player-notified",
        "ticket": reference,
        "kind": "resolved",
        "language": "en",
        "subject": notification["subject"],
        "body": notification["body"],
        "created_at": notification["at"],
    });
    f.api
        .stack
        .send_message(&f.api.stack.notifications_queue_url, &duplicate.to_string())
        .await;
    f.drain().await;
    assert_eq!(emails_to(&to).await.len(), 2, "not sent twice");
}

#[tokio::test]
async fn an_escalated_ticket_tells_its_player_in_french_which_team_has_it() {
    let f = fixture().await;
    let to = address("fr");
    let reference = f.ticket(&to, "fr-CA").await;
    let accepted = f
        .call(
            &format!("/tickets/{reference}/escalate"),
            &f.agent(),
            "en",
            &json!({"version": 1, "team": "payments", "reason": "needs_processor_trace"}),
        )
        .await;
    assert_eq!(accepted.status, 202, "{:?}", accepted.json());
    f.drain().await;
    let emails = emails_to(&to).await;
    let subjects: Vec<&str> = emails.iter().map(|e| e.subject.as_str()).collect();
    assert_eq!(
        subjects,
        [
            format!("Demande {reference} reçue"),
            format!("Votre demande {reference} est confiée à une équipe spécialisée"),
        ],
        "{emails:?}"
    );
    assert!(
        emails[1].body.contains("l'équipe paiements"),
        "{}",
        emails[1].body
    );
    assert!(
        emails[1].body.contains("(heure de l'Est)"),
        "a local due date"
    );
}

#[tokio::test]
async fn an_extension_tells_the_player_the_new_date_in_their_language() {
    let f = fixture().await;
    let to = address("fr");
    let reference = f.ticket(&to, "fr-CA").await;
    let before = f
        .api
        .call("GET", &format!("/tickets/{reference}"), &f.agent(), None)
        .await
        .json();
    let extended = f
        .call(
            &format!("/tickets/{reference}/extension"),
            &f.agent(),
            "en",
            &json!({"version": 1, "business_days": 3, "reason": "awaiting_provider"}),
        )
        .await;
    assert_eq!(extended.status, 200, "{:?}", extended.json());
    let body = extended.json();
    let due = |view: &Value| {
        view["promises"]
            .as_array()
            .and_then(|clocks| clocks.iter().find(|c| c["clock"] == "resolution"))
            .map(|c| c["due_at"].clone())
            .unwrap_or_default()
    };
    assert_ne!(due(&body), due(&before), "the resolution moved");
    assert_eq!(body["history"][0]["extended_minutes"], 3 * 480);
    f.drain().await;
    let emails = emails_to(&to).await;
    assert_eq!(emails.len(), 2, "{emails:?}");
    assert_eq!(
        emails[1].subject,
        format!("Délai prolongé pour votre demande {reference}")
    );
    // The player reads the new date, not the clock: no bookkeeping in their view.
    let player = f
        .api
        .token_with_email("player-notified", &["player"], 600, &to);
    let theirs = f
        .api
        .call("GET", &format!("/tickets/{reference}"), &player, None)
        .await
        .json();
    assert!(theirs.get("promises").is_none() && theirs.get("clocks").is_none());
    assert!(theirs["expected_answer_at"].is_string(), "{theirs}");
}

//! The logs of a full flow hold no personal data and no secret: a player's ticket (intake, an
//! agent's take, reply and escalation, the routing and the e-mails), then a verification case
//! (the case opened, both documents uploaded through their presigned URLs and checked, a
//! reviewer viewing one and approving), all through the local gateway and the local consumers
//! on the production adapters. Every log line is captured in the functions' own JSON format
//! (`guichet_edge::telemetry::json_logs`) at their level (`info`), and the test fails if the
//! player's e-mail or name, any text written by the player or the staff, a token, a presigned
//! signature or a document's key appears in them.
//!
//! The test runs on a current-thread runtime, so the gateway's and the consumers' tasks all run
//! on this thread, under this test's subscriber, and no other test's lines are mixed in.

use std::io::Write;
use std::sync::{Arc, Mutex};

use guichet_tests::presigned::{put_stored, query_param, send_presigned};
use guichet_tests::{unique_stack_name, LocalApi};
use serde_json::{json, Value};

/// Every log line written, kept for the assertions.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
    }
}

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

const NAME: &str = "Zéphyrine Bouchard";
const SUBJECT: &str = "Retrait bloqué pour Zéphyrine Bouchard";
const DESCRIPTION: &str = "Mon retrait de 740 $ est bloqué depuis mardi, mot de passe changé.";
const REPLY: &str = "Bonjour, nous regardons votre retrait de 740 $ avec la trésorerie.";
const NOTE: &str = "Trace du processeur demandée, réf. interne 88-TRX.";
const PLAYER_MESSAGE: &str = "Merci, vos pièces sont conformes et votre retrait est débloqué.";
const INTERNAL_NOTE: &str = "Permis de conduire QC, adresse vérifiée sur facture Hydro.";

const PNG: &[u8] = b"\x89PNG\r\n\x1a\nphoto of a driving licence";
const PDF: &[u8] = b"%PDF-1.7\na hydro bill with an address";

#[tokio::test(flavor = "current_thread")]
async fn the_logs_of_a_full_flow_hold_no_personal_data_and_no_secret() {
    let logs = Captured::default();
    let _logging = tracing::subscriber::set_default(guichet_edge::telemetry::json_logs(
        tracing_subscriber::EnvFilter::new("info"),
        logs.clone(),
    ));

    let api = LocalApi::start().await;
    let stack = &api.stack;
    // The emulator cannot evaluate the bucket policy's conditions (see the method).
    stack.remove_bucket_policy_for_object_access().await;
    let consumers = stack
        .consumers(&[
            ("EscalationsQueue", &stack.escalations_queue_url),
            ("NotificationsQueue", &stack.notifications_queue_url),
            ("DocumentEventsQueue", &stack.document_events_queue_url),
        ])
        .await;
    let drain = || async {
        let drained = guichet_tests::drain(&consumers).await;
        assert_eq!(drained.failed, 0, "{drained:?}");
    };
    let email = format!("zephyrine.bouchard.{}@joueurs.example", unique_stack_name());
    let player = api.token_with_email("player-logged", &["player"], 600, &email);
    let agent = api.token("agent-logs", &["agent", "team:payments"], 600);
    let service = api.token("cashier-service", &["service"], 600);
    let reviewer = api.token("reviewer-logs", &["verification"], 600);
    let call = |method: &'static str, path: String, token: &str, body: Option<Value>| {
        let token = token.to_owned();
        let api = &api;
        async move {
            let response = api.call(method, &path, &token, body.as_ref()).await;
            assert!(
                response.status < 300,
                "{method} {path}: {} {:?}",
                response.status,
                response.json()
            );
            response.json()
        }
    };

    // The ticket: intake, take, reply, escalation, routing and the e-mails.
    let receipt = api
        .create_ticket(
            &player,
            &[("accept-language", "fr-CA")],
            &json!({"channel": "form", "category": "transaction", "subject": SUBJECT,
                    "description": DESCRIPTION}),
        )
        .await;
    let reference = receipt["reference"].as_str().expect("reference").to_owned();
    let tickets = format!("/tickets/{reference}");
    call(
        "POST",
        format!("{tickets}/take"),
        &agent,
        Some(json!({"version": 1})),
    )
    .await;
    call(
        "POST",
        format!("{tickets}/replies"),
        &agent,
        Some(json!({"version": 2, "body": REPLY})),
    )
    .await;
    call(
        "POST",
        format!("{tickets}/escalate"),
        &agent,
        Some(
            json!({"version": 3, "team": "security", "reason": "account_takeover_suspected",
                    "note": NOTE}),
        ),
    )
    .await;
    drain().await;

    // The verification case: opened, both documents uploaded and checked, viewed, approved.
    let case = call(
        "POST",
        "/verification/cases".into(),
        &service,
        Some(
            json!({"player_id": "player-logged", "reason": "first_withdrawal",
                    "language": "fr"}),
        ),
    )
    .await;
    let case_id = case["id"].as_str().expect("case id").to_owned();
    let mut signatures = Vec::new();
    let mut keys = Vec::new();
    for (kind, content_type, bytes) in [
        ("government_id", "image/png", PNG),
        ("proof_of_address", "application/pdf", PDF),
    ] {
        let issued = call(
            "POST",
            "/verification/documents".into(),
            &player,
            Some(json!({"kind": kind, "content_type": content_type, "size": bytes.len()})),
        )
        .await;
        let url = issued["url"].as_str().expect("url").to_owned();
        signatures.push(query_param(&url, "X-Amz-Signature").expect("signed"));
        let path = url.split_once('?').map_or(url.as_str(), |(path, _)| path);
        keys.push(
            path.rsplit_once(&format!("{}/", stack.documents_bucket))
                .map_or_else(|| path.to_owned(), |(_, key)| key.to_owned()),
        );
        let headers: Vec<(String, String)> = issued["headers"]
            .as_object()
            .expect("signed headers")
            .iter()
            .filter_map(|(name, value)| Some((name.clone(), value.as_str()?.to_owned())))
            .collect();
        let headers: Vec<(&str, &str)> = headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        put_stored(&url, &headers, bytes.to_vec()).await;
    }
    drain().await;
    let cases = format!("/verification/cases/{case_id}");
    let viewed = call(
        "POST",
        format!("{cases}/documents/government_id/view"),
        &reviewer,
        None,
    )
    .await;
    let view = viewed["url"].as_str().expect("view url").to_owned();
    signatures.push(query_param(&view, "X-Amz-Signature").expect("signed"));
    assert_eq!(send_presigned("GET", &view, &[], None).await.body, PNG);
    let read = call("GET", cases.clone(), &reviewer, None).await;
    call(
        "POST",
        format!("{cases}/decision"),
        &reviewer,
        Some(
            json!({"version": read["case"]["version"], "decision": "approve",
                    "player_message": PLAYER_MESSAGE, "internal_note": INTERNAL_NOTE}),
        ),
    )
    .await;
    drain().await;

    let text = logs.text();
    if let Some(path) = std::env::var_os("GUICHET_LOG_TEST_OUT") {
        let _ = std::fs::write(path, &text);
    }
    // The capture works, and the flow left the lines an operator follows it by.
    // References are logged in their canonical form, without the dash.
    let canonical = reference.replace('-', "");
    for expected in [
        canonical.as_str(),
        case_id.as_str(),
        "ticket accepted",
        "notification handled",
    ] {
        assert!(
            text.contains(expected),
            "no `{expected}` in the logs:\n{text}"
        );
    }
    let tokens = [player, agent, service, reviewer];
    let mut secrets: Vec<(&str, &str)> = vec![
        ("the player's e-mail", email.as_str()),
        ("the player's name", NAME),
        ("the subject", SUBJECT),
        ("the description", DESCRIPTION),
        ("the agent's reply", REPLY),
        ("the escalation note", NOTE),
        ("the player-facing message", PLAYER_MESSAGE),
        ("the internal note", INTERNAL_NOTE),
    ];
    for token in &tokens {
        secrets.push(("a token", token.as_str()));
        // Its signature alone is the secret part.
        secrets.push((
            "a token's signature",
            token.rsplit('.').next().unwrap_or(token),
        ));
    }
    for signature in &signatures {
        secrets.push(("a presigned signature", signature.as_str()));
    }
    for key in &keys {
        secrets.push(("a document key", key.as_str()));
    }
    for (what, value) in secrets {
        assert!(
            !value.is_empty(),
            "{what} is empty: the check would prove nothing"
        );
        if let Some(line) = text.lines().find(|line| line.contains(value)) {
            panic!("{what} is in the logs: {line}");
        }
    }
}

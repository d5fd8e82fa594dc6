//! The live-chat hand-off through the local gateway, signed with the secret provisioning put in
//! Secrets Manager on the emulator, as the chat tool signs it.

use guichet_core::handoffs::signature::HandoffKey;
use guichet_tests::LocalApi;
use serde_json::json;

async fn post(
    api: &LocalApi,
    body: &str,
    timestamp: &str,
    signature: &str,
) -> guichet_local::client::ClientResponse {
    api.send(
        "POST",
        "/handoffs/chat",
        None,
        &[
            ("content-type", "application/json"),
            ("x-guichet-timestamp", timestamp),
            ("x-guichet-signature", signature),
        ],
        Some(body.as_bytes().to_vec()),
    )
    .await
}

#[tokio::test]
async fn a_signed_hand_off_opens_one_chat_ticket_and_a_forged_one_nothing() {
    let api = LocalApi::start().await;
    let secret = api.stack.chat_handoff_secret().await;
    let key = HandoffKey::parse(secret.as_bytes()).expect("the provisioned secret");
    let now = jiff::Timestamp::now();
    let body = json!({
        "provider": "zendesk", "conversation_id": "conv-77", "player_id": "player-chat",
        "language": "en", "category": "technical",
        "closed_at": (now - jiff::SignedDuration::from_mins(1)).to_string(),
        "transcript": [{"at": (now - jiff::SignedDuration::from_mins(3)).to_string(),
                        "from": "player", "text": "The lobby stays white."}],
    })
    .to_string();
    let seconds = now.as_second();
    let signature = key.sign(seconds, body.as_bytes());
    let created = post(&api, &body, &seconds.to_string(), &signature).await;
    assert_eq!(created.status, 201, "{:?}", created.json());
    let receipt = created.json();
    assert_eq!(receipt["response_target"]["channel"], "chat");
    let again = post(&api, &body, &seconds.to_string(), &signature).await;
    assert_eq!(again.status, 200);
    assert_eq!(again.json()["reference"], receipt["reference"]);

    // The player reads it as theirs.
    let token = api.token("player-chat", &["player"], 600);
    let reference = receipt["reference"].as_str().expect("a reference");
    let theirs = api
        .call("GET", &format!("/tickets/{reference}"), &token, None)
        .await;
    assert_eq!(theirs.status, 200);
    assert!(theirs.json()["description"]
        .as_str()
        .is_some_and(|d| d.contains("The lobby stays white.")));

    // Another secret, an old timestamp: refused, nothing written.
    let other = HandoffKey::parse(b"not the stack's secret, 32 bytes long").expect("ok");
    let forged = post(
        &api,
        &body.replace("conv-77", "conv-78"),
        &seconds.to_string(),
        &other.sign(seconds, body.replace("conv-77", "conv-78").as_bytes()),
    )
    .await;
    assert_eq!(forged.status, 401);
    assert_eq!(forged.json()["field"], "x-guichet-signature");
    let old = seconds - 600;
    let replayed = post(
        &api,
        &body,
        &old.to_string(),
        &key.sign(old, body.as_bytes()),
    )
    .await;
    assert_eq!(replayed.status, 401);
    assert_eq!(replayed.json()["rule"], "signature_window");
}

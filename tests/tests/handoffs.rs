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

/// A rotation in Secrets Manager: a container started after it accepts hand-offs signed with
/// the new value and with the one before, so the chat tool can switch at its own pace; after
/// the next rotation, the oldest is refused.
#[tokio::test]
async fn during_a_rotation_the_new_and_the_previous_secret_are_both_accepted() {
    let stack = guichet_tests::fresh_stack().await;
    let config = guichet_edge::config::HandoffConfig {
        secret_arn: stack.chat_handoff_secret_arn.clone(),
    };
    let first = stack.chat_handoff_secret().await;
    let rotate = |value: &'static str| {
        let stack = &stack;
        async move {
            stack
                .secrets()
                .put_secret_value()
                .secret_id(&stack.chat_handoff_secret_arn)
                .secret_string(value)
                .send()
                .await
                .expect("rotated");
        }
    };
    let second = "second-value-of-the-chat-secret-0123456789abcdefghijklmnopqrstuv";
    let third = "third-value-of-the-chat-secret-0123456789abcdefghijklmnopqrstuvw";
    let sign = |secret: &str| {
        HandoffKey::parse(secret.as_bytes())
            .expect("long enough")
            .sign(1_796_000_000, b"{}")
    };
    let now = jiff::Timestamp::from_second(1_796_000_000).expect("valid");
    let check = |key: &HandoffKey, secret: &str| {
        key.verify(Some("1796000000"), Some(&sign(secret)), b"{}", now)
    };
    let before = guichet_aws::wiring::handoff_key(&config, &stack.sdk)
        .await
        .expect("read");
    assert!(check(&before, &first).is_ok());
    rotate(second).await;
    let during = guichet_aws::wiring::handoff_key(&config, &stack.sdk)
        .await
        .expect("read");
    assert!(check(&during, second).is_ok(), "the new value");
    assert!(
        check(&during, &first).is_ok(),
        "the value before, while the tool switches"
    );
    rotate(third).await;
    let after = guichet_aws::wiring::handoff_key(&config, &stack.sdk)
        .await
        .expect("read");
    assert!(check(&after, third).is_ok());
    assert!(check(&after, second).is_ok());
    assert!(check(&after, &first).is_err(), "two rotations ago: refused");
}

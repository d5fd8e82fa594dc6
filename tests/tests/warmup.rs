//! The connection warm-up the functions make at init (`guichet_aws::warmup`), against a freshly
//! provisioned stack: every call it makes is one the emulator answers, on the real resources,
//! and it leaves nothing behind.

use guichet_aws::warmup::{warm, Endpoint, WARMUP_TIMEOUT};
use guichet_edge::config::WarmupConfig;
use guichet_tests::fresh_stack;

#[tokio::test]
async fn every_warm_up_call_is_answered_and_writes_nothing() {
    let stack = fresh_stack().await;
    // The functions' own SDK configuration (its shared HTTP client among it), on the emulator.
    let sdk = guichet_aws::sdk_config().await;
    let endpoints = [
        Endpoint::Table(stack.tickets_table.clone()),
        Endpoint::Queue(stack.notifications_queue_url.clone()),
        Endpoint::Queue(stack.team_queue_urls["technical"].clone()),
        Endpoint::EmailIdentity(stack.notification_sender.clone()),
        Endpoint::Bucket(stack.documents_bucket.clone()),
    ];
    let config = WarmupConfig {
        warm_connections: true,
    };
    // Bounded by several times the functions' timeout: this shared machine is slower than AWS.
    let failures = warm(&sdk, config, &endpoints, WARMUP_TIMEOUT * 10).await;
    assert!(failures.is_empty(), "{failures:?}");

    let items = stack
        .dynamodb()
        .scan()
        .table_name(&stack.tickets_table)
        .send()
        .await
        .expect("scan");
    assert_eq!(items.count(), 0, "the warm-up wrote to the table");
    for queue in [
        &stack.notifications_queue_url,
        &stack.team_queue_urls["technical"],
    ] {
        let received = stack
            .sqs()
            .receive_message()
            .queue_url(queue)
            .send()
            .await
            .expect("receive");
        assert!(
            received.messages().is_empty(),
            "the warm-up sent to {queue}"
        );
    }
}

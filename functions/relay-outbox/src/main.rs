//! The outbox sweep, on an EventBridge schedule.

use lambda_runtime::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    guichet_edge::telemetry::init_json();
    let wiring = guichet_aws::wiring::Wiring::from_env().await?;
    let relay = &wiring.relay()?;
    // The table only: a sweep sends to SQS only what the stream's relay could not.
    wiring.warm(&[]).await;
    guichet_edge::schedule::serve(move || async move {
        // Boxed: the sweep's future nests the whole outbox and queue adapter stack, deeper
        // than the compiler's default query depth allows for the runtime loop's future.
        let relayed = Box::pin(relay_outbox::handle(relay)).await?;
        Ok::<_, relay_outbox::SweepError>(serde_json::json!({"sent": relayed.sent}))
    })
    .await
}

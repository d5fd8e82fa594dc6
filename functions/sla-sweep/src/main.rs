//! The clocks' sweep, every minute.

use lambda_runtime::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    guichet_edge::telemetry::init_json();
    let wiring = guichet_aws::wiring::Wiring::from_env().await?;
    let sweep = &wiring.sweep()?;
    wiring.warm(&[]).await;
    guichet_edge::schedule::serve(move || async move {
        // Boxed, like relay-outbox's: the future nests the whole store adapter stack.
        let report = Box::pin(sla_sweep::handle(sweep)).await?;
        Ok::<_, guichet_core::promises::sweep::SweepError>(serde_json::json!(report))
    })
    .await
}

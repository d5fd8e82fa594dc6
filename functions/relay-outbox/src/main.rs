//! The outbox sweep, on an EventBridge schedule.

use guichet_edge::config::{Config, QueuesConfig};
use lambda_runtime::{run, service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    guichet_edge::telemetry::init_json();
    let config = Config::from_env()?;
    let queues = QueuesConfig::from_env()?;
    let sdk = guichet_aws::sdk_config().await;
    let relay = guichet_aws::wiring::relay(&config.tickets_table, &queues, &sdk);
    let relay = &relay;
    // The scheduled event's content is irrelevant: every invocation is one sweep.
    run(service_fn(
        move |_event: LambdaEvent<serde_json::Value>| async move {
            relay_outbox::handle(relay)
                .await
                .map(|relayed| serde_json::json!({"sent": relayed.sent}))
                .map_err(|e| Box::new(e) as Error)
        },
    ))
    .await
}

//! The escalation router: triggered by the escalations queue.

use std::convert::Infallible;

use aws_lambda_events::event::sqs::SqsEvent;
use guichet_edge::config::{Config, QueuesConfig};
use lambda_runtime::{run, service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    guichet_edge::telemetry::init_json();
    let config = Config::from_env()?;
    let queues = QueuesConfig::from_env()?;
    let sdk = guichet_aws::sdk_config().await;
    let desk = guichet_aws::wiring::desk(&config, &sdk)?;
    let relay = guichet_aws::wiring::relay(&config.tickets_table, &queues, &sdk);
    let (desk, relay) = (&desk, &relay);
    // Never an invocation error: failures are reported per message in the batch response.
    run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<_, Infallible>(route_escalations::handle(desk, relay, event.payload).await)
    }))
    .await
}

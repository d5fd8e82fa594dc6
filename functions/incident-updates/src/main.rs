//! The incident fan-out: triggered by the incident-updates queue, one page per invocation.

use guichet_edge::config::FromEnv;
use std::convert::Infallible;

use aws_lambda_events::event::sqs::SqsEvent;
use guichet_core::incidents::service::IncidentConfig;
use guichet_edge::config::{Config, QueuesConfig};
use lambda_runtime::{run, service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    guichet_edge::telemetry::init_json();
    let config = Config::from_env()?;
    let queues = QueuesConfig::from_env()?;
    let rule = IncidentConfig::from_env()?;
    let sdk = guichet_aws::sdk_config().await;
    let desk = guichet_aws::wiring::desk(&config, &sdk)?;
    let incidents = guichet_aws::wiring::incidents(&config.tickets_table, rule, &sdk);
    let relay = guichet_aws::wiring::relay(&config.tickets_table, &queues, &sdk);
    let (desk, incidents, relay) = (&desk, &incidents, &relay);
    // Never an invocation error: failures are reported per message in the batch response.
    run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<_, Infallible>(
            incident_updates::handle(
                desk,
                incidents,
                relay,
                incident_updates::PAGE_SIZE,
                event.payload,
            )
            .await,
        )
    }))
    .await
}

//! The incident fan-out: triggered by the incident-updates queue, one page per invocation.

use guichet_edge::config::FromEnv;

use guichet_core::incidents::service::IncidentConfig;
use guichet_edge::config::{Config, QueuesConfig};
use lambda_runtime::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    guichet_edge::telemetry::init_json();
    let config = Config::from_env()?;
    let queues = QueuesConfig::from_env()?;
    let rule = IncidentConfig::from_env()?;
    let sdk = guichet_aws::sdk_config().await;
    let desk = &guichet_aws::wiring::desk(&config, &sdk)?;
    let incidents = &guichet_aws::wiring::incidents(&config.tickets_table, rule, &sdk);
    let relay = &guichet_aws::wiring::relay(&config.tickets_table, &queues, &sdk);
    guichet_edge::batch::serve(move |event| {
        incident_updates::handle(desk, incidents, relay, incident_updates::PAGE_SIZE, event)
    })
    .await
}

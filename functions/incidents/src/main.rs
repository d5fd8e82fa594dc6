//! `GET /incidents/{incident_id}`, `POST|DELETE /incidents/{incident_id}/links[/{reference}]`,
//! `POST /incidents/{incident_id}/status`: staff's side of multi-player incidents.

use guichet_edge::config::FromEnv;

use guichet_core::incidents::service::IncidentConfig;
use guichet_edge::config::{Config, QueuesConfig};
use lambda_http::Error;

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
    guichet_edge::http::serve(move |request| incidents::handle(desk, incidents, relay, request))
        .await
}

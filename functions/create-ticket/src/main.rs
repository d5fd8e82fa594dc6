//! `POST /tickets`: a player submits a support request.

use guichet_edge::config::FromEnv;

use guichet_core::incidents::service::IncidentConfig;
use guichet_edge::config::{Config, QueuesConfig};
use lambda_http::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    guichet_edge::telemetry::init_json();
    let config = Config::from_env()?;
    let queues = QueuesConfig::from_env()?;
    let sdk = guichet_aws::sdk_config().await;
    let desk = &guichet_aws::wiring::desk(&config, &sdk)?;
    let relay = &guichet_aws::wiring::relay(&config.tickets_table, &queues, &sdk);
    let incidents =
        &guichet_aws::wiring::incidents(&config.tickets_table, IncidentConfig::from_env()?, &sdk);
    guichet_edge::http::serve(move |request| create_ticket::handle(desk, incidents, relay, request))
        .await
}

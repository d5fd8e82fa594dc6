//! `GET /incidents/{incident_id}`, `POST|DELETE /incidents/{incident_id}/links[/{reference}]`,
//! `POST /incidents/{incident_id}/status`: staff's side of multi-player incidents.

use std::convert::Infallible;

use guichet::config::{Config, IncidentConfig, QueuesConfig};
use guichet::incidents::Incidents;
use guichet::outbox::Relay;
use guichet::tickets::Desk;
use lambda_http::{run, service_fn, Error, Request};

#[tokio::main]
async fn main() -> Result<(), Error> {
    guichet::telemetry::init_json();
    let config = Config::from_env()?;
    let queues = QueuesConfig::from_env()?;
    let rule = IncidentConfig::from_env()?;
    let sdk = guichet::aws_sdk_config().await;
    let desk = Desk::connect(&config, &sdk)?;
    let incidents = Incidents::connect(&config.tickets_table, rule, &sdk);
    let relay = Relay::connect(&config.tickets_table, &queues, &sdk);
    let (desk, incidents, relay) = (&desk, &incidents, &relay);
    run(service_fn(move |request: Request| async move {
        Ok::<_, Infallible>(incidents::handle(desk, incidents, relay, request).await)
    }))
    .await
}

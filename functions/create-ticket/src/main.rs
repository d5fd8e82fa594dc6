//! `POST /tickets`: a player submits a support request.

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
    let sdk = guichet::aws_sdk_config().await;
    let desk = Desk::connect(&config, &sdk)?;
    let relay = Relay::connect(&config.tickets_table, &queues, &sdk);
    let incidents = Incidents::connect(&config.tickets_table, IncidentConfig::from_env()?, &sdk);
    let (desk, incidents, relay) = (&desk, &incidents, &relay);
    run(service_fn(move |request: Request| async move {
        Ok::<_, Infallible>(create_ticket::handle(desk, incidents, relay, request).await)
    }))
    .await
}

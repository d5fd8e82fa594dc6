//! `POST /tickets/{reference}/take|replies|status|escalate`: the agents' actions on a ticket.

use std::convert::Infallible;

use guichet::config::{Config, QueuesConfig};
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
    let (desk, relay) = (&desk, &relay);
    run(service_fn(move |request: Request| async move {
        Ok::<_, Infallible>(update_ticket::handle(desk, relay, request).await)
    }))
    .await
}

//! `POST /tickets/{reference}/take|replies|status|escalate`: the agents' actions on a ticket.

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
    guichet_edge::http::serve(move |request| update_ticket::handle(desk, relay, request)).await
}

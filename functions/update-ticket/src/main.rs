//! `POST /tickets/{reference}/take|replies|status|escalate`: the agents' actions on a ticket.

use lambda_http::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    guichet_edge::telemetry::init_json();
    let wiring = guichet_aws::wiring::Wiring::from_env().await?;
    let desk = &wiring.desk()?;
    wiring.warm(&[]).await;
    guichet_edge::http::serve(move |request| update_ticket::handle(desk, request)).await
}

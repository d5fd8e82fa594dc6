//! `POST /tickets/{reference}/take|replies|status`: the agents' actions on a ticket.

use std::convert::Infallible;

use guichet::tickets::Desk;
use lambda_http::{run, service_fn, Error, Request};

#[tokio::main]
async fn main() -> Result<(), Error> {
    guichet::telemetry::init_json();
    let desk = Desk::from_env().await?;
    let desk = &desk;
    run(service_fn(move |request: Request| async move {
        Ok::<_, Infallible>(update_ticket::handle(desk, request).await)
    }))
    .await
}

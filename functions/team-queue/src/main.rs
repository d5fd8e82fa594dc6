//! `GET /queues/{team}`: a team's open tickets in priority then arrival order.

use std::convert::Infallible;

use lambda_http::{run, service_fn, Error, Request};

#[tokio::main]
async fn main() -> Result<(), Error> {
    guichet_edge::telemetry::init_json();
    let desk = guichet_aws::wiring::desk_from_env().await?;
    let desk = &desk;
    run(service_fn(move |request: Request| async move {
        Ok::<_, Infallible>(team_queue::handle(desk, request).await)
    }))
    .await
}

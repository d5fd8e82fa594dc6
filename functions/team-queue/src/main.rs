//! `GET /queues/{team}`: a team's open tickets in priority then arrival order.

use lambda_http::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    guichet_edge::telemetry::init_json();
    let desk = &guichet_aws::wiring::desk_from_env().await?;
    guichet_edge::http::serve(move |request| team_queue::handle(desk, request)).await
}

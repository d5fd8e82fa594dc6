//! `GET /tickets`: the caller's tickets, newest first.

use lambda_http::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    guichet_edge::telemetry::init_json();
    let desk = &guichet_aws::wiring::desk_from_env().await?;
    guichet_edge::http::serve(move |request| list_tickets::handle(desk, request)).await
}

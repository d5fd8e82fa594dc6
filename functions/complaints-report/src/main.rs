//! `GET /reports/complaints`: the open complaints older than N days, for the regulator's report.

use lambda_http::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    guichet_edge::telemetry::init_json();
    let desk = &guichet_aws::wiring::desk_from_env().await?;
    guichet_edge::http::serve(move |request| complaints_report::handle(desk, request)).await
}

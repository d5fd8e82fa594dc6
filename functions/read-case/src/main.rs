//! `GET /verification/case`, `GET /verification/cases/{case_id}`, `GET /verification/reviews`:
//! a player reads their case; reviewers read a case with its audit trail, and the review queue.

use lambda_http::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    guichet_edge::telemetry::init_json();
    let verification = &guichet_aws::wiring::verification_from_env().await?;
    guichet_edge::http::serve(move |request| read_case::handle(verification, request)).await
}

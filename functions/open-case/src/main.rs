//! `POST /verification/cases`: staff or the casino's systems open a verification case.

use lambda_http::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    guichet_edge::telemetry::init_json();
    let verification = &guichet_aws::wiring::verification_from_env().await?;
    guichet_edge::http::serve(move |request| open_case::handle(verification, request)).await
}

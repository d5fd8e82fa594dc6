//! `POST /verification/cases`: staff or the casino's systems open a verification case.

use std::convert::Infallible;

use lambda_http::{run, service_fn, Error, Request};

#[tokio::main]
async fn main() -> Result<(), Error> {
    guichet_edge::telemetry::init_json();
    let verification = guichet_aws::wiring::verification_from_env().await?;
    let verification = &verification;
    run(service_fn(move |request: Request| async move {
        Ok::<_, Infallible>(open_case::handle(verification, request).await)
    }))
    .await
}

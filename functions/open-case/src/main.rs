//! `POST /verification/cases`: staff or the casino's systems open a verification case.

use std::convert::Infallible;

use guichet::kyc::Verification;
use lambda_http::{run, service_fn, Error, Request};

#[tokio::main]
async fn main() -> Result<(), Error> {
    guichet::telemetry::init_json();
    let verification = Verification::from_env().await?;
    let verification = &verification;
    run(service_fn(move |request: Request| async move {
        Ok::<_, Infallible>(open_case::handle(verification, request).await)
    }))
    .await
}

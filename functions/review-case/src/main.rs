//! `POST /verification/cases/{case_id}/documents/{kind}/view` and
//! `POST /verification/cases/{case_id}/decision`: the verification team reviews a case.

use std::convert::Infallible;

use guichet::kyc::Verification;
use lambda_http::{run, service_fn, Error, Request};

#[tokio::main]
async fn main() -> Result<(), Error> {
    guichet::telemetry::init_json();
    let verification = Verification::from_env().await?;
    let verification = &verification;
    run(service_fn(move |request: Request| async move {
        Ok::<_, Infallible>(review_case::handle(verification, request).await)
    }))
    .await
}

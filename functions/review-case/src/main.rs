//! `POST /verification/cases/{case_id}/documents/{kind}/view` and
//! `POST /verification/cases/{case_id}/decision`: the verification team reviews a case.

use std::convert::Infallible;

use guichet::config::{KycConfig, QueuesConfig};
use guichet::kyc::Verification;
use guichet::outbox::Relay;
use lambda_http::{run, service_fn, Error, Request};

#[tokio::main]
async fn main() -> Result<(), Error> {
    guichet::telemetry::init_json();
    let (config, queues) = (KycConfig::from_env()?, QueuesConfig::from_env()?);
    let sdk = guichet::aws_sdk_config().await;
    let verification = Verification::connect(&config, &sdk);
    let relay = Relay::connect(&config.tickets_table, &queues, &sdk);
    let (verification, relay) = (&verification, &relay);
    run(service_fn(move |request: Request| async move {
        Ok::<_, Infallible>(review_case::handle(verification, relay, request).await)
    }))
    .await
}

//! `GET /players/{player_id}/eligibility`: may this player withdraw, change a payment method,
//! redeem a bonus or change their account now?

use std::convert::Infallible;

use guichet::kyc::Verification;
use lambda_http::{run, service_fn, Error, Request};

#[tokio::main]
async fn main() -> Result<(), Error> {
    guichet::telemetry::init_json();
    let verification = Verification::from_env().await?;
    let verification = &verification;
    run(service_fn(move |request: Request| async move {
        Ok::<_, Infallible>(eligibility::handle(verification, request).await)
    }))
    .await
}

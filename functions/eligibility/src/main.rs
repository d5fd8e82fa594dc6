//! `GET /players/{player_id}/eligibility`: may this player withdraw, change a payment method,
//! redeem a bonus or change their account now?

use lambda_http::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    guichet_edge::telemetry::init_json();
    let verification = &guichet_aws::wiring::verification_from_env().await?;
    guichet_edge::http::serve(move |request| eligibility::handle(verification, request)).await
}

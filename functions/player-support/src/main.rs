//! `GET /players/{player_id}/support`: a player's tickets in work and verification, for staff.

use lambda_http::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    guichet_edge::telemetry::init_json();
    let wiring = guichet_aws::wiring::Wiring::from_env().await?;
    let desk = &wiring.desk()?;
    let cases = &wiring.cases();
    wiring.warm(&[]).await;
    guichet_edge::http::serve(move |request| {
        player_support::handle(desk, cases, &desk.store, request)
    })
    .await
}

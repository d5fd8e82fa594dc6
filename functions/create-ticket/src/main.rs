//! `POST /tickets`: a player submits a support request.

use lambda_http::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    guichet_edge::telemetry::init_json();
    let wiring = guichet_aws::wiring::Wiring::from_env().await?;
    let (desk, incidents) = (&wiring.desk()?, &wiring.incidents()?);
    wiring.warm(&[]).await;
    guichet_edge::http::serve(move |request| create_ticket::handle(desk, incidents, request)).await
}

//! `GET /mail/held`: the mail waiting for staff.

use lambda_http::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    guichet_edge::telemetry::init_json();
    let wiring = guichet_aws::wiring::Wiring::from_env().await?;
    let mailroom = &wiring.mailroom();
    wiring.warm(&[]).await;
    guichet_edge::http::serve(move |request| held_mail::handle(mailroom, request)).await
}

//! The mail-feedback function: triggered by the mail-feedback queue (SES's bounce and
//! complaint events, through SNS); stops mail to the addresses they name and flags their
//! players' open tickets.

use guichet_aws::wiring::Wiring;
use lambda_runtime::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    guichet_edge::telemetry::init_json();
    let wiring = Wiring::from_env().await?;
    let desk = &wiring.desk()?;
    let mailroom = &wiring.mailroom();
    wiring.warm(&[]).await;
    guichet_edge::batch::serve(move |event| mail_feedback::handle(desk, mailroom, event)).await
}

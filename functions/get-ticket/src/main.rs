//! `GET /tickets/{reference}`: one ticket with its status history and checked attachments.

use std::convert::Infallible;

use guichet::attachments::{Attachments, AttachmentsConfig};
use guichet::config::Config;
use guichet::tickets::Desk;
use lambda_http::{run, service_fn, Error, Request};

#[tokio::main]
async fn main() -> Result<(), Error> {
    guichet::telemetry::init_json();
    // One SDK configuration for both: the clients share it, and it is loaded once.
    let (config, attachments) = (Config::from_env()?, AttachmentsConfig::from_env()?);
    let sdk = guichet::aws_sdk_config().await;
    let desk = Desk::connect(&config, &sdk)?;
    let attachments = Attachments::connect(&attachments, &sdk);
    let (desk, attachments) = (&desk, &attachments);
    run(service_fn(move |request: Request| async move {
        Ok::<_, Infallible>(get_ticket::handle(desk, attachments, request).await)
    }))
    .await
}

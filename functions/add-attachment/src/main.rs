//! `POST /tickets/{reference}/attachments`: a presigned upload URL for one ticket attachment.

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
        Ok::<_, Infallible>(add_attachment::handle(desk, attachments, request).await)
    }))
    .await
}

//! `GET /tickets/{reference}`: one ticket with its status history and checked attachments.

use guichet_edge::config::AttachmentsConfig;
use guichet_edge::config::Config;
use lambda_http::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    guichet_edge::telemetry::init_json();
    // One SDK configuration for both: the clients share it, and it is loaded once.
    let (config, attachments) = (Config::from_env()?, AttachmentsConfig::from_env()?);
    let sdk = guichet_aws::sdk_config().await;
    let desk = &guichet_aws::wiring::desk(&config, &sdk)?;
    let attachments = &guichet_aws::wiring::attachments(&attachments, &sdk);
    guichet_edge::http::serve(move |request| get_ticket::handle(desk, attachments, request)).await
}

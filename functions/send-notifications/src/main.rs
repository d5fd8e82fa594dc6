//! The notification function: triggered by the notifications queue; e-mails each player
//! notification through SES, once.

use guichet_aws::warmup::{warm, Endpoint, WARMUP_TIMEOUT};
use guichet_edge::config::{FromEnv, SenderConfig, WarmupConfig};
use lambda_runtime::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    guichet_edge::telemetry::init_json();
    let config = SenderConfig::from_env()?;
    let sdk = guichet_aws::sdk_config().await;
    // With a mailbox, each ticket's mail carries its signed reply address; the key is read
    // once per container.
    let replies = match &config.mail {
        Some(mail) => Some(guichet_aws::wiring::replies(mail, &sdk).await?),
        None => None,
    };
    let sender = &guichet_aws::wiring::sender(&config, &sdk, replies);
    // Each notification is read and recorded in the table and sent through SES.
    let endpoints = [
        Endpoint::Table(config.tickets_table.clone()),
        Endpoint::EmailIdentity(config.sender.clone()),
    ];
    warm(&sdk, WarmupConfig::from_env()?, &endpoints, WARMUP_TIMEOUT).await;
    guichet_edge::batch::serve(move |event| send_notifications::handle(sender, event)).await
}

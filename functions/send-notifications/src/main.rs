//! The notification function: triggered by the notifications queue; e-mails each player
//! notification through SES, once.

use guichet_edge::config::SenderConfig;
use lambda_runtime::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    guichet_edge::telemetry::init_json();
    let config = SenderConfig::from_env()?;
    let sdk = guichet_aws::sdk_config().await;
    let sender = &guichet_aws::wiring::sender(&config, &sdk);
    guichet_edge::batch::serve(move |event| send_notifications::handle(sender, event)).await
}

//! The mail-in function: triggered by the inbound-mail queue (SES's receipt notifications,
//! through SNS); files each received mail on the desk.

use guichet_aws::warmup::Endpoint;
use guichet_aws::wiring::Wiring;
use guichet_edge::config::{InboxConfig, MailConfig};
use lambda_runtime::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    guichet_edge::telemetry::init_json();
    let wiring = Wiring::from_env().await?;
    let (config, mail) = (InboxConfig::from_env()?, MailConfig::from_env()?);
    // Read once per container: a rotated reply secret is taken by new containers.
    let replies = wiring.replies(&mail).await?;
    let inbox = &wiring.inbox(&config, &mail, replies)?;
    // Each mail is read from the bucket, then filed in the table.
    wiring
        .warm(&[Endpoint::Bucket(config.documents_bucket.clone())])
        .await;
    guichet_edge::batch::serve(move |event| mail_in::handle(inbox, event)).await
}

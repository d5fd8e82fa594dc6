//! The document function: triggered by the documents bucket's object events on SQS; checks
//! identity documents and ticket attachments.

use guichet_edge::config::AttachmentsConfig;
use guichet_edge::config::KycConfig;
use lambda_runtime::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    guichet_edge::telemetry::init_json();
    // One SDK configuration for both: the clients share it, and it is loaded once.
    let (kyc, attachments) = (KycConfig::from_env()?, AttachmentsConfig::from_env()?);
    let sdk = guichet_aws::sdk_config().await;
    let verification = &guichet_aws::wiring::verification(&kyc, &sdk);
    let attachments = &guichet_aws::wiring::attachments(&attachments, &sdk);
    guichet_edge::batch::serve(move |event| {
        check_documents::handle(verification, attachments, event)
    })
    .await
}

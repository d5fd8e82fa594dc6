//! The document function: triggered by the documents bucket's object events on SQS; checks
//! identity documents and ticket attachments.

use guichet_aws::warmup::{warm, Endpoint, WARMUP_TIMEOUT};
use guichet_edge::config::{AttachmentsConfig, FromEnv, KycConfig, WarmupConfig};
use lambda_runtime::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    guichet_edge::telemetry::init_json();
    // One SDK configuration for both: the clients share it, and it is loaded once.
    let (kyc, attachments) = (KycConfig::from_env()?, AttachmentsConfig::from_env()?);
    let sdk = guichet_aws::sdk_config().await;
    let verification = &guichet_aws::wiring::verification(&kyc, &sdk);
    let attachments = &guichet_aws::wiring::attachments(&attachments, &sdk);
    // Each upload's check reads its record in the table and the object's first bytes in S3.
    let endpoints = [
        Endpoint::Table(kyc.tickets_table.clone()),
        Endpoint::Bucket(kyc.documents_bucket.clone()),
    ];
    warm(&sdk, WarmupConfig::from_env()?, &endpoints, WARMUP_TIMEOUT).await;
    guichet_edge::batch::serve(move |event| {
        check_documents::handle(verification, attachments, event)
    })
    .await
}

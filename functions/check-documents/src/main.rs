//! The document function: triggered by the documents bucket's object events on SQS; checks
//! identity documents and ticket attachments.

use std::convert::Infallible;

use aws_lambda_events::event::sqs::SqsEvent;
use guichet_edge::config::AttachmentsConfig;
use guichet_edge::config::KycConfig;
use lambda_runtime::{run, service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    guichet_edge::telemetry::init_json();
    // One SDK configuration for both: the clients share it, and it is loaded once.
    let (kyc, attachments) = (KycConfig::from_env()?, AttachmentsConfig::from_env()?);
    let sdk = guichet_aws::sdk_config().await;
    let verification = guichet_aws::wiring::verification(&kyc, &sdk);
    let attachments = guichet_aws::wiring::attachments(&attachments, &sdk);
    let (verification, attachments) = (&verification, &attachments);
    // Never an invocation error: failures are reported per message in the batch response, so
    // SQS retries only those (the event source mapping has `ReportBatchItemFailures`).
    run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<_, Infallible>(check_documents::handle(verification, attachments, event.payload).await)
    }))
    .await
}

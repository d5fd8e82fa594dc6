//! The document function: triggered by the documents bucket's object events on SQS; checks
//! identity documents and ticket attachments.

use std::convert::Infallible;

use aws_lambda_events::event::sqs::SqsEvent;
use guichet::attachments::{Attachments, AttachmentsConfig};
use guichet::config::KycConfig;
use guichet::kyc::Verification;
use lambda_runtime::{run, service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    guichet::telemetry::init_json();
    // One SDK configuration for both: the clients share it, and it is loaded once.
    let (kyc, attachments) = (KycConfig::from_env()?, AttachmentsConfig::from_env()?);
    let sdk = guichet::aws_sdk_config().await;
    let verification = Verification::connect(&kyc, &sdk);
    let attachments = Attachments::connect(&attachments, &sdk);
    let (verification, attachments) = (&verification, &attachments);
    // Never an invocation error: failures are reported per message in the batch response, so
    // SQS retries only those (the event source mapping has `ReportBatchItemFailures`).
    run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<_, Infallible>(check_documents::handle(verification, attachments, event.payload).await)
    }))
    .await
}

//! The document function: triggered by the documents bucket's object events on SQS.

use std::convert::Infallible;

use aws_lambda_events::event::sqs::SqsEvent;
use guichet::kyc::Verification;
use lambda_runtime::{run, service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    guichet::telemetry::init_json();
    let verification = Verification::from_env().await?;
    let verification = &verification;
    // Never an invocation error: failures are reported per message in the batch response, so
    // SQS retries only those (the event source mapping has `ReportBatchItemFailures`).
    run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<_, Infallible>(check_documents::handle(verification, event.payload).await)
    }))
    .await
}

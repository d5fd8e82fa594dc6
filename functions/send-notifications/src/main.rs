//! The notification function: triggered by the notifications queue; e-mails each player
//! notification through SES, once.

use std::convert::Infallible;

use aws_lambda_events::event::sqs::SqsEvent;
use guichet_edge::config::SenderConfig;
use lambda_runtime::{run, service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    guichet_edge::telemetry::init_json();
    let config = SenderConfig::from_env()?;
    let sdk = guichet_aws::sdk_config().await;
    let sender = guichet_aws::wiring::sender(&config, &sdk);
    let sender = &sender;
    // Never an invocation error: failures are reported per message in the batch response, so
    // SQS retries only those (the event source mapping has `ReportBatchItemFailures`).
    run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<_, Infallible>(send_notifications::handle(sender, event.payload).await)
    }))
    .await
}

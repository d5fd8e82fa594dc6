//! The outbox relay, fed by the tickets table's stream.

use guichet_core::outbox::rules::Destination;
use lambda_runtime::{service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    guichet_edge::telemetry::init_json();
    let wiring = guichet_aws::wiring::Wiring::from_env().await?;
    let relay = &wiring.relay()?;
    // Every record it is handed is sent, most of them to the notifications queue, then deleted.
    wiring
        .warm(&[relay.queues.warmup_endpoint(Destination::Notifications)])
        .await;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<aws_lambda_events::event::dynamodb::Event>| async move {
            // Boxed: the relay's future nests the outbox and queue adapter stack, deeper than
            // the compiler's default query depth allows for the runtime loop's future.
            Ok::<_, Error>(Box::pin(relay_stream::handle(relay, event.payload)).await)
        },
    ))
    .await
}

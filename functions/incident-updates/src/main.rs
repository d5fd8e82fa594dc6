//! The incident fan-out: triggered by the incident-updates queue, one page per invocation.

use lambda_runtime::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    guichet_edge::telemetry::init_json();
    let wiring = guichet_aws::wiring::Wiring::from_env().await?;
    let (desk, relay, incidents) = (&wiring.desk()?, &wiring.relay()?, &wiring.incidents()?);
    // The table only: a page sends to SQS only when the incident has another page to go.
    wiring.warm(&[]).await;
    guichet_edge::batch::serve(move |event| {
        incident_updates::handle(desk, incidents, relay, incident_updates::PAGE_SIZE, event)
    })
    .await
}

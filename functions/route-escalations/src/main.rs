//! The escalation router: triggered by the escalations queue.

use lambda_runtime::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    guichet_edge::telemetry::init_json();
    let wiring = guichet_aws::wiring::Wiring::from_env().await?;
    let (desk, relay) = (&wiring.desk()?, &wiring.relay()?);
    guichet_edge::batch::serve(move |event| route_escalations::handle(desk, relay, event)).await
}

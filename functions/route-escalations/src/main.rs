//! The escalation router: triggered by the escalations queue.

use guichet_core::tickets::ticket::Team;
use lambda_runtime::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    guichet_edge::telemetry::init_json();
    let wiring = guichet_aws::wiring::Wiring::from_env().await?;
    let (desk, relay) = (&wiring.desk()?, &wiring.relay()?);
    // Every escalation goes to a team's FIFO queue: one of them opens the connection for all.
    let queue = relay.queues.team_warmup_endpoint(Team::Technical);
    wiring.warm(queue.as_slice()).await;
    guichet_edge::batch::serve(move |event| route_escalations::handle(desk, relay, event)).await
}

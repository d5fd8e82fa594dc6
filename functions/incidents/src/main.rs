//! `GET /incidents/{incident_id}`, `POST|DELETE /incidents/{incident_id}/links[/{reference}]`,
//! `POST /incidents/{incident_id}/status`: staff's side of multi-player incidents.

use lambda_http::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    guichet_edge::telemetry::init_json();
    let wiring = guichet_aws::wiring::Wiring::from_env().await?;
    let (desk, incidents) = (&wiring.desk()?, &wiring.incidents()?);
    wiring.warm(&[]).await;
    guichet_edge::http::serve(move |request| incidents::handle(desk, incidents, request)).await
}

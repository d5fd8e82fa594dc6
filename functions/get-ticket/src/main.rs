//! `GET /tickets/{reference}`: one ticket with its status history and checked attachments.

use lambda_http::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    guichet_edge::telemetry::init_json();
    let wiring = guichet_aws::wiring::Wiring::from_env().await?;
    let (desk, attachments) = (&wiring.desk()?, &wiring.attachments()?);
    // The table only: S3 is presigned, which needs no connection.
    wiring.warm(&[]).await;
    guichet_edge::http::serve(move |request| get_ticket::handle(desk, attachments, request)).await
}

//! `POST /tickets/{reference}/attachments`: a presigned upload URL for one ticket attachment.

use lambda_http::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    guichet_edge::telemetry::init_json();
    let wiring = guichet_aws::wiring::Wiring::from_env().await?;
    let (desk, attachments) = (&wiring.desk()?, &wiring.attachments()?);
    // The table only: the upload URL is presigned, which needs no connection.
    wiring.warm(&[]).await;
    guichet_edge::http::serve(move |request| add_attachment::handle(desk, attachments, request))
        .await
}

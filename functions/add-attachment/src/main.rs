//! `POST /tickets/{reference}/attachments`: a presigned upload URL for one ticket attachment.

use lambda_http::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    guichet_edge::telemetry::init_json();
    let wiring = guichet_aws::wiring::Wiring::from_env().await?;
    let (desk, attachments) = (&wiring.desk()?, &wiring.attachments()?);
    guichet_edge::http::serve(move |request| add_attachment::handle(desk, attachments, request))
        .await
}

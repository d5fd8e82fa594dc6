//! `POST /verification/documents`: a presigned upload URL for one verification document.

use lambda_http::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    guichet_edge::telemetry::init_json();
    let verification = &guichet_aws::wiring::verification_from_env().await?;
    guichet_edge::http::serve(move |request| request_upload::handle(verification, request)).await
}

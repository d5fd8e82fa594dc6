//! `POST /verification/cases/{case_id}/documents/{kind}/view` and
//! `POST /verification/cases/{case_id}/decision`: the verification team reviews a case.

use guichet_aws::warmup::{warm, Endpoint, WARMUP_TIMEOUT};
use guichet_edge::config::{FromEnv, KycConfig, WarmupConfig};
use lambda_http::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    guichet_edge::telemetry::init_json();
    let config = KycConfig::from_env()?;
    let sdk = guichet_aws::sdk_config().await;
    let verification = &guichet_aws::wiring::verification(&config, &sdk);
    // The table only: a document is viewed through a presigned URL, which needs no connection.
    let table = [Endpoint::Table(config.tickets_table.clone())];
    warm(&sdk, WarmupConfig::from_env()?, &table, WARMUP_TIMEOUT).await;
    guichet_edge::http::serve(move |request| review_case::handle(verification, request)).await
}

//! Guichet's AWS adapters: the core's ports on DynamoDB, S3, SQS and SES, and the wiring that
//! builds each use case on them from the SDK configuration, once per container.

pub mod dynamo;
pub mod s3;
pub mod ses;
pub mod sqs;
pub mod wiring;

use guichet_core::common::store::StoreError;

/// A store's backend failure (the SDK's error, kept as the source): the DynamoDB and S3
/// adapters map every SDK error through this one function.
pub(crate) fn backend<E: std::error::Error + Send + Sync + 'static>(e: E) -> StoreError {
    StoreError::Backend(Box::new(e))
}

/// Builds the AWS SDK configuration once per container. `AWS_ENDPOINT_URL` (set by the local
/// scripts) points every client at the emulator; in Lambda it is unset.
pub async fn sdk_config() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .load()
        .await
}

//! Guichet's shared library: the support desk's rules (`domain`), the ports the handlers
//! depend on (`core`), their AWS adapters, and the HTTP edge every API function shares.

pub mod attachments;
pub mod batch;
pub mod config;
pub mod core;
pub mod domain;
pub mod dynamo;
pub mod dynamo_attachments;
pub mod dynamo_cases;
pub mod dynamo_deliveries;
pub mod dynamo_incidents;
pub mod http;
pub mod incidents;
pub mod kyc;
#[cfg(any(test, feature = "mocks"))]
pub mod mocks;
pub mod notifications;
pub mod outbox;
pub mod s3;
pub mod ses;
pub mod sqs;
pub mod telemetry;
pub mod tickets;
pub mod workflow;

/// Builds the AWS SDK configuration once per container. `AWS_ENDPOINT_URL` (set by the local
/// scripts) points every client at the emulator; in Lambda it is unset.
pub async fn aws_sdk_config() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .load()
        .await
}

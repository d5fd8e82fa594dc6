//! Guichet's AWS adapters: the core's ports on DynamoDB, S3, SQS and SES, and the wiring that
//! builds each use case on them from the SDK configuration, once per container.

pub mod dynamo;
pub mod s3;
pub mod ses;
pub mod sqs;
pub mod warmup;
pub mod wiring;

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{BuildError, ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponentsBuilder;
use aws_smithy_runtime_api::client::runtime_plugin::RuntimePlugin;
use guichet_core::common::store::StoreError;

/// A store's backend failure (the SDK's error, kept as the source): the DynamoDB and S3
/// adapters map every SDK error through this one function, which tells an outage that may
/// pass (a timeout, throttling, a 5xx: [`StoreError::Unavailable`]) from one that will not.
pub(crate) fn backend<E: Transience + std::error::Error + Send + Sync + 'static>(
    e: E,
) -> StoreError {
    if e.is_transient() {
        StoreError::Unavailable(Box::new(e))
    } else {
        StoreError::Backend(Box::new(e))
    }
}

/// Whether a failure may pass if the same call is made again a moment later.
pub(crate) trait Transience {
    fn is_transient(&self) -> bool;
}

impl<E: ProvideErrorMetadata> Transience for SdkError<E, HttpResponse> {
    fn is_transient(&self) -> bool {
        match self {
            // No answer in time, no connection, or an answer cut off: the service, or the way
            // to it, is struggling, not refusing this request.
            SdkError::TimeoutError(_)
            | SdkError::DispatchFailure(_)
            | SdkError::ResponseError(_) => true,
            SdkError::ServiceError(service) => {
                let code = service.err().code().unwrap_or_default();
                service.raw().status().is_server_error()
                    || aws_runtime::retries::classifiers::THROTTLING_ERRORS.contains(&code)
                    || aws_runtime::retries::classifiers::TRANSIENT_ERRORS.contains(&code)
            }
            // The request could not even be built: a bug, not an outage.
            _ => false,
        }
    }
}

/// A builder's missing field: a bug in the adapter, never transient.
impl Transience for BuildError {
    fn is_transient(&self) -> bool {
        false
    }
}

/// An item that does not map to its record: a bug or a damaged item, never transient.
impl Transience for serde_dynamo::Error {
    fn is_transient(&self) -> bool {
        false
    }
}

/// A presigning duration out of S3's range: a constant of ours, never transient.
impl Transience for aws_sdk_s3::presigning::PresigningConfigError {
    fn is_transient(&self) -> bool {
        false
    }
}

/// An object's body cut off while it was read: the connection failed, not the request.
impl Transience for aws_sdk_s3::primitives::ByteStreamError {
    fn is_transient(&self) -> bool {
        true
    }
}

/// How long one attempt of an AWS call may take, connection included. DynamoDB, SQS and S3
/// answer in milliseconds; an attempt this slow is an outage, and a retry on a fresh
/// connection is worth more than waiting.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(2);
/// How long one AWS call may take, its retries included (the standard mode's three attempts
/// with backoff). Far below the API functions' 10-second timeout, so that a dependency that
/// does not answer becomes the documented `503` with `Retry-After`, answered by the function,
/// instead of Lambda killing it and API Gateway answering a bare 503 of its own.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(4);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// The limits every client of a function is built with: [`ATTEMPT_TIMEOUT`],
/// [`OPERATION_TIMEOUT`] and the standard retry mode.
pub fn limits(loader: aws_config::ConfigLoader) -> aws_config::ConfigLoader {
    loader
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(CONNECT_TIMEOUT)
                .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                .operation_timeout(OPERATION_TIMEOUT)
                .build(),
        )
        .retry_config(RetryConfig::standard())
}

/// Builds the AWS SDK configuration once per container, with the [`limits`] and one HTTP
/// client for every SDK client built from it ([`shared_http_client`]).
/// `AWS_ENDPOINT_URL` (set by the local scripts) points every client at the emulator; in Lambda
/// it is unset.
pub async fn sdk_config() -> aws_config::SdkConfig {
    loader().load().await
}

/// What [`sdk_config`] loads: the defaults, the [`limits`] and the shared HTTP client.
fn loader() -> aws_config::ConfigLoader {
    let loader = limits(aws_config::defaults(aws_config::BehaviorVersion::latest()));
    match shared_http_client() {
        Some(client) => loader.http_client(client),
        None => loader,
    }
}

/// The SDK's default HTTPS client (the TLS stack and proxy settings each service client would
/// pick for itself), built once for all of them. Without it every client builds its own, with
/// its own connection pool and its own copy of the root certificates: a function whose desk and
/// attachments each hold a DynamoDB client opened two TLS connections on its first request, and
/// a connection opened by one client served no other. Shared, one pool holds one
/// connection per endpoint for every client. `None` only if the SDK was built
/// without an HTTPS client, in which case each client goes on building its own (and failing as
/// it would have).
fn shared_http_client() -> Option<SharedHttpClient> {
    let plugin = aws_smithy_runtime::client::defaults::default_http_client_plugin_v2(
        aws_config::BehaviorVersion::latest(),
    )?;
    plugin
        .runtime_components(&RuntimeComponentsBuilder::new("guichet_shared_http_client"))
        .http_client()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_sdk_gives_the_http_client_every_client_shares() {
        // Built with the SDK's HTTPS client: were it `None`, each client would build its own
        // again, and nothing would say so.
        assert!(super::shared_http_client().is_some());
    }
}

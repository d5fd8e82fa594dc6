//! Functions on an EventBridge schedule: the event says only that it is time, so every
//! invocation is one run of the function's work.

use std::future::Future;

use lambda_http::lambda_runtime::{self, LambdaEvent};
use serde::Serialize;

/// Runs a scheduled function on the Lambda runtime: each invocation awaits `run` once and
/// answers its summary as JSON. A failed run fails the invocation, so it shows in the
/// function's error metric (and its alarm) while the cause lasts. Written once for every
/// scheduled function's `main`.
pub async fn serve<F, Fut, T, E>(run: F) -> Result<(), lambda_runtime::Error>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<T, E>> + Send,
    T: Serialize,
    E: std::error::Error + Send + Sync + 'static,
{
    lambda_runtime::run(lambda_runtime::service_fn(
        // The scheduled event's content is irrelevant.
        move |_event: LambdaEvent<serde_json::Value>| {
            let done = run();
            async move { done.await.map_err(lambda_runtime::Error::from) }
        },
    ))
    .await
}

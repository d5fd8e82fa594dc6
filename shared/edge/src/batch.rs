//! SQS batches as Lambda hands them to a function with `ReportBatchItemFailures`: each message
//! is handled on its own, in its own span, and only the ones that failed are named in the
//! response, so SQS deletes the good ones and retries (then dead-letters) the others.

use std::convert::Infallible;
use std::future::Future;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use lambda_http::lambda_runtime::{self, LambdaEvent};
use tracing::{Instrument, Span};

/// Runs a queue consumer on the Lambda runtime: every batch goes through `handle`, which
/// reports failures per message in its response, so an invocation never fails as a whole and
/// SQS retries only the messages named (the event source mapping has
/// `ReportBatchItemFailures`). Written once for every consumer's `main`.
pub async fn serve<F, Fut>(handle: F) -> Result<(), lambda_runtime::Error>
where
    F: Fn(SqsEvent) -> Fut,
    Fut: Future<Output = SqsBatchResponse> + Send,
{
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: LambdaEvent<SqsEvent>| {
            let answer = handle(event.payload);
            async move { Ok::<_, Infallible>(answer.await) }
        },
    ))
    .await
}

/// Handles the messages one at a time, in order (a batch is at most ten messages, and each
/// consumer's messages may touch the same ticket or case: one at a time, they do not race),
/// each inside the span `span_for` makes of its message id. A failure is logged by `log`
/// inside that span and its message named in the response.
pub async fn each_message<E, F, Fut>(
    event: SqsEvent,
    span_for: impl Fn(&str) -> Span,
    mut handle: F,
    log: impl Fn(&E),
) -> SqsBatchResponse
where
    F: FnMut(SqsMessage) -> Fut,
    Fut: Future<Output = Result<(), E>>,
{
    let mut response = SqsBatchResponse::default();
    for message in event.records {
        let message_id = message.message_id.clone().unwrap_or_default();
        let span = span_for(&message_id);
        // Boxed: a handler's future (reads, sends, transactions) nested in this loop and in the
        // runtime's own future is deep enough to exceed the compiler's layout recursion limit.
        let handled = Box::pin(handle(message));
        if let Err(error) = handled.instrument(span.clone()).await {
            span.in_scope(|| log(&error));
            // Lambda reads an empty identifier as "the whole batch failed": without an id the
            // message can only be retried with the others, never silently dropped.
            response.add_failure(message_id);
        }
    }
    response
}

/// SNS's envelope, as a queue subscribed without raw delivery receives each message.
#[derive(Debug, serde::Deserialize)]
struct SnsEnvelope {
    #[serde(rename = "Type")]
    kind: String,
    #[serde(rename = "Message")]
    message: String,
}

/// What an SNS-fed message carries: the published message of a `Notification`, or `None` for
/// SNS's other kinds (a subscription's confirmation), which carry nothing to act on. Written
/// once for the consumers of SES's topics.
pub fn sns_message(body: &str) -> Result<Option<String>, serde_json::Error> {
    let envelope: SnsEnvelope = serde_json::from_str(body)?;
    Ok((envelope.kind == "Notification").then_some(envelope.message))
}

/// The error and its causes on one line, safe to log: a JSON error (whose message may quote a
/// piece of the body it could not read, and a body is not ours to log) shows only where it
/// broke.
pub fn describe(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = String::new();
    let mut next = Some(error);
    while let Some(cause) = next {
        if !text.is_empty() {
            text.push_str(": ");
        }
        match cause.downcast_ref::<serde_json::Error>() {
            Some(json) => text.push_str(&format!(
                "{:?} JSON error at line {} column {}",
                json.classify(),
                json.line(),
                json.column()
            )),
            None => text.push_str(&cause.to_string()),
        }
        next = cause.source();
    }
    text
}

/// The usual failure log: the error described by [`describe`], and what happens next. Passed
/// as it is to [`each_message`] by a consumer with nothing more to say about its failures.
pub fn log_failure<E: std::error::Error + 'static>(error: &E) {
    tracing::error!(
        error = %describe(error),
        "message failed; SQS will retry it, then dead-letter it"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    enum Failure {
        #[error("the body is not a request")]
        NotARequest(#[source] serde_json::Error),
        #[error("boom")]
        Boom,
    }

    fn event(ids: &[&str]) -> SqsEvent {
        let records: Vec<_> = ids
            .iter()
            .map(|id| serde_json::json!({"messageId": id, "body": id}))
            .collect();
        serde_json::from_value(serde_json::json!({ "Records": records })).expect("an event")
    }

    #[test]
    fn an_sns_envelope_gives_its_notifications_message_only() {
        let notification = r#"{"Type": "Notification", "Message": "{\"a\": 1}"}"#;
        assert_eq!(
            sns_message(notification).expect("JSON").as_deref(),
            Some(r#"{"a": 1}"#)
        );
        let confirmation = r#"{"Type": "SubscriptionConfirmation", "Message": "x"}"#;
        assert_eq!(sns_message(confirmation).expect("JSON"), None);
        assert!(sns_message(r#"{"Records": []}"#).is_err());
    }

    #[tokio::test]
    async fn only_failed_messages_are_named_and_each_is_handled_once() {
        let mut seen = Vec::new();
        let response = each_message(
            event(&["a", "b", "c"]),
            |id| tracing::info_span!("test", message_id = %id),
            |message| {
                let body = message.body.unwrap_or_default();
                seen.push(body.clone());
                async move {
                    match body.as_str() {
                        "b" => Err(Failure::Boom),
                        _ => Ok(()),
                    }
                }
            },
            log_failure,
        )
        .await;
        assert_eq!(seen, ["a", "b", "c"]);
        let failed: Vec<_> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect();
        assert_eq!(failed, ["b"]);
    }

    #[test]
    fn a_json_error_is_described_without_the_body() {
        let json = serde_json::from_str::<u32>("\"joueur@example.ca\"").expect_err("not a number");
        assert!(json.to_string().contains("joueur@example.ca"), "{json}");
        let text = describe(&Failure::NotARequest(json));
        assert_eq!(
            text,
            "the body is not a request: Data JSON error at line 1 column 19"
        );
        assert!(!text.contains("joueur"));
        assert_eq!(describe(&Failure::Boom), "boom");
    }
}

//! The notification function: the outbox relay puts each player notification on the
//! notifications queue (schema `guichet.notification.v1`, [`NotificationMessage`]); this reads
//! them and has [`Sender::deliver`] e-mail each one, at most once per notification id, to the
//! address on file for the player.
//!
//! Messages are reported one by one (`ReportBatchItemFailures`): a message that cannot be
//! delivered now (SES or the table failing, another attempt holding it) is named in
//! `batchItemFailures`, so SQS redelivers only it, and after the queue's `maxReceiveCount` (5)
//! moves it to the dead-letter queue; the others of the batch are deleted. A message that is not
//! a notification of this schema (a poison message) is reported the same way: it can never
//! succeed, but the dead-letter queue is where someone looks at it, and acknowledging it would
//! silently drop a player's notification.
//!
//! Nothing here logs a message's content: a poison message is identified by its SQS message id
//! (and where its JSON broke), a notification by its id, ticket reference and kind.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use guichet_core::notifications::ports::{ContactBook, DeliveryLedger, EmailSender};
use guichet_core::notifications::rules::{NotificationMessage, NOTIFICATION_SCHEMA};
use guichet_core::notifications::sender::{SendFailure, Sender};
use tracing::info_span;

/// Why one message was not handled; every variant fails it (retried, then dead-lettered).
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("the message has no body")]
    NoBody,
    #[error("the body is not a notification message")]
    NotNotification(#[source] serde_json::Error),
    #[error("the body is a message of another schema than {NOTIFICATION_SCHEMA}")]
    WrongSchema,
    #[error("the notification was not delivered")]
    Delivery(#[from] SendFailure),
}

impl RecordError {
    /// A message that will fail on every receive, whatever the retries.
    pub fn is_poison(&self) -> bool {
        matches!(
            self,
            RecordError::NoBody | RecordError::NotNotification(_) | RecordError::WrongSchema
        )
    }
}

/// Delivers every notification of a batch; names in the response only the messages to retry.
pub async fn handle<C, L, E>(sender: &Sender<C, L, E>, event: SqsEvent) -> SqsBatchResponse
where
    C: ContactBook,
    L: DeliveryLedger,
    E: EmailSender,
{
    // One message at a time: a batch is at most ten e-mails, and SES's per-second sending
    // quota is better met in order than all at once.
    guichet_edge::batch::each_message(
        event,
        |id| info_span!("notification_message", message_id = %id),
        |message| async move { handle_message(sender, &message).await },
        log_failure,
    )
    .await
}

/// Parses a message body as a notification of the current schema. Unknown fields are refused
/// (`deny_unknown_fields`): a producer that writes something this function does not read is a
/// mismatch to look at, not to ignore.
pub fn parse(body: Option<&str>) -> Result<NotificationMessage, RecordError> {
    let body = body.ok_or(RecordError::NoBody)?;
    let message: NotificationMessage =
        serde_json::from_str(body).map_err(RecordError::NotNotification)?;
    if message.schema != NOTIFICATION_SCHEMA {
        return Err(RecordError::WrongSchema);
    }
    Ok(message)
}

async fn handle_message<C, L, E>(
    sender: &Sender<C, L, E>,
    message: &SqsMessage,
) -> Result<(), RecordError>
where
    C: ContactBook,
    L: DeliveryLedger,
    E: EmailSender,
{
    let notification = parse(message.body.as_deref())?;
    let delivery = sender.deliver(&notification).await?;
    tracing::info!(
        notification_id = %notification.notification_id,
        ticket = notification.ticket.as_ref().map(|r| r.as_str()),
        kind = notification.kind.as_str(),
        outcome = delivery.as_str(),
        "notification handled"
    );
    Ok(())
}

fn log_failure(error: &RecordError) {
    let described = guichet_edge::batch::describe(error);
    match error {
        // Expected when a delivery overlaps a crashed or slow one: the retry settles it.
        RecordError::Delivery(SendFailure::InProgress { .. }) => {
            tracing::warn!(error = %described, "notification deferred; it will be retried")
        }
        RecordError::Delivery(_) => tracing::error!(
            error = %described,
            "notification failed; it will be retried, then dead-lettered"
        ),
        _ => tracing::error!(
            error = %described,
            "poison message; it will be retried, then dead-lettered"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{"schema":"guichet.notification.v1",
        "notification_id":"0123456789abcdef0123456789abcdef","player":"player-1",
        "ticket":"K7M2Q-9XW45","kind":"received","language":"fr","subject":"s","body":"b",
        "created_at":"2026-11-26T15:00:00Z"}"#;

    #[test]
    fn only_a_notification_of_this_schema_parses() {
        assert!(parse(Some(GOOD)).is_ok());
        assert!(matches!(parse(None), Err(RecordError::NoBody)));
        assert!(matches!(
            parse(Some("not JSON")),
            Err(RecordError::NotNotification(_))
        ));
        let other = GOOD.replace("guichet.notification.v1", "guichet.notification.v2");
        assert!(matches!(parse(Some(&other)), Err(RecordError::WrongSchema)));
        let extra = GOOD.replace(r#""body":"b","#, r#""body":"b","email":"x@y.ca","#);
        assert!(matches!(
            parse(Some(&extra)),
            Err(RecordError::NotNotification(_))
        ));
        assert!(parse(None).err().is_some_and(|e| e.is_poison()));
    }
}

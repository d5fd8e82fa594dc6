//! The notification function: the outbox relay puts a message naming each player notification
//! on the notifications queue (schema `guichet.notification.v2`, [`NotificationMessage`]); this
//! reads them and has [`Sender::deliver`] e-mail the notification the table holds, if it is
//! owed to that player, at most once per notification id, to the address on file.
//!
//! Messages are reported one by one (`ReportBatchItemFailures`): a message that cannot be
//! delivered now (SES or the table failing, another attempt holding it) is named in
//! `batchItemFailures`, so SQS redelivers only it, and after the queue's `maxReceiveCount` (5)
//! moves it to the dead-letter queue; the others of the batch are deleted. A message that is not
//! a notification of this schema (a poison message) is reported the same way: it can never
//! succeed, but the dead-letter queue is where someone looks at it, and acknowledging it would
//! silently drop a player's notification. So is a message that names no notification owed to
//! its player: only a writer other than the relay can make one, and it is logged as such.
//!
//! Nothing here logs a message's content: a poison message is identified by its SQS message id
//! (and where its JSON broke), a notification by its id, ticket reference and kind.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use guichet_core::notifications::ports::{
    ContactBook, DeliveryLedger, EmailSender, NotificationRecords,
};
use guichet_core::notifications::rules::NotificationMessage;
use guichet_core::notifications::sender::{SendFailure, Sender};
use tracing::info_span;

/// Why one message was not handled; every variant fails it (retried, then dead-lettered).
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("the message has no body")]
    NoBody,
    /// Not JSON, not of a schema this reads, or not naming exactly one ticket or case.
    #[error("the body is not a notification message")]
    NotNotification(#[source] serde_json::Error),
    #[error("the notification was not delivered")]
    Delivery(#[from] SendFailure),
}

impl RecordError {
    /// A message that will fail on every receive, whatever the retries.
    pub fn is_poison(&self) -> bool {
        match self {
            RecordError::NoBody | RecordError::NotNotification(_) => true,
            RecordError::Delivery(failure) => failure.is_final(),
        }
    }
}

/// Delivers every notification of a batch; names in the response only the messages to retry.
pub async fn handle<C, L, E>(sender: &Sender<C, L, E>, event: SqsEvent) -> SqsBatchResponse
where
    C: ContactBook + NotificationRecords + guichet_core::mail::ports::OutgoingMail,
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

/// Parses a message body as a notification message: the schema, exactly one ticket or case,
/// no text, and no field the sender does not read (`NotificationMessage`'s own checks).
pub fn parse(body: Option<&str>) -> Result<NotificationMessage, RecordError> {
    let body = body.ok_or(RecordError::NoBody)?;
    serde_json::from_str(body).map_err(RecordError::NotNotification)
}

async fn handle_message<C, L, E>(
    sender: &Sender<C, L, E>,
    message: &SqsMessage,
) -> Result<(), RecordError>
where
    C: ContactBook + NotificationRecords + guichet_core::mail::ports::OutgoingMail,
    L: DeliveryLedger,
    E: EmailSender,
{
    let notification = parse(message.body.as_deref())?;
    let delivery = sender.deliver(&notification).await?;
    tracing::info!(
        notification_id = %notification.notification_id,
        about = notification.about.as_str(),
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
        RecordError::Delivery(SendFailure::NotOwed(_)) => tracing::error!(
            error = %described,
            "a message names no notification owed to its player: not sent; it will be \
             dead-lettered (check who can write to the notifications queue)"
        ),
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

    const GOOD: &str = r#"{"schema":"guichet.notification.v2",
        "notification_id":"0123456789abcdef0123456789abcdef","player":"player-1",
        "ticket":"K7M2Q-9XW45","kind":"received","created_at":"2026-11-26T15:00:00Z"}"#;

    #[test]
    fn only_a_notification_message_parses() {
        assert!(parse(Some(GOOD)).is_ok());
        assert!(matches!(parse(None), Err(RecordError::NoBody)));
        for bad in [
            "not JSON".to_owned(),
            GOOD.replace("guichet.notification.v2", "guichet.notification.v3"),
            GOOD.replace(r#""kind""#, r#""email":"x@y.ca","kind""#),
            GOOD.replace(r#""kind""#, r#""body":"Cliquez ici","kind""#),
        ] {
            let error = parse(Some(&bad)).expect_err(&bad);
            assert!(matches!(error, RecordError::NotNotification(_)), "{bad}");
            assert!(error.is_poison());
        }
        assert!(parse(None).err().is_some_and(|e| e.is_poison()));
    }
}

//! The mail-feedback function: SES reports each bounce and complaint of the mail we send
//! (the configuration set's event destination) on an SNS topic, which delivers to this
//! function's queue. A permanent bounce or a complaint stops mail to the address and flags its
//! players' open tickets ([`on_feedback`]); a transient bounce is SES's to retry, and is only
//! acknowledged.
//!
//! The event names addresses, which are personal information: none is logged. Messages are
//! reported one by one (`ReportBatchItemFailures`); a redelivery changes nothing.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use guichet_core::mail::feedback::{on_feedback, Feedback, FeedbackError};
use guichet_core::mail::message::MailAddress;
use guichet_core::mail::ports::{Mailroom, OutgoingMail, Refusal};
use guichet_core::tickets::desk::Desk;
use guichet_core::tickets::ports::TicketStore;
use serde::Deserialize;
use tracing::info_span;

#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("the message has no body")]
    NoBody,
    #[error("the body is not an SNS notification")]
    NotSns(#[source] serde_json::Error),
    #[error("the SNS message is not an SES event")]
    NotSes(#[source] serde_json::Error),
    #[error("the SES event has no valid timestamp")]
    NoTimestamp,
    #[error("the report could not be recorded")]
    Feedback(#[from] FeedbackError),
}

/// The parts of an SES event (`eventType` with its configuration set's events, or
/// `notificationType` with an identity's) this function reads.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SesEvent {
    event_type: Option<String>,
    notification_type: Option<String>,
    bounce: Option<Bounce>,
    complaint: Option<Complaint>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Bounce {
    bounce_type: String,
    #[serde(default)]
    bounced_recipients: Vec<Recipient>,
    timestamp: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Complaint {
    #[serde(default)]
    complained_recipients: Vec<Recipient>,
    timestamp: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Recipient {
    email_address: String,
}

/// Records every report of a batch; names in the response only the messages to retry.
pub async fn handle<S, M>(desk: &Desk<S>, mailroom: &M, event: SqsEvent) -> SqsBatchResponse
where
    S: TicketStore,
    M: Mailroom + OutgoingMail,
{
    guichet_edge::batch::each_message(
        event,
        |id| info_span!("mail_feedback", message_id = %id),
        |message| async move { handle_message(desk, mailroom, &message).await },
        guichet_edge::batch::log_failure,
    )
    .await
}

/// The report an SES event makes, or `None` for one that stops nothing (a transient bounce,
/// another kind of event).
pub fn feedback_of(event: &SesEvent) -> Result<Option<Feedback>, RecordError> {
    let kind = event
        .event_type
        .as_deref()
        .or(event.notification_type.as_deref())
        .unwrap_or_default();
    let (refusal, recipients, timestamp) = match (kind, &event.bounce, &event.complaint) {
        ("Bounce", Some(bounce), _) if bounce.bounce_type == "Permanent" => (
            Refusal::Bounce,
            &bounce.bounced_recipients,
            &bounce.timestamp,
        ),
        ("Complaint", _, Some(complaint)) => (
            Refusal::Complaint,
            &complaint.complained_recipients,
            &complaint.timestamp,
        ),
        _ => return Ok(None),
    };
    let at = timestamp
        .parse::<jiff::Timestamp>()
        .map_err(|_| RecordError::NoTimestamp)?;
    Ok(Some(Feedback {
        refusal,
        // SES writes the recipient as it was sent to, sometimes with a display name.
        recipients: recipients
            .iter()
            .filter_map(|r| {
                let raw = r.email_address.trim();
                let bare = raw
                    .rsplit_once('<')
                    .map_or(raw, |(_, rest)| rest.trim_end_matches('>'));
                MailAddress::parse(bare)
            })
            .collect(),
        at,
    }))
}

async fn handle_message<S, M>(
    desk: &Desk<S>,
    mailroom: &M,
    message: &SqsMessage,
) -> Result<(), RecordError>
where
    S: TicketStore,
    M: Mailroom + OutgoingMail,
{
    let body = message.body.as_deref().ok_or(RecordError::NoBody)?;
    let Some(published) = guichet_edge::batch::sns_message(body).map_err(RecordError::NotSns)?
    else {
        tracing::info!("not an SNS notification: ignored");
        return Ok(());
    };
    let event: SesEvent = serde_json::from_str(&published).map_err(RecordError::NotSes)?;
    let Some(feedback) = feedback_of(&event)? else {
        tracing::info!("neither a permanent bounce nor a complaint: nothing to stop");
        return Ok(());
    };
    let refused = on_feedback(desk, mailroom, &feedback).await?;
    tracing::info!(
        refusal = feedback.refusal.as_str(),
        addresses = refused.addresses,
        flagged = refused.flagged.len(),
        "mail stopped"
    );
    Ok(())
}

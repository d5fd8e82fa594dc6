//! The document function: S3 announces each new object in the documents bucket on an SQS queue;
//! this reads those announcements and inspects each object (real size, magic bytes, a key we
//! issued an upload URL for), dispatching on the key's prefix: ticket attachments (`tickets/`) to
//! [`Attachments::check_object`], everything else to [`Verification::check_object`] (which
//! quarantines whatever is not a verification upload). A verification document that passes is
//! marked received (and the case goes to review when the set is complete); an attachment that
//! passes is listed on its ticket; anything else is quarantined.
//!
//! Messages are reported one by one (`ReportBatchItemFailures`): a message that cannot be
//! handled now (the store or S3 failing, a body that is not an S3 event) is named in
//! `batchItemFailures`, so SQS redelivers only it, and after the queue's `maxReceiveCount` moves
//! it to the dead-letter queue; the good messages of the same batch are deleted. A redelivery is
//! harmless: `check_object` is safe to run twice on the same object.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use guichet_core::attachments::ports::AttachmentStore;
use guichet_core::attachments::rules::ATTACHMENTS_PREFIX;
use guichet_core::attachments::service::{AttachmentCheck, AttachmentError, Attachments};
use guichet_core::documents::ports::DocumentStorage;
use guichet_core::documents::rules::upload_id_of_key;
use guichet_core::verification::ports::CaseStore;
use guichet_core::verification::service::{CheckOutcome, KycError, Verification};
use serde::Deserialize;
use tracing::info_span;

/// What S3 sends once when a notification configuration is set, before any object event.
pub const S3_TEST_EVENT: &str = "s3:TestEvent";

/// Why one message could not be handled. Every variant makes the message fail (and be retried,
/// then dead-lettered): none of them may be acknowledged, or an uploaded document would never be
/// checked and the player's case would wait forever.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("the message has no body")]
    NoBody,
    #[error("the body is not an S3 event notification")]
    NotS3Event(#[source] serde_json::Error),
    #[error("the body is JSON but neither an S3 event nor S3's test event")]
    NoRecords,
    #[error("an object key is not valid URL encoding")]
    BadKey,
    #[error("the document check failed")]
    Check(#[from] KycError),
    #[error("the attachment check failed")]
    Attachment(#[from] AttachmentError),
}

/// The part of an S3 event notification this function reads. Deliberately not
/// `aws_lambda_events::s3::S3Event`: that type requires fields (`eventTime`, `userIdentity`, ...)
/// this function does not use, and a message refused over one of them would end in the
/// dead-letter queue while its document was never checked.
#[derive(Debug, Deserialize)]
pub struct Notification {
    /// Absent in S3's test event.
    #[serde(rename = "Records")]
    pub records: Option<Vec<NotificationRecord>>,
    /// Only in S3's test event (`s3:TestEvent`).
    #[serde(rename = "Event")]
    pub event: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationRecord {
    pub event_name: Option<String>,
    pub s3: NotificationEntity,
}

#[derive(Debug, Deserialize)]
pub struct NotificationEntity {
    pub object: NotificationObject,
}

#[derive(Debug, Deserialize)]
pub struct NotificationObject {
    /// URL-encoded the way S3 encodes keys in events (a space as `+`).
    pub key: String,
}

/// Checks every object a batch announces; names in the response only the messages to retry.
pub async fn handle<C, D, A, E>(
    verification: &Verification<C, D>,
    attachments: &Attachments<A, E>,
    event: SqsEvent,
) -> SqsBatchResponse
where
    C: CaseStore,
    D: DocumentStorage,
    A: AttachmentStore,
    E: DocumentStorage,
{
    // One message at a time: two objects of the same case would otherwise race for the case's
    // version (check_object retries, but needlessly), and a batch is at most ten small checks.
    guichet_edge::batch::each_message(
        event,
        |id| info_span!("document_event", message_id = %id),
        |message| async move { handle_message(verification, attachments, &message).await },
        guichet_edge::batch::log_failure,
    )
    .await
}

async fn handle_message<C, D, A, E>(
    verification: &Verification<C, D>,
    attachments: &Attachments<A, E>,
    message: &SqsMessage,
) -> Result<(), RecordError>
where
    C: CaseStore,
    D: DocumentStorage,
    A: AttachmentStore,
    E: DocumentStorage,
{
    let body = message.body.as_deref().ok_or(RecordError::NoBody)?;
    let notification: Notification = serde_json::from_str(body).map_err(RecordError::NotS3Event)?;
    let Some(records) = notification.records else {
        if notification.event.as_deref() == Some(S3_TEST_EVENT) {
            tracing::info!("S3 test event acknowledged");
            return Ok(());
        }
        return Err(RecordError::NoRecords);
    };
    // S3 sends one record per message, but the format allows several: check them all, and fail
    // the message if any fails (the others are then checked again, which changes nothing).
    for record in records {
        let event_name = record.event_name.as_deref().unwrap_or("");
        if !event_name.starts_with("ObjectCreated:") {
            // Only creations are routed to this queue; anything else has nothing to check.
            tracing::info!(event_name, "not an object creation: ignored");
            continue;
        }
        let key = decode_key(&record.s3.object.key).ok_or(RecordError::BadKey)?;
        // The upload id names the document without its path; the key holds the player's id
        // (an opaque token), which the outcome logs do not need.
        let upload = upload_id_of_key(&key);
        let upload = upload.as_ref().map_or("none", |u| u.as_str());
        if key.starts_with(ATTACHMENTS_PREFIX) {
            let outcome = attachments.check_object(&key).await?;
            log_attachment_outcome(upload, &outcome);
        } else {
            let outcome = verification.check_object(&key).await?;
            log_outcome(upload, &outcome);
        }
    }
    Ok(())
}

fn log_outcome(upload: &str, outcome: &CheckOutcome) {
    match outcome {
        CheckOutcome::Received {
            case,
            submitted_for_review,
        } => tracing::info!(
            upload,
            case = case.as_str(),
            submitted_for_review,
            outcome = "received",
            "document checked"
        ),
        CheckOutcome::Refused { failure } => tracing::warn!(
            upload,
            failure = failure.as_str(),
            outcome = "refused",
            "object quarantined"
        ),
        CheckOutcome::AlreadyHandled => tracing::info!(
            upload,
            outcome = "already_handled",
            "nothing to do (duplicate delivery)"
        ),
    }
}

fn log_attachment_outcome(upload: &str, outcome: &AttachmentCheck) {
    match outcome {
        AttachmentCheck::Checked { reference } => tracing::info!(
            upload,
            ticket = reference.as_str(),
            outcome = "checked",
            "attachment checked"
        ),
        AttachmentCheck::Refused { failure } => tracing::warn!(
            upload,
            failure = failure.as_str(),
            outcome = "refused",
            "attachment quarantined"
        ),
        AttachmentCheck::AlreadyHandled => tracing::info!(
            upload,
            outcome = "already_handled",
            "nothing to do (duplicate delivery)"
        ),
    }
}

/// Decodes a key as S3 writes it in event notifications: `+` is a space, `%XX` a byte, and the
/// bytes are UTF-8. `None` for a malformed escape or invalid UTF-8.
pub fn decode_key(encoded: &str) -> Option<String> {
    let bytes = encoded.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'+' => decoded.push(b' '),
            b'%' => {
                let hex = bytes.get(index + 1..index + 3)?;
                let text = std::str::from_utf8(hex).ok()?;
                // from_str_radix accepts a sign: only two hex digits make an escape.
                if !hex.iter().all(u8::is_ascii_hexdigit) {
                    return None;
                }
                decoded.push(u8::from_str_radix(text, 16).ok()?);
                index += 2;
            }
            other => decoded.push(other),
        }
        index += 1;
    }
    String::from_utf8(decoded).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_decoded_as_s3_encodes_them() {
        assert_eq!(
            decode_key("verification/p-1/VC-X/government_id/UP-1").as_deref(),
            Some("verification/p-1/VC-X/government_id/UP-1")
        );
        assert_eq!(
            decode_key("a/my+passport%281%29.pdf").as_deref(),
            Some("a/my passport(1).pdf")
        );
        assert_eq!(decode_key("caf%C3%A9").as_deref(), Some("café"));
        assert_eq!(decode_key("plus%2Bsign").as_deref(), Some("plus+sign"));
        assert_eq!(decode_key("bad%2"), None);
        assert_eq!(decode_key("bad%+1"), None);
        assert_eq!(decode_key("bad%zz"), None);
        assert_eq!(decode_key("%FF"), None, "not UTF-8");
    }
}

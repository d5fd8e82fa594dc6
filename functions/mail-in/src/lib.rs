//! The mail-in function: SES stores each mail sent to the support domain in the documents
//! bucket and announces it on an SNS topic, which delivers to this function's queue. For each
//! announcement it reads SES's verdicts, reads the raw mail the desk's own key names, reads its
//! MIME, and files it on the desk ([`Inbox::receive`]).
//!
//! The announcement is trusted for nothing it could lie about: the raw mail is read under the
//! key computed from the validated mail id (never the key the notification names, which must
//! match it), and which ticket and player the mail concerns comes from the table. The verdicts
//! are SES's, delivered through our topic and our queue, whose policies admit SES and that
//! topic only.
//!
//! Messages are reported one by one (`ReportBatchItemFailures`): one that cannot be filed now
//! is retried, then dead-lettered; a redelivery is inert ([`Inbox::receive`] files a mail once).

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use guichet_core::attachments::ports::AttachmentStore;
use guichet_core::documents::ports::DocumentStorage;
use guichet_core::mail::inbox::{Arrival, Inbox, InboxError};
use guichet_core::mail::message::MailAddress;
use guichet_core::mail::ports::{MailId, Mailroom, OutgoingMail, RawMail, RawReadError};
use guichet_core::mail::sender::{Verdict, Verdicts};
use guichet_core::notifications::ports::EmailSender;
use guichet_core::tickets::ports::TicketStore;
use guichet_edge::mail::{parse_mail, spf_and_dkim_aligned, MAX_MAIL_BYTES};
use serde::Deserialize;
use tracing::{field::Empty, info_span};

/// Where SES stores the raw mails (the receipt rule's S3 action in `infra/template.yaml`).
pub const INBOUND_PREFIX: &str = "mail/inbound/";
/// The `authserv-id` of the `Authentication-Results` header SES writes on each mail.
pub const SES_AUTHSERV_ID: &str = "amazonses.com";
/// What SES publishes once when the topic is set as a rule's destination.
pub const SETUP_NOTIFICATION: &str = "AMAZON_SES_SETUP_NOTIFICATION";

/// Why one message could not be handled; each makes the message fail (retried, then
/// dead-lettered), since acknowledging it could lose a player's mail.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("the message has no body")]
    NoBody,
    #[error("the body is not an SNS notification")]
    NotSns(#[source] serde_json::Error),
    #[error("the SNS message is not an SES notification")]
    NotSes(#[source] serde_json::Error),
    #[error("the SES notification is of an unexpected type")]
    UnexpectedType,
    #[error("the SES notification's mail id is not one SES writes")]
    BadMailId,
    #[error("the SES notification's action does not name the raw mail where SES stores it")]
    OtherObject,
    #[error("no raw mail is stored for this notification")]
    NoRawMail,
    #[error("the raw mail could not be read")]
    Raw(#[source] RawReadError),
    #[error("the mail could not be filed")]
    Inbox(#[from] InboxError),
    #[error(transparent)]
    Store(#[from] guichet_core::common::store::StoreError),
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct NotificationType {
    notification_type: String,
}

/// The parts of SES's receipt notification this function reads.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SesNotification {
    pub notification_type: String,
    pub mail: Option<SesMail>,
    pub receipt: Option<SesReceipt>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SesMail {
    pub message_id: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SesReceipt {
    #[serde(default)]
    pub recipients: Vec<String>,
    pub spf_verdict: Option<SesVerdict>,
    pub dkim_verdict: Option<SesVerdict>,
    pub dmarc_verdict: Option<SesVerdict>,
    pub spam_verdict: Option<SesVerdict>,
    pub virus_verdict: Option<SesVerdict>,
    pub action: SesAction,
}

#[derive(Debug, Deserialize)]
pub struct SesVerdict {
    pub status: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SesAction {
    #[serde(rename = "type")]
    pub kind: String,
    pub object_key: Option<String>,
}

/// Files every mail a batch announces; names in the response only the messages to retry.
pub async fn handle<S, M, R, E, A, D>(
    inbox: &Inbox<S, M, R, E, A, D>,
    event: SqsEvent,
) -> SqsBatchResponse
where
    S: TicketStore,
    M: Mailroom + OutgoingMail,
    R: RawMail,
    E: EmailSender,
    A: AttachmentStore,
    D: DocumentStorage,
{
    guichet_edge::batch::each_message(
        event,
        |id| info_span!("inbound_mail", message_id = %id, mail = Empty, ticket = Empty),
        |message| async move { handle_message(inbox, &message).await },
        guichet_edge::batch::log_failure,
    )
    .await
}

fn verdict(v: Option<&SesVerdict>) -> Verdict {
    // A check SES did not report proves nothing.
    v.and_then(|v| Verdict::of_ses(&v.status))
        .unwrap_or(Verdict::Disabled)
}

/// What the notification says of the mail, before its raw bytes are read: its id, checked, and
/// SES's verdicts.
pub fn arrival_of(notification: &SesNotification) -> Result<Arrival, RecordError> {
    let (Some(mail), Some(receipt)) = (&notification.mail, &notification.receipt) else {
        return Err(RecordError::UnexpectedType);
    };
    let id = MailId::parse(&mail.message_id).ok_or(RecordError::BadMailId)?;
    let expected = format!("{INBOUND_PREFIX}{}", id.as_str());
    if receipt.action.kind != "S3" || receipt.action.object_key.as_deref() != Some(&expected) {
        return Err(RecordError::OtherObject);
    }
    Ok(Arrival {
        id,
        envelope: receipt
            .recipients
            .iter()
            .filter_map(|r| MailAddress::parse(r))
            .collect(),
        verdicts: Verdicts {
            spf: verdict(receipt.spf_verdict.as_ref()),
            dkim: verdict(receipt.dkim_verdict.as_ref()),
            dmarc: verdict(receipt.dmarc_verdict.as_ref()),
            spam: verdict(receipt.spam_verdict.as_ref()),
            virus: verdict(receipt.virus_verdict.as_ref()),
            aligned: false,
        },
    })
}

async fn handle_message<S, M, R, E, A, D>(
    inbox: &Inbox<S, M, R, E, A, D>,
    message: &SqsMessage,
) -> Result<(), RecordError>
where
    S: TicketStore,
    M: Mailroom + OutgoingMail,
    R: RawMail,
    E: EmailSender,
    A: AttachmentStore,
    D: DocumentStorage,
{
    let body = message.body.as_deref().ok_or(RecordError::NoBody)?;
    let published = guichet_edge::batch::sns_message(body)
        .map_err(RecordError::NotSns)?
        .ok_or(RecordError::UnexpectedType)?;
    // The type first: SES's setup notification has none of a receipt's fields.
    let kind: NotificationType = serde_json::from_str(&published).map_err(RecordError::NotSes)?;
    match kind.notification_type.as_str() {
        "Received" => {}
        SETUP_NOTIFICATION => {
            tracing::info!("SES setup notification acknowledged");
            return Ok(());
        }
        _ => return Err(RecordError::UnexpectedType),
    }
    let notification: SesNotification =
        serde_json::from_str(&published).map_err(RecordError::NotSes)?;
    let mut arrival = arrival_of(&notification)?;
    let span = tracing::Span::current();
    span.record("mail", arrival.id.as_str());
    let max = u64::try_from(MAX_MAIL_BYTES).unwrap_or(u64::MAX);
    let mail = match inbox.raw.read(&arrival.id, max).await {
        Ok(raw) => match parse_mail(&raw) {
            Ok(mail) => {
                arrival.verdicts.aligned = mail
                    .from
                    .as_ref()
                    .is_some_and(|from| spf_and_dkim_aligned(&raw, from, SES_AUTHSERV_ID));
                Some(mail)
            }
            Err(error) => {
                tracing::warn!(error = %error, "the mail's MIME could not be read");
                None
            }
        },
        Err(RawReadError::TooLarge { size, max }) => {
            tracing::warn!(size, max, "the mail is too large to read");
            None
        }
        Err(RawReadError::Missing) => {
            // Quarantined by an earlier delivery, whose record says so; otherwise SES said it
            // stored a mail that is not there, which a retry may yet find.
            return match inbox.filed(&arrival.id).await? {
                Some(filed) => {
                    tracing::info!(outcome = filed.as_str(), "duplicate delivery");
                    Ok(())
                }
                None => Err(RecordError::NoRawMail),
            };
        }
        Err(error) => return Err(RecordError::Raw(error)),
    };
    let received = inbox.receive(&arrival, mail.as_ref()).await?;
    if let Some(reference) = received.filed.reference() {
        span.record("ticket", reference.as_str());
    }
    tracing::info!(
        outcome = received.filed.as_str(),
        duplicate = received.duplicate,
        "mail filed"
    );
    Ok(())
}

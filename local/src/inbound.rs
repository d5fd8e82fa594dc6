//! SES receiving, played locally. The emulator accepts receipt rules but receives no mail
//! (`shared/emulator-notes.md`), so this does what SES's rule does for a mail that reaches the
//! support domain: store the raw mail in the documents bucket under `mail/inbound/<id>`, then
//! announce it on the inbound-mail queue with SES's receipt notification, wrapped in SNS's
//! envelope as the topic's SQS subscription delivers it. The mail-in function (run by the local
//! consumers) takes it from there exactly as in AWS.

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ServerSideEncryption;
use serde_json::json;

/// Where SES's receipt rule stores the raw mail (`InboundMailRule` in `infra/template.yaml`).
pub const INBOUND_PREFIX: &str = "mail/inbound/";

/// SES's verdicts on one mail, as its receipt notification writes them (`PASS`, `FAIL`,
/// `GRAY`, `PROCESSING_FAILED`).
#[derive(Debug, Clone, Copy)]
pub struct Verdicts<'a> {
    pub spf: &'a str,
    pub dkim: &'a str,
    pub dmarc: &'a str,
    pub spam: &'a str,
    pub virus: &'a str,
}

impl Verdicts<'static> {
    /// A mail from a well-configured provider: every check passes.
    pub const PASS: Verdicts<'static> = Verdicts {
        spf: "PASS",
        dkim: "PASS",
        dmarc: "PASS",
        spam: "PASS",
        virus: "PASS",
    };
}

#[derive(Debug, thiserror::Error)]
pub enum InboundError {
    #[error("storing the raw mail failed")]
    Store(#[source] Box<aws_sdk_s3::Error>),
    #[error("announcing the mail failed")]
    Announce(#[source] Box<aws_sdk_sqs::Error>),
    #[error("the random source failed")]
    Random(#[from] getrandom::Error),
}

/// A new mail id in SES's alphabet (lower-case letters and digits, 40 of them).
pub fn new_mail_id() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 40];
    getrandom::fill(&mut bytes)?;
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    Ok(bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect())
}

/// SES's receipt notification for mail `id`, stored in `bucket`, received for `recipients`,
/// in SNS's envelope: the body of the message the inbound-mail queue receives.
pub fn receipt_message(id: &str, bucket: &str, recipients: &[&str], verdicts: Verdicts) -> String {
    let now = jiff::Timestamp::now().to_string();
    let status = |s: &str| json!({ "status": s });
    let notification = json!({
        "notificationType": "Received",
        "mail": {
            "timestamp": now,
            "messageId": id,
            "destination": recipients,
        },
        "receipt": {
            "timestamp": now,
            "recipients": recipients,
            "spfVerdict": status(verdicts.spf),
            "dkimVerdict": status(verdicts.dkim),
            "dmarcVerdict": status(verdicts.dmarc),
            "spamVerdict": status(verdicts.spam),
            "virusVerdict": status(verdicts.virus),
            "action": {
                "type": "S3",
                "bucketName": bucket,
                "objectKey": format!("{INBOUND_PREFIX}{id}"),
            },
        },
    });
    json!({
        "Type": "Notification",
        "MessageId": id,
        "Subject": "Amazon SES Email Receipt Notification",
        "Message": notification.to_string(),
        "Timestamp": now,
    })
    .to_string()
}

/// Receives `raw` as SES would: stores it, then announces it; the mail's id.
pub async fn deliver(
    sdk: &aws_config::SdkConfig,
    bucket: &str,
    queue_url: &str,
    raw: &[u8],
    recipients: &[&str],
    verdicts: Verdicts<'_>,
) -> Result<String, InboundError> {
    let id = new_mail_id()?;
    store(sdk, bucket, &id, raw).await?;
    announce(
        sdk,
        queue_url,
        &receipt_message(&id, bucket, recipients, verdicts),
    )
    .await?;
    Ok(id)
}

/// Stores the raw mail where SES's rule does.
pub async fn store(
    sdk: &aws_config::SdkConfig,
    bucket: &str,
    id: &str,
    raw: &[u8],
) -> Result<(), InboundError> {
    aws_sdk_s3::Client::new(sdk)
        .put_object()
        .bucket(bucket)
        .key(format!("{INBOUND_PREFIX}{id}"))
        .server_side_encryption(ServerSideEncryption::AwsKms)
        .body(ByteStream::from(raw.to_vec()))
        .send()
        .await
        .map_err(|e| InboundError::Store(Box::new(e.into())))?;
    Ok(())
}

/// Puts an SNS-enveloped notification on the queue, as the topic's subscription does.
pub async fn announce(
    sdk: &aws_config::SdkConfig,
    queue_url: &str,
    body: &str,
) -> Result<(), InboundError> {
    aws_sdk_sqs::Client::new(sdk)
        .send_message()
        .queue_url(queue_url)
        .message_body(body)
        .send()
        .await
        .map_err(|e| InboundError::Announce(Box::new(e.into())))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_announcement_is_what_mail_in_reads() {
        let body = receipt_message(
            "abc123",
            "docs",
            &["soutien@guichet.example"],
            Verdicts::PASS,
        );
        let envelope: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(envelope["Type"], "Notification");
        let ses: serde_json::Value =
            serde_json::from_str(envelope["Message"].as_str().unwrap()).unwrap();
        assert_eq!(ses["notificationType"], "Received");
        assert_eq!(ses["receipt"]["action"]["objectKey"], "mail/inbound/abc123");
        assert_eq!(ses["receipt"]["dmarcVerdict"]["status"], "PASS");
        let id = new_mail_id().unwrap();
        assert_eq!(id.len(), 40);
        assert!(id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
    }
}

//! The S3 adapter for identity documents and attachments. Presigned URLs are short-lived,
//! name one object, and sign the content type, the exact length, server-side encryption and
//! `If-None-Match: *` into the request, so S3 itself refuses another type or size, an
//! unencrypted write, or a second write to the same key.

use std::time::Duration;

use aws_sdk_s3::presigning::{PresignedRequest, PresigningConfig};
use aws_sdk_s3::types::ServerSideEncryption;
use aws_sdk_s3::Client;
use jiff::{SignedDuration, Timestamp};

use crate::backend;
use guichet_core::common::store::StoreError;
use guichet_core::documents::ports::{DocumentStorage, ObjectFacts, Presigned};
use guichet_core::documents::rules::ContentType;
use guichet_core::mail::ports::RawReadError;

/// Uploads: long enough for a phone on a slow network, short enough that a leaked URL is
/// soon useless. The issue caps it at 15 minutes.
pub const UPLOAD_URL_TTL: Duration = Duration::from_secs(10 * 60);
/// Reviewer views: one look at one document.
pub const VIEW_URL_TTL: Duration = Duration::from_secs(5 * 60);
/// Bytes read for the magic-number check.
const HEAD_BYTES: u64 = 16;

#[derive(Clone)]
pub struct S3DocumentStorage {
    client: Client,
    bucket: String,
}

impl S3DocumentStorage {
    pub fn new(client: Client, bucket: impl Into<String>) -> Self {
        Self {
            client,
            bucket: bucket.into(),
        }
    }
}

fn presigned(request: &PresignedRequest, now: Timestamp, ttl: Duration) -> Presigned {
    Presigned {
        method: request.method().to_owned(),
        url: request.uri().to_owned(),
        headers: request
            .headers()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
        expires_at: now + SignedDuration::try_from(ttl).unwrap_or(SignedDuration::ZERO),
    }
}

impl DocumentStorage for S3DocumentStorage {
    async fn presign_put(
        &self,
        key: &str,
        content_type: ContentType,
        size: u64,
        now: Timestamp,
    ) -> Result<Presigned, StoreError> {
        let config = PresigningConfig::expires_in(UPLOAD_URL_TTL).map_err(backend)?;
        let request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type.as_str())
            .content_length(i64::try_from(size).unwrap_or(i64::MAX))
            .server_side_encryption(ServerSideEncryption::AwsKms)
            // Write-once: a URL cannot replace a file that has already arrived (and been
            // checked) while it is still valid; S3 answers 412 to a second PUT.
            .if_none_match("*")
            .presigned(config)
            .await
            .map_err(backend)?;
        Ok(presigned(&request, now, UPLOAD_URL_TTL))
    }

    async fn presign_get(&self, key: &str, now: Timestamp) -> Result<Presigned, StoreError> {
        let config = PresigningConfig::expires_in(VIEW_URL_TTL).map_err(backend)?;
        let request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .presigned(config)
            .await
            .map_err(backend)?;
        Ok(presigned(&request, now, VIEW_URL_TTL))
    }

    async fn put(&self, key: &str, content_type: &str, bytes: &[u8]) -> Result<(), StoreError> {
        let written = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .server_side_encryption(ServerSideEncryption::AwsKms)
            // Once, as a presigned upload: a second delivery does not write the file again.
            .if_none_match("*")
            .body(aws_sdk_s3::primitives::ByteStream::from(bytes.to_vec()))
            .send()
            .await;
        match written {
            Ok(_) => Ok(()),
            Err(aws_sdk_s3::error::SdkError::ServiceError(e))
                if e.raw().status().as_u16() == 412 =>
            {
                Ok(())
            }
            Err(e) => Err(backend(e)),
        }
    }

    async fn inspect(&self, key: &str) -> Result<Option<ObjectFacts>, StoreError> {
        let head = match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(head) => head,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => return Ok(None),
            Err(e) => return Err(backend(e)),
        };
        let size = u64::try_from(head.content_length().unwrap_or(0)).unwrap_or(0);
        if size == 0 {
            return Ok(Some(ObjectFacts {
                size,
                head: Vec::new(),
            }));
        }
        let object = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .range(format!("bytes=0-{}", HEAD_BYTES - 1))
            .send()
            .await
            .map_err(backend)?;
        let bytes = object.body.collect().await.map_err(backend)?.into_bytes();
        Ok(Some(ObjectFacts {
            size,
            head: bytes.iter().take(HEAD_BYTES as usize).copied().collect(),
        }))
    }

    async fn quarantine(&self, key: &str) -> Result<(), StoreError> {
        let source = format!("{}/{}", self.bucket, urlencode_key(key));
        self.client
            .copy_object()
            .bucket(&self.bucket)
            .key(format!("quarantine/{key}"))
            .copy_source(source)
            .server_side_encryption(ServerSideEncryption::AwsKms)
            .send()
            .await
            .map_err(backend)?;
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(backend)?;
        Ok(())
    }
}

/// `CopySource` is URL-encoded; our keys only hold `[A-Za-z0-9-_./:@]`, but a key from an
/// event may hold anything, so encode everything else.
fn urlencode_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for b in key.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'/' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_sources_are_encoded() {
        assert_eq!(urlencode_key("a/b c+d"), "a/b%20c%2Bd");
        assert_eq!(
            urlencode_key("verification/p-1/VC-X"),
            "verification/p-1/VC-X"
        );
    }
}

/// Where SES stores each received mail: `mail/inbound/<SES message id>` (the receipt rule's
/// S3 action, `infra/template.yaml`).
pub const INBOUND_MAIL_PREFIX: &str = "mail/inbound/";
/// Where a quarantined mail is moved: the bucket's 30-day `quarantine/` rule expires it, and
/// no event announces it.
pub const QUARANTINED_MAIL_PREFIX: &str = "quarantine/mail/";

/// The raw mails SES stored in the documents bucket. Their key is computed from the validated
/// mail id, never taken from a notification.
#[derive(Clone)]
pub struct S3RawMail {
    client: Client,
    bucket: String,
}

impl S3RawMail {
    pub fn new(client: Client, bucket: impl Into<String>) -> Self {
        Self {
            client,
            bucket: bucket.into(),
        }
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The raw mail's key.
    pub fn key_of(id: &guichet_core::mail::ports::MailId) -> String {
        format!("{INBOUND_MAIL_PREFIX}{}", id.as_str())
    }
}

impl guichet_core::mail::ports::RawMail for S3RawMail {
    /// The raw mail, refused whole when larger than `max` bytes (SES accepts mails of up to
    /// 40 MB; the reader's own cap is smaller).
    async fn read(
        &self,
        id: &guichet_core::mail::ports::MailId,
        max: u64,
    ) -> Result<Vec<u8>, RawReadError> {
        let output = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(Self::key_of(id))
            .send()
            .await;
        let output = match output {
            Ok(output) => output,
            Err(aws_sdk_s3::error::SdkError::ServiceError(e)) if e.err().is_no_such_key() => {
                return Err(RawReadError::Missing)
            }
            Err(e) => return Err(RawReadError::Store(backend(e))),
        };
        let size = output
            .content_length()
            .and_then(|n| u64::try_from(n).ok())
            .unwrap_or(0);
        if size > max {
            return Err(RawReadError::TooLarge { size, max });
        }
        let bytes = output
            .body
            .collect()
            .await
            .map_err(|e| RawReadError::Store(StoreError::Unavailable(Box::new(e))))?;
        let bytes = bytes.into_bytes();
        if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > max {
            return Err(RawReadError::TooLarge {
                size: u64::try_from(bytes.len()).unwrap_or(u64::MAX),
                max,
            });
        }
        Ok(bytes.to_vec())
    }

    /// Copied under `quarantine/mail/`, then deleted: a retry after a crash between the two
    /// copies again (the same bytes) and deletes; one after the delete finds the copy done.
    async fn quarantine(&self, id: &guichet_core::mail::ports::MailId) -> Result<(), StoreError> {
        let from = Self::key_of(id);
        let to = format!("{QUARANTINED_MAIL_PREFIX}{}", id.as_str());
        let copied = self
            .client
            .copy_object()
            .bucket(&self.bucket)
            .copy_source(format!("{}/{from}", self.bucket))
            .key(&to)
            .server_side_encryption(ServerSideEncryption::AwsKms)
            .send()
            .await;
        match copied {
            Ok(_) => {}
            // Already moved by an earlier attempt.
            Err(aws_sdk_s3::error::SdkError::ServiceError(e))
                if e.err().is_object_not_in_active_tier_error()
                    || e.raw().status().as_u16() == 404 =>
            {
                return Ok(())
            }
            Err(e) => return Err(backend(e)),
        }
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(&from)
            .send()
            .await
            .map_err(backend)?;
        Ok(())
    }
}

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

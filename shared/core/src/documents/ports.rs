//! Where uploaded documents live: presigned uploads and downloads, and what an object holds.

use std::future::Future;

use jiff::Timestamp;

use crate::common::store::StoreError;
use crate::documents::rules::ContentType;

/// A presigned HTTP request: the client must send exactly these headers.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Presigned {
    pub method: String,
    pub url: String,
    pub headers: std::collections::BTreeMap<String, String>,
    pub expires_at: Timestamp,
}

/// What an object really is, read from storage, not from any client's claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectFacts {
    pub size: u64,
    /// The first bytes, for the magic-number check.
    pub head: Vec<u8>,
}

pub trait DocumentStorage: Send + Sync {
    fn presign_put(
        &self,
        key: &str,
        content_type: ContentType,
        size: u64,
        now: Timestamp,
    ) -> impl Future<Output = Result<Presigned, StoreError>> + Send;

    fn presign_get(
        &self,
        key: &str,
        now: Timestamp,
    ) -> impl Future<Output = Result<Presigned, StoreError>> + Send;

    /// Stores `bytes` at `key` as an upload would (encrypted, once: an object already there
    /// is left as it is), for a file that came in another way than a presigned PUT (a mail's
    /// attachment). The bucket announces it to the document check like any upload.
    fn put(
        &self,
        key: &str,
        content_type: &str,
        bytes: &[u8],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// `None` when the object is gone (already quarantined by an earlier delivery).
    fn inspect(
        &self,
        key: &str,
    ) -> impl Future<Output = Result<Option<ObjectFacts>, StoreError>> + Send;

    /// Moves an object out of the documents' prefixes, where no one reviews it and the
    /// lifecycle deletes it.
    fn quarantine(&self, key: &str) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Quarantines whatever is at `key`, if anything: what arrives where no upload was issued
    /// (or is no longer expected) never stays where a reviewer or agent would open it.
    /// `true` when there was an object to move.
    fn quarantine_if_present(
        &self,
        key: &str,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        async move {
            if self.inspect(key).await?.is_none() {
                return Ok(false);
            }
            self.quarantine(key).await?;
            Ok(true)
        }
    }
}

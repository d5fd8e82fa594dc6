//! The identity-verification case store.

use std::future::Future;

use jiff::Timestamp;

use crate::common::player::Author;
use crate::common::player::PlayerId;
use crate::common::store::StoreError;
use crate::documents::rules::CheckFailure;
use crate::documents::rules::ContentType;
use crate::documents::rules::{Declared, UploadId};
use crate::notifications::rules::Notification;
use crate::outbox::rules::OutboxMessage;
use crate::verification::rules::AuditEntry;
use crate::verification::rules::CaseId;
use crate::verification::rules::DocumentKind;
use crate::verification::rules::VerificationCase;

/// A presigned upload handed to a client: what the document check compares with what arrives.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PendingUpload {
    pub upload: UploadId,
    pub case: CaseId,
    pub player: PlayerId,
    pub kind: DocumentKind,
    pub key: String,
    pub content_type: ContentType,
    pub size: u64,
    pub issued_at: Timestamp,
    pub expires_at: Timestamp,
    pub issued_by: Author,
    pub state: UploadState,
}

impl PendingUpload {
    /// What the upload URL promised, for the document check.
    pub fn declared(&self) -> Declared {
        Declared {
            content_type: self.content_type,
            size: self.size,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "state", content = "failure", rename_all = "snake_case")]
pub enum UploadState {
    Pending,
    Received,
    Refused(CheckFailure),
}

/// What writing a case transition did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Saved {
    Done,
    /// The case changed since it was read (another reviewer, a retry): nothing was written.
    Stale,
    /// The player already has an open case: nothing was written.
    PlayerHasOpenCase,
}

/// A case write: the new case, the etag it was computed from (0 for a new case), the audit
/// lines it adds and, for uploads, the upload record's new state — all or nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseWrite<'a> {
    pub case: &'a VerificationCase,
    pub expected_etag: u64,
    /// Decided on a reviewer's `state` token ([`crate::common::seen::Seen`]): the stored case
    /// must also have this fingerprint, or nothing is written (`Stale`).
    pub seen: Option<&'a str>,
    pub audit: &'a [AuditEntry],
    pub upload: Option<&'a PendingUpload>,
    /// The player's notification of a decision, kept with the case, and the message that
    /// names it to the sender, relayed after the write.
    pub notification: Option<(&'a Notification, &'a OutboxMessage)>,
}

pub trait CaseStore: Send + Sync {
    fn save(&self, write: CaseWrite<'_>) -> impl Future<Output = Result<Saved, StoreError>> + Send;

    fn case(
        &self,
        id: &CaseId,
    ) -> impl Future<Output = Result<Option<VerificationCase>, StoreError>> + Send;

    /// Every case of a player, newest first.
    fn cases_of(
        &self,
        player: &PlayerId,
    ) -> impl Future<Output = Result<Vec<VerificationCase>, StoreError>> + Send;

    fn upload(
        &self,
        id: &UploadId,
    ) -> impl Future<Output = Result<Option<PendingUpload>, StoreError>> + Send;

    fn audit_of(
        &self,
        id: &CaseId,
    ) -> impl Future<Output = Result<Vec<AuditEntry>, StoreError>> + Send;

    /// Cases in review, withdrawal-blocking ones first, then in arrival order.
    fn review_queue(
        &self,
        senior: bool,
        limit: u16,
    ) -> impl Future<Output = Result<Vec<VerificationCase>, StoreError>> + Send;
}

//! The attachment store's port: pending uploads bound to a ticket, settled once checked.

use crate::attachments::rules::{Attachment, AttachmentState};
use crate::common::reference::TicketReference;
use crate::common::store::StoreError;
use crate::documents::rules::UploadId;
use std::future::Future;

/// What issuing an attachment did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Issued {
    Done,
    /// The ticket already has the maximum of counting attachments: nothing was written.
    LimitReached,
    /// No such ticket: nothing was written.
    NoTicket,
    /// The ticket is closed (it may have closed since it was read): nothing was written.
    TicketClosed,
    /// A concurrent write touched the same items; trying again is safe.
    Contended,
}

/// What settling an attachment (checked, refused, expired) did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    Done,
    /// It was no longer in the state the write expected (another delivery settled it first):
    /// nothing was written.
    StateChanged,
    /// A concurrent write touched the same items; trying again is safe.
    Contended,
}

pub trait AttachmentStore: Send + Sync {
    /// Records a new pending attachment and counts it against its ticket's limit, all or
    /// nothing: under any concurrency, no ticket ever has more than `max` counting attachments.
    fn issue(
        &self,
        attachment: &Attachment,
        max: u32,
    ) -> impl Future<Output = Result<Issued, StoreError>> + Send;

    fn attachment(
        &self,
        reference: &TicketReference,
        upload: &UploadId,
    ) -> impl Future<Output = Result<Option<Attachment>, StoreError>> + Send;

    /// Every attachment of a ticket, in the order they were issued.
    fn attachments_of(
        &self,
        reference: &TicketReference,
    ) -> impl Future<Output = Result<Vec<Attachment>, StoreError>> + Send;

    /// Writes an attachment's new state (`attachment.state`), on condition that it is still
    /// `from` (by name: pending, checked...). One that stops counting
    /// ([`AttachmentState::counts`]) gives its slot back in the same write.
    fn settle(
        &self,
        attachment: &Attachment,
        from: AttachmentState,
    ) -> impl Future<Output = Result<Settled, StoreError>> + Send;
}

// ---------------------------------------------------------------------------------------------
// The use cases.

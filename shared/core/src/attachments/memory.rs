//! Ticket attachments in memory (feature `mocks`).

use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::common::reference::TicketReference;
use crate::common::store::StoreError;
use crate::documents::memory::MemoryDocumentStorage;
use crate::documents::rules::UploadId;
use crate::tickets::memory::FixedClock;

// ---------------------------------------------------------------------------------------------
// Ticket attachments.

/// Attachments in memory, with the store's contract: the limit on counting attachments, and
/// settling only what is still pending. It does not know the tickets (the handlers check the
/// ticket first; the DynamoDB store also conditions on it), so it never answers `NoTicket`.
#[derive(Default)]
pub struct MemoryAttachmentStore {
    attachments: Mutex<BTreeMap<(String, String), crate::attachments::rules::Attachment>>,
}

impl crate::attachments::ports::AttachmentStore for MemoryAttachmentStore {
    async fn issue(
        &self,
        attachment: &crate::attachments::rules::Attachment,
        max: u32,
    ) -> Result<crate::attachments::ports::Issued, StoreError> {
        use crate::attachments::ports::Issued;
        let mut all = self.attachments.lock().unwrap_or_else(|e| e.into_inner());
        let reference = attachment.reference.as_str().to_owned();
        let counting = all
            .values()
            .filter(|a| a.reference.as_str() == reference && a.counts())
            .count();
        if counting >= max as usize {
            return Ok(Issued::LimitReached);
        }
        let id = (reference, attachment.upload.as_str().to_owned());
        if all.contains_key(&id) {
            return Ok(Issued::Contended);
        }
        all.insert(id, attachment.clone());
        Ok(Issued::Done)
    }

    async fn attachment(
        &self,
        reference: &TicketReference,
        upload: &UploadId,
    ) -> Result<Option<crate::attachments::rules::Attachment>, StoreError> {
        Ok(self
            .attachments
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&(reference.as_str().to_owned(), upload.as_str().to_owned()))
            .cloned())
    }

    async fn attachments_of(
        &self,
        reference: &TicketReference,
    ) -> Result<Vec<crate::attachments::rules::Attachment>, StoreError> {
        let mut found: Vec<_> = self
            .attachments
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .filter(|a| &a.reference == reference)
            .cloned()
            .collect();
        found.sort_by(|a, b| {
            (a.issued_at, a.upload.as_str()).cmp(&(b.issued_at, b.upload.as_str()))
        });
        Ok(found)
    }

    async fn settle(
        &self,
        attachment: &crate::attachments::rules::Attachment,
        from: crate::attachments::rules::AttachmentState,
    ) -> Result<crate::attachments::ports::Settled, StoreError> {
        use crate::attachments::ports::Settled;
        use crate::attachments::rules::AttachmentState;
        let mut all = self.attachments.lock().unwrap_or_else(|e| e.into_inner());
        let id = (
            attachment.reference.as_str().to_owned(),
            attachment.upload.as_str().to_owned(),
        );
        // Compared by name, as the DynamoDB store's condition is (not the failure's reason).
        let same = |a: AttachmentState, b: AttachmentState| {
            std::mem::discriminant(&a) == std::mem::discriminant(&b)
        };
        match all.get(&id) {
            Some(current) if same(current.state, from) => {
                all.insert(id, attachment.clone());
                Ok(Settled::Done)
            }
            _ => Ok(Settled::StateChanged),
        }
    }
}

/// Ticket attachments over the in-memory ports, their clock fixed at `now`.
pub fn attachments(
    now: &str,
) -> crate::attachments::service::Attachments<MemoryAttachmentStore, MemoryDocumentStorage> {
    crate::attachments::service::Attachments {
        store: MemoryAttachmentStore::default(),
        storage: MemoryDocumentStorage::default(),
        clock: Box::new(FixedClock::at(now)),
    }
}

/// A PNG-looking file of exactly `size` bytes (at least its 8-byte signature).
pub fn png_bytes(size: u64) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.resize(usize::try_from(size).unwrap_or(8).max(bytes.len()), 0);
    bytes
}

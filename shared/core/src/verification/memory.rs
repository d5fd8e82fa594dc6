//! Identity-verification cases in memory (feature `mocks`), and the helpers that walk a case
//! through the real use cases.

use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::common::player::PlayerId;
use crate::common::store::StoreError;

// ---------------------------------------------------------------------------------------------
// Identity verification.

use crate::documents::memory::MemoryDocumentStorage;
use crate::documents::rules::{ContentType, UploadId};
use crate::tickets::memory::FixedClock;
use crate::verification::ports::{CaseStore, CaseWrite, PendingUpload, Saved};
use crate::verification::rules::{AuditEntry, CaseId, VerificationCase};

#[derive(Default)]
pub struct MemoryCaseStore {
    state: Mutex<CaseState>,
}

#[derive(Default)]
struct CaseState {
    cases: BTreeMap<String, VerificationCase>,
    audit: Vec<(String, AuditEntry)>,
    uploads: BTreeMap<String, PendingUpload>,
    open_by_player: BTreeMap<String, String>,
    /// How many times a case was read by id: what a round-trip count would show in DynamoDB.
    reads: usize,
}

impl MemoryCaseStore {
    fn lock(&self) -> std::sync::MutexGuard<'_, CaseState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How many cases were read by id so far.
    pub fn reads(&self) -> usize {
        self.lock().reads
    }
}

impl CaseStore for MemoryCaseStore {
    async fn save(&self, write: CaseWrite<'_>) -> Result<Saved, StoreError> {
        let mut state = self.lock();
        let id = write.case.id.as_str().to_owned();
        let player = write.case.player.as_str().to_owned();
        let current = state.cases.get(&id).map(|c| c.etag);
        match (write.expected_etag, current) {
            (0, None) => {
                if state.open_by_player.contains_key(&player) {
                    return Ok(Saved::PlayerHasOpenCase);
                }
                state.open_by_player.insert(player.clone(), id.clone());
            }
            (expected, Some(version)) if expected == version => {}
            _ => return Ok(Saved::Stale),
        }
        if let Some(seen) = write.seen {
            let stored = state.cases.get(&id).map(crate::common::seen::fingerprint);
            if stored.as_deref() != Some(seen) {
                return Ok(Saved::Stale);
            }
        }
        if !write.case.is_open() && state.open_by_player.get(&player) == Some(&id) {
            state.open_by_player.remove(&player);
        }
        state.cases.insert(id.clone(), write.case.clone());
        for entry in write.audit {
            state.audit.push((id.clone(), entry.clone()));
        }
        if let Some(upload) = write.upload {
            state
                .uploads
                .insert(upload.upload.as_str().to_owned(), upload.clone());
        }
        Ok(Saved::Done)
    }

    async fn case(&self, id: &CaseId) -> Result<Option<VerificationCase>, StoreError> {
        let mut state = self.lock();
        state.reads += 1;
        Ok(state.cases.get(id.as_str()).cloned())
    }

    async fn cases_of(&self, player: &PlayerId) -> Result<Vec<VerificationCase>, StoreError> {
        let mut cases: Vec<VerificationCase> = self
            .lock()
            .cases
            .values()
            .filter(|c| &c.player == player)
            .cloned()
            .collect();
        cases.sort_by_key(|c| std::cmp::Reverse(c.opened_at));
        Ok(cases)
    }

    async fn upload(&self, id: &UploadId) -> Result<Option<PendingUpload>, StoreError> {
        Ok(self.lock().uploads.get(id.as_str()).cloned())
    }

    async fn audit_of(&self, id: &CaseId) -> Result<Vec<AuditEntry>, StoreError> {
        Ok(self
            .lock()
            .audit
            .iter()
            .filter(|(case, _)| case == id.as_str())
            .map(|(_, entry)| entry.clone())
            .collect())
    }

    async fn review_queue(
        &self,
        senior: bool,
        limit: u16,
    ) -> Result<Vec<VerificationCase>, StoreError> {
        let mut queue: Vec<VerificationCase> = self
            .lock()
            .cases
            .values()
            .filter(|c| {
                c.status == crate::verification::rules::CaseStatus::InReview
                    && c.needs_senior == senior
            })
            .cloned()
            .collect();
        queue.sort_by_key(|c| (!c.blocks_withdrawal(), c.submitted_at));
        queue.truncate(usize::from(limit));
        Ok(queue)
    }
}

/// Identity verification over the in-memory ports, its clock fixed at `now`.
pub fn verification(
    now: &str,
) -> crate::verification::service::Verification<MemoryCaseStore, MemoryDocumentStorage> {
    crate::verification::service::Verification {
        cases: MemoryCaseStore::default(),
        storage: MemoryDocumentStorage::default(),
        clock: Box::new(FixedClock::at(now)),
        max_resubmissions: 2,
        notifier: crate::notifications::rules::Notifier::bundled(),
    }
}

/// A PDF-looking file of exactly `size` bytes.
pub fn pdf_bytes(size: u64) -> Vec<u8> {
    let mut bytes = b"%PDF-1.7\n".to_vec();
    bytes.resize(usize::try_from(size).unwrap_or(9).max(bytes.len()), b' ');
    bytes
}

/// Opens a case for `player` and uploads every document it requires through the same use
/// cases the functions call (URL issued, object stored, object checked): the case ends in
/// review.
pub async fn case_in_review(
    v: &crate::verification::service::Verification<MemoryCaseStore, MemoryDocumentStorage>,
    player: &str,
    reason: crate::verification::rules::CaseReason,
) -> VerificationCase {
    use crate::common::player::{Author, Language};
    let player = PlayerId::parse(player).unwrap_or_else(|| panic!("player id {player}"));
    let case = v
        .open_case(&Author::System, player.clone(), reason, &[], Language::Fr)
        .await
        .unwrap_or_else(|e| panic!("opening a case: {e}"));
    for slot in &case.documents {
        let (upload, _) = v
            .request_upload(&Author::Player, &player, slot.kind, ContentType::Pdf, 2048)
            .await
            .unwrap_or_else(|e| panic!("upload URL: {e}"));
        v.storage.put(&upload.key, &pdf_bytes(2048));
        v.check_object(&upload.key)
            .await
            .unwrap_or_else(|e| panic!("checking the upload: {e}"));
    }
    v.cases
        .case(&case.id)
        .await
        .ok()
        .flatten()
        .filter(|c| c.status == crate::verification::rules::CaseStatus::InReview)
        .unwrap_or_else(|| panic!("the case did not reach review"))
}

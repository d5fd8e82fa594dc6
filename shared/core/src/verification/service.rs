//! Identity-verification use cases over the ports: opening a case, issuing an upload URL,
//! checking what arrived, the review, and the eligibility gate.

use jiff::Timestamp;

use crate::common::clock::Clock;
use crate::common::player::{Author, Language, PlayerId};
use crate::common::retry::{Attempt, RetryPolicy};
use crate::common::seen::{on_seen_else_read, Seen};
use crate::common::store::StoreError;
use crate::documents::ports::{DocumentStorage, Presigned};
use crate::documents::rules::{upload_id_of_key, CheckFailure, ContentType, UploadId};
use crate::verification::ports::{CaseStore, CaseWrite, PendingUpload, Saved, UploadState};
use crate::verification::rules::{
    document_key, eligibility, AuditAction, AuditEntry, CaseError, CaseId, CaseReason, Decision,
    DocumentKind, Eligibility, GatedAction, StoredDocument, VerificationCase,
};

/// A player's verification as they read it (`Verification::standing_of`).
#[derive(Debug, Clone, PartialEq)]
pub struct Standing {
    pub latest: VerificationCase,
    /// One answer per gated action, in `GatedAction::ALL`'s order.
    pub gates: Vec<Eligibility>,
}

/// Transitions recomputed after a concurrent change before giving up (the document check
/// and a reviewer can touch a case at the same moment).
const RETRY: RetryPolicy = RetryPolicy::CONTENDED_WRITE.with_attempts(4);

pub struct Verification<C, D> {
    pub cases: C,
    pub storage: D,
    pub clock: Box<dyn Clock>,
    /// Resubmissions allowed per document before a senior reviewer takes the case.
    pub max_resubmissions: u8,
    /// Renders the player's notification of a decision.
    pub notifier: crate::notifications::rules::Notifier,
}

/// A decision as written: the case, and the outbox message telling the player (none when the
/// case only moved to a senior reviewer), for the caller to relay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decided {
    pub case: VerificationCase,
    pub outbox: Vec<crate::outbox::rules::OutboxMessage>,
}

#[derive(Debug, thiserror::Error)]
pub enum KycError {
    #[error("the player already has an open verification case")]
    PlayerHasOpenCase,
    #[error("the player has no verification case waiting for documents")]
    NoOpenCase,
    #[error("no such case")]
    CaseNotFound,
    #[error(transparent)]
    Case(#[from] CaseError),
    #[error("the case changed while this request was handled; read it again")]
    Stale,
    #[error("the random source failed")]
    Random(#[from] getrandom::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the player's notification could not be rendered")]
    Notify(#[source] crate::notifications::rules::NotifyError),
}

/// A document view: its short-lived URL, and the case as it now stands (the view is in its
/// audit trail), whose `state` token the reviewer sends with the next action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Viewed {
    pub url: Presigned,
    pub case: VerificationCase,
}

/// What a reviewer decided, as the request states it.
#[derive(Debug, Clone)]
struct Ask<'a> {
    reviewer: &'a Author,
    senior: bool,
    expected_version: u64,
    decision: &'a Decision,
    player_message: Option<String>,
    internal_note: Option<String>,
}

/// What the document check did with one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckOutcome {
    Received {
        case: CaseId,
        submitted_for_review: bool,
    },
    Refused {
        failure: CheckFailure,
    },
    /// Nothing to do: a duplicate delivery, or the object is already gone.
    AlreadyHandled,
}

fn audit(at: Timestamp, actor: &Author, action: AuditAction, note: Option<String>) -> AuditEntry {
    AuditEntry {
        at,
        actor: actor.clone(),
        action,
        internal_note: note,
    }
}

impl<C: CaseStore, D: DocumentStorage> Verification<C, D> {
    pub async fn open_case(
        &self,
        actor: &Author,
        player: PlayerId,
        reason: CaseReason,
        extra: &[DocumentKind],
        language: Language,
    ) -> Result<VerificationCase, KycError> {
        let now = self.clock.now();
        let case =
            VerificationCase::open(CaseId::generate()?, player, reason, extra, language, now);
        let lines = [audit(now, actor, AuditAction::Opened { reason }, None)];
        match self
            .cases
            .save(CaseWrite {
                case: &case,
                expected_etag: 0,
                seen: None,
                audit: &lines,
                upload: None,
                notification: None,
            })
            .await?
        {
            Saved::Done => Ok(case),
            Saved::PlayerHasOpenCase => Err(KycError::PlayerHasOpenCase),
            Saved::Stale => Err(KycError::Stale),
        }
    }

    /// The player's open case, if any (newest first, so the current one).
    pub async fn open_case_of(
        &self,
        player: &PlayerId,
    ) -> Result<Option<VerificationCase>, StoreError> {
        Ok(self
            .cases
            .cases_of(player)
            .await?
            .into_iter()
            .find(VerificationCase::is_open))
    }

    /// What the player reads: their most recent case, open or not, and what each gated action
    /// answers now (the gate's own rule, on the same one read), so the page shows what stays
    /// blocked without a second source of truth.
    pub async fn standing_of(&self, player: &PlayerId) -> Result<Option<Standing>, StoreError> {
        let cases = self.cases.cases_of(player).await?;
        let gates = GatedAction::ALL
            .iter()
            .map(|&action| eligibility(action, &cases))
            .collect();
        Ok(cases
            .into_iter()
            .next()
            .map(|latest| Standing { latest, gates }))
    }

    /// A presigned PUT for one document of the player's open case. The key is ours, under the
    /// player's prefix; the type, the exact size and encryption are signed into the URL.
    pub async fn request_upload(
        &self,
        actor: &Author,
        player: &PlayerId,
        kind: DocumentKind,
        content_type: ContentType,
        size: u64,
    ) -> Result<(PendingUpload, Presigned), KycError> {
        RETRY
            .run(|_| self.upload_attempt(actor, player, kind, content_type, size))
            .await?
            .ok_or(KycError::Stale)
    }

    /// One attempt of [`Verification::request_upload`], on the case as it is now.
    async fn upload_attempt(
        &self,
        actor: &Author,
        player: &PlayerId,
        kind: DocumentKind,
        content_type: ContentType,
        size: u64,
    ) -> Result<Attempt<(PendingUpload, Presigned)>, KycError> {
        let mut case = self
            .open_case_of(player)
            .await?
            .ok_or(KycError::NoOpenCase)?;
        case.check_upload_allowed(kind)?;
        let now = self.clock.now();
        let upload_id = UploadId::generate()?;
        let key = document_key(player, &case.id, kind, &upload_id);
        let presigned = self
            .storage
            .presign_put(&key, content_type, size, now)
            .await?;
        let upload = PendingUpload {
            upload: upload_id.clone(),
            case: case.id.clone(),
            player: player.clone(),
            kind,
            key,
            content_type,
            size,
            issued_at: now,
            expires_at: presigned.expires_at,
            issued_by: actor.clone(),
            state: UploadState::Pending,
        };
        let expected = case.etag;
        case.touch(now);
        let lines = [audit(
            now,
            actor,
            AuditAction::UploadUrlIssued {
                kind,
                upload: upload_id,
                on_behalf_of_player: !matches!(actor, Author::Player),
            },
            None,
        )];
        match self
            .cases
            .save(CaseWrite {
                case: &case,
                expected_etag: expected,
                seen: None,
                audit: &lines,
                upload: Some(&upload),
                notification: None,
            })
            .await?
        {
            Saved::Done => Ok(Attempt::Done((upload, presigned))),
            Saved::Stale | Saved::PlayerHasOpenCase => Ok(Attempt::Retry),
        }
    }

    /// Checks one object that landed in the bucket. Safe to run twice on the same object.
    pub async fn check_object(&self, key: &str) -> Result<CheckOutcome, KycError> {
        let upload = match upload_id_of_key(key) {
            Some(id) => self.cases.upload(&id).await?,
            None => None,
        };
        // Anything we did not hand out a URL for, at exactly this key, is not a document.
        let Some(upload) = upload.filter(|u| u.key == key) else {
            self.storage.quarantine_if_present(key).await?;
            return Ok(CheckOutcome::Refused {
                failure: CheckFailure::UnknownUpload,
            });
        };
        if upload.state != UploadState::Pending {
            return Ok(CheckOutcome::AlreadyHandled);
        }
        let Some(facts) = self.storage.inspect(key).await? else {
            return Ok(CheckOutcome::AlreadyHandled);
        };
        let failure = upload.declared().check(&facts);
        RETRY
            .run(|_| self.check_attempt(key, &upload, failure, facts.size))
            .await?
            .ok_or(KycError::Stale)
    }

    /// One attempt of [`Verification::check_object`], on the case as it is now; `upload` is
    /// the pending upload as read, its outcome recorded on a copy.
    async fn check_attempt(
        &self,
        key: &str,
        upload: &PendingUpload,
        failure: Option<CheckFailure>,
        size: u64,
    ) -> Result<Attempt<CheckOutcome>, KycError> {
        let system = Author::System;
        let mut upload = upload.clone();
        let mut case = self
            .cases
            .case(&upload.case)
            .await?
            .ok_or(StoreError::Corrupt { attribute: "case" })?;
        let expected = case.etag;
        let now = self.clock.now();
        let mut lines = Vec::new();
        let outcome = match failure {
            None => match case.receive(
                upload.kind,
                StoredDocument {
                    upload: upload.upload.clone(),
                    key: upload.key.clone(),
                    content_type: upload.content_type,
                    size,
                    received_at: now,
                },
                now,
            ) {
                Ok(complete) => {
                    lines.push(audit(
                        now,
                        &system,
                        AuditAction::DocumentReceived {
                            kind: upload.kind,
                            upload: upload.upload.clone(),
                        },
                        None,
                    ));
                    if complete {
                        lines.push(audit(now, &system, AuditAction::SubmittedForReview, None));
                    }
                    upload.state = UploadState::Received;
                    CheckOutcome::Received {
                        case: case.id.clone(),
                        submitted_for_review: complete,
                    }
                }
                Err(_) => self.refusal(
                    &mut case,
                    &mut upload,
                    CheckFailure::NotExpected,
                    now,
                    &mut lines,
                ),
            },
            Some(failure) => self.refusal(&mut case, &mut upload, failure, now, &mut lines),
        };
        if matches!(outcome, CheckOutcome::Refused { .. }) {
            // Out of the reviewed prefixes before the record says so: a retry after a
            // crash here finds the object gone and the upload still pending, and ends.
            self.storage.quarantine(key).await?;
        }
        match self
            .cases
            .save(CaseWrite {
                case: &case,
                expected_etag: expected,
                seen: None,
                audit: &lines,
                upload: Some(&upload),
                notification: None,
            })
            .await?
        {
            Saved::Done => Ok(Attempt::Done(outcome)),
            Saved::Stale | Saved::PlayerHasOpenCase => Ok(Attempt::Retry),
        }
    }

    fn refusal(
        &self,
        case: &mut VerificationCase,
        upload: &mut PendingUpload,
        failure: CheckFailure,
        now: Timestamp,
        lines: &mut Vec<AuditEntry>,
    ) -> CheckOutcome {
        if case.refuse(upload.kind, failure, now).is_err() {
            // The case no longer waits for this document: record the refusal all the same.
            case.touch(now);
        }
        lines.push(audit(
            now,
            &Author::System,
            AuditAction::DocumentRefused {
                kind: upload.kind,
                upload: upload.upload.clone(),
                failure,
            },
            None,
        ));
        upload.state = UploadState::Refused(failure);
        CheckOutcome::Refused { failure }
    }

    /// A short-lived GET for one document; the view is written to the audit trail first.
    /// With the reviewer's `state` token of the case, one round trip (see
    /// [`crate::common::seen`]); the case as it now stands comes back for the next token.
    pub async fn view_document(
        &self,
        reviewer: &Author,
        case_id: &CaseId,
        kind: DocumentKind,
        seen: Option<&Seen<VerificationCase>>,
    ) -> Result<Viewed, KycError> {
        on_seen_else_read(
            async {
                let seen = seen.filter(|seen| &seen.record().id == case_id)?;
                let case = seen.record().clone();
                match self
                    .view_attempt(reviewer, case, kind, Some(seen.fingerprint()))
                    .await
                {
                    Ok(Attempt::Done(viewed)) => Some(Ok(viewed)),
                    // Decided on what the token claims: answered from the stored case instead.
                    Ok(Attempt::Retry) | Err(KycError::Case(_)) => None,
                    Err(other) => Some(Err(other)),
                }
            },
            async {
                RETRY
                    .run(|_| async {
                        let case = self
                            .cases
                            .case(case_id)
                            .await?
                            .ok_or(KycError::CaseNotFound)?;
                        self.view_attempt(reviewer, case, kind, None).await
                    })
                    .await?
                    .ok_or(KycError::Stale)
            },
        )
        .await
    }

    /// One attempt of [`Verification::view_document`], on `case` as read or as seen.
    async fn view_attempt(
        &self,
        reviewer: &Author,
        mut case: VerificationCase,
        kind: DocumentKind,
        seen: Option<&str>,
    ) -> Result<Attempt<Viewed>, KycError> {
        let key = case
            .slot(kind)
            .ok_or(CaseError::NotRequired(kind))?
            .current
            .as_ref()
            .map(|d| d.key.clone())
            .ok_or(KycError::Case(CaseError::DocumentNotExpected(
                kind,
                case.slot(kind)
                    .map_or(crate::verification::rules::DocumentStatus::Missing, |s| {
                        s.status
                    }),
            )))?;
        let now = self.clock.now();
        let expected = case.etag;
        case.touch(now);
        let lines = [audit(
            now,
            reviewer,
            AuditAction::DocumentViewed { kind },
            None,
        )];
        match self
            .cases
            .save(CaseWrite {
                case: &case,
                expected_etag: expected,
                seen,
                audit: &lines,
                upload: None,
                notification: None,
            })
            .await?
        {
            Saved::Done => Ok(Attempt::Done(Viewed {
                url: self.storage.presign_get(&key, now).await?,
                case,
            })),
            Saved::Stale | Saved::PlayerHasOpenCase => Ok(Attempt::Retry),
        }
    }

    /// A reviewer's decision on the version of the case they read: deciding on a case that
    /// changed since (another reviewer, a new document) is refused as stale, never applied
    /// twice. With the reviewer's `state` token of the case, one round trip (see
    /// [`crate::common::seen`]).
    #[allow(clippy::too_many_arguments)]
    pub async fn decide(
        &self,
        reviewer: &Author,
        senior: bool,
        case_id: &CaseId,
        expected_version: u64,
        seen: Option<&Seen<VerificationCase>>,
        decision: &Decision,
        player_message: Option<String>,
        internal_note: Option<String>,
    ) -> Result<Decided, KycError> {
        let ask = Ask {
            reviewer,
            senior,
            expected_version,
            decision,
            player_message,
            internal_note,
        };
        on_seen_else_read(
            async {
                let seen = seen.filter(|seen| &seen.record().id == case_id)?;
                let case = seen.record().clone();
                match self
                    .decide_on(case, Some(seen.fingerprint()), ask.clone())
                    .await
                {
                    // Refused or lost on what the token claims: answered from the stored case.
                    Err(KycError::Stale | KycError::Case(_)) => None,
                    done => Some(done),
                }
            },
            async {
                let case = self
                    .cases
                    .case(case_id)
                    .await?
                    .ok_or(KycError::CaseNotFound)?;
                self.decide_on(case, None, ask.clone()).await
            },
        )
        .await
    }

    /// [`Verification::decide`] on `case` as read or as seen.
    async fn decide_on(
        &self,
        mut case: VerificationCase,
        seen: Option<&str>,
        ask: Ask<'_>,
    ) -> Result<Decided, KycError> {
        let Ask {
            reviewer,
            senior,
            expected_version,
            decision,
            player_message,
            internal_note,
        } = ask;
        if case.version != expected_version {
            return Err(KycError::Stale);
        }
        let etag = case.etag;
        let now = self.clock.now();
        let action = case.decide(
            decision,
            senior,
            self.max_resubmissions,
            player_message,
            now,
        )?;
        use crate::notifications::rules::NotificationKind;
        let kind = match &action {
            AuditAction::Approved => Some(NotificationKind::VerificationApproved),
            AuditAction::Rejected { .. } => Some(NotificationKind::VerificationRejected),
            AuditAction::ResubmissionRequested { .. } => {
                Some(NotificationKind::VerificationResubmission)
            }
            _ => None,
        };
        let notification = match kind {
            Some(kind) => Some(
                self.notifier
                    .for_case(
                        kind,
                        &case.player,
                        &case.id,
                        case.language,
                        crate::outbox::rules::MessageId::generate()?,
                        now,
                    )
                    .map_err(KycError::Notify)?,
            ),
            None => None,
        };
        let lines = [audit(now, reviewer, action, internal_note)];
        match self
            .cases
            .save(CaseWrite {
                case: &case,
                expected_etag: etag,
                seen,
                audit: &lines,
                upload: None,
                notification: notification.as_ref().map(|(n, m)| (n, m)),
            })
            .await?
        {
            Saved::Done => Ok(Decided {
                case,
                outbox: notification
                    .map(|(_, message)| message)
                    .into_iter()
                    .collect(),
            }),
            Saved::Stale | Saved::PlayerHasOpenCase => Err(KycError::Stale),
        }
    }

    pub async fn eligibility(
        &self,
        player: &PlayerId,
        action: GatedAction,
    ) -> Result<Eligibility, StoreError> {
        Ok(eligibility(action, &self.cases.cases_of(player).await?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::documents::memory::MemoryDocumentStorage;
    use crate::verification::memory::{verification, MemoryCaseStore};
    use crate::verification::rules::{CaseStatus, DocumentStatus};

    const PDF: &[u8] = b"%PDF-1.7\nfake statement";
    const PNG: &[u8] = b"\x89PNG\r\n\x1a\nfake photo of an id";

    type Kyc = Verification<MemoryCaseStore, MemoryDocumentStorage>;

    fn player() -> PlayerId {
        PlayerId::parse("p-1").expect("valid id")
    }

    async fn opened(v: &Kyc) -> VerificationCase {
        v.open_case(
            &Author::System,
            player(),
            CaseReason::FirstWithdrawal,
            &[],
            Language::Fr,
        )
        .await
        .expect("opened")
    }

    async fn upload(v: &Kyc, kind: DocumentKind, ct: ContentType, bytes: &[u8]) -> PendingUpload {
        let (pending, presigned) = v
            .request_upload(&Author::Player, &player(), kind, ct, bytes.len() as u64)
            .await
            .expect("url issued");
        assert!(presigned.url.contains("X-Amz-SignedHeaders"));
        v.storage.put(&pending.key, bytes);
        pending
    }

    #[tokio::test]
    async fn a_player_reads_the_latest_case_and_what_each_gate_answers() {
        let v = verification("2026-11-26T15:00:00Z");
        assert_eq!(v.standing_of(&player()).await.expect("read"), None);
        let case = opened(&v).await;
        let standing = v
            .standing_of(&player())
            .await
            .expect("read")
            .expect("a case");
        assert_eq!(standing.latest.id, case.id);
        let actions: Vec<GatedAction> = standing.gates.iter().map(|g| g.action).collect();
        assert_eq!(actions, GatedAction::ALL);
        // The gate's own answer, one per action: blocked while the case is open.
        for gate in &standing.gates {
            assert_eq!(*gate, eligibility(gate.action, std::slice::from_ref(&case)));
            assert!(!gate.allowed);
        }
    }

    #[tokio::test]
    async fn the_last_good_document_sends_the_case_to_review() {
        let v = verification("2026-11-26T15:00:00Z");
        let case = opened(&v).await;
        let id = upload(&v, DocumentKind::GovernmentId, ContentType::Png, PNG).await;
        let address = upload(&v, DocumentKind::ProofOfAddress, ContentType::Pdf, PDF).await;
        assert!(matches!(
            v.check_object(&id.key).await,
            Ok(CheckOutcome::Received {
                submitted_for_review: false,
                ..
            })
        ));
        assert!(matches!(
            v.check_object(&address.key).await,
            Ok(CheckOutcome::Received {
                submitted_for_review: true,
                ..
            })
        ));
        let stored = v.cases.case(&case.id).await.expect("read").expect("case");
        assert_eq!(stored.status, CaseStatus::InReview);
        // A duplicate delivery changes nothing.
        assert_eq!(
            v.check_object(&address.key).await.expect("checked"),
            CheckOutcome::AlreadyHandled
        );
        let again = v.cases.case(&case.id).await.expect("read").expect("case");
        assert_eq!(again.version, stored.version);
        let audit = v.cases.audit_of(&case.id).await.expect("audit");
        assert!(audit
            .iter()
            .any(|e| e.action == AuditAction::SubmittedForReview));
    }

    #[tokio::test]
    async fn bytes_that_are_not_what_they_claim_are_quarantined() {
        let v = verification("2026-11-26T15:00:00Z");
        let case = opened(&v).await;
        let liar = upload(&v, DocumentKind::GovernmentId, ContentType::Png, PDF).await;
        assert_eq!(
            v.check_object(&liar.key).await.expect("checked"),
            CheckOutcome::Refused {
                failure: CheckFailure::TypeMismatch
            }
        );
        assert!(v
            .storage
            .keys()
            .iter()
            .all(|k| k.starts_with("quarantine/")));
        let stored = v.cases.case(&case.id).await.expect("read").expect("case");
        let slot = stored.slot(DocumentKind::GovernmentId).expect("slot");
        assert_eq!(slot.status, DocumentStatus::Refused);
        assert_eq!(slot.check_failure, Some(CheckFailure::TypeMismatch));
    }

    #[tokio::test]
    async fn a_size_other_than_declared_is_refused() {
        let v = verification("2026-11-26T15:00:00Z");
        opened(&v).await;
        let (pending, _) = v
            .request_upload(
                &Author::Player,
                &player(),
                DocumentKind::ProofOfAddress,
                ContentType::Pdf,
                10,
            )
            .await
            .expect("url issued");
        v.storage.put(&pending.key, PDF);
        assert_eq!(
            v.check_object(&pending.key).await.expect("checked"),
            CheckOutcome::Refused {
                failure: CheckFailure::SizeMismatch
            }
        );
    }

    #[tokio::test]
    async fn objects_nobody_asked_for_are_quarantined() {
        let v = verification("2026-11-26T15:00:00Z");
        v.storage
            .put("verification/p-2/VC-X/government_id/evil.exe", b"MZ");
        assert_eq!(
            v.check_object("verification/p-2/VC-X/government_id/evil.exe")
                .await
                .expect("checked"),
            CheckOutcome::Refused {
                failure: CheckFailure::UnknownUpload
            }
        );
        assert_eq!(
            v.storage.keys(),
            ["quarantine/verification/p-2/VC-X/government_id/evil.exe"]
        );
    }

    #[tokio::test]
    async fn one_open_case_per_player_and_uploads_only_for_it() {
        let v = verification("2026-11-26T15:00:00Z");
        opened(&v).await;
        assert!(matches!(
            v.open_case(
                &Author::System,
                player(),
                CaseReason::SecurityReview,
                &[],
                Language::En
            )
            .await,
            Err(KycError::PlayerHasOpenCase)
        ));
        assert!(matches!(
            v.request_upload(
                &Author::Player,
                &player(),
                DocumentKind::PaymentMethodOwnership,
                ContentType::Pdf,
                100
            )
            .await,
            Err(KycError::Case(CaseError::NotRequired(_)))
        ));
        let stranger = PlayerId::parse("p-9").expect("id");
        assert!(matches!(
            v.request_upload(
                &Author::Player,
                &stranger,
                DocumentKind::GovernmentId,
                ContentType::Pdf,
                100
            )
            .await,
            Err(KycError::NoOpenCase)
        ));
    }

    #[tokio::test]
    async fn a_decision_on_a_stale_version_is_refused_and_the_gate_follows_approval() {
        let v = verification("2026-11-26T15:00:00Z");
        let case = opened(&v).await;
        let id = upload(&v, DocumentKind::GovernmentId, ContentType::Png, PNG).await;
        let address = upload(&v, DocumentKind::ProofOfAddress, ContentType::Pdf, PDF).await;
        v.check_object(&id.key).await.expect("checked");
        v.check_object(&address.key).await.expect("checked");
        let gate = v
            .eligibility(&player(), GatedAction::Withdrawal)
            .await
            .expect("gate");
        assert!(!gate.allowed);
        let reviewer = Author::Staff {
            id: "reviewer-1".into(),
        };
        let current = v.cases.case(&case.id).await.expect("read").expect("case");
        v.view_document(&reviewer, &case.id, DocumentKind::GovernmentId, None)
            .await
            .expect("viewed");
        // Viewing a document is audited but does not invalidate what the reviewer read.
        v.decide(
            &reviewer,
            false,
            &case.id,
            current.version,
            None,
            &Decision::Approve,
            None,
            Some("ok".into()),
        )
        .await
        .expect("approved");
        // The same decision again, on the version read before it, is refused.
        assert!(matches!(
            v.decide(
                &reviewer,
                false,
                &case.id,
                current.version,
                None,
                &Decision::Approve,
                None,
                None
            )
            .await,
            Err(KycError::Stale)
        ));
        let gate = v
            .eligibility(&player(), GatedAction::Withdrawal)
            .await
            .expect("gate");
        assert!(gate.allowed);
    }
}

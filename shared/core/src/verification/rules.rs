//! Identity verification (KYC): the case, the documents it requires, the review decisions and
//! the eligibility gate. Plain rules: the store makes each transition conditional on the
//! version it was computed from, so two reviewers or a retry can never skip or repeat a step.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::common::player::{Author, Language, PlayerId};
use crate::documents::rules::{CheckFailure, ContentType, UploadId};

vocabulary!(
    /// Why a case was opened; decides the documents it requires.
    CaseReason {
        FirstWithdrawal => "first_withdrawal",
        PaymentMethodChange => "payment_method_change",
        SecurityReview => "security_review",
        StaffRequest => "staff_request",
    }
);

vocabulary!(
    DocumentKind {
        GovernmentId => "government_id",
        ProofOfAddress => "proof_of_address",
        PaymentMethodOwnership => "payment_method_ownership",
    }
);

vocabulary!(
    CaseStatus {
        AwaitingDocuments => "awaiting_documents",
        InReview => "in_review",
        Approved => "approved",
        Rejected => "rejected",
    }
);

vocabulary!(
    /// Where one required document stands.
    DocumentStatus {
        Missing => "missing",
        /// Arrived and passed the automated checks; waits for a reviewer.
        Received => "received",
        /// The automated check refused what arrived (wrong bytes, wrong size).
        Refused => "refused",
        ResubmissionRequested => "resubmission_requested",
        Accepted => "accepted",
    }
);

vocabulary!(
    /// Why a reviewer asks for a document again (or rejects a case).
    ReasonCode {
        Unreadable => "unreadable",
        Expired => "expired",
        NameMismatch => "name_mismatch",
        AddressTooOld => "address_too_old",
        WrongDocumentType => "wrong_document_type",
        Incomplete => "incomplete",
        SuspectedTampering => "suspected_tampering",
    }
);

vocabulary!(
    /// Actions the casino's other systems ask the gate about.
    GatedAction {
        Withdrawal => "withdrawal",
        PaymentMethodChange => "payment_method_change",
        BonusRedemption => "bonus_redemption",
        AccountChange => "account_change",
    }
);

impl CaseReason {
    /// Documents each reason requires. A staff request names its own (see `open`).
    pub fn required_documents(self) -> &'static [DocumentKind] {
        match self {
            CaseReason::FirstWithdrawal | CaseReason::SecurityReview | CaseReason::StaffRequest => {
                &[DocumentKind::GovernmentId, DocumentKind::ProofOfAddress]
            }
            CaseReason::PaymentMethodChange => &[
                DocumentKind::GovernmentId,
                DocumentKind::PaymentMethodOwnership,
            ],
        }
    }
}

prefixed_id!(
    /// A case identifier: `VC-` and twelve random symbols; not guessable, not sequential.
    CaseId,
    "VC-",
    12,
    "a case id looks like VC-7K2M9Q4XW3BD"
);

/// The S3 key of a verification document: under the player's own prefix, named by the
/// server, never by the client.
pub fn document_key(
    player: &PlayerId,
    case: &CaseId,
    kind: DocumentKind,
    upload: &UploadId,
) -> String {
    format!(
        "verification/{}/{}/{}/{}",
        player.as_str(),
        case.as_str(),
        kind.as_str(),
        upload.as_str()
    )
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredDocument {
    pub upload: UploadId,
    pub key: String,
    pub content_type: ContentType,
    pub size: u64,
    pub received_at: Timestamp,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentSlot {
    pub kind: DocumentKind,
    pub status: DocumentStatus,
    /// How many times a reviewer asked for this document again.
    pub resubmissions: u8,
    /// Reviewer reason codes (resubmission) or the check's failure, for the player to read.
    pub reasons: Vec<ReasonCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check_failure: Option<CheckFailure>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<StoredDocument>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerificationCase {
    pub id: CaseId,
    pub player: PlayerId,
    pub reason: CaseReason,
    pub status: CaseStatus,
    pub language: Language,
    pub documents: Vec<DocumentSlot>,
    pub opened_at: Timestamp,
    pub updated_at: Timestamp,
    /// When the last required document arrived: the review queue's arrival order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submitted_at: Option<Timestamp>,
    /// Past the resubmission cap the case needs a senior reviewer.
    pub needs_senior: bool,
    /// What the player reads about the last decision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub player_message: Option<String>,
    /// Changes with every state transition (a document in, a decision): a reviewer decides
    /// on the version they read, and a decision on an older one is refused.
    pub version: u64,
    /// Changes with every write, views and issued URLs included: what the store's
    /// conditional write checks, so no two writers ever overwrite each other.
    #[serde(default)]
    pub etag: u64,
}

/// One line of the audit trail: who did what, when, and why. Written with the transition it
/// records, in the same transaction; no route edits it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub at: Timestamp,
    pub actor: Author,
    pub action: AuditAction,
    /// Staff-only context (a reviewer's internal note); never shown to the player.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internal_note: Option<String>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum AuditAction {
    Opened {
        reason: CaseReason,
    },
    UploadUrlIssued {
        kind: DocumentKind,
        upload: UploadId,
        on_behalf_of_player: bool,
    },
    DocumentReceived {
        kind: DocumentKind,
        upload: UploadId,
    },
    DocumentRefused {
        kind: DocumentKind,
        upload: UploadId,
        failure: CheckFailure,
    },
    SubmittedForReview,
    DocumentViewed {
        kind: DocumentKind,
    },
    Approved,
    Rejected {
        reasons: Vec<ReasonCode>,
    },
    ResubmissionRequested {
        documents: Vec<(DocumentKind, Vec<ReasonCode>)>,
    },
    SentToSeniorReview {
        kind: DocumentKind,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Reject {
        reasons: Vec<ReasonCode>,
    },
    RequestResubmission {
        documents: Vec<(DocumentKind, Vec<ReasonCode>)>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CaseError {
    #[error("the case is {actual}, and this step needs it {expected}", actual = .actual.as_str(), expected = .expected.as_str())]
    WrongState {
        expected: CaseStatus,
        actual: CaseStatus,
    },
    #[error("this case does not require a {}", .0.as_str())]
    NotRequired(DocumentKind),
    #[error("the {} is already {}", .0.as_str(), .1.as_str())]
    DocumentNotExpected(DocumentKind, DocumentStatus),
    #[error("this case was sent to a senior reviewer")]
    SeniorRequired,
    #[error("a resubmission request must name at least one document, each with a reason")]
    EmptyResubmission,
}

impl VerificationCase {
    pub fn open(
        id: CaseId,
        player: PlayerId,
        reason: CaseReason,
        extra: &[DocumentKind],
        language: Language,
        now: Timestamp,
    ) -> Self {
        let mut kinds: Vec<DocumentKind> = reason.required_documents().to_vec();
        for kind in extra {
            if !kinds.contains(kind) {
                kinds.push(*kind);
            }
        }
        Self {
            id,
            player,
            reason,
            status: CaseStatus::AwaitingDocuments,
            language,
            documents: kinds
                .into_iter()
                .map(|kind| DocumentSlot {
                    kind,
                    status: DocumentStatus::Missing,
                    resubmissions: 0,
                    reasons: Vec::new(),
                    check_failure: None,
                    current: None,
                })
                .collect(),
            opened_at: now,
            updated_at: now,
            submitted_at: None,
            needs_senior: false,
            player_message: None,
            version: 1,
            etag: 1,
        }
    }

    pub fn is_open(&self) -> bool {
        matches!(
            self.status,
            CaseStatus::AwaitingDocuments | CaseStatus::InReview
        )
    }

    /// A withdrawal waits on this case: it goes first in the review queue.
    pub fn blocks_withdrawal(&self) -> bool {
        self.reason == CaseReason::FirstWithdrawal
    }

    pub fn slot(&self, kind: DocumentKind) -> Option<&DocumentSlot> {
        self.documents.iter().find(|d| d.kind == kind)
    }

    fn slot_mut(&mut self, kind: DocumentKind) -> Result<&mut DocumentSlot, CaseError> {
        self.documents
            .iter_mut()
            .find(|d| d.kind == kind)
            .ok_or(CaseError::NotRequired(kind))
    }

    fn expect(&self, expected: CaseStatus) -> Result<(), CaseError> {
        if self.status == expected {
            Ok(())
        } else {
            Err(CaseError::WrongState {
                expected,
                actual: self.status,
            })
        }
    }

    /// May a (new) file be uploaded for this document now? Only while documents are awaited,
    /// and not for one already accepted by a reviewer.
    pub fn check_upload_allowed(&self, kind: DocumentKind) -> Result<(), CaseError> {
        self.expect(CaseStatus::AwaitingDocuments)?;
        let slot = self.slot(kind).ok_or(CaseError::NotRequired(kind))?;
        match slot.status {
            DocumentStatus::Accepted => Err(CaseError::DocumentNotExpected(kind, slot.status)),
            _ => Ok(()),
        }
    }

    /// Records that something happened to the case without changing its state (an upload
    /// URL issued, a document viewed): a new etag, so the audit line's write is conditional
    /// too, but the same version, so a reviewer's decision stays valid.
    pub fn touch(&mut self, now: Timestamp) {
        self.updated_at = now;
        self.etag += 1;
    }

    fn transition(&mut self, now: Timestamp) {
        self.touch(now);
        self.version += 1;
    }

    /// A checked file arrived. When it completes the set, the case goes to review.
    pub fn receive(
        &mut self,
        kind: DocumentKind,
        document: StoredDocument,
        now: Timestamp,
    ) -> Result<bool, CaseError> {
        self.check_upload_allowed(kind)?;
        let slot = self.slot_mut(kind)?;
        slot.status = DocumentStatus::Received;
        slot.check_failure = None;
        slot.current = Some(document);
        self.transition(now);
        let complete = self.documents.iter().all(|d| {
            matches!(
                d.status,
                DocumentStatus::Received | DocumentStatus::Accepted
            )
        });
        if complete {
            self.status = CaseStatus::InReview;
            self.submitted_at = Some(now);
        }
        Ok(complete)
    }

    /// The automated check refused what arrived; the player is told why and may upload again.
    pub fn refuse(
        &mut self,
        kind: DocumentKind,
        failure: CheckFailure,
        now: Timestamp,
    ) -> Result<(), CaseError> {
        self.check_upload_allowed(kind)?;
        let slot = self.slot_mut(kind)?;
        if slot.status != DocumentStatus::Received {
            slot.status = DocumentStatus::Refused;
        }
        slot.check_failure = Some(failure);
        self.transition(now);
        Ok(())
    }

    /// A reviewer's decision. Past `max_resubmissions` for a document, a resubmission request
    /// sends the case to a senior reviewer instead; only a senior may then decide.
    pub fn decide(
        &mut self,
        decision: &Decision,
        senior: bool,
        max_resubmissions: u8,
        player_message: Option<String>,
        now: Timestamp,
    ) -> Result<AuditAction, CaseError> {
        self.expect(CaseStatus::InReview)?;
        if self.needs_senior && !senior {
            return Err(CaseError::SeniorRequired);
        }
        let action = match decision {
            Decision::Approve => {
                for slot in &mut self.documents {
                    slot.status = DocumentStatus::Accepted;
                    slot.reasons.clear();
                }
                self.status = CaseStatus::Approved;
                AuditAction::Approved
            }
            Decision::Reject { reasons } => {
                self.status = CaseStatus::Rejected;
                AuditAction::Rejected {
                    reasons: reasons.clone(),
                }
            }
            Decision::RequestResubmission { documents } => {
                if documents.is_empty() || documents.iter().any(|(_, r)| r.is_empty()) {
                    return Err(CaseError::EmptyResubmission);
                }
                for (kind, _) in documents {
                    self.slot(*kind).ok_or(CaseError::NotRequired(*kind))?;
                }
                if !senior {
                    if let Some((kind, _)) = documents.iter().find(|(kind, _)| {
                        self.slot(*kind)
                            .is_some_and(|s| s.resubmissions >= max_resubmissions)
                    }) {
                        self.needs_senior = true;
                        self.transition(now);
                        return Ok(AuditAction::SentToSeniorReview { kind: *kind });
                    }
                }
                for slot in &mut self.documents {
                    match documents.iter().find(|(kind, _)| *kind == slot.kind) {
                        Some((_, reasons)) => {
                            slot.status = DocumentStatus::ResubmissionRequested;
                            slot.resubmissions = slot.resubmissions.saturating_add(1);
                            slot.reasons = reasons.clone();
                            slot.current = None;
                        }
                        None => slot.status = DocumentStatus::Accepted,
                    }
                }
                self.status = CaseStatus::AwaitingDocuments;
                self.submitted_at = None;
                self.needs_senior = false;
                AuditAction::ResubmissionRequested {
                    documents: documents.clone(),
                }
            }
        };
        self.player_message = player_message;
        self.transition(now);
        Ok(action)
    }
}

/// What the gate answers.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Eligibility {
    pub action: GatedAction,
    pub allowed: bool,
    pub reason: EligibilityReason,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub case: Option<CaseId>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EligibilityReason {
    Verified,
    VerificationInProgress,
    VerificationRejected,
    VerificationRequired,
}

/// The one place that decides whether a money-moving or sensitive action may proceed: every
/// gated action needs an approved case and no case still open (a security review reopened
/// after approval blocks again until it is decided).
pub fn eligibility(action: GatedAction, cases: &[VerificationCase]) -> Eligibility {
    let answer = |allowed, reason, case: Option<&VerificationCase>| Eligibility {
        action,
        allowed,
        reason,
        case: case.map(|c| c.id.clone()),
    };
    if let Some(open) = cases
        .iter()
        .filter(|c| c.is_open())
        .max_by_key(|c| c.opened_at)
    {
        return answer(false, EligibilityReason::VerificationInProgress, Some(open));
    }
    let latest = cases.iter().max_by_key(|c| c.updated_at);
    if cases.iter().any(|c| c.status == CaseStatus::Approved) {
        return answer(true, EligibilityReason::Verified, None);
    }
    match latest {
        Some(c) if c.status == CaseStatus::Rejected => {
            answer(false, EligibilityReason::VerificationRejected, Some(c))
        }
        _ => answer(false, EligibilityReason::VerificationRequired, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::documents::rules::upload_id_of_key;

    #[test]
    fn case_and_upload_ids_read_from_json_go_through_their_parse() {
        let case = CaseId::generate().expect("random source");
        let json = serde_json::to_string(&case).expect("serialises");
        assert_eq!(
            serde_json::from_str::<CaseId>(&json).expect("round trip"),
            case
        );
        let upload = UploadId::generate().expect("random source");
        let json = serde_json::to_string(&upload).expect("serialises");
        assert_eq!(
            serde_json::from_str::<UploadId>(&json).expect("round trip"),
            upload
        );
        for bad in ["\"VC-123\"", "\"UP-1\"", "\"\"", "\"VC-0000000000OO\""] {
            assert!(serde_json::from_str::<CaseId>(bad).is_err(), "case {bad}");
            assert!(
                serde_json::from_str::<UploadId>(bad).is_err(),
                "upload {bad}"
            );
        }
    }

    fn at(text: &str) -> Timestamp {
        text.parse().expect("valid timestamp")
    }

    fn new_case(reason: CaseReason) -> VerificationCase {
        VerificationCase::open(
            CaseId::generate().expect("random"),
            PlayerId::parse("p-1").expect("id"),
            reason,
            &[],
            Language::Fr,
            at("2026-11-26T15:00:00Z"),
        )
    }

    fn document(kind: DocumentKind) -> StoredDocument {
        StoredDocument {
            upload: UploadId::generate().expect("random"),
            key: format!("verification/p-1/x/{}/u", kind.as_str()),
            content_type: ContentType::Pdf,
            size: 1000,
            received_at: at("2026-11-26T16:00:00Z"),
        }
    }

    fn in_review(reason: CaseReason) -> VerificationCase {
        let mut case = new_case(reason);
        let kinds: Vec<DocumentKind> = case.documents.iter().map(|d| d.kind).collect();
        for kind in kinds {
            case.receive(kind, document(kind), at("2026-11-26T16:00:00Z"))
                .expect("accepted upload");
        }
        assert_eq!(case.status, CaseStatus::InReview);
        case
    }

    #[test]
    fn the_reason_decides_the_documents() {
        let case = new_case(CaseReason::PaymentMethodChange);
        let kinds: Vec<DocumentKind> = case.documents.iter().map(|d| d.kind).collect();
        assert_eq!(
            kinds,
            [
                DocumentKind::GovernmentId,
                DocumentKind::PaymentMethodOwnership
            ]
        );
        let staff = VerificationCase::open(
            CaseId::generate().expect("random"),
            PlayerId::parse("p-1").expect("id"),
            CaseReason::StaffRequest,
            &[
                DocumentKind::PaymentMethodOwnership,
                DocumentKind::GovernmentId,
            ],
            Language::En,
            at("2026-11-26T15:00:00Z"),
        );
        assert_eq!(staff.documents.len(), 3);
    }

    #[test]
    fn the_last_required_document_sends_the_case_to_review() {
        let mut case = new_case(CaseReason::FirstWithdrawal);
        let done = case
            .receive(
                DocumentKind::GovernmentId,
                document(DocumentKind::GovernmentId),
                at("2026-11-26T16:00:00Z"),
            )
            .expect("ok");
        assert!(!done);
        assert_eq!(case.status, CaseStatus::AwaitingDocuments);
        let done = case
            .receive(
                DocumentKind::ProofOfAddress,
                document(DocumentKind::ProofOfAddress),
                at("2026-11-26T17:00:00Z"),
            )
            .expect("ok");
        assert!(done);
        assert_eq!(case.submitted_at, Some(at("2026-11-26T17:00:00Z")));
        assert_eq!(case.version, 3);
    }

    #[test]
    fn documents_the_case_does_not_need_are_refused() {
        let case = new_case(CaseReason::FirstWithdrawal);
        assert_eq!(
            case.check_upload_allowed(DocumentKind::PaymentMethodOwnership),
            Err(CaseError::NotRequired(DocumentKind::PaymentMethodOwnership))
        );
        let reviewing = in_review(CaseReason::FirstWithdrawal);
        assert!(matches!(
            reviewing.check_upload_allowed(DocumentKind::GovernmentId),
            Err(CaseError::WrongState { .. })
        ));
    }

    #[test]
    fn a_decision_needs_a_case_in_review_and_happens_once() {
        let mut case = in_review(CaseReason::FirstWithdrawal);
        let now = at("2026-11-27T10:00:00Z");
        assert_eq!(
            case.decide(&Decision::Approve, false, 2, None, now),
            Ok(AuditAction::Approved)
        );
        assert_eq!(case.status, CaseStatus::Approved);
        assert!(matches!(
            case.decide(&Decision::Approve, false, 2, None, now),
            Err(CaseError::WrongState { .. })
        ));
    }

    #[test]
    fn resubmission_reopens_only_the_named_documents() {
        let mut case = in_review(CaseReason::FirstWithdrawal);
        let decision = Decision::RequestResubmission {
            documents: vec![(
                DocumentKind::ProofOfAddress,
                vec![ReasonCode::AddressTooOld],
            )],
        };
        case.decide(
            &decision,
            false,
            2,
            Some("Relevé trop ancien".into()),
            at("2026-11-27T10:00:00Z"),
        )
        .expect("decided");
        assert_eq!(case.status, CaseStatus::AwaitingDocuments);
        let address = case.slot(DocumentKind::ProofOfAddress).expect("slot");
        assert_eq!(address.status, DocumentStatus::ResubmissionRequested);
        assert_eq!(address.reasons, [ReasonCode::AddressTooOld]);
        assert_eq!(address.resubmissions, 1);
        let id = case.slot(DocumentKind::GovernmentId).expect("slot");
        assert_eq!(id.status, DocumentStatus::Accepted);
        assert!(case
            .check_upload_allowed(DocumentKind::GovernmentId)
            .is_err());
        assert!(case
            .check_upload_allowed(DocumentKind::ProofOfAddress)
            .is_ok());
        // The new proof alone completes the set again.
        assert!(case
            .receive(
                DocumentKind::ProofOfAddress,
                document(DocumentKind::ProofOfAddress),
                at("2026-11-28T10:00:00Z")
            )
            .expect("ok"));
    }

    #[test]
    fn past_the_cap_a_senior_reviewer_decides() {
        let mut case = in_review(CaseReason::FirstWithdrawal);
        let again = Decision::RequestResubmission {
            documents: vec![(DocumentKind::GovernmentId, vec![ReasonCode::Unreadable])],
        };
        let now = at("2026-11-27T10:00:00Z");
        case.decide(&again, false, 1, None, now)
            .expect("first request");
        case.receive(
            DocumentKind::GovernmentId,
            document(DocumentKind::GovernmentId),
            now,
        )
        .expect("re-uploaded");
        assert_eq!(
            case.decide(&again, false, 1, None, now),
            Ok(AuditAction::SentToSeniorReview {
                kind: DocumentKind::GovernmentId
            })
        );
        assert!(case.needs_senior);
        assert_eq!(case.status, CaseStatus::InReview);
        assert_eq!(
            case.decide(&Decision::Approve, false, 1, None, now),
            Err(CaseError::SeniorRequired)
        );
        assert_eq!(
            case.decide(&Decision::Approve, true, 1, None, now),
            Ok(AuditAction::Approved)
        );
    }

    #[test]
    fn an_empty_resubmission_is_refused() {
        let mut case = in_review(CaseReason::FirstWithdrawal);
        let now = at("2026-11-27T10:00:00Z");
        let empty = Decision::RequestResubmission { documents: vec![] };
        assert_eq!(
            case.decide(&empty, false, 2, None, now),
            Err(CaseError::EmptyResubmission)
        );
        let no_reason = Decision::RequestResubmission {
            documents: vec![(DocumentKind::GovernmentId, vec![])],
        };
        assert_eq!(
            case.decide(&no_reason, false, 2, None, now),
            Err(CaseError::EmptyResubmission)
        );
    }

    #[test]
    fn the_gate_needs_an_approved_case_and_none_open() {
        assert_eq!(
            eligibility(GatedAction::Withdrawal, &[]).reason,
            EligibilityReason::VerificationRequired
        );
        let open = new_case(CaseReason::FirstWithdrawal);
        let gate = eligibility(GatedAction::Withdrawal, std::slice::from_ref(&open));
        assert!(!gate.allowed);
        assert_eq!(gate.case, Some(open.id.clone()));

        let mut approved = in_review(CaseReason::FirstWithdrawal);
        approved
            .decide(
                &Decision::Approve,
                false,
                2,
                None,
                at("2026-11-27T10:00:00Z"),
            )
            .expect("approved");
        let gate = eligibility(
            GatedAction::BonusRedemption,
            std::slice::from_ref(&approved),
        );
        assert!(gate.allowed);
        assert_eq!(gate.reason, EligibilityReason::Verified);

        let review = new_case(CaseReason::SecurityReview);
        let gate = eligibility(GatedAction::AccountChange, &[approved, review]);
        assert!(!gate.allowed, "an open security review blocks again");

        let mut rejected = in_review(CaseReason::FirstWithdrawal);
        rejected
            .decide(
                &Decision::Reject {
                    reasons: vec![ReasonCode::SuspectedTampering],
                },
                false,
                2,
                None,
                at("2026-11-27T10:00:00Z"),
            )
            .expect("rejected");
        assert_eq!(
            eligibility(GatedAction::Withdrawal, &[rejected]).reason,
            EligibilityReason::VerificationRejected
        );
    }

    #[test]
    fn ids_and_keys_have_a_checked_shape() {
        let case = CaseId::generate().expect("random");
        assert_eq!(
            CaseId::parse(&case.as_str().to_lowercase()),
            Some(case.clone())
        );
        assert_eq!(CaseId::parse("VC-123"), None);
        let upload = UploadId::generate().expect("random");
        let player = PlayerId::parse("p-1").expect("id");
        let key = document_key(&player, &case, DocumentKind::GovernmentId, &upload);
        assert!(key.starts_with("verification/p-1/VC-"));
        assert_eq!(upload_id_of_key(&key), Some(upload));
        assert_eq!(upload_id_of_key("verification/p-1/other"), None);
    }
}

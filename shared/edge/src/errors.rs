//! Every domain error mapped to an HTTP status, here and only here. A use case returns its
//! area's error; a handler's `?` turns it into an [`ApiError`], whose internals never reach a
//! response body (an internal failure is logged with its cause and answered `500 internal`).

use guichet_core::attachments::rules::MAX_ATTACHMENT_BYTES;
use guichet_core::attachments::service::AttachmentError;
use guichet_core::common::access::{Forbidden, Role};
use guichet_core::common::store::StoreError;

use guichet_core::common::validation::{Rule, ValidationError};
use guichet_core::incidents::rules::IncidentRuleError;
use guichet_core::incidents::service::IncidentError;
use guichet_core::tickets::desk::IntakeError;
use guichet_core::tickets::staff::StaffError;
use guichet_core::tickets::workflow::WorkflowError;
use guichet_core::verification::service::KycError;

use crate::http::ApiError;

impl From<guichet_core::handoffs::desk::HandoffError> for ApiError {
    fn from(e: guichet_core::handoffs::desk::HandoffError) -> Self {
        use guichet_core::handoffs::desk::HandoffError;
        match e {
            HandoffError::Invalid(invalid) => invalid.into(),
            HandoffError::Intake(intake) => intake.into(),
            HandoffError::Answer(answer) => answer.into(),
            HandoffError::Store(store) => store.into(),
        }
    }
}

impl From<guichet_core::tickets::lookup::LookupError> for ApiError {
    fn from(e: guichet_core::tickets::lookup::LookupError) -> Self {
        use guichet_core::tickets::lookup::LookupError;
        match e {
            LookupError::Forbidden(forbidden) => forbidden.into(),
            LookupError::Store(store) => store.into(),
        }
    }
}

impl From<guichet_core::mail::held::HeldError> for ApiError {
    fn from(e: guichet_core::mail::held::HeldError) -> Self {
        use guichet_core::mail::held::HeldError;
        match e {
            HeldError::Forbidden(forbidden) => forbidden.into(),
            HeldError::Store(store) => store.into(),
        }
    }
}

impl From<guichet_core::promises::report::ReportError> for ApiError {
    fn from(e: guichet_core::promises::report::ReportError) -> Self {
        use guichet_core::promises::report::ReportError;
        match e {
            ReportError::Forbidden(forbidden) => forbidden.into(),
            ReportError::Store(store) => store.into(),
        }
    }
}

impl From<Forbidden> for ApiError {
    fn from(e: Forbidden) -> Self {
        ApiError::Forbidden {
            required: e.required,
        }
    }
}

impl From<ValidationError> for ApiError {
    fn from(e: ValidationError) -> Self {
        ApiError::Invalid(e)
    }
}

/// The one mapping of identity-verification outcomes to statuses, shared by every KYC route.
///
/// - 409 `conflict` when the request is valid but the case's state refuses it: the player
///   already has an open case, has none waiting for documents, the case is not in the state the
///   step needs (e.g. a second decision), the document is not expected now, or the case changed
///   since the caller read it (`stale`: read it again and decide on the new version).
/// - 403 when the case was sent to a senior reviewer and the caller is not one: it is the
///   caller's role that is missing, not the case's state that is wrong, and another reviewer with
///   the role may proceed.
/// - 400 naming the field for a document kind the case does not require.
/// - 404 for an unknown case. Internal failures are 500, their cause logged, never returned.
impl From<KycError> for ApiError {
    fn from(e: KycError) -> Self {
        use guichet_core::verification::rules::CaseError;
        use KycError;
        let conflict =
            |reason: &'static str, message: String| ApiError::Conflict { reason, message };
        match e {
            KycError::PlayerHasOpenCase => conflict("player_has_open_case", e.to_string()),
            KycError::NoOpenCase => conflict("no_open_case", e.to_string()),
            KycError::Stale => conflict("stale", e.to_string()),
            KycError::CaseNotFound => ApiError::NotFound,
            KycError::Case(case) => match case {
                CaseError::WrongState { .. } => conflict("wrong_state", case.to_string()),
                CaseError::DocumentNotExpected(..) => {
                    conflict("document_not_expected", case.to_string())
                }
                CaseError::SeniorRequired => ApiError::Forbidden {
                    required: Role::VerificationSenior,
                },
                CaseError::NotRequired(_) => ApiError::Invalid(ValidationError::new(
                    "kind",
                    Rule::NotAllowedHere {
                        reason: "the case does not require this document",
                    },
                )),
                CaseError::EmptyResubmission => {
                    ApiError::Invalid(ValidationError::new("documents", Rule::Required))
                }
            },
            KycError::Store(store) => store.into(),
            KycError::Random(_) | KycError::Notify(_) => ApiError::Internal(Box::new(e)),
        }
    }
}

/// 503 `busy` with `Retry-After` when the store is unavailable for now (a timeout,
/// throttling: the same request may succeed in a moment); 500 otherwise. Every area's store
/// failure goes through this one mapping.
impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(_) => ApiError::Unavailable(Box::new(e)),
            StoreError::Backend(_) | StoreError::Corrupt { .. } => ApiError::Internal(Box::new(e)),
        }
    }
}

/// Intake: 422 for a reused Idempotency-Key, 503 `busy` when concurrent writes kept
/// conflicting or the store is unavailable (retry with the same key), 500 otherwise.
impl From<IntakeError> for ApiError {
    fn from(e: IntakeError) -> Self {
        match e {
            IntakeError::KeyReused => ApiError::IdempotencyKeyReused,
            IntakeError::Contended => ApiError::Busy,
            IntakeError::Store(store) => store.into(),
            IntakeError::Random(_) | IntakeError::Notify(_) | IntakeError::Workflow(_) => {
                ApiError::Internal(Box::new(e))
            }
        }
    }
}

/// - 404 for an unknown ticket; 403 `required_team` for staff of another team;
/// - 409 `conflict` with reason `stale` when the ticket changed since the version the agent
///   sent (or a concurrent update won), `wrong_state` when the ticket's status refuses the
///   action; internal failures are 500.
impl From<StaffError> for ApiError {
    fn from(e: StaffError) -> Self {
        match e {
            StaffError::NotFound => ApiError::NotFound,
            StaffError::OtherTeam(team) => ApiError::OtherTeam { team },
            StaffError::Workflow(WorkflowError::Invalid(invalid)) => ApiError::Invalid(invalid),
            StaffError::Workflow(w) => {
                let reason = match w {
                    WorkflowError::Stale { .. } => "stale",
                    WorkflowError::WrongState { .. }
                    | WorkflowError::NotWorkable { .. }
                    | WorkflowError::Invalid(_) => "wrong_state",
                };
                ApiError::Conflict {
                    reason,
                    message: w.to_string(),
                }
            }
            StaffError::Store(store) => store.into(),
            StaffError::Notify(notify) => ApiError::Internal(Box::new(notify)),
            StaffError::Random(random) => ApiError::Internal(Box::new(random)),
        }
    }
}

/// Merging a duplicate (`POST /tickets/{reference}/merge` `{into}`):
/// - 400 naming `into` for the ticket itself (`other_ticket`) or a closed one (`not_closed`);
/// - 404 for an unknown ticket, whichever of the two; 403 `required_team` for staff of another
///   team (either ticket's);
/// - 409 `conflict` naming `into`: `other_player` when the two are different players' tickets,
///   `already_merged` when the duplicate went into another ticket; `wrong_state` for a closed
///   duplicate, `stale` when the tickets kept changing (send it again: it is idempotent);
/// - 422 for an `Idempotency-Key` already bound to another request; internal failures are 500.
impl From<guichet_core::tickets::merge::MergeError> for ApiError {
    fn from(e: guichet_core::tickets::merge::MergeError) -> Self {
        use guichet_core::tickets::merge::{MergeError, MergeRefusal, INTO_FIELD};
        let on_into = |reason: &'static str, message: String| ApiError::ConflictWith {
            field: INTO_FIELD,
            reason,
            message,
        };
        match e {
            MergeError::Staff(staff) => staff.into(),
            MergeError::IntoNotFound(_) => ApiError::NotFound,
            MergeError::Refused(refusal) => match refusal.as_invalid() {
                Some(invalid) => ApiError::Invalid(invalid),
                None => match refusal {
                    MergeRefusal::OtherPlayer => on_into("other_player", refusal.to_string()),
                    MergeRefusal::MergedElsewhere(_) => {
                        on_into("already_merged", refusal.to_string())
                    }
                    _ => ApiError::Conflict {
                        reason: "wrong_state",
                        message: refusal.to_string(),
                    },
                },
            },
            MergeError::KeyReused => ApiError::IdempotencyKeyReused,
            MergeError::Contended => ApiError::Conflict {
                reason: "stale",
                message: e.to_string(),
            },
        }
    }
}

/// The one mapping of attachment outcomes to statuses:
/// - 409 `conflict`, reason `attachment_limit`: the ticket has its maximum of attachments; the
///   request is valid but the ticket's state refuses it (as the verification routes' conflicts);
/// - 409 `conflict`, reason `stale`: concurrent writes kept conflicting; try again;
/// - 404 for an unknown ticket; 400 (`size`) for a size out of range; 500 otherwise.
impl From<AttachmentError> for ApiError {
    fn from(e: AttachmentError) -> Self {
        match e {
            AttachmentError::LimitReached { .. } => ApiError::Conflict {
                reason: "attachment_limit",
                message: e.to_string(),
            },
            AttachmentError::Contended => ApiError::Conflict {
                reason: "stale",
                message: e.to_string(),
            },
            AttachmentError::TicketNotFound => ApiError::NotFound,
            AttachmentError::TicketClosed => ApiError::Conflict {
                reason: "wrong_state",
                message: e.to_string(),
            },
            AttachmentError::Size => ApiError::Invalid(ValidationError::new(
                "size",
                Rule::Range {
                    min: 1,
                    max: MAX_ATTACHMENT_BYTES as i64,
                },
            )),
            AttachmentError::Store(store) => store.into(),
            AttachmentError::Random(_) => ApiError::Internal(Box::new(e)),
        }
    }
}

/// - 404 for an unknown incident or ticket, and for unlinking a ticket the incident does not
///   have (that link does not exist);
/// - 403 `required_team` for staff of another team (the incident's or the ticket's);
/// - 409 `conflict`: `stale` when the incident changed since the version sent, or tickets
///   kept changing (send the same request again: it is idempotent); `wrong_state` for a move
///   the incident's status refuses, a resolved incident, a resolved or closed ticket;
///   `linked_elsewhere` for a ticket already in another incident. Internal failures are 500.
impl From<IncidentError> for ApiError {
    fn from(e: IncidentError) -> Self {
        let conflict =
            |reason: &'static str, message: String| ApiError::Conflict { reason, message };
        match e {
            IncidentError::NotFound | IncidentError::TicketNotFound => ApiError::NotFound,
            IncidentError::OtherTeam(team) => ApiError::OtherTeam { team },
            IncidentError::Rule(rule) => match rule {
                IncidentRuleError::Stale { .. } => conflict("stale", rule.to_string()),
                IncidentRuleError::WrongState { .. }
                | IncidentRuleError::Resolved
                | IncidentRuleError::TicketNotLinkable(_) => {
                    conflict("wrong_state", rule.to_string())
                }
                IncidentRuleError::LinkedElsewhere => {
                    conflict("linked_elsewhere", rule.to_string())
                }
                IncidentRuleError::NotLinked => ApiError::NotFound,
            },
            IncidentError::Workflow(w) => match w {
                WorkflowError::Stale { .. } => conflict("stale", w.to_string()),
                _ => conflict("wrong_state", w.to_string()),
            },
            IncidentError::Contended => conflict("stale", e.to_string()),
            IncidentError::Store(store) => store.into(),
            IncidentError::Escalation(_)
            | IncidentError::Notify(_)
            | IncidentError::Random(_)
            | IncidentError::NoSuchUpdate(_)
            | IncidentError::FanOutMessage(_) => ApiError::Internal(Box::new(e)),
        }
    }
}

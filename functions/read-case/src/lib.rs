//! Reading verification cases, one function for three routes (dispatched on API Gateway's
//! `routeKey`):
//!
//! - `GET /verification/case` — a player reads their latest case: what is required, what was
//!   received, what must be sent again and why, in the case's language. Never internal notes,
//!   the audit trail, the senior flag, nor anyone else's case.
//! - `GET /verification/cases/{case_id}` — a reviewer reads a case and its audit trail.
//! - `GET /verification/reviews?queue=standard|senior&limit=` — a reviewer reads the cases in
//!   review, withdrawal-blocking first, then in arrival order; the senior queue needs the
//!   `verification_senior` role.

mod text;

use guichet_core::common::access::{Actor, Role};
use guichet_core::common::player::Language;
use guichet_core::common::validation::{Rule, ValidationError};
use guichet_core::documents::ports::DocumentStorage;
use guichet_core::documents::rules::CheckFailure;
use guichet_core::verification::ports::CaseStore;
use guichet_core::verification::rules::{
    AuditEntry, CaseId, CaseReason, CaseStatus, DocumentKind, DocumentStatus, Eligibility,
    ReasonCode, VerificationCase,
};
use guichet_core::verification::service::Verification;
use guichet_edge::http::{json_response, known_params, limit_param, path_param, ApiError};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Serialize;
use tracing::{field::Empty, info_span};

pub const PLAYER_ROUTE: &str = "GET /verification/case";
pub const CASE_ROUTE: &str = "GET /verification/cases/{case_id}";
pub const QUEUE_ROUTE: &str = "GET /verification/reviews";

pub const DEFAULT_LIMIT: u16 = 20;
pub const MAX_LIMIT: u16 = 50;
const QUEUES: &[&str] = &["standard", "senior"];

pub async fn handle<C: CaseStore, D: DocumentStorage>(
    v: &Verification<C, D>,
    request: Request,
) -> Response<Body> {
    let routed = async {
        match guichet_edge::http::route_key(&request).as_deref() {
            Some(PLAYER_ROUTE) => player_case(v, &request).await,
            Some(CASE_ROUTE) => staff_case(v, &request).await,
            Some(QUEUE_ROUTE) => review_queue(v, &request).await,
            // Only reachable if the template routes another path here.
            _ => Err(ApiError::NotFound),
        }
    };
    guichet_edge::http::respond(
        &request,
        |id| info_span!("read_case", request_id = %id, case = Empty),
        routed,
    )
    .await
}

/// Reviewers of either level read cases; a senior reviewer is a reviewer.
fn require_reviewer(caller: &Actor) -> Result<(), ApiError> {
    if caller.has(Role::Verification) || caller.has(Role::VerificationSenior) {
        Ok(())
    } else {
        Err(ApiError::Forbidden {
            required: Role::Verification,
        })
    }
}

// ---- The player's view ------------------------------------------------------------------------

#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlayerCase<'a> {
    id: &'a str,
    reason: CaseReason,
    status: CaseStatus,
    status_text: &'static str,
    language: Language,
    opened_at: jiff::Timestamp,
    updated_at: jiff::Timestamp,
    documents: Vec<PlayerDocument>,
    /// What the reviewer wrote to the player about the last decision.
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
    /// What each gated action (withdrawal, bonus codes...) answers now: what stays blocked
    /// until the case is approved.
    gates: &'a [Eligibility],
}

#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlayerDocument {
    kind: DocumentKind,
    kind_text: &'static str,
    status: DocumentStatus,
    status_text: &'static str,
    /// The player has to upload this document (again) now.
    to_send: bool,
    /// Why it must be sent again: the reviewer's reasons.
    reasons: Vec<Coded<ReasonCode>>,
    /// Why the automated check refused what arrived.
    #[serde(skip_serializing_if = "Option::is_none")]
    check_failure: Option<Coded<CheckFailure>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    received_at: Option<jiff::Timestamp>,
}

#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Coded<T> {
    code: T,
    text: &'static str,
}

fn player_view<'a>(case: &'a VerificationCase, gates: &'a [Eligibility]) -> PlayerCase<'a> {
    let language = case.language;
    let awaiting = case.status == CaseStatus::AwaitingDocuments;
    PlayerCase {
        id: case.id.as_str(),
        reason: case.reason,
        status: case.status,
        status_text: text::case_status(case.status, language),
        language,
        opened_at: case.opened_at,
        updated_at: case.updated_at,
        documents: case
            .documents
            .iter()
            .map(|slot| PlayerDocument {
                kind: slot.kind,
                kind_text: text::document_kind(slot.kind, language),
                status: slot.status,
                status_text: text::document_status(slot.status, language),
                to_send: awaiting
                    && matches!(
                        slot.status,
                        DocumentStatus::Missing
                            | DocumentStatus::Refused
                            | DocumentStatus::ResubmissionRequested
                    ),
                reasons: slot
                    .reasons
                    .iter()
                    .map(|&code| Coded {
                        code,
                        text: text::reason(code, language),
                    })
                    .collect(),
                check_failure: slot.check_failure.map(|code| Coded {
                    code,
                    text: text::check_failure(code, language),
                }),
                received_at: slot.current.as_ref().map(|d| d.received_at),
            })
            .collect(),
        message: case.player_message.as_deref(),
        gates,
    }
}

async fn player_case<C: CaseStore, D: DocumentStorage>(
    v: &Verification<C, D>,
    request: &Request,
) -> Result<Response<Body>, ApiError> {
    let caller = guichet_edge::http::actor_of(request)?;
    caller.require(Role::Player)?;
    // The case comes from the token's subject only: there is no way to name another player.
    let standing = v
        .standing_of(&caller.subject)
        .await?
        .ok_or(ApiError::NotFound)?;
    tracing::Span::current().record("case", standing.latest.id.as_str());
    Ok(json_response(
        StatusCode::OK,
        &player_view(&standing.latest, &standing.gates),
    ))
}

// ---- The reviewers' views ---------------------------------------------------------------------

#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StaffCase<'a> {
    case: &'a VerificationCase,
    audit: &'a [AuditEntry],
    /// The case as read, to send back with a view or a decision (`state`), which then costs
    /// one round trip instead of a read and a write.
    #[serde(skip_serializing_if = "Option::is_none")]
    state: Option<String>,
}

async fn staff_case<C: CaseStore, D: DocumentStorage>(
    v: &Verification<C, D>,
    request: &Request,
) -> Result<Response<Body>, ApiError> {
    let caller = guichet_edge::http::actor_of(request)?;
    require_reviewer(&caller)?;
    let raw = path_param(request, "case_id").unwrap_or("");
    let id = CaseId::parse(raw).ok_or_else(|| ValidationError::new("case_id", Rule::CaseId))?;
    tracing::Span::current().record("case", id.as_str());
    let case = v.cases.case(&id).await?.ok_or(ApiError::NotFound)?;
    let audit = v.cases.audit_of(&id).await?;
    Ok(json_response(
        StatusCode::OK,
        &StaffCase {
            case: &case,
            audit: &audit,
            state: guichet_core::common::seen::token(&case),
        },
    ))
}

#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReviewQueue<'a> {
    queue: &'static str,
    cases: &'a [VerificationCase],
}

async fn review_queue<C: CaseStore, D: DocumentStorage>(
    v: &Verification<C, D>,
    request: &Request,
) -> Result<Response<Body>, ApiError> {
    let caller = guichet_edge::http::actor_of(request)?;
    require_reviewer(&caller)?;
    // Read by name, unknown names first, so the error does not depend on the order the client
    // wrote them in.
    known_params(request, &["queue", "limit"])?;
    let query = request.query_string_parameters();
    let senior = match query.first("queue") {
        None | Some("standard") => false,
        Some("senior") => true,
        Some(_) => {
            return Err(ValidationError::new("queue", Rule::OneOf { allowed: QUEUES }).into())
        }
    };
    let limit = match query.first("limit") {
        None => DEFAULT_LIMIT,
        Some(raw) => limit_param(raw, MAX_LIMIT)?,
    };
    if senior {
        caller.require(Role::VerificationSenior)?;
    }
    let cases = v.cases.review_queue(senior, limit).await?;
    Ok(json_response(
        StatusCode::OK,
        &ReviewQueue {
            queue: if senior { "senior" } else { "standard" },
            cases: &cases,
        },
    ))
}

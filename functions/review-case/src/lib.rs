//! The verification team's actions on a case, one function for two routes (dispatched on API
//! Gateway's `routeKey`):
//!
//! - `POST /verification/cases/{case_id}/documents/{kind}/view` — a short-lived presigned GET
//!   for one document; the view is written to the audit trail before the URL is made. Its body
//!   is optional: `{state}` only.
//! - `POST /verification/cases/{case_id}/decision` — approve, reject or request resubmission,
//!   on the version of the case the reviewer read: a case that changed since (another reviewer,
//!   a new document, a retry of this very decision) is refused as a conflict, never decided
//!   twice. Past the resubmission cap the case goes to a senior reviewer, and only a caller
//!   with `verification_senior` may then decide.
//!
//! Both may send `state`, the token of the staff view of the case they act on (the case's
//! `GET` and both answers carry one): the action is then one DynamoDB round trip, its write,
//! conditioned on the stored case being that one (`guichet_core::common::seen`).

use guichet_core::common::access::Role;
use guichet_core::common::player::Author;
use guichet_core::common::seen::{self, Seen};
use guichet_core::common::validation::{Fields, Rule, ValidationError};
use guichet_core::documents::ports::{DocumentStorage, Presigned};
use guichet_core::verification::ports::CaseStore;
use guichet_core::verification::rules::{
    CaseError, CaseId, Decision, DocumentKind, ReasonCode, VerificationCase,
};
use guichet_core::verification::service::{KycError, Verification};
use guichet_edge::http::{json_body, json_response, optional_json_body, path_param, ApiError};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use tracing::{field::Empty, info_span};

pub const VIEW_ROUTE: &str = "POST /verification/cases/{case_id}/documents/{kind}/view";
pub const DECISION_ROUTE: &str = "POST /verification/cases/{case_id}/decision";

/// What the player reads about the decision.
pub const MAX_PLAYER_MESSAGE: usize = 1000;
/// What only staff read, in the audit trail.
pub const MAX_INTERNAL_NOTE: usize = 2000;

const FIELDS: &[&str] = &[
    "version",
    "state",
    "decision",
    "reasons",
    "documents",
    "player_message",
    "internal_note",
];
const DECISIONS: &[&str] = &["approve", "reject", "request_resubmission"];

/// A decision as the body states it, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionRequest {
    pub version: u64,
    pub seen: Option<Seen<VerificationCase>>,
    pub decision: Decision,
    pub player_message: Option<String>,
    pub internal_note: Option<String>,
}

/// A document's view URL, and the case's `state` token after the view (in its audit trail).
#[derive(serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DocumentView<'a> {
    #[serde(flatten)]
    presigned: &'a Presigned,
    /// The case as it now stands, to send back with the next action on it.
    #[serde(skip_serializing_if = "Option::is_none")]
    state: Option<String>,
}

/// The case as decided, and its `state` token.
#[derive(serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DecidedCase<'a> {
    #[serde(flatten)]
    case: &'a VerificationCase,
    /// The case as it now stands, to send back with the next action on it.
    #[serde(skip_serializing_if = "Option::is_none")]
    state: Option<String>,
}

/// The player's notification of a decision is written with it and leaves through the table's
/// stream (relay-stream), not on this request's path.
pub async fn handle<C: CaseStore, D: DocumentStorage>(
    v: &Verification<C, D>,
    request: Request,
) -> Response<Body> {
    let routed = async {
        match guichet_edge::http::route_key(&request).as_deref() {
            Some(VIEW_ROUTE) => view(v, &request).await,
            Some(DECISION_ROUTE) => decide(v, &request).await,
            // Only reachable if the template routes another path here.
            _ => Err(ApiError::NotFound),
        }
    };
    guichet_edge::http::respond(
        &request,
        |id| info_span!("review_case", request_id = %id, case = Empty),
        routed,
    )
    .await
}

/// The reviewer, checked before anything else is read; `senior` when they may decide cases
/// past the resubmission cap.
fn reviewer(request: &Request) -> Result<(Author, bool), ApiError> {
    let caller = guichet_edge::http::actor_of(request)?;
    let senior = caller.has(Role::VerificationSenior);
    if !senior && !caller.has(Role::Verification) {
        return Err(ApiError::Forbidden {
            required: Role::Verification,
        });
    }
    Ok((
        Author::Staff {
            id: caller.subject.as_str().to_owned(),
        },
        senior,
    ))
}

fn case_id(request: &Request) -> Result<CaseId, ValidationError> {
    let raw = path_param(request, "case_id").unwrap_or("");
    let id = CaseId::parse(raw).ok_or_else(|| ValidationError::new("case_id", Rule::CaseId))?;
    tracing::Span::current().record("case", id.as_str());
    Ok(id)
}

async fn view<C: CaseStore, D: DocumentStorage>(
    v: &Verification<C, D>,
    request: &Request,
) -> Result<Response<Body>, ApiError> {
    let (actor, _) = reviewer(request)?;
    let id = case_id(request)?;
    let kind = path_param(request, "kind")
        .and_then(DocumentKind::parse)
        .ok_or_else(|| {
            ValidationError::new(
                "kind",
                Rule::OneOf {
                    allowed: DocumentKind::NAMES,
                },
            )
        })?;
    let seen = match optional_json_body(request)? {
        None => None,
        Some(body) => {
            let object = guichet_edge::http::json_object(&body)?;
            let fields = Fields::new("", object, &["state"])?;
            fields
                .optional_str("state")?
                .map(|raw| Seen::parse("state", raw))
                .transpose()?
        }
    };
    let viewed = v.view_document(&actor, &id, kind, seen.as_ref()).await?;
    tracing::info!(kind = kind.as_str(), "document view URL issued");
    Ok(json_response(
        StatusCode::OK,
        &DocumentView {
            presigned: &viewed.url,
            state: seen::token(&viewed.case),
        },
    ))
}

async fn decide<C: CaseStore, D: DocumentStorage>(
    v: &Verification<C, D>,
    request: &Request,
) -> Result<Response<Body>, ApiError> {
    let (actor, senior) = reviewer(request)?;
    let id = case_id(request)?;
    let body = json_body(request)?;
    let asked = parse(&body)?;
    let decided = v
        .decide(
            &actor,
            senior,
            &id,
            asked.version,
            asked.seen.as_ref(),
            &asked.decision,
            asked.player_message,
            asked.internal_note,
        )
        .await
        .map_err(|error| match error {
            // A kind named in `documents` that the case does not require: name that field
            // rather than the generic `kind` of the shared mapping.
            KycError::Case(CaseError::NotRequired(kind)) => ApiError::from(ValidationError::new(
                format!("documents.{}", kind.as_str()),
                Rule::NotAllowedHere {
                    reason: "the case does not require this document",
                },
            )),
            other => ApiError::from(other),
        })?;
    let case = decided.case;
    tracing::info!(
        decision = decision_name(&asked.decision),
        status = case.status.as_str(),
        needs_senior = case.needs_senior,
        senior,
        "case decided"
    );
    Ok(json_response(
        StatusCode::OK,
        &DecidedCase {
            case: &case,
            state: seen::token(&case),
        },
    ))
}

fn decision_name(decision: &Decision) -> &'static str {
    match decision {
        Decision::Approve => "approve",
        Decision::Reject { .. } => "reject",
        Decision::RequestResubmission { .. } => "request_resubmission",
    }
}

pub fn parse(body: &serde_json::Value) -> Result<DecisionRequest, ValidationError> {
    let object = guichet_edge::http::json_object(body)?;
    let fields = Fields::new("", object, FIELDS)?;
    let version = match object.get("version") {
        None | Some(serde_json::Value::Null) => {
            return Err(ValidationError::new("version", Rule::Required))
        }
        Some(value) => value.as_u64().filter(|v| *v >= 1).ok_or_else(|| {
            ValidationError::new(
                "version",
                Rule::Range {
                    min: 1,
                    max: i64::MAX,
                },
            )
        })?,
    };
    let name = fields
        .choice("decision", DECISIONS, |raw| {
            DECISIONS.iter().copied().find(|d| *d == raw)
        })?
        .ok_or_else(|| ValidationError::new("decision", Rule::Required))?;
    let not_here = |field: &str, reason: &'static str| {
        ValidationError::new(field, Rule::NotAllowedHere { reason })
    };
    if name != "reject" && fields.has("reasons") {
        return Err(not_here("reasons", "reasons belong to decision reject"));
    }
    if name != "request_resubmission" && fields.has("documents") {
        return Err(not_here(
            "documents",
            "documents belong to decision request_resubmission",
        ));
    }
    let decision = match name {
        "approve" => Decision::Approve,
        // A rejection always says why: the player and the audit trail are owed the reason.
        "reject" => Decision::Reject {
            reasons: reason_codes("reasons", object.get("reasons"))?,
        },
        _ => Decision::RequestResubmission {
            documents: documents(object.get("documents"))?,
        },
    };
    let seen = fields
        .optional_str("state")?
        .map(|raw| Seen::parse("state", raw))
        .transpose()?;
    Ok(DecisionRequest {
        version,
        seen,
        decision,
        player_message: fields.optional_text("player_message", MAX_PLAYER_MESSAGE)?,
        internal_note: fields.optional_text("internal_note", MAX_INTERNAL_NOTE)?,
    })
}

/// A non-empty list of reason codes, without repeats, in the order given.
fn reason_codes(
    field: &str,
    value: Option<&serde_json::Value>,
) -> Result<Vec<ReasonCode>, ValidationError> {
    let items = match value {
        None | Some(serde_json::Value::Null) => {
            return Err(ValidationError::new(field, Rule::Required))
        }
        Some(serde_json::Value::Array(items)) => items,
        Some(_) => {
            return Err(ValidationError::new(
                field,
                Rule::Type {
                    expected: "a list of reason codes",
                },
            ))
        }
    };
    if items.is_empty() {
        return Err(ValidationError::new(field, Rule::Required));
    }
    if items.len() > ReasonCode::ALL.len() {
        return Err(ValidationError::new(
            field,
            Rule::MaxItems {
                max: ReasonCode::ALL.len(),
            },
        ));
    }
    let mut codes = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let code = item.as_str().and_then(ReasonCode::parse).ok_or_else(|| {
            ValidationError::new(
                format!("{field}[{i}]"),
                Rule::OneOf {
                    allowed: ReasonCode::NAMES,
                },
            )
        })?;
        if !codes.contains(&code) {
            codes.push(code);
        }
    }
    Ok(codes)
}

/// `{kind: [codes]}`: at least one document, each with at least one reason.
fn documents(
    value: Option<&serde_json::Value>,
) -> Result<Vec<(DocumentKind, Vec<ReasonCode>)>, ValidationError> {
    let object = match value {
        None | Some(serde_json::Value::Null) => {
            return Err(ValidationError::new("documents", Rule::Required))
        }
        Some(serde_json::Value::Object(object)) => object,
        Some(_) => {
            return Err(ValidationError::new(
                "documents",
                Rule::Type {
                    expected: "an object of document kinds to lists of reason codes",
                },
            ))
        }
    };
    if object.is_empty() {
        return Err(ValidationError::new("documents", Rule::Required));
    }
    // Sorted, so the first error named does not depend on the order the client wrote.
    let mut keys: Vec<&String> = object.keys().collect();
    keys.sort();
    keys.into_iter()
        .map(|key| {
            let kind = DocumentKind::parse(key).ok_or_else(|| {
                ValidationError::new(
                    format!("documents.{key}"),
                    Rule::OneOf {
                        allowed: DocumentKind::NAMES,
                    },
                )
            })?;
            let reasons = reason_codes(&format!("documents.{key}"), object.get(key))?;
            Ok((kind, reasons))
        })
        .collect()
}

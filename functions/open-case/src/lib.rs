//! `POST /verification/cases`: the verification team (a staff request) or the casino's own
//! systems (`service`, e.g. on a player's first withdrawal) open an identity-verification case
//! for a player. The reason decides the documents required.

use guichet_core::common::access::Role;
use guichet_core::common::player::{Author, Language, PlayerId};
use guichet_core::common::validation::{Fields, Rule, ValidationError};
use guichet_core::documents::ports::DocumentStorage;
use guichet_core::verification::ports::CaseStore;
use guichet_core::verification::rules::{CaseReason, DocumentKind};
use guichet_core::verification::service::Verification;
use guichet_edge::http::{json_body, json_response, ApiError};
use lambda_http::http::{header, HeaderValue, StatusCode};
use lambda_http::{Body, Request, Response};
use tracing::{field::Empty, info_span};

const FIELDS: &[&str] = &["player_id", "reason", "documents", "language"];

/// What the body asks for, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenRequest {
    pub player: PlayerId,
    pub reason: CaseReason,
    pub extra: Vec<DocumentKind>,
    pub language: Language,
}

pub async fn handle<C: CaseStore, D: DocumentStorage>(
    v: &Verification<C, D>,
    request: Request,
) -> Response<Body> {
    guichet_edge::http::respond(
        &request,
        |id| info_span!("open_case", request_id = %id, case = Empty),
        open(v, &request),
    )
    .await
}

async fn open<C: CaseStore, D: DocumentStorage>(
    v: &Verification<C, D>,
    request: &Request,
) -> Result<Response<Body>, ApiError> {
    let caller = guichet_edge::http::actor_of(request)?;
    // A staff member is recorded by id in the audit trail; the casino's systems as the system.
    // A token with both roles is a person: the named actor is the more accountable one.
    let actor = if caller.has(Role::Verification) {
        Author::Staff {
            id: caller.subject.as_str().to_owned(),
        }
    } else if caller.has(Role::Service) {
        Author::System
    } else {
        return Err(ApiError::Forbidden {
            required: Role::Verification,
        });
    };
    let body = json_body(request)?;
    let open = parse(&body, &actor)?;
    let case = v
        .open_case(&actor, open.player, open.reason, &open.extra, open.language)
        .await?;
    tracing::Span::current().record("case", case.id.as_str());
    tracing::info!(
        reason = case.reason.as_str(),
        by_staff = matches!(actor, Author::Staff { .. }),
        documents = case.documents.len(),
        "verification case opened"
    );
    let mut response = json_response(StatusCode::CREATED, &case);
    if let Ok(location) =
        HeaderValue::from_str(&format!("/verification/cases/{}", case.id.as_str()))
    {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// Reads the body. Extra documents only come with a staff request, and a staff request only
/// from staff: the audit trail would otherwise name the system as the staff member who asked.
pub fn parse(body: &serde_json::Value, actor: &Author) -> Result<OpenRequest, ValidationError> {
    let object = guichet_edge::http::json_object(body)?;
    let fields = Fields::new("", object, FIELDS)?;
    let player = PlayerId::parse(fields.required_str("player_id")?)
        .ok_or_else(|| ValidationError::new("player_id", Rule::PlayerId))?;
    let reason = fields
        .choice("reason", CaseReason::NAMES, CaseReason::parse)?
        .ok_or_else(|| ValidationError::new("reason", Rule::Required))?;
    if reason == CaseReason::StaffRequest && !matches!(actor, Author::Staff { .. }) {
        return Err(ValidationError::new(
            "reason",
            Rule::NotAllowedHere {
                reason: "staff_request is opened by the verification team",
            },
        ));
    }
    let extra = if fields.has("documents") {
        if reason != CaseReason::StaffRequest {
            return Err(ValidationError::new(
                "documents",
                Rule::NotAllowedHere {
                    reason: "extra documents are only named with reason staff_request",
                },
            ));
        }
        document_kinds(object.get("documents"))?
    } else {
        Vec::new()
    };
    // The player's language when given; otherwise French, as for tickets. The caller is staff
    // or a system, so its own Accept-Language says nothing about the player.
    let language = fields
        .choice("language", Language::NAMES, Language::parse)?
        .unwrap_or(Language::Fr);
    Ok(OpenRequest {
        player,
        reason,
        extra,
        language,
    })
}

fn document_kinds(value: Option<&serde_json::Value>) -> Result<Vec<DocumentKind>, ValidationError> {
    let Some(serde_json::Value::Array(items)) = value else {
        return Err(ValidationError::new(
            "documents",
            Rule::Type {
                expected: "a list of document kinds",
            },
        ));
    };
    if items.len() > DocumentKind::ALL.len() {
        return Err(ValidationError::new(
            "documents",
            Rule::MaxItems {
                max: DocumentKind::ALL.len(),
            },
        ));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            item.as_str().and_then(DocumentKind::parse).ok_or_else(|| {
                ValidationError::new(
                    format!("documents[{i}]"),
                    Rule::OneOf {
                        allowed: DocumentKind::NAMES,
                    },
                )
            })
        })
        .collect()
}

//! `POST /verification/documents`: a presigned S3 PUT for one document of a player's open
//! verification case. A player asks for their own case; the verification team asks on a
//! player's behalf (documents that reached support by e-mail) by naming `player_id`.
//!
//! Everything is checked before a URL is made: the kind against the case, the content type
//! against the accepted types, the size against the limit. The object key is the server's,
//! under the player's own prefix; the type, the exact length and SSE-KMS are signed into the URL,
//! so S3 itself refuses anything else. The client must send exactly the `headers` answered.

use guichet_core::common::access::Role;
use guichet_core::common::player::{Author, PlayerId};
use guichet_core::common::validation::{Fields, Rule, ValidationError};
use guichet_core::documents::ports::DocumentStorage;
use guichet_core::documents::rules::{ContentType, MAX_DOCUMENT_BYTES};
use guichet_core::verification::ports::CaseStore;
use guichet_core::verification::rules::DocumentKind;
use guichet_core::verification::service::Verification;
use guichet_edge::http::{json_body, json_response, ApiError};
use guichet_edge::upload;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use tracing::{field::Empty, info_span};

const FIELDS: &[&str] = &["player_id", "kind", "content_type", "size"];

/// What the body asks for, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadRequest {
    /// Only from the verification team: whose case the document is for.
    pub player: Option<PlayerId>,
    pub kind: DocumentKind,
    pub content_type: ContentType,
    pub size: u64,
}

pub async fn handle<C: CaseStore, D: DocumentStorage>(
    v: &Verification<C, D>,
    request: Request,
) -> Response<Body> {
    guichet_edge::http::respond(
        &request,
        |id| info_span!("request_upload", request_id = %id, case = Empty, upload = Empty),
        issue(v, &request),
    )
    .await
}

async fn issue<C: CaseStore, D: DocumentStorage>(
    v: &Verification<C, D>,
    request: &Request,
) -> Result<Response<Body>, ApiError> {
    let caller = guichet_edge::http::actor_of(request)?;
    let staff = caller.has(Role::Verification);
    if !staff && !caller.has(Role::Player) {
        return Err(ApiError::Forbidden {
            required: Role::Player,
        });
    }
    let body = json_body(request)?;
    let asked = parse(&body)?;
    let (actor, player) = match asked.player {
        // The audit trail records which staff member uploaded on whose behalf.
        Some(player) if staff => (
            Author::Staff {
                id: caller.subject.as_str().to_owned(),
            },
            player,
        ),
        Some(_) => {
            return Err(ValidationError::new(
                "player_id",
                Rule::NotAllowedHere {
                    reason: "a player uploads for their own case",
                },
            )
            .into())
        }
        None if caller.has(Role::Player) => (Author::Player, caller.subject.clone()),
        None => return Err(ValidationError::new("player_id", Rule::Required).into()),
    };
    let (upload, presigned) = v
        .request_upload(&actor, &player, asked.kind, asked.content_type, asked.size)
        .await?;
    let span = tracing::Span::current();
    span.record("case", upload.case.as_str());
    span.record("upload", upload.upload.as_str());
    tracing::info!(
        kind = asked.kind.as_str(),
        content_type = asked.content_type.as_str(),
        size = asked.size,
        on_behalf = !matches!(actor, Author::Player),
        "upload URL issued"
    );
    Ok(json_response(
        StatusCode::CREATED,
        &upload::UploadUrl {
            upload_id: upload.upload.as_str(),
            presigned: &presigned,
        },
    ))
}

pub fn parse(body: &serde_json::Value) -> Result<UploadRequest, ValidationError> {
    let object = guichet_edge::http::json_object(body)?;
    let fields = Fields::new("", object, FIELDS)?;
    let player = fields
        .optional_str("player_id")?
        .map(|raw| {
            PlayerId::parse(raw).ok_or_else(|| ValidationError::new("player_id", Rule::PlayerId))
        })
        .transpose()?;
    let kind = fields
        .choice("kind", DocumentKind::NAMES, DocumentKind::parse)?
        .ok_or_else(|| ValidationError::new("kind", Rule::Required))?;
    let content_type = upload::content_type(&fields)?;
    let size = upload::size(object.get("size"), MAX_DOCUMENT_BYTES)?;
    Ok(UploadRequest {
        player,
        kind,
        content_type,
        size,
    })
}

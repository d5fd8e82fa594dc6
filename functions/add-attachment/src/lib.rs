//! `POST /tickets/{reference}/attachments`: a presigned S3 PUT for one attachment (a screenshot,
//! a PDF) of a ticket. The ticket's owner asks for their own ticket; agents and supervisors for
//! any ticket. Another player's ticket answers `404` exactly as an unknown one does.
//!
//! Everything is checked before a URL is made: the content type against the accepted types,
//! the size against the limit, the count against the ticket's limit (one conditional write).
//! The object key is the server's, under the ticket's own prefix; the type, the exact length and
//! SSE-KMS are signed into the URL. The document function checks what arrives, and the ticket
//! lists the attachment once it passed.

use guichet_core::attachments::ports::AttachmentStore;
use guichet_core::attachments::rules::MAX_ATTACHMENT_BYTES;
use guichet_core::attachments::service::{AttachmentError, Attachments};
use guichet_core::common::access::Role;
use guichet_core::common::player::Author;
use guichet_core::common::validation::{Fields, ValidationError};
use guichet_core::documents::ports::DocumentStorage;
use guichet_core::documents::rules::ContentType;
use guichet_core::tickets::desk::Desk;
use guichet_core::tickets::ports::TicketStore;
use guichet_edge::http::{json_body, json_response, ApiError};
use guichet_edge::upload;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use tracing::{field::Empty, info_span};

const FIELDS: &[&str] = &["content_type", "size"];

/// What the body asks for, checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttachmentRequest {
    pub content_type: ContentType,
    pub size: u64,
}

pub async fn handle<S, A, D>(
    desk: &Desk<S>,
    attachments: &Attachments<A, D>,
    request: Request,
) -> Response<Body>
where
    S: TicketStore,
    A: AttachmentStore,
    D: DocumentStorage,
{
    guichet_edge::http::respond(
        &request,
        |id| info_span!("add_attachment", request_id = %id, ticket = Empty, upload = Empty),
        issue(desk, attachments, &request),
    )
    .await
}

async fn issue<S, A, D>(
    desk: &Desk<S>,
    attachments: &Attachments<A, D>,
    request: &Request,
) -> Result<Response<Body>, ApiError>
where
    S: TicketStore,
    A: AttachmentStore,
    D: DocumentStorage,
{
    let caller = guichet_edge::http::actor_of(request)?;
    let staff = caller.is_staff();
    if !staff && !caller.has(Role::Player) {
        return Err(ApiError::Forbidden {
            required: Role::Player,
        });
    }
    let reference = guichet_edge::http::reference_param(request)?;
    let body = json_body(request)?;
    let asked = parse(&body)?;
    let found = if staff {
        desk.store.get(&reference).await?
    } else {
        // Someone else's ticket is indistinguishable from one that does not exist.
        desk.ticket_of(&caller.subject, &reference).await?
    };
    let ticket = found.ok_or(ApiError::NotFound)?.ticket;
    if ticket.status == guichet_core::tickets::ticket::TicketStatus::Closed {
        // Answered before any URL is signed; the store's transaction checks it again.
        return Err(AttachmentError::TicketClosed.into());
    }
    let actor = if staff {
        Author::Staff {
            id: caller.subject.as_str().to_owned(),
        }
    } else {
        Author::Player
    };
    let (attachment, presigned) = attachments
        .request(&actor, &ticket.reference, asked.content_type, asked.size)
        .await?;
    tracing::Span::current().record("upload", attachment.upload.as_str());
    tracing::info!(
        content_type = asked.content_type.as_str(),
        size = asked.size,
        by_staff = staff,
        "attachment URL issued"
    );
    Ok(json_response(
        StatusCode::CREATED,
        &upload::UploadUrl {
            upload_id: attachment.upload.as_str(),
            presigned: &presigned,
        },
    ))
}

/// Reads the body: `content_type` (image or PDF) and `size` (bytes); nothing else.
pub fn parse(body: &serde_json::Value) -> Result<AttachmentRequest, ValidationError> {
    let object = guichet_edge::http::json_object(body)?;
    let fields = Fields::new("", object, FIELDS)?;
    let content_type = upload::content_type(&fields)?;
    let size = upload::size(object.get("size"), MAX_ATTACHMENT_BYTES)?;
    Ok(AttachmentRequest { content_type, size })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_body_names_each_broken_rule() {
        let ok = parse(&json!({"content_type": "Image/PNG", "size": 1024})).expect("valid");
        assert_eq!(ok.content_type, ContentType::Png);
        assert_eq!(ok.size, 1024);
        let field = |body: serde_json::Value| {
            let e = parse(&body).expect_err("invalid");
            (
                e.field,
                serde_json::to_value(&e.rule).expect("json")["rule"].clone(),
            )
        };
        assert_eq!(
            field(json!({"content_type": "image/gif", "size": 10})),
            ("content_type".into(), json!("one_of"))
        );
        assert_eq!(
            field(json!({"size": 10})),
            ("content_type".into(), json!("required"))
        );
        assert_eq!(
            field(json!({"content_type": "application/pdf", "size": 0})),
            ("size".into(), json!("range"))
        );
        assert_eq!(
            field(json!({"content_type": "application/pdf", "size": MAX_ATTACHMENT_BYTES + 1})),
            ("size".into(), json!("range"))
        );
        assert_eq!(
            field(json!({"content_type": "application/pdf", "size": "12"})),
            ("size".into(), json!("type"))
        );
        assert_eq!(
            field(json!({"content_type": "application/pdf"})),
            ("size".into(), json!("required"))
        );
        assert_eq!(
            field(json!({"content_type": "application/pdf", "size": 1, "name": "a.pdf"})),
            ("name".into(), json!("unknown_field"))
        );
        assert_eq!(field(json!([1])), ("body".into(), json!("type")));
    }
}

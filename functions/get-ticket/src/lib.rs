//! `GET /tickets/{reference}`: a player reads their own ticket, with the staff's replies and
//! the notifications they were sent; agents read any, with its escalations. A ticket other
//! tickets were merged into also shows theirs (`merged`: messages and attachments). The ticket lists its checked attachments: metadata for everyone, and for
//! staff a presigned GET (valid 5 minutes) per attachment. Players never get a storage key or
//! URL.

use guichet_core::attachments::ports::AttachmentStore;
use guichet_core::attachments::service::Attachments;
use guichet_core::common::access::Role;
use guichet_core::common::seen;
use guichet_core::documents::ports::{DocumentStorage, Presigned};
use guichet_core::tickets::desk::{Desk, TicketView};
use guichet_core::tickets::ports::TicketStore;
use guichet_edge::http::{json_response, ApiError};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use tracing::{field::Empty, info_span};

/// The ticket, its history and its checked attachments.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TicketRead<'a> {
    #[serde(flatten)]
    view: TicketView,
    /// Messages, oldest first: staff replies and the player's answers; staff also read the
    /// internal notes (`internal: true`), which a player's view never lists.
    messages: Vec<&'a guichet_core::tickets::workflow::Message>,
    /// The notifications the player was sent about this ticket, as they were worded.
    notifications: &'a [guichet_core::notifications::rules::Notification],
    /// Staff only: escalations and where they stand (their notes are for the teams).
    #[serde(skip_serializing_if = "Option::is_none")]
    escalations: Option<&'a [guichet_core::escalation::rules::Escalation]>,
    attachments: Vec<AttachmentView<'a>>,
    /// The duplicates merged into this ticket, in merge order: their messages (internal notes
    /// for staff only, as above) and checked attachments, read from each duplicate's own items.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    merged: Vec<MergedView<'a>>,
    /// Staff only: the ticket as read, to send back with an action (`state`), which then
    /// costs one round trip instead of a read and a write.
    #[serde(skip_serializing_if = "Option::is_none")]
    state: Option<String>,
}

/// A duplicate merged into the ticket read: what the player wrote there and what was
/// answered, with its attachments.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MergedView<'a> {
    reference: &'a guichet_core::common::reference::TicketReference,
    subject: &'a str,
    created_at: jiff::Timestamp,
    messages: &'a [guichet_core::tickets::workflow::Message],
    attachments: Vec<AttachmentView<'a>>,
}

/// One checked attachment; `url` and `expires_at` for staff only.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AttachmentView<'a> {
    upload_id: &'a str,
    content_type: &'a str,
    size: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    checked_at: Option<jiff::Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_at: Option<jiff::Timestamp>,
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
        |id| info_span!("get_ticket", request_id = %id, ticket = Empty),
        read(desk, attachments, &request),
    )
    .await
}

async fn read<S, A, D>(
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
    if !caller.has(Role::Player) && !caller.is_staff() {
        return Err(ApiError::Forbidden {
            required: Role::Player,
        });
    }
    let reference = guichet_edge::http::reference_param(request)?;
    let found = if caller.is_staff() {
        desk.store.get(&reference).await?
    } else {
        // Someone else's ticket is indistinguishable from one that does not exist.
        desk.ticket_of(&caller.subject, &reference).await?
    };
    let found = found.ok_or(ApiError::NotFound)?;
    let checked = attachments
        .checked(&found.ticket.reference, caller.is_staff())
        .await?;
    // One read per merged duplicate: its ticket, messages and attachments together.
    let merged = desk
        .merged_records(&found.ticket, caller.is_staff())
        .await?;
    let mut merged_checked = Vec::with_capacity(merged.len());
    for record in &merged {
        merged_checked.push(
            attachments
                .listed(record.attachments.clone(), caller.is_staff())
                .await?,
        );
    }
    Ok(json_response(
        StatusCode::OK,
        &TicketRead {
            view: TicketView::for_caller(desk, &caller, &found.ticket, Some(&found.history)),
            messages: found
                .messages
                .iter()
                .filter(|m| caller.is_staff() || !m.internal)
                .collect(),
            notifications: &found.notifications,
            escalations: caller.is_staff().then_some(found.escalations.as_slice()),
            attachments: attachment_views(&checked),
            merged: merged
                .iter()
                .zip(&merged_checked)
                .map(|(record, listed)| MergedView {
                    reference: &record.ticket.reference,
                    subject: &record.ticket.subject,
                    created_at: record.ticket.created_at,
                    messages: &record.messages,
                    attachments: attachment_views(listed),
                })
                .collect(),
            state: caller
                .is_staff()
                .then(|| seen::token(&found.ticket))
                .flatten(),
        },
    ))
}

fn attachment_views(
    listed: &[(
        guichet_core::attachments::rules::Attachment,
        Option<Presigned>,
    )],
) -> Vec<AttachmentView<'_>> {
    listed
        .iter()
        .map(|(attachment, url)| attachment_view(attachment, url.as_ref()))
        .collect()
}

fn attachment_view<'a>(
    attachment: &'a guichet_core::attachments::rules::Attachment,
    url: Option<&'a Presigned>,
) -> AttachmentView<'a> {
    AttachmentView {
        upload_id: attachment.upload.as_str(),
        content_type: attachment.content_type.as_str(),
        size: attachment.size,
        checked_at: attachment.checked_at,
        url: url.map(|p| p.url.as_str()),
        expires_at: url.map(|p| p.expires_at),
    }
}

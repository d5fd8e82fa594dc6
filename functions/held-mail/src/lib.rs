//! `GET /mail/held?limit=&cursor=`: the mail the desk would not take for a player's (an
//! unknown sender, a spoofed `From`, an automaton, a mail it could not read), oldest first, a
//! page at a time, for staff to decide on. Agents of any team and supervisors; players and the
//! verification team are refused.

use guichet_core::common::paging::PageCursor;
use guichet_core::mail::held::{held_mail, HeldMails, HeldView};
use guichet_edge::http::{json_response, page_params, unknown_param, ApiError};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use tracing::info_span;

pub const DEFAULT_LIMIT: u16 = 20;
pub const MAX_LIMIT: u16 = 50;

#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HeldPage {
    pub held: Vec<HeldView>,
    pub next_cursor: Option<String>,
}

pub async fn handle<H: HeldMails>(mailroom: &H, request: Request) -> Response<Body> {
    guichet_edge::http::respond(
        &request,
        |id| info_span!("held_mail", request_id = %id),
        list(mailroom, &request),
    )
    .await
}

async fn list<H: HeldMails>(mailroom: &H, request: &Request) -> Result<Response<Body>, ApiError> {
    let caller = guichet_edge::http::actor_of(request)?;
    let (limit, start) = page_params(request, (DEFAULT_LIMIT, MAX_LIMIT), unknown_param)?;
    let page = held_mail(&caller, mailroom, limit, start.as_ref()).await?;
    tracing::info!(mails = page.items.len(), "held mail read");
    Ok(json_response(
        StatusCode::OK,
        &HeldPage {
            held: page.items,
            next_cursor: page.next.as_ref().map(PageCursor::to_cursor),
        },
    ))
}

//! `GET /tickets`: the calling player's tickets, newest first, a page at a time.

use guichet_core::common::access::Role;
use guichet_core::common::paging::PageCursor;
use guichet_core::tickets::desk::{Desk, TicketView};
use guichet_core::tickets::ports::TicketStore;
use guichet_edge::http::{json_response, page_params, unknown_param, ApiError};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use tracing::info_span;

pub const DEFAULT_LIMIT: u16 = 20;
pub const MAX_LIMIT: u16 = 50;

#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TicketPage {
    tickets: Vec<TicketView>,
    next_cursor: Option<String>,
}

pub async fn handle<S: TicketStore>(desk: &Desk<S>, request: Request) -> Response<Body> {
    guichet_edge::http::respond(
        &request,
        |id| info_span!("list_tickets", request_id = %id),
        list(desk, &request),
    )
    .await
}

async fn list<S: TicketStore>(
    desk: &Desk<S>,
    request: &Request,
) -> Result<Response<Body>, ApiError> {
    let caller = guichet_edge::http::actor_of(request)?;
    caller.require(Role::Player)?;
    let (limit, start) = page_params(request, (DEFAULT_LIMIT, MAX_LIMIT), unknown_param)?;
    let page = desk
        .tickets_of(&caller.subject, limit, start.as_ref())
        .await?;
    Ok(json_response(
        StatusCode::OK,
        &TicketPage {
            tickets: page
                .items
                .iter()
                .map(|ticket| TicketView::for_player(ticket, None))
                .collect(),
            next_cursor: page.next.as_ref().map(PageCursor::to_cursor),
        },
    ))
}

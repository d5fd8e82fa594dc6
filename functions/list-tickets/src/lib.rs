//! `GET /tickets`: the calling player's tickets, newest first, a page at a time.

use guichet_core::common::access::Role;
use guichet_core::common::paging::PageCursor;
use guichet_core::common::validation::{Rule, ValidationError};
use guichet_core::tickets::desk::{Desk, TicketView};
use guichet_core::tickets::ports::TicketStore;
use guichet_edge::http::{json_response, ApiError};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Serialize;

pub const DEFAULT_LIMIT: u16 = 20;
pub const MAX_LIMIT: u16 = 50;

#[derive(Serialize)]
struct TicketPage<'a> {
    tickets: Vec<TicketView<'a>>,
    next_cursor: Option<String>,
}

pub async fn handle<S: TicketStore>(desk: &Desk<S>, request: Request) -> Response<Body> {
    guichet_edge::http::respond(
        &request,
        |request_id| tracing::info_span!("list_tickets", request_id = %request_id),
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
    let mut limit = DEFAULT_LIMIT;
    let mut start = None;
    if let Some(query) = request.query_string_parameters_ref() {
        for (name, value) in query.iter() {
            match name {
                "limit" => limit = guichet_edge::http::limit_param(value, MAX_LIMIT)?,
                "cursor" => start = Some(guichet_edge::http::cursor_param(value)?),
                other => return Err(ValidationError::new(other, Rule::UnknownField).into()),
            }
        }
    }
    let page = desk
        .tickets_of(&caller.subject, limit, start.as_ref())
        .await?;
    Ok(json_response(
        StatusCode::OK,
        &TicketPage {
            tickets: page
                .items
                .iter()
                .map(|ticket| TicketView {
                    ticket,
                    history: None,
                })
                .collect(),
            next_cursor: page.next.as_ref().map(PageCursor::to_cursor),
        },
    ))
}

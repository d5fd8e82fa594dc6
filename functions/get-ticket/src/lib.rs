//! `GET /tickets/{reference}`: a player reads their own ticket; agents read any.

use guichet::core::TicketStore;
use guichet::domain::reference::TicketReference;
use guichet::domain::validation::{Rule, ValidationError};
use guichet::http::{json_response, request_id, ApiError, Caller, Role};
use guichet::tickets::{Desk, TicketView};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, RequestExt, Response};
use tracing::Instrument;

pub async fn handle<S: TicketStore>(desk: &Desk<S>, request: Request) -> Response<Body> {
    let request_id = request_id(&request);
    let span = tracing::info_span!(
        "get_ticket",
        request_id = %request_id,
        ticket = tracing::field::Empty
    );
    async {
        match read(desk, &request).await {
            Ok(response) => response,
            Err(error) => error.into_response(&request_id),
        }
    }
    .instrument(span)
    .await
}

async fn read<S: TicketStore>(
    desk: &Desk<S>,
    request: &Request,
) -> Result<Response<Body>, ApiError> {
    let caller = Caller::from_request(request)?;
    if !caller.has(Role::Player) && !caller.is_staff() {
        return Err(ApiError::Forbidden {
            required: Role::Player,
        });
    }
    let raw = request
        .path_parameters_ref()
        .and_then(|p| p.first("reference"))
        .unwrap_or("");
    let reference = TicketReference::parse(raw)
        .map_err(|_| ValidationError::new("reference", Rule::Reference))?;
    tracing::Span::current().record("ticket", reference.as_str());
    let found = if caller.is_staff() {
        desk.store.get(&reference).await?
    } else {
        // Someone else's ticket is indistinguishable from one that does not exist.
        desk.ticket_of(&caller.subject, &reference).await?
    };
    let found = found.ok_or(ApiError::NotFound)?;
    Ok(json_response(
        StatusCode::OK,
        &TicketView {
            ticket: &found.ticket,
            history: Some(&found.history),
        },
    ))
}

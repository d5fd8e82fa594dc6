//! `POST /handoffs/chat`: the live-chat tool hands off a conversation it could not close. No
//! player token: the chat tool signs the request (`guichet_core::handoffs::signature`), and
//! the signature is checked on the raw body before anything of it is read. The conversation
//! becomes a ticket on the chat channel, or continues the player's open chat ticket of the same
//! category, once however often the tool sends it (`guichet_core::handoffs::desk`).

use guichet_core::handoffs::desk::HandedOff;
use guichet_core::handoffs::request::Handoff;
use guichet_core::handoffs::signature::{HandoffKey, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use guichet_core::tickets::desk::Desk;
use guichet_core::tickets::ports::TicketStore;
use guichet_edge::http::{header_str, json_body, json_response, ApiError};
use lambda_http::http::{header, HeaderValue, StatusCode};
use lambda_http::{Body, Request, Response};
use tracing::{field::Empty, info_span};

pub async fn handle<S: TicketStore>(
    desk: &Desk<S>,
    key: &HandoffKey,
    request: Request,
) -> Response<Body> {
    guichet_edge::http::respond(
        &request,
        |id| info_span!("chat_handoff", request_id = %id, ticket = Empty),
        hand_off(desk, key, &request),
    )
    .await
}

async fn hand_off<S: TicketStore>(
    desk: &Desk<S>,
    key: &HandoffKey,
    request: &Request,
) -> Result<Response<Body>, ApiError> {
    let now = desk.clock.now();
    let headers = request.headers();
    key.verify(
        header_str(headers, TIMESTAMP_HEADER),
        header_str(headers, SIGNATURE_HEADER),
        request.body().as_ref(),
        now,
    )
    .map_err(ApiError::BadSignature)?;
    let body = json_body(request)?;
    let handoff = Handoff::parse(&body, now)?;
    let handed = desk.hand_off(&handoff).await?;
    // 201 for a new ticket; 200 when the conversation continued an open one, or came again.
    let status = match handed {
        HandedOff::Opened(_) => StatusCode::CREATED,
        HandedOff::Added(_) | HandedOff::Replayed(_) => StatusCode::OK,
    };
    let receipt = handed.receipt();
    tracing::Span::current().record("ticket", receipt.reference.as_str());
    tracing::info!(
        provider = handoff.provider.as_str(),
        outcome = handed.as_str(),
        lines = handoff.transcript.len(),
        "chat handed off"
    );
    let mut response = json_response(status, receipt);
    if let Ok(location) = HeaderValue::from_str(&format!("/tickets/{}", receipt.reference)) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

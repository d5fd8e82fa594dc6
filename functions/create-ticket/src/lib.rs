//! `POST /tickets`: parse, authorise, hand the request to the desk, map the outcome.

use guichet_core::common::access::Role;
use guichet_core::incidents::ports::IncidentStore;
use guichet_core::incidents::service::{may_group, Incidents};
use guichet_core::tickets::desk::{Desk, Submitted};
use guichet_core::tickets::intake::TicketRequest;
use guichet_core::tickets::ports::TicketStore;
use guichet_edge::http::{header_str, json_body, json_response, ApiError};
use lambda_http::http::{header, HeaderValue, StatusCode};
use lambda_http::{Body, Request, Response};
use tracing::{field::Empty, info_span};

pub use guichet_edge::http::IDEMPOTENCY_HEADER;

/// `incidents` groups incident reports of the same game into one multi-player incident. The
/// notification (and any escalation) written with the ticket leave through the table's stream
/// (relay-stream), not on this request's path.
pub async fn handle<S: TicketStore, I: IncidentStore>(
    desk: &Desk<S>,
    incidents: &Incidents<I>,
    request: Request,
) -> Response<Body> {
    guichet_edge::http::respond(
        &request,
        |id| info_span!("create_ticket", request_id = %id, ticket = Empty),
        create(desk, incidents, &request),
    )
    .await
}

async fn create<S: TicketStore, I: IncidentStore>(
    desk: &Desk<S>,
    incidents: &Incidents<I>,
    request: &Request,
) -> Result<Response<Body>, ApiError> {
    let caller = guichet_edge::http::actor_of(request)?;
    // Tickets are opened by players for themselves; staff hand-offs log in as the player's
    // channel (e-mail, chat), never by naming a player in the body.
    caller.require(Role::Player)?;
    let key = guichet_edge::http::idempotency_key(request)?;
    let body = json_body(request)?;
    let headers = request.headers();
    let ticket_request = TicketRequest::parse(
        &body,
        header_str(headers, header::ACCEPT_LANGUAGE.as_str()),
        desk.clock.now(),
    )?;
    let group = may_group(&ticket_request);
    let submitted = desk
        .submit(caller.subject, ticket_request, key, caller.email)
        .await;
    let (status, receipt) = match submitted {
        // The ticket is stored with its outbox: the stream relays it.
        Ok(Submitted::Created(receipt, _)) => (StatusCode::CREATED, receipt),
        Ok(Submitted::Replayed(receipt)) => (StatusCode::OK, receipt),
        Err(error) => return Err(error.into()),
    };
    tracing::Span::current().record("ticket", receipt.reference.as_str());
    if group {
        // After the ticket is stored, and on a replay too: recording a report is idempotent,
        // so a retry repairs a crash between the two steps. Grouping never fails the player's
        // request: the ticket is there either way, and an agent can link it by hand.
        if let Err(error) = incidents.record_report(desk, &receipt.reference).await {
            tracing::warn!(error = %error, "incident grouping failed");
        }
    }
    tracing::info!(
        replayed = status == StatusCode::OK,
        priority = receipt.priority.as_str(),
        team = receipt.team.as_str(),
        "ticket accepted"
    );
    let mut response = json_response(status, &receipt);
    if let Ok(location) = HeaderValue::from_str(&format!("/tickets/{}", receipt.reference)) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

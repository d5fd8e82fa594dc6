//! Multi-player incidents, for staff (`guichet_core::incidents::service` holds the rules and use cases):
//!
//! - `GET /incidents?team=&limit=&cursor=`: the team's current incidents (open or monitoring),
//!   newest first, a page at a time;
//! - `GET /incidents/{incident_id}`: the incident, its linked tickets and its status updates;
//! - `POST /incidents/{incident_id}/links` `{reference}`: links a ticket by hand (it becomes
//!   `urgent`); `201` when linked now, `200` when it already was;
//! - `DELETE /incidents/{incident_id}/links/{reference}`: unlinks a ticket linked by mistake (it
//!   gets its intake priority back);
//! - `POST /incidents/{incident_id}/status` `{version, status, note?}`: `open`, `monitoring` or
//!   `resolved`, on the incident's `version` as read. The update is recorded with the first
//!   page of its fan-out, which this handler relays to the incident-updates queue: the
//!   incident-updates function then tells every linked player whose ticket is still in work,
//!   a page of tickets at a time (resolving the incident resolves their tickets). Sending the
//!   same update again writes nothing and relays the same first page, which restarts a stalled
//!   fan-out without telling anyone twice.
//!
//! Staff only: supervisors, or agents of the incident's team (and, to link or unlink, of the
//! ticket's team). Players get `403`. A bad field is a `400` naming it; an unknown incident,
//! ticket or link a `404`; a stale version a `409` `stale`.

use guichet_core::common::paging::PageCursor;
use guichet_core::common::reference::TicketReference;
use guichet_core::common::validation::{Fields, Rule, ValidationError};
use guichet_core::incidents::ports::{IncidentRecord, IncidentStart, IncidentStore};
use guichet_core::incidents::rules::{Incident, IncidentId, IncidentStatus};
use guichet_core::incidents::service::Incidents;
use guichet_core::tickets::desk::Desk;
use guichet_core::tickets::ports::TicketStore;
use guichet_core::tickets::staff::require_staff;
use guichet_core::tickets::ticket::{Priority, Team, Ticket, TicketStatus};
use guichet_edge::http::{
    json_body, json_response, page_params, path_param, unknown_param, ApiError,
};
use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use tracing::{field::Empty, info_span};

/// Staff's internal note on a status update: never sent to players.
pub const NOTE_MAX_CHARS: usize = 1000;
/// Incidents per page of `GET /incidents`.
pub const DEFAULT_LIMIT: u16 = 20;
pub const MAX_LIMIT: u16 = 50;

/// `GET /incidents`'s query, once every parameter is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    pub team: Team,
    pub limit: u16,
    pub start: Option<IncidentStart>,
}

#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CurrentPage<'a> {
    team: Team,
    incidents: &'a [Incident],
    next_cursor: Option<String>,
}

/// What the caller asked for, once the route and every field are checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    View,
    Link(TicketReference),
    Unlink(TicketReference),
    Status {
        version: u64,
        to: IncidentStatus,
        note: Option<String>,
    },
}

#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IncidentView<'a> {
    #[serde(flatten)]
    record: &'a IncidentRecord,
    /// The ticket a link or unlink changed: its new version is what the next action on it
    /// must send.
    #[serde(skip_serializing_if = "Option::is_none")]
    ticket: Option<TicketState<'a>>,
}

#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TicketState<'a> {
    reference: &'a TicketReference,
    status: TicketStatus,
    priority: Priority,
    version: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    linked_incident: Option<&'a str>,
}

impl<'a> From<&'a Ticket> for TicketState<'a> {
    fn from(ticket: &'a Ticket) -> Self {
        TicketState {
            reference: &ticket.reference,
            status: ticket.status,
            priority: ticket.priority,
            version: ticket.version,
            linked_incident: ticket.linked_incident.as_deref(),
        }
    }
}

/// What a link or a status update owes (the player's notification, the fan-out's first page)
/// is written with it and leaves through the table's stream (relay-stream), not on this
/// request's path.
pub async fn handle<S: TicketStore, I: IncidentStore>(
    desk: &Desk<S>,
    incidents: &Incidents<I>,
    request: Request,
) -> Response<Body> {
    guichet_edge::http::respond(
        &request,
        |id| info_span!("incidents", request_id = %id, incident = Empty, ticket = Empty),
        serve(desk, incidents, &request),
    )
    .await
}

/// The incident id of the path: `400` naming `incident_id` when it is not one of ours.
pub fn incident_id(raw: &str) -> Result<IncidentId, ValidationError> {
    IncidentId::parse(raw).ok_or_else(|| {
        ValidationError::new(
            "incident_id",
            Rule::Type {
                expected: "an incident id as returned by this API, e.g. INC-7K2M9Q4XW3BD",
            },
        )
    })
}

fn reference(field: &str, raw: &str) -> Result<TicketReference, ValidationError> {
    TicketReference::parse(raw).map_err(|_| ValidationError::new(field, Rule::Reference))
}

/// Reads the action from the method, the route and the body.
pub fn parse(request: &Request) -> Result<Action, ApiError> {
    let last = request.uri().path().rsplit('/').next().unwrap_or("");
    match (request.method(), path_param(request, "reference")) {
        (&Method::GET, None) => Ok(Action::View),
        (&Method::DELETE, Some(raw)) => Ok(Action::Unlink(reference("reference", raw)?)),
        (&Method::POST, None) if last == "links" => parse_link(&json_body(request)?),
        (&Method::POST, None) if last == "status" => parse_status(&json_body(request)?),
        _ => Err(ApiError::NotFound),
    }
}

/// `GET /incidents`'s query: `team` (required), `limit` (1–50, 20 by default), `cursor`.
pub fn parse_listing(request: &Request) -> Result<Listing, ValidationError> {
    let mut team = None;
    let (limit, start) = page_params(
        request,
        (DEFAULT_LIMIT, MAX_LIMIT),
        |name, value| match name {
            "team" => {
                let one_of = || {
                    let allowed = Team::NAMES;
                    ValidationError::new("team", Rule::OneOf { allowed })
                };
                team = Some(Team::parse(value).ok_or_else(one_of)?);
                Ok(())
            }
            _ => unknown_param(name, value),
        },
    )?;
    Ok(Listing {
        team: team.ok_or_else(|| ValidationError::new("team", Rule::Required))?,
        limit,
        start,
    })
}

/// `{reference}`.
pub fn parse_link(body: &serde_json::Value) -> Result<Action, ApiError> {
    let fields = Fields::new("", guichet_edge::http::json_object(body)?, &["reference"])?;
    Ok(Action::Link(reference(
        "reference",
        fields.required_str("reference")?,
    )?))
}

/// `{version, status, note?}`.
pub fn parse_status(body: &serde_json::Value) -> Result<Action, ApiError> {
    let object = guichet_edge::http::json_object(body)?;
    let fields = Fields::new("", object, &["version", "status", "note"])?;
    let version = match object.get("version") {
        None | Some(serde_json::Value::Null) => {
            return Err(ValidationError::new("version", Rule::Required).into())
        }
        Some(value) => value.as_u64().filter(|v| *v >= 1).ok_or_else(|| {
            ValidationError::new(
                "version",
                Rule::Type {
                    expected: "a whole number of at least 1: the incident's version as read",
                },
            )
        })?,
    };
    let to = fields
        .choice("status", IncidentStatus::NAMES, IncidentStatus::parse)?
        .ok_or_else(|| ValidationError::new("status", Rule::Required))?;
    let note = fields.optional_text("note", NOTE_MAX_CHARS)?;
    Ok(Action::Status { version, to, note })
}

async fn serve<S: TicketStore, I: IncidentStore>(
    desk: &Desk<S>,
    incidents: &Incidents<I>,
    request: &Request,
) -> Result<Response<Body>, ApiError> {
    let caller = guichet_edge::http::actor_of(request)?;
    require_staff(&caller)?;
    let Some(raw_id) = path_param(request, "incident_id") else {
        // `GET /incidents`, the only route without an incident.
        if request.method() != Method::GET {
            return Err(ApiError::NotFound);
        }
        let listing = parse_listing(request)?;
        let page = incidents
            .current(&caller, listing.team, listing.limit, listing.start.as_ref())
            .await?;
        return Ok(json_response(
            StatusCode::OK,
            &CurrentPage {
                team: listing.team,
                incidents: &page.items,
                next_cursor: page.next.as_ref().map(PageCursor::to_cursor),
            },
        ));
    };
    let id = incident_id(raw_id)?;
    let span = tracing::Span::current();
    span.record("incident", id.as_str());
    let action = parse(request)?;
    match action {
        Action::View => {
            let record = incidents.view(&caller, &id).await?;
            Ok(view(StatusCode::OK, &record, None))
        }
        Action::Link(reference) => {
            span.record("ticket", reference.as_str());
            let linked = incidents.link(desk, &caller, &id, &reference).await?;
            let status = if linked.changed {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            Ok(view(status, &linked.record, Some(&linked.ticket)))
        }
        Action::Unlink(reference) => {
            span.record("ticket", reference.as_str());
            let unlinked = incidents.unlink(desk, &caller, &id, &reference).await?;
            Ok(view(
                StatusCode::OK,
                &unlinked.record,
                Some(&unlinked.ticket),
            ))
        }
        Action::Status { version, to, note } => {
            let updated = incidents
                .update_status(desk, &caller, &id, version, to, note)
                .await?;
            Ok(view(StatusCode::OK, &updated.record, None))
        }
    }
}

fn view(status: StatusCode, record: &IncidentRecord, ticket: Option<&Ticket>) -> Response<Body> {
    json_response(
        status,
        &IncidentView {
            record,
            ticket: ticket.map(TicketState::from),
        },
    )
}

#[cfg(test)]
mod properties;

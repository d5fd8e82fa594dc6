//! Multi-player incidents, for staff (`guichet_core::incidents::service` holds the rules and use cases):
//!
//! - `GET /incidents?team=&limit=&cursor=`: the team's current incidents (open or monitoring),
//!   newest first, a page at a time;
//! - `GET /incidents/{incident_id}`: the incident, its linked tickets and its status updates;
//! - `POST /incidents/{incident_id}/links` `{reference, state?, ticket_state?}`: links a ticket by hand (it becomes
//!   `urgent`); `201` when linked now, `200` when it already was;
//! - `DELETE /incidents/{incident_id}/links/{reference}` (optional body `{state?,
//!   ticket_state?}`): unlinks a ticket linked by mistake (it
//!   gets its intake priority back);
//! - `POST /incidents/{incident_id}/status` `{version, status, note?, state?}`: `open`, `monitoring` or
//!   `resolved`, on the incident's `version` as read. The update is recorded with the first
//!   page of its fan-out, which this handler relays to the incident-updates queue: the
//!   incident-updates function then tells every linked player whose ticket is still in work,
//!   a page of tickets at a time (resolving the incident resolves their tickets). Sending the
//!   same update again writes nothing and relays the same first page, which restarts a stalled
//!   fan-out without telling anyone twice.
//!
//! The incident's view and every action's answer carry `state` (the incident's token), and
//! a link's or an unlink's answer `ticket_state` (the ticket's): sent back with the next
//! action (`state` with a status update; both with a link, or in an unlink's optional body),
//! the action is one DynamoDB round trip, its write, conditioned on the stored records being
//! those (`guichet_core::common::seen`). Actions answer with the incident and what changed,
//! not the whole record: `GET` it for its links and updates.
//!
//! Staff only: supervisors, or agents of the incident's team (and, to link or unlink, of the
//! ticket's team). Players get `403`. A bad field is a `400` naming it; an unknown incident,
//! ticket or link a `404`; a stale version a `409` `stale`.

use guichet_core::common::paging::PageCursor;
use guichet_core::common::reference::TicketReference;
use guichet_core::common::seen::{self, Seen};
use guichet_core::common::validation::{Fields, Rule, ValidationError};
use guichet_core::incidents::ports::{IncidentRecord, IncidentStart, IncidentStore};
use guichet_core::incidents::rules::{Incident, IncidentId, IncidentStatus, IncidentUpdate};
use guichet_core::incidents::service::{Incidents, SeenPair};
use guichet_core::tickets::desk::Desk;
use guichet_core::tickets::ports::TicketStore;
use guichet_core::tickets::staff::require_staff;
use guichet_core::tickets::ticket::{Priority, Team, Ticket, TicketStatus};
use guichet_edge::http::{
    json_body, json_response, optional_json_body, page_params, path_param, unknown_param, ApiError,
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
    Link(TicketReference, Tokens),
    Unlink(TicketReference, Tokens),
    Status {
        version: u64,
        to: IncidentStatus,
        note: Option<String>,
        seen: Option<Seen<Incident>>,
    },
}

/// The `state` tokens a link or an unlink came with.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Tokens {
    pub incident: Option<Seen<Incident>>,
    pub ticket: Option<Seen<Ticket>>,
}

impl Tokens {
    fn parse(fields: &Fields<'_>) -> Result<Self, ValidationError> {
        Ok(Tokens {
            incident: token(fields, "state")?,
            ticket: token(fields, "ticket_state")?,
        })
    }

    fn pair(&self) -> SeenPair<'_> {
        SeenPair {
            incident: self.incident.as_ref(),
            ticket: self.ticket.as_ref(),
        }
    }
}

fn token<T: serde::Serialize + serde::de::DeserializeOwned>(
    fields: &Fields<'_>,
    name: &str,
) -> Result<Option<Seen<T>>, ValidationError> {
    fields
        .optional_str(name)?
        .map(|raw| Seen::parse(name, raw))
        .transpose()
}

/// What an action changed: the incident as it now is, the ticket a link or an unlink changed,
/// the status update recorded, and the tokens to send back with the next action.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IncidentChange<'a> {
    incident: &'a Incident,
    #[serde(skip_serializing_if = "Option::is_none")]
    ticket: Option<TicketState<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    update: Option<&'a IncidentUpdate>,
    /// The incident's token, for the next action on it.
    #[serde(skip_serializing_if = "Option::is_none")]
    state: Option<String>,
    /// The ticket's token, for the next link or unlink (or any action on the ticket).
    #[serde(skip_serializing_if = "Option::is_none")]
    ticket_state: Option<String>,
}

#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IncidentView<'a> {
    #[serde(flatten)]
    record: &'a IncidentRecord,
    /// The incident's token, to send back with an action on it (one round trip).
    #[serde(skip_serializing_if = "Option::is_none")]
    state: Option<String>,
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
        (&Method::DELETE, Some(raw)) => parse_unlink(raw, optional_json_body(request)?.as_ref()),
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

/// `{reference, state?, ticket_state?}`.
pub fn parse_link(body: &serde_json::Value) -> Result<Action, ApiError> {
    let fields = Fields::new(
        "",
        guichet_edge::http::json_object(body)?,
        &["reference", "state", "ticket_state"],
    )?;
    Ok(Action::Link(
        reference("reference", fields.required_str("reference")?)?,
        Tokens::parse(&fields)?,
    ))
}

/// An unlink's optional body: `{state?, ticket_state?}`.
pub fn parse_unlink(raw: &str, body: Option<&serde_json::Value>) -> Result<Action, ApiError> {
    let tokens = match body {
        None => Tokens::default(),
        Some(body) => {
            let object = guichet_edge::http::json_object(body)?;
            Tokens::parse(&Fields::new("", object, &["state", "ticket_state"])?)?
        }
    };
    Ok(Action::Unlink(reference("reference", raw)?, tokens))
}

/// `{version, status, note?}`.
pub fn parse_status(body: &serde_json::Value) -> Result<Action, ApiError> {
    let object = guichet_edge::http::json_object(body)?;
    let fields = Fields::new("", object, &["version", "status", "note", "state"])?;
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
    let seen = token(&fields, "state")?;
    Ok(Action::Status {
        version,
        to,
        note,
        seen,
    })
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
            Ok(json_response(
                StatusCode::OK,
                &IncidentView {
                    record: &record,
                    state: seen::token(&record.incident),
                },
            ))
        }
        Action::Link(reference, tokens) => {
            span.record("ticket", reference.as_str());
            let linked = incidents
                .link(desk, &caller, &id, &reference, tokens.pair())
                .await?;
            let status = if linked.changed {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            Ok(change(status, &linked.incident, Some(&linked.ticket), None))
        }
        Action::Unlink(reference, tokens) => {
            span.record("ticket", reference.as_str());
            let unlinked = incidents
                .unlink(desk, &caller, &id, &reference, tokens.pair())
                .await?;
            Ok(change(
                StatusCode::OK,
                &unlinked.incident,
                Some(&unlinked.ticket),
                None,
            ))
        }
        Action::Status {
            version,
            to,
            note,
            seen,
        } => {
            let updated = incidents
                .update_status(desk, &caller, &id, version, to, note, seen.as_ref())
                .await?;
            Ok(change(
                StatusCode::OK,
                &updated.incident,
                None,
                Some(&updated.update),
            ))
        }
    }
}

fn change(
    status: StatusCode,
    incident: &Incident,
    ticket: Option<&Ticket>,
    update: Option<&IncidentUpdate>,
) -> Response<Body> {
    json_response(
        status,
        &IncidentChange {
            incident,
            ticket: ticket.map(TicketState::from),
            update,
            state: seen::token(incident),
            ticket_state: ticket.and_then(seen::token),
        },
    )
}

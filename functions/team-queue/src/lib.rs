//! `GET /queues/{team}?limit=&cursor=`: a team's open tickets, most urgent first and in
//! arrival order within a priority, a page at a time. Supervisors read every team's queue;
//! agents only their own teams' (`team:<name>` groups); players none. Each ticket says whether
//! it is `overdue` (its response target passed while it was ours to answer).

use guichet_core::common::paging::PageCursor;
use guichet_core::common::validation::{Rule, ValidationError};
use guichet_core::tickets::desk::{Desk, TicketView};
use guichet_core::tickets::ports::TicketStore;
use guichet_core::tickets::sla::overdue;
use guichet_core::tickets::staff::require_staff;
use guichet_core::tickets::ticket::Team;
use guichet_edge::http::{json_response, page_params, path_param, unknown_param, ApiError};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use tracing::{field::Empty, info_span};

pub const DEFAULT_LIMIT: u16 = 20;
pub const MAX_LIMIT: u16 = 50;

#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QueuePage {
    team: Team,
    tickets: Vec<QueueEntry>,
    next_cursor: Option<String>,
}

/// A ticket as its team's queue shows it: with whether it has missed its response target, so
/// that an agent sees at a glance which players have waited too long.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QueueEntry {
    #[serde(flatten)]
    view: TicketView,
    overdue: bool,
}

pub async fn handle<S: TicketStore>(desk: &Desk<S>, request: Request) -> Response<Body> {
    guichet_edge::http::respond(
        &request,
        |id| info_span!("team_queue", request_id = %id, team = Empty),
        queue(desk, &request),
    )
    .await
}

async fn queue<S: TicketStore>(
    desk: &Desk<S>,
    request: &Request,
) -> Result<Response<Body>, ApiError> {
    let caller = guichet_edge::http::actor_of(request)?;
    require_staff(&caller)?;
    let raw = path_param(request, "team").unwrap_or("");
    let team = Team::parse(raw).ok_or_else(|| {
        ValidationError::new(
            "team",
            Rule::OneOf {
                allowed: Team::NAMES,
            },
        )
    })?;
    tracing::Span::current().record("team", team.as_str());
    if !caller.works_for(team) {
        return Err(ApiError::OtherTeam { team });
    }
    let (limit, start) = page_params(request, (DEFAULT_LIMIT, MAX_LIMIT), unknown_param)?;
    let page = desk.team_queue(team, limit, start.as_ref()).await?;
    let now = desk.clock.now();
    Ok(json_response(
        StatusCode::OK,
        &QueuePage {
            team,
            tickets: page
                .items
                .iter()
                .map(|ticket| QueueEntry {
                    view: TicketView::for_staff(desk, ticket, None),
                    overdue: overdue(ticket, now),
                })
                .collect(),
            next_cursor: page.next.as_ref().map(PageCursor::to_cursor),
        },
    ))
}

//! `GET /queues/{team}?limit=&cursor=`: a team's open tickets, most urgent first and in
//! arrival order within a priority, a page at a time. Supervisors read every team's queue;
//! agents only their own teams' (`team:<name>` groups); players none. Each ticket says whether
//! it is `overdue` (its response target passed while it was ours to answer).

use guichet_core::common::paging::PageCursor;
use guichet_core::common::player::Language;
use guichet_core::common::validation::{Rule, ValidationError};
use guichet_core::tickets::desk::{Desk, TicketView};
use guichet_core::tickets::ports::TicketStore;
use guichet_core::tickets::saved_replies::{SavedReplies, SavedReply};
use guichet_core::tickets::sla::overdue;
use guichet_core::tickets::staff::require_staff;
use guichet_core::tickets::ticket::Team;
use guichet_edge::http::{
    json_response, known_params, page_params, path_param, unknown_param, ApiError,
};
use lambda_http::http::StatusCode;
use lambda_http::RequestExt;
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

/// The team's saved replies in one language.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SavedReplyList {
    team: Team,
    language: Language,
    replies: Vec<SavedReply>,
}

pub async fn handle<S: TicketStore>(
    desk: &Desk<S>,
    replies: &SavedReplies,
    request: Request,
) -> Response<Body> {
    let saved = guichet_edge::http::route_key(&request)
        .is_some_and(|route| route.ends_with("/saved-replies"));
    if saved {
        return guichet_edge::http::respond(
            &request,
            |id| info_span!("saved_replies", request_id = %id, team = Empty),
            saved_replies(replies, &request),
        )
        .await;
    }
    guichet_edge::http::respond(
        &request,
        |id| info_span!("team_queue", request_id = %id, team = Empty),
        queue(desk, &request),
    )
    .await
}

/// `GET /queues/{team}/saved-replies?language=fr|en`: the team's saved replies, for its
/// agents and supervisors; in `language`, else the request's `Accept-Language`, else French.
async fn saved_replies(
    replies: &SavedReplies,
    request: &Request,
) -> Result<Response<Body>, ApiError> {
    let caller = guichet_edge::http::actor_of(request)?;
    require_staff(&caller)?;
    let team = team_of(request)?;
    tracing::Span::current().record("team", team.as_str());
    if !caller.works_for(team) {
        return Err(ApiError::OtherTeam { team });
    }
    known_params(request, &["language"])?;
    let asked = request
        .query_string_parameters_ref()
        .and_then(|q| q.first("language").map(str::to_owned));
    let language = match asked {
        Some(raw) => Language::parse(&raw).ok_or_else(|| {
            ValidationError::new(
                "language",
                Rule::OneOf {
                    allowed: Language::NAMES,
                },
            )
        })?,
        None => Language::from_accept_language(guichet_edge::http::header_str(
            request.headers(),
            "accept-language",
        )),
    };
    Ok(json_response(
        StatusCode::OK,
        &SavedReplyList {
            team,
            language,
            replies: replies.for_team(team, language),
        },
    ))
}

/// The `{team}` of the path, named in the error when it is not one.
fn team_of(request: &Request) -> Result<Team, ValidationError> {
    let raw = path_param(request, "team").unwrap_or("");
    Team::parse(raw).ok_or_else(|| {
        ValidationError::new(
            "team",
            Rule::OneOf {
                allowed: Team::NAMES,
            },
        )
    })
}

async fn queue<S: TicketStore>(
    desk: &Desk<S>,
    request: &Request,
) -> Result<Response<Body>, ApiError> {
    let caller = guichet_edge::http::actor_of(request)?;
    require_staff(&caller)?;
    let team = team_of(request)?;
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

//! `GET /players/{player_id}/support`: the agent on a chat or a call looks the player up and
//! sees their tickets still in work and where their identity verification stands. Agents of any
//! team, supervisors and the verification team; every look-up is audited before it is answered
//! (`guichet_core::tickets::lookup`).

use guichet_core::common::player::PlayerId;
use guichet_core::common::validation::{Rule, ValidationError};
use guichet_core::tickets::desk::Desk;
use guichet_core::tickets::lookup::LookupAudit;
use guichet_core::tickets::ports::TicketStore;
use guichet_core::verification::ports::CaseStore;
use guichet_edge::http::{json_response, known_params, path_param, ApiError};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use tracing::info_span;

pub async fn handle<S, C, A>(
    desk: &Desk<S>,
    cases: &C,
    audit: &A,
    request: Request,
) -> Response<Body>
where
    S: TicketStore,
    C: CaseStore,
    A: LookupAudit,
{
    guichet_edge::http::respond(
        &request,
        |id| info_span!("player_support", request_id = %id),
        look_up(desk, cases, audit, &request),
    )
    .await
}

async fn look_up<S, C, A>(
    desk: &Desk<S>,
    cases: &C,
    audit: &A,
    request: &Request,
) -> Result<Response<Body>, ApiError>
where
    S: TicketStore,
    C: CaseStore,
    A: LookupAudit,
{
    let caller = guichet_edge::http::actor_of(request)?;
    guichet_core::tickets::lookup::may_look_up(&caller)?;
    known_params(request, &[])?;
    let raw = path_param(request, "player_id").unwrap_or("");
    let player =
        PlayerId::parse(raw).ok_or_else(|| ValidationError::new("player_id", Rule::PlayerId))?;
    let support = desk.look_up(&caller, &player, cases, audit).await?;
    tracing::info!(
        open_tickets = support.open_tickets.len(),
        verification = support.verification.is_some(),
        "player looked up"
    );
    Ok(json_response(StatusCode::OK, &support))
}

//! `GET /players/{player_id}/eligibility?action=...`: the one place the casino's other systems
//! (the `service` role) ask whether a money-moving or sensitive action may proceed for a player.
//! The answer is allowed or not, with the reason and, when not allowed, the case it waits on.

use guichet_core::common::access::Role;
use guichet_core::common::player::PlayerId;
use guichet_core::common::validation::{Rule, ValidationError};
use guichet_core::documents::ports::DocumentStorage;
use guichet_core::verification::ports::CaseStore;
use guichet_core::verification::rules::GatedAction;
use guichet_core::verification::service::Verification;
use guichet_edge::http::{json_response, known_params, path_param, ApiError};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, RequestExt, Response};
use tracing::info_span;

pub async fn handle<C: CaseStore, D: DocumentStorage>(
    v: &Verification<C, D>,
    request: Request,
) -> Response<Body> {
    guichet_edge::http::respond(
        &request,
        |id| info_span!("eligibility", request_id = %id),
        answer(v, &request),
    )
    .await
}

async fn answer<C: CaseStore, D: DocumentStorage>(
    v: &Verification<C, D>,
    request: &Request,
) -> Result<Response<Body>, ApiError> {
    let caller = guichet_edge::http::actor_of(request)?;
    // Only the casino's systems: a player must not probe another player's verification state,
    // and staff read cases through the review routes.
    caller.require(Role::Service)?;
    let raw = path_param(request, "player_id").unwrap_or("");
    let player =
        PlayerId::parse(raw).ok_or_else(|| ValidationError::new("player_id", Rule::PlayerId))?;
    let action = action(request)?;
    let answer = v.eligibility(&player, action).await?;
    tracing::info!(
        action = action.as_str(),
        allowed = answer.allowed,
        case = answer.case.as_ref().map(|c| c.as_str()),
        "eligibility answered"
    );
    Ok(json_response(StatusCode::OK, &answer))
}

fn action(request: &Request) -> Result<GatedAction, ValidationError> {
    known_params(request, &["action"])?;
    let query = request.query_string_parameters();
    let raw = query
        .first("action")
        .ok_or_else(|| ValidationError::new("action", Rule::Required))?;
    GatedAction::parse(raw).ok_or_else(|| {
        ValidationError::new(
            "action",
            Rule::OneOf {
                allowed: GatedAction::NAMES,
            },
        )
    })
}

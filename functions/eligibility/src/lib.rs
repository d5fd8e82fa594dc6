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
use guichet_edge::http::{json_response, ApiError};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, RequestExt, Response};

pub async fn handle<C: CaseStore, D: DocumentStorage>(
    v: &Verification<C, D>,
    request: Request,
) -> Response<Body> {
    guichet_edge::http::respond(
        &request,
        |request_id| tracing::info_span!("eligibility", request_id = %request_id),
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
    let raw = request
        .path_parameters_ref()
        .and_then(|p| p.first("player_id"))
        .unwrap_or("");
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
    let query = request.query_string_parameters();
    let mut unknown: Vec<&str> = query
        .iter()
        .map(|(name, _)| name)
        .filter(|name| *name != "action")
        .collect();
    unknown.sort_unstable();
    if let Some(name) = unknown.first() {
        return Err(ValidationError::new(*name, Rule::UnknownField));
    }
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

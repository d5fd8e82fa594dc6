//! The HTTP edge shared by every API function: who is calling, reading a JSON body within
//! limits, and turning every outcome into one JSON response shape. Errors are mapped to a
//! status here, once; their internals never reach a response body.

use lambda_http::http::{header, HeaderMap, StatusCode};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Serialize;
use std::future::Future;
use tracing::{Instrument, Span};

use guichet_core::common::access::{Actor, Role};
use guichet_core::common::paging::PageCursor;
use guichet_core::common::player::PlayerId;
use guichet_core::common::validation::{Rule, ValidationError};
use guichet_core::tickets::ticket::Team;

use crate::json::StrictJsonError;

/// Support requests are text; 48 KiB holds the longest description with room for JSON, and
/// the longest reply beside the `state` token of the ticket it answers (at most 16 KiB).
pub const MAX_BODY_BYTES: usize = 48 * 1024;

/// The claim that carries the caller's groups. API Gateway's JWT authorizer hands claims to
/// the function as strings, an array claim as `[a b]`.
pub const GROUPS_CLAIM: &str = "cognito:groups";

/// Reads the caller from the request context as the domain actor. In AWS the authorizer has
/// already refused a missing or bad token; this refuses a request that somehow arrives without
/// claims.
pub fn actor_of(request: &Request) -> Result<Actor, ApiError> {
    let claims = match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => context
            .authorizer
            .as_ref()
            .and_then(|a| a.jwt.as_ref())
            .map(|jwt| &jwt.claims),
        _ => None,
    }
    .ok_or(ApiError::Unauthenticated)?;
    let subject = claims
        .get("sub")
        .and_then(|s| PlayerId::parse(s))
        .ok_or(ApiError::Unauthenticated)?;
    let groups = claims.get(GROUPS_CLAIM).map(String::as_str).unwrap_or("");
    Ok(Actor {
        subject,
        roles: parse_groups(groups),
        teams: parse_teams(groups),
        email: claims
            .get("email")
            .and_then(|e| guichet_core::common::contact::ContactAddress::parse(e)),
    })
}

/// The group names of the claim as API Gateway's JWT authorizer renders an array claim:
/// `[player agent]`, one outer pair of brackets, names separated by single spaces. Cognito's
/// group names hold no white space, so that rendering is unambiguous; anything else (a stray
/// bracket, a double or trailing space, a JSON array, a bare string) is not a claim the
/// identity provider and the authorizer produce together, and grants nothing.
fn group_names(raw: &str) -> Vec<&str> {
    let Some(inner) = raw.strip_prefix('[').and_then(|r| r.strip_suffix(']')) else {
        return Vec::new();
    };
    if inner.is_empty() {
        return Vec::new();
    }
    let names: Vec<&str> = inner.split(' ').collect();
    let well_formed = names.iter().all(|name| {
        !name.is_empty()
            && !name
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '[' | ']'))
    });
    if well_formed {
        names
    } else {
        Vec::new()
    }
}

/// The roles among the claim's groups, matched exactly; unknown groups are ignored, never an
/// error.
pub fn parse_groups(raw: &str) -> Vec<Role> {
    first_of_each(group_names(raw).into_iter().filter_map(Role::parse))
}

/// The teams of the claim's `team:<name>` groups, matched exactly; unknown teams are ignored.
pub fn parse_teams(raw: &str) -> Vec<Team> {
    first_of_each(
        group_names(raw)
            .into_iter()
            .filter_map(|g| g.strip_prefix("team:"))
            .filter_map(Team::parse),
    )
}

/// Each item once, in the order it first appears: a group named twice, next to each other or
/// not, grants once (`Vec::dedup` only drops neighbours).
fn first_of_each<T: PartialEq>(items: impl Iterator<Item = T>) -> Vec<T> {
    let mut unique = Vec::new();
    for item in items {
        if !unique.contains(&item) {
            unique.push(item);
        }
    }
    unique
}

/// The API Gateway request id, which correlates our logs with the gateway's access log.
pub fn request_id(request: &Request) -> String {
    match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => context.request_id.clone(),
        _ => None,
    }
    .unwrap_or_else(|| "-".to_owned())
}

/// The API Gateway route key (`GET /cases/{case_id}`), by which a function serving several
/// routes picks its action.
pub fn route_key(request: &Request) -> Option<String> {
    match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => context.route_key.clone(),
        _ => None,
    }
}

/// Answers one API request: `run` (the handler's own work) inside the span `span_for` makes of
/// the request id, and a failure turned into its JSON response there, so an internal error is
/// logged with the span's fields. Each handler's span declares, empty, the fields it records
/// once known (the ticket, the case): identifiers only, never a name, an address or a body.
pub async fn respond(
    request: &Request,
    span_for: impl FnOnce(&str) -> Span,
    run: impl Future<Output = Result<Response<Body>, ApiError>>,
) -> Response<Body> {
    let request_id = request_id(request);
    let span = span_for(&request_id);
    async move {
        run.await
            .unwrap_or_else(|error| error.into_response(&request_id))
    }
    .instrument(span)
    .await
}

pub fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The body as a JSON object, or a `400` naming `body` (an array, a string... is not one).
pub fn json_object(
    body: &serde_json::Value,
) -> Result<&serde_json::Map<String, serde_json::Value>, ValidationError> {
    body.as_object().ok_or_else(|| {
        ValidationError::new(
            "body",
            Rule::Type {
                expected: "a JSON object",
            },
        )
    })
}

/// A path parameter as the route captured it; `None` on a route without it.
pub fn path_param<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request.path_parameters_ref().and_then(|p| p.first(name))
}

/// The `{reference}` path parameter, checked (check symbol included): a `400` naming
/// `reference` otherwise. Recorded on the current span, which every ticket handler declares.
pub fn reference_param(
    request: &Request,
) -> Result<guichet_core::common::reference::TicketReference, ValidationError> {
    let raw = path_param(request, "reference").unwrap_or("");
    let reference = guichet_core::common::reference::TicketReference::parse(raw)
        .map_err(|_| ValidationError::new("reference", Rule::Reference))?;
    tracing::Span::current().record("ticket", reference.as_str());
    Ok(reference)
}

/// The `limit` query parameter of a listing: a whole number from 1 to `max`, a `400` naming
/// `limit` and the range otherwise.
pub fn limit_param(raw: &str, max: u16) -> Result<u16, ValidationError> {
    raw.parse::<u16>()
        .ok()
        .filter(|l| (1..=max).contains(l))
        .ok_or_else(|| {
            ValidationError::new(
                "limit",
                Rule::Range {
                    min: 1,
                    max: i64::from(max),
                },
            )
        })
}

/// A listing's query, in the order the parameters came: `limit` (see [`limit_param`];
/// `default` when absent), `cursor` (see [`cursor_param`]), and each other parameter handed to
/// `other`, which reads the ones its route adds and refuses the rest (see [`unknown_param`]).
pub fn page_params<T: PageCursor>(
    request: &Request,
    (default, max): (u16, u16),
    mut other: impl FnMut(&str, &str) -> Result<(), ValidationError>,
) -> Result<(u16, Option<T>), ValidationError> {
    let mut limit = default;
    let mut start = None;
    if let Some(query) = request.query_string_parameters_ref() {
        for (name, value) in query.iter() {
            match name {
                "limit" => limit = limit_param(value, max)?,
                "cursor" => start = Some(cursor_param(value)?),
                _ => other(name, value)?,
            }
        }
    }
    Ok((limit, start))
}

/// A query parameter the route does not read: a `400` naming it.
pub fn unknown_param(name: &str, _value: &str) -> Result<(), ValidationError> {
    Err(ValidationError::new(name, Rule::UnknownField))
}

/// Refuses any query parameter but the `known` ones, naming the first unknown one in sorted
/// order, so that the error does not depend on the order the client wrote them in.
pub fn known_params(request: &Request, known: &[&str]) -> Result<(), ValidationError> {
    let query = request.query_string_parameters();
    let mut unknown: Vec<&str> = query
        .iter()
        .map(|(name, _)| name)
        .filter(|name| !known.contains(name))
        .collect();
    unknown.sort_unstable();
    match unknown.first() {
        Some(name) => unknown_param(name, ""),
        None => Ok(()),
    }
}

/// The `cursor` query parameter: a `400` naming `cursor` when it is not one this API handed
/// out for this listing.
pub fn cursor_param<T: PageCursor>(raw: &str) -> Result<T, ValidationError> {
    T::from_cursor(raw).ok_or_else(|| ValidationError::new("cursor", Rule::Opaque))
}

/// Checks the content type and size and parses the JSON, naming what is wrong.
/// A body that may be left out (an action whose only field is optional): none when the
/// request has no body at all, otherwise as [`json_body`] reads it.
pub fn optional_json_body(request: &Request) -> Result<Option<serde_json::Value>, ApiError> {
    if request.body().as_ref().is_empty() {
        return Ok(None);
    }
    json_body(request).map(Some)
}

pub fn json_body(request: &Request) -> Result<serde_json::Value, ApiError> {
    let content_type = header_str(request.headers(), header::CONTENT_TYPE.as_str()).unwrap_or("");
    let media_type = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if media_type != "application/json" {
        return Err(ApiError::UnsupportedMediaType);
    }
    let bytes: &[u8] = request.body().as_ref();
    if bytes.len() > MAX_BODY_BYTES {
        return Err(ApiError::PayloadTooLarge);
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::Invalid(ValidationError::new(
            "body",
            Rule::Required,
        )));
    }
    crate::json::from_slice(bytes).map_err(|error| {
        ApiError::Invalid(match error {
            StrictJsonError::DuplicateKey(field) => ValidationError::new(field, Rule::DuplicateKey),
            StrictJsonError::Malformed => ValidationError::new(
                "body",
                Rule::Type {
                    expected: "well-formed UTF-8 JSON",
                },
            ),
        })
    })
}

/// The `Idempotency-Key` header, if sent: a malformed one is a `400` naming the header.
pub fn idempotency_key(
    request: &Request,
) -> Result<Option<guichet_core::tickets::ports::IdempotencyKey>, ApiError> {
    use guichet_core::tickets::ports::IdempotencyKey;
    let Some(value) = request.headers().get(IDEMPOTENCY_HEADER) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .and_then(IdempotencyKey::parse)
        .map(Some)
        .ok_or_else(|| {
            ApiError::Invalid(ValidationError::new(
                "Idempotency-Key",
                Rule::Token {
                    min: IdempotencyKey::MIN_LEN,
                    max: IdempotencyKey::MAX_LEN,
                },
            ))
        })
}

/// The header a client sends so that a retry does not act twice.
pub const IDEMPOTENCY_HEADER: &str = "idempotency-key";

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("a valid bearer token is required")]
    Unauthenticated,
    /// A request signed by a partner system (the live-chat tool) whose signature does not
    /// hold: the header at fault is named, nothing else.
    #[error("{0}")]
    BadSignature(guichet_core::handoffs::signature::SignatureError),
    #[error("this route needs the {} role", required.as_str())]
    Forbidden { required: Role },
    /// Staff acting on another team's queue or ticket.
    #[error("only the {} team's agents and supervisors may do this", team.as_str())]
    OtherTeam { team: Team },
    #[error("no such resource")]
    NotFound,
    #[error("{0}")]
    Invalid(ValidationError),
    #[error("the body is larger than {MAX_BODY_BYTES} bytes")]
    PayloadTooLarge,
    #[error("the body must be sent as Content-Type: application/json")]
    UnsupportedMediaType,
    #[error("this Idempotency-Key was already used for a different request; use a new key")]
    IdempotencyKeyReused,
    #[error("the service is busy; retry with the same Idempotency-Key")]
    Busy,
    /// A dependency (the table, the bucket, a queue) did not answer in time or asked us to
    /// slow down. Answered exactly as [`ApiError::Busy`]; the cause is logged, never returned.
    #[error("the service is busy; retry with the same Idempotency-Key")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The request is well-formed but cannot apply to the resource as it stands now (a player
    /// who already has an open case, a decision on a case that changed or was already decided).
    /// `reason` is a stable code a client can branch on; the message is for people.
    #[error("{message}")]
    Conflict {
        reason: &'static str,
        message: String,
    },
    /// A conflict caused by what one field of the request names (the ticket a duplicate is
    /// merged into): answered as [`ApiError::Conflict`], with the `field` too.
    #[error("{message}")]
    ConflictWith {
        field: &'static str,
        reason: &'static str,
        message: String,
    },
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthenticated | ApiError::BadSignature(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden { .. } | ApiError::OtherTeam { .. } => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::Invalid(_) => StatusCode::BAD_REQUEST,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Busy | ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Conflict { .. } | ApiError::ConflictWith { .. } => StatusCode::CONFLICT,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthenticated | ApiError::BadSignature(_) => "unauthenticated",
            ApiError::Forbidden { .. } | ApiError::OtherTeam { .. } => "forbidden",
            ApiError::NotFound => "not_found",
            ApiError::Invalid(_) => "validation_failed",
            ApiError::PayloadTooLarge => "payload_too_large",
            ApiError::UnsupportedMediaType => "unsupported_media_type",
            ApiError::IdempotencyKeyReused => "idempotency_key_reused",
            ApiError::Busy | ApiError::Unavailable(_) => "busy",
            ApiError::Conflict { .. } | ApiError::ConflictWith { .. } => "conflict",
            ApiError::Internal(_) => "internal",
        }
    }

    /// The one place an error becomes a response. Internal causes are logged (they carry no
    /// player data: store errors name attributes, never values) and replaced by a request id.
    pub fn into_response(self, request_id: &str) -> Response<Body> {
        let mut body = serde_json::json!({
            "error": self.code(),
            "message": self.to_string(),
        });
        match &self {
            ApiError::Invalid(e) => merge(&mut body, e),
            ApiError::PayloadTooLarge => {
                body["field"] = "body".into();
                body["rule"] = "max_bytes".into();
                body["max"] = MAX_BODY_BYTES.into();
            }
            ApiError::UnsupportedMediaType => {
                body["field"] = "Content-Type".into();
                body["rule"] = "one_of".into();
                body["allowed"] = serde_json::json!(["application/json"]);
            }
            ApiError::IdempotencyKeyReused => {
                body["field"] = "Idempotency-Key".into();
                body["rule"] = "same_request".into();
            }
            ApiError::BadSignature(refused) => {
                use guichet_core::handoffs::signature::SignatureError;
                body["field"] = refused.header().into();
                body["rule"] = match refused {
                    SignatureError::Missing(_) => "required",
                    SignatureError::Malformed(_) => "signature_format",
                    SignatureError::OutsideWindow => "signature_window",
                    SignatureError::Mismatch => "signature",
                }
                .into();
            }
            ApiError::Forbidden { required } => body["required_role"] = required.as_str().into(),
            ApiError::OtherTeam { team } => body["required_team"] = team.as_str().into(),
            ApiError::Conflict { reason, .. } => body["reason"] = (*reason).into(),
            ApiError::ConflictWith { field, reason, .. } => {
                body["field"] = (*field).into();
                body["reason"] = (*reason).into();
            }
            ApiError::Internal(cause) => {
                tracing::error!(error = %cause, source = ?cause.source(), "request failed");
                body["request_id"] = request_id.into();
            }
            ApiError::Unavailable(cause) => {
                tracing::warn!(
                    error = %cause,
                    source = ?cause.source(),
                    "a dependency is unavailable: answered 503"
                );
            }
            _ => {}
        }
        let mut response = json_response(self.status(), &body);
        if matches!(self, ApiError::Busy | ApiError::Unavailable(_)) {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
        }
        if matches!(self, ApiError::Unauthenticated) {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}

/// The one error body, as [`ApiError::into_response`] writes it (and the local gateway for what
/// API Gateway answers by itself): its schema in the API's OpenAPI description. Other keys
/// carry the broken rule's limits (`min`, `max`, `allowed`, `expected`...).
#[cfg(feature = "openapi")]
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // Only its schema is used; the body itself is built in `into_response`.
pub struct ErrorBody {
    /// A stable code to branch on: `validation_failed`, `forbidden`, `not_found`,
    /// `conflict`, `unauthenticated`, `payload_too_large`, `unsupported_media_type`,
    /// `idempotency_key_reused`, `busy`, `internal`; from the local gateway also
    /// `bad_request`, `uri_too_long`, `header_fields_too_large`, `unavailable`.
    error: String,
    /// For people.
    message: String,
    /// Bad input: the field (dotted path), header or parameter at fault.
    #[schema(nullable = false)]
    field: Option<String>,
    /// Bad input: the rule it breaks, e.g. `required`, `one_of`, `min_length`.
    #[schema(nullable = false)]
    rule: Option<String>,
    /// `403`: the role the route needs.
    #[schema(nullable = false)]
    required_role: Option<String>,
    /// `403`: the team whose staff may do this.
    #[schema(nullable = false)]
    required_team: Option<String>,
    /// `409`: why the state refuses it, e.g. `stale`, `wrong_state`.
    #[schema(nullable = false)]
    reason: Option<String>,
    /// `500`: the id that finds the failure in the logs.
    #[schema(nullable = false)]
    request_id: Option<String>,
}

fn merge(body: &mut serde_json::Value, error: &ValidationError) {
    if let (Some(target), Ok(serde_json::Value::Object(extra))) =
        (body.as_object_mut(), serde_json::to_value(error))
    {
        target.extend(extra);
    }
}

pub fn json_response(status: StatusCode, body: &impl Serialize) -> Response<Body> {
    // Our response types serialise infallibly; the fallback keeps the contract anyway.
    let text = serde_json::to_string(body)
        .unwrap_or_else(|_| r#"{"error":"internal","message":"internal error"}"#.to_owned());
    let mut response = Response::new(Body::Text(text));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json; charset=utf-8"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    headers.insert(
        "x-content-type-options",
        header::HeaderValue::from_static("nosniff"),
    );
    response
}

/// How long before Lambda would stop the function a request still being worked on is answered
/// `503 busy` instead: time to write the response, so the caller gets the documented JSON and
/// `Retry-After` rather than API Gateway's own bare 503.
pub const DEADLINE_MARGIN: std::time::Duration = std::time::Duration::from_millis(500);

/// Runs an API function's handler on the Lambda runtime: every request goes through `handle`,
/// which answers every outcome itself (an error is already its JSON response), so the runtime
/// never sees a handler error. A request still unanswered [`DEADLINE_MARGIN`] before the
/// invocation's deadline is answered `503 busy` ([`within`]). Written once for every API
/// function's `main`.
pub async fn serve<F, Fut>(handle: F) -> Result<(), lambda_http::Error>
where
    F: Fn(Request) -> Fut,
    Fut: std::future::Future<Output = Response<Body>> + Send,
{
    lambda_http::run(lambda_http::service_fn(move |request: Request| {
        let context = request.lambda_context_ref();
        let budget = context.and_then(|c| {
            c.deadline()
                .duration_since(std::time::SystemTime::now())
                .ok()?
                .checked_sub(DEADLINE_MARGIN)
        });
        let request_id = context.map(|c| c.request_id.clone()).unwrap_or_default();
        let answer = handle(request);
        async move { Ok::<_, std::convert::Infallible>(within(budget, answer, &request_id).await) }
    }))
    .await
}

/// `answer`, or `503 busy` with `Retry-After` if it is not ready within `budget` (`None`: no
/// limit). Dropping an unfinished handler leaves nothing half written: each change is one
/// DynamoDB transaction, committed or not, and what follows a commit (relaying the outbox) is
/// redone by the outbox sweep; a retry with the same Idempotency-Key finds what committed.
pub async fn within<Fut>(
    budget: Option<std::time::Duration>,
    answer: Fut,
    request_id: &str,
) -> Response<Body>
where
    Fut: std::future::Future<Output = Response<Body>>,
{
    let Some(budget) = budget else {
        return answer.await;
    };
    match tokio::time::timeout(budget, answer).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(
                budget_ms = budget.as_millis() as u64,
                "no answer before the deadline: answered 503"
            );
            ApiError::Busy.into_response(request_id)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_are_read_as_the_authorizer_renders_them() {
        assert_eq!(parse_groups("[player]"), vec![Role::Player]);
        assert_eq!(
            parse_groups("[agent supervisor]"),
            vec![Role::Agent, Role::Supervisor]
        );
        assert!(parse_groups("[]").is_empty());
        assert_eq!(parse_groups("[player admin]"), vec![Role::Player]);
        assert_eq!(
            parse_teams("[agent team:payments team:games]"),
            vec![Team::Payments, Team::Games]
        );
        assert!(parse_teams("[agent team:nobody]").is_empty());
        assert_eq!(parse_groups("[agent team:payments]"), vec![Role::Agent]);
    }

    #[test]
    fn anything_but_that_rendering_grants_nothing() {
        for raw in [
            "",
            "supervisor",
            "player, admin",
            r#"["agent","supervisor"]"#,
            "[[supervisor]",
            "[supervisor]]",
            "[supervisor ]",
            "[ supervisor]",
            "[agent  supervisor]",
            "[agent\tsupervisor]",
            "[agent supervisor] ",
            " [agent supervisor]",
            "[Supervisor]",
            "[supervisor\u{00A0}]",
        ] {
            assert!(parse_groups(raw).is_empty(), "{raw:?}");
        }
        for raw in [
            "[agent team:Technical]",
            "[agent team:technical ]",
            "[agent team: technical]",
            "[agent [team:technical]",
            "[agent team:technical,team:payments]",
        ] {
            assert!(parse_teams(raw).is_empty(), "{raw:?}");
        }
    }

    #[test]
    fn the_route_key_names_the_route_and_is_absent_without_a_context() {
        let request = crate::testing::event("eligibility.json");
        assert_eq!(
            route_key(&request).as_deref(),
            Some("GET /players/{player_id}/eligibility")
        );
        assert_eq!(route_key(&Request::default()), None);
        assert_eq!(request_id(&Request::default()), "-");
    }

    #[tokio::test]
    async fn a_handler_answer_passes_through_and_its_error_becomes_its_status() {
        let request = crate::testing::event("eligibility.json");
        let expected_id = request_id(&request);
        assert_ne!(expected_id, "-", "the sample event carries a request id");
        let mut seen = Vec::new();
        let ok = respond(
            &request,
            |id| {
                seen.push(id.to_owned());
                tracing::info_span!("test", request_id = %id)
            },
            async {
                Ok(json_response(
                    StatusCode::CREATED,
                    &serde_json::json!({"a": 1}),
                ))
            },
        )
        .await;
        assert_eq!(seen, [expected_id.as_str()]);
        assert_eq!(ok.status(), StatusCode::CREATED);
        assert_eq!(crate::testing::body_json(&ok), serde_json::json!({"a": 1}));

        let not_found = respond(&request, |_| Span::none(), async {
            Err(ApiError::NotFound)
        })
        .await;
        assert_eq!(not_found.status(), StatusCode::NOT_FOUND);
        assert_eq!(crate::testing::body_json(&not_found)["error"], "not_found");

        let internal = respond(&request, |_| Span::none(), async {
            Err(ApiError::Internal(Box::new(std::io::Error::other(
                "detail",
            ))))
        })
        .await;
        assert_eq!(internal.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = crate::testing::body_json(&internal);
        assert_eq!(body["request_id"], expected_id.as_str());
        assert!(!body.to_string().contains("detail"));
    }

    #[test]
    fn errors_map_to_statuses_once() {
        let invalid = ApiError::Invalid(ValidationError::new("subject", Rule::Required));
        let response = invalid.into_response("r-1");
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let body: serde_json::Value =
            serde_json::from_slice(response.body().as_ref()).expect("json");
        assert_eq!(body["field"], "subject");
        assert_eq!(body["rule"], "required");
        assert_eq!(body["message"], "subject is required");

        let internal = ApiError::Internal(Box::new(std::io::Error::other("secret detail")));
        let response = internal.into_response("r-2");
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let text = std::str::from_utf8(response.body().as_ref()).expect("utf-8");
        assert!(!text.contains("secret detail"));
        assert!(text.contains("r-2"));
    }

    #[test]
    fn verification_outcomes_map_to_statuses_once() {
        use guichet_core::verification::rules::{CaseError, CaseStatus, DocumentKind};
        use guichet_core::verification::service::KycError;
        let status = |e: KycError| {
            let response = ApiError::from(e).into_response("r-3");
            let body: serde_json::Value =
                serde_json::from_slice(response.body().as_ref()).expect("json");
            (response.status(), body)
        };
        let (code, body) = status(KycError::PlayerHasOpenCase);
        assert_eq!(code, StatusCode::CONFLICT);
        assert_eq!(body["error"], "conflict");
        assert_eq!(body["reason"], "player_has_open_case");
        assert_eq!(status(KycError::Stale).1["reason"], "stale");
        assert_eq!(status(KycError::NoOpenCase).0, StatusCode::CONFLICT);
        assert_eq!(status(KycError::CaseNotFound).0, StatusCode::NOT_FOUND);
        let (code, body) = status(KycError::Case(CaseError::WrongState {
            expected: CaseStatus::InReview,
            actual: CaseStatus::Approved,
        }));
        assert_eq!(code, StatusCode::CONFLICT);
        assert_eq!(body["reason"], "wrong_state");
        let (code, body) = status(KycError::Case(CaseError::SeniorRequired));
        assert_eq!(code, StatusCode::FORBIDDEN);
        assert_eq!(body["required_role"], "verification_senior");
        let (code, body) = status(KycError::Case(CaseError::NotRequired(
            DocumentKind::ProofOfAddress,
        )));
        assert_eq!(code, StatusCode::BAD_REQUEST);
        assert_eq!(body["field"], "kind");
        let (code, body) = status(KycError::Store(
            guichet_core::common::store::StoreError::Corrupt { attribute: "body" },
        ));
        assert_eq!(code, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!body.to_string().contains("attribute"));
    }

    #[tokio::test]
    async fn a_request_not_answered_before_the_deadline_is_a_json_503() {
        let slow = async {
            tokio::time::sleep(std::time::Duration::from_secs(5)).await;
            json_response(StatusCode::OK, &serde_json::json!({}))
        };
        let started = std::time::Instant::now();
        let response = within(Some(std::time::Duration::from_millis(50)), slow, "req-1").await;
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "application/json; charset=utf-8"
        );
        let body: serde_json::Value = match response.body() {
            Body::Text(text) => serde_json::from_str(text).expect("JSON"),
            other => panic!("a text body: {other:?}"),
        };
        assert_eq!(body["error"], "busy");

        let quick = async { json_response(StatusCode::OK, &serde_json::json!({})) };
        let response = within(Some(std::time::Duration::from_secs(5)), quick, "req-2").await;
        assert_eq!(response.status(), StatusCode::OK);
        let unlimited = async { json_response(StatusCode::CREATED, &serde_json::json!({})) };
        assert_eq!(
            within(None, unlimited, "req-3").await.status(),
            StatusCode::CREATED
        );
    }

    #[test]
    fn an_unavailable_dependency_is_a_503_that_names_nothing_of_it() {
        let cause = std::io::Error::other("dynamodb.ca-central-1.amazonaws.com timed out");
        let response = ApiError::Unavailable(Box::new(cause)).into_response("req-4");
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
        let Body::Text(text) = response.body() else {
            panic!("a text body")
        };
        assert!(text.contains("\"busy\""), "{text}");
        assert!(!text.contains("amazonaws"), "{text}");
    }
}

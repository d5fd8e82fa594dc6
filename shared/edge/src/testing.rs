//! Shaping sample API Gateway and SQS events for the handlers' unit tests (feature `mocks`).

/// A sample event's path under `events/` and its text.
fn sample(name: &str) -> (std::path::PathBuf, String) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../events")
        .join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    (path, text)
}

/// A sample API Gateway v2 event from `events/`, parsed the way the Lambda runtime does.
pub fn event(name: &str) -> lambda_http::Request {
    let (path, text) = sample(name);
    lambda_http::request::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not an API Gateway event: {e}", path.display()))
}

/// A sample event as JSON, with each `(from, to)` replaced in its text in turn: the ids and
/// references a test fills in.
pub fn event_json(name: &str, replace: &[(&str, &str)]) -> serde_json::Value {
    let (path, mut text) = sample(name);
    for (from, to) in replace {
        text = text.replace(from, to);
    }
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// An API Gateway v2 event shaped as JSON, parsed the way the Lambda runtime does.
pub fn request_of(event: &serde_json::Value) -> lambda_http::Request {
    lambda_http::request::from_str(&event.to_string())
        .unwrap_or_else(|e| panic!("not an API Gateway event: {e}"))
}

/// The caller's groups claim, exactly as given (`[agent team:payments]`).
pub fn set_groups(event: &mut serde_json::Value, groups: &str) {
    event["requestContext"]["authorizer"]["jwt"]["claims"][crate::http::GROUPS_CLAIM] =
        groups.into();
}

/// This JSON body, with its `content-length`.
pub fn set_body(event: &mut serde_json::Value, body: &serde_json::Value) {
    let body = body.to_string();
    event["headers"]["content-length"] = body.len().to_string().into();
    event["body"] = body.into();
}

/// A sample event with its text's replacements, the caller's groups and, if given, a JSON body:
/// the usual shaping of a handler test's request.
pub fn shaped(
    name: &str,
    replace: &[(&str, &str)],
    groups: &str,
    body: Option<serde_json::Value>,
) -> lambda_http::Request {
    let mut event = event_json(name, replace);
    set_groups(&mut event, groups);
    if let Some(body) = body {
        set_body(&mut event, &body);
    }
    request_of(&event)
}

/// A sample SQS event from `events/`, as Lambda hands it to a queue consumer.
pub fn sqs_event(name: &str) -> aws_lambda_events::event::sqs::SqsEvent {
    let (path, text) = sample(name);
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not an SQS event: {e}", path.display()))
}

/// The sample SQS event carrying these messages instead of its own.
pub fn sqs_batch(
    name: &str,
    messages: Vec<aws_lambda_events::event::sqs::SqsMessage>,
) -> aws_lambda_events::event::sqs::SqsEvent {
    let mut event = sqs_event(name);
    event.records = messages;
    event
}

/// The message ids a consumer's batch response names as failed, in order.
pub fn failed_ids(response: &aws_lambda_events::event::sqs::SqsBatchResponse) -> Vec<&str> {
    response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect()
}

/// The JSON body of a handler's response.
pub fn body_json(response: &lambda_http::Response<lambda_http::Body>) -> serde_json::Value {
    serde_json::from_slice(response.body().as_ref()).unwrap_or(serde_json::Value::Null)
}

/// A ticket submitted by `player` with this request body as of `now` (RFC 3339), as intake
/// stores it: what most handler tests start from. The desk's answer, with the outbox it wrote.
pub async fn submitted<S: guichet_core::tickets::ports::TicketStore>(
    desk: &guichet_core::tickets::desk::Desk<S>,
    player: &str,
    body: serde_json::Value,
    now: &str,
) -> guichet_core::tickets::desk::Submitted {
    let now = now
        .parse()
        .unwrap_or_else(|e| panic!("{now} is not a timestamp: {e}"));
    let request = guichet_core::tickets::intake::TicketRequest::parse(&body, None, now)
        .unwrap_or_else(|e| panic!("not a valid ticket request: {e}"));
    let player = guichet_core::common::player::PlayerId::parse(player)
        .unwrap_or_else(|| panic!("{player} is not a player id"));
    desk.submit(player, request, None, None)
        .await
        .unwrap_or_else(|e| panic!("the ticket was not stored: {e}"))
}

/// The reference of a ticket [`submitted`], as its receipt spells it.
pub fn reference_of(submitted: &guichet_core::tickets::desk::Submitted) -> String {
    use guichet_core::tickets::desk::Submitted;
    match submitted {
        Submitted::Created(receipt, _) | Submitted::Replayed(receipt) => {
            receipt.reference.to_string()
        }
    }
}

/// A verification case the casino's systems opened for `player` (no extra documents): what the
/// verification handlers' tests start from.
pub async fn opened_case<C, D>(
    v: &guichet_core::verification::service::Verification<C, D>,
    player: &str,
    reason: guichet_core::verification::rules::CaseReason,
    language: guichet_core::common::player::Language,
) -> guichet_core::verification::rules::VerificationCase
where
    C: guichet_core::verification::ports::CaseStore,
    D: guichet_core::documents::ports::DocumentStorage,
{
    let player = guichet_core::common::player::PlayerId::parse(player)
        .unwrap_or_else(|| panic!("{player} is not a player id"));
    let system = guichet_core::common::player::Author::System;
    v.open_case(&system, player, reason, &[], language)
        .await
        .unwrap_or_else(|e| panic!("the case was not opened: {e}"))
}

/// A verification reviewer, as the audit trail names staff.
pub fn reviewer() -> guichet_core::common::player::Author {
    guichet_core::common::player::Author::Staff {
        id: "reviewer-1".into(),
    }
}

// ---------------------------------------------------------------------------------------------
// Shaping sample events for the verification handlers' tests: case ids are random, so a test
// fills them in, and one sample serves several callers.

/// The event with another caller: `sub` and `cognito:groups` rendered as API Gateway renders
/// them (`[a b]`).
pub fn with_caller(
    request: lambda_http::Request,
    sub: &str,
    groups: &[&str],
) -> lambda_http::Request {
    use lambda_http::request::RequestContext;
    use lambda_http::RequestExt;
    let Some(RequestContext::ApiGatewayV2(mut context)) = request.request_context_ref().cloned()
    else {
        panic!("not an API Gateway v2 event");
    };
    let claims = &mut context
        .authorizer
        .as_mut()
        .and_then(|a| a.jwt.as_mut())
        .unwrap_or_else(|| panic!("the sample event has no JWT authorizer"))
        .claims;
    claims.insert("sub".to_owned(), sub.to_owned());
    claims.insert(
        crate::http::GROUPS_CLAIM.to_owned(),
        format!("[{}]", groups.join(" ")),
    );
    request.with_request_context(RequestContext::ApiGatewayV2(context))
}

/// The event with these path parameters (all of them).
pub fn with_path(request: lambda_http::Request, params: &[(&str, &str)]) -> lambda_http::Request {
    use lambda_http::RequestExt;
    let map: std::collections::HashMap<String, String> = params
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    request.with_path_parameters(map)
}

/// The event with this query string (all of it).
pub fn with_query(request: lambda_http::Request, params: &[(&str, &str)]) -> lambda_http::Request {
    use lambda_http::RequestExt;
    let map: std::collections::HashMap<String, String> = params
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    request.with_query_string_parameters(map)
}

/// The event with this JSON body.
pub fn with_json(
    mut request: lambda_http::Request,
    body: serde_json::Value,
) -> lambda_http::Request {
    *request.body_mut() = lambda_http::Body::Text(body.to_string());
    request
}

/// The first message of the sample SQS event `name` (an SNS-fed queue's), under
/// `message_id`, the JSON its SNS envelope carries edited by `edit`.
pub fn sns_fed_message(
    name: &str,
    message_id: &str,
    edit: impl FnOnce(&mut serde_json::Value),
) -> aws_lambda_events::event::sqs::SqsMessage {
    let mut message = sqs_event(name).records.remove(0);
    let body = message.body.as_deref().unwrap_or("{}");
    let mut envelope: serde_json::Value =
        serde_json::from_str(body).unwrap_or_else(|e| panic!("{name}: not JSON: {e}"));
    let inner = envelope["Message"].as_str().unwrap_or("{}");
    let mut published: serde_json::Value =
        serde_json::from_str(inner).unwrap_or_else(|e| panic!("{name}: no JSON message: {e}"));
    edit(&mut published);
    envelope["Message"] = serde_json::Value::String(published.to_string());
    message.body = Some(envelope.to_string());
    message.message_id = Some(message_id.to_owned());
    message
}

#[cfg(test)]
mod tests {
    use super::*;
    use guichet_core::common::access::Role;

    #[test]
    fn a_shaped_sample_reaches_the_handler_as_shaped() {
        let mut json = event_json("get-ticket.json", &[("K7M2Q-9XW45", "AAAAA-BBBBB")]);
        assert!(json.to_string().contains("AAAAA-BBBBB"));
        assert!(!json.to_string().contains("K7M2Q-9XW45"));
        set_groups(&mut json, "[agent team:payments]");
        set_body(&mut json, &serde_json::json!({"version": 3}));
        let mut request = request_of(&json);
        request.headers_mut().insert(
            "content-type",
            lambda_http::http::HeaderValue::from_static("application/json"),
        );
        let actor = crate::http::actor_of(&request).expect("claims");
        assert_eq!(actor.roles, [Role::Agent]);
        assert_eq!(
            crate::http::json_body(&request).expect("a JSON body"),
            serde_json::json!({"version": 3})
        );
        assert_eq!(request.headers()["content-length"], "13");

        let batch = sqs_event("sqs-notification.json");
        let mut failed = aws_lambda_events::event::sqs::SqsBatchResponse::default();
        failed.add_failure("m-1".to_owned());
        assert_eq!(failed_ids(&failed), ["m-1"]);
        assert_eq!(
            sqs_batch("sqs-notification.json", Vec::new()).records.len(),
            0
        );
        assert_eq!(batch.records.len(), 1);
    }
}

//! The agents' actions on a ticket, each under optimistic versioning (`version` is the
//! ticket's version as the agent read it):
//!
//! - `POST /tickets/{reference}/take` `{version}`: the ticket becomes the caller's;
//! - `POST /tickets/{reference}/replies` `{version, body}`: a message the player reads;
//! - `POST /tickets/{reference}/notes` `{version, body}`: an internal note, for staff only:
//!   never in the player's view, a notification or an e-mail, and it answers no promise;
//! - `POST /tickets/{reference}/status` `{version, status, reason?}`: a move of the state
//!   machine (`guichet_core::tickets::workflow`); `escalated` is reached through `escalate` only;
//! - `POST /tickets/{reference}/messages` `{body}` (players, on their own ticket): the
//!   player's answer, which puts a ticket waiting on them (or resolved) back in work;
//! - `POST /tickets/{reference}/escalate` `{version, team, reason, note?}`: the ticket
//!   becomes `escalated` and the request is in the outbox, in one transaction; answered `202`
//!   because the team receives it asynchronously (route-escalations).
//!
//! - `POST /tickets/{reference}/merge` `{into}`: the ticket is a duplicate of `into`, another
//!   ticket of the same player: it is closed pointing at `into`, which shows its messages and
//!   attachments, and the player is told once; both tickets in one transaction
//!   (`guichet_core::tickets::merge`). A retry (the same merge, or the same `Idempotency-Key`)
//!   answers the tickets as they stand and writes nothing.
//!
//! Every staff action may also send back `state`, the token of the staff view it acted on
//! (`GET /tickets/{reference}` and every action's answer carry one): the desk then decides on
//! it and writes on the condition that the stored ticket is exactly that one, so the action is
//! one DynamoDB round trip; without it, or when it is not the stored ticket, the desk reads
//! the ticket first (two). A token is never trusted (`guichet_core::tickets::seen`).
//!
//! The player's notification and any outbox message are written with the change, in its one
//! transaction, and leave through the table's stream (relay-stream).
//!
//! Staff only: supervisors, or agents of the ticket's team. A stale version or a concurrent
//! update is a 409 `stale`, an impossible move a 409 `wrong_state`; nothing is lost either way.

use guichet_core::common::access::Actor;
use guichet_core::common::reference::TicketReference;
use guichet_core::common::seen::{self, Seen};
use guichet_core::common::validation::{Fields, Rule, ValidationError};
use guichet_core::escalation::rules::{
    is_specialist, Escalation, EscalationAsk, EscalationNote, SPECIALIST_TEAM_NAMES,
};
use guichet_core::promises::extension::{extend, ExtensionAsk, MAX_BUSINESS_DAYS};
use guichet_core::tickets::desk::{Desk, TicketView};
use guichet_core::tickets::merge::{Merged, INTO_FIELD};
use guichet_core::tickets::ports::TicketStore;
use guichet_core::tickets::staff::require_staff;
use guichet_core::tickets::ticket::Team;
use guichet_core::tickets::ticket::{StatusChange, Ticket, TicketStatus};
use guichet_core::tickets::workflow::{self, Message, MessageBody, ReasonCode};
use guichet_edge::http::{json_body, json_response, ApiError};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use tracing::{field::Empty, info_span};

/// What the agent asked for, once every field is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Take,
    Reply(MessageBody),
    /// An internal note: staff only, never shown or sent to the player.
    Note(MessageBody),
    Status {
        to: TicketStatus,
        reason: Option<ReasonCode>,
    },
    Escalate(EscalationAsk),
    /// An extended delay, told to the player: `business_days` or `until`, and why.
    Extend {
        ask: ExtensionAsk,
        reason: ReasonCode,
    },
}

/// The statuses `POST /status` accepts: all but `escalated`, which needs a team.
/// The statuses an agent may set (`escalated` is reached through `escalate` only).
pub const STATUS_NAMES: &[&str] = &["open", "waiting_on_player", "resolved", "closed"];

#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdatedTicket<'a> {
    #[serde(flatten)]
    view: TicketView,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a Message>,
    #[serde(skip_serializing_if = "Option::is_none")]
    escalation: Option<&'a Escalation>,
    /// Staff only: the ticket as it now stands, to send back with the next action (`state`),
    /// which then costs one round trip.
    #[serde(skip_serializing_if = "Option::is_none")]
    state: Option<String>,
}

/// A change's notification and escalation request are written with it, in its one
/// transaction, and leave through the table's stream (relay-stream), not on this request's
/// path.
pub async fn handle<S: TicketStore>(desk: &Desk<S>, request: Request) -> Response<Body> {
    guichet_edge::http::respond(
        &request,
        |id| info_span!("update_ticket", request_id = %id, ticket = Empty, action = Empty),
        update(desk, &request),
    )
    .await
}

/// `take`, `replies`, `notes`, `status`, `escalate`, `extension`, `merge` or `messages`: the
/// last segment of the route.
fn action_name(request: &Request) -> &str {
    request.uri().path().rsplit('/').next().unwrap_or("")
}

fn version(
    fields: &Fields<'_>,
    object: &serde_json::Map<String, serde_json::Value>,
) -> Result<u64, ValidationError> {
    match object.get("version") {
        None | Some(serde_json::Value::Null) => {
            Err(ValidationError::new(fields.name("version"), Rule::Required))
        }
        Some(value) => value.as_u64().filter(|v| *v >= 1).ok_or_else(|| {
            ValidationError::new(
                fields.name("version"),
                Rule::Type {
                    expected: "a whole number of at least 1: the ticket's version as read",
                },
            )
        }),
    }
}

/// One action's checked body: the version the agent read, the `state` token of the view they
/// acted on (if sent back), and what they asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asked {
    pub version: u64,
    pub seen: Option<Seen<Ticket>>,
    pub action: Action,
}

/// Reads and checks the body of one action.
pub fn parse(name: &str, body: &serde_json::Value) -> Result<Asked, ApiError> {
    let object = guichet_edge::http::json_object(body)?;
    let allowed: &[&str] = match name {
        "take" => &["version", "state"],
        "replies" | "notes" => &["version", "state", "body"],
        "status" => &["version", "state", "status", "reason"],
        "escalate" => &["version", "state", "team", "reason", "note"],
        "extension" => &["version", "state", "business_days", "until", "reason"],
        _ => return Err(ApiError::NotFound),
    };
    let fields = Fields::new("", object, allowed)?;
    let version = version(&fields, object)?;
    let seen = fields
        .optional_str("state")?
        .map(|raw| Seen::parse("state", raw))
        .transpose()?;
    let action = match name {
        "take" => Action::Take,
        "extension" => {
            let days = match object.get("business_days") {
                None | Some(serde_json::Value::Null) => None,
                Some(value) => Some(ExtensionAsk::business_days(
                    "business_days",
                    value.as_i64().ok_or_else(|| {
                        ValidationError::new(
                            "business_days",
                            Rule::Range {
                                min: 1,
                                max: i64::from(MAX_BUSINESS_DAYS),
                            },
                        )
                    })?,
                )?),
            };
            let until = fields
                .optional_str("until")?
                .map(|raw| ExtensionAsk::until("until", raw))
                .transpose()?;
            let ask = match (days, until) {
                (Some(ask), None) | (None, Some(ask)) => ask,
                _ => {
                    return Err(ValidationError::new(
                        "business_days",
                        Rule::OneOfFields {
                            fields: &["business_days", "until"],
                        },
                    )
                    .into())
                }
            };
            let reason = ReasonCode::parse("reason", fields.required_str("reason")?)?;
            Action::Extend { ask, reason }
        }
        "replies" => {
            let raw = fields.required_str("body")?;
            Action::Reply(MessageBody::parse("body", raw)?)
        }
        "notes" => {
            let raw = fields.required_str("body")?;
            Action::Note(MessageBody::parse("body", raw)?)
        }
        "escalate" => {
            let to_team = fields
                .choice("team", SPECIALIST_TEAM_NAMES, |t| {
                    Team::parse(t).filter(|t| is_specialist(*t))
                })?
                .ok_or_else(|| ValidationError::new("team", Rule::Required))?;
            let reason = ReasonCode::parse("reason", fields.required_str("reason")?)?;
            let note = fields
                .optional_str("note")?
                .map(|raw| EscalationNote::parse("note", raw))
                .transpose()?;
            Action::Escalate(EscalationAsk {
                to_team,
                reason,
                note,
            })
        }
        _ => {
            let to = fields
                .choice("status", STATUS_NAMES, |s| {
                    TicketStatus::parse(s).filter(|s| *s != TicketStatus::Escalated)
                })?
                .ok_or_else(|| ValidationError::new("status", Rule::Required))?;
            let reason = fields
                .optional_str("reason")?
                .map(|raw| ReasonCode::parse("reason", raw))
                .transpose()?;
            Action::Status { to, reason }
        }
    };
    Ok(Asked {
        version,
        seen,
        action,
    })
}

/// A player's answer on their own ticket: `{body}`, nothing else.
async fn answer<S: TicketStore>(
    desk: &Desk<S>,
    request: &Request,
    caller: Actor,
) -> Result<Response<Body>, ApiError> {
    caller.require(guichet_core::common::access::Role::Player)?;
    let reference = guichet_edge::http::reference_param(request)?;
    let body = json_body(request)?;
    let object = guichet_edge::http::json_object(&body)?;
    let fields = Fields::new("", object, &["body"])?;
    let text = MessageBody::parse("body", fields.required_str("body")?)?;
    let applied = desk.answer(&caller.subject, &reference, text).await?;
    tracing::info!(
        version = applied.change.ticket.version,
        status = applied.change.ticket.status.as_str(),
        "player answered"
    );
    Ok(json_response(
        StatusCode::CREATED,
        &UpdatedTicket {
            view: TicketView::for_player(&applied.change.ticket, Some(&applied.change.history)),
            message: applied.change.message.as_ref(),
            escalation: None,
            state: None,
        },
    ))
}

async fn update<S: TicketStore>(
    desk: &Desk<S>,
    request: &Request,
) -> Result<Response<Body>, ApiError> {
    let caller = guichet_edge::http::actor_of(request)?;
    if action_name(request) == "messages" {
        tracing::Span::current().record("action", "messages");
        return answer(desk, request, caller).await;
    }
    require_staff(&caller)?;
    let reference = guichet_edge::http::reference_param(request)?;
    if action_name(request) == "merge" {
        tracing::Span::current().record("action", "merge");
        return merge(desk, request, &caller, &reference).await;
    }
    let name = action_name(request).to_owned();
    tracing::Span::current().record("action", name.as_str());
    let Asked {
        version: expected,
        seen,
        action,
    } = parse(&name, &json_body(request)?)?;
    let seen = seen.as_ref();
    let staff = caller.subject.as_str().to_owned();
    let status = if matches!(action, Action::Escalate(_)) {
        StatusCode::ACCEPTED
    } else {
        StatusCode::OK
    };
    let applied = match action {
        Action::Escalate(ask) => {
            desk.escalate(&caller, &reference, expected, seen, ask)
                .await?
        }
        Action::Take => {
            desk.work_on(&caller, &reference, seen, |ticket, now| {
                workflow::take(ticket, expected, &staff, now)
            })
            .await?
        }
        Action::Reply(body) => {
            desk.work_on(&caller, &reference, seen, |ticket, now| {
                let next_due = desk.follow_up_due(ticket.priority, now);
                workflow::reply(ticket, expected, &staff, body.clone(), now, next_due)
            })
            .await?
        }
        Action::Note(body) => {
            desk.work_on(&caller, &reference, seen, |ticket, now| {
                workflow::note(ticket, expected, &staff, body.clone(), now)
            })
            .await?
        }
        Action::Status { to, reason } => {
            desk.work_on(&caller, &reference, seen, |ticket, now| {
                workflow::change_status(ticket, expected, to, &staff, reason.as_ref(), now)
            })
            .await?
        }
        Action::Extend { ask, reason } => {
            desk.work_on(&caller, &reference, seen, |ticket, now| {
                extend(ticket, expected, ask, &reason, &staff, now, &desk.promises)
            })
            .await?
        }
    };
    tracing::info!(
        version = applied.change.ticket.version,
        status = applied.change.ticket.status.as_str(),
        notified = applied.notification.is_some(),
        "ticket updated"
    );
    Ok(json_response(
        status,
        &UpdatedTicket {
            view: TicketView::for_staff(
                desk,
                &applied.change.ticket,
                Some(&applied.change.history),
            ),
            message: applied.change.message.as_ref(),
            escalation: applied.escalation.as_ref(),
            state: seen::token(&applied.change.ticket),
        },
    ))
}

/// The answer to a merge: both tickets as they now stand, as staff see them, each with the
/// history line the merge added (none on a retry) and its `state` for the next action.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MergedTickets {
    /// The ticket merged into `survivor`: closed, `merged_into` naming it.
    duplicate: MergedSide,
    /// The ticket the conversation goes on in: `merged_from` lists the duplicate.
    survivor: MergedSide,
    /// `true` when the merge was already done (a retry): nothing was written or sent.
    replayed: bool,
}

/// One ticket of a merge, as a staff view.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MergedSide {
    #[serde(flatten)]
    view: TicketView,
    #[serde(skip_serializing_if = "Option::is_none")]
    state: Option<String>,
}

impl MergedSide {
    fn of<S>(desk: &Desk<S>, ticket: &Ticket, history: Option<&[StatusChange]>) -> Self {
        MergedSide {
            view: TicketView::for_staff(desk, ticket, history),
            state: seen::token(ticket),
        }
    }
}

/// `{into}`: the survivor's reference, nothing else.
pub fn parse_merge(body: &serde_json::Value) -> Result<TicketReference, ApiError> {
    let object = guichet_edge::http::json_object(body)?;
    let fields = Fields::new("", object, &[INTO_FIELD])?;
    let raw = fields.required_str(INTO_FIELD)?;
    TicketReference::parse(raw)
        .map_err(|_| ValidationError::new(INTO_FIELD, Rule::Reference).into())
}

async fn merge<S: TicketStore>(
    desk: &Desk<S>,
    request: &Request,
    caller: &Actor,
    reference: &TicketReference,
) -> Result<Response<Body>, ApiError> {
    let key = guichet_edge::http::idempotency_key(request)?;
    let into = parse_merge(&json_body(request)?)?;
    let answer = match desk.merge(caller, reference, &into, key).await? {
        Merged::Done {
            duplicate,
            survivor,
            ..
        } => MergedTickets {
            duplicate: MergedSide::of(desk, &duplicate.ticket, Some(&duplicate.history)),
            survivor: MergedSide::of(desk, &survivor.ticket, Some(&survivor.history)),
            replayed: false,
        },
        Merged::Replayed {
            duplicate,
            survivor,
        } => MergedTickets {
            duplicate: MergedSide::of(desk, &duplicate, None),
            survivor: MergedSide::of(desk, &survivor, None),
            replayed: true,
        },
    };
    tracing::info!(
        into = into.as_str(),
        replayed = answer.replayed,
        "ticket merged"
    );
    Ok(json_response(StatusCode::OK, &answer))
}

//! Escalation: what first line cannot solve goes to a specialist team. An agent (or intake,
//! for what the rules escalate at once) *requests* the escalation: the ticket becomes
//! `escalated` and an escalation record plus an outbox message are written with it, all or
//! nothing. The route-escalations function then *routes* it: the team's queue receives the
//! versioned message below, the ticket moves to that team's queue, and the player is told.
//!
//! ```text
//! requested ──► routed      (the ticket was still escalated: the team got the message)
//! requested ──► withdrawn   (the ticket was resolved or reopened before routing: nothing sent)
//! ```

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::common::player::{Author, Language};
use crate::common::reference::TicketReference;
use crate::common::validation::ValidationError;
use crate::outbox::rules::MessageId;
use crate::tickets::ticket::{
    Category, Channel, Priority, StatusChange, Team, Ticket, TicketStatus,
};
use crate::tickets::workflow::{allowed, Change, ReasonCode, WorkflowError};

/// The schema name of the message a team's queue carries; a breaking change gets `v2` and
/// both are sent while teams migrate.
pub const TEAM_MESSAGE_SCHEMA: &str = "guichet.escalation.v1";
/// The schema of the internal request the outbox hands to the route-escalations function.
pub const REQUEST_SCHEMA: &str = "guichet.escalation-request.v1";

/// The teams an escalation may target: the specialists with their own queue. Identity
/// verification is worked in Guichet itself (the review queue), not escalated to.
pub const SPECIALIST_TEAMS: &[Team] =
    &[Team::Technical, Team::Games, Team::Payments, Team::Security];
pub const SPECIALIST_TEAM_NAMES: &[&str] = &["technical", "games", "payments", "security"];

pub fn is_specialist(team: Team) -> bool {
    SPECIALIST_TEAMS.contains(&team)
}

vocabulary!(
    EscalationState {
        Requested => "requested",
        Routed => "routed",
        Withdrawn => "withdrawn",
    }
);

/// A note for the specialist team: free text from staff, 1 to 1000 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EscalationNote(String);

impl EscalationNote {
    pub const MAX_CHARS: usize = 1000;

    pub fn parse(field: &str, raw: &str) -> Result<Self, ValidationError> {
        crate::tickets::workflow::staff_text(field, raw, Self::MAX_CHARS).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The escalation record, kept in the ticket's item collection.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Escalation {
    pub id: MessageId,
    pub reference: TicketReference,
    pub from_team: Team,
    pub to_team: Team,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub requested_by: Author,
    pub requested_at: Timestamp,
    pub state: EscalationState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settled_at: Option<Timestamp>,
}

/// What the outbox hands to the route-escalations function: only identifiers. The function
/// reads the record and the ticket from the table, the one source of truth.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EscalationRequest {
    pub schema: String,
    pub escalation_id: MessageId,
    pub reference: TicketReference,
}

/// The message on a team's queue (schema `guichet.escalation.v1`). It names the ticket and
/// why it came, never what the player wrote: the team reads the ticket through the API
/// (`links.ticket`), where access is checked and audited.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamEscalationMessage {
    pub schema: String,
    pub escalation_id: MessageId,
    pub team: Team,
    pub from_team: Team,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub requested_by: Author,
    pub requested_at: Timestamp,
    pub routed_at: Timestamp,
    pub ticket: TicketSummary,
    pub links: Links,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketSummary {
    pub reference: TicketReference,
    pub category: Category,
    pub priority: Priority,
    pub channel: Channel,
    pub language: Language,
    pub created_at: Timestamp,
    pub response_due_at: Timestamp,
    /// The game an incident report names, when it names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub game_name: Option<String>,
    /// The payment system an incident report names, when it names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_system: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<String>,
    /// The multi-player incident the ticket is linked to, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident: Option<String>,
}

/// API paths (relative to the API's base URL) where the team reads and works the ticket.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Links {
    pub ticket: String,
    pub queue: String,
}

impl Escalation {
    pub fn request_message(&self) -> EscalationRequest {
        EscalationRequest {
            schema: REQUEST_SCHEMA.to_owned(),
            escalation_id: self.id.clone(),
            reference: self.reference.clone(),
        }
    }

    /// The team's message, from the record and the ticket as routed.
    pub fn team_message(&self, ticket: &Ticket, routed_at: Timestamp) -> TeamEscalationMessage {
        TeamEscalationMessage {
            schema: TEAM_MESSAGE_SCHEMA.to_owned(),
            escalation_id: self.id.clone(),
            team: self.to_team,
            from_team: self.from_team,
            reason: self.reason.clone(),
            note: self.note.clone(),
            requested_by: self.requested_by.clone(),
            requested_at: self.requested_at,
            routed_at,
            ticket: TicketSummary {
                reference: ticket.reference.clone(),
                category: ticket.category,
                priority: ticket.priority,
                channel: ticket.channel,
                language: ticket.language,
                created_at: ticket.created_at,
                response_due_at: ticket.response_due_at,
                game_name: ticket.incident.as_ref().and_then(|i| i.game_name.clone()),
                payment_system: ticket
                    .incident
                    .as_ref()
                    .and_then(|i| i.payment_system.clone()),
                transaction_id: ticket
                    .incident
                    .as_ref()
                    .and_then(|i| i.transaction_id.clone()),
                incident: ticket.linked_incident.clone(),
            },
            links: Links {
                ticket: format!("/tickets/{}", ticket.reference),
                queue: format!("/queues/{}", self.to_team.as_str()),
            },
        }
    }
}

/// What an agent asks: the team, why (a reason code) and, optionally, a note for the team.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EscalationAsk {
    pub to_team: Team,
    pub reason: ReasonCode,
    pub note: Option<EscalationNote>,
}

/// Requests an escalation: the ticket becomes `escalated` (it stays in its team's queue until
/// routed) and the record is created in state `requested`. The caller adds the outbox message.
pub fn request(
    ticket: &Ticket,
    expected_version: u64,
    ask: EscalationAsk,
    actor: Author,
    id: MessageId,
    at: Timestamp,
) -> Result<(Change, Escalation), WorkflowError> {
    if ticket.version != expected_version {
        return Err(WorkflowError::Stale {
            expected: expected_version,
            actual: ticket.version,
        });
    }
    if !allowed(ticket.status, TicketStatus::Escalated) {
        return Err(WorkflowError::WrongState {
            from: ticket.status,
            to: TicketStatus::Escalated,
        });
    }
    let mut next = ticket.clone();
    next.version += 1;
    next.updated_at = at;
    next.status = TicketStatus::Escalated;
    let escalation = Escalation {
        id,
        reference: ticket.reference.clone(),
        from_team: ticket.team,
        to_team: ask.to_team,
        reason: ask.reason.as_str().to_owned(),
        note: ask.note.map(|n| n.0),
        requested_by: actor.clone(),
        requested_at: at,
        state: EscalationState::Requested,
        settled_at: None,
    };
    let change = Change {
        ticket: next,
        expected_version,
        history: vec![StatusChange {
            at,
            status: TicketStatus::Escalated,
            actor,
            reason: format!("escalation_requested_{}", ask.to_team.as_str()),
            extended_minutes: None,
            rebased: None,
        }],
        message: None,
    };
    Ok((change, escalation))
}

/// What routing decided.
// Built once per routed message and matched at once, never stored: boxing the large variant
// would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Routing {
    /// Send the team message, then write the change and the routed record.
    Route {
        change: Change,
        escalation: Escalation,
        message: TeamEscalationMessage,
    },
    /// The ticket left `escalated` before routing (resolved, reopened): record that, send
    /// nothing.
    Withdraw { escalation: Escalation },
    /// Already routed or withdrawn: a duplicate delivery, nothing to do.
    Settled,
}

/// Routes a requested escalation: the ticket moves to the specialist team's queue with a new
/// response target (`due_at`, computed by the caller from the published hours).
pub fn route(
    ticket: &Ticket,
    escalation: &Escalation,
    due_at: Timestamp,
    at: Timestamp,
) -> Routing {
    if escalation.state != EscalationState::Requested {
        return Routing::Settled;
    }
    let mut settled = escalation.clone();
    settled.settled_at = Some(at);
    if ticket.status != TicketStatus::Escalated {
        settled.state = EscalationState::Withdrawn;
        return Routing::Withdraw {
            escalation: settled,
        };
    }
    settled.state = EscalationState::Routed;
    let mut next = ticket.clone();
    next.version += 1;
    next.updated_at = at;
    next.team = escalation.to_team;
    // Freshly routed work is unassigned: the specialist team takes it from its queue.
    next.assignee = None;
    next.response_due_at = due_at;
    let message = settled.team_message(&next, at);
    Routing::Route {
        change: Change {
            history: vec![StatusChange {
                at,
                status: TicketStatus::Escalated,
                actor: Author::System,
                reason: format!("routed_to_{}", escalation.to_team.as_str()),
                extended_minutes: None,
                rebased: None,
            }],
            expected_version: ticket.version,
            ticket: next,
            message: None,
        },
        escalation: settled,
        message,
    }
}

/// The reason recorded for intake's automatic escalation of account reports.
pub const ACCOUNT_SECURITY_REASON: &str = "account_security";

/// Intake's rule: a report of account access or security (`account`: a takeover, a lock-out)
/// goes straight to the security team's queue, with no first-line triage in between.
pub fn automatic_escalation(category: Category) -> Option<EscalationAsk> {
    match category {
        Category::Account => Some(EscalationAsk {
            to_team: Team::Security,
            reason: ReasonCode::system(ACCOUNT_SECURITY_REASON),
            note: None,
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::player::PlayerId;

    fn at(ms: i64) -> Timestamp {
        Timestamp::from_millisecond(ms).expect("valid")
    }

    fn ticket(status: TicketStatus) -> Ticket {
        Ticket {
            player: PlayerId::parse("player-1").expect("valid"),
            category: Category::Incident,
            subject: "Roulette figée".into(),
            description: "La roue ne tourne plus".into(),
            priority: Priority::Normal,
            team: Team::Technical,
            assignee: Some("agent-1".into()),
            created_at: at(1_000),
            updated_at: at(1_000),
            response_due_at: at(9_000),
            ..crate::tickets::ticket::sample(status)
        }
    }

    fn ask(team: Team) -> EscalationAsk {
        EscalationAsk {
            to_team: team,
            reason: ReasonCode::parse("reason", "needs_game_logs").expect("valid"),
            note: Some(EscalationNote::parse("note", " round 12 froze ").expect("valid")),
        }
    }

    fn requested() -> (Change, Escalation) {
        request(
            &ticket(TicketStatus::Open),
            4,
            ask(Team::Games),
            Author::Staff {
                id: "agent-1".into(),
            },
            MessageId::from_bytes([1; 16]),
            at(2_000),
        )
        .expect("open tickets can be escalated")
    }

    #[test]
    fn a_request_escalates_the_ticket_and_records_what_was_asked() {
        let (change, escalation) = requested();
        assert_eq!(change.ticket.status, TicketStatus::Escalated);
        assert_eq!(change.ticket.version, 5);
        assert_eq!(
            change.ticket.team,
            Team::Technical,
            "moves only when routed"
        );
        assert_eq!(change.history[0].reason, "escalation_requested_games");
        assert_eq!(escalation.state, EscalationState::Requested);
        assert_eq!(escalation.note.as_deref(), Some("round 12 froze"));
        assert_eq!(
            serde_json::to_value(escalation.request_message()).expect("json"),
            serde_json::json!({
                "schema": "guichet.escalation-request.v1",
                "escalation_id": "01".repeat(16),
                "reference": escalation.reference.to_string(),
            })
        );
    }

    #[test]
    fn only_open_or_waiting_tickets_at_the_version_read_can_be_escalated() {
        for status in [
            TicketStatus::Escalated,
            TicketStatus::Resolved,
            TicketStatus::Closed,
        ] {
            let refused = request(
                &ticket(status),
                4,
                ask(Team::Games),
                Author::System,
                MessageId::from_bytes([1; 16]),
                at(2_000),
            );
            assert!(
                matches!(refused, Err(WorkflowError::WrongState { .. })),
                "{status:?}"
            );
        }
        let stale = request(
            &ticket(TicketStatus::WaitingOnPlayer),
            3,
            ask(Team::Games),
            Author::System,
            MessageId::from_bytes([1; 16]),
            at(2_000),
        );
        assert!(matches!(
            stale,
            Err(WorkflowError::Stale {
                expected: 3,
                actual: 4
            })
        ));
    }

    #[test]
    fn routing_moves_the_ticket_to_the_team_and_builds_its_message() {
        let (change, escalation) = requested();
        let Routing::Route {
            change: routed,
            escalation: settled,
            message,
        } = route(&change.ticket, &escalation, at(50_000), at(3_000))
        else {
            panic!("a requested escalation of an escalated ticket is routed");
        };
        assert_eq!(routed.ticket.team, Team::Games);
        assert_eq!(routed.ticket.assignee, None);
        assert_eq!(routed.ticket.response_due_at, at(50_000));
        assert_eq!(routed.expected_version, 5);
        assert_eq!(routed.history[0].reason, "routed_to_games");
        assert_eq!(settled.state, EscalationState::Routed);
        let json = serde_json::to_value(&message).expect("json");
        assert_eq!(json["schema"], "guichet.escalation.v1");
        assert_eq!(json["team"], "games");
        assert_eq!(json["from_team"], "technical");
        assert_eq!(json["ticket"]["priority"], "normal");
        assert_eq!(json["links"]["queue"], "/queues/games");
        let text = json.to_string();
        assert!(!text.contains("Roulette figée"), "no player text");
        assert!(!text.contains("La roue"), "no player text");
        // A second delivery finds the record settled and does nothing.
        assert_eq!(
            route(&routed.ticket, &settled, at(50_000), at(4_000)),
            Routing::Settled
        );
    }

    #[test]
    fn the_team_message_names_the_payment_system_when_the_report_names_one() {
        let (change, escalation) = requested();
        let json = |ticket: &Ticket| {
            serde_json::to_value(escalation.team_message(ticket, at(3_000))).expect("json")
        };
        let without = json(&change.ticket);
        assert!(without["ticket"].get("payment_system").is_none());
        assert!(without["ticket"].get("game_name").is_none());
        let mut paid = change.ticket.clone();
        paid.incident = Some(crate::tickets::ticket::IncidentDetails {
            occurred_at: at(500),
            game_name: None,
            payment_system: Some("Interac e-Transfer".into()),
            transaction_id: None,
            steps_tried: vec![],
        });
        let with = json(&paid);
        assert_eq!(with["ticket"]["payment_system"], "Interac e-Transfer");
        assert!(with["ticket"].get("game_name").is_none());
    }

    #[test]
    fn a_ticket_resolved_before_routing_withdraws_the_escalation() {
        let (change, escalation) = requested();
        let mut resolved = change.ticket.clone();
        resolved.status = TicketStatus::Resolved;
        let Routing::Withdraw { escalation } = route(&resolved, &escalation, at(1), at(3_000))
        else {
            panic!("withdrawn");
        };
        assert_eq!(escalation.state, EscalationState::Withdrawn);
    }

    #[test]
    fn account_reports_go_straight_to_security() {
        let ask = automatic_escalation(Category::Account).expect("escalated");
        assert_eq!(ask.to_team, Team::Security);
        assert_eq!(
            ReasonCode::parse("reason", ACCOUNT_SECURITY_REASON).as_ref(),
            Ok(&ask.reason),
            "a valid reason code"
        );
        assert_eq!(automatic_escalation(Category::Technical), None);
        assert!(SPECIALIST_TEAMS
            .iter()
            .all(|t| SPECIALIST_TEAM_NAMES.contains(&t.as_str())));
        assert!(!is_specialist(Team::Verification));
    }
}

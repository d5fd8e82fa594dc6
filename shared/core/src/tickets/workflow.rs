//! The agents' workflow on a ticket: the status state machine, taking a ticket and replying to
//! the player. Every change is computed here from the ticket as read and the version the agent
//! saw; the store then writes it only if the ticket is still at that version.
//!
//! ```text
//! open ──► waiting_on_player ──► open
//! open | waiting_on_player ──► escalated
//! open | waiting_on_player | escalated ──► resolved ──► closed
//! resolved ──► open (reopen)
//! ```

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::common::player::Author;
use crate::common::validation::{free_text, Rule, ValidationError};
use crate::tickets::ticket::{StatusChange, Ticket, TicketStatus};

/// A message on a ticket that the player reads (an agent's reply).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub at: Timestamp,
    pub author: Author,
    pub body: String,
    /// What this message came in on (`mail:<SES id>`, `chat:<provider>:<conversation>`): a
    /// second delivery finds it here and adds nothing. Bookkeeping, never shown.
    #[serde(skip)]
    pub origin: Option<String>,
    /// A staff member's internal note: staff read it in the history; the player never sees
    /// it, is never notified of it, and it answers no promise.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub internal: bool,
}

/// A reply's text: trimmed, 1 to 5000 characters, no control characters but line breaks and
/// tabs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageBody(String);

impl MessageBody {
    pub const MAX_CHARS: usize = 5000;

    /// Checks a reply's text, naming `field` in the error.
    pub fn parse(field: &str, raw: &str) -> Result<Self, ValidationError> {
        staff_text(field, raw, Self::MAX_CHARS).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Free text written to a person (a reply, a note for a team): 1 to `max` characters, as
/// [`free_text`] checks them; errors name `field`.
pub(crate) fn staff_text(field: &str, raw: &str, max: usize) -> Result<String, ValidationError> {
    free_text(field, raw, 1, max)
}

/// A reason code for a status change: 1 to 40 lower-case letters, digits or `_`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReasonCode(String);

impl ReasonCode {
    pub const MAX_LEN: usize = 40;

    pub fn parse(field: &str, raw: &str) -> Result<Self, ValidationError> {
        let ok = (1..=Self::MAX_LEN).contains(&raw.len())
            && raw
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(ValidationError::new(field, Rule::Identifier))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A code the desk itself records (never input), e.g. an automatic escalation's reason.
    /// The unit tests parse every such code, so a malformed one fails a test, not a request.
    pub(crate) fn system(code: &'static str) -> Self {
        Self(code.to_owned())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkflowError {
    /// The agent acted on an older version of the ticket: read it again.
    /// `actual` is the version as read, when known; after a lost race it is only known to be
    /// past `expected`.
    #[error("the ticket changed since version {expected}; read it again")]
    Stale { expected: u64, actual: u64 },
    #[error("a {} ticket cannot become {}", from.as_str(), to.as_str())]
    WrongState {
        from: TicketStatus,
        to: TicketStatus,
    },
    #[error("a {} ticket cannot be {action}", status.as_str())]
    NotWorkable {
        status: TicketStatus,
        action: &'static str,
    },
    /// What was asked does not fit the ticket as it stands (a date before its due date).
    #[error(transparent)]
    Invalid(#[from] ValidationError),
}

/// Whether the machine allows `from → to`.
pub fn allowed(from: TicketStatus, to: TicketStatus) -> bool {
    use TicketStatus::*;
    matches!(
        (from, to),
        (Open, WaitingOnPlayer)
            | (WaitingOnPlayer, Open)
            | (Open | WaitingOnPlayer, Escalated)
            | (Open | WaitingOnPlayer | Escalated, Resolved)
            | (Resolved, Closed)
            | (Resolved, Open)
    )
}

/// The reason recorded when the agent gives none.
pub fn default_reason(from: TicketStatus, to: TicketStatus) -> &'static str {
    match (from, to) {
        (TicketStatus::Resolved, TicketStatus::Open) => "reopened",
        (TicketStatus::WaitingOnPlayer, TicketStatus::Open) => "player_answered",
        (_, to) => to.as_str(),
    }
}

/// One update of a ticket, all or nothing: the new ticket (version bumped), the history lines
/// and the message it adds, and the version it was computed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub ticket: Ticket,
    pub expected_version: u64,
    pub history: Vec<StatusChange>,
    pub message: Option<Message>,
}

fn start(ticket: &Ticket, expected_version: u64, at: Timestamp) -> Result<Ticket, WorkflowError> {
    if ticket.version != expected_version {
        return Err(WorkflowError::Stale {
            expected: expected_version,
            actual: ticket.version,
        });
    }
    Ok(next_version(ticket, at))
}

/// The ticket's next version, changed at `at`: what every change starts from.
pub(crate) fn next_version(ticket: &Ticket, at: Timestamp) -> Ticket {
    let mut next = ticket.clone();
    next.version += 1;
    next.updated_at = at;
    next
}

fn staff(id: &str) -> Author {
    Author::Staff { id: id.to_owned() }
}

/// Moves the ticket to `to`, recording who and why.
pub fn change_status(
    ticket: &Ticket,
    expected_version: u64,
    to: TicketStatus,
    staff_id: &str,
    reason: Option<&ReasonCode>,
    at: Timestamp,
) -> Result<Change, WorkflowError> {
    let mut next = start(ticket, expected_version, at)?;
    if !allowed(ticket.status, to) {
        return Err(WorkflowError::WrongState {
            from: ticket.status,
            to,
        });
    }
    next.status = to;
    let reason = reason.map_or_else(
        || default_reason(ticket.status, to).to_owned(),
        |r| r.as_str().to_owned(),
    );
    Ok(Change {
        history: vec![StatusChange {
            at,
            status: to,
            actor: staff(staff_id),
            reason,
            extended_minutes: None,
            rebased: None,
        }],
        ticket: next,
        expected_version,
        message: None,
    })
}

/// The agent takes the ticket: it becomes theirs (`assignee`), its status unchanged; the
/// history says who took it (`taken`). Resolved and closed tickets are no longer work.
pub fn take(
    ticket: &Ticket,
    expected_version: u64,
    staff_id: &str,
    at: Timestamp,
) -> Result<Change, WorkflowError> {
    let mut next = start(ticket, expected_version, at)?;
    if matches!(ticket.status, TicketStatus::Resolved | TicketStatus::Closed) {
        return Err(WorkflowError::NotWorkable {
            status: ticket.status,
            action: "taken",
        });
    }
    next.assignee = Some(staff_id.to_owned());
    Ok(Change {
        history: vec![StatusChange {
            at,
            status: ticket.status,
            actor: staff(staff_id),
            reason: "taken".to_owned(),
            extended_minutes: None,
            rebased: None,
        }],
        ticket: next,
        expected_version,
        message: None,
    })
}

/// A staff reply the player reads on the ticket. A closed ticket takes no more replies.
pub fn reply(
    ticket: &Ticket,
    expected_version: u64,
    staff_id: &str,
    body: MessageBody,
    at: Timestamp,
    next_due: Timestamp,
) -> Result<Change, WorkflowError> {
    let mut next = start(ticket, expected_version, at)?;
    // The desk has answered: what it owes now is its next update, by `next_due`.
    next.response_due_at = next_due;
    if ticket.status == TicketStatus::Closed {
        return Err(WorkflowError::NotWorkable {
            status: ticket.status,
            action: "replied to",
        });
    }
    Ok(Change {
        ticket: next,
        expected_version,
        history: Vec::new(),
        message: Some(Message {
            at,
            author: staff(staff_id),
            body: body.0,
            origin: None,
            internal: false,
        }),
    })
}

/// An internal note: for staff only, on a ticket in any state (a closed ticket's record may
/// still need one). Nothing else changes: no status, no promise, no notification.
pub fn note(
    ticket: &Ticket,
    expected_version: u64,
    staff_id: &str,
    body: MessageBody,
    at: Timestamp,
) -> Result<Change, WorkflowError> {
    let next = start(ticket, expected_version, at)?;
    Ok(Change {
        ticket: next,
        expected_version,
        history: Vec::new(),
        message: Some(Message {
            at,
            author: staff(staff_id),
            body: body.0,
            origin: None,
            internal: true,
        }),
    })
}

/// The player answers on their ticket: a message the agents read. An answer to a ticket
/// waiting on the player puts it back in work (`player_answered`); an answer to a resolved
/// ticket reopens it (`reopened_by_player`): the problem is not gone. A closed ticket takes no
/// more answers (the player opens a new request).
pub fn player_reply(
    ticket: &Ticket,
    body: MessageBody,
    at: Timestamp,
    next_due: Timestamp,
) -> Result<Change, WorkflowError> {
    let expected_version = ticket.version;
    let mut next = start(ticket, expected_version, at)?;
    let reason = match ticket.status {
        TicketStatus::Closed => {
            return Err(WorkflowError::NotWorkable {
                status: ticket.status,
                action: "answered",
            })
        }
        TicketStatus::WaitingOnPlayer => Some("player_answered"),
        TicketStatus::Resolved => Some("reopened_by_player"),
        TicketStatus::Open | TicketStatus::Escalated => None,
    };
    let history = match reason {
        Some(reason) => {
            next.status = TicketStatus::Open;
            // Back in our hands: the desk owes an answer by `next_due`. (A message on a ticket
            // that is already ours keeps its target: writing again does not push it back.)
            next.response_due_at = next_due;
            vec![StatusChange {
                at,
                status: TicketStatus::Open,
                actor: Author::Player,
                reason: reason.to_owned(),
                extended_minutes: None,
                rebased: None,
            }]
        }
        None => Vec::new(),
    };
    Ok(Change {
        ticket: next,
        expected_version,
        history,
        message: Some(Message {
            at,
            author: Author::Player,
            body: body.0,
            origin: None,
            internal: false,
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use TicketStatus::*;

    fn at(text: &str) -> Timestamp {
        text.parse().expect("valid")
    }

    fn ticket(status: TicketStatus) -> Ticket {
        crate::tickets::ticket::sample(status)
    }

    /// `sla::overdue`, tested here beside this module's ticket: the response target is
    /// `2026-11-26T15:00:00Z`.
    #[test]
    fn a_ticket_is_overdue_only_past_its_target_and_while_ours_to_answer() {
        let before = at("2026-11-26T14:59:59Z");
        let after = at("2026-11-26T15:00:01Z");
        for status in [Open, Escalated] {
            assert!(!crate::tickets::sla::overdue(&ticket(status), before));
            assert!(
                crate::tickets::sla::overdue(&ticket(status), after),
                "{status:?}"
            );
        }
        for status in [WaitingOnPlayer, Resolved, Closed] {
            assert!(
                !crate::tickets::sla::overdue(&ticket(status), after),
                "{status:?}"
            );
        }
    }

    #[test]
    fn the_machine_allows_exactly_the_documented_moves() {
        let allowed_moves = [
            (Open, WaitingOnPlayer),
            (WaitingOnPlayer, Open),
            (Open, Escalated),
            (WaitingOnPlayer, Escalated),
            (Open, Resolved),
            (WaitingOnPlayer, Resolved),
            (Escalated, Resolved),
            (Resolved, Closed),
            (Resolved, Open),
        ];
        for from in TicketStatus::ALL {
            for to in TicketStatus::ALL {
                assert_eq!(
                    allowed(*from, *to),
                    allowed_moves.contains(&(*from, *to)),
                    "{from:?} -> {to:?}"
                );
            }
        }
    }

    #[test]
    fn a_status_change_bumps_the_version_and_records_who_and_why() {
        let now = at("2026-11-26T16:00:00Z");
        let change = change_status(&ticket(Open), 4, Resolved, "agent-1", None, now).expect("ok");
        assert_eq!(change.ticket.status, Resolved);
        assert_eq!(change.ticket.version, 5);
        assert_eq!(change.ticket.updated_at, now);
        assert_eq!(change.expected_version, 4);
        assert_eq!(
            change.history,
            vec![StatusChange {
                at: now,
                status: Resolved,
                actor: Author::Staff {
                    id: "agent-1".into()
                },
                reason: "resolved".into(),
                extended_minutes: None,
                rebased: None,
            }]
        );
        let reason = ReasonCode::parse("reason", "duplicate_report").expect("valid");
        let reopened =
            change_status(&ticket(Resolved), 4, Open, "a", Some(&reason), now).expect("ok");
        assert_eq!(reopened.history[0].reason, "duplicate_report");
        let reopened = change_status(&ticket(Resolved), 4, Open, "a", None, now).expect("ok");
        assert_eq!(reopened.history[0].reason, "reopened");
    }

    #[test]
    fn stale_versions_and_impossible_moves_are_refused() {
        let now = at("2026-11-26T16:00:00Z");
        assert_eq!(
            change_status(&ticket(Open), 3, Resolved, "a", None, now),
            Err(WorkflowError::Stale {
                expected: 3,
                actual: 4
            })
        );
        assert_eq!(
            change_status(&ticket(Closed), 4, Open, "a", None, now),
            Err(WorkflowError::WrongState {
                from: Closed,
                to: Open
            })
        );
        assert!(matches!(
            change_status(&ticket(Open), 4, Open, "a", None, now),
            Err(WorkflowError::WrongState { .. })
        ));
    }

    #[test]
    fn taking_assigns_open_work_only() {
        let now = at("2026-11-26T16:00:00Z");
        let change = take(&ticket(WaitingOnPlayer), 4, "agent-7", now).expect("ok");
        assert_eq!(change.ticket.assignee.as_deref(), Some("agent-7"));
        assert_eq!(change.ticket.status, WaitingOnPlayer);
        assert_eq!(change.ticket.version, 5);
        assert_eq!(change.history[0].reason, "taken");
        assert!(matches!(
            take(&ticket(Resolved), 4, "a", now),
            Err(WorkflowError::NotWorkable { .. })
        ));
        assert!(matches!(
            take(&ticket(Open), 5, "a", now),
            Err(WorkflowError::Stale { .. })
        ));
    }

    #[test]
    fn a_reply_is_a_message_from_the_agent() {
        let now = at("2026-11-26T16:00:00Z");
        let body = MessageBody::parse("body", "  Bonjour, nous vérifions.\n").expect("valid");
        let next_due = at("2026-11-30T22:00:00Z");
        let change = reply(&ticket(Open), 4, "agent-1", body, now, next_due).expect("ok");
        assert_eq!(change.ticket.version, 5);
        assert_eq!(
            change.ticket.response_due_at, next_due,
            "the next update is owed"
        );
        assert!(change.history.is_empty());
        let message = change.message.expect("message");
        assert_eq!(message.body, "Bonjour, nous vérifions.");
        assert_eq!(
            message.author,
            Author::Staff {
                id: "agent-1".into()
            }
        );
        let body = MessageBody::parse("body", "x").expect("valid");
        assert!(matches!(
            reply(&ticket(Closed), 4, "a", body, now, next_due),
            Err(WorkflowError::NotWorkable { .. })
        ));
    }

    #[test]
    fn reply_bodies_are_bounded_printable_text() {
        assert_eq!(
            MessageBody::parse("body", "   ").unwrap_err().rule,
            Rule::Required
        );
        assert_eq!(
            MessageBody::parse("body", "a\u{7}b").unwrap_err().rule,
            Rule::PrintableText
        );
        assert!(MessageBody::parse("body", &"é".repeat(5000)).is_ok());
        assert_eq!(
            MessageBody::parse("body", &"é".repeat(5001))
                .unwrap_err()
                .rule,
            Rule::MaxLength { max: 5000 }
        );
    }

    #[test]
    fn reason_codes_are_short_identifiers() {
        assert!(ReasonCode::parse("reason", "player_answered").is_ok());
        assert!(ReasonCode::parse("reason", "Free text!").is_err());
        assert!(ReasonCode::parse("reason", "").is_err());
        assert!(ReasonCode::parse("reason", &"a".repeat(41)).is_err());
    }

    #[test]
    fn a_players_answer_puts_a_waiting_or_resolved_ticket_back_in_work() {
        let body = || MessageBody::parse("body", "Voici la capture demandée.").expect("valid");
        let due = at("2026-12-01T22:00:00Z");
        let at = Timestamp::from_millisecond(5_000).expect("valid");
        let waiting = player_reply(&ticket(WaitingOnPlayer), body(), at, due).expect("answered");
        assert_eq!(waiting.ticket.status, Open);
        assert_eq!(
            waiting.ticket.response_due_at, due,
            "the desk owes an answer again"
        );
        assert_eq!(waiting.history[0].reason, "player_answered");
        assert_eq!(waiting.history[0].actor, Author::Player);
        assert_eq!(
            waiting.message.as_ref().map(|m| &m.author),
            Some(&Author::Player)
        );
        let resolved = player_reply(&ticket(Resolved), body(), at, due).expect("reopened");
        assert_eq!(resolved.ticket.status, Open);
        assert_eq!(resolved.ticket.response_due_at, due);
        assert_eq!(resolved.history[0].reason, "reopened_by_player");
        let escalated = player_reply(&ticket(Escalated), body(), at, due).expect("noted");
        assert_eq!(
            escalated.ticket.response_due_at,
            ticket(Escalated).response_due_at,
            "a ticket already ours keeps its target"
        );
        assert_eq!(
            escalated.ticket.status, Escalated,
            "stays with the specialists"
        );
        assert!(escalated.history.is_empty());
        assert!(matches!(
            player_reply(&ticket(Closed), body(), at, due),
            Err(WorkflowError::NotWorkable { .. })
        ));
    }
}

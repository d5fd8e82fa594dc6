//! Extended delays: an agent tells the player that their request needs more time than the
//! desk promised, and by when they may now expect it resolved.
//!
//! An extension adds business minutes to the resolution clock's budget, so everything the
//! clock already counted stays counted and its due time moves by exactly the time added, on
//! the hours of the ticket's channel. It is asked either as a number of business days (a day
//! being the channel's longest weekday) or as a date, whose close of business becomes the new
//! due time. The status line that records it carries the minutes, which the replay of the
//! history reads (`promises::clocks::events_of`).

use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};

use crate::common::player::Author;
use crate::common::validation::{Rule, ValidationError};
use crate::promises::clocks::{ClockState, Promises};
use crate::tickets::ticket::{StatusChange, Ticket, TicketStatus};
use crate::tickets::workflow::{Change, ReasonCode, WorkflowError};

/// At most this many business days at once: a longer delay is a new conversation with the
/// player, not an extension.
pub const MAX_BUSINESS_DAYS: u8 = 30;
/// A date at most this many days ahead.
pub const MAX_DAYS_AHEAD: i64 = 90;

/// How much longer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExtensionAsk {
    BusinessDays(u8),
    Until(Date),
}

impl ExtensionAsk {
    /// `business_days`: a whole number from 1 to [`MAX_BUSINESS_DAYS`].
    pub fn business_days(field: &str, n: i64) -> Result<Self, ValidationError> {
        u8::try_from(n)
            .ok()
            .filter(|n| (1..=MAX_BUSINESS_DAYS).contains(n))
            .map(ExtensionAsk::BusinessDays)
            .ok_or_else(|| {
                ValidationError::new(
                    field,
                    Rule::Range {
                        min: 1,
                        max: i64::from(MAX_BUSINESS_DAYS),
                    },
                )
            })
    }

    /// `until`: a date `YYYY-MM-DD`.
    pub fn until(field: &str, raw: &str) -> Result<Self, ValidationError> {
        // jiff reads more than the plain form (e.g. week dates); only YYYY-MM-DD is taken.
        let plain = raw.len() == 10
            && raw.bytes().enumerate().all(|(i, b)| {
                if i == 4 || i == 7 {
                    b == b'-'
                } else {
                    b.is_ascii_digit()
                }
            });
        plain
            .then(|| raw.parse::<Date>().ok())
            .flatten()
            .map(ExtensionAsk::Until)
            .ok_or_else(|| ValidationError::new(field, Rule::Date))
    }
}

/// The change that extends `ticket`'s resolution: its status line (by the agent, with the
/// reason given and the minutes added) and the clock moved by [`crate::tickets::desk::Desk`]
/// as for every change.
pub fn extend(
    ticket: &Ticket,
    expected_version: u64,
    ask: ExtensionAsk,
    reason: &ReasonCode,
    staff_id: &str,
    now: Timestamp,
    promises: &Promises,
) -> Result<Change, WorkflowError> {
    if ticket.version != expected_version {
        return Err(WorkflowError::Stale {
            expected: expected_version,
            actual: ticket.version,
        });
    }
    let not_workable = WorkflowError::NotWorkable {
        status: ticket.status,
        action: "extended",
    };
    if matches!(ticket.status, TicketStatus::Resolved | TicketStatus::Closed) {
        return Err(not_workable);
    }
    let clock = ticket
        .clocks
        .as_ref()
        .and_then(|c| c.resolution.as_ref())
        .filter(|c| c.state != ClockState::Met)
        .ok_or(not_workable)?;
    let hours = &promises.hours;
    let channel = ticket.channel;
    let minutes = match ask {
        ExtensionAsk::BusinessDays(days) => u32::from(days) * hours.business_day_minutes(channel),
        ExtensionAsk::Until(date) => {
            let field = "until";
            let today = now.to_zoned(hours.zone().clone()).date();
            let ahead = today.until(date).map(|span| span.get_days()).unwrap_or(0);
            if i64::from(ahead) > MAX_DAYS_AHEAD {
                return Err(ValidationError::new(
                    field,
                    Rule::NotAllowedHere {
                        reason: "an extension reaches at most 90 days ahead",
                    },
                )
                .into());
            }
            let (day, _) = hours.hours_on(channel, date);
            let close = day
                .spans()
                .last()
                .and_then(|span| {
                    date.at(0, 0, 0, 0)
                        .checked_add(SignedDuration::from_mins(i64::from(span.close)))
                        .ok()
                })
                .and_then(|civil| civil.to_zoned(hours.zone().clone()).ok())
                .map(|zoned| zoned.timestamp())
                .ok_or_else(|| ValidationError::new(field, Rule::OpenDay))?;
            // While the clock is paused its due time is not set: count from now, as if the
            // player answered this minute.
            let left = SignedDuration::from_mins(i64::from(clock.budget_minutes)) - clock.used();
            let due = match clock.due_at {
                Some(due) => due,
                None => hours
                    .add_business_time(channel, now, left)
                    .unwrap_or(Timestamp::MAX),
            };
            if close <= due {
                return Err(ValidationError::new(field, Rule::Later).into());
            }
            let added = hours.business_time_between(channel, due, close).as_mins();
            u32::try_from(added).unwrap_or(u32::MAX)
        }
    };
    if minutes == 0 {
        return Err(ValidationError::new("until", Rule::Later).into());
    }
    let mut next = ticket.clone();
    next.version += 1;
    next.updated_at = now;
    Ok(Change {
        history: vec![StatusChange {
            at: now,
            status: ticket.status,
            actor: Author::Staff {
                id: staff_id.to_owned(),
            },
            reason: reason.as_str().to_owned(),
            extended_minutes: Some(minutes),
            rebased: None,
        }],
        ticket: next,
        expected_version,
        message: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::promises::clocks::advance;
    use crate::promises::policy::ClockKind;
    use crate::tickets::ticket::{sample, Category, Channel};

    fn at(text: &str) -> Timestamp {
        text.parse().expect("valid")
    }

    /// A technical form ticket received Thursday 2026-11-26 10:00 EST: its resolution
    /// (4,800 business minutes, ten days of 8 hours) is due Thursday 10 December 10:00 EST.
    fn opened(p: &Promises) -> Ticket {
        let now = at("2026-11-26T15:00:00Z");
        let mut ticket = Ticket {
            category: Category::Technical,
            priority: crate::tickets::ticket::Priority::Normal,
            channel: Channel::Form,
            created_at: now,
            version: 1,
            ..sample(TicketStatus::Open)
        };
        let received = StatusChange {
            at: now,
            status: TicketStatus::Open,
            actor: Author::Player,
            reason: "received".into(),
            extended_minutes: None,
            rebased: None,
        };
        advance(p, None, &mut ticket, &[received], None);
        ticket
    }

    fn due(ticket: &Ticket) -> Option<Timestamp> {
        ticket
            .clocks
            .as_ref()
            .and_then(|c| c.get(ClockKind::Resolution))
            .and_then(|c| c.due_at)
    }

    fn reason() -> ReasonCode {
        ReasonCode::parse("reason", "awaiting_provider").expect("valid")
    }

    #[test]
    fn business_days_move_the_resolution_by_whole_days_of_the_channel() {
        let p = Promises::bundled().expect("bundled");
        let ticket = opened(&p);
        assert_eq!(due(&ticket), Some(at("2026-12-10T15:00:00Z")));
        let now = at("2026-11-27T15:00:00Z");
        let mut change = extend(
            &ticket,
            1,
            ExtensionAsk::BusinessDays(2),
            &reason(),
            "a",
            now,
            &p,
        )
        .expect("extended");
        assert_eq!(change.history[0].extended_minutes, Some(960));
        assert_eq!(change.history[0].reason, "awaiting_provider");
        advance(&p, Some(&ticket), &mut change.ticket, &change.history, None);
        // Two business days later: Monday 14 December, 10:00 EST.
        assert_eq!(due(&change.ticket), Some(at("2026-12-14T15:00:00Z")));
    }

    #[test]
    fn a_date_becomes_the_close_of_that_business_day() {
        let p = Promises::bundled().expect("bundled");
        let ticket = opened(&p);
        let now = at("2026-11-27T15:00:00Z");
        let until = ExtensionAsk::until("until", "2026-12-15").expect("a date");
        let mut change = extend(&ticket, 1, until, &reason(), "a", now, &p).expect("extended");
        advance(&p, Some(&ticket), &mut change.ticket, &change.history, None);
        assert_eq!(due(&change.ticket), Some(at("2026-12-15T22:00:00Z")));
    }

    #[test]
    fn a_closed_day_an_earlier_date_or_finished_work_is_refused() {
        let p = Promises::bundled().expect("bundled");
        let ticket = opened(&p);
        let now = at("2026-11-27T15:00:00Z");
        let refused = |ask| extend(&ticket, 1, ask, &reason(), "a", now, &p);
        let rule = |raw: &str| match refused(ExtensionAsk::until("until", raw).expect("date")) {
            Err(WorkflowError::Invalid(v)) => Some(v.rule),
            _ => None,
        };
        assert_eq!(rule("2026-12-12"), Some(Rule::OpenDay), "a Saturday");
        assert_eq!(rule("2026-12-25"), Some(Rule::OpenDay), "Christmas");
        assert_eq!(rule("2026-12-09"), Some(Rule::Later), "before the due date");
        assert!(matches!(
            rule("2027-06-01"),
            Some(Rule::NotAllowedHere { .. })
        ));
        assert!(ExtensionAsk::until("until", "2026-W50-1").is_err());
        assert!(ExtensionAsk::until("until", "15/12/2026").is_err());
        assert!(ExtensionAsk::business_days("business_days", 0).is_err());
        assert!(ExtensionAsk::business_days("business_days", 31).is_err());
        assert!(matches!(
            extend(
                &ticket,
                2,
                ExtensionAsk::BusinessDays(1),
                &reason(),
                "a",
                now,
                &p
            ),
            Err(WorkflowError::Stale { .. })
        ));
        let resolved = Ticket {
            status: TicketStatus::Resolved,
            ..ticket.clone()
        };
        assert!(matches!(
            extend(
                &resolved,
                1,
                ExtensionAsk::BusinessDays(1),
                &reason(),
                "a",
                now,
                &p
            ),
            Err(WorkflowError::NotWorkable { .. })
        ));
    }
}

//! The sweep: what acts on the clocks when a promise is about to be missed, and when it is.
//!
//! Every ticket whose clocks have a warning or a breach to come is listed in a due-time index
//! under the hour its next one falls in ([`DueBucket`]). A sweep (every minute, on a schedule)
//! reads the hours that fell due, one query each, oldest first, and for each ticket found:
//!
//! - records each clock's warning and breach that fell due as a status line (staff-only), in
//!   one write with an alert for the owning team ([`SlaAlert`], through the outbox) — the write
//!   is conditioned on the ticket's version, so two sweeps at once, or a sweep run twice,
//!   record each warning and each breach once (the loser's write finds a newer version and
//!   does nothing: the winner's already holds the mark);
//! - a breach raises the ticket to the head of its team's queue (`Ticket::queue_rank`);
//! - outside the hours of the ticket's channel, which its team works by, nothing is recorded
//!   or sent: the ticket's entry is put off to the next opening, when the team is there to
//!   act on it.

use std::future::Future;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::common::paging::Page;
use crate::common::player::Author;
use crate::common::reference::TicketReference;
use crate::common::store::StoreError;
use crate::notifications::rules::NotifyError;
use crate::outbox::rules::{Destination, MessageId, OutboxMessage};
use crate::promises::clocks::{
    breached_reason, rebase_line, warned_reason, ClockState, RegulatorClock, REGULATOR_NOTICE,
};
use crate::promises::policy::ClockKind;
use crate::tickets::desk::Desk;
use crate::tickets::ports::{Basis, TicketStore, TicketUpdate, Updated};
use crate::tickets::staff::now_ms;
use crate::tickets::ticket::{Channel, Priority, StatusChange, Team, Ticket};
use crate::tickets::workflow::Change;

pub const ALERT_SCHEMA: &str = "guichet.sla-alert.v1";

/// How many tickets a sweep reads per query.
const PAGE: u16 = 50;

/// One hour of the due-time index, counted in whole UTC hours since the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct DueBucket(i64);

impl DueBucket {
    pub fn of(at: Timestamp) -> Self {
        Self(at.as_second().div_euclid(3600))
    }

    /// `2026-11-30T15`: the UTC hour, as the index partition names it.
    pub fn label(self) -> String {
        Timestamp::from_second(self.0.saturating_mul(3600))
            .map(|t| t.strftime("%Y-%m-%dT%H").to_string())
            .unwrap_or_default()
    }

    /// The `hours` buckets before this one and this one, oldest first.
    pub fn back(self, hours: u16) -> impl Iterator<Item = DueBucket> {
        let first = self.0 - i64::from(hours);
        (first..=self.0).map(DueBucket)
    }
}

/// Where the next page of a bucket starts: just after this entry (its index sort key, as
/// read).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueAfter {
    pub reference: TicketReference,
    pub key: String,
}

/// The due-time index, beside the ticket store.
pub trait DueIndex: Send + Sync {
    /// The open tickets listed in `bucket` at or before `until`, in due order, at most
    /// `limit`, from just after `after`.
    fn due(
        &self,
        bucket: DueBucket,
        until: Timestamp,
        limit: u16,
        after: Option<&DueAfter>,
    ) -> impl Future<Output = Result<Page<Ticket, DueAfter>, StoreError>> + Send;

    /// Lists `ticket` at `until` instead, only if it is still at its version: nothing else of
    /// it changes.
    fn put_off(
        &self,
        ticket: &Ticket,
        until: Timestamp,
    ) -> impl Future<Output = Result<Updated, StoreError>> + Send;

    /// The configuration ([`crate::promises::clocks::Promises::basis`]) every open ticket's
    /// clocks were last recomputed on, if any.
    fn applied_basis(&self) -> impl Future<Output = Result<Option<String>, StoreError>> + Send;

    fn mark_applied_basis(
        &self,
        basis: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

vocabulary!(
    /// What a sweep found of a clock.
    AlertKind { Warning => "warning", Breach => "breach" }
);

/// The message a team's tools read (schema `guichet.sla-alert.v1`): which promise, on which
/// ticket, by when. Identifiers and times only, never what the player wrote: the team opens
/// the ticket through the API.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaAlert {
    pub schema: String,
    pub alert_id: MessageId,
    pub kind: AlertKind,
    pub clock: ClockKind,
    pub team: Team,
    pub reference: TicketReference,
    pub priority: Priority,
    pub channel: Channel,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_at: Option<Timestamp>,
    pub at: Timestamp,
    pub ticket: String,
}

/// The warnings and breaches of `ticket`'s clocks that fell due by `now` and are not recorded
/// yet.
pub fn due_marks(ticket: &Ticket, now: Timestamp) -> Vec<(ClockKind, AlertKind)> {
    let Some(clocks) = ticket.clocks.as_ref() else {
        return Vec::new();
    };
    let mut marks = Vec::new();
    for kind in ClockKind::ALL {
        let Some(clock) = clocks.get(*kind) else {
            continue;
        };
        if clock.state != ClockState::Running {
            continue;
        }
        let past = |at: Option<Timestamp>| at.is_some_and(|at| at <= now);
        if clock.warned_at.is_none() && past(clock.warn_at) {
            marks.push((*kind, AlertKind::Warning));
        }
        if clock.breached_at.is_none() && past(clock.due_at) {
            marks.push((*kind, AlertKind::Breach));
        }
    }
    marks
}

/// Whether `ticket`, a complaint still open, owes its player the regulator notice by `now`.
pub fn notice_owed(ticket: &Ticket, now: Timestamp) -> bool {
    ticket
        .clocks
        .as_ref()
        .and_then(|c| c.regulator.as_ref())
        .and_then(RegulatorClock::notice_due)
        .is_some_and(|at| at <= now)
}

/// The change that records `marks` on `ticket`: one status line each, by the desk itself.
pub fn mark(ticket: &Ticket, marks: &[(ClockKind, AlertKind)], now: Timestamp) -> Change {
    let mut next = ticket.clone();
    next.version += 1;
    next.updated_at = now;
    Change {
        history: marks
            .iter()
            .map(|(clock, kind)| StatusChange {
                at: now,
                status: ticket.status,
                actor: Author::System,
                reason: match kind {
                    AlertKind::Warning => warned_reason(*clock),
                    AlertKind::Breach => breached_reason(*clock),
                }
                .to_owned(),
                extended_minutes: None,
                rebased: None,
            })
            .collect(),
        ticket: next,
        expected_version: ticket.version,
        message: None,
    }
}

impl SlaAlert {
    pub fn new(
        id: MessageId,
        ticket: &Ticket,
        clock: ClockKind,
        kind: AlertKind,
        at: Timestamp,
    ) -> Self {
        SlaAlert {
            schema: ALERT_SCHEMA.to_owned(),
            alert_id: id,
            kind,
            clock,
            team: ticket.team,
            reference: ticket.reference.clone(),
            priority: ticket.priority,
            channel: ticket.channel,
            due_at: ticket
                .clocks
                .as_ref()
                .and_then(|c| c.get(clock))
                .and_then(|c| c.due_at),
            at,
            ticket: format!("/tickets/{}", ticket.reference),
        }
    }
}

/// What one sweep did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SweepReport {
    pub buckets: u32,
    pub checked: u32,
    pub warnings: u32,
    pub breaches: u32,
    /// Complaints whose player was told they may go to the regulator.
    pub notices: u32,
    /// Recomputed on a new configuration of the hours or the promises.
    pub rebased: u32,
    /// Found outside their team's hours, and listed again at its next opening.
    pub put_off: u32,
    /// Changed by someone else (another sweep, an agent) between the read and the write: the
    /// next sweep looks at them again.
    pub lost_races: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Notify(#[from] NotifyError),
    #[error("the random source failed")]
    Random(#[from] getrandom::Error),
}

/// The sweep, on the desk (its store, clock and promises).
pub struct Sweep<S> {
    pub desk: Desk<S>,
    /// How many past hours each sweep reads besides the current one: a sweep that did not run
    /// for a while still finds what fell due meanwhile.
    pub lookback_hours: u16,
}

impl<S: TicketStore + DueIndex> Sweep<S> {
    /// One sweep at the desk's clock's now.
    pub async fn run(&self) -> Result<SweepReport, SweepError> {
        let now = now_ms(self.desk.clock.now());
        let mut report = SweepReport::default();
        self.rebase_open(now, &mut report).await?;
        for bucket in DueBucket::of(now).back(self.lookback_hours) {
            report.buckets += 1;
            let mut after = None;
            loop {
                let page = self
                    .desk
                    .store
                    .due(bucket, now, PAGE, after.as_ref())
                    .await?;
                for ticket in &page.items {
                    self.check(ticket, now, &mut report).await?;
                }
                match page.next {
                    Some(next) => after = Some(next),
                    None => break,
                }
            }
        }
        if report.warnings
            + report.breaches
            + report.notices
            + report.rebased
            + report.put_off
            + report.lost_races
            > 0
        {
            tracing::info!(
                checked = report.checked,
                warnings = report.warnings,
                breaches = report.breaches,
                notices = report.notices,
                rebased = report.rebased,
                put_off = report.put_off,
                lost_races = report.lost_races,
                "clocks swept"
            );
        }
        Ok(report)
    }

    /// Records the recomputation of `ticket`'s clocks on the desk's configuration, alone.
    async fn rebase(
        &self,
        ticket: &Ticket,
        now: Timestamp,
        report: &mut SweepReport,
    ) -> Result<(), SweepError> {
        let mut change = mark(ticket, &[], now);
        self.desk.keep_promises(ticket, &mut change);
        let written = self
            .desk
            .store
            .update(TicketUpdate {
                change: &change,
                basis: Basis::Read,
                escalation: None,
                notification: None,
                outbox: &[],
            })
            .await?;
        match written {
            Updated::Done => report.rebased += 1,
            Updated::Stale => report.lost_races += 1,
        }
        Ok(())
    }

    /// After a change of configuration, once: every open ticket's clocks recomputed on it
    /// (read through the teams' queues, which hold every open ticket), so that a due time the
    /// new hours or budgets moved earlier is in the due-time index before it passes. Marked
    /// done for that configuration only when every ticket is: a sweep that fails midway is
    /// followed by one that goes on.
    async fn rebase_open(
        &self,
        now: Timestamp,
        report: &mut SweepReport,
    ) -> Result<(), SweepError> {
        let basis = &self.desk.promises.basis;
        if self.desk.store.applied_basis().await?.as_deref() == Some(basis.as_str()) {
            return Ok(());
        }
        for team in Team::ALL {
            let mut start = None;
            loop {
                let page = self
                    .desk
                    .store
                    .team_queue(*team, PAGE, start.as_ref())
                    .await?;
                for ticket in &page.items {
                    if rebase_line(&self.desk.promises, ticket, now).is_some() {
                        self.rebase(ticket, now, report).await?;
                    }
                }
                match page.next {
                    Some(next) => start = Some(next),
                    None => break,
                }
            }
        }
        self.desk.store.mark_applied_basis(basis).await?;
        tracing::info!(basis = %basis, rebased = report.rebased, "clocks recomputed on the configuration");
        Ok(())
    }

    async fn check(
        &self,
        ticket: &Ticket,
        now: Timestamp,
        report: &mut SweepReport,
    ) -> Result<(), SweepError> {
        report.checked += 1;
        // On a new configuration, what falls due is read off the clocks recomputed on it
        // (the write records the recomputation first: `Desk::keep_promises`).
        let stale = rebase_line(&self.desk.promises, ticket, now);
        let current = match stale.as_ref().and_then(|line| line.rebased.as_deref()) {
            Some(rebased) => Ticket {
                clocks: Some(rebased.clone()),
                ..ticket.clone()
            },
            None => ticket.clone(),
        };
        let marks = due_marks(&current, now);
        let notice = notice_owed(&current, now);
        if marks.is_empty() && !notice {
            if stale.is_some() {
                return self.rebase(ticket, now, report).await;
            }
            // The index lags the table a little: the ticket moved on since.
            return Ok(());
        }
        let hours = &self.desk.promises.hours;
        if !hours.is_open(ticket.channel, now) {
            if stale.is_some() {
                // Recomputed now; its marks wait for the opening like any other's.
                return self.rebase(ticket, now, report).await;
            }
            // A day past the horizon of the hours is as good as never: the sweep of then
            // looks again.
            let opens = hours
                .open_spans(ticket.channel, now)
                .next()
                .map_or(now + SignedDuration::from_hours(24), |(open, _)| open);
            match self.desk.store.put_off(ticket, opens).await? {
                Updated::Done => report.put_off += 1,
                Updated::Stale => report.lost_races += 1,
            }
            return Ok(());
        }
        let mut change = mark(ticket, &marks, now);
        if notice {
            change.history.push(StatusChange {
                at: now,
                status: ticket.status,
                actor: Author::System,
                reason: REGULATOR_NOTICE.to_owned(),
                extended_minutes: None,
                rebased: None,
            });
        }
        self.desk.keep_promises(ticket, &mut change);
        let mut outbox = Vec::new();
        for (clock, kind) in &marks {
            let alert = SlaAlert::new(MessageId::generate()?, &change.ticket, *clock, *kind, now);
            outbox.push(
                OutboxMessage::new(
                    MessageId::generate()?,
                    Destination::TeamAlerts,
                    ticket.reference.as_str(),
                    &alert,
                    now,
                )
                .map_err(NotifyError::from)?,
            );
        }
        let notification = if notice {
            let terms = &self.desk.promises.policies.complaints;
            let (notification, message) = self.desk.notifier.for_regulator_notice(
                &change.ticket,
                terms.regulator(change.ticket.language),
                MessageId::generate()?,
                now,
            )?;
            outbox.push(message);
            Some(notification)
        } else {
            None
        };
        let written = self
            .desk
            .store
            .update(TicketUpdate {
                change: &change,
                basis: Basis::Read,
                escalation: None,
                notification: notification.as_ref(),
                outbox: &outbox,
            })
            .await?;
        match written {
            Updated::Done => {
                if notice {
                    report.notices += 1;
                    tracing::info!(ticket = %ticket.reference, "regulator notice");
                }
                for (clock, kind) in &marks {
                    match kind {
                        AlertKind::Warning => report.warnings += 1,
                        AlertKind::Breach => report.breaches += 1,
                    }
                    tracing::info!(ticket = %ticket.reference, team = ticket.team.as_str(), clock = clock.as_str(), kind = kind.as_str(), "promise alert");
                }
            }
            Updated::Stale => report.lost_races += 1,
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::access::{Actor, Role};
    use crate::common::player::PlayerId;
    use crate::outbox::ports::OutboxStore;
    use crate::promises::clocks::replay;
    use crate::tickets::desk::Submitted;
    use crate::tickets::intake::TicketRequest;
    use crate::tickets::memory::{desk_with_clock, FixedClock, MemoryTicketStore};
    use crate::tickets::ticket::TicketStatus;
    use crate::tickets::workflow;

    fn at(text: &str) -> Timestamp {
        text.parse().expect("valid")
    }

    /// A technical form ticket received Thursday 2026-11-26 10:00 EST: its first response
    /// warns Friday 14:48 EST and is due Monday 10:00 EST.
    async fn setup() -> (Sweep<MemoryTicketStore>, FixedClock, TicketReference) {
        let clock = FixedClock::at("2026-11-26T15:00:00Z");
        let desk = desk_with_clock(clock.clone());
        let body = serde_json::json!({
            "channel": "form", "category": "technical", "subject": "Page blanche",
            "description": "Le lobby reste blanc."
        });
        let request = TicketRequest::parse(&body, None, desk.clock.now()).expect("valid");
        let player = PlayerId::parse("p-1").expect("valid");
        let reference = match desk
            .submit(player, request, None, None)
            .await
            .expect("stored")
        {
            Submitted::Created(receipt, _) | Submitted::Replayed(receipt) => receipt.reference,
        };
        let sweep = Sweep {
            desk,
            lookback_hours: 24,
        };
        (sweep, clock, reference)
    }

    async fn stored(
        sweep: &Sweep<MemoryTicketStore>,
        reference: &TicketReference,
    ) -> crate::tickets::ports::TicketWithHistory {
        sweep
            .desk
            .store
            .get(reference)
            .await
            .expect("read")
            .expect("found")
    }

    async fn alerts(sweep: &Sweep<MemoryTicketStore>) -> Vec<SlaAlert> {
        sweep
            .desk
            .store
            .pending(100)
            .await
            .expect("outbox")
            .into_iter()
            .filter(|m| m.destination == Destination::TeamAlerts)
            .map(|m| serde_json::from_str(&m.body).expect("an alert"))
            .collect()
    }

    #[tokio::test]
    async fn a_warning_then_a_breach_each_recorded_once_with_an_alert_for_the_team() {
        let (sweep, clock, reference) = setup().await;
        // Before the warning: nothing.
        clock.set(at("2026-11-27T19:47:00Z"));
        assert_eq!(sweep.run().await.expect("swept").warnings, 0);
        clock.set(at("2026-11-27T19:49:00Z"));
        let report = sweep.run().await.expect("swept");
        assert_eq!((report.warnings, report.breaches), (1, 0));
        assert_eq!(sweep.run().await.expect("again").warnings, 0, "once");
        let found = stored(&sweep, &reference).await;
        let lines: Vec<&str> = found.history.iter().map(|l| l.reason.as_str()).collect();
        assert_eq!(lines, ["received", "first_response_warning"]);
        let sent = alerts(&sweep).await;
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].kind, AlertKind::Warning);
        assert_eq!(sent[0].clock, ClockKind::FirstResponse);
        assert_eq!(sent[0].team, Team::Technical);
        assert_eq!(sent[0].due_at, Some(at("2026-11-30T15:00:00Z")));
        assert_eq!(found.ticket.queue_rank(), Priority::Normal.rank());
        // Monday 10:01 EST: breached, recorded once, first in its team's queue.
        clock.set(at("2026-11-30T15:01:00Z"));
        assert_eq!(sweep.run().await.expect("swept").breaches, 1);
        assert_eq!(sweep.run().await.expect("again").breaches, 0);
        let found = stored(&sweep, &reference).await;
        assert_eq!(
            found.history.last().map(|l| l.reason.as_str()),
            Some("first_response_breach")
        );
        assert_eq!(found.ticket.queue_rank(), 0);
        assert_eq!(alerts(&sweep).await.len(), 2);
        assert_eq!(
            replay(
                &sweep.desk.promises,
                &found.ticket,
                &found.history,
                &found.messages
            ),
            found.ticket.clocks,
            "the marks are history the replay reads"
        );
    }

    #[tokio::test]
    async fn nothing_is_recorded_or_sent_outside_the_teams_hours_until_it_opens() {
        let (sweep, clock, reference) = setup().await;
        // Friday 2026-11-27 18:00 EST: the warning (14:48) fell due, but the desk closed at 17:00.
        clock.set(at("2026-11-27T23:00:00Z"));
        let report = sweep.run().await.expect("swept");
        assert_eq!((report.warnings, report.put_off), (0, 1));
        assert!(alerts(&sweep).await.is_empty());
        // Saturday: put off to Monday 09:00, so not even looked at.
        clock.set(at("2026-11-28T15:00:00Z"));
        assert_eq!(sweep.run().await.expect("swept").checked, 0);
        // Monday 09:00 EST: the warning, at last.
        clock.set(at("2026-11-30T14:00:00Z"));
        let report = sweep.run().await.expect("swept");
        assert_eq!(report.warnings, 1);
        assert_eq!(stored(&sweep, &reference).await.history.len(), 2);
    }

    #[tokio::test]
    async fn a_ticket_waiting_on_the_player_does_not_breach() {
        let (sweep, clock, reference) = setup().await;
        let agent = Actor {
            subject: PlayerId::parse("agent-1").expect("valid"),
            roles: vec![Role::Agent],
            teams: vec![Team::Technical],
            email: None,
        };
        clock.set(at("2026-11-26T16:00:00Z"));
        let body = workflow::MessageBody::parse("body", "Pouvez-vous envoyer une capture ?")
            .expect("valid");
        sweep
            .desk
            .work_on(&agent, &reference, None, |t, now| {
                workflow::reply(t, t.version, "agent-1", body.clone(), now, now)
            })
            .await
            .expect("replied");
        sweep
            .desk
            .work_on(&agent, &reference, None, |t, now| {
                workflow::change_status(
                    t,
                    t.version,
                    TicketStatus::WaitingOnPlayer,
                    "agent-1",
                    None,
                    now,
                )
            })
            .await
            .expect("waiting");
        // A month later: the resolution is paused, the first response was met.
        clock.set(at("2026-12-28T15:00:00Z"));
        let report = sweep.run().await.expect("swept");
        assert_eq!((report.warnings, report.breaches), (0, 0));
        let found = stored(&sweep, &reference).await;
        assert!(!found.history.iter().any(|l| l.reason.ends_with("_breach")));
        assert_eq!(
            found.ticket.clocks.as_ref().and_then(|c| c.next_check()),
            None
        );
    }

    #[tokio::test]
    async fn a_complaint_runs_on_its_terms_and_its_player_is_told_of_the_regulator_once() {
        let clock = FixedClock::at("2026-11-26T15:00:00Z");
        let desk = desk_with_clock(clock.clone());
        let body = serde_json::json!({
            "channel": "form", "category": "complaint", "subject": "Gain non payé",
            "description": "Ma mise gagnante au blackjack n'a pas été payée.", "language": "en"
        });
        let request = TicketRequest::parse(&body, None, desk.clock.now()).expect("valid");
        let player = PlayerId::parse("p-2").expect("valid");
        let reference = match desk
            .submit(player, request, None, None)
            .await
            .expect("stored")
        {
            Submitted::Created(receipt, _) | Submitted::Replayed(receipt) => receipt.reference,
        };
        let sweep = Sweep {
            desk,
            lookback_hours: 168,
        };
        let found = stored(&sweep, &reference).await;
        assert_eq!(found.ticket.team, Team::Complaints);
        let clocks = found.ticket.clocks.clone().expect("clocks");
        // Answered within ten business days of eight hours, on the written channel.
        assert_eq!(
            clocks.resolution.as_ref().map(|c| c.budget_minutes),
            Some(4800)
        );
        let regulator = clocks.regulator.clone().expect("a regulator clock");
        // Ninety calendar days, at the same local time (EST then and then).
        assert_eq!(regulator.limit_at, at("2027-02-24T15:00:00Z"));
        assert_eq!(regulator.notice_at, at("2027-02-14T15:00:00Z"));
        // A sweep every day at 10:00 EST until Monday 15 February 2027: the clocks warn and
        // breach on the way, and the notice comes on the Monday (put off from Sunday), once.
        let mut day = at("2026-11-27T15:00:00Z");
        let mut notices = Vec::new();
        while day <= at("2027-02-15T15:00:00Z") {
            clock.set(day);
            if sweep.run().await.expect("swept").notices > 0 {
                notices.push(day);
            }
            day += jiff::SignedDuration::from_hours(24);
        }
        assert_eq!(notices, [at("2027-02-15T15:00:00Z")]);
        clock.set(at("2027-02-15T16:00:00Z"));
        assert_eq!(sweep.run().await.expect("again").notices, 0);
        let found = stored(&sweep, &reference).await;
        let told: Vec<_> = found
            .notifications
            .iter()
            .filter(|n| n.kind == crate::notifications::rules::NotificationKind::RegulatorNotice)
            .collect();
        assert_eq!(told.len(), 1);
        assert!(told[0].body.contains("iGaming Ontario"), "{}", told[0].body);
        assert!(
            told[0].body.contains(&reference.to_string()),
            "{}",
            told[0].body
        );
        assert!(
            told[0].body.contains("February 24, 2027"),
            "{}",
            told[0].body
        );
        assert_eq!(
            replay(
                &sweep.desk.promises,
                &found.ticket,
                &found.history,
                &found.messages
            ),
            found.ticket.clocks
        );
    }

    #[tokio::test]
    async fn a_new_configuration_recomputes_every_open_ticket_once_and_breaches_from_now() {
        let (mut sweep, clock, reference) = setup().await;
        // The same configuration: the pass finds nothing to do, and marks it done.
        clock.set(at("2026-11-26T16:00:00Z"));
        assert_eq!(sweep.run().await.expect("swept").rebased, 0);
        // A new one, deployed at 16:00 EST with six business hours used of a budget now four:
        // recomputed once, due at once, and breached by the next sweep, after it.
        sweep.desk.promises = crate::promises::clocks::tests::tighter();
        clock.set(at("2026-11-26T21:00:00Z"));
        let report = sweep.run().await.expect("swept");
        assert_eq!(report.rebased, 1);
        assert_eq!(sweep.run().await.expect("again").rebased, 0, "once");
        let found = stored(&sweep, &reference).await;
        let reasons: Vec<&str> = found.history.iter().map(|l| l.reason.as_str()).collect();
        assert_eq!(
            reasons,
            [
                "received",
                "clocks_rebased",
                "first_response_warning",
                "first_response_breach"
            ],
            "the marks fall due from the recomputation's time"
        );
        let breach = found.history.last().expect("a breach");
        // Recorded just after the recomputation (a change is never recorded at the instant of
        // the one before it), and never before it.
        assert_eq!(breach.at, at("2026-11-26T21:00:00.001Z"));
        assert_eq!(
            replay(
                &sweep.desk.promises,
                &found.ticket,
                &found.history,
                &found.messages
            ),
            found.ticket.clocks
        );
    }

    #[test]
    fn buckets_are_utc_hours() {
        let bucket = DueBucket::of(at("2026-11-30T15:59:59Z"));
        assert_eq!(bucket.label(), "2026-11-30T15");
        assert_eq!(bucket, DueBucket::of(at("2026-11-30T15:00:00Z")));
        let back: Vec<String> = bucket.back(2).map(DueBucket::label).collect();
        assert_eq!(back, ["2026-11-30T13", "2026-11-30T14", "2026-11-30T15"]);
    }
}

//! A ticket's clocks: first response, next response and resolution, each counting business
//! time on the hours of the ticket's channel against its policy's budget.
//!
//! A clock is a fold of the ticket's history ([`ClockEvent`]s, read off its status lines and
//! messages by [`events_of`]) over the hours and the policies: [`Clocks::apply`] is the only
//! thing that moves one. Every write of a ticket applies the events its change adds
//! ([`advance`]), and [`replay`] applies all of them from the start, so the stored clocks and
//! the replayed ones are the same value; the tests hold the two together.
//!
//! Time is counted in checkpoints: `used` is the business time spent up to `counted_to` (the
//! clock's last event), and `due_at` and `warn_at` are what is left of the budget, laid on the
//! open hours from there. So a change of hours or of a budget (a new priority, an extension, new
//! configuration) keeps the time already used and moves only what is left, and a due time is
//! never put before the moment it is recomputed: a breach is never back-dated.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::calendar::hours::DeskHours;
use crate::common::player::Author;
use crate::common::settings::SettingsError;
use crate::promises::policy::{ClockKind, Policies};
use crate::tickets::ticket::{priority_for, Channel, Priority, StatusChange, Ticket, TicketStatus};
use crate::tickets::workflow::Message;

vocabulary!(
    /// Where a clock stands: counting, paused on the player, or stopped by what it waited for
    /// (the answer, the resolution).
    ClockState { Running => "running", Paused => "paused", Met => "met" }
);

/// The hours and the policies the clocks run on, read once per container.
#[derive(Debug, Clone)]
pub struct Promises {
    pub hours: DeskHours,
    pub policies: Policies,
    /// A digest of both configurations: a ticket's clocks carry the one they were computed
    /// on, so a new configuration is seen on them and they are recomputed ([`rebase_line`]).
    pub basis: String,
}

impl Promises {
    /// The bundled configuration (`calendar/desk-hours.json`, `promises/policies.json`).
    pub fn bundled() -> Result<Self, SettingsError> {
        Self::parse(
            crate::calendar::hours::BUNDLED,
            crate::promises::policy::BUNDLED,
        )
    }

    /// A configuration of hours and policies, each checked as its own file is.
    pub fn parse(hours: &str, policies: &str) -> Result<Self, SettingsError> {
        let basis = crate::common::digest::json_sha256(&(hours, policies));
        Ok(Self {
            hours: DeskHours::parse(hours)?,
            policies: Policies::parse(policies)?,
            basis: basis.chars().take(16).collect(),
        })
    }
}

/// A pause on the player: from the moment the ticket waited on them to the moment it did not.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pause {
    pub from: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<Timestamp>,
}

/// One clock of a ticket.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Clock {
    pub state: ClockState,
    pub started_at: Timestamp,
    /// The policy's budget for the ticket's channel and priority, in business minutes, with
    /// the extensions granted (`extended_minutes`).
    pub budget_minutes: u32,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub extended_minutes: u32,
    /// Business time used up to `counted_to`, in milliseconds.
    pub used_ms: i64,
    pub counted_to: Timestamp,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pauses: Vec<Pause>,
    /// When the clock warns and when it is due, while it runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warn_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_at: Option<Timestamp>,
    /// When the sweep recorded the warning and the breach: each at most once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warned_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breached_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub met_at: Option<Timestamp>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// A ticket's clocks, and the priority their budgets are taken at.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Clocks {
    pub priority: Priority,
    /// The configuration they were computed on ([`Promises::basis`]).
    #[serde(default)]
    pub basis: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_response: Option<Clock>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_response: Option<Clock>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<Clock>,
    /// A complaint's regulator clock, in calendar days: present on complaints only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regulator: Option<RegulatorClock>,
}

/// The regulator's limit on a complaint, counted in calendar days from its receipt (the
/// regulator counts days, not business hours), and the notice the player gets before it: that
/// they may take the dispute to the regulator, with their reference.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegulatorClock {
    pub opened_at: Timestamp,
    pub limit_at: Timestamp,
    pub notice_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub noticed_at: Option<Timestamp>,
    /// When the complaint was resolved (none while it is open, again after a reopening).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<Timestamp>,
}

impl RegulatorClock {
    fn open(promises: &Promises, at: Timestamp) -> Self {
        let terms = &promises.policies.complaints;
        let zone = promises.hours.zone().clone();
        let opened = at.to_zoned(zone);
        // Calendar days on the desk's calendar: the same local time, so a daylight-saving
        // change in between moves nothing.
        let days = |n: u16| {
            opened
                .checked_add(jiff::Span::new().days(i64::from(n)))
                .map(|z| z.timestamp())
                .unwrap_or(Timestamp::MAX)
        };
        let limit = terms.regulator_limit_calendar_days;
        RegulatorClock {
            opened_at: at,
            limit_at: days(limit),
            notice_at: days(limit.saturating_sub(terms.notice_before_limit_days)),
            noticed_at: None,
            closed_at: None,
        }
    }

    /// When the sweep owes the player the notice: not yet told, and the complaint open.
    pub fn notice_due(&self) -> Option<Timestamp> {
        (self.noticed_at.is_none() && self.closed_at.is_none()).then_some(self.notice_at)
    }
}

/// What moves a ticket's clocks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClockEvent {
    /// Intake: the first response and the resolution start, and a complaint's regulator clock.
    Opened {
        at: Timestamp,
        priority: Priority,
        complaint: bool,
    },
    /// Staff wrote to the player: the first or next response is met.
    DeskAnswered {
        at: Timestamp,
    },
    /// The player wrote: once the desk has answered, a next response is owed.
    PlayerWrote {
        at: Timestamp,
    },
    /// The ticket waits on the player: the next response and the resolution pause.
    Paused {
        at: Timestamp,
    },
    Resumed {
        at: Timestamp,
    },
    /// Resolved: nothing more is owed.
    Resolved {
        at: Timestamp,
    },
    /// Back from resolved: the resolution counts again, from the time it had used.
    Reopened {
        at: Timestamp,
    },
    /// A new priority: the running clocks take its budgets, keeping the time they used.
    Reprioritised {
        at: Timestamp,
        priority: Priority,
    },
    /// Staff told the player of an extra delay: the resolution's budget grows.
    Extended {
        at: Timestamp,
        minutes: u32,
    },
    Warned {
        at: Timestamp,
        clock: ClockKind,
    },
    Breached {
        at: Timestamp,
        clock: ClockKind,
    },
    /// The player was told they may take their complaint to the regulator.
    RegulatorNoticed {
        at: Timestamp,
    },
    /// A new configuration recomputed the clocks: these are they.
    Rebased {
        at: Timestamp,
        clocks: Box<Clocks>,
    },
}

impl ClockEvent {
    pub fn at(&self) -> Timestamp {
        match *self {
            ClockEvent::Opened { at, .. }
            | ClockEvent::DeskAnswered { at }
            | ClockEvent::PlayerWrote { at }
            | ClockEvent::Paused { at }
            | ClockEvent::Resumed { at }
            | ClockEvent::Resolved { at }
            | ClockEvent::Reopened { at }
            | ClockEvent::Reprioritised { at, .. }
            | ClockEvent::Extended { at, .. }
            | ClockEvent::Warned { at, .. }
            | ClockEvent::Breached { at, .. }
            | ClockEvent::RegulatorNoticed { at }
            | ClockEvent::Rebased { at, .. } => at,
        }
    }
}

/// The reasons of the status lines the sweep and extensions write: each names its clock.
pub fn warned_reason(clock: ClockKind) -> &'static str {
    match clock {
        ClockKind::FirstResponse => "first_response_warning",
        ClockKind::NextResponse => "next_response_warning",
        ClockKind::Resolution => "resolution_warning",
    }
}

pub fn breached_reason(clock: ClockKind) -> &'static str {
    match clock {
        ClockKind::FirstResponse => "first_response_breach",
        ClockKind::NextResponse => "next_response_breach",
        ClockKind::Resolution => "resolution_breach",
    }
}

/// The reason of the status line that records the regulator notice.
pub const REGULATOR_NOTICE: &str = "regulator_notice";
/// The reason of the status line that records clocks recomputed on a new configuration.
pub const REBASED: &str = "clocks_rebased";

/// Whether a status line is the desk's own bookkeeping of its clocks: staff read it, the
/// player's view leaves it out.
pub fn is_clock_line(reason: &str) -> bool {
    reason == REBASED
        || ClockKind::ALL
            .iter()
            .any(|k| reason == warned_reason(*k) || reason == breached_reason(*k))
}

/// What the hours and the policies decide for one ticket.
#[derive(Clone, Copy)]
struct Rules<'a> {
    promises: &'a Promises,
    channel: Channel,
    /// A complaint answers on the complaint terms: its resolution within their business
    /// days, and an update (the next response) within their interval.
    complaint: bool,
}

impl Rules<'_> {
    fn budget(&self, priority: Priority, kind: ClockKind) -> u32 {
        let terms = &self.promises.policies.complaints;
        let days = |n: u16| u32::from(n) * self.promises.hours.business_day_minutes(self.channel);
        match kind {
            ClockKind::Resolution if self.complaint => days(terms.answer_within_business_days),
            ClockKind::NextResponse if self.complaint => days(terms.update_every_business_days),
            _ => self.promises.policies.budget(self.channel, priority, kind),
        }
    }

    fn used_between(&self, from: Timestamp, to: Timestamp) -> SignedDuration {
        self.promises
            .hours
            .business_time_between(self.channel, from, to)
    }

    /// The instant `left` of business time after `from`; `from` itself when nothing is
    /// left, so that a due time is never before the moment it is computed.
    fn after(&self, from: Timestamp, left: SignedDuration) -> Option<Timestamp> {
        if left <= SignedDuration::ZERO {
            return Some(from);
        }
        self.promises
            .hours
            .add_business_time(self.channel, from, left)
    }
}

fn minutes(n: u32) -> SignedDuration {
    SignedDuration::from_mins(i64::from(n))
}

impl Clock {
    fn start(rules: Rules<'_>, kind: ClockKind, priority: Priority, at: Timestamp) -> Clock {
        let mut clock = Clock {
            state: ClockState::Running,
            started_at: at,
            budget_minutes: rules.budget(priority, kind),
            extended_minutes: 0,
            used_ms: 0,
            counted_to: at,
            pauses: Vec::new(),
            warn_at: None,
            due_at: None,
            warned_at: None,
            breached_at: None,
            met_at: None,
        };
        clock.plan(rules);
        clock
    }

    pub fn used(&self) -> SignedDuration {
        SignedDuration::from_millis(self.used_ms)
    }

    pub fn is_open(&self) -> bool {
        self.state != ClockState::Met
    }

    /// Counts the time used up to `at` (only a running clock uses time).
    fn count(&mut self, rules: Rules<'_>, at: Timestamp) {
        if at <= self.counted_to {
            return;
        }
        if self.state == ClockState::Running {
            let spent = rules.used_between(self.counted_to, at);
            self.used_ms = self.used_ms.saturating_add(spent.as_millis() as i64);
        }
        self.counted_to = at;
    }

    /// Lays what is left of the budget, and of the warning point, on the hours from
    /// `counted_to`.
    fn plan(&mut self, rules: Rules<'_>) {
        if self.state != ClockState::Running {
            self.warn_at = None;
            self.due_at = None;
            return;
        }
        let budget = minutes(self.budget_minutes);
        let warn_point = minutes(rules.promises.policies.warn_after(self.budget_minutes));
        self.due_at = rules.after(self.counted_to, budget - self.used());
        self.warn_at = rules.after(self.counted_to, warn_point - self.used());
    }

    fn pause(&mut self, rules: Rules<'_>, at: Timestamp) {
        if self.state != ClockState::Running {
            return;
        }
        self.count(rules, at);
        self.state = ClockState::Paused;
        self.pauses.push(Pause {
            from: at,
            until: None,
        });
        self.plan(rules);
    }

    fn resume(&mut self, rules: Rules<'_>, at: Timestamp) {
        if self.state != ClockState::Paused {
            return;
        }
        self.count(rules, at);
        self.state = ClockState::Running;
        if let Some(pause) = self.pauses.last_mut() {
            pause.until = Some(at);
        }
        self.plan(rules);
    }

    fn meet(&mut self, rules: Rules<'_>, at: Timestamp) {
        if self.state == ClockState::Met {
            return;
        }
        self.count(rules, at);
        if let Some(pause) = self.pauses.last_mut().filter(|p| p.until.is_none()) {
            pause.until = Some(at);
        }
        self.state = ClockState::Met;
        self.met_at = Some(at);
        self.plan(rules);
    }

    fn rebudget(&mut self, rules: Rules<'_>, at: Timestamp, budget_minutes: u32) {
        if self.state == ClockState::Met {
            return;
        }
        self.count(rules, at);
        self.budget_minutes = budget_minutes;
        self.plan(rules);
    }

    /// The next moment the sweep must look at this clock: its warning, then its breach.
    pub fn next_check(&self) -> Option<Timestamp> {
        if self.state != ClockState::Running {
            return None;
        }
        match (self.warned_at, self.breached_at) {
            (None, None) => self.warn_at.or(self.due_at),
            (Some(_), None) => self.due_at,
            _ => None,
        }
    }
}

impl Clocks {
    pub fn get(&self, kind: ClockKind) -> Option<&Clock> {
        match kind {
            ClockKind::FirstResponse => self.first_response.as_ref(),
            ClockKind::NextResponse => self.next_response.as_ref(),
            ClockKind::Resolution => self.resolution.as_ref(),
        }
    }

    fn get_mut(&mut self, kind: ClockKind) -> Option<&mut Clock> {
        match kind {
            ClockKind::FirstResponse => self.first_response.as_mut(),
            ClockKind::NextResponse => self.next_response.as_mut(),
            ClockKind::Resolution => self.resolution.as_mut(),
        }
    }

    fn each(&mut self) -> impl Iterator<Item = (ClockKind, &mut Clock)> {
        [
            (ClockKind::FirstResponse, self.first_response.as_mut()),
            (ClockKind::NextResponse, self.next_response.as_mut()),
            (ClockKind::Resolution, self.resolution.as_mut()),
        ]
        .into_iter()
        .filter_map(|(kind, clock)| clock.map(|c| (kind, c)))
    }

    /// The clocks as the first event opens them.
    fn opened(rules: Rules<'_>, at: Timestamp, priority: Priority) -> Clocks {
        Clocks {
            regulator: rules
                .complaint
                .then(|| RegulatorClock::open(rules.promises, at)),
            basis: rules.promises.basis.clone(),
            priority,
            first_response: Some(Clock::start(rules, ClockKind::FirstResponse, priority, at)),
            next_response: None,
            resolution: Some(Clock::start(rules, ClockKind::Resolution, priority, at)),
        }
    }

    /// Applies one event. Clocks that do not exist yet start only with `Opened`.
    pub fn apply(
        clocks: Option<Clocks>,
        promises: &Promises,
        channel: Channel,
        event: ClockEvent,
    ) -> Option<Clocks> {
        if let ClockEvent::Opened {
            at,
            priority,
            complaint,
        } = event
        {
            let rules = Rules {
                promises,
                channel,
                complaint,
            };
            return Some(clocks.unwrap_or_else(|| Clocks::opened(rules, at, priority)));
        }
        if let ClockEvent::Rebased {
            clocks: rebased, ..
        } = event
        {
            return Some(*rebased);
        }
        let mut clocks = clocks?;
        let rules = Rules {
            promises,
            channel,
            complaint: clocks.regulator.is_some(),
        };
        match event {
            ClockEvent::Opened { .. } | ClockEvent::Rebased { .. } => {}
            ClockEvent::DeskAnswered { at } => {
                for kind in [ClockKind::FirstResponse, ClockKind::NextResponse] {
                    if let Some(clock) = clocks.get_mut(kind) {
                        clock.meet(rules, at);
                    }
                }
                // A complaint open with the desk owes its player news at an interval.
                let open = clocks.resolution.as_ref().is_some_and(Clock::is_open);
                if rules.complaint && open {
                    clocks.next_response = Some(Clock::start(
                        rules,
                        ClockKind::NextResponse,
                        clocks.priority,
                        at,
                    ));
                }
            }
            ClockEvent::PlayerWrote { at } => {
                let answered = clocks.first_response.as_ref().is_some_and(|c| !c.is_open());
                let owed = clocks.next_response.as_ref().is_some_and(Clock::is_open);
                if answered && !owed {
                    clocks.next_response = Some(Clock::start(
                        rules,
                        ClockKind::NextResponse,
                        clocks.priority,
                        at,
                    ));
                }
            }
            ClockEvent::Paused { at } => {
                for kind in [ClockKind::NextResponse, ClockKind::Resolution] {
                    if let Some(clock) = clocks.get_mut(kind) {
                        clock.pause(rules, at);
                    }
                }
            }
            ClockEvent::Resumed { at } => {
                for kind in [ClockKind::NextResponse, ClockKind::Resolution] {
                    if let Some(clock) = clocks.get_mut(kind) {
                        clock.resume(rules, at);
                    }
                }
            }
            ClockEvent::Resolved { at } => {
                for (_, clock) in clocks.each() {
                    clock.meet(rules, at);
                }
                if let Some(regulator) = clocks.regulator.as_mut() {
                    regulator.closed_at.get_or_insert(at);
                }
            }
            ClockEvent::Reopened { at } => {
                if let Some(regulator) = clocks.regulator.as_mut() {
                    regulator.closed_at = None;
                }
                if let Some(clock) = clocks.resolution.as_mut() {
                    if clock.state == ClockState::Met {
                        clock.count(rules, at);
                        clock.state = ClockState::Running;
                        clock.met_at = None;
                        clock.plan(rules);
                    }
                }
            }
            ClockEvent::Reprioritised { at, priority } => {
                clocks.priority = priority;
                for (kind, clock) in clocks.each() {
                    let budget = rules.budget(priority, kind) + clock.extended_minutes;
                    clock.rebudget(rules, at, budget);
                }
            }
            ClockEvent::Extended { at, minutes } => {
                if let Some(clock) = clocks.resolution.as_mut() {
                    clock.extended_minutes += minutes;
                    let budget = clock.budget_minutes + minutes;
                    clock.rebudget(rules, at, budget);
                }
            }
            ClockEvent::Warned { at, clock } => {
                if let Some(c) = clocks.get_mut(clock) {
                    c.warned_at.get_or_insert(at);
                }
            }
            ClockEvent::Breached { at, clock } => {
                if let Some(c) = clocks.get_mut(clock) {
                    c.breached_at.get_or_insert(at);
                }
            }
            ClockEvent::RegulatorNoticed { at } => {
                if let Some(regulator) = clocks.regulator.as_mut() {
                    regulator.noticed_at.get_or_insert(at);
                }
            }
        }
        Some(clocks)
    }

    /// The next moment the sweep must look at the ticket, over all its clocks.
    pub fn next_check(&self) -> Option<Timestamp> {
        ClockKind::ALL
            .iter()
            .filter_map(|k| self.get(*k)?.next_check())
            .chain(self.regulator.as_ref().and_then(RegulatorClock::notice_due))
            .min()
    }

    /// What the desk owes next, by when: an answer (the first response's due time, else the
    /// next response's), else the resolution.
    pub fn owed_by(&self) -> Option<Timestamp> {
        ClockKind::ALL
            .iter()
            .filter_map(|k| self.get(*k))
            .filter(|c| c.state == ClockState::Running)
            .find_map(|c| c.due_at)
    }

    /// Whether any clock is past due and still open: the ticket comes first in its queue.
    pub fn breached(&self) -> bool {
        ClockKind::ALL
            .iter()
            .filter_map(|k| self.get(*k))
            .any(|c| c.is_open() && c.breached_at.is_some())
    }
}

/// What staff see of one clock: where it stands now, and why it is due when it is.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClockView {
    pub clock: ClockKind,
    pub state: ClockState,
    pub started_at: Timestamp,
    pub budget_minutes: u32,
    #[serde(skip_serializing_if = "is_zero")]
    pub extended_minutes: u32,
    /// Business minutes used so far (counted to now while it runs).
    pub used_minutes: i64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pauses: Vec<Pause>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warn_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warned_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub breached_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub met_at: Option<Timestamp>,
    /// While it runs: each day from its last count to its due time, with the open minutes it
    /// counts there and why the day has the hours it has (the week, a holiday, a closure).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub counted: Vec<CountedDay>,
}

/// One day a running clock counts on.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CountedDay {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub date: jiff::civil::Date,
    /// The channel's open hours that day, `HH:MM-HH:MM`; none when closed.
    pub hours: Vec<String>,
    /// `weekly`, `holiday:<code>` or `closure:<reason>`.
    pub why: String,
    /// Business minutes of the clock that fall on this day.
    pub minutes: i64,
}

/// How many days a clock's explanation lists at most: past that, the hours speak for
/// themselves.
const MAX_COUNTED_DAYS: usize = 31;

impl Clock {
    /// The clock as staff see it at `now`.
    pub fn view(
        &self,
        kind: ClockKind,
        promises: &Promises,
        channel: Channel,
        now: Timestamp,
    ) -> ClockView {
        let hours = &promises.hours;
        let mut used = self.used();
        if self.state == ClockState::Running && now > self.counted_to {
            used += hours.business_time_between(channel, self.counted_to, now);
        }
        let counted = match (self.state, self.due_at) {
            (ClockState::Running, Some(due)) => {
                counted_days(promises, channel, self.counted_to, due)
            }
            _ => Vec::new(),
        };
        ClockView {
            clock: kind,
            state: self.state,
            started_at: self.started_at,
            budget_minutes: self.budget_minutes,
            extended_minutes: self.extended_minutes,
            used_minutes: used.as_mins(),
            pauses: self.pauses.clone(),
            warn_at: self.warn_at,
            due_at: self.due_at,
            warned_at: self.warned_at,
            breached_at: self.breached_at,
            met_at: self.met_at,
            counted,
        }
    }
}

fn counted_days(
    promises: &Promises,
    channel: Channel,
    from: Timestamp,
    to: Timestamp,
) -> Vec<CountedDay> {
    use crate::calendar::hours::Why;
    let hours = &promises.hours;
    let zone = hours.zone().clone();
    let first = from.to_zoned(zone.clone()).date();
    let last = to.to_zoned(zone.clone()).date();
    let mut days = Vec::new();
    let mut date = first;
    while date <= last && days.len() < MAX_COUNTED_DAYS {
        let (day, why) = hours.hours_on(channel, date);
        let start = date
            .to_zoned(zone.clone())
            .map(|z| z.timestamp())
            .unwrap_or(from)
            .max(from);
        let end = date
            .tomorrow()
            .ok()
            .and_then(|d| d.to_zoned(zone.clone()).ok())
            .map(|z| z.timestamp())
            .unwrap_or(to)
            .min(to);
        days.push(CountedDay {
            date,
            hours: day
                .spans()
                .iter()
                .map(|s| {
                    format!(
                        "{:02}:{:02}-{:02}:{:02}",
                        s.open / 60,
                        s.open % 60,
                        s.close / 60,
                        s.close % 60
                    )
                })
                .collect(),
            why: match why {
                Why::Weekly => "weekly".to_owned(),
                Why::Holiday(code) => format!("holiday:{}", code.as_str()),
                Why::Closure(reason) => format!("closure:{reason}"),
            },
            minutes: hours.business_time_between(channel, start, end).as_mins(),
        });
        match date.tomorrow() {
            Ok(next) => date = next,
            Err(_) => break,
        }
    }
    days
}

impl Clocks {
    /// Every clock as staff see it at `now`, in the order they run.
    pub fn views(&self, promises: &Promises, channel: Channel, now: Timestamp) -> Vec<ClockView> {
        ClockKind::ALL
            .iter()
            .filter_map(|k| Some(self.get(*k)?.view(*k, promises, channel, now)))
            .collect()
    }

    /// When the player may expect the desk's next answer, or the resolution: what the desk
    /// owes while the ticket is in its hands.
    pub fn expected_at(&self) -> Option<Timestamp> {
        self.owed_by()
    }
}

impl Clocks {
    /// The clocks recomputed at `at` on a new configuration: each open clock keeps the time it
    /// used (counted to `at`), takes its new budget (and keeps its extensions), and is due no
    /// earlier than `at`, so a breach is never back-dated; warnings and breaches recorded stay.
    /// A complaint's regulator limit is counted again from its receipt.
    pub fn rebased(&self, promises: &Promises, channel: Channel, at: Timestamp) -> Clocks {
        let rules = Rules {
            promises,
            channel,
            complaint: self.regulator.is_some(),
        };
        let mut next = self.clone();
        let priority = next.priority;
        for (kind, clock) in next.each() {
            if clock.is_open() {
                clock.count(rules, at);
                clock.budget_minutes = rules.budget(priority, kind) + clock.extended_minutes;
                clock.plan(rules);
            }
        }
        if let Some(regulator) = next.regulator.as_mut() {
            let fresh = RegulatorClock::open(promises, regulator.opened_at);
            regulator.limit_at = fresh.limit_at;
            regulator.notice_at = fresh.notice_at;
        }
        next.basis = promises.basis.clone();
        next
    }
}

/// The status line that recomputes `ticket`'s clocks at `at`, when they were computed on
/// another configuration than `promises`: every write of a ticket puts it before its own
/// lines, and the sweep writes it when it finds the ticket.
pub fn rebase_line(promises: &Promises, ticket: &Ticket, at: Timestamp) -> Option<StatusChange> {
    let clocks = ticket.clocks.as_ref()?;
    (clocks.basis != promises.basis).then(|| StatusChange {
        at,
        status: ticket.status,
        actor: Author::System,
        reason: REBASED.to_owned(),
        extended_minutes: None,
        rebased: Some(Box::new(clocks.rebased(promises, ticket.channel, at))),
    })
}

/// The clock events of a ticket's status lines and messages, in the order they happened: a
/// line before a message of the same instant (a player's answer first puts the ticket back
/// in work, then owes a reply). `from` is the status before the first line.
pub fn events_of(
    ticket: &Ticket,
    from: Option<TicketStatus>,
    history: &[StatusChange],
    messages: &[&Message],
) -> Vec<ClockEvent> {
    let mut timed: Vec<(Timestamp, u8, ClockEvent)> = Vec::new();
    let mut status = from;
    for line in history {
        let at = line.at;
        let mut push = |event| timed.push((at, 0, event));
        if let Some(clocks) = &line.rebased {
            push(ClockEvent::Rebased {
                at,
                clocks: clocks.clone(),
            });
        }
        if let Some(minutes) = line.extended_minutes {
            push(ClockEvent::Extended { at, minutes });
        }
        match line.reason.as_str() {
            "received" => push(ClockEvent::Opened {
                at,
                priority: priority_for(ticket.category, ticket.incident.as_ref()),
                complaint: ticket.category == crate::tickets::ticket::Category::Complaint,
            }),
            REGULATOR_NOTICE => push(ClockEvent::RegulatorNoticed { at }),
            "incident_linked" => push(ClockEvent::Reprioritised {
                at,
                priority: Priority::Urgent,
            }),
            "incident_unlinked" => push(ClockEvent::Reprioritised {
                at,
                priority: priority_for(ticket.category, ticket.incident.as_ref()),
            }),
            reason => {
                for kind in ClockKind::ALL {
                    if reason == warned_reason(*kind) {
                        push(ClockEvent::Warned { at, clock: *kind });
                    } else if reason == breached_reason(*kind) {
                        push(ClockEvent::Breached { at, clock: *kind });
                    }
                }
            }
        }
        let before = status.replace(line.status);
        if before.is_some_and(|b| b != line.status) {
            let event = match (before, line.status) {
                (_, TicketStatus::WaitingOnPlayer) => Some(ClockEvent::Paused { at }),
                // Closed without being resolved first (a duplicate merged into another
                // ticket): nothing more is owed on it, as on a resolution. Closing a resolved
                // ticket has nothing left to stop.
                (Some(from), TicketStatus::Closed) if from != TicketStatus::Resolved => {
                    Some(ClockEvent::Resolved { at })
                }
                (Some(TicketStatus::WaitingOnPlayer), _) => {
                    if line.status == TicketStatus::Resolved {
                        Some(ClockEvent::Resolved { at })
                    } else {
                        Some(ClockEvent::Resumed { at })
                    }
                }
                (_, TicketStatus::Resolved) => Some(ClockEvent::Resolved { at }),
                (Some(TicketStatus::Resolved), TicketStatus::Open) => {
                    Some(ClockEvent::Reopened { at })
                }
                _ => None,
            };
            if let Some(event) = event {
                timed.push((at, 0, event));
            }
        }
    }
    // A staff member's internal note answers nobody: it neither meets nor pauses a promise.
    for message in messages.iter().filter(|m| !m.internal) {
        let event = match message.author {
            Author::Player => ClockEvent::PlayerWrote { at: message.at },
            Author::Staff { .. } | Author::System => ClockEvent::DeskAnswered { at: message.at },
        };
        timed.push((message.at, 1, event));
    }
    // Stable: lines keep their order among themselves.
    timed.sort_by_key(|(at, rank, _)| (*at, *rank));
    timed.into_iter().map(|(_, _, e)| e).collect()
}

/// The clocks a ticket's whole history gives.
pub fn replay(
    promises: &Promises,
    ticket: &Ticket,
    history: &[StatusChange],
    messages: &[Message],
) -> Option<Clocks> {
    let messages: Vec<&Message> = messages.iter().collect();
    events_of(ticket, None, history, &messages)
        .into_iter()
        .fold(None, |clocks, event| {
            Clocks::apply(clocks, promises, ticket.channel, event)
        })
}

/// Moves `next`'s clocks by what a change adds to `before` (its status lines and message),
/// and keeps the ticket's `response_due_at` on what the desk owes next (unchanged while it
/// owes nothing: waiting on the player, resolved).
pub fn advance(
    promises: &Promises,
    before: Option<&Ticket>,
    next: &mut Ticket,
    history: &[StatusChange],
    message: Option<&Message>,
) {
    let messages: Vec<&Message> = message.into_iter().collect();
    let events = events_of(next, before.map(|t| t.status), history, &messages);
    let mut clocks = before.and_then(|t| t.clocks.clone());
    for event in events {
        clocks = Clocks::apply(clocks, promises, next.channel, event);
    }
    if let Some(due) = clocks.as_ref().and_then(Clocks::owed_by) {
        next.response_due_at = due;
    }
    next.clocks = clocks;
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::common::player::Author;
    use crate::tickets::ticket::{sample, Category};
    use crate::tickets::workflow::{self, MessageBody, ReasonCode};
    use proptest::prelude::*;

    fn promises() -> Promises {
        Promises::bundled().expect("bundled")
    }

    fn at(text: &str) -> Timestamp {
        text.parse().expect("valid")
    }

    /// A form ticket about a transaction (high priority) received at `now`, its clocks
    /// started as intake starts them.
    fn opened(p: &Promises, category: Category, now: Timestamp) -> (Ticket, Vec<StatusChange>) {
        let mut ticket = Ticket {
            category,
            status: TicketStatus::Open,
            created_at: now,
            updated_at: now,
            version: 1,
            ..sample(TicketStatus::Open)
        };
        ticket.priority = priority_for(category, None);
        let received = StatusChange {
            at: now,
            status: TicketStatus::Open,
            actor: Author::Player,
            reason: "received".into(),
            extended_minutes: None,
            rebased: None,
        };
        advance(p, None, &mut ticket, std::slice::from_ref(&received), None);
        (ticket, vec![received])
    }

    fn clock(ticket: &Ticket, kind: ClockKind) -> Clock {
        ticket
            .clocks
            .as_ref()
            .and_then(|c| c.get(kind))
            .cloned()
            .unwrap_or_else(|| panic!("{kind:?} clock"))
    }

    #[test]
    fn intake_starts_the_first_response_and_the_resolution_on_business_time() {
        let p = promises();
        // Thursday 2026-11-26 10:00 EST; technical (normal): 960 business minutes. Thursday
        // 10:00–17:00 is 420, Friday 480, and 60 more on Monday: due Monday 10:00 EST.
        let (ticket, _) = opened(&p, Category::Technical, at("2026-11-26T15:00:00Z"));
        let first = clock(&ticket, ClockKind::FirstResponse);
        assert_eq!(first.state, ClockState::Running);
        assert_eq!(first.budget_minutes, 960);
        assert_eq!(first.due_at, Some(at("2026-11-30T15:00:00Z")));
        // Warns at 80 %: 768 minutes, Friday 14:48 EST.
        assert_eq!(first.warn_at, Some(at("2026-11-27T19:48:00Z")));
        assert_eq!(ticket.response_due_at, at("2026-11-30T15:00:00Z"));
        assert!(clock(&ticket, ClockKind::Resolution).due_at > first.due_at);
        assert!(ticket
            .clocks
            .as_ref()
            .is_some_and(|c| c.next_response.is_none()));
    }

    #[test]
    fn waiting_on_the_player_pauses_the_resolution_but_never_the_first_response() {
        let p = promises();
        let start = at("2026-11-26T15:00:00Z");
        let (ticket, _) = opened(&p, Category::Technical, start);
        let paused_at = at("2026-11-26T16:00:00Z");
        let mut change = workflow::change_status(
            &ticket,
            1,
            TicketStatus::WaitingOnPlayer,
            "a",
            None,
            paused_at,
        )
        .expect("allowed");
        advance(&p, Some(&ticket), &mut change.ticket, &change.history, None);
        let waiting = change.ticket;
        let resolution = clock(&waiting, ClockKind::Resolution);
        assert_eq!(resolution.state, ClockState::Paused);
        assert_eq!(resolution.due_at, None);
        assert_eq!(resolution.used(), SignedDuration::from_hours(1));
        assert_eq!(
            clock(&waiting, ClockKind::FirstResponse),
            clock(&ticket, ClockKind::FirstResponse),
            "the first response runs on"
        );
        // A day later the player answers: the resolution resumes with an hour used, so it is
        // due a business day later than it was.
        let answered_at = at("2026-11-27T16:00:00Z");
        let body = MessageBody::parse("body", "Voici.").expect("valid");
        let mut change =
            workflow::player_reply(&waiting, body, answered_at, answered_at).expect("answered");
        advance(
            &p,
            Some(&waiting),
            &mut change.ticket,
            &change.history,
            change.message.as_ref(),
        );
        let resumed = clock(&change.ticket, ClockKind::Resolution);
        assert_eq!(resumed.state, ClockState::Running);
        assert_eq!(resumed.pauses.len(), 1);
        assert_eq!(resumed.pauses[0].until, Some(answered_at));
        let before = clock(&ticket, ClockKind::Resolution).due_at.expect("due");
        let after = resumed.due_at.expect("due");
        assert_eq!(
            p.hours.business_time_between(Channel::Form, before, after),
            SignedDuration::from_hours(8),
            "a whole business day paused"
        );
    }

    #[test]
    fn an_answer_meets_the_first_response_and_a_player_message_then_owes_the_next() {
        let p = promises();
        let (ticket, _) = opened(&p, Category::Technical, at("2026-11-26T15:00:00Z"));
        let reply_at = at("2026-11-26T17:00:00Z");
        let body = MessageBody::parse("body", "Bonjour.").expect("valid");
        let mut change = workflow::reply(&ticket, 1, "a", body, reply_at, reply_at).expect("ok");
        advance(
            &p,
            Some(&ticket),
            &mut change.ticket,
            &change.history,
            change.message.as_ref(),
        );
        let answered = change.ticket;
        let first = clock(&answered, ClockKind::FirstResponse);
        assert_eq!(first.state, ClockState::Met);
        assert_eq!(first.met_at, Some(reply_at));
        assert_eq!(first.used(), SignedDuration::from_hours(2));
        assert!(answered
            .clocks
            .as_ref()
            .is_some_and(|c| c.next_response.is_none()));
        assert_eq!(
            answered.response_due_at,
            clock(&answered, ClockKind::Resolution).due_at.expect("due"),
            "what is owed now is the resolution"
        );
        let wrote_at = at("2026-11-26T18:00:00Z");
        let body = MessageBody::parse("body", "Merci, mais…").expect("valid");
        let mut change = workflow::player_reply(&answered, body, wrote_at, wrote_at).expect("ok");
        advance(
            &p,
            Some(&answered),
            &mut change.ticket,
            &change.history,
            change.message.as_ref(),
        );
        let next = clock(&change.ticket, ClockKind::NextResponse);
        assert_eq!(next.state, ClockState::Running);
        assert_eq!(next.started_at, wrote_at);
        assert_eq!(change.ticket.response_due_at, next.due_at.expect("due"));
    }

    #[test]
    fn a_new_priority_keeps_the_time_used_and_never_back_dates_a_due_time() {
        let p = promises();
        let start = at("2026-11-26T15:00:00Z");
        let (ticket, _) = opened(&p, Category::Technical, start);
        // Six business hours later (Thursday 10:00 → Friday 09:00 is 7 h): priority becomes
        // urgent, whose first response is one business day (480 min): 60 minutes are left.
        let later = at("2026-11-27T14:00:00Z");
        let clocks = Clocks::apply(
            ticket.clocks.clone(),
            &p,
            Channel::Form,
            ClockEvent::Reprioritised {
                at: later,
                priority: Priority::Urgent,
            },
        )
        .expect("clocks");
        let first = clocks.first_response.expect("first");
        assert_eq!(first.budget_minutes, 480);
        assert_eq!(first.used(), SignedDuration::from_hours(7));
        assert_eq!(first.due_at, Some(at("2026-11-27T15:00:00Z")));
        // Eight hours used: urgent's budget is spent; due now, not in the past.
        let much_later = at("2026-11-27T16:00:00Z");
        let clocks = Clocks::apply(
            ticket.clocks.clone(),
            &p,
            Channel::Form,
            ClockEvent::Reprioritised {
                at: much_later,
                priority: Priority::Urgent,
            },
        )
        .expect("clocks");
        let first = clocks.first_response.expect("first");
        assert!(first.used() > SignedDuration::from_hours(8));
        assert_eq!(first.due_at, Some(much_later));
        assert_eq!(first.warn_at, Some(much_later));
    }

    #[test]
    fn a_warning_and_a_breach_are_recorded_once_and_move_the_sweeps_next_look() {
        let p = promises();
        let (ticket, _) = opened(&p, Category::Technical, at("2026-11-26T15:00:00Z"));
        let clocks = ticket.clocks.clone().expect("clocks");
        let first = clocks.first_response.clone().expect("first");
        assert_eq!(clocks.next_check(), first.warn_at);
        let warn = |clocks, when| {
            Clocks::apply(
                clocks,
                &p,
                Channel::Form,
                ClockEvent::Warned {
                    at: when,
                    clock: ClockKind::FirstResponse,
                },
            )
        };
        let warned = warn(Some(clocks), at("2026-11-27T20:00:00Z"));
        let again = warn(warned.clone(), at("2026-11-27T21:00:00Z"));
        assert_eq!(warned, again, "once");
        let warned = warned.expect("clocks");
        assert_eq!(warned.next_check(), first.due_at);
        let breached = Clocks::apply(
            Some(warned),
            &p,
            Channel::Form,
            ClockEvent::Breached {
                at: at("2026-11-30T15:01:00Z"),
                clock: ClockKind::FirstResponse,
            },
        )
        .expect("clocks");
        assert!(breached.breached());
        // Next is the resolution's warning.
        assert_eq!(
            breached.next_check(),
            breached.resolution.as_ref().and_then(|c| c.warn_at)
        );
    }

    /// The bundled configuration with the form's normal first response cut to four hours.
    pub(crate) fn tighter() -> Promises {
        let policies = crate::promises::policy::BUNDLED.replacen(
            "\"normal\": {\"first_response\": 960, \"next_response\": 960, \"resolution\": 4800}",
            "\"normal\": {\"first_response\": 240, \"next_response\": 960, \"resolution\": 4800}",
            2,
        );
        let p = Promises::parse(crate::calendar::hours::BUNDLED, &policies).expect("valid");
        assert_ne!(p.basis, promises().basis, "a new configuration");
        p
    }

    #[test]
    fn a_new_configuration_keeps_the_time_used_and_never_back_dates_a_breach() {
        let old = promises();
        let (ticket, history) = opened(&old, Category::Technical, at("2026-11-26T15:00:00Z"));
        // Six business hours later the first response's budget becomes four hours: it is due
        // now, not two hours ago.
        let now = at("2026-11-26T21:00:00Z");
        let new = tighter();
        let line = rebase_line(&new, &ticket, now).expect("another configuration");
        assert!(
            rebase_line(&old, &ticket, now).is_none(),
            "same configuration: nothing"
        );
        let rebased = line.rebased.as_deref().expect("the clocks");
        let first = rebased.first_response.as_ref().expect("first");
        assert_eq!(
            first.used(),
            SignedDuration::from_hours(6),
            "time used kept"
        );
        assert_eq!(first.budget_minutes, 240);
        assert_eq!(first.due_at, Some(now));
        assert_eq!(rebased.basis, new.basis);
        // Written as a change is, and replayed on the new configuration: the same clocks.
        let mut next = ticket.clone();
        next.version += 1;
        next.updated_at = now;
        let lines = vec![line];
        advance(&new, Some(&ticket), &mut next, &lines, None);
        let all: Vec<StatusChange> = history.into_iter().chain(lines).collect();
        assert_eq!(replay(&new, &next, &all, &[]), next.clocks);
        assert!(is_clock_line(REBASED));
    }

    #[test]
    fn daylight_saving_moves_no_due_time_by_an_hour() {
        let p = promises();
        // Friday 2027-03-12 10:00 EST; the clocks go forward on Sunday the 14th. 960 minutes:
        // Friday 420, Monday 480, Tuesday 60: Tuesday 10:00 EDT, 14:00 UTC.
        let (ticket, _) = opened(&p, Category::Technical, at("2027-03-12T15:00:00Z"));
        assert_eq!(
            clock(&ticket, ClockKind::FirstResponse).due_at,
            Some(at("2027-03-16T14:00:00Z"))
        );
    }

    /// One step of an agent's or a player's day on a ticket.
    #[derive(Debug, Clone)]
    enum Step {
        Reply,
        PlayerWrites,
        Status(TicketStatus),
        Take,
        Link,
        Unlink,
        Warn(usize),
        Breach(usize),
        /// The hours or the promises change (once: the tighter configuration).
        Reconfigure,
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            Just(Step::Reply),
            Just(Step::PlayerWrites),
            proptest::sample::select(TicketStatus::ALL.to_vec()).prop_map(Step::Status),
            Just(Step::Take),
            Just(Step::Link),
            Just(Step::Unlink),
            (0..3usize).prop_map(Step::Warn),
            (0..3usize).prop_map(Step::Breach),
            Just(Step::Reconfigure),
        ]
    }

    /// The status line the sweep writes.
    fn mark(ticket: &Ticket, reason: &'static str, now: Timestamp) -> workflow::Change {
        let mut next = ticket.clone();
        next.version += 1;
        next.updated_at = now;
        workflow::Change {
            history: vec![StatusChange {
                at: now,
                status: ticket.status,
                actor: Author::System,
                reason: reason.into(),
                extended_minutes: None,
                rebased: None,
            }],
            ticket: next,
            expected_version: ticket.version,
            message: None,
        }
    }

    fn relabel(
        ticket: &Ticket,
        reason: &'static str,
        priority: Priority,
        now: Timestamp,
    ) -> workflow::Change {
        let mut change = mark(ticket, reason, now);
        change.ticket.priority = priority;
        change
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(96))]

        /// Whatever happens to a ticket, in whatever order and at whatever times, the clocks
        /// its writes kept are the clocks its history replays to.
        #[test]
        fn replaying_the_history_gives_the_stored_clocks(
            start_minute in 0i64..(60 * 24 * 365 * 3),
            category in proptest::sample::select(Category::ALL.to_vec()),
            channel in proptest::sample::select(Channel::ALL.to_vec()),
            steps in proptest::collection::vec((step(), 1i64..(60 * 24 * 3)), 0..24),
        ) {
            let mut p = promises();
            let start = at("2026-01-01T00:00:00Z") + SignedDuration::from_mins(start_minute);
            let start = Timestamp::from_millisecond(start.as_millisecond()).expect("ms");
            let (mut ticket, mut history) = opened(&p, category, start);
            ticket.channel = channel;
            ticket.clocks = None;
            advance(&p, None, &mut ticket, &history, None);
            let mut messages: Vec<Message> = Vec::new();
            let mut now = start;
            for (step, gap) in steps {
                now += SignedDuration::from_mins(gap);
                let v = ticket.version;
                let body = || MessageBody::parse("body", "Bonjour.").expect("valid");
                let change = match step {
                    Step::Reply => workflow::reply(&ticket, v, "a", body(), now, now).ok(),
                    Step::PlayerWrites => workflow::player_reply(&ticket, body(), now, now).ok(),
                    Step::Status(to) => {
                        let reason = ReasonCode::parse("reason", "checked").expect("valid");
                        workflow::change_status(&ticket, v, to, "a", Some(&reason), now).ok()
                    }
                    Step::Take => workflow::take(&ticket, v, "a", now).ok(),
                    Step::Link => Some(relabel(&ticket, "incident_linked", Priority::Urgent, now)),
                    Step::Unlink => Some(relabel(
                        &ticket,
                        "incident_unlinked",
                        priority_for(ticket.category, ticket.incident.as_ref()),
                        now,
                    )),
                    Step::Warn(k) => Some(mark(&ticket, warned_reason(ClockKind::ALL[k]), now)),
                    Step::Breach(k) => Some(mark(&ticket, breached_reason(ClockKind::ALL[k]), now)),
                    Step::Reconfigure => {
                        p = tighter();
                        Some(mark(&ticket, "checked", now))
                    }
                };
                let Some(mut change) = change else { continue };
                // As `Desk::keep_promises` does.
                if let Some(line) = rebase_line(&p, &ticket, now) {
                    change.history.insert(0, line);
                }
                advance(&p, Some(&ticket), &mut change.ticket, &change.history, change.message.as_ref());
                history.extend(change.history.iter().cloned());
                messages.extend(change.message.iter().cloned());
                ticket = change.ticket;
            }
            let replayed = replay(&p, &ticket, &history, &messages);
            prop_assert_eq!(replayed, ticket.clocks.clone());
            // And a running clock's due time is inside its channel's open hours (or at the
            // close of a span), never before the clock's last count.
            for kind in ClockKind::ALL {
                if let Some(c) = ticket.clocks.as_ref().and_then(|c| c.get(*kind)) {
                    if let Some(due) = c.due_at {
                        prop_assert!(due >= c.counted_to);
                        let just_before = due - SignedDuration::from_millis(1);
                        prop_assert!(due == c.counted_to || p.hours.is_open(channel, just_before));
                    }
                }
            }
        }
    }
}

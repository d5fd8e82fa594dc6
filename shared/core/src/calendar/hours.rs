//! The desk's opening hours per channel, from configuration, and business time counted on them.
//!
//! The hours are data, not code: a bundled file (`desk-hours.json`, beside this module) read and
//! validated once, whose every error names its place in the file and the rule it breaks. Each
//! channel (live chat, e-mail, the form) has its weekly hours, its hours on a holiday (the
//! holidays are the statutory ones of [`crate::calendar::holidays`], as the file selects them),
//! per-holiday exceptions, and one-off closures by date.
//!
//! Business time is counted in real minutes inside the open spans of a channel, each span laid
//! out on the civil calendar of the desk's time zone: a span from 09:00 to 17:00 is that, on
//! every day, daylight saving or not, and a target counted on it never moves by an hour. A
//! 24-hour span on the night the clocks change holds the 23 or 25 hours that night really has.

use std::collections::BTreeMap;

use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use serde::Deserialize;

use crate::calendar::holidays::{
    holidays_kept, Holiday, HolidayCode, Jurisdiction, Observance, LAST_YEAR,
};
use crate::common::settings::{invalid, SettingsError};
use crate::tickets::ticket::Channel;

/// The bundled configuration: the published hours of the support page.
pub const BUNDLED: &str = include_str!("desk-hours.json");

/// How far ahead business time is looked for: past a year without an open minute a channel
/// is closed for good, and a target on it has no date.
const HORIZON_DAYS: i32 = 400;

const MINUTES_PER_DAY: u16 = 24 * 60;

/// An open span of one day, `[open, close)` in minutes after midnight; `close` may be 24:00.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Span {
    pub open: u16,
    pub close: u16,
}

impl Span {
    /// `HH:MM-HH:MM`, the close after the open, `24:00` allowed as a close only.
    fn parse(path: &str, raw: &str) -> Result<Self, SettingsError> {
        let rule = "a span HH:MM-HH:MM, the close after the open (24:00 as a close only)";
        let (open, close) = raw.split_once('-').ok_or_else(|| invalid(path, rule))?;
        let open = minutes(open).filter(|m| *m < MINUTES_PER_DAY);
        let close = minutes(close);
        match (open, close) {
            (Some(open), Some(close)) if close > open => Ok(Span { open, close }),
            _ => Err(invalid(path, rule)),
        }
    }
}

/// `HH:MM`, 00:00 to 24:00.
fn minutes(raw: &str) -> Option<u16> {
    let (h, m) = raw.split_once(':')?;
    let digits = |s: &str| s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(h) || !digits(m) {
        return None;
    }
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    (m < 60 && (h < 24 || (h == 24 && m == 0))).then_some(h * 60 + m)
}

/// One day's open spans, in order and not overlapping; none means closed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DayHours(Vec<Span>);

impl DayHours {
    fn parse(path: &str, raw: &[String]) -> Result<Self, SettingsError> {
        let mut spans = raw
            .iter()
            .enumerate()
            .map(|(i, s)| Span::parse(&format!("{path}[{i}]"), s))
            .collect::<Result<Vec<_>, _>>()?;
        spans.sort();
        if spans.windows(2).any(|w| w[1].open < w[0].close) {
            return Err(invalid(path, "spans that do not overlap"));
        }
        Ok(DayHours(spans))
    }

    pub fn spans(&self) -> &[Span] {
        &self.0
    }

    pub fn is_closed(&self) -> bool {
        self.0.is_empty()
    }
}

/// A day a channel keeps other hours than its weekly ones, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Why {
    Weekly,
    Holiday(HolidayCode),
    /// A one-off closure of the configuration, with its reason code.
    Closure(String),
}

/// One channel's hours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelHours {
    /// Monday first.
    weekly: [DayHours; 7],
    holidays: DayHours,
    holiday_overrides: Vec<(HolidayCode, DayHours)>,
}

/// A one-off closure: `hours` instead of the usual ones on `date`, for `channels`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closure {
    pub date: Date,
    pub channels: Vec<Channel>,
    pub hours: DayHours,
    pub reason: String,
}

/// The desk's hours: its time zone, its holidays, each channel's hours and the closures.
#[derive(Debug, Clone)]
pub struct DeskHours {
    zone: TimeZone,
    jurisdictions: Vec<Jurisdiction>,
    observance: Observance,
    open_on: Vec<HolidayCode>,
    channels: Vec<(Channel, ChannelHours)>,
    closures: Vec<Closure>,
}

// ---- The file's shape, before it is checked -------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDesk {
    time_zone: String,
    holidays: RawHolidays,
    channels: BTreeMap<String, RawChannel>,
    #[serde(default)]
    closures: Vec<RawClosure>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHolidays {
    jurisdictions: Vec<String>,
    /// Keep holidays as an employer of this jurisdiction does; absent, each jurisdiction's own
    /// rule.
    #[serde(default)]
    employer: Option<String>,
    #[serde(default)]
    open_on: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChannel {
    weekly: BTreeMap<String, Vec<String>>,
    holidays: Vec<String>,
    #[serde(default)]
    holiday_overrides: BTreeMap<String, Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClosure {
    date: String,
    channels: Vec<String>,
    hours: Vec<String>,
    reason: String,
}

const WEEKDAYS: [(&str, Weekday); 7] = [
    ("monday", Weekday::Monday),
    ("tuesday", Weekday::Tuesday),
    ("wednesday", Weekday::Wednesday),
    ("thursday", Weekday::Thursday),
    ("friday", Weekday::Friday),
    ("saturday", Weekday::Saturday),
    ("sunday", Weekday::Sunday),
];

fn jurisdiction(path: &str, raw: &str) -> Result<Jurisdiction, SettingsError> {
    Jurisdiction::parse(raw).ok_or_else(|| invalid(path, "one of federal, quebec, ontario"))
}

fn holiday_code(path: &str, raw: &str) -> Result<HolidayCode, SettingsError> {
    HolidayCode::parse(raw).ok_or_else(|| invalid(path, "a holiday code of the calendar"))
}

fn channel(path: &str, raw: &str) -> Result<Channel, SettingsError> {
    Channel::parse(raw).ok_or_else(|| invalid(path, "one of form, email, chat"))
}

impl ChannelHours {
    fn check(path: &str, raw: &RawChannel) -> Result<Self, SettingsError> {
        if let Some(day) = raw
            .weekly
            .keys()
            .find(|d| !WEEKDAYS.iter().any(|(n, _)| n == d))
        {
            return Err(invalid(format!("{path}.weekly.{day}"), "a day of the week"));
        }
        let mut weekly: [DayHours; 7] = Default::default();
        for (i, (name, _)) in WEEKDAYS.iter().enumerate() {
            let day_path = format!("{path}.weekly.{name}");
            let spans = raw
                .weekly
                .get(*name)
                .ok_or_else(|| invalid(&day_path, "every day of the week, [] when closed"))?;
            weekly[i] = DayHours::parse(&day_path, spans)?;
        }
        let mut holiday_overrides = Vec::new();
        for (code, spans) in &raw.holiday_overrides {
            let code_path = format!("{path}.holiday_overrides.{code}");
            holiday_overrides.push((
                holiday_code(&code_path, code)?,
                DayHours::parse(&code_path, spans)?,
            ));
        }
        Ok(ChannelHours {
            weekly,
            holidays: DayHours::parse(&format!("{path}.holidays"), &raw.holidays)?,
            holiday_overrides,
        })
    }
}

impl DeskHours {
    /// The bundled hours (`desk-hours.json`). Its unit test parses it, so a bad edit of the
    /// file fails the tests, not a Lambda's init.
    pub fn bundled() -> Result<Self, SettingsError> {
        Self::parse(BUNDLED)
    }

    /// Reads and checks a configuration.
    pub fn parse(json: &str) -> Result<Self, SettingsError> {
        let raw: RawDesk = serde_json::from_str(json)
            .map_err(|_| invalid("$", "the desk's hours as documented in calendar/hours.rs"))?;
        let zone = TimeZone::get(&raw.time_zone)
            .map_err(|_| invalid("time_zone", "an IANA time zone, e.g. America/Toronto"))?;
        let jurisdictions = raw
            .holidays
            .jurisdictions
            .iter()
            .enumerate()
            .map(|(i, j)| jurisdiction(&format!("holidays.jurisdictions[{i}]"), j))
            .collect::<Result<Vec<_>, _>>()?;
        let observance = match &raw.holidays.employer {
            None => Observance::PerJurisdiction,
            Some(j) => Observance::Employer(jurisdiction("holidays.employer", j)?),
        };
        let open_on = raw
            .holidays
            .open_on
            .iter()
            .enumerate()
            .map(|(i, c)| holiday_code(&format!("holidays.open_on[{i}]"), c))
            .collect::<Result<Vec<_>, _>>()?;
        let mut channels = Vec::new();
        for (name, hours) in &raw.channels {
            let path = format!("channels.{name}");
            channels.push((channel(&path, name)?, ChannelHours::check(&path, hours)?));
        }
        if let Some(missing) = Channel::ALL
            .iter()
            .find(|c| !channels.iter().any(|(k, _)| k == *c))
        {
            return Err(invalid(
                format!("channels.{}", missing.as_str()),
                "the hours of every channel: form, email and chat",
            ));
        }
        let mut closures = Vec::new();
        for (i, c) in raw.closures.iter().enumerate() {
            let path = format!("closures[{i}]");
            let date: Date = c
                .date
                .parse()
                .map_err(|_| invalid(format!("{path}.date"), "a date YYYY-MM-DD"))?;
            let reason_ok = (1..=40).contains(&c.reason.len())
                && c.reason
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            if !reason_ok {
                return Err(invalid(
                    format!("{path}.reason"),
                    "a reason code: 1 to 40 of a-z, 0-9 and _",
                ));
            }
            closures.push(Closure {
                date,
                channels: c
                    .channels
                    .iter()
                    .enumerate()
                    .map(|(j, ch)| channel(&format!("{path}.channels[{j}]"), ch))
                    .collect::<Result<Vec<_>, _>>()?,
                hours: DayHours::parse(&format!("{path}.hours"), &c.hours)?,
                reason: c.reason.clone(),
            });
        }
        Ok(DeskHours {
            zone,
            jurisdictions,
            observance,
            open_on,
            channels,
            closures,
        })
    }

    pub fn zone(&self) -> &TimeZone {
        &self.zone
    }

    /// The holidays the desk keeps in `year` (those it stays open on left out), by the day
    /// it keeps them; none for a year the rules do not compute.
    pub fn holidays_in(&self, year: i16) -> Vec<Holiday> {
        holidays_kept(year, &self.jurisdictions, self.observance)
            .map(|kept| {
                kept.into_iter()
                    .filter(|h| !self.open_on.contains(&h.code))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The holiday the desk keeps on `date`, if any.
    pub fn holiday_on(&self, date: Date) -> Option<HolidayCode> {
        // A holiday is kept in the year it falls in: none falls after 26 December, and none
        // is kept more than two days late.
        self.holidays_in(date.year())
            .into_iter()
            .find(|h| h.observed == date)
            .map(|h| h.code)
    }

    /// `channel`'s hours on `date`, and why they are what they are: a closure first, then a
    /// holiday, then the week.
    pub fn hours_on(&self, channel: Channel, date: Date) -> (DayHours, Why) {
        if let Some(closure) = self
            .closures
            .iter()
            .find(|c| c.date == date && c.channels.contains(&channel))
        {
            return (closure.hours.clone(), Why::Closure(closure.reason.clone()));
        }
        let Some((_, hours)) = self.channels.iter().find(|(c, _)| *c == channel) else {
            // `parse` refuses a configuration without every channel.
            return (DayHours::default(), Why::Weekly);
        };
        if let Some(code) = self.holiday_on(date) {
            let kept = hours
                .holiday_overrides
                .iter()
                .find(|(c, _)| *c == code)
                .map_or(&hours.holidays, |(_, h)| h);
            return (kept.clone(), Why::Holiday(code));
        }
        let weekday = usize::from(date.weekday().to_monday_zero_offset().unsigned_abs());
        (hours.weekly[weekday].clone(), Why::Weekly)
    }

    /// The instant `minute` minutes after midnight of `date` in the desk's zone (24:00 is the
    /// next midnight); `None` past the calendar's last day.
    fn instant(&self, date: Date, minute: u16) -> Option<Timestamp> {
        // Civil arithmetic: 24:00 is the next day's midnight, whatever the zone does that
        // night; a time the clocks skip is taken as the instant just after the gap.
        let civil = date
            .at(0, 0, 0, 0)
            .checked_add(i64::from(minute).minutes())
            .ok()?;
        let zoned = self.zone.to_ambiguous_zoned(civil).compatible().ok()?;
        Some(zoned.timestamp())
    }

    /// `channel`'s open spans as instants, from the one `from` falls in (cut at `from`) on,
    /// for at most [`HORIZON_DAYS`] days.
    pub fn open_spans(
        &self,
        channel: Channel,
        from: Timestamp,
    ) -> impl Iterator<Item = (Timestamp, Timestamp)> + '_ {
        let first = from.to_zoned(self.zone.clone()).date();
        (0..HORIZON_DAYS)
            .map_while(move |n| first.checked_add(n.days()).ok())
            .take_while(|d| d.year() <= LAST_YEAR)
            .flat_map(move |date| {
                let (hours, _) = self.hours_on(channel, date);
                hours
                    .0
                    .into_iter()
                    .filter_map(move |s| {
                        Some((self.instant(date, s.open)?, self.instant(date, s.close)?))
                    })
                    .collect::<Vec<_>>()
            })
            .filter(move |(_, close)| *close > from)
            .map(move |(open, close)| (open.max(from), close))
    }

    /// The longest day of `channel`'s week, in minutes: the business day the desk counts a
    /// written promise's days in.
    pub fn business_day_minutes(&self, channel: Channel) -> u32 {
        self.channels
            .iter()
            .find(|(c, _)| *c == channel)
            .map_or(0, |(_, hours)| {
                hours
                    .weekly
                    .iter()
                    .map(|day| day.0.iter().map(|s| u32::from(s.close - s.open)).sum())
                    .max()
                    .unwrap_or(0)
            })
    }

    /// Whether `channel` is open at `at`.
    pub fn is_open(&self, channel: Channel, at: Timestamp) -> bool {
        self.open_spans(channel, at)
            .next()
            .is_some_and(|(open, _)| open <= at)
    }

    /// The instant `minutes` of `channel`'s business time after `start`; `None` if the channel
    /// has not that much open time within the horizon.
    pub fn add_business_minutes(
        &self,
        channel: Channel,
        start: Timestamp,
        minutes: i64,
    ) -> Option<Timestamp> {
        self.add_business_time(
            channel,
            start,
            jiff::SignedDuration::from_mins(minutes.max(0)),
        )
    }

    /// The instant `time` of `channel`'s business time after `start` (the close of the span
    /// that holds the last of it, when it ends on one); `None` if the channel has not that
    /// much open time within the horizon.
    pub fn add_business_time(
        &self,
        channel: Channel,
        start: Timestamp,
        time: jiff::SignedDuration,
    ) -> Option<Timestamp> {
        let mut left = time.max(jiff::SignedDuration::ZERO);
        if left.is_zero() {
            return Some(start);
        }
        for (open, close) in self.open_spans(channel, start) {
            let span = close.duration_since(open);
            if span >= left {
                return open.checked_add(left).ok();
            }
            left -= span;
        }
        None
    }

    /// `channel`'s business minutes between `from` and `to` (none when `to` is not later).
    pub fn business_minutes_between(
        &self,
        channel: Channel,
        from: Timestamp,
        to: Timestamp,
    ) -> i64 {
        self.business_time_between(channel, from, to).as_mins()
    }

    /// `channel`'s business time between `from` and `to` (none when `to` is not later).
    pub fn business_time_between(
        &self,
        channel: Channel,
        from: Timestamp,
        to: Timestamp,
    ) -> jiff::SignedDuration {
        let mut total = jiff::SignedDuration::ZERO;
        if to <= from {
            return total;
        }
        for (open, close) in self.open_spans(channel, from) {
            if open >= to {
                break;
            }
            total += close.min(to).duration_since(open);
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn desk() -> DeskHours {
        DeskHours::bundled().expect("the bundled hours are valid")
    }

    /// An instant given as the desk's local time.
    fn local(text: &str) -> Timestamp {
        let civil: jiff::civil::DateTime = text.parse().expect("a local time");
        civil
            .to_zoned(TimeZone::get("America/Toronto").expect("zone"))
            .expect("in range")
            .timestamp()
    }

    fn date(text: &str) -> Date {
        text.parse().expect("a date")
    }

    #[test]
    fn the_bundled_hours_are_the_published_ones() {
        let desk = desk();
        // Tuesday 1 December 2026: chat 08:00–24:00, e-mail and form 09:00–17:00.
        let (chat, why) = desk.hours_on(Channel::Chat, date("2026-12-01"));
        assert_eq!(
            (chat.spans(), why),
            (
                &[Span {
                    open: 480,
                    close: 1440
                }][..],
                Why::Weekly
            )
        );
        let (email, _) = desk.hours_on(Channel::Email, date("2026-12-01"));
        assert_eq!(
            email.spans(),
            &[Span {
                open: 540,
                close: 1020
            }]
        );
        // Saturday: the written channels are closed, chat is not.
        assert!(desk
            .hours_on(Channel::Form, date("2026-12-05"))
            .0
            .is_closed());
        assert!(!desk
            .hours_on(Channel::Chat, date("2026-12-05"))
            .0
            .is_closed());
        // A holiday: chat 10:00–18:00, closed on Christmas; the written channels closed.
        let (chat, why) = desk.hours_on(Channel::Chat, date("2026-07-01"));
        assert_eq!(
            chat.spans(),
            &[Span {
                open: 600,
                close: 1080
            }]
        );
        assert_eq!(why, Why::Holiday(HolidayCode::CanadaDay));
        assert!(desk
            .hours_on(Channel::Email, date("2026-07-01"))
            .0
            .is_closed());
        let (chat, why) = desk.hours_on(Channel::Chat, date("2026-12-25"));
        assert!(chat.is_closed());
        assert_eq!(why, Why::Holiday(HolidayCode::Christmas));
        // Remembrance Day is a federal holiday the desk keeps open.
        assert_eq!(
            desk.hours_on(Channel::Email, date("2026-11-11")).1,
            Why::Weekly
        );
    }

    #[test]
    fn the_file_keeps_the_holidays_the_response_targets_keep() {
        // Two places must not disagree on the desk's holidays while both exist: the bundled
        // file and the response targets' calendar (tickets::sla).
        let desk = desk();
        let sla = crate::tickets::sla::SupportCalendar::published().expect("zone");
        for year in 2026..=2032 {
            let kept: Vec<Date> = sla
                .holidays(year)
                .expect("computed")
                .iter()
                .map(|h| h.date)
                .collect();
            let mut day = date(&format!("{year}-01-01"));
            while day.year() == year {
                assert_eq!(desk.holiday_on(day).is_some(), kept.contains(&day), "{day}");
                day = day.tomorrow().expect("in range");
            }
        }
    }

    #[test]
    fn business_time_skips_nights_weekends_and_holidays() {
        let desk = desk();
        // Friday 16:30 + 60 minutes of e-mail time: 30 on Friday, 30 on Monday.
        let due = desk.add_business_minutes(Channel::Email, local("2026-12-04T16:30"), 60);
        assert_eq!(due, Some(local("2026-12-07T09:30")));
        // Thursday 24 December 16:00 + 2 hours: Christmas (Friday) and the weekend skipped,
        // Boxing Day kept on Saturday the 26th (Quebec keeps it on its date), so Monday 28.
        let due = desk.add_business_minutes(Channel::Form, local("2026-12-24T16:00"), 120);
        assert_eq!(due, Some(local("2026-12-28T10:00")));
        // Chat before it opens: the time starts at 08:00.
        let due = desk.add_business_minutes(Channel::Chat, local("2026-12-02T06:00"), 5);
        assert_eq!(due, Some(local("2026-12-02T08:05")));
        assert_eq!(
            desk.business_minutes_between(
                Channel::Email,
                local("2026-12-04T16:30"),
                local("2026-12-07T09:30")
            ),
            60
        );
    }

    #[test]
    fn a_closure_replaces_the_days_hours_for_its_channels() {
        let text = BUNDLED.replace(
            "\"closures\": []",
            r#""closures": [{"date": "2026-12-31", "channels": ["chat"], "hours": ["08:00-16:00"], "reason": "year_end"}]"#,
        );
        let desk = DeskHours::parse(&text).expect("valid");
        let (chat, why) = desk.hours_on(Channel::Chat, date("2026-12-31"));
        assert_eq!(
            chat.spans(),
            &[Span {
                open: 480,
                close: 960
            }]
        );
        assert_eq!(why, Why::Closure("year_end".into()));
        assert_eq!(
            desk.hours_on(Channel::Email, date("2026-12-31")).1,
            Why::Weekly
        );
        assert!(!desk.is_open(Channel::Chat, local("2026-12-31T16:30")));
        assert!(desk.is_open(Channel::Chat, local("2026-12-30T16:30")));
    }

    #[test]
    fn every_bad_configuration_names_its_place_and_rule() {
        let cases = [
            ("\"America/Toronto\"", "\"Mars/Olympus\"", "time_zone"),
            (
                "[\"federal\", \"quebec\"]",
                "[\"federal\", \"alberta\"]",
                "holidays.jurisdictions[1]",
            ),
            (
                "\"open_on\": [\"remembrance_day\"]",
                "\"open_on\": [\"groundhog_day\"]",
                "holidays.open_on[0]",
            ),
            (
                "\"saturday\": [\"08:00-24:00\"]",
                "\"saturday\": [\"08:00-25:00\"]",
                "channels.chat.weekly.saturday[0]",
            ),
            (
                "\"holidays\": [\"10:00-18:00\"]",
                "\"holidays\": [\"18:00-10:00\"]",
                "channels.chat.holidays[0]",
            ),
            (
                "\"sunday\": [\"08:00-24:00\"]",
                "\"sunday\": [\"08:00-12:00\", \"11:00-13:00\"]",
                "channels.chat.weekly.sunday",
            ),
            (
                "\"sunday\": [\"08:00-24:00\"]",
                "\"dimanche\": [\"08:00-24:00\"]",
                "channels.chat.weekly.dimanche",
            ),
            (
                "\"christmas\": []",
                "\"xmas\": []",
                "channels.chat.holiday_overrides.xmas",
            ),
            ("\"form\": {", "\"fax\": {", "channels.fax"),
        ];
        for (from, to, path) in cases {
            assert!(BUNDLED.contains(from), "{from}");
            let error = DeskHours::parse(&BUNDLED.replacen(from, to, 1)).expect_err(to);
            let SettingsError::Invalid { path: found, .. } = &error;
            assert_eq!(found, path, "{error}");
        }
        let no_form = BUNDLED.replacen("\"form\": {", "\"chat_copy\": {", 1);
        assert!(DeskHours::parse(&no_form).is_err());
        assert!(DeskHours::parse("{}").is_err());
    }

    #[test]
    fn daylight_saving_moves_no_target_of_the_written_channels() {
        let desk = desk();
        // 16 hours of e-mail time from Friday 09:00: Monday 17:00, whether or not the clocks
        // change that weekend (8 March 2026 spring forward, 1 November 2026 fall back).
        for (friday, monday) in [
            ("2026-03-06T09:00", "2026-03-09T17:00"),
            ("2026-10-30T09:00", "2026-11-02T17:00"),
            ("2026-10-23T09:00", "2026-10-26T17:00"),
        ] {
            let due = desk.add_business_minutes(Channel::Email, local(friday), 16 * 60);
            assert_eq!(due, Some(local(monday)), "{friday}");
        }
        // Chat on the spring-forward day: its 08:00–24:00 span is 16 real hours as on any day.
        let spans: Vec<_> = desk
            .open_spans(Channel::Chat, local("2026-03-08T00:00"))
            .take(1)
            .collect();
        assert_eq!(spans[0].1.duration_since(spans[0].0).as_hours(), 16);
    }

    fn channel() -> impl Strategy<Value = Channel> {
        prop::sample::select(Channel::ALL)
    }

    /// Any instant from 2026 to 2032.
    fn instant() -> impl Strategy<Value = Timestamp> {
        (1_767_225_600i64..1_988_150_400i64)
            .prop_map(|s| Timestamp::from_second(s).unwrap_or(Timestamp::UNIX_EPOCH))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn a_due_time_is_never_outside_open_hours(
            channel in channel(), start in instant(), minutes in 1i64..20_000,
        ) {
            let desk = desk();
            let due = desk.add_business_minutes(channel, start, minutes).expect("open within a year");
            // The last minute counted was open time.
            let before = due - jiff::SignedDuration::from_mins(1);
            prop_assert!(desk.is_open(channel, before));
            prop_assert_eq!(desk.business_minutes_between(channel, start, due), minutes);
        }

        #[test]
        fn adding_business_time_is_monotonic(
            channel in channel(), start in instant(), a in 0i64..10_000, b in 0i64..10_000,
            later in 0i64..200_000,
        ) {
            let desk = desk();
            let (less, more) = (a.min(b), a.max(b));
            let first = desk.add_business_minutes(channel, start, less);
            let second = desk.add_business_minutes(channel, start, more);
            prop_assert!(first <= second);
            let moved = start + jiff::SignedDuration::from_secs(later);
            prop_assert!(
                desk.add_business_minutes(channel, start, more)
                    <= desk.add_business_minutes(channel, moved, more)
            );
        }
    }
}

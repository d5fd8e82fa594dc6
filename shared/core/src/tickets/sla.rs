//! Response targets under the desk's published hours.
//!
//! The desk works in Eastern time (Montréal/Toronto). Live chat answers within minutes while
//! it is open; e-mail and the web form are answered within business days, which skip
//! weekends and the desk's holidays, computed for any year by `calendar::holidays`. All
//! arithmetic is done on civil dates in that zone, so daylight-saving changes move nothing.

use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, Zoned};
use serde::Serialize;

use crate::calendar::holidays::{
    holidays_kept, CalendarError, HolidayCode, Jurisdiction, Observance, DEFAULT_JURISDICTIONS,
};
use crate::tickets::ticket::{Channel, Priority};

pub const DESK_TIME_ZONE: &str = "America/Toronto";
/// Live chat promise once the chat is open.
pub const CHAT_RESPONSE_MINUTES: i64 = 5;

/// Opening hours of one day, as `[open, close)`; `close` may be 24:00.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hours {
    pub open_minute: u16,
    pub close_minute: u16,
}

impl Hours {
    pub const fn new(open_hour: u16, close_hour: u16) -> Self {
        Self {
            open_minute: open_hour * 60,
            close_minute: close_hour * 60,
        }
    }
}

/// A holiday the desk keeps, on the day it keeps it: the written channels are closed, and
/// chat keeps reduced hours (or none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Holiday {
    pub code: HolidayCode,
    pub date: Date,
    pub chat: Option<Hours>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Promise {
    Minutes(i64),
    BusinessDays(u8),
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResponseTarget {
    pub channel: Channel,
    pub within: Promise,
    pub due_at: Timestamp,
}

#[derive(Debug, Clone)]
pub struct SupportCalendar {
    zone: TimeZone,
    chat_hours: Hours,
    written_close: Time,
}

/// The desk keeps the federal and Quebec holidays (`DEFAULT_JURISDICTIONS`) as an employer
/// under Quebec's labour standards keeps them, the rule its help centre's 2026–2027 list
/// follows: Quebec's own holidays on their date (Quebec law moves none of them from a
/// Saturday, and only the Fête nationale and Canada Day from a Sunday), and the federal
/// holidays Quebec does not have on their date too, or from a Sunday to the next day that is
/// not already a holiday. So Boxing Day 2026, a Saturday, is kept on the Saturday, and in
/// 2027 Christmas on Saturday the 25th and Boxing Day, a Sunday, on Monday the 27th. The
/// federal rule (every weekend holiday to the next working day) would also close Monday
/// 28 December 2026 and Tuesday 28 December 2027, and move Christmas 2027's closed chat to
/// the Monday: it is the rule of the federal public service and federally regulated
/// employers, not of a Quebec employer.
const DESK_OBSERVANCE: Observance = Observance::Employer(Jurisdiction::Quebec);

/// Federal holidays the desk stays open on. Remembrance Day has never been on the help
/// centre's list, and it is not a Quebec holiday (CNESST).
const DESK_OPEN_ON: &[HolidayCode] = &[HolidayCode::RemembranceDay];

/// Chat on a holiday, as the help centre publishes it: closed on New Year's Day and
/// Christmas, 10:00–18:00 on the others.
fn holiday_chat(code: HolidayCode) -> Option<Hours> {
    match code {
        HolidayCode::NewYear | HolidayCode::Christmas => None,
        _ => Some(Hours::new(10, 18)),
    }
}

impl SupportCalendar {
    /// The published calendar: chat 8:00–24:00 every day, written requests answered by
    /// 17:00 on business days, and the desk's holidays.
    pub fn published() -> Result<Self, jiff::Error> {
        Ok(Self {
            zone: TimeZone::get(DESK_TIME_ZONE)?,
            chat_hours: Hours::new(8, 24),
            written_close: jiff::civil::time(17, 0, 0, 0),
        })
    }

    /// The holidays the desk keeps in `year`, by the day it keeps them.
    pub fn holidays(&self, year: i16) -> Result<Vec<Holiday>, CalendarError> {
        let kept = holidays_kept(year, DEFAULT_JURISDICTIONS, DESK_OBSERVANCE)?;
        Ok(kept
            .into_iter()
            .filter(|h| !DESK_OPEN_ON.contains(&h.code))
            .map(|h| Holiday {
                code: h.code,
                date: h.observed,
                chat: holiday_chat(h.code),
            })
            .collect())
    }

    pub fn zone(&self) -> &TimeZone {
        &self.zone
    }

    fn holiday(&self, date: Date) -> Option<Holiday> {
        // A holiday is kept in the year it falls in (at most two days later, and none falls
        // after 26 December). A year the rules do not compute, before 1583, has no holiday.
        self.holidays(date.year())
            .ok()?
            .into_iter()
            .find(|h| h.date == date)
    }

    fn chat_hours_on(&self, date: Date) -> Option<Hours> {
        match self.holiday(date) {
            Some(h) => h.chat,
            None => Some(self.chat_hours),
        }
    }

    pub fn is_business_day(&self, date: Date) -> bool {
        !matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday)
            && self.holiday(date).is_none()
    }

    /// Written channels: one business day for urgent tickets, two otherwise, due at the
    /// close of that business day. Chat: minutes once the chat is open.
    pub fn response_target(
        &self,
        channel: Channel,
        priority: Priority,
        received: Timestamp,
    ) -> ResponseTarget {
        let local = received.to_zoned(self.zone.clone());
        let (within, due_at) = match channel {
            Channel::Chat => {
                let opens = self.next_chat_opening(&local);
                (
                    Promise::Minutes(CHAT_RESPONSE_MINUTES),
                    opens + SignedDuration::from_mins(CHAT_RESPONSE_MINUTES),
                )
            }
            Channel::Email | Channel::Form => {
                let days = if priority == Priority::Urgent { 1 } else { 2 };
                (Promise::BusinessDays(days), self.written_due(&local, days))
            }
        };
        ResponseTarget {
            channel,
            within,
            due_at,
        }
    }

    /// `now` itself when chat is open, else the next opening.
    fn next_chat_opening(&self, now: &Zoned) -> Timestamp {
        let minute = (now.hour() as u16) * 60 + now.minute() as u16;
        let mut date = now.date();
        if let Some(h) = self.chat_hours_on(date) {
            if minute >= h.open_minute && minute < h.close_minute {
                return now.timestamp();
            }
            if minute < h.open_minute {
                return self.at_minute(date, h.open_minute);
            }
        }
        // The calendar never closes chat for more than a day; a year bounds the search.
        for _ in 0..366 {
            date = next_day(date);
            if let Some(h) = self.chat_hours_on(date) {
                return self.at_minute(date, h.open_minute);
            }
        }
        now.timestamp()
    }

    fn written_due(&self, received: &Zoned, business_days: u8) -> Timestamp {
        let mut date = received.date();
        let mut counted = 0;
        while counted < business_days {
            date = next_day(date);
            if self.is_business_day(date) {
                counted += 1;
            }
        }
        self.at_time(date, self.written_close)
    }

    fn at_minute(&self, date: Date, minute: u16) -> Timestamp {
        let time = jiff::civil::time((minute / 60) as i8, (minute % 60) as i8, 0, 0);
        self.at_time(date, time)
    }

    fn at_time(&self, date: Date, time: Time) -> Timestamp {
        // A local time that a DST change skips resolves forward, as a wall clock would.
        date.to_datetime(time)
            .to_zoned(self.zone.clone())
            .map(|z| z.timestamp())
            .unwrap_or(Timestamp::MAX)
    }
}

/// Whether a ticket has missed its response target: it is ours to answer (open, or with a
/// specialist team) and its target has passed. A ticket waiting on the player is not overdue,
/// whatever its target: the next move is theirs.
pub fn overdue(ticket: &crate::tickets::ticket::Ticket, now: Timestamp) -> bool {
    use crate::tickets::ticket::TicketStatus;
    matches!(ticket.status, TicketStatus::Open | TicketStatus::Escalated)
        && now > ticket.response_due_at
}

fn next_day(date: Date) -> Date {
    date.tomorrow().unwrap_or(date)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn calendar() -> SupportCalendar {
        SupportCalendar::published().expect("bundled time zone")
    }

    fn at(text: &str) -> Timestamp {
        text.parse().expect("valid timestamp")
    }

    #[test]
    fn written_requests_get_two_business_days() {
        // Thursday 2026-11-26 10:00 EST → Monday 2026-11-30 17:00 EST.
        let target =
            calendar().response_target(Channel::Form, Priority::Normal, at("2026-11-26T15:00:00Z"));
        assert_eq!(target.within, Promise::BusinessDays(2));
        assert_eq!(target.due_at, at("2026-11-30T22:00:00Z"));
    }

    #[test]
    fn urgent_written_requests_get_one_business_day() {
        let target = calendar().response_target(
            Channel::Email,
            Priority::Urgent,
            at("2026-11-26T15:00:00Z"),
        );
        assert_eq!(target.within, Promise::BusinessDays(1));
        assert_eq!(target.due_at, at("2026-11-27T22:00:00Z"));
    }

    #[test]
    fn holidays_and_weekends_are_skipped() {
        // Wednesday 2026-12-23: Thu 24 counts, Fri 25 and Sat 26/Sun 27 do not → Mon 28.
        let target =
            calendar().response_target(Channel::Form, Priority::Normal, at("2026-12-23T18:00:00Z"));
        assert_eq!(target.due_at, at("2026-12-28T22:00:00Z"));
    }

    #[test]
    fn dst_change_keeps_local_close_time() {
        // Friday 2027-03-12 (EST) → Tuesday 2027-03-16 17:00 EDT = 21:00 UTC.
        let target =
            calendar().response_target(Channel::Form, Priority::Normal, at("2027-03-12T15:00:00Z"));
        assert_eq!(target.due_at, at("2027-03-16T21:00:00Z"));
    }

    #[test]
    fn open_chat_answers_within_minutes() {
        let target =
            calendar().response_target(Channel::Chat, Priority::Normal, at("2026-11-26T15:00:00Z"));
        assert_eq!(target.within, Promise::Minutes(5));
        assert_eq!(target.due_at, at("2026-11-26T15:05:00Z"));
    }

    #[test]
    fn closed_chat_answers_after_opening() {
        // 03:00 EST: chat opens at 08:00 EST = 13:00 UTC.
        let target =
            calendar().response_target(Channel::Chat, Priority::Urgent, at("2026-11-26T08:00:00Z"));
        assert_eq!(target.due_at, at("2026-11-26T13:05:00Z"));
    }

    #[test]
    fn holiday_chat_hours_apply() {
        // Boxing Day 2026, 09:00 EST: holiday chat opens at 10:00 EST.
        let target =
            calendar().response_target(Channel::Chat, Priority::Normal, at("2026-12-26T14:00:00Z"));
        assert_eq!(target.due_at, at("2026-12-26T15:05:00Z"));
        // Christmas Eve after closing: Christmas is closed, Boxing Day opens at 10:00.
        let target =
            calendar().response_target(Channel::Chat, Priority::Normal, at("2026-12-25T05:30:00Z"));
        assert_eq!(target.due_at, at("2026-12-26T15:05:00Z"));
    }

    /// The help centre's list for 2026 and 2027, as published (and hard-coded here before the
    /// holidays were computed by rule): the computed calendar keeps exactly these days, with
    /// these chat hours, so no response target of those years moves.
    const PUBLISHED_2026_2027: &[(&str, Option<Hours>)] = &[
        ("2026-01-01", None),
        ("2026-04-03", REDUCED),
        ("2026-04-06", REDUCED),
        ("2026-05-18", REDUCED),
        ("2026-06-24", REDUCED),
        ("2026-07-01", REDUCED),
        ("2026-09-07", REDUCED),
        ("2026-09-30", REDUCED),
        ("2026-10-12", REDUCED),
        ("2026-12-25", None),
        ("2026-12-26", REDUCED),
        ("2027-01-01", None),
        ("2027-03-26", REDUCED),
        ("2027-03-29", REDUCED),
        ("2027-05-24", REDUCED),
        ("2027-06-24", REDUCED),
        ("2027-07-01", REDUCED),
        ("2027-09-06", REDUCED),
        ("2027-09-30", REDUCED),
        ("2027-10-11", REDUCED),
        ("2027-12-25", None),
        ("2027-12-27", REDUCED),
    ];
    const REDUCED: Option<Hours> = Some(Hours::new(10, 18));

    fn day(text: &str) -> Date {
        text.parse().expect("valid date")
    }

    #[test]
    fn computed_holidays_are_the_published_list_for_2026_and_2027() {
        let c = calendar();
        let computed: Vec<(Date, Option<Hours>)> = [2026, 2027]
            .into_iter()
            .flat_map(|year| c.holidays(year).expect("a computed year"))
            .map(|h| (h.date, h.chat))
            .collect();
        let published: Vec<(Date, Option<Hours>)> = PUBLISHED_2026_2027
            .iter()
            .map(|(date, chat)| (day(date), *chat))
            .collect();
        assert_eq!(computed, published);
    }

    #[test]
    fn later_years_follow_the_same_rules() {
        let c = calendar();
        // 2028: Truth and Reconciliation and Canada Day fall on Saturdays and stay there.
        assert!(c.is_business_day(day("2028-07-03")));
        assert!(c.is_business_day(day("2028-10-02")));
        // 2029: the Fête nationale and Canada Day fall on Sundays and move to the Monday,
        // Truth and Reconciliation likewise.
        assert!(!c.is_business_day(day("2029-06-25")));
        assert!(!c.is_business_day(day("2029-07-02")));
        assert!(!c.is_business_day(day("2029-10-01")));
        // 2032: Christmas on Saturday the 25th, Boxing Day kept on Monday the 27th.
        assert!(!c.is_business_day(day("2032-12-27")));
        assert!(c.is_business_day(day("2032-12-28")));
        // Remembrance Day is a working day for the desk; Good Friday is not.
        assert!(c.is_business_day(day("2030-11-11")));
        assert!(!c.is_business_day(day("2031-04-11")));
    }

    #[test]
    fn chat_is_closed_on_christmas_day_itself_in_later_years() {
        // Sunday 2033-12-25, 09:00 EST: Christmas stays on its Sunday (Quebec moves it
        // nowhere), so chat reopens on Boxing Day, Monday the 26th, at 10:00 EST.
        let target =
            calendar().response_target(Channel::Chat, Priority::Normal, at("2033-12-25T14:00:00Z"));
        assert_eq!(target.due_at, at("2033-12-26T15:05:00Z"));
    }

    #[test]
    fn business_days_know_weekends_and_holidays() {
        let c = calendar();
        assert!(c.is_business_day(jiff::civil::date(2026, 11, 27)));
        assert!(!c.is_business_day(jiff::civil::date(2026, 11, 28)));
        assert!(!c.is_business_day(jiff::civil::date(2026, 6, 24)));
    }
}

//! Response targets under the desk's published hours.
//!
//! The desk works in Eastern time (Montréal/Toronto). Live chat answers within minutes while
//! it is open; e-mail and the web form are answered within business days, which skip
//! weekends and the published holidays. All arithmetic is done on civil dates in that zone,
//! so daylight-saving changes move nothing.

use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, Zoned};
use serde::Serialize;

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

/// A published holiday: the written channels are closed, and chat keeps reduced hours
/// (or none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Holiday {
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
    holidays: Vec<Holiday>,
}

/// Quebec and federal statutory holidays observed by the desk, 2026–2027 (published on the
/// help centre; extend before 2028).
const fn holiday(y: i16, m: i8, d: i8, chat: Option<Hours>) -> Holiday {
    Holiday {
        date: jiff::civil::date(y, m, d),
        chat,
    }
}
const HOLIDAY_CHAT: Option<Hours> = Some(Hours::new(10, 18));
const PUBLISHED_HOLIDAYS: &[Holiday] = &[
    holiday(2026, 1, 1, None),
    holiday(2026, 4, 3, HOLIDAY_CHAT),
    holiday(2026, 4, 6, HOLIDAY_CHAT),
    holiday(2026, 5, 18, HOLIDAY_CHAT),
    holiday(2026, 6, 24, HOLIDAY_CHAT),
    holiday(2026, 7, 1, HOLIDAY_CHAT),
    holiday(2026, 9, 7, HOLIDAY_CHAT),
    holiday(2026, 9, 30, HOLIDAY_CHAT),
    holiday(2026, 10, 12, HOLIDAY_CHAT),
    holiday(2026, 12, 25, None),
    holiday(2026, 12, 26, HOLIDAY_CHAT),
    holiday(2027, 1, 1, None),
    holiday(2027, 3, 26, HOLIDAY_CHAT),
    holiday(2027, 3, 29, HOLIDAY_CHAT),
    holiday(2027, 5, 24, HOLIDAY_CHAT),
    holiday(2027, 6, 24, HOLIDAY_CHAT),
    holiday(2027, 7, 1, HOLIDAY_CHAT),
    holiday(2027, 9, 6, HOLIDAY_CHAT),
    holiday(2027, 9, 30, HOLIDAY_CHAT),
    holiday(2027, 10, 11, HOLIDAY_CHAT),
    holiday(2027, 12, 25, None),
    holiday(2027, 12, 27, HOLIDAY_CHAT),
];

impl SupportCalendar {
    /// The published calendar: chat 8:00–24:00 every day, written requests answered by
    /// 17:00 on business days, holidays as listed above.
    pub fn published() -> Result<Self, jiff::Error> {
        Ok(Self {
            zone: TimeZone::get(DESK_TIME_ZONE)?,
            chat_hours: Hours::new(8, 24),
            written_close: jiff::civil::time(17, 0, 0, 0),
            holidays: PUBLISHED_HOLIDAYS.to_vec(),
        })
    }

    pub fn zone(&self) -> &TimeZone {
        &self.zone
    }

    fn holiday(&self, date: Date) -> Option<&Holiday> {
        self.holidays.iter().find(|h| h.date == date)
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

    #[test]
    fn business_days_know_weekends_and_holidays() {
        let c = calendar();
        assert!(c.is_business_day(jiff::civil::date(2026, 11, 27)));
        assert!(!c.is_business_day(jiff::civil::date(2026, 11, 28)));
        assert!(!c.is_business_day(jiff::civil::date(2026, 6, 24)));
    }
}

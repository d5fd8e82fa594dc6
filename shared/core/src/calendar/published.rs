//! What the support page publishes about the desk's hours, in the player's language: each
//! channel's hours this week, whether it is open now and when that changes, and the coming
//! holidays with each channel's hours on them; or one year's holidays, so that an operator can
//! check the calendar years ahead. Built from [`DeskHours`] alone: the page and the response
//! targets read the same calendar.

use jiff::civil::{Date, Weekday};
use jiff::{Timestamp, ToSpan};
use serde::Serialize;

use crate::calendar::holidays::{Holiday, HolidayCode};
use crate::calendar::hours::{DayHours, DeskHours, Span, Why};
use crate::common::player::Language;
use crate::tickets::ticket::Channel;

/// How far ahead the coming holidays are listed.
const COMING_DAYS: i32 = 90;

/// The years a calendar is published for: far enough back for a past ticket, far enough ahead
/// for any planning; the rules themselves compute many more.
pub const YEARS: std::ops::RangeInclusive<i16> = 2000..=2100;

/// One open span, as the page shows it (`24:00` for midnight at the end of a day).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OpenSpan {
    pub open: String,
    pub close: String,
}

impl From<&Span> for OpenSpan {
    fn from(span: &Span) -> Self {
        let hhmm = |m: u16| format!("{:02}:{:02}", m / 60, m % 60);
        OpenSpan {
            open: hhmm(span.open),
            close: hhmm(span.close),
        }
    }
}

fn spans(hours: &DayHours) -> Vec<OpenSpan> {
    hours.spans().iter().map(OpenSpan::from).collect()
}

/// A holiday by its code and its name in the page's language.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NamedHoliday {
    pub code: HolidayCode,
    pub name: &'static str,
}

/// One day of a channel's week.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DayView {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub date: Date,
    pub weekday: &'static str,
    /// Empty when closed.
    pub hours: Vec<OpenSpan>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holiday: Option<NamedHoliday>,
    /// A one-off closure's reason code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closure: Option<String>,
}

/// A channel's week from today, and where it stands now.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChannelWeek {
    pub channel: Channel,
    pub name: &'static str,
    pub open_now: bool,
    /// When it next opens (closed now) or closes (open now); none if not within a year.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_change: Option<Timestamp>,
    pub days: Vec<DayView>,
}

/// Each channel's hours on one holiday.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChannelHoursView {
    pub channel: Channel,
    /// Empty when closed.
    pub hours: Vec<OpenSpan>,
}

/// A holiday the desk keeps, with the day it falls on, the day it is kept and each channel's
/// hours that day.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HolidayView {
    pub code: HolidayCode,
    pub name: &'static str,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub date: Date,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub observed: Date,
    pub channels: Vec<ChannelHoursView>,
}

/// `GET /support/hours`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SupportHours {
    pub language: Language,
    pub time_zone: String,
    pub now: Timestamp,
    pub channels: Vec<ChannelWeek>,
    /// The holidays of the next 90 days.
    pub coming_holidays: Vec<HolidayView>,
}

/// `GET /support/hours?year=YYYY`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct YearHolidays {
    pub language: Language,
    pub time_zone: String,
    pub year: i16,
    pub holidays: Vec<HolidayView>,
}

fn channel_name(channel: Channel, language: Language) -> &'static str {
    match (channel, language) {
        (Channel::Chat, Language::Fr) => "Clavardage en direct",
        (Channel::Chat, Language::En) => "Live chat",
        (Channel::Email, Language::Fr) => "Courriel",
        (Channel::Email, Language::En) => "E-mail",
        (Channel::Form, Language::Fr) => "Formulaire de contact",
        (Channel::Form, Language::En) => "Contact form",
    }
}

fn weekday_name(day: Weekday, language: Language) -> &'static str {
    let (fr, en) = match day {
        Weekday::Monday => ("lundi", "Monday"),
        Weekday::Tuesday => ("mardi", "Tuesday"),
        Weekday::Wednesday => ("mercredi", "Wednesday"),
        Weekday::Thursday => ("jeudi", "Thursday"),
        Weekday::Friday => ("vendredi", "Friday"),
        Weekday::Saturday => ("samedi", "Saturday"),
        Weekday::Sunday => ("dimanche", "Sunday"),
    };
    match language {
        Language::Fr => fr,
        Language::En => en,
    }
}

/// The channels in the order the page lists them: chat first, then the written ones.
const CHANNELS: [Channel; 3] = [Channel::Chat, Channel::Email, Channel::Form];

fn holiday_view(desk: &DeskHours, holiday: &Holiday, language: Language) -> HolidayView {
    HolidayView {
        code: holiday.code,
        name: holiday.name(language),
        date: holiday.date,
        observed: holiday.observed,
        channels: CHANNELS
            .iter()
            .map(|&channel| ChannelHoursView {
                channel,
                hours: spans(&desk.hours_on(channel, holiday.observed).0),
            })
            .collect(),
    }
}

/// When `channel`'s open state changes next after `now`: the end of the span it is in, or the
/// start of the next; spans that touch (23:59 to 00:00 the next day) are one stretch of open time.
fn next_change(desk: &DeskHours, channel: Channel, now: Timestamp) -> (bool, Option<Timestamp>) {
    let mut spans = desk.open_spans(channel, now);
    let Some((open, mut close)) = spans.next() else {
        return (false, None);
    };
    if open > now {
        return (false, Some(open));
    }
    for (next_open, next_close) in spans {
        if next_open > close {
            break;
        }
        close = next_close;
    }
    (true, Some(close))
}

impl SupportHours {
    /// The page as of `now`, in `language`.
    pub fn at(desk: &DeskHours, now: Timestamp, language: Language) -> Self {
        let today = now.to_zoned(desk.zone().clone()).date();
        let week: Vec<Date> = (0..7)
            .map_while(|n| today.checked_add(n.days()).ok())
            .collect();
        let channels = CHANNELS
            .iter()
            .map(|&channel| {
                let (open_now, next_change) = next_change(desk, channel, now);
                ChannelWeek {
                    channel,
                    name: channel_name(channel, language),
                    open_now,
                    next_change,
                    days: week
                        .iter()
                        .map(|&date| {
                            let (hours, why) = desk.hours_on(channel, date);
                            let holiday = desk
                                .holidays_in(date.year())
                                .into_iter()
                                .find(|h| h.observed == date)
                                .map(|h| NamedHoliday {
                                    code: h.code,
                                    name: h.name(language),
                                });
                            DayView {
                                date,
                                weekday: weekday_name(date.weekday(), language),
                                hours: spans(&hours),
                                holiday,
                                closure: match why {
                                    Why::Closure(reason) => Some(reason),
                                    Why::Weekly | Why::Holiday(_) => None,
                                },
                            }
                        })
                        .collect(),
                }
            })
            .collect();
        let until = today.checked_add(COMING_DAYS.days()).unwrap_or(today);
        let coming_holidays = [today.year(), until.year()]
            .iter()
            .copied()
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .flat_map(|year| desk.holidays_in(year))
            .filter(|h| h.observed >= today && h.observed <= until)
            .map(|h| holiday_view(desk, &h, language))
            .collect();
        SupportHours {
            language,
            time_zone: desk.zone().iana_name().unwrap_or("UTC").to_owned(),
            now,
            channels,
            coming_holidays,
        }
    }
}

impl YearHolidays {
    /// `year`'s holidays, or `None` outside [`YEARS`].
    pub fn of(desk: &DeskHours, year: i16, language: Language) -> Option<Self> {
        YEARS.contains(&year).then(|| YearHolidays {
            language,
            time_zone: desk.zone().iana_name().unwrap_or("UTC").to_owned(),
            year,
            holidays: desk
                .holidays_in(year)
                .iter()
                .map(|h| holiday_view(desk, h, language))
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn desk() -> DeskHours {
        DeskHours::bundled().expect("valid")
    }

    fn at(text: &str) -> Timestamp {
        text.parse().expect("an instant")
    }

    #[test]
    fn the_week_shows_each_channel_from_today_in_the_pages_language() {
        // Tuesday 30 June 2026, 21:30 in Montréal (01:30 UTC the next day): chat open until
        // midnight; Canada Day tomorrow, chat 10:00–18:00, the written channels closed.
        let page = SupportHours::at(&desk(), at("2026-07-01T01:30:00Z"), Language::Fr);
        assert_eq!(page.time_zone, "America/Toronto");
        let chat = &page.channels[0];
        assert_eq!(chat.name, "Clavardage en direct");
        assert!(chat.open_now);
        assert_eq!(
            chat.next_change,
            Some(at("2026-07-01T04:00:00Z")),
            "midnight there"
        );
        assert_eq!(chat.days.len(), 7);
        assert_eq!(chat.days[0].weekday, "mardi");
        let canada_day = &chat.days[1];
        assert_eq!(canada_day.date.to_string(), "2026-07-01");
        assert_eq!(
            canada_day.hours,
            vec![OpenSpan {
                open: "10:00".into(),
                close: "18:00".into()
            }]
        );
        assert_eq!(
            canada_day.holiday.as_ref().map(|h| h.name),
            Some("Fête du Canada")
        );
        let email = &page.channels[1];
        assert!(!email.open_now);
        // Closed for the holiday: it opens on Thursday 2 July at 09:00 (13:00 UTC).
        assert_eq!(email.next_change, Some(at("2026-07-02T13:00:00Z")));
        assert!(email.days[1].hours.is_empty());
        assert_eq!(page.coming_holidays[0].code, HolidayCode::CanadaDay);
        let english = SupportHours::at(&desk(), at("2026-07-01T01:30:00Z"), Language::En);
        assert_eq!(english.channels[0].name, "Live chat");
        assert_eq!(english.channels[0].days[0].weekday, "Tuesday");
        assert_eq!(
            english.channels[0].days[1].holiday.as_ref().map(|h| h.name),
            Some("Canada Day")
        );
    }

    #[test]
    fn the_coming_holidays_run_across_the_new_year() {
        let page = SupportHours::at(&desk(), at("2026-12-20T15:00:00Z"), Language::En);
        let codes: Vec<(HolidayCode, String)> = page
            .coming_holidays
            .iter()
            .map(|h| (h.code, h.observed.to_string()))
            .collect();
        assert_eq!(
            codes[..3],
            [
                (HolidayCode::Christmas, "2026-12-25".to_owned()),
                (HolidayCode::BoxingDay, "2026-12-26".to_owned()),
                (HolidayCode::NewYear, "2027-01-01".to_owned()),
            ]
        );
        let christmas = &page.coming_holidays[0];
        assert!(
            christmas.channels.iter().all(|c| c.hours.is_empty()),
            "all closed"
        );
    }

    #[test]
    fn a_year_lists_its_holidays_with_each_channels_hours() {
        let year = YearHolidays::of(&desk(), 2029, Language::Fr).expect("in range");
        let canada_day = year
            .holidays
            .iter()
            .find(|h| h.code == HolidayCode::CanadaDay)
            .expect("kept");
        // 1 July 2029 is a Sunday: kept on Monday the 2nd.
        assert_eq!(canada_day.date.to_string(), "2029-07-01");
        assert_eq!(canada_day.observed.to_string(), "2029-07-02");
        assert!(year
            .holidays
            .iter()
            .all(|h| h.code != HolidayCode::RemembranceDay));
        assert_eq!(YearHolidays::of(&desk(), 1999, Language::Fr), None);
        assert_eq!(YearHolidays::of(&desk(), 2101, Language::Fr), None);
    }
}

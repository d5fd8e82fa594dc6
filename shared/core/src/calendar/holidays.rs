//! Statutory holidays by rule: which days are holidays in a year, under the federal, Quebec and
//! Ontario rules, and the day each holiday is kept (observed) when it falls on a weekend.
//!
//! Where the holidays come from:
//! - Federal: the general holidays of the Canada Labour Code (s. 166) and Easter Monday, a
//!   holiday under the Interpretation Act (s. 35) that the federal public service observes.
//! - Quebec: the Act respecting labour standards (s. 60) and the National Holiday Act (s. 2),
//!   as the CNESST lists them.
//! - Ontario: the nine public holidays of the Employment Standards Act, 2000 (s. 1), and the
//!   Civic Holiday, which the Act does not make a public holiday but most employers observe,
//!   flagged [`Standing::Civic`] so a caller can leave it out.
//!
//! How each jurisdiction keeps a holiday that falls on a weekend:
//! - Federal: on the next working day that is not already a holiday (Monday, or Tuesday when
//!   Monday is one: Christmas on a Saturday is kept on Monday the 27th, Boxing Day on Tuesday
//!   the 28th). The Canada Labour Code (s. 193(2)) gives the working day before or after; the
//!   federal public service takes the day after, and so does this calendar.
//! - Quebec: never moved ("les jours fériés ne peuvent pas être déplacés", CNESST): a worker
//!   whose holiday falls on a day off gets an indemnity instead. The law names a substitute
//!   only for a Sunday: Canada Day on 2 July (Act respecting labour standards, s. 60) and the
//!   Fête nationale on 25 June (National Holiday Act, s. 2, for those who do not usually work
//!   on Sundays; this calendar is theirs, a Monday-to-Friday one).
//! - Ontario: the Employment Standards Act gives a substitute day agreed with each employee,
//!   which no calendar can compute; the Legislation Act, 2006 (s. 88) names the days Ontario
//!   law counts as holidays instead: New Year's Day and Canada Day move from a Sunday to the
//!   Monday, Christmas from a Saturday to the Monday and from a Sunday to the Tuesday. Boxing
//!   Day and the others stay on their date.
//!
//! The rules are the ones in force now, applied to any year from 1583 (the first whole year of
//! the Gregorian calendar, whose Easter rule this is) to 9999: a calendar, not a history. Only
//! the two recent holidays start in their year ([`HolidayCode::TruthAndReconciliation`] in
//! 2021, [`HolidayCode::FamilyDay`] in 2008), so that past tickets read their real calendar.

use jiff::civil::{Date, Weekday};

use crate::common::player::Language;

/// The first year computed: the Gregorian Easter rule starts with the calendar, in 1582.
pub const FIRST_YEAR: i16 = 1583;
/// The last year computed: the last year a [`Date`] can hold.
pub const LAST_YEAR: i16 = 9999;

vocabulary! {
    /// A jurisdiction whose holidays a calendar keeps.
    Jurisdiction {
        Federal => "federal",
        Quebec => "quebec",
        Ontario => "ontario",
    }
}

/// The desk's holidays by default: it works from Montréal, under Quebec's labour standards,
/// and keeps the federal holidays as well.
pub const DEFAULT_JURISDICTIONS: &[Jurisdiction] = &[Jurisdiction::Federal, Jurisdiction::Quebec];

vocabulary! {
    /// A holiday's stable code, whatever its name in a jurisdiction or a language.
    HolidayCode {
        NewYear => "new_year",
        FamilyDay => "family_day",
        GoodFriday => "good_friday",
        EasterMonday => "easter_monday",
        VictoriaDay => "victoria_day",
        FeteNationale => "fete_nationale",
        CanadaDay => "canada_day",
        CivicHoliday => "civic_holiday",
        LabourDay => "labour_day",
        TruthAndReconciliation => "truth_and_reconciliation",
        Thanksgiving => "thanksgiving",
        RemembranceDay => "remembrance_day",
        Christmas => "christmas",
        BoxingDay => "boxing_day",
    }
}

/// What the law makes of a holiday. Declared weakest first: a holiday kept by several of the
/// selected jurisdictions takes the strongest standing any of them gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Standing {
    /// Observed by custom, not by law (Ontario's Civic Holiday).
    Civic,
    /// One of two days the employer chooses between (Quebec: Good Friday or Easter Monday).
    EmployerChoice,
    /// A holiday in the jurisdiction's statutes.
    Statutory,
}

/// Which day a holiday that falls on a weekend is kept on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Observance {
    /// Each selected jurisdiction's own rule (see the module's documentation). Where they keep
    /// the same holiday on different days, the later day: a jurisdiction only ever moves a
    /// holiday forward, off a weekend, so the later day is the working day one of them closes,
    /// and a union of jurisdictions closes every day any of them does.
    PerJurisdiction,
    /// As an employer under that jurisdiction's labour standards keeps holidays: its own rule
    /// for the holidays it has, and for the other selected ones (which it keeps by choice, not
    /// by law) the Sunday rule Quebec and Ontario apply to Canada Day: on their date, or from
    /// a Sunday to the next day that is not already a holiday.
    Employer(Jurisdiction),
}

/// A holiday in a given year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Holiday {
    pub code: HolidayCode,
    pub name_fr: &'static str,
    pub name_en: &'static str,
    pub standing: Standing,
    /// The day the holiday falls on.
    pub date: Date,
    /// The day it is kept: `date`, or the working day it moves to from a weekend.
    pub observed: Date,
}

impl Holiday {
    pub fn name(&self, language: Language) -> &'static str {
        match language {
            Language::Fr => self.name_fr,
            Language::En => self.name_en,
        }
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum CalendarError {
    #[error("holidays are computed for the years {FIRST_YEAR} to {LAST_YEAR}, not {0}")]
    YearOutOfRange(i16),
    /// Date arithmetic inside a computed year cannot leave it; kept typed rather than assumed.
    #[error("date arithmetic failed: {0}")]
    Date(#[from] jiff::Error),
}

/// The holidays of `year` kept by any of `jurisdictions` (each holiday once), each
/// jurisdiction keeping weekend holidays by its own rule, sorted by the day they are kept.
pub fn holidays(year: i16, jurisdictions: &[Jurisdiction]) -> Result<Vec<Holiday>, CalendarError> {
    holidays_kept(year, jurisdictions, Observance::PerJurisdiction)
}

/// Whether a holiday of `jurisdictions` is kept on `date` (its observed day: a holiday moved
/// off a Sunday is not kept on the Sunday).
pub fn is_holiday(date: Date, jurisdictions: &[Jurisdiction]) -> bool {
    kept_on(date, jurisdictions, Observance::PerJurisdiction).is_some()
}

/// The holiday kept on `date`, if any.
pub fn kept_on(
    date: Date,
    jurisdictions: &[Jurisdiction],
    observance: Observance,
) -> Option<Holiday> {
    // A holiday is kept at most two days after it falls, and none falls after 26 December, so
    // the date's own year is the only one to look in. A year the calendar does not compute
    // (before 1583) has no holiday to find.
    holidays_kept(date.year(), jurisdictions, observance)
        .ok()?
        .into_iter()
        .find(|h| h.observed == date)
}

/// The holidays of `year` kept by any of `jurisdictions` (each holiday once), moved off
/// weekends as `observance` says, sorted by the day they are kept.
pub fn holidays_kept(
    year: i16,
    jurisdictions: &[Jurisdiction],
    observance: Observance,
) -> Result<Vec<Holiday>, CalendarError> {
    let easter = easter_sunday(year)?;
    let mut due = Vec::new();
    for rule in RULES {
        if rule.since.is_some_and(|since| year < since) {
            continue;
        }
        let keepers: Vec<&Keeper> = rule
            .keepers
            .iter()
            .filter(|k| jurisdictions.contains(&k.jurisdiction))
            .collect();
        if !keepers.is_empty() {
            due.push((rule.when.date(year, easter)?, rule, keepers));
        }
    }
    due.sort_by_key(|(date, _, _)| *date);
    // A holiday on a weekday stays there under every rule, so those days are taken before any
    // weekend holiday moves; one that moves takes its new day, so the next one (Boxing Day
    // after Christmas) skips it.
    let mut taken: Vec<Date> = due
        .iter()
        .map(|(date, _, _)| *date)
        .filter(|date| !is_weekend(*date))
        .collect();
    let mut kept = Vec::with_capacity(due.len());
    for (date, rule, keepers) in due {
        let observed = match observance {
            Observance::PerJurisdiction => {
                let mut latest = date;
                for keeper in &keepers {
                    latest = latest.max(keeper.shift.apply(date, &taken)?);
                }
                latest
            }
            Observance::Employer(employer) => {
                let shift = rule
                    .keepers
                    .iter()
                    .find(|k| k.jurisdiction == employer)
                    .map_or(Shift::FromSunday, |k| k.shift);
                shift.apply(date, &taken)?
            }
        };
        if observed != date {
            taken.push(observed);
        }
        let in_quebec = keepers
            .iter()
            .any(|k| k.jurisdiction == Jurisdiction::Quebec);
        let (name_fr, name_en) = rule
            .quebec_names
            .filter(|_| in_quebec)
            .unwrap_or(rule.names);
        kept.push(Holiday {
            code: rule.code,
            name_fr,
            name_en,
            standing: keepers
                .iter()
                .map(|k| k.standing)
                .fold(Standing::Civic, Ord::max),
            date,
            observed,
        });
    }
    kept.sort_by_key(|h| h.observed);
    Ok(kept)
}

/// Easter Sunday of `year`, by the anonymous Gregorian algorithm (Meeus, *Astronomical
/// Algorithms*, ch. 8): the Sunday after the ecclesiastical full moon on or after 21 March.
pub fn easter_sunday(year: i16) -> Result<Date, CalendarError> {
    if !(FIRST_YEAR..=LAST_YEAR).contains(&year) {
        return Err(CalendarError::YearOutOfRange(year));
    }
    // Every intermediate stays within i16 for years up to 9999, and none is negative from
    // 1583 on, so `/` and `%` are the algorithm's integer division and remainder.
    let y = year;
    let a = y % 19;
    let b = y / 100;
    let c = y % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let n = h + l - 7 * m + 114;
    // `n` is between 107 and 149: month 3 or 4, day 1 to 31.
    Ok(Date::new(year, (n / 31) as i8, (n % 31 + 1) as i8)?)
}

fn is_weekend(date: Date) -> bool {
    matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday)
}

/// When a holiday falls, before any weekend rule.
#[derive(Clone, Copy)]
enum When {
    /// The same day every year.
    Fixed { month: i8, day: i8 },
    /// A number of days from Easter Sunday.
    Easter(i8),
    /// The `nth` Monday of a month.
    NthMonday { month: i8, nth: i8 },
    /// The last Monday before a day (Victoria Day: before 25 May).
    MondayBefore { month: i8, day: i8 },
}

impl When {
    fn date(self, year: i16, easter: Date) -> Result<Date, jiff::Error> {
        match self {
            When::Fixed { month, day } => Date::new(year, month, day),
            When::Easter(days) => easter.checked_add(jiff::Span::new().days(days)),
            When::NthMonday { month, nth } => {
                Date::new(year, month, 1)?.nth_weekday_of_month(nth, Weekday::Monday)
            }
            When::MondayBefore { month, day } => {
                Date::new(year, month, day)?.nth_weekday(-1, Weekday::Monday)
            }
        }
    }
}

/// How a jurisdiction keeps a holiday that falls on a weekend.
#[derive(Clone, Copy)]
enum Shift {
    /// On its date, whatever the day (Quebec's rule for most holidays).
    Stay,
    /// From a Sunday to the next day that is not already a holiday; a Saturday stays (Canada
    /// Day in Quebec and Ontario, the Fête nationale, Ontario's New Year's Day).
    FromSunday,
    /// From a Saturday or a Sunday to the next weekday that is not already a holiday (the
    /// federal rule, Ontario's Christmas).
    FromWeekend,
}

impl Shift {
    fn apply(self, date: Date, taken: &[Date]) -> Result<Date, jiff::Error> {
        let moves = match self {
            Shift::Stay => false,
            Shift::FromSunday => date.weekday() == Weekday::Sunday,
            Shift::FromWeekend => is_weekend(date),
        };
        if !moves {
            return Ok(date);
        }
        let mut day = date.tomorrow()?;
        while is_weekend(day) || taken.contains(&day) {
            day = day.tomorrow()?;
        }
        Ok(day)
    }
}

/// A jurisdiction that keeps a holiday, with what its law makes of it and its weekend rule.
struct Keeper {
    jurisdiction: Jurisdiction,
    standing: Standing,
    shift: Shift,
}

const fn keeper(jurisdiction: Jurisdiction, standing: Standing, shift: Shift) -> Keeper {
    Keeper {
        jurisdiction,
        standing,
        shift,
    }
}

/// A jurisdiction whose statutes make the day a holiday, kept by `shift`.
const fn statutory(jurisdiction: Jurisdiction, shift: Shift) -> Keeper {
    keeper(jurisdiction, Standing::Statutory, shift)
}

const FEDERAL: Keeper = statutory(Jurisdiction::Federal, Shift::FromWeekend);
const QUEBEC: Keeper = statutory(Jurisdiction::Quebec, Shift::Stay);
const QUEBEC_FROM_SUNDAY: Keeper = statutory(Jurisdiction::Quebec, Shift::FromSunday);
const QUEBEC_EASTER: Keeper = keeper(Jurisdiction::Quebec, Standing::EmployerChoice, Shift::Stay);
const ONTARIO: Keeper = statutory(Jurisdiction::Ontario, Shift::Stay);
const ONTARIO_FROM_SUNDAY: Keeper = statutory(Jurisdiction::Ontario, Shift::FromSunday);
const ONTARIO_FROM_WEEKEND: Keeper = statutory(Jurisdiction::Ontario, Shift::FromWeekend);
const ONTARIO_CIVIC: Keeper = keeper(Jurisdiction::Ontario, Standing::Civic, Shift::Stay);

/// A holiday's rule: when it falls, who keeps it and how.
struct Rule {
    code: HolidayCode,
    /// French and English names.
    names: (&'static str, &'static str),
    /// Quebec's own names for the day, used when Quebec is among the selected keepers.
    quebec_names: Option<(&'static str, &'static str)>,
    when: When,
    /// The first year the holiday was kept, for the recent ones.
    since: Option<i16>,
    keepers: &'static [Keeper],
}

/// A rule kept every year under the same names everywhere; `since` and `named_in_quebec`
/// say otherwise.
const fn rule(
    code: HolidayCode,
    names: (&'static str, &'static str),
    when: When,
    keepers: &'static [Keeper],
) -> Rule {
    Rule {
        code,
        names,
        quebec_names: None,
        when,
        since: None,
        keepers,
    }
}

impl Rule {
    const fn since(self, year: i16) -> Rule {
        Rule {
            since: Some(year),
            ..self
        }
    }

    const fn named_in_quebec(self, names: (&'static str, &'static str)) -> Rule {
        Rule {
            quebec_names: Some(names),
            ..self
        }
    }
}

const fn fixed(month: i8, day: i8) -> When {
    When::Fixed { month, day }
}

const fn nth_monday(month: i8, nth: i8) -> When {
    When::NthMonday { month, nth }
}

const RULES: &[Rule] = &[
    // Every jurisdiction. Quebec does not move it from a weekend; Ontario's Legislation Act
    // moves it from a Sunday only.
    rule(
        HolidayCode::NewYear,
        ("Jour de l'An", "New Year's Day"),
        fixed(1, 1),
        &[FEDERAL, QUEBEC, ONTARIO_FROM_SUNDAY],
    ),
    // Ontario only (Employment Standards Act), the third Monday of February since 2008.
    rule(
        HolidayCode::FamilyDay,
        ("Jour de la famille", "Family Day"),
        nth_monday(2, 3),
        &[ONTARIO],
    )
    .since(2008),
    // Easter − 2. In Quebec the employer gives Good Friday or Easter Monday; the federal
    // public service has both.
    rule(
        HolidayCode::GoodFriday,
        ("Vendredi saint", "Good Friday"),
        When::Easter(-2),
        &[FEDERAL, QUEBEC_EASTER, ONTARIO],
    ),
    // Easter + 1: not an Ontario public holiday, nor a Canada Labour Code one, but a holiday
    // under the federal Interpretation Act and in the federal public service.
    rule(
        HolidayCode::EasterMonday,
        ("Lundi de Pâques", "Easter Monday"),
        When::Easter(1),
        &[FEDERAL, QUEBEC_EASTER],
    ),
    // The Monday before 25 May; Quebec keeps the same day as the Journée nationale des
    // patriotes.
    rule(
        HolidayCode::VictoriaDay,
        ("Fête de Victoria", "Victoria Day"),
        When::MondayBefore { month: 5, day: 25 },
        &[FEDERAL, QUEBEC, ONTARIO],
    )
    .named_in_quebec(("Journée nationale des patriotes", "National Patriots' Day")),
    // 24 June, Quebec only; from a Sunday to 25 June (National Holiday Act, s. 2). A Saturday
    // stays a Saturday.
    rule(
        HolidayCode::FeteNationale,
        ("Fête nationale du Québec", "National Holiday (Quebec)"),
        fixed(6, 24),
        &[QUEBEC_FROM_SUNDAY],
    ),
    // 1 July; from a Sunday to 2 July in all three (Holidays Act, s. 2(2); Act respecting
    // labour standards, s. 60; Legislation Act, 2006, s. 88(4)). From a Saturday, only the
    // federal rule moves it, to the Monday.
    rule(
        HolidayCode::CanadaDay,
        ("Fête du Canada", "Canada Day"),
        fixed(7, 1),
        &[FEDERAL, QUEBEC_FROM_SUNDAY, ONTARIO_FROM_SUNDAY],
    ),
    // The first Monday of August: not a public holiday under Ontario's Employment Standards
    // Act, but kept by most Ontario employers; flagged civic.
    rule(
        HolidayCode::CivicHoliday,
        ("Congé civique", "Civic Holiday"),
        nth_monday(8, 1),
        &[ONTARIO_CIVIC],
    ),
    // The first Monday of September.
    rule(
        HolidayCode::LabourDay,
        ("Fête du Travail", "Labour Day"),
        nth_monday(9, 1),
        &[FEDERAL, QUEBEC, ONTARIO],
    ),
    // 30 September, federal only (not a Quebec or Ontario holiday), since 2021.
    rule(
        HolidayCode::TruthAndReconciliation,
        (
            "Journée nationale de la vérité et de la réconciliation",
            "National Day for Truth and Reconciliation",
        ),
        fixed(9, 30),
        &[FEDERAL],
    )
    .since(2021),
    // The second Monday of October.
    rule(
        HolidayCode::Thanksgiving,
        ("Action de grâces", "Thanksgiving"),
        nth_monday(10, 2),
        &[FEDERAL, QUEBEC, ONTARIO],
    ),
    // 11 November, federal only: neither a Quebec holiday (CNESST) nor an Ontario public
    // holiday.
    rule(
        HolidayCode::RemembranceDay,
        ("Jour du Souvenir", "Remembrance Day"),
        fixed(11, 11),
        &[FEDERAL],
    ),
    // 25 December. Ontario's Legislation Act (s. 88(5)) moves it from a Saturday to the Monday
    // and from a Sunday to the Tuesday (Boxing Day, a Monday, being taken): the weekend rule.
    rule(
        HolidayCode::Christmas,
        ("Noël", "Christmas Day"),
        fixed(12, 25),
        &[FEDERAL, QUEBEC, ONTARIO_FROM_WEEKEND],
    ),
    // 26 December: federal and Ontario, not Quebec. Federally it moves to the working day after
    // Christmas's; Ontario's law names no substitute for it.
    rule(
        HolidayCode::BoxingDay,
        ("Lendemain de Noël", "Boxing Day"),
        fixed(12, 26),
        &[FEDERAL, ONTARIO],
    ),
];

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use HolidayCode::*;
    use Jurisdiction::{Federal, Ontario, Quebec};
    use Observance::{Employer, PerJurisdiction};

    fn date(text: &str) -> Date {
        text.parse().expect("a date")
    }

    fn kept(year: i16, jurisdictions: &[Jurisdiction], observance: Observance) -> Vec<Holiday> {
        holidays_kept(year, jurisdictions, observance).expect("a computed year")
    }

    fn find(
        year: i16,
        jurisdictions: &[Jurisdiction],
        observance: Observance,
        code: HolidayCode,
    ) -> Option<Holiday> {
        kept(year, jurisdictions, observance)
            .into_iter()
            .find(|h| h.code == code)
    }

    // Published dates, 2026–2032, written out by hand from the publications, never from this
    // module's output:
    // - Easter Sunday: the published table of Easter dates (easter-date.com, "Easter Sunday"
    //   2026–2036); Good Friday and Easter Monday follow it, and agree with the desk's help
    //   centre (2026-04-03 and 04-06, 2027-03-26 and 03-29).
    // - Monday holidays: the statutory rules (Holidays Act; Act respecting labour standards,
    //   s. 60; Employment Standards Act, 2000, s. 1) read off a perpetual calendar, and checked
    //   against published calendars of Canadian holidays for 2027 (Victoria Day 24 May, Labour
    //   Day 6 September, Thanksgiving 11 October) and 2028 (22 May, Civic Holiday 7 August,
    //   4 September, 9 October) and the help centre's 2026–2027 list.
    // - Weekend holidays: see `WEEKEND_CASES`.
    const EASTER_SUNDAYS: &str =
        "2026-04-05 2027-03-28 2028-04-16 2029-04-01 2030-04-21 2031-04-13 2032-03-28";

    /// A holiday whose rule is a weekday, the jurisdiction checked, then its dates 2026–2032.
    const WEEKDAY_HOLIDAYS: &str = "
        good_friday    federal 2026-04-03 2027-03-26 2028-04-14 2029-03-30 2030-04-19 2031-04-11 2032-03-26
        easter_monday  federal 2026-04-06 2027-03-29 2028-04-17 2029-04-02 2030-04-22 2031-04-14 2032-03-29
        family_day     ontario 2026-02-16 2027-02-15 2028-02-21 2029-02-19 2030-02-18 2031-02-17 2032-02-16
        victoria_day   quebec  2026-05-18 2027-05-24 2028-05-22 2029-05-21 2030-05-20 2031-05-19 2032-05-24
        civic_holiday  ontario 2026-08-03 2027-08-02 2028-08-07 2029-08-06 2030-08-05 2031-08-04 2032-08-02
        labour_day     federal 2026-09-07 2027-09-06 2028-09-04 2029-09-03 2030-09-02 2031-09-01 2032-09-06
        thanksgiving   quebec  2026-10-12 2027-10-11 2028-10-09 2029-10-08 2030-10-14 2031-10-13 2032-10-11
    ";

    /// Holidays on a weekend: the jurisdictions selected (`+` between them), the observance
    /// (`each`: each jurisdiction's own rule; `employer:quebec`), the holiday, the day it falls
    /// on and the day it is kept. Sources: federal, the Canada Labour Code s. 193(2) and the
    /// federal public service calendar (Library and Archives Canada, "Jours fériés": holidays on
    /// a Saturday or a Sunday "sont reportés au jour ouvrable suivant"), agreeing with
    /// published calendars of federal holidays for 2027 (Christmas kept Monday 27, Boxing Day Tuesday 28
    /// December) and 2028 (New Year's Day kept 3 January, Canada Day 3 July, Truth and
    /// Reconciliation 2 October); Quebec, the CNESST's "Liste des jours fériés, chômés et payés"
    /// (holidays are not moved; Canada Day on 2 July when 1 July is a Sunday) and the National
    /// Holiday Act, s. 2 (25 June when 24 June is a Sunday); Ontario, the Legislation Act, 2006,
    /// s. 88(3)-(5) (ontario.ca/laws).
    const WEEKEND_CASES: &str = "
        # Federal: the next working day that is not already a holiday.
        federal        each            boxing_day               2026-12-26 2026-12-28
        federal        each            christmas                2027-12-25 2027-12-27
        federal        each            boxing_day               2027-12-26 2027-12-28
        federal        each            new_year                 2028-01-01 2028-01-03
        federal        each            canada_day               2028-07-01 2028-07-03
        federal        each            truth_and_reconciliation 2028-09-30 2028-10-02
        federal        each            remembrance_day          2028-11-11 2028-11-13
        federal        each            canada_day               2029-07-01 2029-07-02
        federal        each            truth_and_reconciliation 2029-09-30 2029-10-01
        federal        each            remembrance_day          2029-11-11 2029-11-12
        federal        each            christmas                2032-12-25 2032-12-27
        federal        each            boxing_day               2032-12-26 2032-12-28
        # Quebec: never moved, but the Fête nationale and Canada Day from a Sunday.
        quebec         each            christmas                2027-12-25 2027-12-25
        quebec         each            new_year                 2028-01-01 2028-01-01
        quebec         each            fete_nationale           2028-06-24 2028-06-24
        quebec         each            canada_day               2028-07-01 2028-07-01
        quebec         each            fete_nationale           2029-06-24 2029-06-25
        quebec         each            canada_day               2029-07-01 2029-07-02
        quebec         each            christmas                2032-12-25 2032-12-25
        # Ontario: New Year's Day and Canada Day from a Sunday, Christmas from a weekend.
        ontario        each            boxing_day               2026-12-26 2026-12-26
        ontario        each            christmas                2027-12-25 2027-12-27
        ontario        each            boxing_day               2027-12-26 2027-12-26
        ontario        each            new_year                 2028-01-01 2028-01-01
        ontario        each            canada_day               2028-07-01 2028-07-01
        ontario        each            canada_day               2029-07-01 2029-07-02
        ontario        each            christmas                2032-12-25 2032-12-27
        ontario        each            christmas                2033-12-25 2033-12-27
        ontario        each            new_year                 2034-01-01 2034-01-02
        # Federal and Quebec together: the later of their days.
        federal+quebec each            new_year                 2028-01-01 2028-01-03
        federal+quebec each            fete_nationale           2028-06-24 2028-06-24
        federal+quebec each            canada_day               2028-07-01 2028-07-03
        federal+quebec each            christmas                2027-12-25 2027-12-27
        federal+quebec each            boxing_day               2027-12-26 2027-12-28
        # A Quebec employer keeping the federal holidays too: Quebec's rule for its own
        # holidays, the Sunday rule for the federal ones.
        federal+quebec employer:quebec boxing_day               2026-12-26 2026-12-26
        federal+quebec employer:quebec christmas                2027-12-25 2027-12-25
        federal+quebec employer:quebec boxing_day               2027-12-26 2027-12-27
        federal+quebec employer:quebec new_year                 2028-01-01 2028-01-01
        federal+quebec employer:quebec truth_and_reconciliation 2028-09-30 2028-09-30
        federal+quebec employer:quebec fete_nationale           2029-06-24 2029-06-25
        federal+quebec employer:quebec canada_day               2029-07-01 2029-07-02
        federal+quebec employer:quebec truth_and_reconciliation 2029-09-30 2029-10-01
        federal+quebec employer:quebec remembrance_day          2029-11-11 2029-11-12
        federal+quebec employer:quebec christmas                2032-12-25 2032-12-25
        federal+quebec employer:quebec boxing_day               2032-12-26 2032-12-27
        federal+quebec employer:quebec christmas                2033-12-25 2033-12-25
    ";

    /// A table's rows: its lines split into words, without blank lines and `#` comments.
    fn rows(table: &str) -> impl Iterator<Item = Vec<&str>> {
        table
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .map(|line| line.split_whitespace().collect())
    }

    fn code(name: &str) -> HolidayCode {
        HolidayCode::parse(name).expect("a holiday code")
    }

    fn jurisdictions(names: &str) -> Vec<Jurisdiction> {
        names
            .split('+')
            .map(|name| Jurisdiction::parse(name).expect("a jurisdiction"))
            .collect()
    }

    #[test]
    fn easter_falls_on_the_published_sundays() {
        for expected in EASTER_SUNDAYS.split_whitespace().map(date) {
            let computed = easter_sunday(expected.year()).expect("a computed year");
            assert_eq!(computed, expected);
        }
    }

    #[test]
    fn weekday_holidays_fall_on_their_published_dates() {
        for row in rows(WEEKDAY_HOLIDAYS) {
            let (code, jurisdictions) = (code(row[0]), jurisdictions(row[1]));
            assert_eq!(row.len(), 9, "seven years of {code:?}");
            for expected in row[2..].iter().copied().map(date) {
                let holiday = find(expected.year(), &jurisdictions, PerJurisdiction, code);
                let days = holiday.map(|h| (h.date, h.observed));
                assert_eq!(days, Some((expected, expected)), "{code:?} {expected}");
            }
        }
    }

    #[test]
    fn weekend_holidays_are_kept_on_each_jurisdictions_published_day() {
        for row in rows(WEEKEND_CASES) {
            let jurisdictions = jurisdictions(row[0]);
            let observance = match row[1] {
                "each" => PerJurisdiction,
                "employer:quebec" => Employer(Quebec),
                other => panic!("no observance {other}"),
            };
            let (code, falls, observed) = (code(row[2]), date(row[3]), date(row[4]));
            let holiday = find(falls.year(), &jurisdictions, observance, code);
            let days = holiday.map(|h| (h.date, h.observed));
            assert_eq!(days, Some((falls, observed)), "{}", row.join(" "));
        }
    }

    #[test]
    fn each_jurisdiction_keeps_its_own_holidays() {
        let codes = |jurisdictions: &[Jurisdiction]| -> Vec<HolidayCode> {
            let mut codes: Vec<_> = kept(2027, jurisdictions, PerJurisdiction)
                .into_iter()
                .map(|h| h.code)
                .collect();
            codes.sort_by_key(|code| code.as_str());
            codes
        };
        let sorted = |mut codes: Vec<HolidayCode>| {
            codes.sort_by_key(|code| code.as_str());
            codes
        };
        assert_eq!(
            codes(&[Federal]),
            sorted(vec![
                NewYear,
                GoodFriday,
                EasterMonday,
                VictoriaDay,
                CanadaDay,
                LabourDay,
                TruthAndReconciliation,
                Thanksgiving,
                RemembranceDay,
                Christmas,
                BoxingDay,
            ])
        );
        assert_eq!(
            codes(&[Quebec]),
            sorted(vec![
                NewYear,
                GoodFriday,
                EasterMonday,
                VictoriaDay,
                FeteNationale,
                CanadaDay,
                LabourDay,
                Thanksgiving,
                Christmas,
            ])
        );
        assert_eq!(
            codes(&[Ontario]),
            sorted(vec![
                NewYear,
                FamilyDay,
                GoodFriday,
                VictoriaDay,
                CanadaDay,
                CivicHoliday,
                LabourDay,
                Thanksgiving,
                Christmas,
                BoxingDay,
            ])
        );
        // The union: every holiday of either, once.
        assert_eq!(codes(DEFAULT_JURISDICTIONS).len(), 12);
    }

    #[test]
    fn a_holiday_takes_its_strongest_standing() {
        let standing = |jurisdictions: &[Jurisdiction], code| {
            find(2027, jurisdictions, PerJurisdiction, code).map(|h| h.standing)
        };
        assert_eq!(
            standing(&[Quebec], GoodFriday),
            Some(Standing::EmployerChoice)
        );
        assert_eq!(
            standing(&[Quebec], EasterMonday),
            Some(Standing::EmployerChoice)
        );
        assert_eq!(
            standing(DEFAULT_JURISDICTIONS, EasterMonday),
            Some(Standing::Statutory)
        );
        assert_eq!(standing(&[Ontario], CivicHoliday), Some(Standing::Civic));
        assert_eq!(standing(&[Ontario], BoxingDay), Some(Standing::Statutory));
    }

    #[test]
    fn quebec_names_victoria_day_for_the_patriotes() {
        let names = |jurisdictions: &[Jurisdiction], code| {
            find(2027, jurisdictions, PerJurisdiction, code).map(|h| (h.name_fr, h.name_en))
        };
        assert_eq!(
            names(DEFAULT_JURISDICTIONS, VictoriaDay),
            Some(("Journée nationale des patriotes", "National Patriots' Day"))
        );
        assert_eq!(
            names(&[Ontario], VictoriaDay),
            Some(("Fête de Victoria", "Victoria Day"))
        );
        assert_eq!(
            names(&[Quebec], FeteNationale),
            Some(("Fête nationale du Québec", "National Holiday (Quebec)"))
        );
        let good_friday = find(2027, &[Federal], PerJurisdiction, GoodFriday).expect("kept");
        assert_eq!(good_friday.name(Language::Fr), "Vendredi saint");
        assert_eq!(good_friday.name(Language::En), "Good Friday");
    }

    #[test]
    fn recent_holidays_start_in_their_year() {
        assert!(find(2020, &[Federal], PerJurisdiction, TruthAndReconciliation).is_none());
        assert!(find(2021, &[Federal], PerJurisdiction, TruthAndReconciliation).is_some());
        assert!(find(2007, &[Ontario], PerJurisdiction, FamilyDay).is_none());
        assert!(find(2008, &[Ontario], PerJurisdiction, FamilyDay).is_some());
    }

    #[test]
    fn years_outside_the_gregorian_rule_are_refused() {
        assert!(matches!(
            holidays(1582, DEFAULT_JURISDICTIONS),
            Err(CalendarError::YearOutOfRange(1582))
        ));
        assert!(matches!(
            holidays(10_000, DEFAULT_JURISDICTIONS),
            Err(CalendarError::YearOutOfRange(10_000))
        ));
        assert!(holidays(FIRST_YEAR, DEFAULT_JURISDICTIONS).is_ok());
        assert!(holidays(LAST_YEAR, DEFAULT_JURISDICTIONS).is_ok());
        assert!(!is_holiday(date("1500-01-01"), DEFAULT_JURISDICTIONS));
    }

    #[test]
    fn a_holiday_is_kept_on_its_observed_day() {
        assert!(is_holiday(date("2029-06-25"), &[Quebec]));
        assert!(!is_holiday(date("2029-06-24"), &[Quebec]));
        assert!(is_holiday(date("2027-12-28"), &[Federal]));
        assert!(!is_holiday(date("2027-12-28"), &[Quebec]));
        assert!(!is_holiday(date("2027-11-11"), &[Quebec]));
        assert_eq!(
            kept_on(date("2027-12-27"), DEFAULT_JURISDICTIONS, Employer(Quebec)).map(|h| h.code),
            Some(BoxingDay)
        );
    }

    fn selection() -> impl Strategy<Value = Vec<Jurisdiction>> {
        proptest::sample::subsequence(Jurisdiction::ALL.to_vec(), 1..=Jurisdiction::ALL.len())
    }

    fn observance() -> impl Strategy<Value = Observance> {
        prop_oneof![
            Just(PerJurisdiction),
            proptest::sample::select(Jurisdiction::ALL.to_vec()).prop_map(Employer),
        ]
    }

    proptest! {
        #[test]
        fn easter_is_a_sunday_between_22_march_and_25_april(year in 1900i16..=2200) {
            let easter = easter_sunday(year).expect("a computed year");
            prop_assert_eq!(easter.weekday(), Weekday::Sunday);
            let (first, last) = (Date::new(year, 3, 22)?, Date::new(year, 4, 25)?);
            prop_assert!(first <= easter && easter <= last, "{}", easter);
            let all = kept(year, Jurisdiction::ALL, PerJurisdiction);
            let on = |code| all.iter().find(|h| h.code == code).map(|h| h.date);
            prop_assert_eq!(on(GoodFriday), Some(easter.checked_sub(jiff::Span::new().days(2))?));
            prop_assert_eq!(on(EasterMonday), Some(easter.tomorrow()?));
        }

        #[test]
        fn monday_holidays_fall_in_their_week(year in 1900i16..=2200) {
            let all = kept(year, Jurisdiction::ALL, PerJurisdiction);
            let weeks = [
                (VictoriaDay, (5, 18), (5, 24)),
                (Thanksgiving, (10, 8), (10, 14)),
                (LabourDay, (9, 1), (9, 7)),
                (CivicHoliday, (8, 1), (8, 7)),
            ];
            for (code, (month, first), (_, last)) in weeks {
                let holiday = all.iter().find(|h| h.code == code);
                let day = holiday.map(|h| h.date).expect("kept every year");
                prop_assert_eq!(day.weekday(), Weekday::Monday);
                prop_assert!(day.month() == month && (first..=last).contains(&day.day()), "{:?} {}", code, day);
            }
        }

        #[test]
        fn holidays_are_sorted_each_once_and_moved_only_onto_a_working_day(
            year in 1900i16..=2200,
            jurisdictions in selection(),
            observance in observance(),
        ) {
            let all = kept(year, &jurisdictions, observance);
            for pair in all.windows(2) {
                // Strictly: no two holidays are kept on the same day.
                prop_assert!(pair[0].observed < pair[1].observed, "{:?}", pair);
            }
            let mut codes: Vec<&str> = all.iter().map(|h| h.code.as_str()).collect();
            codes.sort_unstable();
            codes.dedup();
            prop_assert_eq!(codes.len(), all.len());
            for h in &all {
                prop_assert_eq!(h.observed.year(), year);
                let moved = h.date.until(h.observed)?.get_days();
                prop_assert!((0..=2).contains(&moved), "{:?}", h);
                prop_assert!(h.observed == h.date || !is_weekend(h.observed), "{:?}", h);
            }
        }

        #[test]
        fn federal_holidays_are_never_kept_on_a_weekend(year in 1900i16..=2200) {
            for h in kept(year, &[Federal], PerJurisdiction) {
                prop_assert!(!is_weekend(h.observed), "{:?}", h);
            }
        }
    }
}

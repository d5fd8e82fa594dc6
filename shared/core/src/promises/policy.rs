//! The desk's promises as configuration: for each channel and priority, the budget of each
//! clock in business minutes of that channel's hours (`calendar::hours`), when a clock warns,
//! and the complaint clock's terms. A bundled file (`policies.json`, beside this module), read
//! and checked once; every error names its place in the file and its rule.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::common::player::Language;
use crate::common::settings::{invalid, SettingsError};
use crate::tickets::ticket::{Channel, Priority};

pub const BUNDLED: &str = include_str!("policies.json");

vocabulary!(
    /// A ticket's clocks. The first response runs from intake to the desk's first answer; the
    /// next response from each player message to the answer after it; the resolution from
    /// intake to resolved.
    ClockKind {
        FirstResponse => "first_response",
        NextResponse => "next_response",
        Resolution => "resolution",
    }
);

/// The complaint clock's terms: the regulator's limit is counted in calendar days, the rest in
/// business days of the written channels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComplaintTerms {
    pub answer_within_business_days: u16,
    pub update_every_business_days: u16,
    pub regulator_limit_calendar_days: u16,
    /// How long before the limit the player is told they may take the dispute further.
    pub notice_before_limit_days: u16,
    regulator_fr: String,
    regulator_en: String,
}

impl ComplaintTerms {
    pub fn regulator(&self, language: Language) -> &str {
        match language {
            Language::Fr => &self.regulator_fr,
            Language::En => &self.regulator_en,
        }
    }
}

/// Every budget, the warning point and the complaint terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policies {
    warn_at_percent: u8,
    /// `(channel, priority, clock)` → business minutes.
    budgets: Vec<((Channel, Priority, ClockKind), u32)>,
    pub complaints: ComplaintTerms,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicies {
    warn_at_percent: i64,
    budgets: BTreeMap<String, BTreeMap<String, BTreeMap<String, i64>>>,
    complaints: RawComplaints,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawComplaints {
    answer_within_business_days: i64,
    update_every_business_days: i64,
    regulator_limit_calendar_days: i64,
    notice_before_limit_days: i64,
    regulator: BTreeMap<String, String>,
}

/// A whole number within `range`, else a refusal naming `path`.
fn bounded<T: TryFrom<i64>>(
    path: &str,
    value: i64,
    range: std::ops::RangeInclusive<i64>,
    rule: &'static str,
) -> Result<T, SettingsError> {
    range
        .contains(&value)
        .then(|| T::try_from(value).ok())
        .flatten()
        .ok_or_else(|| invalid(path, rule))
}

impl Policies {
    /// The bundled policies. Their unit test parses them, so a bad edit fails the tests.
    pub fn bundled() -> Result<Self, SettingsError> {
        Self::parse(BUNDLED)
    }

    pub fn parse(json: &str) -> Result<Self, SettingsError> {
        let raw: RawPolicies = serde_json::from_str(json)
            .map_err(|_| invalid("$", "the policies as documented in promises/policy.rs"))?;
        let warn_at_percent = bounded(
            "warn_at_percent",
            raw.warn_at_percent,
            1..=99,
            "a whole percentage from 1 to 99",
        )?;
        let mut budgets = Vec::new();
        for (channel_name, priorities) in &raw.budgets {
            let path = format!("budgets.{channel_name}");
            let channel = Channel::parse(channel_name)
                .ok_or_else(|| invalid(&path, "one of form, email, chat"))?;
            for (priority_name, clocks) in priorities {
                let path = format!("{path}.{priority_name}");
                let priority = Priority::parse(priority_name)
                    .ok_or_else(|| invalid(&path, "one of urgent, high, normal"))?;
                for (clock_name, minutes) in clocks {
                    let path = format!("{path}.{clock_name}");
                    let clock = ClockKind::parse(clock_name).ok_or_else(|| {
                        invalid(&path, "one of first_response, next_response, resolution")
                    })?;
                    let minutes = bounded(
                        &path,
                        *minutes,
                        1..=525_600,
                        "business minutes from 1 to 525600",
                    )?;
                    budgets.push(((channel, priority, clock), minutes));
                }
            }
        }
        for channel in Channel::ALL {
            for priority in Priority::ALL {
                for clock in ClockKind::ALL {
                    if !budgets
                        .iter()
                        .any(|(k, _)| *k == (*channel, *priority, *clock))
                    {
                        return Err(invalid(
                            format!(
                                "budgets.{}.{}.{}",
                                channel.as_str(),
                                priority.as_str(),
                                clock.as_str()
                            ),
                            "a budget for every channel, priority and clock",
                        ));
                    }
                }
            }
        }
        for (channel, priority) in budgets.iter().map(|((c, p, _), _)| (*c, *p)) {
            let of = |clock| {
                budgets
                    .iter()
                    .find(|(k, _)| *k == (channel, priority, clock))
                    .map_or(0, |(_, m)| *m)
            };
            if of(ClockKind::FirstResponse) > of(ClockKind::Resolution) {
                return Err(invalid(
                    format!("budgets.{}.{}", channel.as_str(), priority.as_str()),
                    "a first response due no later than the resolution",
                ));
            }
        }
        let c = &raw.complaints;
        let days = |name: &str, value: i64| {
            bounded::<u16>(
                &format!("complaints.{name}"),
                value,
                1..=3650,
                "whole days from 1 to 3650",
            )
        };
        let regulator = |language: &str| {
            c.regulator
                .get(language)
                .filter(|name| !name.trim().is_empty())
                .cloned()
                .ok_or_else(|| {
                    invalid(
                        format!("complaints.regulator.{language}"),
                        "the regulator's name in French and in English",
                    )
                })
        };
        let complaints = ComplaintTerms {
            answer_within_business_days: days(
                "answer_within_business_days",
                c.answer_within_business_days,
            )?,
            update_every_business_days: days(
                "update_every_business_days",
                c.update_every_business_days,
            )?,
            regulator_limit_calendar_days: days(
                "regulator_limit_calendar_days",
                c.regulator_limit_calendar_days,
            )?,
            notice_before_limit_days: days("notice_before_limit_days", c.notice_before_limit_days)?,
            regulator_fr: regulator("fr")?,
            regulator_en: regulator("en")?,
        };
        if complaints.notice_before_limit_days >= complaints.regulator_limit_calendar_days {
            return Err(invalid(
                "complaints.notice_before_limit_days",
                "fewer days than the regulator's limit",
            ));
        }
        Ok(Policies {
            warn_at_percent,
            budgets,
            complaints,
        })
    }

    /// The budget of `clock` for a ticket of `channel` and `priority`, in business minutes.
    pub fn budget(&self, channel: Channel, priority: Priority, clock: ClockKind) -> u32 {
        self.budgets
            .iter()
            .find(|(k, _)| *k == (channel, priority, clock))
            .map_or(0, |(_, minutes)| *minutes)
    }

    /// When a clock of `budget` minutes warns: after this many of its minutes.
    pub fn warn_after(&self, budget: u32) -> u32 {
        budget * u32::from(self.warn_at_percent) / 100
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_policies_cover_every_channel_priority_and_clock() {
        let policies = Policies::bundled().expect("valid");
        assert_eq!(
            policies.budget(Channel::Chat, Priority::Urgent, ClockKind::FirstResponse),
            5
        );
        assert_eq!(
            policies.budget(Channel::Email, Priority::Normal, ClockKind::Resolution),
            4800
        );
        assert_eq!(policies.warn_after(100), 80);
        assert_eq!(policies.complaints.regulator_limit_calendar_days, 90);
        assert_eq!(
            policies.complaints.regulator(Language::Fr),
            "iGaming Ontario"
        );
        for channel in Channel::ALL {
            for priority in Priority::ALL {
                for clock in ClockKind::ALL {
                    assert!(policies.budget(*channel, *priority, *clock) > 0);
                }
            }
        }
    }

    #[test]
    fn every_bad_policy_names_its_place_and_rule() {
        let cases = [
            (
                "\"warn_at_percent\": 80",
                "\"warn_at_percent\": 100",
                "warn_at_percent",
            ),
            ("\"chat\": {", "\"fax\": {", "budgets.fax"),
            (
                "\"urgent\": {\"first_response\": 5,",
                "\"critical\": {\"first_response\": 5,",
                "budgets.chat.critical",
            ),
            (
                "\"first_response\": 5, \"next_response\": 15",
                "\"first_reply\": 5, \"next_response\": 15",
                "budgets.chat.urgent.first_reply",
            ),
            (
                "\"first_response\": 5, \"next_response\": 15",
                "\"first_response\": 0, \"next_response\": 15",
                "budgets.chat.urgent.first_response",
            ),
            (
                "\"first_response\": 5, \"next_response\": 15",
                "\"first_response\": 500, \"next_response\": 15",
                "budgets.chat.urgent",
            ),
            (
                "\"regulator_limit_calendar_days\": 90",
                "\"regulator_limit_calendar_days\": 0",
                "complaints.regulator_limit_calendar_days",
            ),
            (
                "\"notice_before_limit_days\": 10",
                "\"notice_before_limit_days\": 90",
                "complaints.notice_before_limit_days",
            ),
            (
                "\"en\": \"iGaming Ontario\"",
                "\"de\": \"iGaming Ontario\"",
                "complaints.regulator.en",
            ),
        ];
        for (from, to, path) in cases {
            assert!(BUNDLED.contains(from), "{from}");
            let error = Policies::parse(&BUNDLED.replacen(from, to, 1)).expect_err(to);
            let SettingsError::Invalid { path: found, .. } = &error;
            assert_eq!(found, path, "{error}");
        }
        // A budget left out is named too.
        let missing = BUNDLED.replacen(", \"resolution\": 480", "", 1);
        let error = Policies::parse(&missing).expect_err("incomplete");
        let SettingsError::Invalid { path, .. } = &error;
        assert_eq!(path, "budgets.chat.urgent.resolution");
        assert!(Policies::parse("{}").is_err());
    }
}

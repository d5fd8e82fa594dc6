//! The acknowledgement a player reads right after submitting, in the ticket's language.

use jiff::Zoned;

use crate::common::player::Language;
use crate::common::reference::TicketReference;
use crate::tickets::sla::{Promise, ResponseTarget};
use crate::tickets::ticket::Team;

const FR_MONTHS: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];
const FR_DAYS: [&str; 7] = [
    "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche",
];
const EN_MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const EN_DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

pub fn team_name(team: Team, language: Language) -> &'static str {
    match (language, team) {
        (Language::Fr, Team::Technical) => "soutien technique",
        (Language::Fr, Team::Games) => "jeux",
        (Language::Fr, Team::Payments) => "paiements",
        (Language::Fr, Team::Security) => "sécurité des comptes",
        (Language::Fr, Team::Verification) => "vérification d'identité",
        (Language::Fr, Team::Complaints) => "des plaintes",
        (Language::En, Team::Technical) => "technical support",
        (Language::En, Team::Games) => "games",
        (Language::En, Team::Payments) => "payments",
        (Language::En, Team::Security) => "account security",
        (Language::En, Team::Verification) => "identity verification",
        (Language::En, Team::Complaints) => "complaints",
    }
}

/// A local date and time as each language writes it: « le lundi 30 novembre 2026 à 17 h 00 »
/// and "Monday, November 30, 2026 at 5:00 p.m.", both in Eastern time.
pub fn local_due(due: &Zoned, language: Language) -> String {
    let day = due.weekday().to_monday_zero_offset() as usize;
    let month = (due.month() - 1) as usize;
    match language {
        Language::Fr => format!(
            "le {} {} {} {} à {} h {:02} (heure de l'Est)",
            FR_DAYS[day],
            due.day(),
            FR_MONTHS[month],
            due.year(),
            due.hour(),
            due.minute()
        ),
        Language::En => {
            let (hour, half) = match due.hour() {
                0 => (12, "a.m."),
                h @ 1..=11 => (h, "a.m."),
                12 => (12, "p.m."),
                h => (h - 12, "p.m."),
            };
            format!(
                "{}, {} {}, {} at {}:{:02} {} (Eastern time)",
                EN_DAYS[day],
                EN_MONTHS[month],
                due.day(),
                due.year(),
                hour,
                due.minute(),
                half
            )
        }
    }
}

pub fn acknowledgement(
    reference: &TicketReference,
    team: Team,
    target: &ResponseTarget,
    due_local: &Zoned,
    language: Language,
) -> String {
    let team = team_name(team, language);
    let due = local_due(due_local, language);
    match (language, target.within) {
        (Language::Fr, Promise::Minutes(m)) => format!(
            "Merci, nous avons bien reçu votre demande {reference}. Un agent de l'équipe {team} \
             vous répondra par clavardage dans les {m} minutes (pendant les heures d'ouverture), \
             au plus tard {due}. Conservez ce numéro : il vous sera demandé pour tout suivi."
        ),
        (Language::Fr, Promise::BusinessDays(d)) => format!(
            "Merci, nous avons bien reçu votre demande {reference}. L'équipe {team} vous répondra \
             d'ici {d} jour{s} ouvrable{s}, au plus tard {due}. Conservez ce numéro : il vous sera \
             demandé pour tout suivi.",
            s = if d > 1 { "s" } else { "" }
        ),
        (Language::En, Promise::Minutes(m)) => format!(
            "Thank you, we have received your request {reference}. An agent from our {team} team \
             will answer in the chat within {m} minutes (during opening hours), by {due} at the \
             latest. Keep this reference: you will be asked for it in any follow-up."
        ),
        (Language::En, Promise::BusinessDays(d)) => format!(
            "Thank you, we have received your request {reference}. Our {team} team will answer \
             within {d} business day{s}, by {due} at the latest. Keep this reference: you will be \
             asked for it in any follow-up.",
            s = if d > 1 { "s" } else { "" }
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tickets::sla::SupportCalendar;
    use crate::tickets::ticket::{Channel, Priority};

    fn target() -> (ResponseTarget, Zoned, TicketReference) {
        let calendar = SupportCalendar::published().expect("bundled time zone");
        let received = "2026-11-26T15:00:00Z".parse().expect("valid");
        let target = calendar.response_target(Channel::Form, Priority::Normal, received);
        let due = target.due_at.to_zoned(calendar.zone().clone());
        (target, due, TicketReference::from_random([1; 9]))
    }

    #[test]
    fn french_is_written_the_french_way() {
        let (target, due, reference) = target();
        let text = acknowledgement(&reference, Team::Payments, &target, &due, Language::Fr);
        assert!(text.contains(&reference.to_string()), "{text}");
        assert!(text.contains("équipe paiements"), "{text}");
        assert!(text.contains("2 jours ouvrables"), "{text}");
        assert!(
            text.contains("le lundi 30 novembre 2026 à 17 h 00"),
            "{text}"
        );
    }

    #[test]
    fn english_uses_twelve_hour_time() {
        let (target, due, reference) = target();
        let text = acknowledgement(&reference, Team::Security, &target, &due, Language::En);
        assert!(text.contains("account security team"), "{text}");
        assert!(
            text.contains("Monday, November 30, 2026 at 5:00 p.m."),
            "{text}"
        );
        assert!(text.contains("2 business days"), "{text}");
    }
}

//! Property tests of the staff actions' bodies: any body is an action within its rules or a
//! refusal naming a field, never a panic.

use proptest::prelude::*;
use serde_json::{json, Value};

use guichet_core::escalation::rules::is_specialist;
use guichet_core::promises::extension::{ExtensionAsk, MAX_BUSINESS_DAYS};
use guichet_core::tickets::ticket::{Team, TicketStatus};
use guichet_core::tickets::workflow::MessageBody;
use guichet_edge::http::ApiError;
use update_ticket::{parse, Action, Asked};

#[path = "../../../../shared/core/tests/strategies/mod.rs"]
mod strategies;
use strategies::*;

/// An action's name (or any text) and a valid body of it, its vocabulary fields drawn from
/// their whole vocabularies, then edited field by field (or any JSON value).
fn action() -> impl Strategy<Value = (String, Value)> {
    let named = (
        prop::sample::select(
            &[
                "take",
                "replies",
                "notes",
                "status",
                "escalate",
                "extension",
            ][..],
        ),
        prop::sample::select(TicketStatus::NAMES),
        prop::sample::select(Team::NAMES),
    )
        .prop_flat_map(|(name, status, team)| {
            let valid = match name {
                "take" => json!({"version": 3}),
                "replies" | "notes" => {
                    json!({"version": 3, "body": "Bonjour, pouvez-vous réessayer ?"})
                }
                "status" => json!({"version": 3, "status": status, "reason": "player_answered"}),
                "extension" => {
                    json!({"version": 3, "until": "2026-12-15", "reason": "awaiting_provider"})
                }
                _ => json!({
                    "version": 3,
                    "team": team,
                    "reason": "needs_game_logs",
                    "note": "Voir les journaux de 15 h.",
                }),
            };
            (Just(name.to_owned()), body_near(valid))
        });
    prop_oneof![4 => named, 1 => (any_text(), json_value())]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn any_action_body_is_an_action_within_its_rules_or_refused((name, body) in action()) {
        match parse(&name, &body) {
            Ok(Asked { version, action, .. }) => {
                prop_assert!(version >= 1);
                match action {
                    Action::Take => prop_assert_eq!(name.as_str(), "take"),
                    Action::Reply(text) | Action::Note(text) => {
                        prop_assert!(text.as_str().chars().count() <= MessageBody::MAX_CHARS);
                        prop_assert_eq!(text.as_str().trim(), text.as_str());
                    }
                    Action::Status { to, .. } => prop_assert_ne!(to, TicketStatus::Escalated),
                    Action::Escalate(ask) => prop_assert!(is_specialist(ask.to_team)),
                    Action::Extend { ask, .. } => match ask {
                        ExtensionAsk::BusinessDays(n) => prop_assert!((1..=MAX_BUSINESS_DAYS).contains(&n)),
                        ExtensionAsk::Until(_) => prop_assert_eq!(name.as_str(), "extension"),
                    },
                }
            }
            // Only an action that does not exist is "not found"; anything else names a field.
            Err(ApiError::NotFound) => {
                prop_assert!(!["take", "replies", "notes", "status", "escalate", "extension"].contains(&name.as_str()));
            }
            Err(ApiError::Invalid(error)) => prop_assert!(!error.to_string().is_empty()),
            Err(other) => prop_assert!(false, "unexpected {:?}", other),
        }
    }
}

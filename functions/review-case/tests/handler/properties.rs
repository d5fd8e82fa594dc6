//! Property tests of a reviewer's decision body: any body is a decision within its rules or a
//! refusal naming a field, never a panic.

use proptest::prelude::*;
use serde_json::{json, Value};

use guichet_core::verification::rules::{Decision, DocumentKind, ReasonCode};
use review_case::{parse, MAX_INTERNAL_NOTE, MAX_PLAYER_MESSAGE};

#[path = "../../../../shared/core/tests/strategies/mod.rs"]
mod strategies;
use strategies::*;

/// Whether no item comes twice.
fn distinct<T: PartialEq>(items: &[T]) -> bool {
    items
        .iter()
        .enumerate()
        .all(|(i, item)| !items[..i].contains(item))
}

/// A body of each decision, its lists drawn from the vocabularies (repeats and empty lists
/// included), then edited field by field (or any JSON value).
fn decision_body() -> impl Strategy<Value = Value> {
    let reasons = || prop::collection::vec(prop::sample::select(ReasonCode::NAMES), 0..4);
    let documents =
        prop::collection::btree_map(prop::sample::select(DocumentKind::NAMES), reasons(), 0..3);
    (0usize..3, reasons(), documents).prop_flat_map(|(which, reasons, documents)| {
        let mut valid = json!({
            "version": 2,
            "player_message": "Merci, votre dossier est complet.",
            "internal_note": "Vérifié contre le registre.",
        });
        match which {
            0 => valid["decision"] = json!("approve"),
            1 => {
                valid["decision"] = json!("reject");
                valid["reasons"] = json!(reasons);
            }
            _ => {
                valid["decision"] = json!("request_resubmission");
                valid["documents"] = json!(documents);
            }
        }
        body_near(valid)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn any_decision_body_is_a_decision_within_its_rules_or_refused(body in decision_body()) {
        match parse(&body) {
            Ok(request) => {
                prop_assert!(request.version >= 1);
                let bounded = |text: &Option<String>, max: usize| {
                    text.as_ref().is_none_or(|t| (1..=max).contains(&t.chars().count()))
                };
                prop_assert!(bounded(&request.player_message, MAX_PLAYER_MESSAGE));
                prop_assert!(bounded(&request.internal_note, MAX_INTERNAL_NOTE));
                match request.decision {
                    Decision::Approve => {}
                    Decision::Reject { reasons } => {
                        prop_assert!(!reasons.is_empty() && distinct(&reasons));
                    }
                    Decision::RequestResubmission { documents } => {
                        prop_assert!(!documents.is_empty());
                        let kinds: Vec<_> = documents.iter().map(|(kind, _)| *kind).collect();
                        prop_assert!(distinct(&kinds));
                        for (_, reasons) in &documents {
                            prop_assert!(!reasons.is_empty() && distinct(reasons));
                        }
                    }
                }
            }
            Err(error) => prop_assert!(!error.to_string().is_empty()),
        }
    }
}

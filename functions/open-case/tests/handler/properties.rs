//! Property tests of the body that opens a verification case: any body, from anyone, is a
//! request within its rules or a refusal naming a field, never a panic.

use proptest::prelude::*;
use serde_json::json;

use guichet_core::common::player::Author;
use guichet_core::verification::rules::CaseReason;
use open_case::parse;

#[path = "../../../../shared/core/tests/strategies/mod.rs"]
mod strategies;
use strategies::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn any_opening_body_is_a_request_within_its_rules_or_refused(
        body in prop::sample::select(CaseReason::NAMES).prop_flat_map(|reason| {
            body_near(json!({
                "player_id": "player-7f3a9c",
                "reason": reason,
                "documents": ["payment_method_ownership"],
                "language": "en",
            }))
        }),
        staff in any::<bool>(),
    ) {
        let actor = if staff {
            Author::Staff { id: "verif-1".to_owned() }
        } else {
            Author::System
        };
        match parse(&body, &actor) {
            Ok(request) => {
                // Only staff ask for a staff request, and only a staff request names documents.
                prop_assert!(request.reason != CaseReason::StaffRequest || staff);
                prop_assert!(request.extra.is_empty() || request.reason == CaseReason::StaffRequest);
            }
            Err(error) => prop_assert!(!error.to_string().is_empty()),
        }
    }
}

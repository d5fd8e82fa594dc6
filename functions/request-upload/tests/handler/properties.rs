//! Property tests of an upload request's body: any body is a request within the limits or a
//! refusal naming a field, never a panic.

use proptest::prelude::*;
use serde_json::json;

use guichet_core::documents::rules::MAX_DOCUMENT_BYTES;
use request_upload::parse;

#[path = "../../../../shared/core/tests/strategies/mod.rs"]
mod strategies;
use strategies::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn any_upload_body_is_a_request_within_the_limits_or_refused(
        body in body_near(json!({
            "player_id": "player-7f3a9c",
            "kind": "government_id",
            "content_type": "application/pdf",
            "size": 2048,
        })),
    ) {
        match parse(&body) {
            Ok(request) => {
                prop_assert!((1..=MAX_DOCUMENT_BYTES).contains(&request.size));
                prop_assert_eq!(body["size"].as_u64(), Some(request.size));
            }
            Err(error) => prop_assert!(!error.to_string().is_empty()),
        }
    }
}

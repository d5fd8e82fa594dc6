//! Property tests of an attachment request's body: any body is a request within the limits or
//! a refusal naming a field, never a panic.

use proptest::prelude::*;
use serde_json::json;

use add_attachment::parse;
use guichet_core::attachments::rules::MAX_ATTACHMENT_BYTES;

#[path = "../../../../shared/core/tests/strategies/mod.rs"]
mod strategies;
use strategies::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn any_attachment_body_is_a_request_within_the_limits_or_refused(
        body in body_near(json!({"content_type": "image/png", "size": 1024})),
    ) {
        match parse(&body) {
            Ok(request) => {
                prop_assert!((1..=MAX_ATTACHMENT_BYTES).contains(&request.size));
                let declared = body["content_type"].as_str().map(|t| t.trim().to_ascii_lowercase());
                prop_assert_eq!(declared.as_deref(), Some(request.content_type.as_str()));
            }
            Err(error) => prop_assert!(!error.to_string().is_empty()),
        }
    }
}

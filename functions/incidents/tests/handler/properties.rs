//! Property tests of the incident routes' inputs: the link and status bodies and the listing's
//! query. Any of them is an action or a listing within its rules, or a refusal naming a field,
//! never a panic.

use std::collections::HashMap;

use guichet_core::common::paging::PageCursor;
use guichet_core::incidents::ports::IncidentStart;
use guichet_core::incidents::rules::IncidentStatus;
use guichet_core::tickets::ticket::Team;
use lambda_http::{Request, RequestExt};
use proptest::prelude::*;
use serde_json::json;

use guichet_edge::http::ApiError;
use incidents::{parse_link, parse_listing, parse_status, Action, MAX_LIMIT, NOTE_MAX_CHARS};

#[path = "../../../../shared/core/tests/strategies/mod.rs"]
mod strategies;
use strategies::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn any_link_body_names_a_checked_reference_or_is_refused(
        body in reference().prop_flat_map(|r| {
            prop_oneof![
                body_near(json!({"reference": r.to_string()})),
                near(r.to_string()).prop_map(|typed| json!({"reference": typed})),
            ]
        }),
    ) {
        match parse_link(&body) {
            Ok(Action::Link(reference, _)) => {
                let typed = body["reference"].as_str().expect("a string");
                prop_assert_eq!(
                    guichet_core::common::reference::TicketReference::parse(typed),
                    Ok(reference)
                );
            }
            Ok(other) => prop_assert!(false, "a link body read as {:?}", other),
            Err(ApiError::Invalid(error)) => prop_assert!(!error.to_string().is_empty()),
            Err(other) => prop_assert!(false, "unexpected {:?}", other),
        }
    }

    #[test]
    fn any_status_body_is_an_update_within_its_rules_or_refused(
        body in body_near(json!({"version": 4, "status": "monitoring", "note": "Correctif déployé."})),
    ) {
        match parse_status(&body) {
            Ok(Action::Status { version, to, note, .. }) => {
                prop_assert!(version >= 1);
                prop_assert_eq!(body["status"].as_str().and_then(IncidentStatus::parse), Some(to));
                prop_assert!(note.is_none_or(|n| (1..=NOTE_MAX_CHARS).contains(&n.chars().count())));
            }
            Ok(other) => prop_assert!(false, "a status body read as {:?}", other),
            Err(ApiError::Invalid(error)) => prop_assert!(!error.to_string().is_empty()),
            Err(other) => prop_assert!(false, "unexpected {:?}", other),
        }
    }

    #[test]
    fn any_listing_query_is_a_listing_within_its_rules_or_refused(
        team in prop::option::of(prop_oneof![
            prop::sample::select(Team::NAMES).prop_map(str::to_owned),
            any_text(),
        ]),
        limit in prop::option::of(prop_oneof!["[0-9]{1,3}", any_text()]),
        cursor in prop::option::of((millis_instant(), incident_id()).prop_flat_map(|(created_at, id)| {
            let cursor = IncidentStart { created_at, id }.to_cursor();
            prop_oneof![Just(cursor.clone()), near(cursor)]
        })),
        other in prop::option::of((any_text(), any_text())),
    ) {
        let mut query = HashMap::new();
        for (name, value) in [("team", team), ("limit", limit), ("cursor", cursor)] {
            if let Some(value) = value {
                query.insert(name.to_owned(), value);
            }
        }
        if let Some((name, value)) = other {
            query.entry(name).or_insert(value);
        }
        let request = Request::default().with_query_string_parameters(query.clone());
        match parse_listing(&request) {
            Ok(listing) => {
                prop_assert_eq!(query.get("team").and_then(|t| Team::parse(t)), Some(listing.team));
                prop_assert!((1..=MAX_LIMIT).contains(&listing.limit));
                prop_assert_eq!(
                    listing.start,
                    query.get("cursor").and_then(|c| IncidentStart::from_cursor(c))
                );
            }
            Err(error) => prop_assert!(!error.to_string().is_empty()),
        }
    }
}

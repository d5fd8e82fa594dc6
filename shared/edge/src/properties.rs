//! Property tests of the edge's readers of untrusted input: JSON bodies, the groups claim, the
//! query and body fields the handlers share. Whatever arrives, they answer (never panic), and
//! what they accept keeps their promise. A unit-test module, so it can shape requests with
//! `crate::testing` and reach the claim reader's private parts.

use std::collections::HashMap;

use guichet_core::common::access::Role;
use guichet_core::common::contact::ContactAddress;
use guichet_core::common::paging::PageCursor;
use guichet_core::common::player::PlayerId;
use guichet_core::common::validation::{Fields, Rule};
use guichet_core::documents::rules::ContentType;
use guichet_core::incidents::service::IncidentConfig;
use guichet_core::tickets::ports::PageStart;
use guichet_core::tickets::ticket::Team;
use lambda_http::http::{header, HeaderValue};
use lambda_http::{Body, Request, RequestExt};
use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{json, Value};

use crate::config::{
    AttachmentsConfig, Config, FromEnv, KycConfig, QueuesConfig, SenderConfig, SweepConfig,
};
use crate::http::{
    actor_of, json_body, known_params, limit_param, page_params, parse_groups, parse_teams,
    reference_param, unknown_param, ApiError, MAX_BODY_BYTES,
};
use crate::json::{from_slice, StrictJsonError};
use crate::upload;

#[path = "../../core/tests/strategies/mod.rs"]
mod strategies;
use strategies::*;

// ---------------------------------------------------------------------------------------------
// The strict JSON reader

/// Where a value sits: `Some(key)` inside an object under `key`, `None` as an array's first item.
type Wrapper = Option<String>;

/// `inner` wrapped outermost-first, and the dotted path (`[i]` for array items) of a key of
/// `inner`'s object, as the reader's errors name it.
fn wrap(inner: String, wrappers: &[Wrapper], key: &str) -> (String, String) {
    let mut path = String::new();
    for wrapper in wrappers.iter().map(Option::as_deref).chain([Some(key)]) {
        match wrapper {
            Some(key) if path.is_empty() => path.push_str(key),
            Some(key) => path = format!("{path}.{key}"),
            None => path.push_str("[0]"),
        }
    }
    let text = wrappers
        .iter()
        .rev()
        .fold(inner, |text, wrapper| match wrapper {
            Some(key) => format!("{{{}:{text}}}", json!(key)),
            None => format!("[{text}]"),
        });
    (text, path)
}

/// An object's key: anything, often one that looks like a path's own punctuation.
fn json_key() -> impl Strategy<Value = String> {
    prop_oneof![any_text(), "\\[[0-9]\\]", "[a-z.\\[\\]]{0,4}"]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn the_strict_reader_reads_what_serde_json_reads_or_refuses(
        bytes in prop::collection::vec(any::<u8>(), 0..48),
        text in any_text(),
        near_json in json_value().prop_flat_map(|v| near(v.to_string())),
    ) {
        for body in [bytes, text.into_bytes(), near_json.into_bytes()] {
            let strict = from_slice(&body);
            match serde_json::from_slice::<Value>(&body) {
                // A duplicate key is refused; anything else is read exactly as serde_json reads it.
                Ok(value) => prop_assert!(
                    strict == Ok(value) || matches!(strict, Err(StrictJsonError::DuplicateKey(_)))
                ),
                Err(_) => prop_assert!(strict.is_err()),
            }
        }
    }

    #[test]
    fn a_body_without_duplicate_keys_reads_as_serde_json_reads_it(
        value in json_value(),
        pretty in any::<bool>(),
    ) {
        // Generated objects are maps: no key twice, at any depth.
        let text = if pretty {
            serde_json::to_string_pretty(&value).expect("serialises")
        } else {
            value.to_string()
        };
        let expected: Value = serde_json::from_str(&text).expect("serde_json reads its own output");
        prop_assert_eq!(from_slice(text.as_bytes()), Ok(expected));
    }

    #[test]
    fn a_key_given_twice_is_refused_and_named_wherever_it_is(
        object in prop::collection::btree_map(any_text(), json_value(), 0..4),
        key in json_key(),
        (first, second) in (json_value(), json_value()),
        wrappers in prop::collection::vec(prop::option::of(json_key()), 0..3),
    ) {
        let mut entries: Vec<String> = object
            .iter()
            .filter(|(k, _)| **k != key)
            .map(|(k, v)| format!("{}:{v}", json!(k)))
            .collect();
        entries.push(format!("{}:{first}", json!(key)));
        entries.push(format!("{}:{second}", json!(key)));
        let (text, path) = wrap(format!("{{{}}}", entries.join(",")), &wrappers, &key);
        prop_assert_eq!(from_slice(text.as_bytes()), Err(StrictJsonError::DuplicateKey(path)));
    }
}

// ---------------------------------------------------------------------------------------------
// The groups claim

/// Group names a claim may carry: every role and team the desk knows, and a few it does not.
const GROUPS: &[&str] = &[
    "player",
    "agent",
    "supervisor",
    "verification",
    "verification_senior",
    "service",
    "team:technical",
    "team:games",
    "team:payments",
    "team:security",
    "team:verification",
    "team:nobody",
    "admin",
    "Agent",
];

/// The claim as API Gateway's authorizer renders an array: `[a b c]`.
fn rendered(names: &[&str]) -> String {
    format!("[{}]", names.join(" "))
}

/// The items that are not a repeat of an earlier one, in order.
fn without_repeats<T: PartialEq + Copy>(items: Vec<T>) -> Vec<T> {
    let first = |item: &T| items.iter().position(|i| i == item);
    (0..items.len())
        .filter(|&at| first(&items[at]) == Some(at))
        .map(|at| items[at])
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn the_rendered_claim_grants_its_known_roles_and_teams_once_each(
        names in prop::collection::vec(prop::sample::select(GROUPS), 0..6),
    ) {
        let raw = rendered(&names);
        let roles = without_repeats(names.iter().filter_map(|n| Role::parse(n)).collect());
        prop_assert_eq!(parse_groups(&raw), roles);
        let teams = without_repeats(
            names
                .iter()
                .filter_map(|n| n.strip_prefix("team:"))
                .filter_map(Team::parse)
                .collect(),
        );
        prop_assert_eq!(parse_teams(&raw), teams);
    }

    #[test]
    fn a_claim_the_authorizer_would_not_render_grants_nothing(
        names in prop::collection::vec(prop::sample::select(GROUPS), 1..5),
        at in any::<Index>(),
        spoiler in prop::sample::select(&[" ", "\t", "[", "]", "\u{00A0}", "\n", "\u{2003}"][..]),
        outside in any::<bool>(),
    ) {
        let raw = rendered(&names);
        // A character that breaks the rendering: inside the brackets anywhere (a space only
        // where it doubles a separator or pads an end), or outside them.
        let spoilt = if outside {
            if at.index(2) == 0 { format!("{spoiler}{raw}") } else { format!("{raw}{spoiler}") }
        } else {
            let inner = &raw[1..raw.len() - 1];
            let cuts: Vec<usize> = if spoiler == " " {
                // Both ends, and beside each separator.
                std::iter::once(0)
                    .chain(inner.match_indices(' ').map(|(i, _)| i))
                    .chain(std::iter::once(inner.len()))
                    .collect()
            } else {
                inner.char_indices().map(|(i, _)| i).chain(std::iter::once(inner.len())).collect()
            };
            let cut = cuts[at.index(cuts.len())];
            format!("[{}{spoiler}{}]", &inner[..cut], &inner[cut..])
        };
        prop_assert_eq!(parse_groups(&spoilt), Vec::<Role>::new(), "{:?}", spoilt);
        prop_assert_eq!(parse_teams(&spoilt), Vec::<Team>::new(), "{:?}", spoilt);
    }

    #[test]
    fn any_claim_that_grants_something_is_a_clean_rendering(
        raw in prop_oneof![
            any_text(),
            prop::collection::vec(prop::sample::select(GROUPS), 0..4)
                .prop_flat_map(|names| near(rendered(&names))),
        ],
    ) {
        let granted = !parse_groups(&raw).is_empty() || !parse_teams(&raw).is_empty();
        if granted {
            let inner = raw
                .strip_prefix('[')
                .and_then(|r| r.strip_suffix(']'))
                .expect("in brackets");
            prop_assert!(inner.split(' ').all(|name| {
                !name.is_empty()
                    && !name.chars().any(|c| c.is_whitespace() || c.is_control() || "[]".contains(c))
            }), "{:?}", raw);
        }
    }

    #[test]
    fn the_actor_is_read_from_any_claims_or_refused(
        sub in prop_oneof![any_text(), "[a-z0-9-]{1,12}".prop_flat_map(near)],
        groups in prop_oneof![
            any_text(),
            prop::collection::vec(prop::sample::select(GROUPS), 0..4)
                .prop_flat_map(|names| near(rendered(&names))),
        ],
        email in prop::option::of(prop_oneof![
            any_text(),
            "[a-z.]{1,8}@[a-z]{1,8}\\.ca".prop_flat_map(near),
        ]),
    ) {
        let mut event = crate::testing::event_json("get-ticket.json", &[]);
        crate::testing::set_groups(&mut event, &groups);
        let claims = &mut event["requestContext"]["authorizer"]["jwt"]["claims"];
        claims["sub"] = sub.clone().into();
        match &email {
            Some(email) => claims["email"] = email.clone().into(),
            None => {
                claims.as_object_mut().expect("claims").remove("email");
            }
        }
        let request = crate::testing::request_of(&event);
        match actor_of(&request) {
            Ok(actor) => {
                prop_assert_eq!(Some(actor.subject), PlayerId::parse(&sub));
                prop_assert_eq!(actor.roles, parse_groups(&groups));
                prop_assert_eq!(actor.teams, parse_teams(&groups));
                let address = email.as_deref().and_then(ContactAddress::parse);
                prop_assert_eq!(
                    actor.email.as_ref().map(ContactAddress::expose),
                    address.as_ref().map(ContactAddress::expose)
                );
            }
            Err(error) => {
                prop_assert!(matches!(error, ApiError::Unauthenticated));
                prop_assert!(PlayerId::parse(&sub).is_none());
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Query parameters, bodies and upload fields

fn page_cursor() -> impl Strategy<Value = String> {
    (millis_instant(), reference()).prop_flat_map(|(created_at, reference)| {
        let cursor = PageStart {
            created_at,
            reference,
        }
        .to_cursor();
        prop_oneof![Just(cursor.clone()), near(cursor), any_text()]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn a_limit_is_a_whole_number_in_range_or_refused(
        raw in prop_oneof![any_text(), "[+-]?[0-9]{1,6}", (0u32..70_000).prop_map(|n| n.to_string())],
        max in 1u16..=200,
    ) {
        match limit_param(&raw, max) {
            Ok(limit) => {
                prop_assert!((1..=max).contains(&limit));
                prop_assert_eq!(raw.parse::<u16>(), Ok(limit));
            }
            Err(error) => {
                prop_assert_eq!(error.field.as_str(), "limit");
                prop_assert!(raw.parse::<u16>().map_or(true, |l| !(1..=max).contains(&l)));
            }
        }
    }

    #[test]
    fn a_listing_query_reads_its_limit_and_cursor_and_refuses_the_rest(
        limit in prop::option::of(prop_oneof!["[0-9]{1,3}", any_text()]),
        cursor in prop::option::of(page_cursor()),
        other in prop::option::of((any_text(), any_text())),
    ) {
        let mut query = HashMap::new();
        if let Some(limit) = &limit {
            query.insert("limit".to_owned(), limit.clone());
        }
        if let Some(cursor) = &cursor {
            query.insert("cursor".to_owned(), cursor.clone());
        }
        if let Some((name, value)) = &other {
            query.entry(name.clone()).or_insert_with(|| value.clone());
        }
        let unknown = query.keys().any(|k| k != "limit" && k != "cursor");
        let sent_cursor = query.get("cursor").cloned();
        let request = Request::default().with_query_string_parameters(query);
        match page_params::<PageStart>(&request, (20, 50), unknown_param) {
            Ok((read_limit, start)) => {
                prop_assert!(!unknown);
                prop_assert!((1..=50).contains(&read_limit));
                prop_assert_eq!(start, sent_cursor.as_deref().and_then(PageStart::from_cursor));
            }
            Err(error) => {
                let named = matches!(error.rule, Rule::UnknownField | Rule::Range { .. } | Rule::Opaque);
                prop_assert!(named, "{:?}", error);
            }
        }
    }

    #[test]
    fn a_body_is_json_within_limits_or_a_named_refusal(
        content_type in prop::option::of(prop_oneof![
            Just("application/json".to_owned()),
            Just("Application/JSON ; charset=utf-8".to_owned()),
            any_text(),
        ]),
        body in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..48),
            json_value().prop_map(|v| v.to_string().into_bytes()),
            json_value().prop_flat_map(|v| near(v.to_string())).prop_map(String::into_bytes),
            // Around the size limit.
            (0usize..3).prop_map(|extra| vec![b' '; MAX_BODY_BYTES - 1 + extra]),
        ],
    ) {
        let mut request = Request::new(Body::Binary(body.clone()));
        let declared = content_type
            .as_deref()
            .and_then(|c| HeaderValue::from_str(c).ok());
        let is_json = declared.as_ref().is_some_and(|value| {
            value.to_str().is_ok_and(|v| {
                v.split(';').next().unwrap_or("").trim().eq_ignore_ascii_case("application/json")
            })
        });
        if let Some(value) = declared {
            request.headers_mut().insert(header::CONTENT_TYPE, value);
        }
        match json_body(&request) {
            Ok(value) => {
                prop_assert!(is_json && body.len() <= MAX_BODY_BYTES);
                prop_assert_eq!(Ok(value), from_slice(&body));
            }
            Err(ApiError::UnsupportedMediaType) => prop_assert!(!is_json),
            Err(ApiError::PayloadTooLarge) => prop_assert!(body.len() > MAX_BODY_BYTES),
            Err(ApiError::Invalid(error)) => {
                prop_assert!(is_json && body.len() <= MAX_BODY_BYTES);
                prop_assert!(from_slice(&body).is_err() || body.iter().all(u8::is_ascii_whitespace));
                let named = matches!(error.rule, Rule::Required | Rule::Type { .. } | Rule::DuplicateKey);
                prop_assert!(named, "{:?}", error);
            }
            Err(other) => prop_assert!(false, "unexpected {:?}", other),
        }
    }

    #[test]
    fn an_upload_size_is_a_whole_number_of_bytes_up_to_the_limit(
        value in prop::option::of(prop_oneof![
            json_value(),
            any::<u64>().prop_map(Value::from),
            (0u64..2048).prop_map(Value::from),
        ]),
        max in 1u64..=1024,
    ) {
        if let Ok(size) = upload::size(value.as_ref(), max) {
            prop_assert!((1..=max).contains(&size));
            prop_assert_eq!(value.as_ref().and_then(Value::as_u64), Some(size));
        }
    }

    #[test]
    fn an_upload_content_type_is_an_accepted_type_in_any_case(
        accepted in prop::sample::select(ContentType::ALL),
        upper in any::<bool>(),
        padding in "[ \\t]{0,2}",
        value in prop_oneof![json_value(), any_text().prop_map(Value::String)],
    ) {
        let name = accepted.as_str();
        let typed = format!("{padding}{}{padding}", if upper { name.to_ascii_uppercase() } else { name.to_owned() });
        let object = json!({ "content_type": typed });
        let fields = Fields::new("", object.as_object().expect("an object"), &["content_type"])
            .expect("a known field");
        prop_assert_eq!(upload::content_type(&fields), Ok(accepted));

        let object = json!({ "content_type": value });
        let fields = Fields::new("", object.as_object().expect("an object"), &["content_type"])
            .expect("a known field");
        if let Ok(content_type) = upload::content_type(&fields) {
            let raw = value.as_str().expect("only a string is a type");
            prop_assert_eq!(raw.trim().to_ascii_lowercase(), content_type.as_str());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn only_the_known_query_parameters_pass_and_the_first_unknown_is_named(
        names in prop::collection::vec(
            prop_oneof![prop::sample::select(&["queue", "limit", "action"][..]).prop_map(str::to_owned), any_text()],
            0..4,
        ),
    ) {
        let known = ["queue", "limit"];
        let query: HashMap<String, String> = names.iter().map(|n| (n.clone(), "1".to_owned())).collect();
        let request = Request::default().with_query_string_parameters(query);
        // Whatever order the client wrote them in, the same one is named: the least.
        let first_unknown = names.iter().filter(|n| !known.contains(&n.as_str())).min();
        match known_params(&request, &known) {
            Ok(()) => prop_assert_eq!(first_unknown, None),
            Err(error) => {
                prop_assert_eq!(Some(&error.field), first_unknown);
                prop_assert_eq!(error.rule, Rule::UnknownField);
            }
        }
    }

    #[test]
    fn the_reference_in_a_path_is_a_checked_reference_or_refused(
        raw in prop_oneof![any_text(), reference().prop_flat_map(|r| near(r.to_string()))],
    ) {
        let captured = HashMap::from([("reference".to_owned(), raw.clone())]);
        let request = Request::default().with_path_parameters(captured);
        match reference_param(&request) {
            Ok(reference) => prop_assert_eq!(
                guichet_core::common::reference::TicketReference::parse(&raw),
                Ok(reference)
            ),
            Err(error) => prop_assert_eq!(error.field.as_str(), "reference"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Configuration: read once at init from the deployment's environment

/// Every variable the configurations read.
const VARIABLES: &[&str] = &[
    "TICKETS_TABLE",
    "IDEMPOTENCY_KEY_TTL_HOURS",
    "ESCALATIONS_QUEUE_URL",
    "NOTIFICATIONS_QUEUE_URL",
    "INCIDENT_UPDATES_QUEUE_URL",
    "TEAM_ALERTS_QUEUE_URL",
    "TECHNICAL_ESCALATIONS_QUEUE_URL",
    "GAMES_ESCALATIONS_QUEUE_URL",
    "PAYMENTS_ESCALATIONS_QUEUE_URL",
    "SECURITY_ESCALATIONS_QUEUE_URL",
    "NOTIFICATION_SENDER",
    "DOCUMENTS_BUCKET",
    "MAX_RESUBMISSIONS",
    "INCIDENT_THRESHOLD",
    "INCIDENT_WINDOW_MINUTES",
    "SWEEP_LOOKBACK_HOURS",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn any_environment_is_a_configuration_within_its_ranges_or_names_a_variable(
        values in prop::collection::vec(
            prop::option::weighted(0.9, prop_oneof![
                any_text(),
                " ?[+-]?[0-9]{1,5} ?",
                "[a-z]{1,8}@[a-z]{1,8}\\.ca",
            ]),
            VARIABLES.len(),
        ),
    ) {
        let environment: HashMap<&str, String> = VARIABLES
            .iter()
            .zip(values)
            .filter_map(|(name, value)| value.map(|v| (*name, v)))
            .collect();
        let lookup = |name: &str| environment.get(name).cloned();
        if let Ok(config) = Config::from_lookup(lookup) {
            let hours = config.idempotency_ttl.as_hours();
            prop_assert!((1..=168).contains(&hours));
            prop_assert!(!config.tickets_table.trim().is_empty());
        }
        if let Ok(config) = KycConfig::from_lookup(lookup) {
            prop_assert!((1..=5).contains(&config.max_resubmissions));
        }
        if let Ok(config) = IncidentConfig::from_lookup(lookup) {
            prop_assert!((2..=100).contains(&config.threshold));
            prop_assert!((5..=1440).contains(&config.window.as_mins()));
        }
        if let Ok(config) = SweepConfig::from_lookup(lookup) {
            prop_assert!((1..=168).contains(&config.lookback_hours));
        }
        if let Ok(config) = SenderConfig::from_lookup(lookup) {
            prop_assert!(ContactAddress::parse(&config.sender).is_some());
        }
        let _ = (QueuesConfig::from_lookup(lookup), AttachmentsConfig::from_lookup(lookup));
    }
}

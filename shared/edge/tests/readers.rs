//! The request readers the handlers share: path and query parameters, upload fields. Each
//! error names the field and the rule a client sees in the `400` body.

use std::collections::HashMap;

use guichet_core::common::paging::PageCursor;
use guichet_core::common::validation::{Fields, Rule, ValidationError};
use guichet_core::documents::rules::ContentType;
use guichet_edge::http::{known_params, page_params, path_param, unknown_param};
use guichet_edge::upload;
use lambda_http::{Request, RequestExt};
use serde_json::json;

fn with_query(params: &[(&str, &str)]) -> Request {
    let query: HashMap<String, String> = params
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    Request::default().with_query_string_parameters(query)
}

/// A page start of one part, a number, as the listings' starts are of a few.
#[derive(Debug, PartialEq, Eq)]
struct Start(u32);

impl PageCursor for Start {
    const PARTS: usize = 1;

    fn parts(&self) -> Vec<String> {
        vec![self.0.to_string()]
    }

    fn from_parts(parts: &[&str]) -> Option<Self> {
        parts[0].parse().ok().map(Start)
    }
}

fn page(params: &[(&str, &str)]) -> Result<(u16, Option<Start>), ValidationError> {
    page_params(&with_query(params), (20, 50), unknown_param)
}

#[test]
fn a_path_parameter_is_the_routes_or_absent() {
    let mut captured = HashMap::new();
    captured.insert("team".to_owned(), "games".to_owned());
    let request = Request::default().with_path_parameters(captured);
    assert_eq!(path_param(&request, "team"), Some("games"));
    assert_eq!(path_param(&request, "reference"), None);
    assert_eq!(path_param(&Request::default(), "team"), None);
}

#[test]
fn a_page_reads_limit_and_cursor_and_refuses_anything_else() {
    assert_eq!(page(&[]), Ok((20, None)));
    assert_eq!(
        page(&[("limit", "50"), ("cursor", &Start(7).to_cursor())]),
        Ok((50, Some(Start(7))))
    );
    let range = Rule::Range { min: 1, max: 50 };
    assert_eq!(
        page(&[("limit", "0")]),
        Err(ValidationError::new("limit", range.clone()))
    );
    assert_eq!(
        page(&[("limit", "51")]),
        Err(ValidationError::new("limit", range))
    );
    assert_eq!(
        page(&[("cursor", "x")]),
        Err(ValidationError::new("cursor", Rule::Opaque))
    );
    assert_eq!(
        page(&[("sort", "asc")]),
        Err(ValidationError::new("sort", Rule::UnknownField))
    );
}

#[test]
fn a_listing_reads_its_own_parameters_in_the_callback() {
    let mut team = None;
    let read = page_params::<Start>(
        &with_query(&[("team", "games"), ("limit", "5")]),
        (20, 50),
        |name, value| match name {
            "team" => {
                team = Some(value.to_owned());
                Ok(())
            }
            _ => unknown_param(name, value),
        },
    );
    assert_eq!(read, Ok((5, None)));
    assert_eq!(team.as_deref(), Some("games"));
}

#[test]
fn unknown_query_parameters_are_refused_first_in_sorted_order() {
    let known = ["action"];
    assert_eq!(
        known_params(&with_query(&[("action", "withdrawal")]), &known),
        Ok(())
    );
    assert_eq!(known_params(&Request::default(), &known), Ok(()));
    assert_eq!(
        known_params(
            &with_query(&[("zeta", "1"), ("alpha", "2"), ("action", "x")]),
            &known
        ),
        Err(ValidationError::new("alpha", Rule::UnknownField))
    );
}

#[test]
fn an_upload_declares_an_accepted_type_and_a_size_within_the_limit() {
    let body = json!({"content_type": " Application/PDF ", "size": 10});
    let object = body.as_object().expect("an object");
    let fields = Fields::new("", object, &["content_type", "size"]).expect("known fields");
    assert_eq!(upload::content_type(&fields), Ok(ContentType::Pdf));
    assert_eq!(upload::size(object.get("size"), 10), Ok(10));

    let empty = json!({});
    let fields = Fields::new("", empty.as_object().expect("an object"), &["content_type"])
        .expect("known fields");
    assert_eq!(
        upload::content_type(&fields),
        Err(ValidationError::new("content_type", Rule::Required))
    );
    let size = |value: serde_json::Value| upload::size(Some(&value), 10);
    let range = ValidationError::new("size", Rule::Range { min: 1, max: 10 });
    assert_eq!(size(json!(0)), Err(range.clone()));
    assert_eq!(size(json!(11)), Err(range.clone()));
    assert_eq!(size(json!(-1)), Err(range));
    assert_eq!(
        size(json!("10")),
        Err(ValidationError::new(
            "size",
            Rule::Type {
                expected: "a whole number of bytes"
            }
        ))
    );
    assert_eq!(
        upload::size(None, 10),
        Err(ValidationError::new("size", Rule::Required))
    );
    assert_eq!(
        size(json!(null)),
        Err(ValidationError::new("size", Rule::Required))
    );
}

//! `GET /support/hours` (public: no token): what the support page publishes about the desk's
//! hours (`guichet_core::calendar::published`), in French or English.
//!
//! - without `year`: each channel's hours this week from today, whether it is open now and
//!   when that changes, and the holidays of the next 90 days with each channel's hours;
//! - `?year=YYYY` (2000 to 2100): that year's holidays, the day each falls on and the day it
//!   is kept, with each channel's hours, so an operator can check the calendar years ahead.
//!
//! The language is `?lang=fr|en`, else the `Accept-Language` header's first of the two, else
//! French.

use guichet_core::calendar::hours::DeskHours;
use guichet_core::calendar::published::{SupportHours, YearHolidays, YEARS};
use guichet_core::common::clock::Clock;
use guichet_core::common::player::Language;
use guichet_core::common::validation::{Rule, ValidationError};
use guichet_edge::http::{json_response, known_params, ApiError};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, RequestExt, Response};
use tracing::info_span;

pub async fn handle(hours: &DeskHours, clock: &dyn Clock, request: Request) -> Response<Body> {
    guichet_edge::http::respond(
        &request,
        |id| info_span!("support_hours", request_id = %id),
        async { published(hours, clock, &request) },
    )
    .await
}

/// The one value of query parameter `name`, if given; given twice is a `400` naming it (two
/// readers could take either).
fn single<'a>(request: &'a Request, name: &str) -> Result<Option<&'a str>, ValidationError> {
    let Some(query) = request.query_string_parameters_ref() else {
        return Ok(None);
    };
    match query.all(name).as_deref() {
        None => Ok(None),
        Some([one]) => Ok(Some(one)),
        Some(_) => Err(ValidationError::new(name, Rule::DuplicateKey)),
    }
}

/// `lang`, else `Accept-Language`, else French.
pub fn language(request: &Request) -> Result<Language, ValidationError> {
    match single(request, "lang")? {
        Some(raw) => Language::parse(raw).ok_or_else(|| {
            ValidationError::new(
                "lang",
                Rule::OneOf {
                    allowed: Language::NAMES,
                },
            )
        }),
        None => {
            let header = request
                .headers()
                .get("accept-language")
                .and_then(|v| v.to_str().ok());
            Ok(Language::from_accept_language(header))
        }
    }
}

fn year_out_of_range() -> ValidationError {
    ValidationError::new(
        "year",
        Rule::Range {
            min: i64::from(*YEARS.start()),
            max: i64::from(*YEARS.end()),
        },
    )
}

/// `year`: a whole number from 2000 to 2100.
pub fn year(request: &Request) -> Result<Option<i16>, ValidationError> {
    let Some(raw) = single(request, "year")? else {
        return Ok(None);
    };
    raw.parse::<i16>()
        .ok()
        .filter(|y| YEARS.contains(y))
        .map(Some)
        .ok_or_else(year_out_of_range)
}

fn published(
    hours: &DeskHours,
    clock: &dyn Clock,
    request: &Request,
) -> Result<Response<Body>, ApiError> {
    known_params(request, &["lang", "year"])?;
    let language = language(request)?;
    Ok(match year(request)? {
        Some(year) => {
            let holidays = YearHolidays::of(hours, year, language).ok_or_else(year_out_of_range)?;
            json_response(StatusCode::OK, &holidays)
        }
        None => json_response(
            StatusCode::OK,
            &SupportHours::at(hours, clock.now(), language),
        ),
    })
}

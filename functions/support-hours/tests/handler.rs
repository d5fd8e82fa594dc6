//! The handler fed with its sample event (`events/support-hours.json`), on the bundled hours.

use guichet_core::calendar::hours::DeskHours;
use guichet_core::tickets::memory::FixedClock;
use guichet_edge::testing::{body_json, event, with_query};
use lambda_http::http::StatusCode;

/// Tuesday 30 June 2026, 21:30 in Montréal: the eve of Canada Day.
const EVE_OF_CANADA_DAY: &str = "2026-07-01T01:30:00Z";

async fn call(params: &[(&str, &str)]) -> (StatusCode, serde_json::Value) {
    let hours = DeskHours::bundled().expect("the bundled hours are valid");
    let clock = FixedClock::at(EVE_OF_CANADA_DAY);
    let request = with_query(event("support-hours.json"), params);
    let response = support_hours::handle(&hours, &clock, request).await;
    (response.status(), body_json(&response))
}

#[tokio::test]
async fn the_week_and_the_coming_holidays_in_the_asked_language() {
    let (status, body) = call(&[("lang", "en")]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["language"], "en");
    assert_eq!(body["time_zone"], "America/Toronto");
    let chat = &body["channels"][0];
    assert_eq!(chat["channel"], "chat");
    assert_eq!(chat["name"], "Live chat");
    assert_eq!(chat["open_now"], true);
    assert_eq!(chat["next_change"], "2026-07-01T04:00:00Z");
    assert_eq!(chat["days"][1]["holiday"]["name"], "Canada Day");
    assert_eq!(
        chat["days"][1]["hours"],
        serde_json::json!([{"open": "10:00", "close": "18:00"}])
    );
    let email = &body["channels"][1];
    assert_eq!(email["open_now"], false);
    assert_eq!(email["days"][1]["hours"], serde_json::json!([]));
    assert_eq!(body["coming_holidays"][0]["code"], "canada_day");
}

#[tokio::test]
async fn french_unless_asked_otherwise() {
    // The sample's Accept-Language prefers French; `lang` wins over it.
    let (_, body) = call(&[]).await;
    assert_eq!(body["language"], "fr");
    assert_eq!(body["channels"][0]["name"], "Clavardage en direct");
    assert_eq!(
        body["channels"][0]["days"][1]["holiday"]["name"],
        "Fête du Canada"
    );
}

#[tokio::test]
async fn a_year_lists_its_holidays_years_ahead() {
    let (status, body) = call(&[("year", "2032"), ("lang", "fr")]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["year"], 2032);
    let holidays = body["holidays"].as_array().expect("holidays");
    assert!(holidays.len() >= 10, "{body}");
    let good_friday = holidays
        .iter()
        .find(|h| h["code"] == "good_friday")
        .expect("Good Friday");
    // Easter 2032 is 28 March.
    assert_eq!(good_friday["date"], "2032-03-26");
    assert_eq!(good_friday["name"], "Vendredi saint");
}

#[tokio::test]
async fn every_bad_parameter_is_named() {
    for (params, field, rule) in [
        (&[("year", "1999")][..], "year", "range"),
        (&[("year", "twenty")][..], "year", "range"),
        (&[("lang", "de")][..], "lang", "one_of"),
        (&[("week", "2")][..], "week", "unknown_field"),
    ] {
        let (status, body) = call(params).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{params:?}: {body}");
        assert_eq!(body["field"], field, "{body}");
        assert_eq!(body["rule"], rule, "{body}");
    }
}

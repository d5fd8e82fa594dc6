//! The one set of item helpers every DynamoDB adapter builds and reads its items with: attribute
//! constructors, the sortable time key, and readers that name the attribute a damaged item lacks.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use jiff::Timestamp;

use guichet_core::common::store::StoreError;

pub(crate) use crate::backend;

/// A DynamoDB item, as the SDK reads and writes it.
pub(crate) type Item = HashMap<String, AttributeValue>;

/// A string attribute (`S`).
pub(crate) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

/// A number attribute (`N`).
pub(crate) fn n(value: impl Into<u64>) -> AttributeValue {
    AttributeValue::N(value.into().to_string())
}

/// Epoch milliseconds, zero-padded so that string order is time order (sort keys).
pub(crate) fn ms(at: Timestamp) -> String {
    format!("{:015}", at.as_millisecond().max(0))
}

/// An item's primary key.
pub(crate) fn key(pk: impl Into<String>, sk: impl Into<String>) -> Item {
    Item::from([("pk".to_owned(), s(pk)), ("sk".to_owned(), s(sk))])
}

/// A string attribute the item must have.
pub(crate) fn get_s<'a>(item: &'a Item, attribute: &'static str) -> Result<&'a str, StoreError> {
    match item.get(attribute) {
        Some(AttributeValue::S(value)) => Ok(value),
        _ => Err(StoreError::Corrupt { attribute }),
    }
}

/// A string attribute the item may have.
pub(crate) fn opt_s(item: &Item, attribute: &'static str) -> Option<String> {
    match item.get(attribute) {
        Some(AttributeValue::S(value)) => Some(value.clone()),
        _ => None,
    }
}

/// A string attribute read by a domain parser; a refusal names the attribute.
pub(crate) fn parse_with<T>(
    item: &Item,
    attribute: &'static str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<T, StoreError> {
    parse(get_s(item, attribute)?).ok_or(StoreError::Corrupt { attribute })
}

/// A timestamp stored as RFC 3339 text (`S`).
pub(crate) fn timestamp(item: &Item, attribute: &'static str) -> Result<Timestamp, StoreError> {
    parse_with(item, attribute, |v| v.parse().ok())
}

/// A whole number attribute (`N`), such as an item's version.
pub(crate) fn number(item: &Item, attribute: &'static str) -> Result<u64, StoreError> {
    match item.get(attribute) {
        Some(AttributeValue::N(n)) => n.parse().map_err(|_| StoreError::Corrupt { attribute }),
        _ => Err(StoreError::Corrupt { attribute }),
    }
}

/// Items written out attribute by attribute, for the tests that pin what each adapter stores:
/// deployed tables and their indexes depend on every name, type and key format.
#[cfg(test)]
pub(crate) mod expect {
    use super::Item;
    use aws_sdk_dynamodb::types::AttributeValue;

    pub(crate) fn item<const N: usize>(attributes: [(&str, AttributeValue); N]) -> Item {
        attributes
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value))
            .collect()
    }

    pub(crate) fn text(value: &str) -> AttributeValue {
        AttributeValue::S(value.to_owned())
    }

    pub(crate) fn num(value: &str) -> AttributeValue {
        AttributeValue::N(value.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().expect("valid")
    }

    #[test]
    fn time_keys_sort_as_time_does() {
        let early = ms(at("2001-09-09T01:46:39.999Z"));
        let late = ms(at("2001-09-09T01:46:40Z"));
        assert_eq!(early, "000999999999999");
        assert_eq!(late, "001000000000000");
        assert!(early < late);
        // Before the epoch clamps to zero rather than sorting after everything.
        assert_eq!(ms(at("1969-12-31T23:59:59Z")), "000000000000000");
    }

    #[test]
    fn readers_return_what_is_there() {
        let mut item = key("TICKET#A", "TICKET");
        item.insert("version".into(), n(7_u64));
        item.insert("at".into(), s("2026-11-26T15:00:00Z"));
        assert_eq!(item["pk"], AttributeValue::S("TICKET#A".into()));
        assert_eq!(get_s(&item, "sk").expect("present"), "TICKET");
        assert_eq!(opt_s(&item, "pk").as_deref(), Some("TICKET#A"));
        assert_eq!(opt_s(&item, "assignee"), None);
        assert_eq!(number(&item, "version").expect("number"), 7);
        assert_eq!(
            timestamp(&item, "at").expect("time"),
            at("2026-11-26T15:00:00Z")
        );
        assert_eq!(
            parse_with(&item, "sk", |v| v.strip_prefix("TIC").map(str::to_owned)).expect("parsed"),
            "KET"
        );
    }

    #[test]
    fn a_missing_or_mistyped_attribute_is_named() {
        let mut item = key("TICKET#A", "TICKET");
        item.insert("version".into(), s("7"));
        item.insert("at".into(), s("yesterday"));
        let named = |result: Result<_, StoreError>| match result {
            Err(StoreError::Corrupt { attribute }) => attribute,
            _ => "no error",
        };
        assert_eq!(named(get_s(&item, "subject").map(|_| ())), "subject");
        // A number stored as text, and text that is not a number.
        assert_eq!(named(number(&item, "version").map(|_| ())), "version");
        item.insert("version".into(), AttributeValue::N("seven".into()));
        assert_eq!(named(number(&item, "version").map(|_| ())), "version");
        assert_eq!(named(get_s(&item, "version").map(|_| ())), "version");
        assert_eq!(named(timestamp(&item, "at").map(|_| ())), "at");
        assert_eq!(named(parse_with(&item, "sk", |_| None::<()>)), "sk");
    }
}

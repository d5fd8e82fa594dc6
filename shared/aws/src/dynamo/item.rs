//! The one set of item helpers every DynamoDB adapter builds and reads its items with: records
//! written and read as items (through serde_dynamo), refusing a damaged item by the attribute
//! it lacks; attribute constructors for keys and expressions; and the sortable time key.

use std::collections::HashMap;
use std::fmt;

use aws_sdk_dynamodb::types::AttributeValue;
use jiff::Timestamp;
use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use guichet_core::common::reference::TicketReference;
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

/// A string attribute the item must have (the sort key an item collection is sorted by).
pub(crate) fn get_s<'a>(item: &'a Item, attribute: &'static str) -> Result<&'a str, StoreError> {
    match item.get(attribute) {
        Some(AttributeValue::S(value)) => Ok(value),
        _ => Err(StoreError::Corrupt { attribute }),
    }
}

/// A record written as its item, one attribute per field.
pub(crate) fn to_item(record: &impl Serialize) -> Result<Item, StoreError> {
    serde_dynamo::aws_sdk_dynamodb_1::to_item(record).map_err(backend)
}

/// An item read as its record. Each attribute is read by serde_dynamo, but one at a time: its
/// errors do not say which attribute was wrong, and a damaged item must be refused by the name
/// of the attribute that is missing, of the wrong type or not valid for its domain type. The
/// attributes the record does not name (the keys, `type`) are not read at all.
pub(crate) fn from_item<T: DeserializeOwned>(item: &Item) -> Result<T, StoreError> {
    T::deserialize(Record(item)).map_err(|Refused(attribute)| StoreError::Corrupt { attribute })
}

/// A value stored whole as JSON text (`S`): read and written with its item, never queried by
/// its fields.
#[derive(Debug, PartialEq)]
pub(crate) struct Json<T>(pub T);

impl<T: Serialize> Serialize for Json<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let text = serde_json::to_string(&self.0).map_err(serde::ser::Error::custom)?;
        serializer.serialize_str(&text)
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Json<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        serde_json::from_str(&text)
            .map(Json)
            .map_err(de::Error::custom)
    }
}

/// An item that keeps its record whole as JSON in `data`.
#[derive(Serialize)]
pub(crate) struct DataItem<'a, T> {
    pub pk: String,
    pub sk: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub data: Json<&'a T>,
}

/// What is read back from an item that keeps its record as JSON in `data`.
#[derive(Deserialize)]
#[serde(bound = "T: DeserializeOwned")]
pub(crate) struct Data<T> {
    data: Json<T>,
}

/// The record an item keeps as JSON in `data`.
pub(crate) fn data<T: DeserializeOwned>(item: &Item) -> Result<T, StoreError> {
    from_item::<Data<T>>(item).map(|read| read.data.0)
}

/// What is read back from an item that keeps its record as JSON in `body`.
#[derive(Deserialize)]
#[serde(bound = "T: DeserializeOwned")]
pub(crate) struct Body<T> {
    body: Json<T>,
}

/// The record an item keeps as JSON in `body`.
pub(crate) fn body<T: DeserializeOwned>(item: &Item) -> Result<T, StoreError> {
    from_item::<Body<T>>(item).map(|read| read.body.0)
}

/// A ticket reference as stored: its canonical form (no hyphen, unlike its `Display`), read
/// back through its parse. For `#[serde(with = "reference")]`.
pub(crate) mod reference {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(
        reference: &TicketReference,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(reference.as_str())
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<TicketReference, D::Error> {
        TicketReference::parse(&String::deserialize(deserializer)?).map_err(de::Error::custom)
    }
}

/// The attribute a record refused.
#[derive(Debug)]
struct Refused(&'static str);

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "attribute `{}`", self.0)
    }
}

impl std::error::Error for Refused {}

impl de::Error for Refused {
    /// Only a record as a whole fails this way (a value is refused by its attribute's name).
    fn custom<T: fmt::Display>(_: T) -> Self {
        Refused("item")
    }

    fn missing_field(field: &'static str) -> Self {
        Refused(field)
    }
}

/// An item, read as a record (a struct): the fields it names are the attributes it reads.
struct Record<'i>(&'i Item);

impl<'de> Deserializer<'de> for Record<'_> {
    type Error = Refused;

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Refused> {
        visitor.visit_map(Attributes {
            item: self.0,
            fields: fields.iter(),
            next: None,
        })
    }

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Refused> {
        Err(Refused("item"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

/// The item's attributes that the record names, each read under that name.
struct Attributes<'i> {
    item: &'i Item,
    fields: std::slice::Iter<'static, &'static str>,
    next: Option<(&'static str, &'i AttributeValue)>,
}

impl<'de> MapAccess<'de> for Attributes<'_> {
    type Error = Refused;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Refused> {
        let item = self.item;
        let Some((name, value)) = self
            .fields
            .find_map(|&name| item.get(name).map(|value| (name, value)))
        else {
            return Ok(None);
        };
        self.next = Some((name, value));
        seed.deserialize(name.into_deserializer()).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Refused> {
        let (name, value) = self.next.take().ok_or(Refused("item"))?;
        // serde_dynamo's conversion panics on a type this SDK does not know.
        if !known(value) {
            return Err(Refused(name));
        }
        let value = serde_dynamo::AttributeValue::from(value.clone());
        seed.deserialize(serde_dynamo::Deserializer::from_attribute_value(value))
            .map_err(|_| Refused(name))
    }
}

fn known(value: &AttributeValue) -> bool {
    match value {
        AttributeValue::M(map) => map.values().all(known),
        AttributeValue::L(list) => list.iter().all(known),
        other => !other.is_unknown(),
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
    use super::expect::{item, num, text};
    use super::*;
    use guichet_core::tickets::ticket::{Priority, TicketStatus};

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

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Sample {
        #[serde(skip_deserializing)]
        pk: String,
        #[serde(with = "reference")]
        reference: TicketReference,
        status: TicketStatus,
        at: Timestamp,
        version: u64,
        #[serde(skip_serializing_if = "Option::is_none")]
        note: Option<String>,
        tags: Vec<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        data: Option<Json<Vec<Priority>>>,
    }

    fn sample() -> Sample {
        Sample {
            pk: "SAMPLE#1".into(),
            reference: TicketReference::parse("99999-99992").expect("valid"),
            status: TicketStatus::WaitingOnPlayer,
            at: at("2026-11-26T15:00:00.120Z"),
            version: 7,
            note: None,
            tags: vec![],
            data: Some(Json(vec![Priority::Urgent])),
        }
    }

    #[test]
    fn records_are_written_attribute_for_attribute() {
        assert_eq!(
            to_item(&sample()).expect("item"),
            item([
                ("pk", text("SAMPLE#1")),
                ("reference", text("9999999992")),
                ("status", text("waiting_on_player")),
                ("at", text("2026-11-26T15:00:00.12Z")),
                ("version", num("7")),
                ("tags", AttributeValue::L(vec![])),
                ("data", text(r#"["urgent"]"#)),
            ])
        );
        // What is written is read back; the keys are not read.
        let read: Sample = from_item(&to_item(&sample()).expect("item")).expect("readable");
        assert_eq!(
            read,
            Sample {
                pk: String::new(),
                ..sample()
            }
        );
        let noted = Sample {
            note: Some(String::new()),
            data: None,
            ..sample()
        };
        let item = to_item(&noted).expect("item");
        assert_eq!(item.get("note"), Some(&text("")));
        assert!(!item.contains_key("data"));
        assert_eq!(
            from_item::<Sample>(&item).expect("readable").note,
            Some(String::new())
        );
    }

    #[test]
    fn a_damaged_item_is_refused_by_the_attribute_at_fault() {
        let good = to_item(&sample()).expect("item");
        let named = |item: &Item| match from_item::<Sample>(item) {
            Err(StoreError::Corrupt { attribute }) => attribute,
            Err(StoreError::Backend(_) | StoreError::Unavailable(_)) => "backend",
            Ok(_) => "accepted",
        };
        for (attribute, damage) in [
            ("reference", None),
            ("reference", Some(text("99999-99993"))),
            ("status", Some(text("lost"))),
            ("status", Some(num("1"))),
            ("at", Some(text("yesterday"))),
            ("version", Some(text("7"))),
            ("version", Some(num("seven"))),
            ("version", Some(num("-1"))),
            ("note", Some(num("1"))),
            ("tags", Some(text("a"))),
            ("tags", Some(AttributeValue::L(vec![num("1")]))),
            ("data", Some(text("[\"whenever\"]"))),
            ("data", Some(text("not json"))),
        ] {
            let mut item = good.clone();
            match damage.clone() {
                Some(value) => item.insert(attribute.into(), value),
                None => item.remove(attribute),
            };
            assert_eq!(named(&item), attribute, "{attribute} damaged as {damage:?}");
        }
        // The attributes the record does not read may be anything.
        let mut item = good;
        item.insert("pk".into(), AttributeValue::Bool(true));
        item.insert("other".into(), num("1"));
        assert_eq!(named(&item), "accepted");
        assert_eq!(get_s(&item, "reference").expect("present"), "9999999992");
        assert!(matches!(
            get_s(&item, "other"),
            Err(StoreError::Corrupt { attribute: "other" })
        ));
    }

    /// The records store the core's vocabularies through their serde, which the core derives
    /// from the same table as `as_str` and `parse`: every word of each is checked here.
    fn spelled<T>(all: &[T], as_str: fn(T) -> &'static str)
    where
        T: Copy + PartialEq + fmt::Debug + Serialize + DeserializeOwned,
    {
        #[derive(Deserialize)]
        #[serde(bound = "T: DeserializeOwned")]
        struct Word<T> {
            word: T,
        }
        for &word in all {
            let value = serde_dynamo::aws_sdk_dynamodb_1::to_attribute_value(word).expect("value");
            assert_eq!(value, text(as_str(word)));
            let read: Word<T> = from_item(&item([("word", value)])).expect("readable");
            assert_eq!(read.word, word);
        }
    }

    #[test]
    fn the_vocabularies_are_stored_as_the_core_spells_them() {
        use guichet_core::common::player::Language;
        use guichet_core::escalation::rules::EscalationState;
        use guichet_core::incidents::rules::{EscalationProgress, IncidentStatus};
        use guichet_core::outbox::rules::Destination;
        use guichet_core::tickets::ticket::{Category, Channel, Team};
        use guichet_core::verification::rules::CaseStatus;
        spelled(Channel::ALL, Channel::as_str);
        spelled(Category::ALL, Category::as_str);
        spelled(Language::ALL, Language::as_str);
        spelled(Priority::ALL, Priority::as_str);
        spelled(Team::ALL, Team::as_str);
        spelled(TicketStatus::ALL, TicketStatus::as_str);
        spelled(Destination::ALL, Destination::as_str);
        spelled(EscalationState::ALL, EscalationState::as_str);
        spelled(IncidentStatus::ALL, IncidentStatus::as_str);
        spelled(EscalationProgress::ALL, EscalationProgress::as_str);
        spelled(CaseStatus::ALL, CaseStatus::as_str);
    }
}

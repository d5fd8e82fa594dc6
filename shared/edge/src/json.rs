//! JSON as the API reads it: one reading only. serde_json keeps the last of two equal keys in
//! an object, while another parser (a WAF, a log pipeline, a client library) may keep the
//! first; a body such as `{"channel":"zzz","channel":"form"}` would then mean two things. The
//! body is parsed here into the same `serde_json::Value`, refusing any object that names a key
//! twice and saying where.

use std::cell::RefCell;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// Why a body is not one JSON value with unique keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StrictJsonError {
    /// Not well-formed JSON (or not UTF-8).
    Malformed,
    /// An object names this key twice; the path is dotted, with `[i]` for array items
    /// (`incident.game_name`, `steps_tried[2].x`).
    DuplicateKey(String),
}

/// Parses `bytes` as JSON, refusing an object with a key given twice.
pub fn from_slice(bytes: &[u8]) -> Result<Value, StrictJsonError> {
    let duplicate = RefCell::new(None);
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let parsed = StrictValue {
        path: String::new(),
        duplicate: &duplicate,
    }
    .deserialize(&mut deserializer)
    .and_then(|value| deserializer.end().map(|()| value));
    match (parsed, duplicate.into_inner()) {
        (_, Some(path)) => Err(StrictJsonError::DuplicateKey(path)),
        (Ok(value), None) => Ok(value),
        (Err(_), None) => Err(StrictJsonError::Malformed),
    }
}

/// A value at `path`; records the first duplicate key it meets in `duplicate` and stops.
struct StrictValue<'a> {
    path: String,
    duplicate: &'a RefCell<Option<String>>,
}

impl StrictValue<'_> {
    /// An object member's path: dotted whatever the key, so a key such as `[0]` is not
    /// mistaken for an array item (deciding by the segment's first character did).
    fn member(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    fn item(&self, index: usize) -> String {
        format!("{}[{index}]", self.path)
    }
}

impl<'de> DeserializeSeed<'de> for StrictValue<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictValue<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        // JSON has no NaN or infinity: serde_json never hands one over, and `from` maps any
        // to null rather than panicking.
        Ok(Value::from(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(StrictValue {
            path: self.item(items.len()),
            duplicate: self.duplicate,
        })? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let path = self.member(&key);
            if object.contains_key(&key) {
                *self.duplicate.borrow_mut() = Some(path);
                return Err(de::Error::custom("duplicate key"));
            }
            let value = map.next_value_seed(StrictValue {
                path,
                duplicate: self.duplicate,
            })?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_with_unique_keys_reads_as_serde_json_reads_it() {
        for body in [
            r#"{"channel":"form","incident":{"steps_tried":["a","b"],"x":null}}"#,
            r#"[1, -2, 3.5, true, false, null, "é\u00e9"]"#,
            r#"{"a":{"a":{"a":1}},"b":[{"a":1},{"a":2}]}"#,
            "  \"text\"  ",
            "18446744073709551615",
        ] {
            let expected: Value = serde_json::from_str(body).expect("valid");
            assert_eq!(from_slice(body.as_bytes()), Ok(expected), "{body}");
        }
    }

    #[test]
    fn a_key_given_twice_is_named_wherever_it_is() {
        for (body, path) in [
            (r#"{"channel":"zzz","channel":"form"}"#, "channel"),
            (r#"{"version":"zzz","version":3}"#, "version"),
            (
                r#"{"incident":{"game_name":"a","game_name":"b"}}"#,
                "incident.game_name",
            ),
            (r#"{"list":[{"ok":1},{"x":1,"x":2}]}"#, "list[1].x"),
            (r#"[{"a":1,"a":1}]"#, "[0].a"),
            (r#"{"a":1,"\u0061":2}"#, "a"),
        ] {
            assert_eq!(
                from_slice(body.as_bytes()),
                Err(StrictJsonError::DuplicateKey(path.to_owned())),
                "{body}"
            );
        }
    }

    #[test]
    fn what_is_not_json_is_malformed() {
        for body in [
            &b"{"[..],
            b"{\"a\":1}x",
            b"\xff\xfe",
            b"{\"a\":1,}",
            b"",
            b"NaN",
        ] {
            assert_eq!(from_slice(body), Err(StrictJsonError::Malformed));
        }
    }
}

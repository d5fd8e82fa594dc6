//! Server-made identifiers: a prefix and random symbols (`VC-7K2M9Q4XW3BD`), not guessable, not
//! sequential, read out unambiguously. One macro declares each kind, so every kind draws,
//! parses and (de)serializes the same way.

/// Crockford's base 32: digits and letters without I, L, O, U, so an id read out or typed from
/// a message cannot be misread. 256 is a multiple of 32: every symbol is equally likely.
pub const ID_ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// `prefix` followed by one symbol per random byte.
pub fn symbols(prefix: &str, random: &[u8]) -> String {
    let mut id = String::with_capacity(prefix.len() + random.len());
    id.push_str(prefix);
    id.extend(
        random
            .iter()
            .map(|b| char::from(ID_ALPHABET[usize::from(b % 32)])),
    );
    id
}

/// The id in upper case, if `raw` is `prefix` and exactly `count` symbols (case-insensitive,
/// surrounding white space ignored, as staff may type it from a message).
pub fn parse_symbols(prefix: &str, raw: &str, count: usize) -> Option<String> {
    let upper = raw.trim().to_ascii_uppercase();
    let body = upper.strip_prefix(prefix)?;
    (body.len() == count && body.bytes().all(|b| ID_ALPHABET.contains(&b))).then_some(upper)
}

/// Declares a prefixed random id: `generate`, `from_random` (for tests and fixtures), `parse`,
/// `as_str`, `symbols` (the id without its prefix), `Display`, and serde through `parse` (a
/// stored item or a queue message cannot carry an invalid one).
macro_rules! prefixed_id {
    ($(#[$meta:meta])* $name:ident, $prefix:literal, $count:literal, $rule:literal) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord,
            ::serde::Serialize, ::serde::Deserialize,
        )]
        #[serde(try_from = "String", into = "String")]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;
            pub const SYMBOLS: usize = $count;

            pub fn generate() -> Result<Self, getrandom::Error> {
                let mut random = [0u8; $count];
                getrandom::fill(&mut random)?;
                Ok(Self::from_random(random))
            }

            pub fn from_random(random: [u8; $count]) -> Self {
                Self($crate::common::id::symbols($prefix, &random))
            }

            pub fn parse(raw: &str) -> Option<Self> {
                $crate::common::id::parse_symbols($prefix, raw, $count).map(Self)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The random symbols, without the prefix: what spreads the id's records evenly
            /// (over a store's shards, say). Every id starts with its prefix (`parse` and
            /// `from_random` make sure of it).
            pub fn symbols(&self) -> &str {
                self.0.get($prefix.len()..).unwrap_or_default()
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        validated_string!($name, $rule);
    };
}

#[cfg(test)]
mod tests {
    prefixed_id!(
        /// An id for the tests.
        TestId, "T-", 4, "a test id looks like T-7K2M"
    );

    #[test]
    fn ids_are_drawn_from_the_alphabet_and_parse_back() {
        let id = TestId::generate().expect("random");
        assert_eq!(id.as_str().len(), 6);
        assert_eq!(TestId::parse(id.as_str()), Some(id.clone()));
        assert_eq!(TestId::from_random([0, 31, 32, 255]).as_str(), "T-0Z0Z");
        assert_eq!(TestId::from_random([0, 31, 32, 255]).symbols(), "0Z0Z");
    }

    #[test]
    fn parsing_is_case_insensitive_and_strict_about_shape() {
        assert_eq!(
            TestId::parse(" t-7k2m ").map(|id| id.to_string()),
            Some("T-7K2M".into())
        );
        for bad in ["T-7K2", "T-7K2MX", "X-7K2M", "T-7K2I", "T-7K2O", "7K2M", ""] {
            assert_eq!(TestId::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn serde_goes_through_parse() {
        let id: TestId = serde_json::from_str("\"t-7k2m\"").expect("valid");
        assert_eq!(serde_json::to_string(&id).expect("json"), "\"T-7K2M\"");
        assert!(serde_json::from_str::<TestId>("\"T-7K2I\"").is_err());
    }
}

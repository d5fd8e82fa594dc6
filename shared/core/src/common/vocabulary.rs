//! Closed vocabularies of wire names, spelled once.

/// Declares a closed set of lower-case wire names with `parse` and `as_str`, so each
/// vocabulary is spelled once and the JSON, the store and error messages agree.
macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $wire:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ::serde::Serialize, ::serde::Deserialize)]
        pub enum $name { $($(#[$vmeta])* #[serde(rename = $wire)] $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub const NAMES: &'static [&'static str] = &[$($wire),+];

            pub fn parse(input: &str) -> Option<Self> {
                match input {
                    $($wire => Some($name::$variant),)+
                    _ => None,
                }
            }

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $wire,)+
                }
            }
        }

        // Written by hand: utoipa's derive does not see a `serde(rename)` whose name comes
        // through a macro fragment, and would list the Rust variant names.
        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some($name::NAMES.iter().copied()))
                    .into()
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $name {}
    };
}

/// Serde for a validated string newtype goes through its `parse`, so a value read from a queue
/// message or a stored item cannot skip validation: `#[serde(try_from = "String", into =
/// "String")]` on the type, then `validated_string!(Type, "what a valid one looks like")`.
macro_rules! validated_string {
    ($name:ident, $rule:literal) => {
        impl TryFrom<String> for $name {
            type Error = &'static str;

            fn try_from(raw: String) -> Result<Self, Self::Error> {
                Self::parse(&raw).ok_or($rule)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }
    };
}

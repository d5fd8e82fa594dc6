//! Field-level validation errors: every refusal names the field and the rule it broke, so a
//! form can put the message next to the right input.

use std::fmt;

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum Rule {
    /// The field must be present.
    Required,
    /// The field is not part of this request.
    UnknownField,
    /// The field appears twice in one JSON object: two parsers could read such a body
    /// differently, so neither reading is taken.
    DuplicateKey,
    /// The field has the wrong JSON type.
    Type {
        expected: &'static str,
    },
    MinLength {
        min: usize,
    },
    MaxLength {
        max: usize,
    },
    MaxItems {
        max: usize,
    },
    OneOf {
        allowed: &'static [&'static str],
    },
    /// Control characters other than line breaks and tabs are refused.
    PrintableText,
    /// Bidirectional controls and zero-width characters are refused: they make a text read
    /// differently to an agent in a console or a player in an e-mail than it is stored.
    InvisibleCharacter,
    /// Letters, digits, `-` and `_` only.
    Identifier,
    /// A client token: `min` to `max` letters, digits, `-`, `_`, `.` or `:`.
    Token {
        min: usize,
        max: usize,
    },
    /// A whole number in a range.
    Range {
        min: i64,
        max: i64,
    },
    /// A reference as the acknowledgement gave it, e.g. `K7M2Q-9XW4B`.
    Reference,
    /// A player id: the subject of the player's token.
    PlayerId,
    /// A verification case id as this API returned it, e.g. `VC-7K2M9Q4XW3BD`.
    CaseId,
    /// A value this API handed out earlier, unchanged (e.g. a page cursor).
    Opaque,
    /// An RFC 3339 timestamp with an offset, e.g. `2026-11-26T21:30:00-05:00`.
    Timestamp,
    NotInFuture,
    NotBefore {
        days: i64,
    },
    /// At least one of the named fields must be given.
    AtLeastOneOf {
        fields: &'static [&'static str],
    },
    /// The field only belongs to requests of another kind.
    NotAllowedHere {
        reason: &'static str,
    },
    /// A calendar date, `YYYY-MM-DD`.
    Date,
    /// A day the ticket's channel is open (not a weekend, holiday or closure of its hours).
    OpenDay,
    /// A date later than what the field moves (e.g. the current due date).
    Later,
    /// Exactly one of the named fields must be given.
    OneOfFields {
        fields: &'static [&'static str],
    },
    /// Another ticket than the one the route names (a ticket is not merged into itself).
    OtherTicket,
    /// A ticket that is not closed (what a duplicate is merged into goes on being worked).
    NotClosed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
pub struct ValidationError {
    pub field: String,
    #[serde(flatten)]
    pub rule: Rule,
}

impl ValidationError {
    pub fn new(field: impl Into<String>, rule: Rule) -> Self {
        Self {
            field: field.into(),
            rule,
        }
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let field = &self.field;
        match &self.rule {
            Rule::Required => write!(f, "{field} is required"),
            Rule::UnknownField => write!(f, "{field} is not a field of this request"),
            Rule::DuplicateKey => write!(f, "{field} is given more than once"),
            Rule::Type { expected } => write!(f, "{field} must be {expected}"),
            Rule::MinLength { min } => write!(f, "{field} must be at least {min} characters"),
            Rule::MaxLength { max } => write!(f, "{field} must be at most {max} characters"),
            Rule::MaxItems { max } => write!(f, "{field} must have at most {max} items"),
            Rule::OneOf { allowed } => write!(f, "{field} must be one of {}", allowed.join(", ")),
            Rule::PrintableText => write!(f, "{field} must not contain control characters"),
            Rule::InvisibleCharacter => write!(
                f,
                "{field} must not contain invisible or text-direction characters"
            ),
            Rule::Identifier => write!(
                f,
                "{field} may contain only letters, digits, '-' and '_'"
            ),
            Rule::Token { min, max } => write!(
                f,
                "{field} must be {min} to {max} letters, digits, '-', '_', '.' or ':'"
            ),
            Rule::Range { min, max } => {
                write!(f, "{field} must be a whole number from {min} to {max}")
            }
            Rule::Reference => write!(
                f,
                "{field} must be a ticket reference as given in the acknowledgement, e.g. K7M2Q-9XW45"
            ),
            Rule::PlayerId => write!(
                f,
                "{field} must be a player id: 1 to 128 letters, digits, '-', '_', '.', ':' or '@'"
            ),
            Rule::CaseId => write!(
                f,
                "{field} must be a case id as returned by this API, e.g. VC-7K2M9Q4XW3BD"
            ),
            Rule::Opaque => write!(f, "{field} must be a value returned by this API, unchanged"),
            Rule::Timestamp => write!(
                f,
                "{field} must be an RFC 3339 timestamp with an offset, e.g. 2026-11-26T21:30:00-05:00"
            ),
            Rule::NotInFuture => write!(f, "{field} must not be in the future"),
            Rule::NotBefore { days } => write!(f, "{field} must be within the last {days} days"),
            Rule::AtLeastOneOf { fields } => {
                write!(f, "{field} needs at least one of {}", fields.join(", "))
            }
            Rule::NotAllowedHere { reason } => write!(f, "{field} is not allowed: {reason}"),
            Rule::Date => write!(f, "{field} must be a date YYYY-MM-DD"),
            Rule::OpenDay => write!(f, "{field} must be a day the ticket's channel is open"),
            Rule::Later => write!(f, "{field} must be later than the current due date"),
            Rule::OneOfFields { fields } => {
                write!(f, "{field} needs exactly one of {}", fields.join(", "))
            }
            Rule::OtherTicket => write!(f, "{field} must be another ticket than this one"),
            Rule::NotClosed => write!(f, "{field} must be a ticket that is not closed"),
        }
    }
}

/// Reads typed fields out of a JSON object, prefixing nested fields with their path.
pub struct Fields<'a> {
    path: &'a str,
    object: &'a serde_json::Map<String, serde_json::Value>,
}

impl<'a> Fields<'a> {
    /// `allowed` lists every field the object may have; any other key is refused, so a typo
    /// in an optional field is reported rather than silently ignored.
    pub fn new(
        path: &'a str,
        object: &'a serde_json::Map<String, serde_json::Value>,
        allowed: &[&str],
    ) -> Result<Self, ValidationError> {
        let fields = Self { path, object };
        // Sorted so the error is the same whatever order the client sent.
        let mut unknown: Vec<&String> = object
            .keys()
            .filter(|k| !allowed.contains(&k.as_str()))
            .collect();
        unknown.sort();
        if let Some(key) = unknown.first() {
            return Err(ValidationError::new(fields.name(key), Rule::UnknownField));
        }
        Ok(fields)
    }

    pub fn name(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    fn present(&self, key: &str) -> Option<&'a serde_json::Value> {
        self.object.get(key).filter(|v| !v.is_null())
    }

    pub fn has(&self, key: &str) -> bool {
        self.present(key).is_some()
    }

    pub fn optional_str(&self, key: &str) -> Result<Option<&'a str>, ValidationError> {
        match self.present(key) {
            None => Ok(None),
            Some(serde_json::Value::String(s)) => Ok(Some(s.as_str())),
            Some(_) => Err(ValidationError::new(
                self.name(key),
                Rule::Type {
                    expected: "a string",
                },
            )),
        }
    }

    pub fn required_str(&self, key: &str) -> Result<&'a str, ValidationError> {
        self.optional_str(key)?
            .ok_or_else(|| ValidationError::new(self.name(key), Rule::Required))
    }

    /// A free-text field: trimmed, then bounded in characters (not bytes, so French accents
    /// count once), with control characters refused.
    pub fn text(&self, key: &str, min: usize, max: usize) -> Result<String, ValidationError> {
        let raw = self.required_str(key)?;
        free_text(&self.name(key), raw, min, max)
    }

    pub fn optional_text(&self, key: &str, max: usize) -> Result<Option<String>, ValidationError> {
        self.optional_str(key)?
            .map(|raw| free_text(&self.name(key), raw, 1, max))
            .transpose()
    }

    /// One word of a closed vocabulary.
    pub fn choice<T>(
        &self,
        key: &str,
        names: &'static [&'static str],
        parse: impl Fn(&str) -> Option<T>,
    ) -> Result<Option<T>, ValidationError> {
        self.optional_str(key)?
            .map(|raw| {
                parse(raw).ok_or_else(|| {
                    ValidationError::new(self.name(key), Rule::OneOf { allowed: names })
                })
            })
            .transpose()
    }

    pub fn object(
        &self,
        key: &str,
    ) -> Result<Option<&'a serde_json::Map<String, serde_json::Value>>, ValidationError> {
        match self.present(key) {
            None => Ok(None),
            Some(serde_json::Value::Object(o)) => Ok(Some(o)),
            Some(_) => Err(ValidationError::new(
                self.name(key),
                Rule::Type {
                    expected: "an object",
                },
            )),
        }
    }

    /// A list of short texts, bounded in count and in each item's length.
    pub fn text_list(
        &self,
        key: &str,
        max_items: usize,
        max_len: usize,
    ) -> Result<Vec<String>, ValidationError> {
        let items = match self.present(key) {
            None => return Err(ValidationError::new(self.name(key), Rule::Required)),
            Some(serde_json::Value::Array(items)) => items,
            Some(_) => {
                return Err(ValidationError::new(
                    self.name(key),
                    Rule::Type {
                        expected: "a list of strings",
                    },
                ))
            }
        };
        if items.len() > max_items {
            return Err(ValidationError::new(
                self.name(key),
                Rule::MaxItems { max: max_items },
            ));
        }
        items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let name = format!("{}[{i}]", self.name(key));
                match item {
                    serde_json::Value::String(s) => free_text(&name, s, 1, max_len),
                    _ => Err(ValidationError::new(
                        name,
                        Rule::Type {
                            expected: "a string",
                        },
                    )),
                }
            })
            .collect()
    }
}

/// Free text written by a person (a subject, a description, a reply, a note): trimmed, `min` to
/// `max` characters, no control characters but line breaks and tabs, no invisible or
/// text-direction characters; errors name `field`.
pub fn free_text(
    field: &str,
    raw: &str,
    min: usize,
    max: usize,
) -> Result<String, ValidationError> {
    let text = raw.trim();
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(ValidationError::new(field, Rule::PrintableText));
    }
    if has_invisible(text) {
        return Err(ValidationError::new(field, Rule::InvisibleCharacter));
    }
    let length = text.chars().count();
    if length < min {
        return Err(if length == 0 {
            ValidationError::new(field, Rule::Required)
        } else {
            ValidationError::new(field, Rule::MinLength { min })
        });
    }
    if length > max {
        return Err(ValidationError::new(field, Rule::MaxLength { max }));
    }
    Ok(text.to_owned())
}

/// An RFC 3339 timestamp exactly as section 5.6 writes it, with an upper-case `T` and `Z`:
/// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, the offset within ±23:59. jiff's own parser is
/// lenient (a space for `T`, `+0500`, minutes without seconds, a bracketed time zone that may
/// contradict the offset): two readers of such a value could disagree on the instant it names,
/// so anything but the strict form is refused before jiff checks the calendar.
pub fn rfc3339(raw: &str) -> Option<jiff::Timestamp> {
    let b = raw.as_bytes();
    let digits = |range: std::ops::Range<usize>| {
        b.get(range.clone())
            .is_some_and(|part| part.iter().all(u8::is_ascii_digit))
    };
    let at = |i: usize, c: u8| b.get(i) == Some(&c);
    let shape = digits(0..4)
        && at(4, b'-')
        && digits(5..7)
        && at(7, b'-')
        && digits(8..10)
        && at(10, b'T')
        && digits(11..13)
        && at(13, b':')
        && digits(14..16)
        && at(16, b':')
        && digits(17..19);
    if !shape {
        return None;
    }
    let mut i = 19;
    if at(i, b'.') {
        let fraction = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if fraction == 0 {
            return None;
        }
        i += 1 + fraction;
    }
    let offset = &raw[i..];
    let offset_ok = offset == "Z"
        || (offset.len() == 6
            && matches!(b[i], b'+' | b'-')
            && digits(i + 1..i + 3)
            && at(i + 3, b':')
            && digits(i + 4..i + 6)
            && offset[1..3] <= *"23"
            && offset[4..6] <= *"59");
    if !offset_ok {
        return None;
    }
    raw.parse().ok()
}

/// Bidirectional controls (embeddings, overrides, isolates, marks) and zero-width characters:
/// none belongs in a support message, and each can make a text read differently than it is
/// stored (Trojan Source, CVE-2021-42574). The zero-width joiner is kept between two emoji,
/// where it builds one (👩‍💻); anywhere else it only hides.
pub fn has_invisible(text: &str) -> bool {
    let chars: Vec<char> = text.chars().collect();
    (0..chars.len()).any(|i| invisible_at(&chars, i))
}

/// `text` without the characters [`has_invisible`] refuses. For text no person typed into our
/// form, where nobody can be asked to fix it: an e-mail (mail clients and newsletters put
/// zero-width spaces and byte-order marks in their bodies). Removing them is the safe direction:
/// what is left reads as it is stored.
pub fn without_invisible(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    chars
        .iter()
        .enumerate()
        .filter(|(i, _)| !invisible_at(&chars, *i))
        .map(|(_, c)| *c)
        .collect()
}

fn invisible_at(chars: &[char], i: usize) -> bool {
    match chars.get(i) {
        Some('\u{200D}') => {
            let emoji_before = i
                .checked_sub(1)
                .and_then(|j| chars.get(j))
                .is_some_and(|&b| is_emoji_part(b));
            let emoji_after = chars.get(i + 1).is_some_and(|&a| is_emoji_part(a));
            !(emoji_before && emoji_after)
        }
        Some(
            '\u{061C}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200C}'
            | '\u{200E}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{FEFF}',
        ) => true,
        _ => false,
    }
}

/// What may stand beside a zero-width joiner inside an emoji sequence: pictographs, the
/// variation selector that makes one an emoji, skin tones and the gender signs.
fn is_emoji_part(c: char) -> bool {
    // Skin tones (U+1F3FB–U+1F3FF) fall in the first range; the gender and profession signs
    // (♀ ♂ ⚕ ✈ ❤) in the second.
    matches!(c, '\u{1F000}'..='\u{1FAFF}' | '\u{2600}'..='\u{27BF}' | '\u{FE0F}')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(value: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
        match value {
            serde_json::Value::Object(o) => o,
            _ => unreachable!("test input is an object"),
        }
    }

    #[test]
    fn unknown_fields_are_named() {
        let o = object(json!({"subject": "x", "zzz": 1, "player_id": "p"}));
        let err = Fields::new("", &o, &["subject"]).err();
        assert_eq!(
            err,
            Some(ValidationError::new("player_id", Rule::UnknownField))
        );
    }

    #[test]
    fn nested_fields_carry_their_path() {
        let o = object(json!({"steps_tried": ["ok", 3]}));
        let fields = Fields::new("incident", &o, &["steps_tried"]).expect("known fields");
        assert_eq!(
            fields.text_list("steps_tried", 5, 10),
            Err(ValidationError::new(
                "incident.steps_tried[1]",
                Rule::Type {
                    expected: "a string"
                }
            ))
        );
    }

    #[test]
    fn text_is_trimmed_and_counted_in_characters() {
        let o = object(json!({"s": "  été  ", "blank": "   ", "bell": "a\u{7}b"}));
        let fields = Fields::new("", &o, &["s", "blank", "bell"]).expect("known fields");
        assert_eq!(fields.text("s", 1, 3), Ok("été".to_owned()));
        assert_eq!(
            fields.text("s", 4, 10),
            Err(ValidationError::new("s", Rule::MinLength { min: 4 }))
        );
        assert_eq!(
            fields.text("s", 1, 2),
            Err(ValidationError::new("s", Rule::MaxLength { max: 2 }))
        );
        assert_eq!(
            fields.text("blank", 1, 2),
            Err(ValidationError::new("blank", Rule::Required))
        );
        assert_eq!(
            fields.text("bell", 1, 9),
            Err(ValidationError::new("bell", Rule::PrintableText))
        );
    }

    #[test]
    fn messages_name_field_and_rule() {
        let e = ValidationError::new(
            "channel",
            Rule::OneOf {
                allowed: &["form", "chat"],
            },
        );
        assert_eq!(e.to_string(), "channel must be one of form, chat");
        let json = serde_json::to_value(&e).expect("serialisable");
        assert_eq!(json["field"], "channel");
        assert_eq!(json["rule"], "one_of");
        assert_eq!(json["allowed"], json!(["form", "chat"]));
    }

    #[test]
    fn timestamps_are_accepted_only_in_rfc_3339_form() {
        for good in [
            "2026-12-01T10:00:00Z",
            "2026-12-01T10:00:00-05:00",
            "2026-12-01T10:00:00+23:59",
            "2026-12-01T10:00:00.5-05:00",
            "2026-12-01T10:00:00.123456789Z",
            "2024-02-29T00:00:00Z",
        ] {
            assert!(rfc3339(good).is_some(), "{good}");
        }
        assert_eq!(
            rfc3339("2026-12-01T10:00:00-05:00"),
            rfc3339("2026-12-01T15:00:00Z")
        );
        for bad in [
            "2026-12-01T10:00:00+25:00",
            "2026-12-01T10:00:00+24:00",
            "2026-12-01T10:00:00+05:60",
            "2026-12-01T10:00:00+0500",
            "2026-12-01T10:00Z",
            "2026-12-01 10:00:00Z",
            "2026-12-01t10:00:00Z",
            "2026-12-01T10:00:00z",
            "2026-12-01T10:00:00,5Z",
            "2026-12-01T10:00:00.Z",
            "2026-12-01T10:00:00+05:00[America/Toronto]",
            "2026-12-01T10:00:00-05:00[America/Toronto]",
            "2026-12-01T10:00:00",
            "2026-12-01",
            "2026-13-01T10:00:00Z",
            "2025-02-29T10:00:00Z",
            "+2026-12-01T10:00:00Z",
            "2026-12-01T10:00:00Z ",
            "２026-12-01T10:00:00Z",
            "",
        ] {
            assert_eq!(rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn invisible_characters_are_removed_and_emoji_joiners_kept() {
        assert_eq!(
            without_invisible("\u{FEFF}Bon\u{200B}jour \u{202E}à\u{202C} 👩\u{200D}💻 fin\u{200D}"),
            "Bonjour à 👩\u{200D}💻 fin"
        );
        assert_eq!(without_invisible("déjà vu"), "déjà vu");
    }

    #[test]
    fn invisible_and_direction_characters_are_refused_in_free_text() {
        for bad in [
            "Remboursez \u{202E}sruoj 3 ne",
            "mot\u{200B}de passe",
            "\u{FEFF}Bonjour à tous",
            "isolé \u{2066}texte\u{2069}",
            "marque \u{200F} droite",
            "joint\u{200D}caché",
            "fin\u{200D}",
        ] {
            assert_eq!(
                free_text("description", bad, 1, 100),
                Err(ValidationError::new(
                    "description",
                    Rule::InvisibleCharacter
                )),
                "{bad:?}"
            );
        }
        for good in [
            "Élise a gagné 20 $ à la roulette, puis… plus rien !",
            "Ligne 1\nLigne 2\tavec tabulation",
            "Merci 🙏 et bravo 👩‍💻 pour l'aide 👍🏽",
            "« Guillemets » et œuvres — tirets",
        ] {
            assert_eq!(
                free_text("description", good, 1, 100),
                Ok(good.to_owned()),
                "{good:?}"
            );
        }
    }
}

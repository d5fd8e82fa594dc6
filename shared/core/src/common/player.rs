//! The player as every area knows them: their id, their language, and who wrote an entry of a
//! history (the player, a staff member, the system).

use serde::{Deserialize, Serialize};

vocabulary!(
    /// The ticket's language: French is the primary language of the desk.
    Language { Fr => "fr", En => "en" }
);

impl Language {
    /// Picks the ticket language from an `Accept-Language` header: the first of `fr` or `en`
    /// by the header's quality order, French when neither is acceptable.
    pub fn from_accept_language(header: Option<&str>) -> Language {
        let Some(header) = header else {
            return Language::Fr;
        };
        let mut best: Option<(f32, Language)> = None;
        for part in header.split(',') {
            let mut pieces = part.split(';');
            let tag = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
            let quality = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            let primary = tag.split('-').next().unwrap_or("");
            let Some(language) = Language::parse(primary) else {
                continue;
            };
            if quality > 0.0 && best.is_none_or(|(q, _)| quality > q) {
                best = Some((quality, language));
            }
        }
        best.map_or(Language::Fr, |(_, language)| language)
    }
}

/// The opaque subject of the player's token. It is an identifier, never a name or an
/// e-mail address, so it may appear in keys and logs.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PlayerId(String);

validated_string!(
    PlayerId,
    "a player id is 1 to 128 letters, digits or - _ . : @"
);

impl PlayerId {
    pub const MAX_LEN: usize = 128;

    /// Token subjects are opaque; we only refuse what could break a key (`#`) or a log line.
    pub fn parse(subject: &str) -> Option<Self> {
        let ok = !subject.is_empty()
            && subject.len() <= Self::MAX_LEN
            && subject
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':' | '@'));
        ok.then(|| Self(subject.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Who caused an entry in a ticket's history.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Author {
    Player,
    Staff { id: String },
    System,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_player_id_read_from_json_goes_through_its_parse() {
        let id: PlayerId = serde_json::from_str("\"player-123\"").expect("a valid id");
        assert_eq!(id.as_str(), "player-123");
        assert_eq!(
            serde_json::to_string(&id).expect("serialises"),
            "\"player-123\""
        );
        for bad in [
            "\"\"",
            "\"has#hash\"",
            "\"a b\"",
            &format!("\"{}\"", "p".repeat(129)),
        ] {
            assert!(
                serde_json::from_str::<PlayerId>(bad).is_err(),
                "{bad} was accepted"
            );
        }
    }
}

//! Saved replies: each team's ready-made answers, in French and English, which an agent picks
//! and edits before sending them as an ordinary reply (`POST /tickets/{reference}/replies`).
//! Bundled with the code (`templates/saved-replies.json`) and checked when loaded: every team
//! has some, each in both languages, with ids unique within its team and bodies that are valid
//! replies, so a bad edit fails a test and the container's init, never an agent's reply.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::common::player::Language;
use crate::tickets::ticket::Team;
use crate::tickets::workflow::MessageBody;

const BUNDLED: &str = include_str!("../../templates/saved-replies.json");
pub const TITLE_MAX: usize = 80;
pub const ID_MAX: usize = 40;

/// One saved reply, in the language asked for.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SavedReply {
    pub id: String,
    pub title: String,
    /// The text to edit, then send as a reply.
    pub body: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Text {
    title: String,
    body: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    id: String,
    fr: Text,
    en: Text,
}

/// Every team's saved replies, checked.
#[derive(Debug, Clone)]
pub struct SavedReplies {
    /// By team name.
    by_team: BTreeMap<String, Vec<Entry>>,
}

#[derive(Debug, thiserror::Error)]
pub enum SavedRepliesError {
    #[error("the saved replies are not valid JSON of their shape")]
    Json(#[from] serde_json::Error),
    #[error("team {0} has no saved reply")]
    TeamWithout(&'static str),
    #[error("{0} is not a team")]
    UnknownTeam(String),
    #[error(
        "{team} has a saved reply whose id is not 1 to {ID_MAX} of a-z, 0-9 and _, or is repeated"
    )]
    Id { team: &'static str },
    #[error("{team}/{id} ({language}): a title is 1 to {TITLE_MAX} characters")]
    Title {
        team: &'static str,
        id: String,
        language: &'static str,
    },
    #[error("{team}/{id} ({language}): the body is not a valid reply")]
    Body {
        team: &'static str,
        id: String,
        language: &'static str,
    },
}

impl SavedReplies {
    pub fn bundled() -> Result<Self, SavedRepliesError> {
        Self::parse(BUNDLED)
    }

    pub fn parse(text: &str) -> Result<Self, SavedRepliesError> {
        let raw: BTreeMap<String, Vec<Entry>> = serde_json::from_str(text)?;
        if let Some(unknown) = raw.keys().find(|name| Team::parse(name).is_none()) {
            return Err(SavedRepliesError::UnknownTeam(unknown.clone()));
        }
        for team in Team::ALL {
            let entries = raw
                .get(team.as_str())
                .filter(|e| !e.is_empty())
                .ok_or(SavedRepliesError::TeamWithout(team.as_str()))?;
            let mut seen = Vec::new();
            for entry in entries {
                let id_ok = (1..=ID_MAX).contains(&entry.id.len())
                    && entry
                        .id
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
                if !id_ok || seen.contains(&entry.id.as_str()) {
                    return Err(SavedRepliesError::Id {
                        team: team.as_str(),
                    });
                }
                seen.push(&entry.id);
                for (language, text) in [("fr", &entry.fr), ("en", &entry.en)] {
                    let title = text.title.trim();
                    if title.is_empty() || title.chars().count() > TITLE_MAX {
                        return Err(SavedRepliesError::Title {
                            team: team.as_str(),
                            id: entry.id.clone(),
                            language,
                        });
                    }
                    if MessageBody::parse("body", &text.body).is_err() {
                        return Err(SavedRepliesError::Body {
                            team: team.as_str(),
                            id: entry.id.clone(),
                            language,
                        });
                    }
                }
            }
        }
        Ok(Self { by_team: raw })
    }

    /// The team's saved replies in `language`, in the bundle's order.
    pub fn for_team(&self, team: Team, language: Language) -> Vec<SavedReply> {
        self.by_team
            .get(team.as_str())
            .into_iter()
            .flatten()
            .map(|entry| {
                let text = match language {
                    Language::Fr => &entry.fr,
                    Language::En => &entry.en,
                };
                SavedReply {
                    id: entry.id.clone(),
                    title: text.title.trim().to_owned(),
                    body: text.body.clone(),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_team_has_saved_replies_in_both_languages() {
        let replies = SavedReplies::bundled().expect("the bundle is valid");
        for team in Team::ALL {
            let fr = replies.for_team(*team, Language::Fr);
            let en = replies.for_team(*team, Language::En);
            assert!(!fr.is_empty(), "{team:?}");
            assert_eq!(
                fr.iter().map(|r| &r.id).collect::<Vec<_>>(),
                en.iter().map(|r| &r.id).collect::<Vec<_>>()
            );
            assert_ne!(fr[0].body, en[0].body);
        }
    }

    #[test]
    fn a_bad_bundle_is_refused_naming_what_is_wrong() {
        let one = |team: &str, id: &str, body: &str| {
            let mut all = serde_json::Map::new();
            for t in Team::NAMES {
                all.insert(
                    (*t).to_owned(),
                    serde_json::json!([{"id": "ok", "fr": {"title": "T", "body": "Bonjour."},
                        "en": {"title": "T", "body": "Hello."}}]),
                );
            }
            all.insert(
                team.to_owned(),
                serde_json::json!([{"id": id, "fr": {"title": "T", "body": body},
                    "en": {"title": "T", "body": "Hello."}}]),
            );
            serde_json::Value::Object(all).to_string()
        };
        assert!(SavedReplies::parse(&one("games", "ok", "Bonjour.")).is_ok());
        assert!(matches!(
            SavedReplies::parse(&one("games", "Bad Id", "Bonjour.")),
            Err(SavedRepliesError::Id { team: "games" })
        ));
        assert!(matches!(
            SavedReplies::parse(&one("games", "ok", "   ")),
            Err(SavedRepliesError::Body { .. })
        ));
        assert!(matches!(
            SavedReplies::parse(r#"{"games": []}"#),
            Err(SavedRepliesError::TeamWithout(_))
        ));
        assert!(SavedReplies::parse("not json").is_err());
        let mut extra: serde_json::Value =
            serde_json::from_str(&one("games", "ok", "Bonjour.")).expect("json");
        extra["gamez"] = extra["games"].clone();
        assert!(matches!(
            SavedReplies::parse(&extra.to_string()),
            Err(SavedRepliesError::UnknownTeam(name)) if name == "gamez"
        ));
    }
}

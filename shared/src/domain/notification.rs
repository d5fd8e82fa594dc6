//! Player notifications rendered from templates kept as data (`shared/templates/
//! notifications.json`), in the ticket's language. The templates are checked when they are
//! loaded — every kind in both languages, only known placeholders — so a typo fails a test and
//! the function's init, never a player's e-mail.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::ticket::Language;

vocabulary!(
    /// Every status change a player hears of.
    NotificationKind {
        Received => "received",
        AgentReply => "agent_reply",
        Escalated => "escalated",
        WaitingOnPlayer => "waiting_on_player",
        Resolved => "resolved",
        VerificationApproved => "verification_approved",
        VerificationResubmission => "verification_resubmission",
        VerificationRejected => "verification_rejected",
    }
);

const BUNDLED: &str = include_str!("../../templates/notifications.json");
const PLACEHOLDERS: &[&str] = &["reference", "team", "due"];

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Template {
    pub subject: String,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub body: String,
}

/// The values a template may use; each is already in the ticket's language and local format.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Values<'a> {
    pub reference: Option<&'a str>,
    pub team: Option<&'a str>,
    pub due: Option<&'a str>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("the notification templates are not valid JSON of the expected shape")]
    Shape,
    #[error("no {language} template for `{kind}`", language = .language.as_str(), kind = .kind.as_str())]
    Missing {
        kind: NotificationKind,
        language: Language,
    },
    #[error("template `{kind}` uses an unknown placeholder `{{{placeholder}}}`", kind = .kind.as_str())]
    UnknownPlaceholder {
        kind: NotificationKind,
        placeholder: String,
    },
    #[error("template `{kind}` needs `{placeholder}`, which this notification does not carry", kind = .kind.as_str())]
    MissingValue {
        kind: NotificationKind,
        placeholder: &'static str,
    },
}

#[derive(Debug, Clone)]
pub struct NotificationTemplates {
    templates: BTreeMap<(NotificationKind, Language), Template>,
}

impl NotificationTemplates {
    /// The templates shipped with the code.
    pub fn bundled() -> Result<Self, TemplateError> {
        Self::parse(BUNDLED)
    }

    pub fn parse(json: &str) -> Result<Self, TemplateError> {
        let raw: BTreeMap<NotificationKind, BTreeMap<Language, Template>> =
            serde_json::from_str(json).map_err(|_| TemplateError::Shape)?;
        let mut templates = BTreeMap::new();
        for kind in NotificationKind::ALL {
            for language in Language::ALL {
                let template = raw
                    .get(kind)
                    .and_then(|by_language| by_language.get(language))
                    .ok_or(TemplateError::Missing {
                        kind: *kind,
                        language: *language,
                    })?;
                for text in [&template.subject, &template.body] {
                    for placeholder in placeholders(text) {
                        if !PLACEHOLDERS.contains(&placeholder) {
                            return Err(TemplateError::UnknownPlaceholder {
                                kind: *kind,
                                placeholder: placeholder.to_owned(),
                            });
                        }
                    }
                }
                templates.insert((*kind, *language), template.clone());
            }
        }
        Ok(Self { templates })
    }

    pub fn render(
        &self,
        kind: NotificationKind,
        language: Language,
        values: &Values<'_>,
    ) -> Result<Rendered, TemplateError> {
        let template = self
            .templates
            .get(&(kind, language))
            .ok_or(TemplateError::Missing { kind, language })?;
        Ok(Rendered {
            subject: fill(kind, &template.subject, values)?,
            body: fill(kind, &template.body, values)?,
        })
    }
}

fn placeholders(text: &str) -> impl Iterator<Item = &str> {
    text.split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
}

fn fill(kind: NotificationKind, text: &str, values: &Values<'_>) -> Result<String, TemplateError> {
    let mut out = text.to_owned();
    for (placeholder, value) in [
        ("reference", values.reference),
        ("team", values.team),
        ("due", values.due),
    ] {
        let marker = format!("{{{placeholder}}}");
        if out.contains(&marker) {
            let value = value.ok_or(TemplateError::MissingValue { kind, placeholder })?;
            out = out.replace(&marker, value);
        }
    }
    Ok(out)
}

impl PartialOrd for NotificationKind {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for NotificationKind {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl PartialOrd for Language {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Language {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_templates_cover_every_kind_in_both_languages() {
        let templates = NotificationTemplates::bundled().expect("valid templates");
        let values = Values {
            reference: Some("K7M2Q-9XW45"),
            team: Some("paiements"),
            due: Some("le lundi 30 novembre 2026 à 17 h 00 (heure de l'Est)"),
        };
        for kind in NotificationKind::ALL {
            for language in Language::ALL {
                let rendered = templates
                    .render(*kind, *language, &values)
                    .expect("renders");
                assert!(!rendered.subject.contains('{'), "{kind:?} {language:?}");
                assert!(!rendered.body.contains('{'), "{kind:?} {language:?}");
            }
        }
        let escalated = templates
            .render(NotificationKind::Escalated, Language::Fr, &values)
            .expect("renders");
        assert!(escalated.body.contains("l'équipe paiements"));
        assert!(escalated.body.contains("17 h 00"));
    }

    #[test]
    fn a_missing_language_or_unknown_placeholder_is_refused_at_load() {
        let only_french = r#"{"received": {"fr": {"subject": "s", "body": "b"}}}"#;
        assert!(matches!(
            NotificationTemplates::parse(only_french),
            Err(TemplateError::Missing { .. })
        ));
        let mut all: serde_json::Value = serde_json::from_str(BUNDLED).expect("bundled JSON");
        all["resolved"]["en"]["body"] = "Hi {player_name}".into();
        assert_eq!(
            NotificationTemplates::parse(&all.to_string()).err(),
            Some(TemplateError::UnknownPlaceholder {
                kind: NotificationKind::Resolved,
                placeholder: "player_name".into()
            })
        );
    }

    #[test]
    fn a_value_the_template_needs_must_be_given() {
        let templates = NotificationTemplates::bundled().expect("valid templates");
        assert_eq!(
            templates.render(NotificationKind::Received, Language::En, &Values::default()),
            Err(TemplateError::MissingValue {
                kind: NotificationKind::Received,
                placeholder: "reference"
            })
        );
    }
}

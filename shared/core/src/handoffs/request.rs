//! What the live-chat tool hands off, checked field by field, and the ticket it becomes: a
//! request on the chat channel (its response target is chat's), whose description is the
//! transcript, opened once per conversation however often the tool sends it.

use jiff::{SignedDuration, Timestamp};

use crate::common::player::{Language, PlayerId};
use crate::common::validation::{free_text, rfc3339, Fields, Rule, ValidationError};
use crate::tickets::intake::{TicketRequest, DESCRIPTION_MAX};
use crate::tickets::ports::IdempotencyKey;
use crate::tickets::ticket::{Category, Channel};

vocabulary!(
    /// Who said a line of the conversation.
    Speaker { Player => "player", Agent => "agent", Bot => "bot" }
);

const FIELDS: &[&str] = &[
    "provider",
    "conversation_id",
    "player_id",
    "language",
    "category",
    "transcript",
    "agent",
    "closed_at",
];
const LINE_FIELDS: &[&str] = &["at", "from", "text"];
pub const MAX_LINES: usize = 200;
pub const LINE_MAX: usize = 2_000;
/// A hand-off is of a conversation that just closed: one older than this is not a hand-off.
pub const MAX_AGE: SignedDuration = SignedDuration::from_hours(24);
const CLOCK_SKEW: SignedDuration = SignedDuration::from_mins(5);
/// The categories a chat may be handed off as: a complaint is filed by the player themselves.
pub const CATEGORY_NAMES: &[&str] = &[
    "technical",
    "account",
    "transaction",
    "verification",
    "incident",
];

/// One line of the conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranscriptLine {
    pub at: Timestamp,
    pub from: Speaker,
    pub text: String,
}

/// A checked hand-off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handoff {
    pub provider: String,
    pub conversation: String,
    pub player: PlayerId,
    pub language: Language,
    pub category: Category,
    pub transcript: Vec<TranscriptLine>,
    pub agent: Option<String>,
    pub closed_at: Timestamp,
}

/// `[a-z0-9-]{1,max}` (a provider) or `[A-Za-z0-9_-]{1,max}` (a conversation id): they make
/// the idempotency key, whose alphabet they must keep to.
fn identifier(field: &str, raw: &str, max: usize, upper: bool) -> Result<String, ValidationError> {
    let ok = (1..=max).contains(&raw.len())
        && raw.bytes().all(|b| {
            b.is_ascii_lowercase()
                || b.is_ascii_digit()
                || b == b'-'
                || (upper && (b.is_ascii_uppercase() || b == b'_'))
        });
    if ok {
        Ok(raw.to_owned())
    } else {
        Err(ValidationError::new(field, Rule::Identifier))
    }
}

impl Handoff {
    pub const PROVIDER_MAX: usize = 32;
    pub const CONVERSATION_MAX: usize = 80;

    /// Reads a hand-off's body, naming the first field that breaks its rule.
    pub fn parse(body: &serde_json::Value, now: Timestamp) -> Result<Self, ValidationError> {
        let object = body.as_object().ok_or_else(|| {
            ValidationError::new(
                "",
                Rule::Type {
                    expected: "a JSON object",
                },
            )
        })?;
        let fields = Fields::new("", object, FIELDS)?;
        let provider = identifier(
            "provider",
            fields.required_str("provider")?,
            Self::PROVIDER_MAX,
            false,
        )?;
        let conversation = identifier(
            "conversation_id",
            fields.required_str("conversation_id")?,
            Self::CONVERSATION_MAX,
            true,
        )?;
        let player = PlayerId::parse(fields.required_str("player_id")?)
            .ok_or_else(|| ValidationError::new("player_id", Rule::PlayerId))?;
        let language = fields
            .choice("language", Language::NAMES, Language::parse)?
            .ok_or_else(|| ValidationError::new("language", Rule::Required))?;
        let category = fields
            .choice("category", CATEGORY_NAMES, |c| {
                Category::parse(c).filter(|c| *c != Category::Complaint)
            })?
            .ok_or_else(|| ValidationError::new("category", Rule::Required))?;
        let agent = fields
            .optional_str("agent")?
            .map(|raw| identifier("agent", raw, 64, true))
            .transpose()?;
        let closed_at = rfc3339(fields.required_str("closed_at")?)
            .ok_or_else(|| ValidationError::new("closed_at", Rule::Timestamp))?;
        if closed_at > now + CLOCK_SKEW {
            return Err(ValidationError::new("closed_at", Rule::NotInFuture));
        }
        if closed_at < now - MAX_AGE {
            return Err(ValidationError::new(
                "closed_at",
                Rule::NotBefore { days: 1 },
            ));
        }
        let lines = match object.get("transcript") {
            None | Some(serde_json::Value::Null) => {
                return Err(ValidationError::new("transcript", Rule::Required))
            }
            Some(serde_json::Value::Array(lines)) => lines,
            Some(_) => {
                return Err(ValidationError::new(
                    "transcript",
                    Rule::Type {
                        expected: "a list of lines",
                    },
                ))
            }
        };
        if lines.is_empty() {
            return Err(ValidationError::new("transcript", Rule::Required));
        }
        if lines.len() > MAX_LINES {
            return Err(ValidationError::new(
                "transcript",
                Rule::MaxItems { max: MAX_LINES },
            ));
        }
        let transcript = lines
            .iter()
            .enumerate()
            .map(|(i, line)| Self::line(i, line, closed_at))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Handoff {
            provider,
            conversation,
            player,
            language,
            category,
            transcript,
            agent,
            closed_at,
        })
    }

    fn line(
        index: usize,
        value: &serde_json::Value,
        closed_at: Timestamp,
    ) -> Result<TranscriptLine, ValidationError> {
        let path = format!("transcript[{index}]");
        let object = value.as_object().ok_or_else(|| {
            ValidationError::new(
                &path,
                Rule::Type {
                    expected: "an object",
                },
            )
        })?;
        let fields = Fields::new(&path, object, LINE_FIELDS)?;
        let at = rfc3339(fields.required_str("at")?)
            .filter(|at| *at <= closed_at)
            .ok_or_else(|| ValidationError::new(fields.name("at"), Rule::Timestamp))?;
        let from = fields
            .choice("from", Speaker::NAMES, Speaker::parse)?
            .ok_or_else(|| ValidationError::new(fields.name("from"), Rule::Required))?;
        let text = fields.text("text", 1, LINE_MAX)?;
        Ok(TranscriptLine { at, from, text })
    }

    /// The key that makes the conversation one ticket, whoever sends it and how often:
    /// `chat:<provider>:<conversation>`, scoped to the player like every idempotency key.
    pub fn idempotency_key(&self) -> Option<IdempotencyKey> {
        IdempotencyKey::parse(&self.origin())
    }

    /// `chat:<provider>:<conversation>`: what the conversation's ticket or message records it
    /// came in on.
    pub fn origin(&self) -> String {
        format!("chat:{}:{}", self.provider, self.conversation)
    }

    /// The ticket the hand-off opens: on the chat channel, its subject in the player's
    /// language, its description the transcript (the newest lines kept when it is longer than
    /// a description may be: they say where the conversation stopped).
    pub fn ticket_request(&self) -> Result<TicketRequest, ValidationError> {
        let subject = match self.language {
            Language::Fr => "Suite de votre conversation par clavardage",
            Language::En => "Follow-up of your chat conversation",
        };
        let speaker = |from: Speaker| match (self.language, from) {
            (Language::Fr, Speaker::Player) => "Joueur",
            (Language::Fr, Speaker::Agent) => "Agent",
            (Language::Fr, Speaker::Bot) => "Assistant automatique",
            (Language::En, Speaker::Player) => "Player",
            (Language::En, Speaker::Agent) => "Agent",
            (Language::En, Speaker::Bot) => "Automated assistant",
        };
        let mut lines: Vec<String> = self
            .transcript
            .iter()
            .map(|l| format!("[{}] {} : {}", l.at, speaker(l.from), l.text))
            .collect();
        let length = |lines: &[String]| lines.iter().map(|l| l.chars().count() + 1).sum::<usize>();
        while length(&lines) > DESCRIPTION_MAX && lines.len() > 1 {
            lines.remove(0);
        }
        let mut description = lines.join("\n");
        if description.chars().count() > DESCRIPTION_MAX {
            description = description.chars().take(DESCRIPTION_MAX).collect();
        }
        // At least the description's minimum: a one-word chat is padded with its origin.
        if description.chars().count() < crate::tickets::intake::DESCRIPTION_MIN {
            description = format!("{description} ({}, {})", self.provider, self.conversation);
        }
        Ok(TicketRequest {
            channel: Channel::Chat,
            category: self.category,
            subject: free_text("subject", subject, 1, 150)?,
            description: free_text("transcript", &description, 1, DESCRIPTION_MAX)?,
            language: self.language,
            incident: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2026-11-26T15:00:00Z".parse().expect("valid")
    }

    fn body() -> serde_json::Value {
        serde_json::json!({
            "provider": "zendesk",
            "conversation_id": "conv_8F2k-91",
            "player_id": "player-7f3a9c",
            "language": "fr",
            "category": "transaction",
            "agent": "agent-12",
            "closed_at": "2026-11-26T14:58:00Z",
            "transcript": [
                {"at": "2026-11-26T14:50:00Z", "from": "player", "text": "Mon retrait est bloqué."},
                {"at": "2026-11-26T14:51:00Z", "from": "agent", "text": "Je transmets à l'équipe paiements."}
            ]
        })
    }

    #[test]
    fn a_hand_off_becomes_a_chat_request_with_its_transcript() {
        let handoff = Handoff::parse(&body(), now()).expect("valid");
        assert_eq!(handoff.transcript.len(), 2);
        let request = handoff.ticket_request().expect("a request");
        assert_eq!(request.channel, Channel::Chat);
        assert_eq!(request.category, Category::Transaction);
        assert_eq!(request.language, Language::Fr);
        assert!(request
            .description
            .contains("Joueur : Mon retrait est bloqué."));
        assert!(request.description.contains("Agent : Je transmets"));
        assert_eq!(
            handoff.idempotency_key().map(|k| k.as_str().to_owned()),
            Some("chat:zendesk:conv_8F2k-91".to_owned())
        );
    }

    #[test]
    fn a_long_transcript_keeps_its_newest_lines() {
        let mut body = body();
        let lines: Vec<serde_json::Value> = (0..MAX_LINES)
            .map(|i| {
                serde_json::json!({"at": "2026-11-26T14:50:00Z", "from": "player",
                "text": format!("ligne {i} {}", "x".repeat(100))})
            })
            .collect();
        body["transcript"] = serde_json::Value::Array(lines);
        let request = Handoff::parse(&body, now())
            .expect("valid")
            .ticket_request()
            .expect("a request");
        assert!(request.description.chars().count() <= DESCRIPTION_MAX);
        assert!(request
            .description
            .contains(&format!("ligne {} ", MAX_LINES - 1)));
        assert!(!request.description.contains("ligne 0 "));
    }

    #[tokio::test]
    async fn the_same_conversation_handed_off_twice_is_one_ticket_on_chats_target() {
        use crate::tickets::desk::Submitted;
        let desk = crate::tickets::memory::desk("2026-11-26T15:00:00Z");
        let handoff = Handoff::parse(&body(), now()).expect("valid");
        let submit = || async {
            desk.submit(
                handoff.player.clone(),
                handoff.ticket_request().expect("a request"),
                handoff.idempotency_key(),
                None,
            )
            .await
            .expect("stored")
        };
        let Submitted::Created(first, _) = submit().await else {
            panic!("created");
        };
        let Submitted::Replayed(again) = submit().await else {
            panic!("replayed");
        };
        assert_eq!(first.reference, again.reference);
        assert_eq!(desk.store.ticket_count(), 1);
        // Chat answers in minutes while it is open (10:00 EST on a Thursday).
        assert_eq!(
            first.response_target.due_at,
            "2026-11-26T15:05:00Z".parse::<Timestamp>().expect("valid")
        );
    }

    #[test]
    fn every_bad_field_is_named() {
        let cases: Vec<(&str, serde_json::Value, &str)> = vec![
            ("provider", serde_json::json!("Zen Desk"), "provider"),
            (
                "conversation_id",
                serde_json::json!("a/b"),
                "conversation_id",
            ),
            ("player_id", serde_json::json!(""), "player_id"),
            ("language", serde_json::json!("de"), "language"),
            ("category", serde_json::json!("complaint"), "category"),
            (
                "closed_at",
                serde_json::json!("2026-11-27T15:00:00Z"),
                "closed_at",
            ),
            (
                "closed_at",
                serde_json::json!("2026-11-20T15:00:00Z"),
                "closed_at",
            ),
            ("transcript", serde_json::json!([]), "transcript"),
            ("transcript", serde_json::json!("texte"), "transcript"),
            (
                "transcript",
                serde_json::json!([{"at": "2026-11-26T14:50:00Z", "from": "cat", "text": "x"}]),
                "transcript[0].from",
            ),
            (
                "transcript",
                serde_json::json!([{"at": "2026-11-26T14:59:00Z", "from": "player", "text": "x"}]),
                "transcript[0].at",
            ),
            (
                "transcript",
                serde_json::json!([{"at": "2026-11-26T14:50:00Z", "from": "player", "text": "x", "extra": 1}]),
                "transcript[0].extra",
            ),
            ("unknown", serde_json::json!(1), "unknown"),
        ];
        for (key, value, field) in cases {
            let mut body = body();
            body[key] = value.clone();
            let error = Handoff::parse(&body, now()).expect_err(key);
            assert_eq!(error.field, field, "{key}={value}");
        }
    }
}

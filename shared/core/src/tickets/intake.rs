//! Intake: from a player's JSON request to a new ticket.

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::common::player::{Author, Language, PlayerId};
use crate::common::reference::TicketReference;
use crate::common::validation::{rfc3339, Fields, Rule, ValidationError};
use crate::tickets::sla::{ResponseTarget, SupportCalendar};
use crate::tickets::ticket::{
    priority_for, team_for, Category, Channel, IncidentDetails, StatusChange, Ticket, TicketStatus,
};

pub const SUBJECT_MIN: usize = 3;
pub const SUBJECT_MAX: usize = 150;
pub const DESCRIPTION_MIN: usize = 10;
pub const DESCRIPTION_MAX: usize = 5_000;
pub const GAME_NAME_MAX: usize = 100;
pub const PAYMENT_SYSTEM_MAX: usize = 100;
pub const TRANSACTION_ID_MAX: usize = 64;
pub const STEPS_MAX_ITEMS: usize = 10;
pub const STEP_MAX: usize = 500;
/// Older incidents go through the complaints process, not the support desk.
pub const INCIDENT_MAX_AGE_DAYS: i64 = 90;
/// Players' clocks drift; a report a few minutes "in the future" is still honest.
const CLOCK_SKEW: SignedDuration = SignedDuration::from_mins(5);

const FIELDS: &[&str] = &[
    "channel",
    "category",
    "subject",
    "description",
    "language",
    "incident",
];
const INCIDENT_FIELDS: &[&str] = &[
    "occurred_at",
    "game_name",
    "payment_system",
    "transaction_id",
    "steps_tried",
];

/// A validated support request. The player is not in it: it comes from the token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TicketRequest {
    pub channel: Channel,
    pub category: Category,
    pub subject: String,
    pub description: String,
    pub language: Language,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incident: Option<IncidentDetails>,
}

impl TicketRequest {
    /// Validates a request body. `accept_language` supplies the language when the body has
    /// none; `now` bounds the incident time.
    pub fn parse(
        body: &serde_json::Value,
        accept_language: Option<&str>,
        now: Timestamp,
    ) -> Result<Self, ValidationError> {
        let serde_json::Value::Object(object) = body else {
            return Err(ValidationError::new(
                "body",
                Rule::Type {
                    expected: "a JSON object",
                },
            ));
        };
        let fields = Fields::new("", object, FIELDS)?;
        let channel = fields
            .choice("channel", Channel::NAMES, Channel::parse)?
            .ok_or_else(|| ValidationError::new("channel", Rule::Required))?;
        let category = fields
            .choice("category", Category::NAMES, Category::parse)?
            .ok_or_else(|| ValidationError::new("category", Rule::Required))?;
        let subject = fields.text("subject", SUBJECT_MIN, SUBJECT_MAX)?;
        let description = fields.text("description", DESCRIPTION_MIN, DESCRIPTION_MAX)?;
        let language = fields
            .choice("language", Language::NAMES, Language::parse)?
            .unwrap_or_else(|| Language::from_accept_language(accept_language));
        let incident = match (category, fields.object("incident")?) {
            (Category::Incident, Some(details)) => Some(parse_incident(details, now)?),
            (Category::Incident, None) => {
                return Err(ValidationError::new("incident", Rule::Required))
            }
            (_, Some(_)) => {
                return Err(ValidationError::new(
                    "incident",
                    Rule::NotAllowedHere {
                        reason: "only requests of category incident carry incident details",
                    },
                ))
            }
            (_, None) => None,
        };
        Ok(Self {
            channel,
            category,
            subject,
            description,
            language,
            incident,
        })
    }

    /// A stable digest of the validated request, so a retry that differs only in JSON
    /// whitespace, key order or surrounding spaces still counts as the same request.
    pub fn fingerprint(&self) -> String {
        crate::common::digest::json_sha256(self)
    }

    /// Opens the ticket: priority, team and response target follow the desk's rules.
    pub fn open(
        self,
        reference: TicketReference,
        player: PlayerId,
        now: Timestamp,
        calendar: &SupportCalendar,
    ) -> (Ticket, StatusChange, ResponseTarget) {
        let priority = priority_for(self.category, self.incident.as_ref());
        let team = team_for(self.category, self.incident.as_ref());
        let target = calendar.response_target(self.channel, priority, now);
        let ticket = Ticket {
            reference,
            player,
            channel: self.channel,
            category: self.category,
            subject: self.subject,
            description: self.description,
            language: self.language,
            priority,
            team,
            status: TicketStatus::Open,
            incident: self.incident,
            linked_incident: None,
            verification_case: None,
            assignee: None,
            merged_into: None,
            merged_from: Vec::new(),
            created_at: now,
            updated_at: now,
            response_due_at: target.due_at,
            clocks: None,
            version: 1,
        };
        let received = StatusChange {
            at: now,
            status: TicketStatus::Open,
            actor: Author::Player,
            reason: "received".to_owned(),
            extended_minutes: None,
            rebased: None,
        };
        (ticket, received, target)
    }
}

fn parse_incident(
    object: &serde_json::Map<String, serde_json::Value>,
    now: Timestamp,
) -> Result<IncidentDetails, ValidationError> {
    let fields = Fields::new("incident", object, INCIDENT_FIELDS)?;
    let occurred_at = rfc3339(fields.required_str("occurred_at")?)
        .ok_or_else(|| ValidationError::new(fields.name("occurred_at"), Rule::Timestamp))?;
    if occurred_at > now + CLOCK_SKEW {
        return Err(ValidationError::new(
            fields.name("occurred_at"),
            Rule::NotInFuture,
        ));
    }
    if occurred_at < now - SignedDuration::from_hours(24 * INCIDENT_MAX_AGE_DAYS) {
        return Err(ValidationError::new(
            fields.name("occurred_at"),
            Rule::NotBefore {
                days: INCIDENT_MAX_AGE_DAYS,
            },
        ));
    }
    let game_name = fields.optional_text("game_name", GAME_NAME_MAX)?;
    let payment_system = fields.optional_text("payment_system", PAYMENT_SYSTEM_MAX)?;
    let transaction_id = fields.optional_text("transaction_id", TRANSACTION_ID_MAX)?;
    if let Some(id) = &transaction_id {
        if !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(ValidationError::new(
                fields.name("transaction_id"),
                Rule::Identifier,
            ));
        }
    }
    if game_name.is_none() && payment_system.is_none() && transaction_id.is_none() {
        return Err(ValidationError::new(
            "incident",
            Rule::AtLeastOneOf {
                fields: &["game_name", "payment_system", "transaction_id"],
            },
        ));
    }
    let steps_tried = fields.text_list("steps_tried", STEPS_MAX_ITEMS, STEP_MAX)?;
    Ok(IncidentDetails {
        occurred_at,
        game_name,
        payment_system,
        transaction_id,
        steps_tried,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> Timestamp {
        "2026-11-26T15:00:00Z".parse().expect("valid timestamp")
    }

    fn base() -> serde_json::Value {
        json!({
            "channel": "form",
            "category": "technical",
            "subject": "Le jeu ne charge pas",
            "description": "La page reste blanche après la connexion.",
        })
    }

    fn incident_body(incident: serde_json::Value) -> serde_json::Value {
        let mut body = base();
        body["category"] = json!("incident");
        body["incident"] = incident;
        body
    }

    fn error_of(body: serde_json::Value) -> ValidationError {
        match TicketRequest::parse(&body, None, now()) {
            Err(e) => e,
            Ok(request) => panic!("expected a validation error, got {request:?}"),
        }
    }

    #[test]
    fn a_valid_request_parses_with_french_by_default() {
        let request = TicketRequest::parse(&base(), None, now()).expect("valid");
        assert_eq!(request.language, Language::Fr);
        assert_eq!(request.channel, Channel::Form);
        assert_eq!(request.incident, None);
    }

    #[test]
    fn language_comes_from_the_body_then_the_header() {
        let request = TicketRequest::parse(&base(), Some("en-CA,en;q=0.9"), now()).expect("ok");
        assert_eq!(request.language, Language::En);
        let mut body = base();
        body["language"] = json!("fr");
        let request = TicketRequest::parse(&body, Some("en"), now()).expect("ok");
        assert_eq!(request.language, Language::Fr);
    }

    #[test]
    fn each_field_rule_is_named() {
        let mut body = base();
        body["channel"] = json!("fax");
        assert_eq!(error_of(body).field, "channel");

        let mut body = base();
        body.as_object_mut().expect("object").remove("category");
        assert_eq!(
            error_of(body),
            ValidationError::new("category", Rule::Required)
        );

        let mut body = base();
        body["subject"] = json!(42);
        assert_eq!(
            error_of(body).rule,
            Rule::Type {
                expected: "a string"
            }
        );

        let mut body = base();
        body["description"] = json!("x".repeat(DESCRIPTION_MAX + 1));
        assert_eq!(
            error_of(body),
            ValidationError::new(
                "description",
                Rule::MaxLength {
                    max: DESCRIPTION_MAX
                }
            )
        );

        let mut body = base();
        body["player_id"] = json!("someone-else");
        assert_eq!(
            error_of(body),
            ValidationError::new("player_id", Rule::UnknownField)
        );

        assert_eq!(error_of(json!([1, 2])).field, "body");
    }

    #[test]
    fn incidents_need_details_and_others_refuse_them() {
        let mut body = base();
        body["category"] = json!("incident");
        assert_eq!(
            error_of(body),
            ValidationError::new("incident", Rule::Required)
        );

        let mut body = base();
        body["incident"] =
            json!({"occurred_at": "2026-11-26T14:00:00Z", "game_name": "x", "steps_tried": []});
        assert_eq!(error_of(body).field, "incident");
    }

    #[test]
    fn an_incident_is_fully_checked() {
        let ok = incident_body(json!({
            "occurred_at": "2026-11-26T09:30:00-05:00",
            "game_name": "Roulette Royale",
            "steps_tried": ["Rechargé la page", "Vidé le cache"],
        }));
        let request = TicketRequest::parse(&ok, None, now()).expect("valid incident");
        let details = request.incident.expect("incident details");
        assert_eq!(details.steps_tried.len(), 2);
        assert_eq!(
            details.occurred_at,
            "2026-11-26T14:30:00Z".parse::<Timestamp>().expect("valid")
        );

        let neither =
            incident_body(json!({"occurred_at": "2026-11-26T14:00:00Z", "steps_tried": []}));
        assert!(matches!(error_of(neither).rule, Rule::AtLeastOneOf { .. }));

        let future = incident_body(
            json!({"occurred_at": "2026-11-27T14:00:00Z", "game_name": "x", "steps_tried": []}),
        );
        assert_eq!(
            error_of(future),
            ValidationError::new("incident.occurred_at", Rule::NotInFuture)
        );

        let old = incident_body(
            json!({"occurred_at": "2026-01-01T00:00:00Z", "game_name": "x", "steps_tried": []}),
        );
        assert_eq!(error_of(old).field, "incident.occurred_at");

        let no_offset = incident_body(
            json!({"occurred_at": "2026-11-26 14:00", "game_name": "x", "steps_tried": []}),
        );
        assert_eq!(
            error_of(no_offset),
            ValidationError::new("incident.occurred_at", Rule::Timestamp)
        );
        // What jiff alone would take, but two readers could disagree on.
        for lenient in [
            "2026-11-26T10:00:00+05:00[America/Toronto]",
            "2026-11-26t14:00:00z",
            "2026-11-26T14:00:00+0000",
            "2026-11-26T14:00Z",
        ] {
            let body =
                incident_body(json!({"occurred_at": lenient, "game_name": "x", "steps_tried": []}));
            assert_eq!(
                error_of(body),
                ValidationError::new("incident.occurred_at", Rule::Timestamp),
                "{lenient}"
            );
        }
        let hidden = incident_body(json!({
            "occurred_at": "2026-11-26T14:00:00Z",
            "game_name": "Roulette\u{202E}elatot",
            "steps_tried": ["\u{200B}"],
        }));
        assert_eq!(
            error_of(hidden),
            ValidationError::new("incident.game_name", Rule::InvisibleCharacter)
        );

        let payment = incident_body(json!({
            "occurred_at": "2026-11-26T14:00:00Z",
            "payment_system": "  Interac e-Transfer ",
            "steps_tried": [],
        }));
        let request = TicketRequest::parse(&payment, None, now()).expect("a payment system alone");
        let details = request.incident.expect("incident details");
        assert_eq!(
            details.payment_system.as_deref(),
            Some("Interac e-Transfer")
        );
        assert_eq!(details.game_name, None);

        let long_system = incident_body(json!({
            "occurred_at": "2026-11-26T14:00:00Z",
            "payment_system": "p".repeat(PAYMENT_SYSTEM_MAX + 1),
            "steps_tried": [],
        }));
        assert_eq!(
            error_of(long_system),
            ValidationError::new(
                "incident.payment_system",
                Rule::MaxLength {
                    max: PAYMENT_SYSTEM_MAX
                }
            )
        );
        let control = incident_body(json!({
            "occurred_at": "2026-11-26T14:00:00Z",
            "payment_system": "Interac\u{0007}",
            "steps_tried": [],
        }));
        assert_eq!(
            error_of(control),
            ValidationError::new("incident.payment_system", Rule::PrintableText)
        );

        let bad_tx = incident_body(
            json!({"occurred_at": "2026-11-26T14:00:00Z", "transaction_id": "TX 1; drop", "steps_tried": []}),
        );
        assert_eq!(
            error_of(bad_tx),
            ValidationError::new("incident.transaction_id", Rule::Identifier)
        );

        let steps = vec!["step"; STEPS_MAX_ITEMS + 1];
        let too_many = incident_body(
            json!({"occurred_at": "2026-11-26T14:00:00Z", "game_name": "x", "steps_tried": steps}),
        );
        assert_eq!(
            error_of(too_many),
            ValidationError::new(
                "incident.steps_tried",
                Rule::MaxItems {
                    max: STEPS_MAX_ITEMS
                }
            )
        );
    }

    #[test]
    fn the_fingerprint_ignores_formatting_but_not_content() {
        let a = TicketRequest::parse(&base(), None, now()).expect("valid");
        let mut spaced = base();
        spaced["subject"] = json!("  Le jeu ne charge pas  ");
        let b = TicketRequest::parse(&spaced, None, now()).expect("valid");
        assert_eq!(a.fingerprint(), b.fingerprint());
        let mut other = base();
        other["subject"] = json!("Autre chose");
        let c = TicketRequest::parse(&other, None, now()).expect("valid");
        assert_ne!(a.fingerprint(), c.fingerprint());

        let incident = |system: &str| {
            let body = incident_body(json!({
                "occurred_at": "2026-11-26T14:00:00Z",
                "payment_system": system,
                "steps_tried": [],
            }));
            TicketRequest::parse(&body, None, now())
                .expect("valid")
                .fingerprint()
        };
        assert_eq!(incident("Interac"), incident(" Interac "));
        assert_ne!(
            incident("Interac"),
            incident("PayPal"),
            "the payment system counts"
        );
    }
}

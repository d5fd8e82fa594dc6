//! Player notifications rendered from templates kept as data (`shared/templates/
//! notifications.json`), in the ticket's language. The templates are checked when they are
//! loaded — every kind in both languages, only known placeholders — so a typo fails a test and
//! the function's init, never a player's e-mail.

use std::collections::BTreeMap;

use jiff::tz::TimeZone;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::common::player::{Language, PlayerId};
use crate::common::reference::TicketReference;
use crate::outbox::rules::{Destination, MessageId, OutboxMessage};
use crate::tickets::acknowledgement::{local_due, team_name};
use crate::tickets::ticket::{Ticket, TicketStatus};
use crate::tickets::workflow::Change;
use crate::verification::rules::CaseId;

vocabulary!(
    /// Every status change a player hears of.
    NotificationKind {
        Received => "received",
        AgentReply => "agent_reply",
        Escalated => "escalated",
        WaitingOnPlayer => "waiting_on_player",
        Resolved => "resolved",
        /// News of the multi-player incident a ticket is linked to (`domain::incident`).
        IncidentUpdate => "incident_update",
        /// An agent extended the delay: the new date the player may expect
        /// (`promises::extension`).
        DelayExtended => "delay_extended",
        /// A complaint nears the regulator's limit: the player may take it to the regulator
        /// (`promises::sweep`).
        RegulatorNotice => "regulator_notice",
        /// A duplicate was merged into this ticket: the player's requests go on under its
        /// reference (`tickets::merge`).
        Merged => "merged",
        VerificationApproved => "verification_approved",
        VerificationResubmission => "verification_resubmission",
        VerificationRejected => "verification_rejected",
    }
);

const BUNDLED: &str = include_str!("../../templates/notifications.json");
const PLACEHOLDERS: &[&str] = &["reference", "team", "due", "regulator"];

/// The schema of the notifications queue's messages.
pub const NOTIFICATION_SCHEMA: &str = "guichet.notification.v2";

/// The schema before v2, whose messages also carried the rendered text. Still read, so that
/// what was in the outbox or on the queue at a deploy is delivered; its text is dropped unread.
pub const LEGACY_NOTIFICATION_SCHEMA: &str = "guichet.notification.v1";

/// A notification as the player reads it on the ticket, rendered once, when the change
/// happened, in the ticket's language.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    pub id: MessageId,
    pub kind: NotificationKind,
    pub language: Language,
    pub subject: String,
    pub body: String,
    pub at: Timestamp,
}

/// What a notification is about: the item collection it is stored in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum About {
    Ticket(TicketReference),
    Case(CaseId),
}

impl About {
    /// For logs: a ticket's reference or a case's id (neither is personal information).
    pub fn as_str(&self) -> &str {
        match self {
            About::Ticket(reference) => reference.as_str(),
            About::Case(case) => case.as_str(),
        }
    }
}

/// The notifications queue's message (schema `guichet.notification.v2`). It *names* a
/// notification — its id, what it is about, when it was made — and carries no text and no
/// address: the sender reads the notification the table holds, checks that it is owed to this
/// player, and sends that. Whoever can write to the queue can at most make an owed notification
/// go out (once), never mail a player words of their choosing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "WireMessage", into = "WireMessage")]
pub struct NotificationMessage {
    pub notification_id: MessageId,
    pub player: PlayerId,
    pub about: About,
    pub kind: NotificationKind,
    pub created_at: Timestamp,
}

/// Why a queue message is not a notification message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    #[error("the message is of another schema than {NOTIFICATION_SCHEMA}")]
    Schema,
    #[error("the message names neither a ticket nor a case, or both")]
    About,
    #[error("a {NOTIFICATION_SCHEMA} message carries text, which only v1 did")]
    Text,
}

/// The message as it travels. `deny_unknown_fields`: a producer writing something the sender
/// does not read is a mismatch to look at, not to ignore.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireMessage {
    schema: String,
    notification_id: MessageId,
    player: PlayerId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ticket: Option<TicketReference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    case: Option<CaseId>,
    kind: NotificationKind,
    created_at: Timestamp,
    // v1's rendered text: read only to be dropped.
    #[serde(default, skip_serializing)]
    language: Option<serde::de::IgnoredAny>,
    #[serde(default, skip_serializing)]
    subject: Option<serde::de::IgnoredAny>,
    #[serde(default, skip_serializing)]
    body: Option<serde::de::IgnoredAny>,
}

impl TryFrom<WireMessage> for NotificationMessage {
    type Error = MessageError;

    fn try_from(wire: WireMessage) -> Result<Self, MessageError> {
        let carries_text = wire.language.is_some() || wire.subject.is_some() || wire.body.is_some();
        match wire.schema.as_str() {
            NOTIFICATION_SCHEMA if carries_text => return Err(MessageError::Text),
            NOTIFICATION_SCHEMA | LEGACY_NOTIFICATION_SCHEMA => {}
            _ => return Err(MessageError::Schema),
        }
        let about = match (wire.ticket, wire.case) {
            (Some(reference), None) => About::Ticket(reference),
            (None, Some(case)) => About::Case(case),
            _ => return Err(MessageError::About),
        };
        Ok(Self {
            notification_id: wire.notification_id,
            player: wire.player,
            about,
            kind: wire.kind,
            created_at: wire.created_at,
        })
    }
}

impl From<NotificationMessage> for WireMessage {
    fn from(message: NotificationMessage) -> Self {
        let (ticket, case) = match message.about {
            About::Ticket(reference) => (Some(reference), None),
            About::Case(case) => (None, Some(case)),
        };
        Self {
            schema: NOTIFICATION_SCHEMA.to_owned(),
            notification_id: message.notification_id,
            player: message.player,
            ticket,
            case,
            kind: message.kind,
            created_at: message.created_at,
            language: None,
            subject: None,
            body: None,
        }
    }
}

impl NotificationMessage {
    /// The message that names `notification`, owed to `player`.
    pub fn naming(notification: &Notification, player: &PlayerId, about: About) -> Self {
        Self {
            notification_id: notification.id.clone(),
            player: player.clone(),
            about,
            kind: notification.kind,
            created_at: notification.at,
        }
    }
}

/// A notification as the table holds it, with the player who owns what it is about (read from
/// the ticket or the case, not from the message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredNotification {
    pub owner: PlayerId,
    pub notification: Notification,
}

/// Why a message names nothing the sender may send. Each is final: a retry reads the same
/// table. Each is also a sign that something other than the outbox relay wrote to the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NotOwed {
    #[error("no such notification is stored")]
    Unknown,
    #[error("the notification's ticket or case is another player's")]
    OtherPlayer,
    #[error("the stored notification is of another kind")]
    OtherKind,
}

/// The notification `message` names, if the table holds it and owes it to that player. The
/// stored one is looked up by the message's id and time, so a match of the id is given; the
/// owner and the kind are checked here.
pub fn owed(
    message: &NotificationMessage,
    stored: Option<StoredNotification>,
) -> Result<Notification, NotOwed> {
    let stored = stored.ok_or(NotOwed::Unknown)?;
    if stored.owner != message.player {
        return Err(NotOwed::OtherPlayer);
    }
    if stored.notification.kind != message.kind || stored.notification.id != message.notification_id
    {
        return Err(NotOwed::OtherKind);
    }
    Ok(stored.notification)
}

/// Which notification, if any, a change of a ticket owes its player: the changes a player
/// should know of, never the desk's internal moves (taking a ticket, closing a resolved one).
/// An escalation is announced when it is routed (`routed`), once the team has it.
pub fn kind_for(before: &Ticket, change: &Change, routed: bool) -> Option<NotificationKind> {
    if routed {
        return Some(NotificationKind::Escalated);
    }
    // An internal note is for staff alone; the player's own answers are not news to them;
    // staff replies are.
    if change.message.as_ref().is_some_and(|m| m.internal) {
        return None;
    }
    if change
        .message
        .as_ref()
        .is_some_and(|m| matches!(m.author, crate::common::player::Author::Staff { .. }))
    {
        return Some(NotificationKind::AgentReply);
    }
    if change.message.is_some() {
        return None;
    }
    if change.history.iter().any(|l| l.extended_minutes.is_some()) {
        return Some(NotificationKind::DelayExtended);
    }
    if before.status == change.ticket.status {
        return None;
    }
    match change.ticket.status {
        TicketStatus::WaitingOnPlayer => Some(NotificationKind::WaitingOnPlayer),
        TicketStatus::Resolved => Some(NotificationKind::Resolved),
        TicketStatus::Open | TicketStatus::Escalated | TicketStatus::Closed => None,
    }
}

/// Renders notifications in the desk's time zone; built once per container.
#[derive(Debug, Clone)]
pub struct Notifier {
    templates: NotificationTemplates,
    zone: TimeZone,
}

impl Notifier {
    pub fn new(templates: NotificationTemplates, zone: TimeZone) -> Self {
        Self { templates, zone }
    }

    /// The templates shipped with the code, in the desk's time zone. Both are compiled in
    /// (the zone from the bundled tz database) and checked by this module's tests, so this
    /// cannot fail at run time unless the build itself is broken.
    pub fn bundled() -> Self {
        let templates = NotificationTemplates::bundled()
            .unwrap_or_else(|e| panic!("the bundled notification templates: {e}"));
        let zone = TimeZone::get(crate::tickets::sla::DESK_TIME_ZONE)
            .unwrap_or_else(|e| panic!("the bundled time zone: {e}"));
        Self { templates, zone }
    }

    /// The notification of `kind` about `ticket` as it is now, and the outbox message that
    /// carries it to the sender.
    pub fn for_ticket(
        &self,
        kind: NotificationKind,
        ticket: &Ticket,
        id: MessageId,
        at: Timestamp,
    ) -> Result<(Notification, OutboxMessage), NotifyError> {
        self.about_ticket(kind, ticket, None, id, at)
    }

    /// The notice that a complaint may go to `regulator` (named in the player's language),
    /// with the date of the regulator's limit as its `{due}`.
    pub fn for_regulator_notice(
        &self,
        ticket: &Ticket,
        regulator: &str,
        id: MessageId,
        at: Timestamp,
    ) -> Result<(Notification, OutboxMessage), NotifyError> {
        self.about_ticket(
            NotificationKind::RegulatorNotice,
            ticket,
            Some(regulator),
            id,
            at,
        )
    }

    fn about_ticket(
        &self,
        kind: NotificationKind,
        ticket: &Ticket,
        regulator: Option<&str>,
        id: MessageId,
        at: Timestamp,
    ) -> Result<(Notification, OutboxMessage), NotifyError> {
        // An extension tells the new date of the resolution, a regulator notice the limit;
        // the rest, the next answer's.
        let clocks = ticket.clocks.as_ref();
        let due_at = match kind {
            NotificationKind::DelayExtended => clocks
                .and_then(|c| c.resolution.as_ref())
                .and_then(|c| c.due_at),
            NotificationKind::RegulatorNotice => clocks
                .and_then(|c| c.regulator.as_ref())
                .map(|r| r.limit_at),
            _ => None,
        }
        .unwrap_or(ticket.response_due_at);
        let due = local_due(&due_at.to_zoned(self.zone.clone()), ticket.language);
        // As the acknowledgement wrote it, with its dash: what the player reads out to an agent.
        let reference = ticket.reference.to_string();
        let rendered = self.templates.render(
            kind,
            ticket.language,
            &Values {
                reference: Some(&reference),
                team: Some(team_name(ticket.team, ticket.language)),
                due: Some(&due),
                regulator,
            },
        )?;
        let notification = Notification {
            id: id.clone(),
            kind,
            language: ticket.language,
            subject: rendered.subject,
            body: rendered.body,
            at,
        };
        let message = NotificationMessage::naming(
            &notification,
            &ticket.player,
            About::Ticket(ticket.reference.clone()),
        );
        let outbox = OutboxMessage::new(
            id,
            Destination::Notifications,
            ticket.reference.as_str(),
            &message,
            at,
        )?;
        Ok((notification, outbox))
    }

    /// A verification decision's notification: about the player's case, not a ticket. Kept
    /// with the case, as a ticket's is with the ticket.
    pub fn for_case(
        &self,
        kind: NotificationKind,
        player: &PlayerId,
        case: &CaseId,
        language: Language,
        id: MessageId,
        at: Timestamp,
    ) -> Result<(Notification, OutboxMessage), NotifyError> {
        let rendered = self.templates.render(kind, language, &Values::default())?;
        let notification = Notification {
            id: id.clone(),
            kind,
            language,
            subject: rendered.subject,
            body: rendered.body,
            at,
        };
        let message = NotificationMessage::naming(&notification, player, About::Case(case.clone()));
        let outbox =
            OutboxMessage::new(id, Destination::Notifications, case.as_str(), &message, at)?;
        Ok((notification, outbox))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error("the notification could not be serialised")]
    Json(#[from] serde_json::Error),
}

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
    pub regulator: Option<&'a str>,
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
        ("regulator", values.regulator),
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
            regulator: Some("iGaming Ontario"),
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

    fn ticket(language: Language, status: TicketStatus) -> Ticket {
        Ticket {
            reference: TicketReference::from_random([7; 9]),
            player: PlayerId::parse("player-1").expect("valid"),
            channel: crate::tickets::ticket::Channel::Email,
            language,
            created_at: "2026-11-27T14:00:00Z".parse().expect("valid"),
            updated_at: "2026-11-27T14:00:00Z".parse().expect("valid"),
            response_due_at: "2026-11-30T22:00:00Z".parse().expect("valid"),
            version: 2,
            ..crate::tickets::ticket::sample(status)
        }
    }

    fn change(to: TicketStatus, message: bool) -> Change {
        Change {
            ticket: ticket(Language::Fr, to),
            expected_version: 1,
            history: Vec::new(),
            message: message.then(|| crate::tickets::workflow::Message {
                at: Timestamp::UNIX_EPOCH,
                author: crate::common::player::Author::Staff { id: "a".into() },
                body: "Bonjour".into(),
                origin: None,
                internal: false,
            }),
        }
    }

    #[test]
    fn players_hear_of_the_changes_that_concern_them_and_no_others() {
        let open = ticket(Language::Fr, TicketStatus::Open);
        let kind = |to, message, routed| kind_for(&open, &change(to, message), routed);
        assert_eq!(
            kind(TicketStatus::Open, true, false),
            Some(NotificationKind::AgentReply)
        );
        assert_eq!(
            kind(TicketStatus::WaitingOnPlayer, false, false),
            Some(NotificationKind::WaitingOnPlayer)
        );
        assert_eq!(
            kind(TicketStatus::Resolved, false, false),
            Some(NotificationKind::Resolved)
        );
        assert_eq!(
            kind(TicketStatus::Escalated, false, true),
            Some(NotificationKind::Escalated)
        );
        // Requested but not yet routed, taken, closed, reopened: nothing to tell.
        assert_eq!(kind(TicketStatus::Escalated, false, false), None);
        assert_eq!(kind(TicketStatus::Open, false, false), None);
        let resolved = ticket(Language::Fr, TicketStatus::Resolved);
        assert_eq!(
            kind_for(&resolved, &change(TicketStatus::Closed, false), false),
            None
        );
        // The player's own answer is not news to them.
        let waiting = ticket(Language::Fr, TicketStatus::WaitingOnPlayer);
        let mut answered = change(TicketStatus::Open, true);
        if let Some(message) = answered.message.as_mut() {
            message.author = crate::common::player::Author::Player;
        }
        assert_eq!(kind_for(&waiting, &answered, false), None);
    }

    #[test]
    fn a_notification_is_rendered_in_the_tickets_language_with_local_dates() {
        let notifier = Notifier::bundled();
        for (language, team, due) in [
            (
                Language::Fr,
                "paiements",
                "le lundi 30 novembre 2026 à 17 h 00",
            ),
            (
                Language::En,
                "payments",
                "Monday, November 30, 2026 at 5:00 p.m.",
            ),
        ] {
            let (notification, outbox) = notifier
                .for_ticket(
                    NotificationKind::Received,
                    &ticket(language, TicketStatus::Open),
                    MessageId::from_bytes([9; 16]),
                    Timestamp::UNIX_EPOCH,
                )
                .expect("rendered");
            assert_eq!(notification.language, language);
            assert!(notification.body.contains(team), "{}", notification.body);
            assert!(notification.body.contains(due), "{}", notification.body);
            let reference = TicketReference::from_random([7; 9]).to_string();
            assert!(
                notification.subject.contains(&reference),
                "{}",
                notification.subject
            );
            assert_eq!(outbox.destination, Destination::Notifications);
            let message: NotificationMessage =
                serde_json::from_str(&outbox.body).expect("the queue's schema");
            assert_eq!(message.notification_id, notification.id);
            assert_eq!(message.kind, NotificationKind::Received);
            // The message names the notification and carries none of its text.
            assert!(
                !outbox.body.contains(&notification.subject),
                "{}",
                outbox.body
            );
            assert!(outbox.body.contains(NOTIFICATION_SCHEMA), "{}", outbox.body);
        }
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

    #[test]
    fn a_queue_message_names_one_ticket_or_case_and_carries_no_text() {
        let good = r#"{"schema":"guichet.notification.v2",
            "notification_id":"0123456789abcdef0123456789abcdef","player":"player-1",
            "ticket":"K7M2Q-9XW45","kind":"received","created_at":"2026-11-26T15:00:00Z"}"#;
        let parse = |text: &str| serde_json::from_str::<NotificationMessage>(text);
        let message = parse(good).expect("a v2 message");
        assert!(matches!(message.about, About::Ticket(_)));
        // Written back as it was read.
        let again = serde_json::to_string(&message).expect("serialises");
        assert_eq!(parse(&again).expect("round trip"), message);

        let refused = |text: String, why: &str| {
            let error = parse(&text).expect_err(&text).to_string();
            assert!(error.contains(why), "{text}: {error}");
        };
        refused(
            good.replace(r#""kind""#, r#""subject":"Urgent","kind""#),
            "carries text",
        );
        refused(good.replace(".v2", ".v3"), "another schema");
        refused(
            good.replace(r#""ticket":"K7M2Q-9XW45","#, ""),
            "neither a ticket nor a case",
        );
        refused(
            good.replace(r#""kind""#, r#""case":"VC-7K2M9Q4XW3BD","kind""#),
            "neither a ticket nor a case",
        );
        refused(
            good.replace(r#""kind""#, r#""email":"x@y.ca","kind""#),
            "unknown field",
        );
    }
}

//! Multi-player incidents: when several players report the same problem (the same game, or the
//! same payment system) within a window, their reports are linked to one incident. The incident
//! raises every linked ticket to `urgent`, goes to the owning team once (one escalation), and its
//! status updates reach every linked player. Everything here is plain rules: the store and the
//! use case (`crate::incidents::service`) decide when they run.
//!
//! ```text
//! open ──► monitoring ──► open        (the fix did not hold)
//! open | monitoring ──► resolved      (terminal: a new outbreak opens a new incident)
//! ```

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::common::player::Author;
use crate::common::reference::TicketReference;
use crate::common::validation::ValidationError;
use crate::escalation::rules::{EscalationAsk, EscalationNote};
use crate::notifications::rules::NotificationKind;
use crate::outbox::rules::MessageId;
use crate::tickets::ticket::{
    priority_for, Category, IncidentDetails, Priority, StatusChange, Team, Ticket, TicketStatus,
};
use crate::tickets::workflow::{allowed, Change, ReasonCode};

prefixed_id!(
    /// An incident's id: `INC-` and 12 symbols of the case ids' alphabet (no I, L, O, U), so
    /// it reads out as unambiguously as a ticket reference.
    IncidentId,
    "INC-",
    12,
    "an incident id looks like INC-7K2M9Q4XW3BD"
);

vocabulary!(
    /// What the reports name: a game, or a payment system.
    SubjectKind { Game => "game", Payment => "payment" }
);

/// The thing several players report: its kind and its normalised name. Two reports are of
/// the same subject when these are equal, however the players typed the name.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Subject {
    pub kind: SubjectKind,
    pub name: String,
}

/// Trimmed, lower-case, inner runs of white space collapsed to one space: "Roulette  Royale"
/// and " roulette royale" are the same game. `None` when nothing is left.
pub fn normalise(raw: &str) -> Option<String> {
    let words: Vec<&str> = raw.split_whitespace().collect();
    (!words.is_empty()).then(|| words.join(" ").to_lowercase())
}

impl Subject {
    /// A report's subject: the game when one is named (the games team owns it, as `team_for`
    /// decides), otherwise the payment system.
    pub fn from_report(game_name: Option<&str>, payment_system: Option<&str>) -> Option<Self> {
        if let Some(name) = game_name.and_then(normalise) {
            return Some(Self {
                kind: SubjectKind::Game,
                name,
            });
        }
        payment_system.and_then(normalise).map(|name| Self {
            kind: SubjectKind::Payment,
            name,
        })
    }

    /// The subject of an incident report, if it names one: its game, otherwise its payment
    /// system. A transaction id alone names no subject (every player's is different).
    pub fn of_report(category: Category, details: Option<&IncidentDetails>) -> Option<Self> {
        if category != Category::Incident {
            return None;
        }
        let details = details?;
        Self::from_report(
            details.game_name.as_deref(),
            details.payment_system.as_deref(),
        )
    }

    /// The subject of a stored ticket (see [`Subject::of_report`]).
    pub fn of(ticket: &Ticket) -> Option<Self> {
        Self::of_report(ticket.category, ticket.incident.as_ref())
    }

    /// `game:<name>` or `payment:<name>`: what the store keys a subject's reports by.
    pub fn key(&self) -> String {
        format!("{}:{}", self.kind.as_str(), self.name)
    }

    /// The team that owns what the subject names.
    pub fn team(&self) -> Team {
        match self.kind {
            SubjectKind::Game => Team::Games,
            SubjectKind::Payment => Team::Payments,
        }
    }
}

vocabulary!(
    IncidentStatus {
        Open => "open",
        /// A fix is out; the team watches whether it holds.
        Monitoring => "monitoring",
        Resolved => "resolved",
    }
);

/// Whether an incident may move `from → to`. Resolution is final: if the problem comes back,
/// the next reports open a new incident, so a resolved incident's record never changes.
pub fn allowed_move(from: IncidentStatus, to: IncidentStatus) -> bool {
    use IncidentStatus::*;
    matches!(
        (from, to),
        (Open, Monitoring) | (Monitoring, Open) | (Open | Monitoring, Resolved)
    )
}

vocabulary!(
    /// Where the incident's one escalation to its team stands.
    EscalationProgress {
        /// Decided when the incident opened, not yet written on the ticket.
        Pending => "pending",
        /// The escalation request is on the ticket (and in the outbox).
        Requested => "requested",
        /// The ticket could no longer be escalated (resolved or escalated by an agent first):
        /// staff escalate by hand if the team still needs it.
        Skipped => "skipped",
    }
);

/// The incident's one escalation: its id and the ticket that carries it, decided when the
/// incident opens, so that whoever writes it (the opener, or a later report repairing an
/// interrupted opening) writes the same one.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentEscalation {
    pub id: MessageId,
    pub reference: TicketReference,
    pub state: EscalationProgress,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incident {
    pub id: IncidentId,
    pub subject: Subject,
    pub team: Team,
    pub status: IncidentStatus,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<Timestamp>,
    /// The rule that opened it: `threshold` reports received from `window_start` on, in a
    /// window of `window_minutes`.
    pub threshold: u32,
    pub window_minutes: i64,
    pub window_start: Timestamp,
    /// Reports counted when it opened (this one included).
    pub reports_at_opening: u32,
    pub escalation: IncidentEscalation,
    /// Moves with every status update; an update is made on the version the staff member read.
    pub version: u64,
}

/// One report indexed under its subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub reference: TicketReference,
    pub received_at: Timestamp,
}

/// The subject's current incident, if any: open (new reports join it), or resolved (reports
/// are counted again from its resolution).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectMarker {
    pub incident: IncidentId,
    pub resolved_at: Option<Timestamp>,
}

impl SubjectMarker {
    pub fn is_open(&self) -> bool {
        self.resolved_at.is_none()
    }
}

/// A ticket linked to an incident: when, and by whom (`system` for the automatic rule).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    pub reference: TicketReference,
    pub linked_at: Timestamp,
    pub linked_by: Author,
}

/// One status update, kept on the incident. `seq` is the incident version it created: the
/// notifications it causes are named after it, so sending them again writes nothing new.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentUpdate {
    pub seq: u64,
    pub at: Timestamp,
    pub from: IncidentStatus,
    pub status: IncidentStatus,
    /// Staff's internal note (never sent to players: their notification is a template).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub by: Author,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IncidentRuleError {
    #[error("the incident changed since version {expected}; read it again")]
    Stale { expected: u64, actual: u64 },
    #[error("a {} incident cannot become {}", from.as_str(), to.as_str())]
    WrongState {
        from: IncidentStatus,
        to: IncidentStatus,
    },
    #[error("the incident is resolved: its links no longer change")]
    Resolved,
    #[error("a {} ticket cannot be linked to an incident", .0.as_str())]
    TicketNotLinkable(TicketStatus),
    #[error("the ticket is linked to another incident")]
    LinkedElsewhere,
    #[error("the ticket is not linked to this incident")]
    NotLinked,
}

/// The count includes the report being recorded: the `threshold`-th report opens the incident.
pub fn is_due(reports_in_window: usize, threshold: u32) -> bool {
    u32::try_from(reports_in_window).unwrap_or(u32::MAX) >= threshold
}

/// Where a report's window starts: `window` before it was received, but never at or before
/// the subject's last resolution. Reports of an outbreak that was resolved belong to it; only
/// what comes after counts towards a new incident.
pub fn window_start(
    received_at: Timestamp,
    window: SignedDuration,
    last_resolved_at: Option<Timestamp>,
) -> Timestamp {
    let start = received_at.checked_sub(window).unwrap_or(Timestamp::MIN);
    match last_resolved_at.and_then(|r| r.checked_add(SignedDuration::from_millis(1)).ok()) {
        Some(after) if after > start => after,
        _ => start,
    }
}

/// What the rule needs to open an incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opening {
    pub id: IncidentId,
    pub subject: Subject,
    /// The report that reached the threshold: it carries the incident's escalation, being
    /// fresh (open, unassigned) and so always escalatable.
    pub trigger: TicketReference,
    pub reports: usize,
    pub threshold: u32,
    pub window: SignedDuration,
    pub window_start: Timestamp,
    pub escalation_id: MessageId,
    pub at: Timestamp,
}

pub fn open(opening: Opening) -> Incident {
    Incident {
        team: opening.subject.team(),
        id: opening.id,
        subject: opening.subject,
        status: IncidentStatus::Open,
        created_at: opening.at,
        updated_at: opening.at,
        resolved_at: None,
        threshold: opening.threshold,
        window_minutes: opening.window.as_mins(),
        window_start: opening.window_start,
        reports_at_opening: u32::try_from(opening.reports).unwrap_or(u32::MAX),
        escalation: IncidentEscalation {
            id: opening.escalation_id,
            reference: opening.trigger,
            state: EscalationProgress::Pending,
        },
        version: 1,
    }
}

/// What linking a ticket amounts to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Linking {
    /// Write this change: the ticket, linked and `urgent`, with a history line saying why.
    Link(Box<Change>),
    /// Already linked to this incident: nothing to write (a retry, a duplicate report).
    AlreadyLinked,
}

/// Links a ticket: it becomes `urgent` (an outage reported by many players comes first in its
/// team's queue) and names the incident. Work that is over (resolved, closed) is not linked.
pub fn link(
    ticket: &Ticket,
    incident: &Incident,
    actor: Author,
    at: Timestamp,
) -> Result<Linking, IncidentRuleError> {
    if ticket.linked_incident.as_deref() == Some(incident.id.as_str()) {
        return Ok(Linking::AlreadyLinked);
    }
    if incident.status == IncidentStatus::Resolved {
        return Err(IncidentRuleError::Resolved);
    }
    if ticket.linked_incident.is_some() {
        return Err(IncidentRuleError::LinkedElsewhere);
    }
    if matches!(ticket.status, TicketStatus::Resolved | TicketStatus::Closed) {
        return Err(IncidentRuleError::TicketNotLinkable(ticket.status));
    }
    let mut next = ticket.clone();
    next.version += 1;
    next.updated_at = at;
    next.priority = Priority::Urgent;
    next.linked_incident = Some(incident.id.as_str().to_owned());
    Ok(Linking::Link(Box::new(Change {
        history: vec![StatusChange {
            at,
            status: ticket.status,
            actor,
            reason: "incident_linked".to_owned(),
            extended_minutes: None,
            rebased: None,
        }],
        ticket: next,
        expected_version: ticket.version,
        message: None,
    })))
}

/// Unlinks a ticket linked by mistake: it leaves the incident and gets back the priority intake
/// gave it (the incident was its only reason to be `urgent`).
pub fn unlink(
    ticket: &Ticket,
    incident: &Incident,
    actor: Author,
    at: Timestamp,
) -> Result<Change, IncidentRuleError> {
    if ticket.linked_incident.as_deref() != Some(incident.id.as_str()) {
        return Err(IncidentRuleError::NotLinked);
    }
    if incident.status == IncidentStatus::Resolved {
        return Err(IncidentRuleError::Resolved);
    }
    let mut next = ticket.clone();
    next.version += 1;
    next.updated_at = at;
    next.priority = priority_for(ticket.category, ticket.incident.as_ref());
    next.linked_incident = None;
    Ok(Change {
        history: vec![StatusChange {
            at,
            status: ticket.status,
            actor,
            reason: "incident_unlinked".to_owned(),
            extended_minutes: None,
            rebased: None,
        }],
        ticket: next,
        expected_version: ticket.version,
        message: None,
    })
}

/// A status update on the version staff read: the incident as it becomes, and the update
/// record (its `seq` is the new version).
pub fn change_status(
    incident: &Incident,
    expected_version: u64,
    to: IncidentStatus,
    note: Option<String>,
    by: Author,
    at: Timestamp,
) -> Result<(Incident, IncidentUpdate), IncidentRuleError> {
    if incident.version != expected_version {
        return Err(IncidentRuleError::Stale {
            expected: expected_version,
            actual: incident.version,
        });
    }
    if !allowed_move(incident.status, to) {
        return Err(IncidentRuleError::WrongState {
            from: incident.status,
            to,
        });
    }
    let mut next = incident.clone();
    next.version += 1;
    next.status = to;
    next.updated_at = at;
    if to == IncidentStatus::Resolved {
        next.resolved_at = Some(at);
    }
    let update = IncidentUpdate {
        seq: next.version,
        at,
        from: incident.status,
        status: to,
        note,
        by,
    };
    Ok((next, update))
}

/// A status update sent again (a retry after a timeout, a double click): the update already
/// recorded on `expected_version`, when it says the same. Its notifications are then sent to
/// whoever did not get them yet, instead of answering `stale`.
pub fn replay_of<'a>(
    incident: &Incident,
    updates: &'a [IncidentUpdate],
    expected_version: u64,
    to: IncidentStatus,
    note: Option<&str>,
) -> Option<&'a IncidentUpdate> {
    if incident.version != expected_version + 1 {
        return None;
    }
    updates
        .iter()
        .find(|u| u.seq == incident.version)
        .filter(|u| u.status == to && u.note.as_deref() == note)
}

/// What a status update does to one linked ticket, and the notification its player gets:
/// resolving the incident resolves the ticket (`resolved`, as if an agent had); any other
/// update adds a history line and tells the player there is news (`incident_update`).
/// Tickets that left the incident, or whose work is over, get nothing: their player already
/// heard the end of it.
pub fn effect(
    ticket: &Ticket,
    incident: &IncidentId,
    update: &IncidentUpdate,
    at: Timestamp,
) -> Option<(Change, NotificationKind)> {
    if ticket.linked_incident.as_deref() != Some(incident.as_str())
        || matches!(ticket.status, TicketStatus::Resolved | TicketStatus::Closed)
    {
        return None;
    }
    let mut next = ticket.clone();
    next.version += 1;
    next.updated_at = at;
    let kind = if update.status == IncidentStatus::Resolved
        && allowed(ticket.status, TicketStatus::Resolved)
    {
        next.status = TicketStatus::Resolved;
        NotificationKind::Resolved
    } else {
        NotificationKind::IncidentUpdate
    };
    Some((
        Change {
            history: vec![StatusChange {
                at,
                status: next.status,
                actor: update.by.clone(),
                reason: format!("incident_{}", update.status.as_str()),
                extended_minutes: None,
                rebased: None,
            }],
            ticket: next,
            expected_version: ticket.version,
            message: None,
        },
        kind,
    ))
}

/// The notification a status update owes one linked ticket's player, named after the update
/// and the ticket so that a retry writes the same id (and the store's `attribute_not_exists`
/// refuses the duplicate).
pub fn notification_id(incident: &IncidentId, seq: u64, reference: &TicketReference) -> MessageId {
    let digest = Sha256::new()
        .chain_update(b"guichet.incident-notification.v1\n")
        .chain_update(incident.as_str().as_bytes())
        .chain_update(b"\n")
        .chain_update(seq.to_string().as_bytes())
        .chain_update(b"\n")
        .chain_update(reference.as_str().as_bytes())
        .finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    MessageId::from_bytes(bytes)
}

/// Whether a ticket can carry the incident's escalation (the workflow's rule).
pub fn can_escalate(ticket: &Ticket) -> bool {
    allowed(ticket.status, TicketStatus::Escalated)
}

pub const ESCALATION_REASON: &str = "multi_player_incident";

/// What the team's message says: why it came (a reason code) and a note naming the incident
/// by id and counts only, never what players wrote.
pub fn escalation_ask(incident: &Incident) -> Result<EscalationAsk, ValidationError> {
    let note = format!(
        "Incident {}: {} reports of the same {} within {} minutes. Linked tickets: GET /incidents/{}.",
        incident.id,
        incident.reports_at_opening,
        incident.subject.kind.as_str(),
        incident.window_minutes,
        incident.id
    );
    Ok(EscalationAsk {
        to_team: incident.team,
        reason: ReasonCode::parse("reason", ESCALATION_REASON)?,
        note: Some(EscalationNote::parse("note", &note)?),
    })
}

/// Schema of the message that fans a status update out to the linked players.
pub const FAN_OUT_SCHEMA: &str = "guichet.incident-update.v1";

/// One page of a status update's fan-out, on the incident-updates queue: notify the tickets
/// linked to `incident_id` whose reference sorts after `after` (all of them when absent), up to
/// a page, then hand the rest on as the next page. Only identifiers: the consumer reads the
/// incident, its links and the update from the table. Pages keep a large incident's fan-out
/// within one function run each, however many players reported it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FanOut {
    pub schema: String,
    pub incident_id: IncidentId,
    /// The update's `seq`, the incident version it created.
    pub seq: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<TicketReference>,
}

impl FanOut {
    /// The first page of `update`'s fan-out.
    pub fn first(incident: &IncidentId, update: &IncidentUpdate) -> Self {
        FanOut {
            schema: FAN_OUT_SCHEMA.to_owned(),
            incident_id: incident.clone(),
            seq: update.seq,
            after: None,
        }
    }

    /// The page after `last`, the last reference this page covered.
    pub fn next(&self, last: &TicketReference) -> Self {
        FanOut {
            after: Some(last.clone()),
            ..self.clone()
        }
    }

    /// Named after the incident, the update and the page: the first page's outbox item is the
    /// same whether the update is sent once or again.
    pub fn message_id(&self) -> MessageId {
        let mut digest = Sha256::new()
            .chain_update(b"guichet.incident-update.v1\n")
            .chain_update(self.incident_id.as_str().as_bytes())
            .chain_update(b"\n")
            .chain_update(self.seq.to_string().as_bytes());
        if let Some(after) = &self.after {
            digest = digest
                .chain_update(b"\n")
                .chain_update(after.as_str().as_bytes());
        }
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&digest.finalize()[..16]);
        MessageId::from_bytes(bytes)
    }
}

/// The references of one fan-out page, in reference order (stable whatever order the store
/// returns links in, and whatever links are added or removed between pages), and whether more
/// follow. `size` is at least one.
pub fn fan_out_page<'a>(
    links: &'a [Link],
    after: Option<&TicketReference>,
    size: usize,
) -> (Vec<&'a TicketReference>, bool) {
    let mut references: Vec<&TicketReference> = links
        .iter()
        .map(|link| &link.reference)
        .filter(|reference| after.is_none_or(|after| *reference > after))
        .collect();
    references.sort();
    let more = references.len() > size.max(1);
    references.truncate(size.max(1));
    (references, more)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::player::{Language, PlayerId};
    use crate::tickets::ticket::Channel;

    fn linked(reference: &str) -> Link {
        Link {
            reference: TicketReference::parse(reference).expect("reference"),
            linked_at: at("2026-11-26T15:00:00Z"),
            linked_by: Author::System,
        }
    }

    #[test]
    fn a_fan_out_walks_the_links_in_reference_order_one_page_at_a_time() {
        let references: Vec<TicketReference> = (0..5u8)
            .map(|i| TicketReference::from_random([i * 7, 3, 1, 4, 1, 5, 9, 2, 6]))
            .collect();
        // Linked in an order that is not the references' order.
        let links: Vec<Link> = references
            .iter()
            .rev()
            .map(|r| linked(r.as_str()))
            .collect();
        let mut sorted = references.clone();
        sorted.sort();

        let mut seen = Vec::new();
        let mut after: Option<TicketReference> = None;
        let mut pages = 0;
        loop {
            let (page, more) = fan_out_page(&links, after.as_ref(), 2);
            pages += 1;
            assert!(page.len() <= 2);
            seen.extend(page.iter().map(|r| (*r).clone()));
            if !more {
                break;
            }
            after = page.last().map(|r| (*r).clone());
        }
        assert_eq!(pages, 3);
        assert_eq!(seen, sorted, "each linked ticket once, in order");

        // Exactly a page: no empty page after it. A size of zero still makes progress.
        assert!(!fan_out_page(&links[..2], None, 2).1);
        assert_eq!(fan_out_page(&links, None, 0).0.len(), 1);
        assert!(fan_out_page(&links, Some(&sorted[4]), 2).0.is_empty());
    }

    #[test]
    fn fan_out_pages_are_named_after_incident_update_and_cursor() {
        let id = IncidentId::from_random([1; IncidentId::SYMBOLS]);
        let update = IncidentUpdate {
            seq: 2,
            at: at("2026-11-26T16:00:00Z"),
            from: IncidentStatus::Open,
            status: IncidentStatus::Monitoring,
            note: None,
            by: Author::System,
        };
        let first = FanOut::first(&id, &update);
        assert_eq!(first.message_id(), FanOut::first(&id, &update).message_id());
        let reference = TicketReference::from_random([2; 9]);
        let second = first.next(&reference);
        assert_ne!(second.message_id(), first.message_id());
        let later = FanOut {
            seq: 3,
            ..first.clone()
        };
        assert_ne!(later.message_id(), first.message_id());

        let json = serde_json::to_value(&second).expect("json");
        assert_eq!(json["schema"], FAN_OUT_SCHEMA);
        assert_eq!(json["incident_id"], id.as_str());
        assert_eq!(json["seq"], 2);
        assert_eq!(json["after"], reference.to_string());
        assert!(serde_json::to_value(&first)
            .expect("json")
            .get("after")
            .is_none());
        let back: FanOut = serde_json::from_value(json).expect("reads back");
        assert_eq!(back, second);
    }

    fn at(text: &str) -> Timestamp {
        text.parse().expect("valid")
    }

    fn report(game: Option<&str>, transaction: Option<&str>) -> Ticket {
        let now = at("2026-11-26T15:00:00Z");
        let details = IncidentDetails {
            occurred_at: now,
            game_name: game.map(str::to_owned),
            payment_system: None,
            transaction_id: transaction.map(str::to_owned),
            steps_tried: vec![],
        };
        Ticket {
            reference: TicketReference::from_random([4; 9]),
            player: PlayerId::parse("p-1").expect("valid"),
            channel: Channel::Chat,
            category: Category::Incident,
            subject: "Roulette figée".into(),
            description: "La roue ne tourne plus.".into(),
            language: Language::Fr,
            priority: priority_for(Category::Incident, Some(&details)),
            team: Team::Games,
            status: TicketStatus::Open,
            incident: Some(details),
            linked_incident: None,
            verification_case: None,
            assignee: None,
            merged_into: None,
            merged_from: Vec::new(),
            created_at: now,
            updated_at: now,
            response_due_at: at("2026-11-26T15:05:00Z"),
            clocks: None,
            version: 1,
        }
    }

    fn incident() -> Incident {
        let subject = Subject::from_report(Some("Roulette Royale"), None).expect("named");
        open(Opening {
            id: IncidentId::from_random([7; 12]),
            subject,
            trigger: TicketReference::from_random([4; 9]),
            reports: 3,
            threshold: 3,
            window: SignedDuration::from_mins(60),
            window_start: at("2026-11-26T14:00:00Z"),
            escalation_id: MessageId::from_bytes([9; 16]),
            at: at("2026-11-26T15:00:00Z"),
        })
    }

    #[test]
    fn incident_ids_read_back_whatever_the_case() {
        let id = IncidentId::generate().expect("random");
        assert_eq!(id.as_str().len(), 16);
        assert!(id.as_str().starts_with("INC-"));
        assert_eq!(
            IncidentId::parse(&id.as_str().to_lowercase()),
            Some(id.clone())
        );
        assert_ne!(IncidentId::generate().expect("random"), id);
        assert_eq!(
            IncidentId::parse("INC-7K2M9Q4XW3BD").map(|i| i.to_string()),
            Some("INC-7K2M9Q4XW3BD".into())
        );
        assert_eq!(IncidentId::parse("INC-7K2M9Q4XW3B"), None, "too short");
        assert_eq!(
            IncidentId::parse("INC-7K2M9Q4XW3BU"),
            None,
            "U is not a symbol"
        );
        assert_eq!(IncidentId::parse("VC-7K2M9Q4XW3BD"), None);
        assert!(serde_json::from_str::<IncidentId>("\"INC-nope\"").is_err());
    }

    #[test]
    fn the_same_game_however_typed_is_one_subject() {
        let a = Subject::from_report(Some("Roulette  Royale"), None);
        let b = Subject::from_report(Some(" roulette royale\t"), None);
        let c = Subject::from_report(Some("ROULETTE ROYALE"), Some("Interac"));
        assert_eq!(a, b);
        assert_eq!(a, c, "a named game wins over the payment system");
        assert_eq!(
            a.as_ref().map(Subject::key).as_deref(),
            Some("game:roulette royale")
        );
        assert_eq!(a.map(|s| s.team()), Some(Team::Games));
        let payment = Subject::from_report(Some("   "), Some(" Interac  e-Transfer "));
        assert_eq!(
            payment.as_ref().map(Subject::key).as_deref(),
            Some("payment:interac e-transfer")
        );
        assert_eq!(payment.map(|s| s.team()), Some(Team::Payments));
        assert_eq!(Subject::from_report(None, None), None);
    }

    /// A report naming `system` as its payment system (and `game`, if any).
    fn payment_report(game: Option<&str>, system: &str) -> Ticket {
        let mut ticket = report(game, Some("TX-1"));
        if let Some(details) = ticket.incident.as_mut() {
            details.payment_system = Some(system.to_owned());
        }
        ticket
    }

    #[test]
    fn only_incident_reports_naming_a_game_or_a_payment_system_have_a_subject() {
        assert!(Subject::of(&report(Some("Blackjack"), None)).is_some());
        assert!(Subject::of(&report(Some("Blackjack"), Some("TX-1"))).is_some());
        assert_eq!(
            Subject::of(&report(None, Some("TX-1"))),
            None,
            "a transaction id is per player"
        );
        let mut technical = report(Some("Blackjack"), None);
        technical.category = Category::Technical;
        assert_eq!(Subject::of(&technical), None);
        let mut paid = payment_report(None, "Interac");
        paid.category = Category::Transaction;
        assert_eq!(
            Subject::of(&paid),
            None,
            "only incident reports are grouped"
        );
    }

    #[test]
    fn reports_of_the_same_payment_system_however_typed_are_one_payments_subject() {
        let a = Subject::of(&payment_report(None, "Interac  e-Transfer"));
        let b = Subject::of(&payment_report(None, " interac e-transfer"));
        assert_eq!(a, b);
        let subject = a.expect("a payment system names a subject");
        assert_eq!(subject.kind, SubjectKind::Payment);
        assert_eq!(subject.key(), "payment:interac e-transfer");
        assert_eq!(subject.team(), Team::Payments);
        assert_ne!(
            Subject::of(&payment_report(None, "PayPal")),
            Some(subject.clone())
        );
        // A named game wins: the report is grouped with the game's, by the games team.
        let game =
            Subject::of(&payment_report(Some("Roulette"), "Interac e-Transfer")).expect("named");
        assert_eq!(game.key(), "game:roulette");
        assert_eq!(game.team(), Team::Games);
        // The subject's team is the team intake gave the report.
        let ticket = payment_report(None, "Interac e-Transfer");
        assert_eq!(
            crate::tickets::ticket::team_for(ticket.category, ticket.incident.as_ref()),
            subject.team()
        );
    }

    #[test]
    fn the_threshold_th_report_in_the_window_opens_an_incident() {
        assert!(!is_due(2, 3));
        assert!(is_due(3, 3));
        assert!(is_due(7, 3));
        let received = at("2026-11-26T15:00:00Z");
        let hour = SignedDuration::from_mins(60);
        assert_eq!(
            window_start(received, hour, None),
            at("2026-11-26T14:00:00Z")
        );
        // A resolution inside the window moves its start just past the resolution.
        assert_eq!(
            window_start(received, hour, Some(at("2026-11-26T14:30:00Z"))),
            at("2026-11-26T14:30:00.001Z")
        );
        assert_eq!(
            window_start(received, hour, Some(at("2026-11-26T09:00:00Z"))),
            at("2026-11-26T14:00:00Z")
        );
    }

    #[test]
    fn an_opened_incident_belongs_to_the_owning_team_and_has_its_escalation_pending() {
        let incident = incident();
        assert_eq!(incident.team, Team::Games);
        assert_eq!(incident.status, IncidentStatus::Open);
        assert_eq!(incident.window_minutes, 60);
        assert_eq!(incident.escalation.state, EscalationProgress::Pending);
        assert_eq!(incident.version, 1);
        let ask = escalation_ask(&incident).expect("constant reason, short note");
        assert_eq!(ask.to_team, Team::Games);
        assert_eq!(ask.reason.as_str(), ESCALATION_REASON);
        let note = ask.note.expect("a note").as_str().to_owned();
        assert!(note.contains(incident.id.as_str()));
        assert!(!note.contains("roulette"), "ids and counts only");
    }

    #[test]
    fn linking_raises_the_ticket_to_urgent_once() {
        let incident = incident();
        let ticket = report(Some("Roulette Royale"), None);
        assert_eq!(ticket.priority, Priority::Normal);
        let Ok(Linking::Link(change)) = link(
            &ticket,
            &incident,
            Author::System,
            at("2026-11-26T15:01:00Z"),
        ) else {
            panic!("an open ticket links");
        };
        assert_eq!(change.ticket.priority, Priority::Urgent);
        assert_eq!(
            change.ticket.linked_incident.as_deref(),
            Some(incident.id.as_str())
        );
        assert_eq!(change.ticket.version, 2);
        assert_eq!(change.expected_version, 1);
        assert_eq!(change.ticket.status, TicketStatus::Open);
        assert_eq!(change.history[0].reason, "incident_linked");
        assert_eq!(
            link(
                &change.ticket,
                &incident,
                Author::System,
                at("2026-11-26T15:02:00Z")
            ),
            Ok(Linking::AlreadyLinked)
        );
        let mut other = incident.clone();
        other.id = IncidentId::from_random([8; 12]);
        assert_eq!(
            link(
                &change.ticket,
                &other,
                Author::System,
                at("2026-11-26T15:02:00Z")
            ),
            Err(IncidentRuleError::LinkedElsewhere)
        );
        let mut closed = ticket.clone();
        closed.status = TicketStatus::Closed;
        assert_eq!(
            link(
                &closed,
                &incident,
                Author::System,
                at("2026-11-26T15:02:00Z")
            ),
            Err(IncidentRuleError::TicketNotLinkable(TicketStatus::Closed))
        );
        let mut resolved = incident.clone();
        resolved.status = IncidentStatus::Resolved;
        assert_eq!(
            link(
                &ticket,
                &resolved,
                Author::System,
                at("2026-11-26T15:02:00Z")
            ),
            Err(IncidentRuleError::Resolved)
        );
    }

    #[test]
    fn unlinking_gives_back_the_intake_priority() {
        let incident = incident();
        let paid = report(Some("Roulette Royale"), Some("TX-1"));
        let Ok(Linking::Link(linked)) =
            link(&paid, &incident, Author::System, at("2026-11-26T15:01:00Z"))
        else {
            panic!("links");
        };
        let staff = Author::Staff {
            id: "agent-1".into(),
        };
        let change = unlink(
            &linked.ticket,
            &incident,
            staff.clone(),
            at("2026-11-26T15:03:00Z"),
        )
        .expect("linked tickets unlink");
        assert_eq!(
            change.ticket.priority,
            Priority::High,
            "it names a transaction"
        );
        assert_eq!(change.ticket.linked_incident, None);
        assert_eq!(change.ticket.version, 3);
        assert_eq!(change.history[0].reason, "incident_unlinked");
        assert_eq!(change.history[0].actor, staff);
        assert_eq!(
            unlink(&paid, &incident, Author::System, at("2026-11-26T15:03:00Z")),
            Err(IncidentRuleError::NotLinked)
        );
    }

    #[test]
    fn the_status_machine_and_its_versions() {
        use IncidentStatus::*;
        assert!(allowed_move(Open, Monitoring));
        assert!(allowed_move(Monitoring, Open));
        assert!(allowed_move(Monitoring, Resolved));
        assert!(!allowed_move(Resolved, Open), "resolution is final");
        assert!(!allowed_move(Open, Open));
        let incident = incident();
        let staff = Author::Staff {
            id: "agent-1".into(),
        };
        let now = at("2026-11-26T16:00:00Z");
        let (next, update) = change_status(
            &incident,
            1,
            Monitoring,
            Some("hotfix 2.3.1".into()),
            staff.clone(),
            now,
        )
        .expect("open → monitoring");
        assert_eq!(next.version, 2);
        assert_eq!(update.seq, 2);
        assert_eq!(update.from, Open);
        assert_eq!(
            change_status(&next, 1, Resolved, None, staff.clone(), now),
            Err(IncidentRuleError::Stale {
                expected: 1,
                actual: 2
            })
        );
        let updates = [update.clone()];
        assert_eq!(
            replay_of(&next, &updates, 1, Monitoring, Some("hotfix 2.3.1")),
            Some(&update),
            "the same update again is a replay"
        );
        assert_eq!(replay_of(&next, &updates, 1, Resolved, None), None);
        assert_eq!(replay_of(&next, &updates, 1, Monitoring, None), None);
        let (resolved, _) =
            change_status(&next, 2, Resolved, None, staff.clone(), now).expect("resolves");
        assert_eq!(resolved.resolved_at, Some(now));
        assert!(matches!(
            change_status(&resolved, 3, Open, None, staff, now),
            Err(IncidentRuleError::WrongState {
                from: Resolved,
                to: Open
            })
        ));
    }

    #[test]
    fn a_status_update_reaches_each_linked_ticket_still_in_work() {
        let incident = incident();
        let staff = Author::Staff {
            id: "agent-1".into(),
        };
        let now = at("2026-11-26T16:00:00Z");
        let Ok(Linking::Link(linked)) = link(
            &report(Some("Roulette"), None),
            &incident,
            Author::System,
            now,
        ) else {
            panic!("links");
        };
        let (_, monitoring) = change_status(
            &incident,
            1,
            IncidentStatus::Monitoring,
            None,
            staff.clone(),
            now,
        )
        .expect("moves");
        let (change, kind) =
            effect(&linked.ticket, &incident.id, &monitoring, now).expect("notified");
        assert_eq!(kind, NotificationKind::IncidentUpdate);
        assert_eq!(change.ticket.status, TicketStatus::Open);
        assert_eq!(change.history[0].reason, "incident_monitoring");
        let (_, resolved) =
            change_status(&incident, 1, IncidentStatus::Resolved, None, staff, now).expect("moves");
        let (change, kind) =
            effect(&linked.ticket, &incident.id, &resolved, now).expect("notified");
        assert_eq!(kind, NotificationKind::Resolved);
        assert_eq!(change.ticket.status, TicketStatus::Resolved);
        assert_eq!(change.history[0].reason, "incident_resolved");
        // Over, or not (any longer) linked: nothing.
        assert_eq!(effect(&change.ticket, &incident.id, &resolved, now), None);
        assert_eq!(
            effect(
                &report(Some("Roulette"), None),
                &incident.id,
                &resolved,
                now
            ),
            None
        );
    }

    #[test]
    fn notification_ids_are_derived_from_the_update_and_the_ticket() {
        let id = IncidentId::from_random([7; 12]);
        let a = TicketReference::from_random([1; 9]);
        let b = TicketReference::from_random([2; 9]);
        assert_eq!(notification_id(&id, 2, &a), notification_id(&id, 2, &a));
        assert_ne!(notification_id(&id, 2, &a), notification_id(&id, 3, &a));
        assert_ne!(notification_id(&id, 2, &a), notification_id(&id, 2, &b));
        assert!(MessageId::parse(notification_id(&id, 2, &a).as_str()).is_some());
    }

    #[test]
    fn the_escalation_reason_is_a_valid_code() {
        assert!(ReasonCode::parse("reason", ESCALATION_REASON).is_ok());
    }
}

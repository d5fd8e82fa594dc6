//! The ticket and the rules decided at intake: priority, owning team, status.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::common::player::Author;
use crate::common::player::Language;
use crate::common::player::PlayerId;
use crate::common::reference::TicketReference;

vocabulary!(
    /// How the request reached us; decides the response target.
    Channel { Form => "form", Email => "email", Chat => "chat" }
);

vocabulary!(
    /// What the player says the request is about.
    Category {
        Technical => "technical",
        Account => "account",
        Transaction => "transaction",
        Verification => "verification",
        Incident => "incident",
        /// A dispute about an outcome (a game's result, a withheld payment), not a question:
        /// answered on the complaint terms and counted toward the regulator's limit.
        Complaint => "complaint",
    }
);

vocabulary!(
    /// The specialist team that owns a ticket.
    Team {
        Technical => "technical",
        Games => "games",
        Payments => "payments",
        Security => "security",
        Verification => "verification",
        /// Disputes: worked in Guichet's console by the complaints officers.
        Complaints => "complaints",
    }
);

vocabulary!(
    /// Where a ticket stands. Only `Open` is reachable at intake; the other states belong
    /// to the agents' workflow.
    TicketStatus {
        Open => "open",
        WaitingOnPlayer => "waiting_on_player",
        Escalated => "escalated",
        Resolved => "resolved",
        Closed => "closed",
    }
);

vocabulary!(
    /// Queue priority, most urgent first.
    Priority { Urgent => "urgent", High => "high", Normal => "normal" }
);

impl Priority {
    /// Sort rank in a team queue: lower is served first.
    pub fn rank(self) -> u8 {
        match self {
            Priority::Urgent => 1,
            Priority::High => 2,
            Priority::Normal => 3,
        }
    }
}

/// What a player told us about an incident (a game that froze, a payment that vanished).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentDetails {
    pub occurred_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub game_name: Option<String>,
    /// The payment system the player used (e.g. `Interac e-Transfer`), as typed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_system: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<String>,
    pub steps_tried: Vec<String>,
}

impl IncidentDetails {
    /// A payment incident: it names no game, but a payment system or a transaction.
    pub fn is_payment_only(&self) -> bool {
        self.game_name.is_none() && (self.payment_system.is_some() || self.transaction_id.is_some())
    }
}

/// Priority rules, in the order the desk applies them:
/// 1. account access and security (`account`) come first: a locked-out or compromised
///    player can lose money every minute;
/// 2. what blocks money comes next: `transaction`, `verification` (it gates withdrawals),
///    an incident that names a transaction, and a payment incident (a payment system, no game);
/// 3. everything else (`technical`, other incidents) is served in arrival order.
///
/// An outage reported by many players is raised to `urgent` when reports are linked into
/// one incident, which happens after intake.
pub fn priority_for(category: Category, incident: Option<&IncidentDetails>) -> Priority {
    match category {
        Category::Account => Priority::Urgent,
        // A complaint is on the regulator's clock from the first day.
        Category::Transaction | Category::Verification | Category::Complaint => Priority::High,
        Category::Incident
            if incident.is_some_and(|i| i.transaction_id.is_some() || i.is_payment_only()) =>
        {
            Priority::High
        }
        Category::Incident | Category::Technical => Priority::Normal,
    }
}

/// The category decides the owning team; an incident goes to whoever owns what it names:
/// a game to the games team, otherwise a payment system or a transaction to payments.
pub fn team_for(category: Category, incident: Option<&IncidentDetails>) -> Team {
    match category {
        Category::Technical => Team::Technical,
        Category::Account => Team::Security,
        Category::Transaction => Team::Payments,
        Category::Verification => Team::Verification,
        Category::Complaint => Team::Complaints,
        Category::Incident => match incident {
            Some(i) if i.is_payment_only() => Team::Payments,
            _ => Team::Games,
        },
    }
}

/// One line of a ticket's status history.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusChange {
    pub at: Timestamp,
    pub status: TicketStatus,
    pub actor: Author,
    /// A short code for why (e.g. `received`), never free text from a player.
    pub reason: String,
    /// An extended delay (`POST /tickets/{reference}/extension`): the business minutes added
    /// to the resolution's budget.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extended_minutes: Option<u32>,
    /// The clocks as a change of the hours or the promises recomputed them
    /// (`promises::clocks::rebase_line`): the replay takes them from here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rebased: Option<Box<crate::promises::clocks::Clocks>>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    pub reference: TicketReference,
    pub player: PlayerId,
    pub channel: Channel,
    pub category: Category,
    pub subject: String,
    pub description: String,
    pub language: Language,
    pub priority: Priority,
    pub team: Team,
    pub status: TicketStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident: Option<IncidentDetails>,
    /// The multi-player incident this report is linked to, if any (its id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linked_incident: Option<String>,
    /// A verification ticket's link to the player's identity-verification case, when one
    /// was open at intake: the agent opens the case from the ticket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification_case: Option<crate::verification::rules::CaseId>,
    /// The staff member who took the ticket, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    /// A duplicate merged into another ticket of the same player (`tickets::merge`): closed,
    /// and where its conversation goes on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_into: Option<TicketReference>,
    /// The duplicates merged into this ticket, in the order they were merged: its view shows
    /// their messages and attachments.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub merged_from: Vec<TicketReference>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub response_due_at: Timestamp,
    /// The promises running on the ticket (`crate::promises::clocks`); none on a ticket
    /// written before the desk kept them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clocks: Option<crate::promises::clocks::Clocks>,
    /// Optimistic-locking version, incremented by every update.
    pub version: u64,
}

/// A ticket of the payments team at version 4, for the unit tests of the areas that act on one.
#[cfg(test)]
pub(crate) fn sample(status: TicketStatus) -> Ticket {
    let now: Timestamp = "2026-11-26T15:00:00Z".parse().unwrap_or_default();
    Ticket {
        reference: TicketReference::from_random([3; 9]),
        player: PlayerId::parse("p-1").expect("valid"),
        channel: Channel::Form,
        category: Category::Transaction,
        subject: "Dépôt manquant".into(),
        description: "Mon dépôt n'apparaît pas.".into(),
        language: Language::Fr,
        priority: Priority::High,
        team: Team::Payments,
        status,
        incident: None,
        linked_incident: None,
        verification_case: None,
        assignee: None,
        merged_into: None,
        merged_from: Vec::new(),
        created_at: now,
        updated_at: now,
        response_due_at: now,
        clocks: None,
        version: 4,
    }
}

impl Ticket {
    /// Its place in its team's queue, served lowest first: a ticket whose promise is broken
    /// (a clock breached and still open) comes before everything else (`0`), then priority.
    pub fn queue_rank(&self) -> u8 {
        if self.clocks.as_ref().is_some_and(|c| c.breached()) {
            0
        } else {
            self.priority.rank()
        }
    }

    /// The digest of every field: the store keeps it beside the ticket, so that a write
    /// decided on the ticket as an agent saw it ([`crate::common::seen::Seen`]) can be
    /// conditioned on the stored ticket being exactly that one.
    pub fn fingerprint(&self) -> String {
        crate::common::seen::fingerprint(self)
    }
}

impl serde::Serialize for TicketReference {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for TicketReference {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        TicketReference::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn incident(game: Option<&str>, transaction: Option<&str>) -> IncidentDetails {
        IncidentDetails {
            occurred_at: Timestamp::UNIX_EPOCH,
            game_name: game.map(str::to_owned),
            payment_system: None,
            transaction_id: transaction.map(str::to_owned),
            steps_tried: vec![],
        }
    }

    fn payment(game: Option<&str>, system: &str) -> IncidentDetails {
        IncidentDetails {
            payment_system: Some(system.to_owned()),
            ..incident(game, None)
        }
    }

    #[test]
    fn account_access_and_security_come_first() {
        assert_eq!(priority_for(Category::Account, None), Priority::Urgent);
        assert_eq!(team_for(Category::Account, None), Team::Security);
    }

    #[test]
    fn what_blocks_money_comes_next() {
        assert_eq!(priority_for(Category::Transaction, None), Priority::High);
        assert_eq!(priority_for(Category::Verification, None), Priority::High);
        let paid = incident(Some("Roulette"), Some("TX-1"));
        assert_eq!(
            priority_for(Category::Incident, Some(&paid)),
            Priority::High
        );
    }

    #[test]
    fn the_rest_is_normal() {
        assert_eq!(priority_for(Category::Technical, None), Priority::Normal);
        let game = incident(Some("Roulette"), None);
        assert_eq!(
            priority_for(Category::Incident, Some(&game)),
            Priority::Normal
        );
        assert!(Priority::Urgent.rank() < Priority::High.rank());
        assert!(Priority::High.rank() < Priority::Normal.rank());
    }

    #[test]
    fn incidents_go_to_the_team_owning_what_they_name() {
        let game = incident(Some("Roulette"), Some("TX-1"));
        let payment = incident(None, Some("TX-1"));
        assert_eq!(team_for(Category::Incident, Some(&game)), Team::Games);
        assert_eq!(team_for(Category::Incident, Some(&payment)), Team::Payments);
        assert_eq!(team_for(Category::Transaction, None), Team::Payments);
        assert_eq!(team_for(Category::Verification, None), Team::Verification);
        assert_eq!(team_for(Category::Technical, None), Team::Technical);
    }

    #[test]
    fn an_incident_naming_a_payment_system_and_no_game_is_a_payments_incident() {
        let system = payment(None, "Interac e-Transfer");
        assert_eq!(team_for(Category::Incident, Some(&system)), Team::Payments);
        assert_eq!(
            priority_for(Category::Incident, Some(&system)),
            Priority::High,
            "like a transaction-only incident"
        );
        // A named game still decides: the games team, and no transaction means normal.
        let game = payment(Some("Roulette"), "Interac e-Transfer");
        assert_eq!(team_for(Category::Incident, Some(&game)), Team::Games);
        assert_eq!(
            priority_for(Category::Incident, Some(&game)),
            Priority::Normal
        );
        let both = IncidentDetails {
            transaction_id: Some("TX-1".into()),
            ..system
        };
        assert_eq!(team_for(Category::Incident, Some(&both)), Team::Payments);
        assert_eq!(
            priority_for(Category::Incident, Some(&both)),
            Priority::High
        );
    }

    #[test]
    fn accept_language_picks_the_preferred_supported_language() {
        assert_eq!(Language::from_accept_language(None), Language::Fr);
        assert_eq!(Language::from_accept_language(Some("en-CA")), Language::En);
        assert_eq!(
            Language::from_accept_language(Some("de-DE, en;q=0.5, fr;q=0.9")),
            Language::Fr
        );
        assert_eq!(
            Language::from_accept_language(Some("es, en;q=0.3")),
            Language::En
        );
        assert_eq!(Language::from_accept_language(Some("es")), Language::Fr);
        assert_eq!(
            Language::from_accept_language(Some("en;q=0, fr-CA;q=0.1")),
            Language::Fr
        );
    }

    #[test]
    fn vocabularies_round_trip() {
        for channel in Channel::ALL {
            assert_eq!(Channel::parse(channel.as_str()), Some(*channel));
        }
        assert_eq!(Category::NAMES.len(), 6);
        assert_eq!(Category::parse("Account"), None);
    }

    #[test]
    fn player_ids_refuse_key_separators() {
        assert!(PlayerId::parse("player-123").is_some());
        assert!(PlayerId::parse("a#b").is_none());
        assert!(PlayerId::parse("").is_none());
        assert!(PlayerId::parse(&"x".repeat(129)).is_none());
    }
}

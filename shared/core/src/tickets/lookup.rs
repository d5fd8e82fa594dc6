//! Finding a player: the agent on a chat or a call looks the player up by id and sees their
//! tickets still in work and where their identity verification stands, one indexed query each.
//! Every look-up is audited first (who, whom, when): a look-up that could not be recorded is
//! not answered.

use std::future::Future;

use jiff::Timestamp;
use serde::Serialize;

use crate::common::access::{Actor, Forbidden, Role};
use crate::common::player::PlayerId;
use crate::common::reference::TicketReference;
use crate::common::store::StoreError;
use crate::tickets::desk::Desk;
use crate::tickets::ports::TicketStore;
use crate::tickets::ticket::{Category, Channel, Priority, Team, TicketStatus};
use crate::verification::ports::CaseStore;
use crate::verification::rules::{CaseReason, CaseStatus, DocumentKind, DocumentStatus};

/// How many of the player's newest tickets are read: the ones in work are among them.
pub const RECENT_TICKETS: u16 = 50;

/// One look-up, as the audit keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookup {
    pub staff: PlayerId,
    pub player: PlayerId,
    pub at: Timestamp,
}

/// Where look-ups are recorded.
pub trait LookupAudit: Send + Sync {
    fn record(&self, lookup: &Lookup) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// A ticket in work, as the agent needs it to pick up the conversation.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TicketLine {
    pub reference: TicketReference,
    pub status: TicketStatus,
    pub channel: Channel,
    pub category: Category,
    pub team: Team,
    pub priority: Priority,
    pub subject: String,
    pub created_at: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
}

/// Where the player's verification stands: the latest case, without its documents' contents.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseLine {
    pub case_id: String,
    pub status: CaseStatus,
    pub reason: CaseReason,
    pub opened_at: Timestamp,
    pub needs_senior: bool,
    pub documents: Vec<DocumentLine>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DocumentLine {
    pub kind: DocumentKind,
    pub status: DocumentStatus,
}

/// What a look-up shows.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlayerSupport {
    pub player_id: PlayerId,
    /// Tickets still in work (neither resolved nor closed), newest first.
    pub open_tickets: Vec<TicketLine>,
    /// The latest verification case, open or not; none if the player never had one.
    pub verification: Option<CaseLine>,
}

#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Who may look a player up: agents of any team, supervisors, the verification team.
pub fn may_look_up(caller: &Actor) -> Result<(), Forbidden> {
    let allowed =
        caller.is_staff() || caller.has(Role::Verification) || caller.has(Role::VerificationSenior);
    if allowed {
        Ok(())
    } else {
        Err(Forbidden {
            required: Role::Agent,
        })
    }
}

impl<S: TicketStore> Desk<S> {
    /// The player's tickets in work and verification (see the module documentation).
    pub async fn look_up<C: CaseStore, A: LookupAudit>(
        &self,
        caller: &Actor,
        player: &PlayerId,
        cases: &C,
        audit: &A,
    ) -> Result<PlayerSupport, LookupError> {
        may_look_up(caller)?;
        audit
            .record(&Lookup {
                staff: caller.subject.clone(),
                player: player.clone(),
                at: self.clock.now(),
            })
            .await?;
        let tickets = self
            .store
            .list_for_player(player, RECENT_TICKETS, None)
            .await?;
        let cases = cases.cases_of(player).await?;
        let open_tickets = tickets
            .items
            .into_iter()
            .filter(|t| !matches!(t.status, TicketStatus::Resolved | TicketStatus::Closed))
            .map(|t| TicketLine {
                reference: t.reference,
                status: t.status,
                channel: t.channel,
                category: t.category,
                team: t.team,
                priority: t.priority,
                subject: t.subject,
                created_at: t.created_at,
                assignee: t.assignee,
            })
            .collect();
        let verification = cases.into_iter().next().map(|case| CaseLine {
            case_id: case.id.as_str().to_owned(),
            status: case.status,
            reason: case.reason,
            opened_at: case.opened_at,
            needs_senior: case.needs_senior,
            documents: case
                .documents
                .iter()
                .map(|d| DocumentLine {
                    kind: d.kind,
                    status: d.status,
                })
                .collect(),
        });
        Ok(PlayerSupport {
            player_id: player.clone(),
            open_tickets,
            verification,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tickets::intake::TicketRequest;
    use crate::tickets::memory::{desk, MemoryLookupAudit as Audit};
    use crate::verification::memory::MemoryCaseStore;

    fn actor(roles: Vec<Role>) -> Actor {
        Actor {
            subject: PlayerId::parse("agent-1").expect("valid"),
            roles,
            teams: Vec::new(),
            email: None,
        }
    }

    #[tokio::test]
    async fn staff_see_the_tickets_in_work_and_every_look_up_is_audited() {
        let desk = desk("2026-12-03T15:00:00Z");
        let player = PlayerId::parse("p-42").expect("valid");
        for subject in ["Retrait bloqué", "Jeu figé"] {
            let request = TicketRequest {
                channel: Channel::Form,
                category: Category::Technical,
                subject: subject.into(),
                description: "Une description assez longue.".into(),
                language: crate::common::player::Language::Fr,
                incident: None,
            };
            desk.submit(player.clone(), request, None, None)
                .await
                .expect("submitted");
        }
        let listed = desk.tickets_of(&player, 10, None).await.expect("listed");
        let resolved = listed.items[0].reference.clone();
        desk.store
            .tamper(&resolved, |t| t.status = TicketStatus::Resolved);
        let audit = Audit::default();
        let cases = MemoryCaseStore::default();
        let support = desk
            .look_up(&actor(vec![Role::Agent]), &player, &cases, &audit)
            .await
            .expect("looked up");
        assert_eq!(support.open_tickets.len(), 1);
        assert_ne!(support.open_tickets[0].reference, resolved);
        assert_eq!(support.verification, None);
        let recorded = audit.recorded();
        assert_eq!(recorded.len(), 1);
        assert_eq!(recorded[0].player, player);
        assert_eq!(recorded[0].staff.as_str(), "agent-1");
    }

    #[tokio::test]
    async fn players_and_services_may_not_look_anyone_up() {
        let desk = desk("2026-12-03T15:00:00Z");
        let audit = Audit::default();
        let cases = MemoryCaseStore::default();
        let player = PlayerId::parse("p-42").expect("valid");
        for roles in [vec![Role::Player], vec![Role::Service]] {
            assert!(matches!(
                desk.look_up(&actor(roles), &player, &cases, &audit).await,
                Err(LookupError::Forbidden(_))
            ));
        }
        assert!(audit.recorded().is_empty());
        for roles in [vec![Role::Verification], vec![Role::Supervisor]] {
            assert!(desk
                .look_up(&actor(roles), &player, &cases, &audit)
                .await
                .is_ok());
        }
    }
}

//! Use cases of the agents' workflow, over the ports: a team's queue and the updates of a
//! ticket (take, reply, status) under optimistic versioning (escalation, which writes through
//! the same `apply`, is in `escalation::service`). Every update writes the player's
//! notification and the outbox messages in the same transaction as the change.

use jiff::Timestamp;

use crate::common::access::{Actor, Forbidden, Role};
use crate::common::paging::Page;
use crate::common::reference::TicketReference;
use crate::common::store::StoreError;
use crate::escalation::rules::Escalation;
use crate::notifications::rules::{kind_for, Notification, NotifyError};
use crate::outbox::rules::{MessageId, OutboxMessage};
use crate::tickets::desk::Desk;
use crate::tickets::ports::{QueueStart, TicketStore, TicketUpdate, Updated};
use crate::tickets::ticket::{Channel, Team, Ticket};
use crate::tickets::workflow::{Change, WorkflowError};

#[derive(Debug, thiserror::Error)]
pub enum StaffError {
    #[error("no such ticket")]
    NotFound,
    #[error("the ticket belongs to another team")]
    OtherTeam(Team),
    #[error(transparent)]
    Workflow(#[from] WorkflowError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Notify(#[from] NotifyError),
    #[error("the random source failed")]
    Random(#[from] getrandom::Error),
}

/// A written update: the change, and the outbox messages the caller relays right away.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub change: Change,
    pub notification: Option<Notification>,
    pub escalation: Option<Escalation>,
    pub outbox: Vec<OutboxMessage>,
}

/// Millisecond precision, like intake: what the sort keys carry.
pub(crate) fn now_ms(now: Timestamp) -> Timestamp {
    Timestamp::from_millisecond(now.as_millisecond()).unwrap_or(now)
}

impl<S: TicketStore> Desk<S> {
    /// When the desk owes its next written answer on a ticket of `priority`, counted from
    /// `now`: after an agent's reply, a player's answer, or a hand-over to a specialist team.
    /// Follow-ups are written, whatever channel the request came by.
    pub fn follow_up_due(
        &self,
        priority: crate::tickets::ticket::Priority,
        now: Timestamp,
    ) -> Timestamp {
        self.calendar
            .response_target(Channel::Form, priority, now)
            .due_at
    }

    /// A team's open tickets, most urgent first, in arrival order within a priority.
    pub async fn team_queue(
        &self,
        team: Team,
        limit: u16,
        start: Option<&QueueStart>,
    ) -> Result<Page<Ticket, QueueStart>, StoreError> {
        self.store.team_queue(team, limit, start).await
    }

    pub(crate) async fn read_for(
        &self,
        caller: &Actor,
        reference: &TicketReference,
    ) -> Result<crate::tickets::ports::TicketWithHistory, StaffError> {
        let found = self
            .store
            .get(reference)
            .await?
            .ok_or(StaffError::NotFound)?;
        if !caller.works_for(found.ticket.team) {
            return Err(StaffError::OtherTeam(found.ticket.team));
        }
        Ok(found)
    }

    /// Reads the ticket, checks that `caller` works for its team, computes the change with
    /// `decide` and writes it, with the player's notification, only if no one changed the
    /// ticket meanwhile.
    pub async fn work_on(
        &self,
        caller: &Actor,
        reference: &TicketReference,
        decide: impl FnOnce(&Ticket, Timestamp) -> Result<Change, WorkflowError>,
    ) -> Result<Applied, StaffError> {
        let found = self.read_for(caller, reference).await?;
        let now = now_ms(self.clock.now());
        let change = decide(&found.ticket, now)?;
        self.apply(&found.ticket, change, None, Vec::new(), false, now)
            .await
    }

    /// The player answers on their own ticket (another player's is `NotFound`, like an unknown
    /// one). Written on the version just read: a concurrent staff update makes it `Stale`, and
    /// the player's client sends it again.
    pub async fn answer(
        &self,
        player: &crate::common::player::PlayerId,
        reference: &TicketReference,
        body: crate::tickets::workflow::MessageBody,
    ) -> Result<Applied, StaffError> {
        let found = self
            .ticket_of(player, reference)
            .await?
            .ok_or(StaffError::NotFound)?;
        let now = now_ms(self.clock.now());
        let due = self.follow_up_due(found.ticket.priority, now);
        let change = crate::tickets::workflow::player_reply(&found.ticket, body, now, due)?;
        self.apply(&found.ticket, change, None, Vec::new(), false, now)
            .await
    }

    /// Writes `change` with its escalation record, the player's notification (if the change
    /// owes one) and the outbox messages, under the version condition.
    pub(crate) async fn apply(
        &self,
        before: &Ticket,
        change: Change,
        escalation: Option<Escalation>,
        mut outbox: Vec<OutboxMessage>,
        routed: bool,
        now: Timestamp,
    ) -> Result<Applied, StaffError> {
        let notification = match kind_for(before, &change, routed) {
            Some(kind) => {
                let (notification, message) =
                    self.notifier
                        .for_ticket(kind, &change.ticket, MessageId::generate()?, now)?;
                outbox.push(message);
                Some(notification)
            }
            None => None,
        };
        let written = self
            .store
            .update(TicketUpdate {
                change: &change,
                escalation: escalation.as_ref(),
                notification: notification.as_ref(),
                outbox: &outbox,
            })
            .await?;
        match written {
            Updated::Done => Ok(Applied {
                change,
                notification,
                escalation,
                outbox,
            }),
            Updated::Stale => Err(StaffError::Workflow(WorkflowError::Stale {
                expected: change.expected_version,
                actual: change.expected_version + 1,
            })),
        }
    }
}

/// Staff only: an agent or a supervisor, whatever the team (checked per ticket or queue).
pub fn require_staff(caller: &Actor) -> Result<(), Forbidden> {
    if caller.is_staff() {
        Ok(())
    } else {
        Err(Forbidden {
            required: Role::Agent,
        })
    }
}

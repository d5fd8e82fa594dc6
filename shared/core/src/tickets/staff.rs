//! Use cases of the agents' workflow, over the ports: a team's queue and the updates of a
//! ticket (take, reply, status) under optimistic versioning (escalation, which writes through
//! the same `apply`, is in `escalation::service`). Every update writes the player's
//! notification and the outbox messages in the same transaction as the change.

use jiff::Timestamp;

use crate::common::access::{Actor, Forbidden, Role};
use crate::common::paging::Page;
use crate::common::reference::TicketReference;
use crate::common::seen::{on_seen_else_read, Seen};
use crate::common::store::StoreError;
use crate::escalation::rules::Escalation;
use crate::notifications::rules::{kind_for, Notification, NotifyError};
use crate::outbox::rules::{MessageId, OutboxMessage};
use crate::tickets::desk::Desk;
use crate::tickets::ports::{Basis, QueueStart, TicketStore, TicketUpdate, Updated};
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

/// What a staff action decided: the change, and the escalation record and outbox messages
/// that go with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Decision {
    pub change: Change,
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

    /// Checks that `caller` works for the ticket's team, computes the change with `decide`
    /// and writes it, with the player's notification, only if no one changed the ticket
    /// meanwhile. See [`Desk::act`] for `seen`.
    pub async fn work_on(
        &self,
        caller: &Actor,
        reference: &TicketReference,
        seen: Option<&Seen<Ticket>>,
        decide: impl Fn(&Ticket, Timestamp) -> Result<Change, WorkflowError>,
    ) -> Result<Applied, StaffError> {
        self.act(caller, reference, seen, |ticket, now| {
            Ok(Decision {
                change: decide(ticket, now)?,
                escalation: None,
                outbox: Vec::new(),
            })
        })
        .await
    }

    /// A staff action: `decide` on the ticket, then one conditional write.
    ///
    /// With `seen` (the `state` token of the staff view the agent acted on) about this ticket
    /// and of the caller's team, the desk decides on it and writes on the condition that the
    /// stored ticket is exactly that one (its fingerprint): one round trip. When the token is
    /// not usable, `decide` refuses it, or the write finds the ticket different (a forged or
    /// outdated token, another write first), nothing was written and the desk does what it does
    /// without a token: it reads the ticket and decides on the truth, so every answer (`404`,
    /// another team's, `409 stale`, a refused move) comes from the stored ticket, never from
    /// what a caller claimed.
    pub(crate) async fn act(
        &self,
        caller: &Actor,
        reference: &TicketReference,
        seen: Option<&Seen<Ticket>>,
        decide: impl Fn(&Ticket, Timestamp) -> Result<Decision, StaffError>,
    ) -> Result<Applied, StaffError> {
        let decide = &decide;
        on_seen_else_read(
            async {
                let seen = seen?;
                let ticket = seen.record();
                if &ticket.reference != reference || !caller.works_for(ticket.team) {
                    return None;
                }
                let now = now_ms(self.clock.now());
                let decision = decide(ticket, now).ok()?;
                let basis = Basis::Seen {
                    fingerprint: seen.fingerprint(),
                };
                match self.apply(ticket, decision, false, basis, now).await {
                    Err(StaffError::Workflow(WorkflowError::Stale { .. })) => None,
                    written => Some(written),
                }
            },
            async {
                let found = self.read_for(caller, reference).await?;
                let now = now_ms(self.clock.now());
                let decision = decide(&found.ticket, now)?;
                self.apply(&found.ticket, decision, false, Basis::Read, now)
                    .await
            },
        )
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
        let decision = Decision {
            change,
            escalation: None,
            outbox: Vec::new(),
        };
        self.apply(&found.ticket, decision, false, Basis::Read, now)
            .await
    }

    /// The player's answer by another channel (a mail, a chat hand-off): [`Desk::answer`],
    /// recorded with what it came in on (`origin`), once. A second delivery finds its message
    /// on the ticket and writes nothing (`Ok(None)`): the check and the write are on one version
    /// of the ticket, so two deliveries at once write one message (the other is `Stale`, and
    /// its retry finds it).
    pub async fn answer_once(
        &self,
        player: &crate::common::player::PlayerId,
        reference: &TicketReference,
        body: crate::tickets::workflow::MessageBody,
        origin: &str,
    ) -> Result<Option<Applied>, StaffError> {
        let found = self
            .ticket_of(player, reference)
            .await?
            .ok_or(StaffError::NotFound)?;
        if found
            .messages
            .iter()
            .any(|message| message.origin.as_deref() == Some(origin))
        {
            return Ok(None);
        }
        let now = now_ms(self.clock.now());
        let due = self.follow_up_due(found.ticket.priority, now);
        let mut change = crate::tickets::workflow::player_reply(&found.ticket, body, now, due)?;
        if let Some(message) = change.message.as_mut() {
            message.origin = Some(origin.to_owned());
        }
        let decision = Decision {
            change,
            escalation: None,
            outbox: Vec::new(),
        };
        self.apply(&found.ticket, decision, false, Basis::Read, now)
            .await
            .map(Some)
    }

    /// Writes the decision's change with its escalation record, the player's notification
    /// (if the change owes one) and the outbox messages, under the version condition (and, on
    /// a `seen` basis, the fingerprint's).
    pub(crate) async fn apply(
        &self,
        before: &Ticket,
        decision: Decision,
        routed: bool,
        basis: Basis<'_>,
        now: Timestamp,
    ) -> Result<Applied, StaffError> {
        let Decision {
            mut change,
            escalation,
            mut outbox,
        } = decision;
        self.keep_promises(before, &mut change);
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
                basis,
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

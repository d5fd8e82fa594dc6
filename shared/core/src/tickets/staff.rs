//! Use cases of the agents' workflow, over the ports: a team's queue, the updates of a ticket
//! (take, reply, status) under optimistic versioning, and escalation (request, then routing by
//! the route-escalations function). Every update writes the player's notification and the
//! outbox messages in the same transaction as the change.

use jiff::Timestamp;

use crate::common::access::{Actor, Forbidden, Role};
use crate::common::paging::Page;
use crate::common::player::Author;
use crate::common::reference::TicketReference;
use crate::common::retry::{Attempt, RetryPolicy};
use crate::common::store::StoreError;
use crate::escalation::rules::{self as escalation, Escalation, EscalationAsk, Routing};
use crate::notifications::rules::{kind_for, Notification, NotifyError};
use crate::outbox::ports::{MessageQueues, SendError};
use crate::outbox::rules::{Destination, MessageId, OutboxMessage};
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

    async fn read_for(
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

    /// Requests an escalation to a specialist team: the ticket becomes `escalated` and the
    /// request is in the outbox, in one transaction.
    pub async fn escalate(
        &self,
        caller: &Actor,
        reference: &TicketReference,
        expected_version: u64,
        ask: EscalationAsk,
    ) -> Result<Applied, StaffError> {
        let found = self.read_for(caller, reference).await?;
        let now = now_ms(self.clock.now());
        let actor = Author::Staff {
            id: caller.subject.as_str().to_owned(),
        };
        let (change, escalation) = escalation::request(
            &found.ticket,
            expected_version,
            ask,
            actor,
            MessageId::generate()?,
            now,
        )?;
        let outbox = vec![OutboxMessage::new(
            MessageId::generate()?,
            Destination::Escalations,
            reference.as_str(),
            &escalation.request_message(),
            now,
        )
        .map_err(NotifyError::from)?];
        self.apply(&found.ticket, change, Some(escalation), outbox, false, now)
            .await
    }

    /// Writes `change` with its escalation record, the player's notification (if the change
    /// owes one) and the outbox messages, under the version condition.
    async fn apply(
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

    /// Routes one escalation request (the route-escalations function, per SQS record): the
    /// team's message first, then the ticket, its history, the routed record and the
    /// player's notification in one transaction. A duplicate delivery finds the record
    /// settled and does nothing; a crash between the two steps re-sends on redelivery, which
    /// the FIFO queue drops as a duplicate (same deduplication id) within five minutes, and
    /// teams deduplicate on `escalation_id` beyond that.
    pub async fn route_escalation<Q: MessageQueues>(
        &self,
        queues: &Q,
        reference: &TicketReference,
        escalation_id: &MessageId,
    ) -> Result<RouteOutcome, RouteError> {
        // A concurrent agent update can win between our read and our write: read again.
        ROUTE_RETRY
            .run(|_| self.route_attempt(queues, reference, escalation_id))
            .await?
            .ok_or(RouteError::Contended)
    }

    /// One attempt of [`Desk::route_escalation`], on the ticket as it is now.
    async fn route_attempt<Q: MessageQueues>(
        &self,
        queues: &Q,
        reference: &TicketReference,
        escalation_id: &MessageId,
    ) -> Result<Attempt<RouteOutcome>, RouteError> {
        let found = self
            .store
            .get(reference)
            .await?
            .ok_or(RouteError::UnknownTicket)?;
        let escalation = found
            .escalations
            .iter()
            .find(|e| &e.id == escalation_id)
            .ok_or(RouteError::UnknownEscalation)?;
        let now = now_ms(self.clock.now());
        let due = self.follow_up_due(found.ticket.priority, now);
        match escalation::route(&found.ticket, escalation, due, now) {
            Routing::Settled => Ok(Attempt::Done(RouteOutcome::AlreadySettled)),
            Routing::Withdraw { escalation } => {
                self.store.settle_escalation(&escalation).await?;
                Ok(Attempt::Done(RouteOutcome::Withdrawn))
            }
            Routing::Route {
                change,
                escalation,
                message,
            } => {
                let body = serde_json::to_string(&message).map_err(NotifyError::from)?;
                queues
                    .send_to_team(
                        escalation.to_team,
                        reference.as_str(),
                        escalation.id.as_str(),
                        &body,
                    )
                    .await?;
                match self
                    .apply(
                        &found.ticket,
                        change,
                        Some(escalation),
                        Vec::new(),
                        true,
                        now,
                    )
                    .await
                {
                    Ok(applied) => Ok(Attempt::Done(RouteOutcome::Routed(Box::new(applied)))),
                    Err(StaffError::Workflow(WorkflowError::Stale { .. })) => Ok(Attempt::Retry),
                    Err(other) => Err(RouteError::Staff(other)),
                }
            }
        }
    }
}

const ROUTE_RETRY: RetryPolicy = RetryPolicy::CONTENDED_WRITE.with_attempts(3);

#[derive(Debug)]
pub enum RouteOutcome {
    Routed(Box<Applied>),
    Withdrawn,
    AlreadySettled,
}

#[derive(Debug, thiserror::Error)]
pub enum RouteError {
    #[error("the request names a ticket that does not exist")]
    UnknownTicket,
    #[error("the request names an escalation the ticket does not have")]
    UnknownEscalation,
    #[error("the ticket kept changing while being routed")]
    Contended,
    #[error(transparent)]
    Send(#[from] SendError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Staff(#[from] StaffError),
}

impl From<NotifyError> for RouteError {
    fn from(e: NotifyError) -> Self {
        RouteError::Staff(StaffError::Notify(e))
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

/// Queue cursors are opaque to clients: base64url of `<rank>.<created ms>.<reference>`,
/// checked part by part, so a tampered cursor is a 400. The team in the path is always the
/// partition queried, so a cursor cannot reach another team's queue.
pub mod queue_cursor {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;

    use crate::common::reference::TicketReference;
    use crate::tickets::ports::QueueStart;
    use crate::tickets::ticket::Priority;

    pub fn encode(start: &QueueStart) -> String {
        URL_SAFE_NO_PAD.encode(format!(
            "{}.{}.{}",
            start.priority.rank(),
            start.created_at.as_millisecond(),
            start.reference.as_str()
        ))
    }

    pub fn decode(raw: &str) -> Option<QueueStart> {
        let bytes = URL_SAFE_NO_PAD.decode(raw).ok()?;
        let text = std::str::from_utf8(&bytes).ok()?;
        let mut parts = text.splitn(3, '.');
        let rank: u8 = parts.next()?.parse().ok()?;
        let millis: i64 = parts.next()?.parse().ok()?;
        let reference = TicketReference::parse(parts.next()?).ok()?;
        Some(QueueStart {
            priority: *Priority::ALL.iter().find(|p| p.rank() == rank)?,
            created_at: jiff::Timestamp::from_millisecond(millis).ok()?,
            reference,
        })
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn round_trips_and_refuses_tampering() {
            let start = QueueStart {
                priority: Priority::High,
                created_at: jiff::Timestamp::from_millisecond(1_764_169_200_123).expect("valid"),
                reference: TicketReference::from_random([5; 9]),
            };
            assert_eq!(decode(&encode(&start)), Some(start.clone()));
            assert_eq!(decode("not-base64!"), None);
            let reference = start.reference.as_str();
            assert_eq!(
                decode(&URL_SAFE_NO_PAD.encode(format!("9.12.{reference}"))),
                None
            );
            assert_eq!(
                decode(&URL_SAFE_NO_PAD.encode(format!("1.x.{reference}"))),
                None
            );
            assert_eq!(decode(&URL_SAFE_NO_PAD.encode("1.12.ABCDEFGHJK")), None);
        }
    }
}

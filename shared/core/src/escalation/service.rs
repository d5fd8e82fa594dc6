//! Escalation's use cases: an agent's request (the ticket becomes `escalated`, the request is
//! in the outbox, one transaction), then its routing to the specialist team's queue by the
//! route-escalations function. Both write through the desk's one versioned `apply`.

use crate::common::access::Actor;
use crate::common::player::Author;
use crate::common::reference::TicketReference;
use crate::common::retry::{Attempt, RetryPolicy};
use crate::common::seen::Seen;
use crate::common::store::StoreError;
use crate::escalation::rules::{self as escalation, EscalationAsk, Routing};
use crate::notifications::rules::NotifyError;
use crate::outbox::ports::{MessageQueues, SendError};
use crate::outbox::rules::{Destination, MessageId, OutboxMessage};
use crate::tickets::desk::Desk;
use crate::tickets::ports::Basis;
use crate::tickets::ports::TicketStore;
use crate::tickets::staff::{now_ms, Applied, Decision, StaffError};
use crate::tickets::ticket::Ticket;
use crate::tickets::workflow::WorkflowError;

impl<S: TicketStore> Desk<S> {
    /// Requests an escalation to a specialist team: the ticket becomes `escalated` and the
    /// request is in the outbox, in one transaction.
    pub async fn escalate(
        &self,
        caller: &Actor,
        reference: &TicketReference,
        expected_version: u64,
        seen: Option<&Seen<Ticket>>,
        ask: EscalationAsk,
    ) -> Result<Applied, StaffError> {
        let actor = Author::Staff {
            id: caller.subject.as_str().to_owned(),
        };
        self.act(caller, reference, seen, |ticket, now| {
            let (change, escalation) = escalation::request(
                ticket,
                expected_version,
                ask.clone(),
                actor.clone(),
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
            Ok(Decision {
                change,
                escalation: Some(escalation),
                outbox,
            })
        })
        .await
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
                        Decision {
                            change,
                            escalation: Some(escalation),
                            outbox: Vec::new(),
                        },
                        true,
                        Basis::Read,
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

//! The escalation router: reads escalation requests (schema `guichet.escalation-request.v1`)
//! that the outbox relays to the escalations queue, and for each one puts the versioned team
//! message (`guichet.escalation.v1`) on the specialist team's FIFO queue, moves the ticket to
//! that team with a new response target, records it in the ticket's history and notifies the
//! player — see `Desk::route_escalation` for the order of the steps and why it is safe.
//!
//! Messages are reported one by one (`ReportBatchItemFailures`): a message that cannot be
//! handled (not a request, an unknown ticket, a queue or the store failing) is named in
//! `batchItemFailures`, retried by SQS, and dead-lettered after the queue's `maxReceiveCount`;
//! the good messages of the batch are deleted. A duplicate delivery finds the escalation
//! settled and changes nothing.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use guichet_core::escalation::rules::{EscalationRequest, REQUEST_SCHEMA};
use guichet_core::escalation::service::{RouteError, RouteOutcome};
use guichet_core::outbox::ports::{MessageQueues, OutboxStore};
use guichet_core::outbox::relay::Relay;
use guichet_core::tickets::desk::Desk;
use guichet_core::tickets::ports::TicketStore;
use tracing::{field::Empty, info_span};

/// Why one message could not be handled; every variant fails the message.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("the message has no body")]
    NoBody,
    #[error("the body is not an escalation request")]
    NotARequest(#[source] serde_json::Error),
    #[error("the request's schema is not {REQUEST_SCHEMA}")]
    UnknownSchema,
    #[error(transparent)]
    Route(#[from] RouteError),
}

/// Routes every request of a batch; names in the response only the messages to retry.
/// `relay` holds the specialist teams' queues; the player's notification, written with the
/// routing, leaves through the table's stream (relay-stream).
pub async fn handle<S, O, Q>(
    desk: &Desk<S>,
    relay: &Relay<O, Q>,
    event: SqsEvent,
) -> SqsBatchResponse
where
    S: TicketStore,
    O: OutboxStore,
    Q: MessageQueues,
{
    guichet_edge::batch::each_message(
        event,
        |id| info_span!("escalation_request", message_id = %id, ticket = Empty, escalation = Empty),
        |message| async move { route(desk, relay, &message).await },
        guichet_edge::batch::log_failure,
    )
    .await
}

async fn route<S, O, Q>(
    desk: &Desk<S>,
    relay: &Relay<O, Q>,
    message: &SqsMessage,
) -> Result<(), RecordError>
where
    S: TicketStore,
    O: OutboxStore,
    Q: MessageQueues,
{
    let body = message.body.as_deref().ok_or(RecordError::NoBody)?;
    let request: EscalationRequest =
        serde_json::from_str(body).map_err(RecordError::NotARequest)?;
    if request.schema != REQUEST_SCHEMA {
        return Err(RecordError::UnknownSchema);
    }
    let span = tracing::Span::current();
    span.record("ticket", request.reference.as_str());
    span.record("escalation", request.escalation_id.as_str());
    let outcome = desk
        .route_escalation(&relay.queues, &request.reference, &request.escalation_id)
        .await?;
    match outcome {
        RouteOutcome::Routed(applied) => {
            tracing::info!(
                team = applied.change.ticket.team.as_str(),
                "escalation routed to the team's queue"
            );
        }
        RouteOutcome::Withdrawn => {
            tracing::info!("ticket left escalated before routing; escalation withdrawn")
        }
        RouteOutcome::AlreadySettled => tracing::info!("duplicate delivery; nothing to do"),
    }
    Ok(())
}

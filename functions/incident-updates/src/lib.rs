//! The incident fan-out: reads pages of an incident's status update (schema
//! `guichet.incident-update.v1`, see `guichet_core::incidents::rules::FanOut`) from the
//! incident-updates queue. For each page it applies the update to the linked tickets of the page
//! and notifies their players (`Incidents::fan_out`: each ticket's change, notification and
//! outbox message in one transaction; a ticket that has it already is skipped), relays those
//! notifications, then puts the next page on the same queue.
//!
//! Why it is safe: the page's message stays on the queue until all of that is done. A failure
//! (the store, the relay of the next page) names the message in `batchItemFailures`; SQS hands
//! it out again and the page is redone, telling nobody twice; after the queue's
//! `maxReceiveCount` it is dead-lettered (and alarmed). A page delivered twice, or a next page
//! sent twice, tells nobody twice either.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use guichet_core::incidents::ports::IncidentStore;
use guichet_core::incidents::rules::{FanOut, FAN_OUT_SCHEMA};
use guichet_core::incidents::service::{IncidentError, Incidents};
use guichet_core::outbox::ports::{MessageQueues, OutboxStore, SendError};
use guichet_core::outbox::relay::Relay;
use guichet_core::outbox::rules::Destination;
use guichet_core::tickets::desk::Desk;
use guichet_core::tickets::ports::TicketStore;
use tracing::{field::Empty, info_span};

/// Linked tickets per page: one read and one transaction each, about a second in all, well
/// inside the function's 30 s timeout even when DynamoDB is slow.
pub const PAGE_SIZE: usize = 25;

/// Why one message could not be handled; every variant fails the message.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    #[error("the message has no body")]
    NoBody,
    #[error("the body is not an incident fan-out page")]
    NotAPage(#[source] serde_json::Error),
    #[error("the page's schema is not {FAN_OUT_SCHEMA}")]
    UnknownSchema,
    #[error(transparent)]
    Incident(#[from] IncidentError),
    #[error("the next page could not be written")]
    NextPageBody(#[source] serde_json::Error),
    #[error("the next page could not be queued")]
    NextPage(#[source] SendError),
}

/// Fans out every page of a batch; names in the response only the messages to retry.
pub async fn handle<S, I, O, Q>(
    desk: &Desk<S>,
    incidents: &Incidents<I>,
    relay: &Relay<O, Q>,
    page_size: usize,
    event: SqsEvent,
) -> SqsBatchResponse
where
    S: TicketStore,
    I: IncidentStore,
    O: OutboxStore,
    Q: MessageQueues,
{
    guichet_edge::batch::each_message(
        event,
        |id| info_span!("incident_update", message_id = %id, incident = Empty, seq = Empty),
        |message| async move { fan_out(desk, incidents, relay, page_size, &message).await },
        guichet_edge::batch::log_failure,
    )
    .await
}

async fn fan_out<S, I, O, Q>(
    desk: &Desk<S>,
    incidents: &Incidents<I>,
    relay: &Relay<O, Q>,
    page_size: usize,
    message: &SqsMessage,
) -> Result<(), PageError>
where
    S: TicketStore,
    I: IncidentStore,
    O: OutboxStore,
    Q: MessageQueues,
{
    let body = message.body.as_deref().ok_or(PageError::NoBody)?;
    let page: FanOut = serde_json::from_str(body).map_err(PageError::NotAPage)?;
    if page.schema != FAN_OUT_SCHEMA {
        return Err(PageError::UnknownSchema);
    }
    let span = tracing::Span::current();
    span.record("incident", page.incident_id.as_str());
    span.record("seq", page.seq);
    let done = incidents.fan_out(desk, &page, page_size).await?;
    // The notifications were written with each ticket's change: the table's stream relays
    // them (relay-stream). Only the next page is this function's to send.
    if let Some(next) = &done.next {
        let body = serde_json::to_string(next).map_err(PageError::NextPageBody)?;
        relay
            .queues
            .send(Destination::IncidentUpdates, &body)
            .await
            .map_err(PageError::NextPage)?;
    }
    tracing::info!(
        notified = done.notified,
        more = done.next.is_some(),
        "incident fan-out page done"
    );
    Ok(())
}

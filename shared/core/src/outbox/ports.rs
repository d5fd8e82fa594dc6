//! The outbox's ports: the items waiting to be relayed, and the queues they go to.

use std::future::Future;

use crate::common::store::StoreError;
use crate::outbox::rules::{Destination, MessageId, OutboxMessage};
use crate::tickets::ticket::Team;

/// The outbox items not yet relayed.
pub trait OutboxStore: Send + Sync {
    /// The oldest waiting messages, at most `limit`.
    fn pending(
        &self,
        limit: u16,
    ) -> impl Future<Output = Result<Vec<OutboxMessage>, StoreError>> + Send;

    /// Forgets a message once its queue accepted it.
    fn remove(&self, id: &MessageId) -> impl Future<Output = Result<(), StoreError>> + Send;
}

impl<T: OutboxStore> OutboxStore for &T {
    fn pending(
        &self,
        limit: u16,
    ) -> impl Future<Output = Result<Vec<OutboxMessage>, StoreError>> + Send {
        (**self).pending(limit)
    }

    fn remove(&self, id: &MessageId) -> impl Future<Output = Result<(), StoreError>> + Send {
        (**self).remove(id)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("the queue could not be reached or refused the message")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("no queue is configured for {0}")]
    NoQueue(&'static str),
}

/// The SQS queues Guichet sends to.
pub trait MessageQueues: Send + Sync {
    /// Sends an outbox message to its destination queue.
    fn send(
        &self,
        destination: Destination,
        body: &str,
    ) -> impl Future<Output = Result<(), SendError>> + Send;

    /// Sends a team's escalation message on its FIFO queue: one message group per ticket
    /// (per-ticket order), deduplicated by escalation id.
    fn send_to_team(
        &self,
        team: Team,
        group: &str,
        deduplication_id: &str,
        body: &str,
    ) -> impl Future<Output = Result<(), SendError>> + Send;
}

impl<T: MessageQueues> MessageQueues for &T {
    fn send(
        &self,
        destination: Destination,
        body: &str,
    ) -> impl Future<Output = Result<(), SendError>> + Send {
        (**self).send(destination, body)
    }

    fn send_to_team(
        &self,
        team: Team,
        group: &str,
        deduplication_id: &str,
        body: &str,
    ) -> impl Future<Output = Result<(), SendError>> + Send {
        (**self).send_to_team(team, group, deduplication_id, body)
    }
}

//! Queues in memory (feature `mocks`): what a relay sent, and sends that fail on demand.

use std::sync::Mutex;

use crate::outbox::ports::{MessageQueues, SendError};
use crate::outbox::rules::Destination;
use crate::tickets::memory::MemoryTicketStore;

/// Queues that record what was sent, or refuse everything while `failing` is set.
#[derive(Default)]
pub struct MemoryQueues {
    pub sent: Mutex<Vec<(String, String)>>,
    pub failing: std::sync::atomic::AtomicBool,
}

#[derive(Debug, thiserror::Error)]
#[error("the in-memory queue was told to fail")]
pub struct Refused;

impl MemoryQueues {
    /// `(queue, body)` pairs in send order: `escalations`, `notifications` or `team:<name>`.
    pub fn sent(&self) -> Vec<(String, String)> {
        self.sent.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn push(&self, queue: String, body: &str) -> Result<(), SendError> {
        if self.failing.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(SendError::Backend(Box::new(Refused)));
        }
        self.sent
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((queue, body.to_owned()));
        Ok(())
    }
}

impl MessageQueues for MemoryQueues {
    async fn send(&self, destination: Destination, body: &str) -> Result<(), SendError> {
        self.push(destination.as_str().to_owned(), body)
    }

    async fn send_to_team(
        &self,
        team: crate::tickets::ticket::Team,
        _group: &str,
        _deduplication_id: &str,
        body: &str,
    ) -> Result<(), SendError> {
        self.push(format!("team:{}", team.as_str()), body)
    }
}

/// A relay over the desk's in-memory outbox, to queues that record what they receive.
pub fn relay(
    desk: &crate::tickets::desk::Desk<MemoryTicketStore>,
) -> crate::outbox::relay::Relay<&MemoryTicketStore, MemoryQueues> {
    crate::outbox::relay::Relay {
        store: &desk.store,
        queues: MemoryQueues::default(),
    }
}

/// A relay with an outbox of its own, for handlers whose store is not a ticket store (the
/// verification decisions): what it sends is in `queues`.
pub fn detached_relay() -> crate::outbox::relay::Relay<MemoryTicketStore, MemoryQueues> {
    crate::outbox::relay::Relay {
        store: MemoryTicketStore::default(),
        queues: MemoryQueues::default(),
    }
}

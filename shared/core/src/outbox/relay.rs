//! The outbox relay: sends what a transaction left in the outbox, then forgets it. Nothing on
//! a request's path relays: the table's stream hands each new outbox item to the relay-stream
//! function ([`Relay::relay_one`]), so a message leaves within about a second of its commit
//! and a request costs only its own write. The relay-outbox function calls [`Relay::sweep`]
//! every minute for whatever a failed send (or a stream retry given up) left behind. A message
//! is removed only after its queue accepted it, so it is sent at least once; the consumers
//! make the second time a no-op.

use crate::common::store::StoreError;
use crate::outbox::ports::{MessageQueues, OutboxStore, SendError};
use crate::outbox::rules::OutboxMessage;

const MAX_PASSES: usize = 50;

pub struct Relay<O, Q> {
    pub store: O,
    pub queues: Q,
}

/// What a relay pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Relayed {
    pub sent: usize,
    /// Left in the outbox for the next pass.
    pub kept: usize,
}

impl<O: OutboxStore, Q: MessageQueues> Relay<O, Q> {
    /// Sends one message to its queue, then removes it from the outbox. A failed send is the
    /// caller's to retry (the message stays in the outbox); a failed removal only means the
    /// next sweep sends it again, which its consumer ignores.
    pub async fn relay_one(&self, message: &OutboxMessage) -> Result<(), SendError> {
        self.queues.send(message.destination, &message.body).await?;
        if let Err(error) = self.store.remove(&message.id).await {
            tracing::warn!(outbox_id = %message.id, error = %error, "sent, but not removed from the outbox");
        }
        Ok(())
    }

    /// Best effort: a message whose send or removal fails stays for the sweep. Never fails
    /// the caller.
    pub async fn deliver(&self, messages: &[OutboxMessage]) -> Relayed {
        let mut relayed = Relayed::default();
        for message in messages {
            match self.relay_one(message).await {
                Ok(()) => relayed.sent += 1,
                Err(error) => {
                    relayed.kept += 1;
                    tracing::warn!(
                        outbox_id = %message.id,
                        destination = message.destination.as_str(),
                        error = %error,
                        "outbox message kept for the next sweep"
                    );
                }
            }
        }
        relayed
    }

    /// Relays every waiting message, oldest first, `batch` at a time. Stops early when a whole
    /// batch could not be sent (the queue is down: the next sweep tries again).
    pub async fn sweep(&self, batch: u16) -> Result<Relayed, StoreError> {
        let mut total = Relayed::default();
        // Bounded: a store that keeps listing sent messages (removals failing) cannot spin.
        for _ in 0..MAX_PASSES {
            let pending = self.store.pending(batch).await?;
            if pending.is_empty() {
                return Ok(total);
            }
            let relayed = self.deliver(&pending).await;
            total.sent += relayed.sent;
            total.kept += relayed.kept;
            if relayed.sent == 0 || pending.len() < usize::from(batch) {
                return Ok(total);
            }
        }
        Ok(total)
    }
}

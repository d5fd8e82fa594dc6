//! The outbox relay: sends what a transaction left in the outbox, then forgets it. Handlers
//! call [`Relay::deliver`] right after their write, so a message usually leaves within
//! milliseconds; the relay-outbox function calls [`Relay::sweep`] every minute for whatever a
//! failed send (or a crash) left behind. A message is removed only after its queue accepted
//! it, so it is sent at least once; the consumers make the second time a no-op.

use crate::common::store::StoreError;
use crate::outbox::ports::{MessageQueues, OutboxStore};
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
    /// Best effort: a message whose send or removal fails stays for the sweep. Never fails
    /// the caller, whose own write already succeeded.
    pub async fn deliver(&self, messages: &[OutboxMessage]) -> Relayed {
        let mut relayed = Relayed::default();
        for message in messages {
            match self.queues.send(message.destination, &message.body).await {
                Ok(()) => {
                    relayed.sent += 1;
                    if let Err(error) = self.store.remove(&message.id).await {
                        // Sent but still listed: the next sweep sends it again, which the
                        // consumer ignores.
                        tracing::warn!(outbox_id = %message.id, error = %error, "sent, but not removed from the outbox");
                    }
                }
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

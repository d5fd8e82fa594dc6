//! The outbox sweep: every minute (an EventBridge schedule) relays what handlers could not
//! send right after their write — a queue unreachable for a moment, a function that timed out
//! between its commit and its send. With it, every escalation request and notification
//! written in a transaction reaches its queue; see `guichet_core::outbox::relay`.

use guichet_core::common::store::StoreError;
use guichet_core::outbox::ports::{MessageQueues, OutboxStore};
use guichet_core::outbox::relay::{Relay, Relayed};

/// Messages read from the outbox per query.
pub const BATCH: u16 = 25;

#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error("the outbox could not be read")]
    Store(#[from] StoreError),
    #[error("{kept} outbox message(s) could not be sent; the next sweep retries them")]
    Kept { kept: usize },
}

/// One sweep. A message left behind is an error, so the invocation shows as failed in the
/// function's metrics (and its alarm) while a queue stays unreachable.
pub async fn handle<O: OutboxStore, Q: MessageQueues>(
    relay: &Relay<O, Q>,
) -> Result<Relayed, SweepError> {
    let relayed = relay.sweep(BATCH).await?;
    tracing::info!(sent = relayed.sent, kept = relayed.kept, "outbox swept");
    if relayed.kept > 0 {
        return Err(SweepError::Kept { kept: relayed.kept });
    }
    Ok(relayed)
}

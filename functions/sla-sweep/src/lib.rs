//! The clocks' sweep, on an EventBridge schedule: records the warnings and breaches of the
//! tickets' promises that fell due and alerts the owning teams; see
//! `guichet_core::promises::sweep` for what it does and why two at once are safe.

use guichet_core::promises::sweep::{DueIndex, Sweep, SweepError, SweepReport};
use guichet_core::tickets::ports::TicketStore;

/// One sweep. The schedule's event carries nothing the sweep needs: the time is the
/// function's own clock, and what is due is in the table.
pub async fn handle<S: TicketStore + DueIndex>(
    sweep: &Sweep<S>,
) -> Result<SweepReport, SweepError> {
    sweep.run().await
}

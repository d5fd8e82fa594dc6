//! Tickets: intake, the response target, the agents' workflow on a ticket, and the store behind them.

pub mod acknowledgement;
pub mod desk;
pub mod intake;
pub mod lookup;
#[cfg(any(test, feature = "mocks"))]
pub mod memory;
pub mod merge;
pub mod ports;
pub mod saved_replies;
pub mod sla;
pub mod staff;
pub mod ticket;
pub mod workflow;

//! The DynamoDB adapters, one file per area's store, over the one table of tickets.

pub mod attachments;
pub mod cases;
pub mod deliveries;
pub mod incidents;
pub(crate) mod item;
pub(crate) mod query;
pub mod tickets;

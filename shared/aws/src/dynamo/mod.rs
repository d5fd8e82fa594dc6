//! The DynamoDB adapters, one file per area's store, over the one table of tickets.

pub mod attachments;
pub mod cases;
pub mod deliveries;
pub mod incidents;
pub(crate) mod item;
pub mod mail;
pub mod notifications;
pub(crate) mod query;
pub(crate) mod shards;
pub mod tickets;

//! The support desk's rules, in plain Rust: no AWS, no HTTP.

#[macro_use]
mod vocabulary;

pub mod acknowledgement;
pub mod attachment;
pub mod contact;
pub mod escalation;
pub mod incident;
pub mod intake;
pub mod notification;
pub mod outbox;
pub mod reference;
pub mod sla;
pub mod ticket;
pub mod validation;
pub mod verification;
pub mod workflow;

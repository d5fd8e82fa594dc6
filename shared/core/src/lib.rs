//! Guichet's core: the support desk's rules, the ports they need and the use cases over them,
//! one folder per business area. Nothing here knows AWS, Lambda or HTTP (a test of the
//! workspace fails if this crate ever depends on them): the `guichet-aws` crate implements the
//! ports, the `guichet-edge` crate turns requests and messages into calls of these use cases.

#[macro_use]
pub mod common;

pub mod attachments;
pub mod calendar;
pub mod documents;
pub mod escalation;
pub mod handoffs;
pub mod incidents;
pub mod mail;
pub mod notifications;
pub mod outbox;
pub mod promises;
pub mod tickets;
pub mod verification;

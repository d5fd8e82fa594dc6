//! Every integration test, in one binary: the real AWS SDK against the emulator, one freshly
//! provisioned stack per test. Run one file's tests with `cargo test -p guichet-tests -- api::`.

mod alarms;
mod api;
mod attachments;
mod bucket_events;
mod cases;
mod documents;
mod drift;
mod emulator;
mod escalation;
mod handoffs;
mod incidents;
mod logs;
mod mail;
mod merge;
mod notifications;
mod outages;
mod player_notifications;
mod promises;
mod store;
mod warmup;
mod workflow;

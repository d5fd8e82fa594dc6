//! The document storage both upload pipelines (verification documents, attachments) use.

#[cfg(any(test, feature = "mocks"))]
pub mod memory;
pub mod ports;
pub mod rules;

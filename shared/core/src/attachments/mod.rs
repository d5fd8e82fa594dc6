//! Ticket attachments: presigned uploads checked once they arrive.

#[cfg(any(test, feature = "mocks"))]
pub mod memory;
pub mod ports;
pub mod rules;
pub mod service;

//! The transactional outbox: messages written with the change, relayed to their queues after it.

#[cfg(any(test, feature = "mocks"))]
pub mod memory;
pub mod ports;
pub mod relay;
pub mod rules;

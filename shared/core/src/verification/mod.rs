//! Identity verification: cases, documents, review and the eligibility gate.

#[cfg(any(test, feature = "mocks"))]
pub mod memory;
pub mod ports;
pub mod rules;
pub mod service;

//! Incidents: reports of the same failure grouped, linked tickets, status updates fanned out.

#[cfg(any(test, feature = "mocks"))]
pub mod memory;
pub mod ports;
pub mod rules;
pub mod service;

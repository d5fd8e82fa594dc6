//! Escalation to the specialist teams: the request, its note and its routing.

pub mod rules;
pub mod service;

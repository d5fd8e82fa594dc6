//! Player notifications: what is owed, rendered in the player's language, and its delivery.

#[cfg(any(test, feature = "mocks"))]
pub mod memory;
pub mod ports;
pub mod rules;
pub mod sender;

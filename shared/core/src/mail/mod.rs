//! E-mail into the one ticket flow: what a player's mail says once its MIME is read (the edge
//! reads it, `guichet_edge::mail`), the signed reply-to address each ticket's mail carries, the
//! rules that keep our automatic answers from feeding a mail loop (RFC 3834), which ticket a mail
//! belongs to, and how far its sender can be trusted. Pure rules: the raw mail, its attachments'
//! bytes and SES's notification stay with the adapters.

pub mod body;
pub mod feedback;
pub mod held;
pub mod inbox;
pub mod loops;
#[cfg(any(test, feature = "mocks"))]
pub mod memory;
pub mod message;
pub mod ports;
pub mod reply_address;
pub mod sender;
pub mod threading;

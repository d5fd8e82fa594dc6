//! Hand-offs from the live-chat tool: a conversation its agents or bot could not close becomes
//! a ticket on the chat channel. What a hand-off must prove before anything is read of it: the
//! chat tool's signature, fresh.

pub mod desk;
pub mod request;
pub mod signature;

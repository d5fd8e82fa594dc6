//! What every area shares: the caller as the domain sees it, identifiers and references,
//! validation, paging, the clock and the store error.

#[macro_use]
pub mod vocabulary;
#[macro_use]
pub mod id;

pub mod access;
pub mod clock;
pub mod contact;
pub mod digest;
pub mod paging;
pub mod player;
pub mod reference;
pub mod retry;
pub mod seen;
pub mod settings;
pub mod store;
pub mod validation;

pub mod client;
pub mod gateway;
pub mod jwt;
pub mod provision;
pub mod template;

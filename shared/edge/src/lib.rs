//! Guichet's Lambda edge, shared by every function: the HTTP edge (verified claims to the
//! domain actor, JSON bodies within limits, every domain error mapped to a status once), the
//! SQS consumers' per-message loop, the runtime loop of each kind of function (API, queue,
//! schedule), telemetry and the configuration read at init, and the reader of inbound mail's MIME.

pub mod batch;
pub mod config;
pub mod errors;
pub mod http;
pub mod json;
pub mod mail;
#[cfg(test)]
mod properties;
pub mod schedule;
pub mod telemetry;
#[cfg(any(test, feature = "mocks"))]
pub mod testing;
pub mod upload;

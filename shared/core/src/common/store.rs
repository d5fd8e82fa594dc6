//! The one error every store port returns.

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the ticket store could not be reached or refused the request")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The store did not answer in time, could not be reached, or asked callers to slow down:
    /// the same request may well succeed in a moment. An API answers it `503` with
    /// `Retry-After`, a consumer leaves the message for its queue to redeliver.
    #[error("the ticket store is unavailable for now")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("a stored item has a missing or malformed attribute `{attribute}`")]
    Corrupt { attribute: &'static str },
}

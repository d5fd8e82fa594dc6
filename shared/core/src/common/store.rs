//! The one error every store port returns.

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the ticket store could not be reached or refused the request")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("a stored item has a missing or malformed attribute `{attribute}`")]
    Corrupt { attribute: &'static str },
}

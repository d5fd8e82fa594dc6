//! Development-only tools: the template model, local provisioning, the local gateway, dev
//! tokens. Never deployed.

pub mod client;
pub mod consumers;
pub mod drift;
pub mod gateway;
pub mod head;
pub mod inbound;
pub mod jwt;
pub mod openapi;
pub mod provision;
pub mod stream;
pub mod template;

/// An error and all its causes on one line: "dispatch failure: connection refused" says more
/// than "DescribeTable failed". Used by the tools' error messages and the tests' panics.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

/// The handler a `(Cargo binary, handler)` registry has for `binary`: the gateway's and the
/// consumers' one place to wire a function.
pub(crate) fn registered<H: Copy>(registry: &[(&str, H)], binary: &str) -> Option<H> {
    (registry.iter())
        .find(|(name, _)| *name == binary)
        .map(|(_, handler)| *handler)
}

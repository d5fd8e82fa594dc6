//! The SHA-256 of a value's canonical JSON: how the desk tells that two values are the same
//! without comparing them field by field (an idempotent request's body, the ticket an agent
//! saw against the ticket stored).

use sha2::{Digest, Sha256};

/// Lower-case hex SHA-256 of `value` serialised as JSON. Our own structs serialise in field
/// order and the same value always gives the same bytes, so equal values give equal digests.
pub fn json_sha256<T: serde::Serialize>(value: &T) -> String {
    // Serialising our own structs cannot fail: every field is a string, number, enum or list.
    let canonical = serde_json::to_vec(value).unwrap_or_default();
    Sha256::digest(&canonical)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_values_have_equal_digests_and_any_change_shows() {
        let a = json_sha256(&("ticket", 4, ["x"]));
        assert_eq!(a, json_sha256(&("ticket", 4, ["x"])));
        assert_eq!(a.len(), 64);
        assert_ne!(a, json_sha256(&("ticket", 5, ["x"])));
        assert_ne!(a, json_sha256(&("ticket", 4, ["y"])));
    }
}

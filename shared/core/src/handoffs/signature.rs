//! The live-chat tool's signature on a hand-off: HMAC-SHA256 over the request's timestamp and
//! its body, with a secret only the chat tool and Guichet hold, refused outside a five-minute
//! window so that a captured request cannot be played again later.
//!
//! The chat tool sends two headers: `X-Guichet-Timestamp` (Unix seconds) and
//! `X-Guichet-Signature` (`v1=` and the lower-case hex of HMAC-SHA256(secret, `<timestamp>.` +
//! body)). The version prefix lets a later scheme run beside this one during a change.

use hmac::{Hmac, Mac};
use jiff::{SignedDuration, Timestamp};
use sha2::Sha256;

pub const TIMESTAMP_HEADER: &str = "x-guichet-timestamp";
pub const SIGNATURE_HEADER: &str = "x-guichet-signature";
/// How far a request's timestamp may be from the desk's clock, either way.
pub const WINDOW: SignedDuration = SignedDuration::from_mins(5);
const SCHEME: &str = "v1=";

/// The shared secret, at least 32 bytes (as HMAC-SHA256 keys should be), and during a
/// rotation the one before it: a request signed with either passes, so the chat tool may
/// switch to the new value at its own pace. Its `Debug` shows nothing of them.
#[derive(Clone)]
pub struct HandoffKey {
    current: Hmac<Sha256>,
    previous: Option<Hmac<Sha256>>,
}

impl std::fmt::Debug for HandoffKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HandoffKey(..)")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("the hand-off secret must be at least {min} bytes")]
    TooShort { min: usize },
}

/// Why a hand-off's signature is refused. The answer names the header, never what was wrong
/// with a signature beyond that: a forger learns nothing from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the {0} header is missing")]
    Missing(&'static str),
    #[error("the {0} header is malformed")]
    Malformed(&'static str),
    #[error("the request's timestamp is more than five minutes from now")]
    OutsideWindow,
    #[error("the signature does not match the request")]
    Mismatch,
}

impl SignatureError {
    /// The header a client should look at.
    pub fn header(self) -> &'static str {
        match self {
            SignatureError::Missing(h) | SignatureError::Malformed(h) => h,
            SignatureError::OutsideWindow => TIMESTAMP_HEADER,
            SignatureError::Mismatch => SIGNATURE_HEADER,
        }
    }
}

impl HandoffKey {
    pub const MIN_LEN: usize = 32;

    pub fn parse(secret: &[u8]) -> Result<Self, KeyError> {
        Ok(HandoffKey {
            current: Self::hmac(secret)?,
            previous: None,
        })
    }

    /// The key with the value it replaces still accepted (a rotation under way).
    pub fn with_previous(self, previous: &[u8]) -> Result<Self, KeyError> {
        Ok(HandoffKey {
            previous: Some(Self::hmac(previous)?),
            ..self
        })
    }

    fn hmac(secret: &[u8]) -> Result<Hmac<Sha256>, KeyError> {
        if secret.len() < Self::MIN_LEN {
            return Err(KeyError::TooShort { min: Self::MIN_LEN });
        }
        Hmac::<Sha256>::new_from_slice(secret)
            .map_err(|_| KeyError::TooShort { min: Self::MIN_LEN })
    }

    fn mac(key: &Hmac<Sha256>, timestamp: &str, body: &[u8]) -> Hmac<Sha256> {
        let mut mac = key.clone();
        mac.update(timestamp.as_bytes());
        mac.update(b".");
        mac.update(body);
        mac
    }

    /// The signature header's value for `body` sent at `timestamp` (Unix seconds): what the
    /// chat tool computes, and the tests.
    pub fn sign(&self, timestamp: i64, body: &[u8]) -> String {
        let tag = Self::mac(&self.current, &timestamp.to_string(), body)
            .finalize()
            .into_bytes();
        let hex: String = tag.iter().map(|b| format!("{b:02x}")).collect();
        format!("{SCHEME}{hex}")
    }

    /// Checks a request's two headers against its body, at `now`.
    pub fn verify(
        &self,
        timestamp: Option<&str>,
        signature: Option<&str>,
        body: &[u8],
        now: Timestamp,
    ) -> Result<(), SignatureError> {
        let raw_ts = timestamp.ok_or(SignatureError::Missing(TIMESTAMP_HEADER))?;
        let raw_sig = signature.ok_or(SignatureError::Missing(SIGNATURE_HEADER))?;
        // Digits only: `+5` or ` 5` would sign another string than the one read.
        let digits =
            !raw_ts.is_empty() && raw_ts.len() <= 12 && raw_ts.bytes().all(|b| b.is_ascii_digit());
        let seconds: i64 = digits
            .then(|| raw_ts.parse().ok())
            .flatten()
            .ok_or(SignatureError::Malformed(TIMESTAMP_HEADER))?;
        let sent = Timestamp::from_second(seconds)
            .map_err(|_| SignatureError::Malformed(TIMESTAMP_HEADER))?;
        if sent.duration_since(now).abs() > WINDOW {
            return Err(SignatureError::OutsideWindow);
        }
        let tag = raw_sig
            .strip_prefix(SCHEME)
            .and_then(decode_hex)
            .ok_or(SignatureError::Malformed(SIGNATURE_HEADER))?;
        // Constant time: the comparison does not tell how many leading bytes were right. Both
        // keys are always tried, so the time taken does not tell which one matched either.
        let current = Self::mac(&self.current, raw_ts, body)
            .verify_slice(&tag)
            .is_ok();
        let previous = self
            .previous
            .as_ref()
            .is_some_and(|key| Self::mac(key, raw_ts, body).verify_slice(&tag).is_ok());
        if current | previous {
            Ok(())
        } else {
            Err(SignatureError::Mismatch)
        }
    }
}

/// 64 lower- or upper-case hex digits.
fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if text.len() != 64 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SECRET: &[u8] = b"a chat tool's secret, 32 bytes or more";
    const BODY: &[u8] = br#"{"provider":"zendesk","conversation_id":"c-1"}"#;

    fn key() -> HandoffKey {
        HandoffKey::parse(SECRET).expect("long enough")
    }

    fn now() -> Timestamp {
        Timestamp::from_second(1_796_000_000).expect("valid")
    }

    #[test]
    fn a_request_signed_with_the_secret_within_the_window_passes() {
        let signature = key().sign(1_796_000_000, BODY);
        assert!(signature.starts_with("v1=") && signature.len() == 67);
        let ts = "1796000000";
        assert_eq!(
            key().verify(Some(ts), Some(&signature), BODY, now()),
            Ok(())
        );
        // Four minutes either way still passes.
        for offset in [-240, 240] {
            let at = now() + SignedDuration::from_secs(offset);
            assert_eq!(key().verify(Some(ts), Some(&signature), BODY, at), Ok(()));
        }
    }

    #[test]
    fn a_forged_replayed_or_malformed_request_is_refused_naming_the_header() {
        let ts = "1796000000";
        let signature = key().sign(1_796_000_000, BODY);
        let other = HandoffKey::parse(b"another secret, also 32 bytes long!").expect("ok");
        let cases = [
            (
                key().verify(None, Some(&signature), BODY, now()),
                SignatureError::Missing(TIMESTAMP_HEADER),
            ),
            (
                key().verify(Some(ts), None, BODY, now()),
                SignatureError::Missing(SIGNATURE_HEADER),
            ),
            (
                key().verify(Some("+1796000000"), Some(&signature), BODY, now()),
                SignatureError::Malformed(TIMESTAMP_HEADER),
            ),
            (
                key().verify(Some(ts), Some("sha256=00"), BODY, now()),
                SignatureError::Malformed(SIGNATURE_HEADER),
            ),
            // Six minutes later: a replay.
            (
                key().verify(
                    Some(ts),
                    Some(&signature),
                    BODY,
                    now() + SignedDuration::from_mins(6),
                ),
                SignatureError::OutsideWindow,
            ),
            // Another body, another timestamp, another secret.
            (
                key().verify(Some(ts), Some(&signature), b"{}", now()),
                SignatureError::Mismatch,
            ),
            (
                key().verify(Some("1796000001"), Some(&signature), BODY, now()),
                SignatureError::Mismatch,
            ),
            (
                key().verify(
                    Some(ts),
                    Some(&other.sign(1_796_000_000, BODY)),
                    BODY,
                    now(),
                ),
                SignatureError::Mismatch,
            ),
        ];
        for (found, expected) in cases {
            assert_eq!(found, Err(expected));
        }
        assert!(HandoffKey::parse(b"short").is_err());
        // During a rotation, the value before is accepted too; after it, no longer.
        let rotating = other.clone().with_previous(SECRET).expect("long enough");
        let old_signature = key().sign(1_796_000_000, BODY);
        let new_signature = other.sign(1_796_000_000, BODY);
        assert_eq!(
            rotating.verify(Some(ts), Some(&old_signature), BODY, now()),
            Ok(())
        );
        assert_eq!(
            rotating.verify(Some(ts), Some(&new_signature), BODY, now()),
            Ok(())
        );
        assert_eq!(
            other.verify(Some(ts), Some(&old_signature), BODY, now()),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            rotating.sign(1_796_000_000, BODY),
            new_signature,
            "signed with the new"
        );
        assert_eq!(format!("{:?}", key()), "HandoffKey(..)");
    }

    proptest! {
        #[test]
        fn any_headers_are_refused_unless_signed(ts in ".{0,20}", sig in ".{0,80}", body in proptest::collection::vec(any::<u8>(), 0..64)) {
            let result = key().verify(Some(&ts), Some(&sig), &body, now());
            if result.is_ok() {
                // Only a valid signature of this very body passes.
                let seconds: i64 = ts.parse().expect("digits");
                prop_assert_eq!(sig, key().sign(seconds, &body));
            }
        }
    }
}

//! A record as a staff member last saw it (a ticket, a verification case). Staff views carry
//! it as an opaque `state` token, and an action may send it back: the use case then decides on
//! it without reading the record again, so the action costs one round trip, its write.
//!
//! Nothing in a token is trusted. The write is conditioned on the stored record's fingerprint
//! (the digest of all its fields, kept beside it) being the token's, so a forged, altered or
//! outdated token writes nothing; the use case then reads the record and decides on the
//! truth, as it does when no token comes. A token that does not decode is the caller's error
//! (a 400 naming the field).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use std::future::Future;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::common::digest::json_sha256;
use crate::common::validation::{Rule, ValidationError};

/// The longest token handed out: a record of about 12 KB of JSON, which holds every ticket but
/// those whose texts are near their maximum in four-byte characters. Such a record gets no
/// token, and an action on it reads it first; the bound keeps an action's body, token and
/// longest text together, within the API's body limit.
pub const MAX_LEN: usize = 16 * 1024;

/// The fingerprint the store keeps beside a record: the digest of all its fields.
pub fn fingerprint<T: Serialize>(record: &T) -> String {
    json_sha256(record)
}

/// The token a staff view hands out for `record`, base64url of its JSON, unless it would be
/// longer than [`MAX_LEN`].
pub fn token<T: Serialize>(record: &T) -> Option<String> {
    // Serialising our own structs cannot fail: every field is a string, number, enum or list.
    let token = URL_SAFE_NO_PAD.encode(serde_json::to_vec(record).unwrap_or_default());
    (token.len() <= MAX_LEN).then_some(token)
}

/// A decoded `state` token: a record and its fingerprint, as claimed by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen<T> {
    record: T,
    fingerprint: String,
}

impl<T: Serialize + DeserializeOwned> Seen<T> {
    /// Decodes a token sent back in `field`. Only its form is checked here; whether it is the
    /// stored ticket is the write's condition.
    pub fn parse(field: &str, raw: &str) -> Result<Self, ValidationError> {
        if raw.len() > MAX_LEN {
            return Err(ValidationError::new(
                field,
                Rule::MaxLength { max: MAX_LEN },
            ));
        }
        let record = URL_SAFE_NO_PAD
            .decode(raw)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<T>(&bytes).ok())
            .ok_or_else(|| {
                ValidationError::new(
                    field,
                    Rule::Type {
                        expected: "the `state` token a staff view of this record returned",
                    },
                )
            })?;
        Ok(Self::of(record))
    }

    /// The record as this process itself read it (tests, and callers holding a fresh read).
    pub fn of(record: T) -> Self {
        let fingerprint = fingerprint(&record);
        Self {
            record,
            fingerprint,
        }
    }

    pub fn record(&self) -> &T {
        &self.record
    }

    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }
}

/// The one-round-trip pattern, written once: `on_seen` acts on a usable token (one, or the
/// tokens of the records an action changes together) and its outcome is the answer; when it
/// declines (`None`: no usable token, a rule refused the claimed state, or the conditional
/// write found the stored record different), nothing was written and `on_read` acts on the
/// record as stored, so every answer that is not a success comes from the truth. Both are
/// futures, which do nothing until awaited: `on_read` runs only when `on_seen` declined.
pub async fn on_seen_else_read<R, E>(
    on_seen: impl Future<Output = Option<Result<R, E>>>,
    on_read: impl Future<Output = Result<R, E>>,
) -> Result<R, E> {
    if let Some(done) = on_seen.await {
        return done;
    }
    on_read.await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tickets::ticket::{Team, Ticket};

    fn ticket() -> Ticket {
        crate::tickets::ticket::sample(crate::tickets::ticket::TicketStatus::Open)
    }

    #[test]
    fn a_token_gives_back_the_ticket_and_its_fingerprint() {
        let token = token(&ticket()).expect("short");
        let seen = Seen::<Ticket>::parse("state", &token).expect("ours");
        assert_eq!(seen.record(), &ticket());
        assert_eq!(seen.fingerprint(), ticket().fingerprint());
    }

    #[test]
    fn a_ticket_too_long_for_a_token_gets_none() {
        let mut long = ticket();
        long.description = "é".repeat(5_000);
        long.subject = "€".repeat(200);
        assert!(token(&long).is_some(), "long texts of common accents fit");
        long.description = "😀".repeat(5_000);
        assert_eq!(token(&long), None);
    }

    #[test]
    fn any_altered_field_changes_the_fingerprint() {
        let original = ticket().fingerprint();
        let mut other = ticket();
        other.team = Team::Games;
        assert_ne!(other.fingerprint(), original);
        let mut other = ticket();
        other.description.push('!');
        assert_ne!(other.fingerprint(), original);
        let mut other = ticket();
        other.version += 1;
        assert_ne!(other.fingerprint(), original);
    }

    #[test]
    fn what_is_not_a_token_is_refused_naming_the_field() {
        for raw in ["", "not base64!", "e30", &"A".repeat(MAX_LEN + 1)] {
            let error = Seen::<Ticket>::parse("state", raw).expect_err(raw);
            assert_eq!(error.field, "state");
        }
    }
}

//! The ticket as an agent last saw it. Staff views carry it as an opaque `state` token, and an
//! action may send it back: the desk then decides on it without reading the ticket again, so
//! the action costs one round trip, its write.
//!
//! Nothing in a token is trusted. The write is conditioned on the stored ticket's fingerprint
//! (the digest of all its fields, kept beside it) being the token's, so a forged, altered or
//! outdated token writes nothing; the desk then reads the ticket and decides on the truth, as
//! it does when no token comes. A token that does not decode is the caller's error (a 400
//! naming the field).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use crate::common::validation::{Rule, ValidationError};
use crate::tickets::ticket::Ticket;

/// A decoded `state` token: a ticket and its fingerprint, as claimed by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    ticket: Ticket,
    fingerprint: String,
}

impl Seen {
    /// The longest token handed out: a ticket of about 12 KB of JSON, which holds every ticket
    /// but those whose texts are near their maximum in four-byte characters. Such a ticket
    /// gets no token, and an action on it reads it first; the bound keeps an action's body,
    /// token and longest reply together, within the API's body limit.
    pub const MAX_LEN: usize = 16 * 1024;

    /// The token a staff view hands out for `ticket`, base64url of its JSON, unless it would
    /// be longer than [`Seen::MAX_LEN`].
    pub fn token(ticket: &Ticket) -> Option<String> {
        // Serialising our own struct cannot fail: every field is a string, number or enum.
        let token = URL_SAFE_NO_PAD.encode(serde_json::to_vec(ticket).unwrap_or_default());
        (token.len() <= Self::MAX_LEN).then_some(token)
    }

    /// Decodes a token sent back in `field`. Only its form is checked here; whether it is the
    /// stored ticket is the write's condition.
    pub fn parse(field: &str, raw: &str) -> Result<Self, ValidationError> {
        if raw.len() > Self::MAX_LEN {
            return Err(ValidationError::new(
                field,
                Rule::MaxLength { max: Self::MAX_LEN },
            ));
        }
        let ticket = URL_SAFE_NO_PAD
            .decode(raw)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Ticket>(&bytes).ok())
            .ok_or_else(|| {
                ValidationError::new(
                    field,
                    Rule::Type {
                        expected: "the `state` token a staff view of this ticket returned",
                    },
                )
            })?;
        Ok(Self::of(ticket))
    }

    /// The ticket as this process itself read it (tests, and callers holding a fresh read).
    pub fn of(ticket: Ticket) -> Self {
        let fingerprint = ticket.fingerprint();
        Self {
            ticket,
            fingerprint,
        }
    }

    pub fn ticket(&self) -> &Ticket {
        &self.ticket
    }

    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tickets::ticket::Team;

    fn ticket() -> Ticket {
        crate::tickets::ticket::sample(crate::tickets::ticket::TicketStatus::Open)
    }

    #[test]
    fn a_token_gives_back_the_ticket_and_its_fingerprint() {
        let token = Seen::token(&ticket()).expect("short");
        let seen = Seen::parse("state", &token).expect("ours");
        assert_eq!(seen.ticket(), &ticket());
        assert_eq!(seen.fingerprint(), ticket().fingerprint());
    }

    #[test]
    fn a_ticket_too_long_for_a_token_gets_none() {
        let mut long = ticket();
        long.description = "é".repeat(5_000);
        long.subject = "€".repeat(200);
        assert!(
            Seen::token(&long).is_some(),
            "long texts of common accents fit"
        );
        long.description = "😀".repeat(5_000);
        assert_eq!(Seen::token(&long), None);
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
        for raw in ["", "not base64!", "e30", &"A".repeat(Seen::MAX_LEN + 1)] {
            let error = Seen::parse("state", raw).expect_err(raw);
            assert_eq!(error.field, "state");
        }
    }
}

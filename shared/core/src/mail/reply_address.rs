//! The reply-to address of each ticket's mail: `soutien+k7m2q9xw45.<mac>@guichet.example`.
//!
//! A player's answer to our mail comes back to that address, which names the ticket by itself:
//! threading does not depend on the player's client keeping `In-Reply-To`, nor on the subject.
//! Because the address names a ticket, it is signed: whoever writes to it must have received it,
//! so a stranger cannot drop a mail into someone else's ticket by typing its reference. The MAC
//! is HMAC-SHA256 over `guichet.reply.v1\n` and the reference's canonical form (the context
//! string keeps this key's MACs from meaning anything elsewhere, and `v1` leaves room for a new
//! format), truncated to its first 50 bits, written as 10 characters of RFC 4648 base 32.
//!
//! Why base 32, lower-case: mail systems and people are free to change the case of an address
//! (and many do: forwarding rules, address books, a player retyping it), so the MAC must survive
//! lower- or upper-casing. A single-case alphabet loses nothing to that, where base64 would lose
//! a bit per character. The whole address is therefore compared case-insensitively:
//! [`MailAddress`] lower-cases it, the reference inside is read in any case and the MAC is
//! compared in lower case. 50 bits is ample for a tag that can only be guessed online, one mail
//! per guess, and keeps the local part at 29 characters (RFC 5321 allows 64).
//!
//! The reference must appear in its canonical form (no hyphen, no look-alike letters such as
//! `o` for `0`): a player never types this address, so any other spelling is not ours.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::common::reference::TicketReference;
use crate::mail::message::MailAddress;

/// What the MAC covers before the reference: the purpose and the format's version.
pub const CONTEXT: &str = "guichet.reply.v1\n";
/// Characters of the MAC in the address: 50 bits.
pub const MAC_LEN: usize = 10;
/// The compact form of a reference: ten symbols.
const REFERENCE_LEN: usize = 10;
const BASE32: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// The secret the reply addresses are signed with. At least 32 bytes (HMAC-SHA256's output
/// size, below which the key, not the hash, would bound the MAC's strength). Its `Debug` is
/// redacted.
///
/// A rotation keeps the value before it ([`ReplyKey::with_previous`]): addresses signed with
/// it still name their ticket, while new ones are signed with the current value. Those from two
/// rotations ago no longer do, and their answers thread by `In-Reply-To` or the subject.
#[derive(Clone)]
pub struct ReplyKey {
    current: Hmac<Sha256>,
    previous: Option<Hmac<Sha256>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ReplyKeyError {
    #[error("the reply key has {actual} bytes; it needs at least {min}")]
    TooShort { min: usize, actual: usize },
}

impl ReplyKey {
    pub const MIN_LEN: usize = 32;

    pub fn parse(bytes: &[u8]) -> Result<Self, ReplyKeyError> {
        if bytes.len() < Self::MIN_LEN {
            return Err(ReplyKeyError::TooShort {
                min: Self::MIN_LEN,
                actual: bytes.len(),
            });
        }
        Ok(Self {
            current: Self::hmac(bytes)?,
            previous: None,
        })
    }

    /// This key, also accepting addresses signed with `previous` (the secret's value before
    /// its last rotation).
    pub fn with_previous(self, previous: &[u8]) -> Result<Self, ReplyKeyError> {
        Ok(Self {
            previous: Some(Self::hmac(previous)?),
            ..self
        })
    }

    fn hmac(bytes: &[u8]) -> Result<Hmac<Sha256>, ReplyKeyError> {
        if bytes.len() < Self::MIN_LEN {
            return Err(ReplyKeyError::TooShort {
                min: Self::MIN_LEN,
                actual: bytes.len(),
            });
        }
        // HMAC takes a key of any length (a longer one is hashed first): this cannot fail.
        Hmac::<Sha256>::new_from_slice(bytes).map_err(|_| ReplyKeyError::TooShort {
            min: Self::MIN_LEN,
            actual: bytes.len(),
        })
    }
}

impl std::fmt::Debug for ReplyKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReplyKey(<redacted>)")
    }
}

/// Our mailbox, the one SES receives for: its local part (`soutien`) and domain
/// (`guichet.example`), checked once when the configuration is read, so that building a reply
/// address afterwards cannot fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyMailbox {
    /// Untagged, lower-case (`soutien@guichet.example`).
    address: MailAddress,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ReplyMailboxError {
    #[error("the mailbox's local part is 1 to {max} letters, digits, '.', '-' or '_'")]
    LocalPart { max: usize },
    #[error("the mailbox's domain does not make a valid e-mail address")]
    Domain,
}

impl ReplyMailbox {
    /// The longest local part whose reply addresses stay within RFC 5321's 64 characters:
    /// `+`, the reference, `.` and the MAC take 22.
    pub const MAX_LOCAL_LEN: usize = MailAddress::MAX_LOCAL_LEN - (1 + REFERENCE_LEN + 1 + MAC_LEN);

    /// Any case is accepted and lower-cased; `+` is refused, since it starts the ticket's tag.
    pub fn parse(local: &str, domain: &str) -> Result<Self, ReplyMailboxError> {
        let local_ok = !local.is_empty()
            && local.len() <= Self::MAX_LOCAL_LEN
            && local
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
        if !local_ok {
            return Err(ReplyMailboxError::LocalPart {
                max: Self::MAX_LOCAL_LEN,
            });
        }
        // The domain in ASCII (an internationalised one in its `xn--` form), and the longest
        // address this mailbox signs valid: every reply address then is, having that length.
        let domain_ok = domain.bytes().all(|b| b.is_ascii_graphic());
        let longest = format!(
            "{local}+{}.{}@{domain}",
            "0".repeat(REFERENCE_LEN),
            "a".repeat(MAC_LEN)
        );
        let address = MailAddress::parse(&format!("{local}@{domain}"))
            .filter(|_| domain_ok && MailAddress::parse(&longest).is_some())
            .ok_or(ReplyMailboxError::Domain)?;
        Ok(Self { address })
    }

    /// The mailbox itself, untagged (`soutien@guichet.example`).
    pub fn address(&self) -> &MailAddress {
        &self.address
    }

    pub fn local(&self) -> &str {
        self.address.local_part()
    }

    pub fn domain(&self) -> &str {
        self.address.domain()
    }
}

/// The reply-to address of `reference`'s mail.
pub fn reply_address(
    key: &ReplyKey,
    mailbox: &ReplyMailbox,
    reference: &TicketReference,
) -> MailAddress {
    let tag = format!("{}.{}", reference.as_str(), mac_of(&key.current, reference));
    mailbox.address.with_tag(&tag)
}

/// The ticket `address` was signed for, or `None` when it is not one of our signed reply
/// addresses: another domain, another local part, a missing, malformed or wrong tag, a MAC that
/// does not verify. The MAC is compared in constant time; what is checked before it (domain,
/// local part, the reference's form) is public.
pub fn ticket_of(
    key: &ReplyKey,
    address: &MailAddress,
    mailbox: &ReplyMailbox,
) -> Option<TicketReference> {
    if address.domain() != mailbox.domain() {
        return None;
    }
    let tag = address
        .local_part()
        .strip_prefix(mailbox.local())?
        .strip_prefix('+')?;
    let (compact, mac) = tag.split_once('.')?;
    if compact.len() != REFERENCE_LEN || mac.len() != MAC_LEN {
        return None;
    }
    let reference = TicketReference::parse(compact).ok()?;
    if !reference.as_str().eq_ignore_ascii_case(compact) {
        return None;
    }
    let given = mac.to_ascii_lowercase();
    // Both compared, in constant time each, whichever matches: the time taken says nothing of
    // which key signed it.
    let current: bool = mac_of(&key.current, &reference)
        .as_bytes()
        .ct_eq(given.as_bytes())
        .into();
    let previous: bool = key.previous.as_ref().is_some_and(|previous| {
        mac_of(previous, &reference)
            .as_bytes()
            .ct_eq(given.as_bytes())
            .into()
    });
    (current | previous).then_some(reference)
}

/// The first 50 bits of the HMAC in base 32, lower-case. Base 32 reads 5 bits at a time from
/// the most significant bit, so the first 10 characters of the encoded MAC are exactly these.
fn mac_of(key: &Hmac<Sha256>, reference: &TicketReference) -> String {
    let mut mac = key.clone();
    mac.update(CONTEXT.as_bytes());
    mac.update(reference.as_str().as_bytes());
    let tag = mac.finalize().into_bytes();
    let mut first = [0u8; 8];
    first.copy_from_slice(&tag[..8]);
    let bits = u64::from_be_bytes(first);
    (0..MAC_LEN)
        .map(|i| {
            let index = (bits >> (64 - 5 * (i + 1))) & 0x1f;
            char::from(BASE32[index as usize])
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> ReplyKey {
        ReplyKey::parse(&[7u8; 32]).expect("32 bytes")
    }

    fn mailbox() -> ReplyMailbox {
        ReplyMailbox::parse("soutien", "guichet.example").expect("valid")
    }

    fn reference() -> TicketReference {
        TicketReference::from_random([3, 200, 17, 99, 0, 255, 42, 128, 7])
    }

    fn address(raw: &str) -> MailAddress {
        MailAddress::parse(raw).expect("a valid address")
    }

    #[test]
    fn a_reply_address_names_its_ticket_and_reads_back() {
        let reply = reply_address(&key(), &mailbox(), &reference());
        let compact = reference().as_str().to_ascii_lowercase();
        assert!(
            reply.expose().starts_with(&format!("soutien+{compact}.")),
            "{}",
            reply.expose()
        );
        assert!(reply.expose().ends_with("@guichet.example"));
        assert_eq!(reply.local_part().len(), "soutien".len() + 22);
        assert_eq!(ticket_of(&key(), &reply, &mailbox()), Some(reference()));
    }

    #[test]
    fn the_mac_is_base32_of_the_hmac_of_the_context_and_the_reference() {
        // Written out independently of `mac_of`: RFC 4648 base 32 of the first 7 bytes (56 bits),
        // of which the first 10 characters are the first 50 bits.
        let mut mac = Hmac::<Sha256>::new_from_slice(&[7u8; 32]).expect("any length");
        mac.update(format!("guichet.reply.v1\n{}", reference().as_str()).as_bytes());
        let tag = mac.finalize().into_bytes();
        let mut bits = String::new();
        for byte in &tag[..7] {
            bits.push_str(&format!("{byte:08b}"));
        }
        let encoded: String = bits
            .as_bytes()
            .chunks(5)
            .take(MAC_LEN)
            .map(|chunk| {
                let value = chunk
                    .iter()
                    .fold(0usize, |v, bit| v * 2 + usize::from(*bit == b'1'));
                char::from(BASE32[value])
            })
            .collect();
        assert_eq!(mac_of(&key().current, &reference()), encoded);
    }

    #[test]
    fn after_a_rotation_the_addresses_signed_before_still_name_their_ticket() {
        let before = reply_address(&key(), &mailbox(), &reference());
        let rotated = ReplyKey::parse(&[8u8; 32])
            .expect("32 bytes")
            .with_previous(&[7u8; 32])
            .expect("32 bytes");
        assert_eq!(ticket_of(&rotated, &before, &mailbox()), Some(reference()));
        // New addresses are signed with the current value.
        let after = reply_address(&rotated, &mailbox(), &reference());
        assert_ne!(after, before);
        assert_eq!(ticket_of(&rotated, &after, &mailbox()), Some(reference()));
        // Two rotations on, the oldest value is gone.
        let again = ReplyKey::parse(&[9u8; 32])
            .expect("32 bytes")
            .with_previous(&[8u8; 32])
            .expect("32 bytes");
        assert_eq!(ticket_of(&again, &before, &mailbox()), None);
        assert!(ReplyKey::parse(&[9u8; 32])
            .expect("32 bytes")
            .with_previous(&[1u8; 8])
            .is_err());
    }

    #[test]
    fn the_address_reads_back_in_any_case() {
        let reply = reply_address(&key(), &mailbox(), &reference());
        let shouted = address(&reply.expose().to_ascii_uppercase());
        assert_eq!(ticket_of(&key(), &shouted, &mailbox()), Some(reference()));
    }

    #[test]
    fn a_changed_reference_or_mac_is_refused() {
        let reply = reply_address(&key(), &mailbox(), &reference());
        let (local, domain) = (reply.local_part(), reply.domain());
        let (compact, mac) = local
            .strip_prefix("soutien+")
            .and_then(|tag| tag.split_once('.'))
            .expect("tagged");
        // Another valid reference with the first one's MAC.
        let other = TicketReference::from_random([4, 200, 17, 99, 0, 255, 42, 128, 7]);
        let moved = address(&format!(
            "soutien+{}.{mac}@{domain}",
            other.as_str().to_ascii_lowercase()
        ));
        assert_eq!(ticket_of(&key(), &moved, &mailbox()), None);
        // One character of the MAC changed, each position in turn.
        for at in 0..MAC_LEN {
            let mut forged: Vec<char> = mac.chars().collect();
            forged[at] = if forged[at] == 'a' { 'b' } else { 'a' };
            let forged: String = forged.into_iter().collect();
            let forged = address(&format!("soutien+{compact}.{forged}@{domain}"));
            assert_eq!(ticket_of(&key(), &forged, &mailbox()), None, "{at}");
        }
        // Shortened or lengthened MAC.
        let short = address(&format!("soutien+{compact}.{}@{domain}", &mac[..9]));
        assert_eq!(ticket_of(&key(), &short, &mailbox()), None);
        let long = address(&format!("soutien+{compact}.{mac}a@{domain}"));
        assert_eq!(ticket_of(&key(), &long, &mailbox()), None);
        // Another key.
        let other_key = ReplyKey::parse(&[8u8; 32]).expect("32 bytes");
        assert_eq!(ticket_of(&other_key, &reply, &mailbox()), None);
    }

    #[test]
    fn another_domain_local_part_or_tag_is_refused() {
        let reply = reply_address(&key(), &mailbox(), &reference());
        let tag = reply.local_part().strip_prefix("soutien+").expect("tagged");
        for other in [
            format!("soutien+{tag}@autre.example"),
            format!("soutien+{tag}@sous.guichet.example"),
            format!("soutien+{tag}@guichet.example.ca"),
            format!("ventes+{tag}@guichet.example"),
            format!("soutienx+{tag}@guichet.example"),
            format!("xsoutien+{tag}@guichet.example"),
            format!("soutien-{tag}@guichet.example"),
            format!("soutien+{tag}+x@guichet.example"),
            format!("soutien++{tag}@guichet.example"),
            "soutien@guichet.example".to_owned(),
            "soutien+@guichet.example".to_owned(),
            format!("soutien+{}@guichet.example", reference().as_str()),
        ] {
            assert_eq!(
                ticket_of(&key(), &address(&other), &mailbox()),
                None,
                "{other}"
            );
        }
    }

    #[test]
    fn only_the_canonical_spelling_of_the_reference_is_ours() {
        let reply = reply_address(&key(), &mailbox(), &reference());
        let (compact, mac) = reply
            .local_part()
            .strip_prefix("soutien+")
            .and_then(|tag| tag.split_once('.'))
            .expect("tagged");
        assert!(compact.contains('0'), "the sample reference has a zero");
        // `o` for `0` is what a person might type; it names the same ticket, but this address
        // is never typed, so the spelling is not one we wrote.
        let look_alike = compact.replacen('0', "o", 1);
        let dashed = format!("{}-{}", &compact[..5], &compact[5..]);
        for spelled in [look_alike, dashed] {
            let other = address(&format!("soutien+{spelled}.{mac}@guichet.example"));
            assert_eq!(ticket_of(&key(), &other, &mailbox()), None, "{spelled}");
        }
    }

    #[test]
    fn a_short_key_is_refused_and_no_key_is_printed() {
        assert_eq!(
            ReplyKey::parse(&[1u8; 31]).err(),
            Some(ReplyKeyError::TooShort {
                min: 32,
                actual: 31
            })
        );
        assert!(ReplyKey::parse(&[1u8; 64]).is_ok());
        assert_eq!(format!("{:?}", key()), "ReplyKey(<redacted>)");
    }

    #[test]
    fn the_mailbox_is_checked_once_and_lower_cased() {
        let mailbox = ReplyMailbox::parse("Soutien", "Guichet.Example").expect("valid");
        assert_eq!(mailbox.local(), "soutien");
        assert_eq!(mailbox.domain(), "guichet.example");
        assert_eq!(mailbox.address().expose(), "soutien@guichet.example");
        for (local, domain) in [
            ("", "guichet.example"),
            ("sou+tien", "guichet.example"),
            ("sou tien", "guichet.example"),
            ("soutien@x", "guichet.example"),
        ] {
            assert_eq!(
                ReplyMailbox::parse(local, domain),
                Err(ReplyMailboxError::LocalPart { max: 42 }),
                "{local}"
            );
        }
        assert!(ReplyMailbox::parse(&"a".repeat(42), "guichet.example").is_ok());
        assert!(ReplyMailbox::parse(&"a".repeat(43), "guichet.example").is_err());
        for domain in [
            "",
            "guichet",
            "guichet.example.",
            "gui chet.example",
            "é.example",
        ] {
            assert_eq!(
                ReplyMailbox::parse("soutien", domain),
                Err(ReplyMailboxError::Domain),
                "{domain}"
            );
        }
    }
}

//! The player's contact address, from the `email` claim of their token. It is personal
//! information: its `Debug` is redacted, it has no `Display`, and it is never put in a log
//! line, a span, a queue message or an error.

/// An e-mail address as far as a support desk needs to check one: one `@`, a dotted domain,
/// no spaces or control characters, at most 254 characters (RFC 5321's path limit).
#[derive(Clone, PartialEq, Eq)]
pub struct ContactAddress(String);

impl ContactAddress {
    pub const MAX_LEN: usize = 254;

    pub fn parse(raw: &str) -> Option<Self> {
        let raw = raw.trim();
        let (local, domain) = raw.split_once('@')?;
        let ok = raw.len() <= Self::MAX_LEN
            && !local.is_empty()
            && local.len() <= 64
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains('@')
            && raw.chars().all(|c| !c.is_whitespace() && !c.is_control())
            && !raw.contains(['<', '>', ',', ';', '"']);
        ok.then(|| Self(raw.to_owned()))
    }

    /// The address itself, for the one place that needs it: the e-mail's recipient.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for ContactAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ContactAddress(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_checked_and_never_printed() {
        let address = ContactAddress::parse("joueur.1@exemple.ca").expect("valid");
        assert_eq!(address.expose(), "joueur.1@exemple.ca");
        assert_eq!(format!("{address:?}"), "ContactAddress(<redacted>)");
        for bad in [
            "",
            "no-at.example.ca",
            "a@b",
            "a@@b.ca",
            "@b.ca",
            "a b@c.ca",
            "a@b.ca,c@d.ca",
            "Name <a@b.ca>",
        ] {
            assert!(ContactAddress::parse(bad).is_none(), "{bad}");
        }
        assert!(ContactAddress::parse(&format!("{}@b.ca", "a".repeat(65))).is_none());
    }
}

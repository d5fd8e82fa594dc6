//! What an inbound mail says, once the edge has read its MIME: decoded headers, the text the
//! player wrote, and the facts the loop and threading rules need. Nothing here is trusted: the
//! headers are whatever the sender wrote, which is why the sender's identity is decided apart,
//! from SES's verdicts (`mail::sender`).

use serde::{Deserialize, Serialize};

use crate::common::contact::ContactAddress;
use crate::common::validation::has_invisible;

/// An e-mail address, normalised so two spellings of one mailbox compare equal: lower-case
/// (the domain is case-insensitive by RFC 5321; the local part is in every mail service a player
/// uses, and a case-sensitive comparison would only make the player's own mail fail to match
/// the address on file), one `@`, a dotted domain, no whitespace, control, invisible or
/// address-list characters, at most 254 characters (RFC 5321's path limit) with a local part of
/// at most 64. Only ASCII is lower-cased: the case folding of an internationalised local part is
/// not defined by the RFCs, so it is kept as written.
///
/// It is personal information, as [`ContactAddress`] is: its `Debug` is redacted and it has no
/// `Display`, so it never reaches a log line by accident.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MailAddress(String);

validated_string!(
    MailAddress,
    "an e-mail address: one @, a dotted domain, at most 254 characters, no spaces"
);

impl MailAddress {
    pub const MAX_LEN: usize = 254;
    pub const MAX_LOCAL_LEN: usize = 64;

    /// The bare address (`joueur@exemple.ca`), without a display name or angle brackets.
    pub fn parse(raw: &str) -> Option<Self> {
        let raw = raw.trim_matches(|c: char| c.is_ascii_whitespace());
        let (local, domain) = raw.split_once('@')?;
        let ok = raw.len() <= Self::MAX_LEN
            && !local.is_empty()
            && local.len() <= Self::MAX_LOCAL_LEN
            && !domain.contains('@')
            && domain.contains('.')
            && domain.split('.').all(|label| !label.is_empty())
            && raw.chars().all(|c| !c.is_whitespace() && !c.is_control())
            && !raw.contains(['<', '>', ',', ';', '"', '(', ')', '[', ']', '\\'])
            && !has_invisible(raw);
        ok.then(|| Self(raw.to_ascii_lowercase()))
    }

    /// The player's address on file, in the same normal form, to compare with a mail's sender.
    pub fn of_contact(contact: &ContactAddress) -> Option<Self> {
        Self::parse(contact.expose())
    }

    /// The address itself, for the places that need it: a recipient, a comparison.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What the store indexes the address by (a player's contact, a sender's last
    /// acknowledgement): the lower-case hex SHA-256 of its normal form, so that a key or an
    /// index entry never spells an address out.
    pub fn lookup_key(&self) -> String {
        use sha2::{Digest, Sha256};
        Sha256::digest(self.0.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// What stands before the `@`.
    pub fn local_part(&self) -> &str {
        self.0.split_once('@').map_or("", |(local, _)| local)
    }

    /// What stands after the `@`, lower-case.
    pub fn domain(&self) -> &str {
        self.0.split_once('@').map_or("", |(_, domain)| domain)
    }

    /// This address with `+tag` after its local part. Crate-private, for the signed reply
    /// addresses: their mailbox checked, when it was configured, that its longest tagged address
    /// is valid, and their tags are lower-case letters, digits and one `.` of a fixed length.
    pub(crate) fn with_tag(&self, tag: &str) -> Self {
        Self(format!(
            "{}+{}@{}",
            self.local_part(),
            tag.to_ascii_lowercase(),
            self.domain()
        ))
    }
}

impl std::fmt::Debug for MailAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MailAddress(<redacted>)")
    }
}

/// An attachment as the rules see it: its declared name and type and its decoded size. The bytes
/// stay with the adapter, which stores and scans them as any other attachment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailAttachment {
    /// The file name the sender gave (`Content-Disposition` or `Content-Type` `name`), decoded;
    /// never used as a path.
    pub file_name: Option<String>,
    /// `type/subtype`, lower-case; `application/octet-stream` when the part did not say.
    pub content_type: String,
    /// Decoded bytes.
    pub size: u64,
    /// The decoded content, for the attachment pipeline's checks. Never printed, never
    /// serialised: it may be an identity document.
    #[serde(skip)]
    pub content: Content,
}

/// An attachment's bytes: its `Debug` shows only their count.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Content(pub Vec<u8>);

impl std::fmt::Debug for Content {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Content(<{} bytes>)", self.0.len())
    }
}

/// An inbound mail, decoded. Header values are as the sender wrote them, unfolded and trimmed;
/// several occurrences of one header are joined with `, ` so none is lost to the rules.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboundMail {
    /// `Message-ID`, without angle brackets.
    pub message_id: Option<String>,
    /// The one author named by the one `From` header. `None` when there is none, when it is not
    /// a valid address, and when the mail names several (two `From` headers, or a list in one):
    /// an ambiguous author is no author, since mail programs disagree on which one they show.
    pub from: Option<MailAddress>,
    /// `Reply-To`, its first valid address.
    pub reply_to: Option<MailAddress>,
    /// Every valid address of every `To` header, in order.
    pub to: Vec<MailAddress>,
    /// Every valid address of every `Cc` header, in order.
    pub cc: Vec<MailAddress>,
    /// Decoded (RFC 2047 encoded words), possibly empty.
    pub subject: String,
    /// The plain-text body (an HTML-only mail's text rendering), line breaks as `\n`, without
    /// control or invisible characters. It still quotes whatever the sender's client quoted.
    pub text: String,
    /// `In-Reply-To`: message ids without angle brackets.
    pub in_reply_to: Vec<String>,
    /// `References`: message ids without angle brackets, oldest first as the header lists them.
    pub references: Vec<String>,
    /// `Auto-Submitted` (RFC 3834).
    pub auto_submitted: Option<String>,
    /// `Precedence` (not a standard, but what list servers and old auto-responders write).
    pub precedence: Option<String>,
    /// `X-Auto-Response-Suppress` (Microsoft Exchange and Outlook).
    pub auto_response_suppress: Option<String>,
    /// `List-Id` (RFC 2919).
    pub list_id: Option<String>,
    pub attachments: Vec<MailAttachment>,
    /// A delivery status notification: `multipart/report; report-type=delivery-status`
    /// (RFC 3462/6522), i.e. a bounce or a delay warning, never a person writing.
    pub is_delivery_report: bool,
}

impl InboundMail {
    /// The addresses the mail was sent to in its headers: `To`, then `Cc`.
    pub fn recipients(&self) -> impl Iterator<Item = &MailAddress> {
        self.to.iter().chain(&self.cc)
    }
}

/// A message id as threading compares them: without its angle brackets and the whitespace
/// around them; `None` when nothing is left. For the ids the adapter records of our own mail.
pub fn bare_message_id(raw: &str) -> Option<String> {
    let id = raw
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim();
    (!id.is_empty()).then(|| id.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_lower_cased_and_split_at_its_at_sign() {
        let address = MailAddress::parse(" Joueur.Un@Exemple.CA ").expect("valid");
        assert_eq!(address.expose(), "joueur.un@exemple.ca");
        assert_eq!(address.local_part(), "joueur.un");
        assert_eq!(address.domain(), "exemple.ca");
        assert_eq!(MailAddress::parse("JOUEUR.UN@exemple.ca"), Some(address));
    }

    #[test]
    fn two_spellings_of_one_address_have_one_lookup_key() {
        let a = MailAddress::parse("Joueur@Exemple.CA").expect("valid");
        let b = MailAddress::parse("joueur@exemple.ca").expect("valid");
        assert_eq!(a.lookup_key(), b.lookup_key());
        assert_eq!(a.lookup_key().len(), 64);
        assert!(!a.lookup_key().contains("joueur"));
        let other = MailAddress::parse("joueur2@exemple.ca").expect("valid");
        assert_ne!(a.lookup_key(), other.lookup_key());
    }

    #[test]
    fn an_internationalised_local_part_keeps_its_letters() {
        let address = MailAddress::parse("Élise@Exemple.ca").expect("valid");
        assert_eq!(address.expose(), "Élise@exemple.ca");
    }

    #[test]
    fn what_is_not_one_bare_address_is_refused() {
        for bad in [
            "",
            "joueur",
            "joueur@exemple",
            "joueur@@exemple.ca",
            "@exemple.ca",
            "joueur@.exemple.ca",
            "joueur@exemple.ca.",
            "joueur@exemple..ca",
            "jou eur@exemple.ca",
            "joueur@exemple.ca,autre@exemple.ca",
            "Joueur <joueur@exemple.ca>",
            "\"jou eur\"@exemple.ca",
            "jou\u{200B}eur@exemple.ca",
            "jou\u{7}eur@exemple.ca",
        ] {
            assert!(MailAddress::parse(bad).is_none(), "{bad:?}");
        }
        let long_local = format!("{}@exemple.ca", "a".repeat(65));
        assert!(MailAddress::parse(&long_local).is_none());
        let long = format!("a@{}.ca", "b".repeat(252));
        assert!(MailAddress::parse(&long).is_none());
    }

    #[test]
    fn an_address_is_never_printed_and_reads_back_through_parse() {
        let address = MailAddress::parse("joueur@exemple.ca").expect("valid");
        assert_eq!(format!("{address:?}"), "MailAddress(<redacted>)");
        let json = serde_json::to_string(&address).expect("serialises");
        assert_eq!(json, "\"joueur@exemple.ca\"");
        assert_eq!(
            serde_json::from_str::<MailAddress>(&json).ok(),
            Some(address)
        );
        assert!(serde_json::from_str::<MailAddress>("\"Joueur <j@exemple.ca>\"").is_err());
        // A stored value in another case reads back normalised.
        assert_eq!(
            serde_json::from_str::<MailAddress>("\"J@Exemple.CA\"")
                .ok()
                .map(|a| a.expose().to_owned()),
            Some("j@exemple.ca".to_owned())
        );
    }

    #[test]
    fn the_address_on_file_compares_in_the_same_form() {
        let on_file = ContactAddress::parse("Joueur@Exemple.ca").expect("valid");
        assert_eq!(
            MailAddress::of_contact(&on_file),
            MailAddress::parse("joueur@exemple.ca")
        );
    }

    #[test]
    fn message_ids_lose_their_angle_brackets() {
        assert_eq!(
            bare_message_id(" <abc.123@mail.exemple.ca> ").as_deref(),
            Some("abc.123@mail.exemple.ca")
        );
        assert_eq!(bare_message_id("abc@x").as_deref(), Some("abc@x"));
        assert_eq!(bare_message_id(" <> "), None);
    }
}

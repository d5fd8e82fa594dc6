//! Inbound e-mail: the raw MIME SES stored, read into the core's [`InboundMail`]. Whatever the
//! bytes, the reader answers a mail or a [`MailError`], never a panic: the mail comes from
//! anyone on the Internet.
//!
//! The MIME is read by `mail-parser`, which decodes the transfer encodings, the charsets and
//! RFC 2047's encoded words. What this module adds is the desk's reading of it: a single
//! author or none, bare message ids, the raw values of the loop headers, text without control
//! or invisible characters, the attachments' metadata, and whether it is a bounce.

use std::borrow::Cow;
use std::panic::{catch_unwind, AssertUnwindSafe};

use guichet_core::common::validation::without_invisible;
use guichet_core::mail::message::{
    bare_message_id, Content, InboundMail, MailAddress, MailAttachment,
};
use mail_parser::{HeaderName, HeaderValue, Message, MessageParser, MimeHeaders};

/// The largest raw mail read, in bytes. The parser holds the raw mail and its decoded parts in
/// memory at once (about twice its size, base64 attachments decoded), within a small Lambda's
/// memory; a support mail's text is a few kilobytes and its screenshots a few megabytes. A
/// larger mail is refused whole, its raw copy kept by the adapter for an agent, rather than
/// read in part. Note that a 10 MB attachment, once base64-encoded, is more than 13 MB of mail:
/// files that large come through the upload form.
pub const MAX_MAIL_BYTES: usize = 10 * 1024 * 1024;

/// Why a raw mail was not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MailError {
    #[error("the mail has {size} bytes, more than the {max} read")]
    TooLarge { size: usize, max: usize },
    #[error("these bytes are not an e-mail: no header could be read")]
    NotMail,
    #[error(
        "the mail has none of the headers a mail is made of (From, Sender, To, Cc, Date, \
         Message-ID, Subject)"
    )]
    NoHeaders,
    #[error("the mail's MIME could not be read")]
    Unreadable,
}

/// Reads a raw mail (RFC 5322 with MIME), as SES stored it.
pub fn parse_mail(raw: &[u8]) -> Result<InboundMail, MailError> {
    if raw.len() > MAX_MAIL_BYTES {
        return Err(MailError::TooLarge {
            size: raw.len(),
            max: MAX_MAIL_BYTES,
        });
    }
    // The parser promises never to panic, and its recent releases fixed panics on corrupted
    // parts: should one remain, this mail is refused as unreadable instead of failing the whole
    // invocation again at each retry. Nothing shared is left half-changed by an unwind: `read`
    // only reads `raw` and builds its own values.
    catch_unwind(AssertUnwindSafe(|| read(raw))).unwrap_or(Err(MailError::Unreadable))
}

/// Whether the SPF and DKIM passes SES recorded are for `from`'s own domain (strict
/// alignment, RFC 7489 section 3.1): the envelope sender SPF checked (`smtp.mailfrom`) and a
/// passing DKIM signature's domain (`header.d`, or `header.i`'s) are both exactly `from`'s
/// domain. Read from the first `Authentication-Results` header written by `authserv_id`
/// (`amazonses.com`): SES puts its own at the top of the stored mail, and a sender may write
/// any number of forged ones below it. Strict rather than relaxed alignment because relaxed
/// needs the public suffix list (`qc.ca` is not one organisation): a subdomain's mail then
/// counts as authenticated only through DMARC, which SES evaluates with that list.
pub fn spf_and_dkim_aligned(raw: &[u8], from: &MailAddress, authserv_id: &str) -> bool {
    let Some(message) = MessageParser::default().parse_headers(raw) else {
        return false;
    };
    let Some(results) = message
        .headers()
        .iter()
        .filter(|header| header.name().eq_ignore_ascii_case("Authentication-Results"))
        .filter_map(|header| {
            let start = usize::try_from(header.offset_start()).ok()?;
            let end = usize::try_from(header.offset_end()).ok()?;
            message.raw_message.get(start..end)
        })
        .map(|bytes| one_line(&String::from_utf8_lossy(bytes)))
        .next()
    else {
        return false;
    };
    let mut parts = results.split(';').map(str::trim);
    let ours = parts
        .next()
        .and_then(|id| id.split_whitespace().next())
        .is_some_and(|id| id.eq_ignore_ascii_case(authserv_id));
    if !ours {
        return false;
    }
    let domain = from.domain();
    let mut spf = false;
    let mut dkim = false;
    for method in parts {
        let mut words = method.split_whitespace();
        let Some(verdict) = words.next() else {
            continue;
        };
        let properties: Vec<(&str, &str)> = words.filter_map(|w| w.split_once('=')).collect();
        let property = |name: &str| {
            properties
                .iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(name))
                .map(|(_, value)| value.trim_matches(|c| c == '"' || c == ';'))
        };
        let domain_of = |value: &str| {
            value
                .rsplit_once('@')
                .map_or(value, |(_, d)| d)
                .trim_end_matches('.')
                .to_ascii_lowercase()
        };
        if verdict.eq_ignore_ascii_case("spf=pass") {
            spf |= property("smtp.mailfrom").is_some_and(|v| domain_of(v) == domain);
        } else if verdict.eq_ignore_ascii_case("dkim=pass") {
            dkim |= property("header.d")
                .or_else(|| property("header.i"))
                .is_some_and(|v| domain_of(v) == domain);
        }
    }
    spf && dkim
}

/// [`parse_mail`] without its size limit and its guard against a panic, so that the property
/// tests see a panic if there is one.
fn read(raw: &[u8]) -> Result<InboundMail, MailError> {
    let message = MessageParser::default()
        .parse(raw)
        .ok_or(MailError::NotMail)?;
    if message.parts.is_empty() || message.headers().is_empty() {
        return Err(MailError::NotMail);
    }
    let is_mail_header = |name: &HeaderName<'_>| {
        matches!(
            name,
            HeaderName::From
                | HeaderName::Sender
                | HeaderName::To
                | HeaderName::Cc
                | HeaderName::Date
                | HeaderName::MessageId
                | HeaderName::Subject
        )
    };
    if !message.headers().iter().any(|h| is_mail_header(&h.name)) {
        return Err(MailError::NoHeaders);
    }
    Ok(InboundMail {
        message_id: message.message_id().and_then(bare_message_id),
        from: single_author(&message),
        reply_to: addresses_of(&message, HeaderName::ReplyTo)
            .into_iter()
            .next(),
        to: addresses_of(&message, HeaderName::To),
        cc: addresses_of(&message, HeaderName::Cc),
        subject: one_line(message.subject().unwrap_or_default()),
        text: body_text(&message),
        in_reply_to: ids_of(&message, HeaderName::InReplyTo),
        references: ids_of(&message, HeaderName::References),
        auto_submitted: raw_header(&message, "Auto-Submitted"),
        precedence: raw_header(&message, "Precedence"),
        auto_response_suppress: raw_header(&message, "X-Auto-Response-Suppress"),
        list_id: raw_header(&message, "List-Id"),
        attachments: message.attachments().map(attachment).collect(),
        is_delivery_report: is_delivery_report(&message),
    })
}

/// The address strings of every occurrence of an address header, in order, groups flattened.
fn raw_addresses<'a>(message: &'a Message<'_>, name: HeaderName<'static>) -> Vec<&'a str> {
    message
        .header_values(name)
        .filter_map(HeaderValue::as_address)
        .flat_map(|address| address.iter())
        .filter_map(|addr| addr.address())
        .collect()
}

/// The valid addresses of an address header, in order; invalid ones are left out.
fn addresses_of(message: &Message<'_>, name: HeaderName<'static>) -> Vec<MailAddress> {
    raw_addresses(message, name)
        .into_iter()
        .filter_map(MailAddress::parse)
        .collect()
}

/// The author, when the mail names exactly one: one `From` header holding one address. Two
/// `From` headers, or a list, are refused whole (RFC 5322 allows a list only with `Sender`,
/// and mail programs disagree on which one they show), as is an unreadable one.
fn single_author(message: &Message<'_>) -> Option<MailAddress> {
    if message.header_values(HeaderName::From).count() != 1 {
        return None;
    }
    match raw_addresses(message, HeaderName::From).as_slice() {
        [only] => MailAddress::parse(only),
        _ => None,
    }
}

/// The message ids of every occurrence of an id header, without angle brackets.
fn ids_of(message: &Message<'_>, name: HeaderName<'static>) -> Vec<String> {
    message
        .header_values(name)
        .flat_map(|value| match value {
            HeaderValue::Text(id) => vec![id.as_ref()],
            HeaderValue::TextList(ids) => ids.iter().map(Cow::as_ref).collect(),
            _ => Vec::new(),
        })
        .filter_map(bare_message_id)
        .collect()
}

/// The values of every occurrence of a header as the sender wrote them, unfolded and trimmed,
/// joined with `, `; `None` when absent or empty. Read from the raw bytes (lossily, should they
/// not be UTF-8), so that no occurrence is dropped and no parser reinterprets them.
fn raw_header(message: &Message<'_>, name: &str) -> Option<String> {
    let values: Vec<String> = message
        .headers()
        .iter()
        .filter(|header| header.name().eq_ignore_ascii_case(name))
        .filter_map(|header| {
            let start = usize::try_from(header.offset_start()).ok()?;
            let end = usize::try_from(header.offset_end()).ok()?;
            message.raw_message.get(start..end)
        })
        .map(|bytes| one_line(&String::from_utf8_lossy(bytes)))
        .filter(|value| !value.is_empty())
        .collect();
    (!values.is_empty()).then(|| values.join(", "))
}

/// The text of every inline text part (an HTML part rendered as text where the mail has no
/// plain-text alternative), in order, one blank line apart.
fn body_text(message: &Message<'_>) -> String {
    let parts: Vec<String> = (0..message.text_body_count())
        .filter_map(|i| message.body_text(i))
        .map(|text| text.into_owned())
        .collect();
    let text = multi_line(&parts.join("\n\n"));
    text.trim_matches(|c: char| c.is_whitespace()).to_owned()
}

/// Text over several lines: line breaks as `\n`, tabs kept, every other control character and
/// every invisible one dropped (the ticket's text refuses them, and nobody could be asked to
/// fix a mail).
fn multi_line(text: &str) -> String {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let text: String = text
        .chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
        .collect();
    without_invisible(&text)
}

/// Text on one line (a subject, a header's value, a file name): folding and any other control
/// character become a space, runs of spaces one, invisible characters are dropped.
fn one_line(text: &str) -> String {
    let spaced: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    without_invisible(&spaced)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn attachment(part: &mail_parser::MessagePart<'_>) -> MailAttachment {
    let content_type = part
        .content_type()
        .map(|ct| match ct.subtype() {
            Some(subtype) => format!("{}/{}", ct.ctype(), subtype),
            None => ct.ctype().to_owned(),
        })
        .map(|ct| one_line(&ct).to_ascii_lowercase())
        .filter(|ct| !ct.is_empty())
        .unwrap_or_else(|| "application/octet-stream".to_owned());
    MailAttachment {
        file_name: part
            .attachment_name()
            .map(one_line)
            .filter(|name| !name.is_empty()),
        content_type,
        size: u64::try_from(part.len()).unwrap_or(u64::MAX),
        content: Content(part.contents().to_vec()),
    }
}

/// `multipart/report; report-type=delivery-status` at the top of the mail (RFC 6522, RFC 3464):
/// a bounce or a delay warning. Read receipts (`disposition-notification`) are reports too, but
/// not about delivery.
fn is_delivery_report(message: &Message<'_>) -> bool {
    message.content_type().is_some_and(|ct| {
        ct.ctype().eq_ignore_ascii_case("multipart")
            && ct
                .subtype()
                .is_some_and(|subtype| subtype.eq_ignore_ascii_case("report"))
            && ct.attributes().is_some_and(|attributes| {
                attributes.iter().any(|attribute| {
                    attribute.name.eq_ignore_ascii_case("report-type")
                        && attribute.value.eq_ignore_ascii_case("delivery-status")
                })
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use guichet_core::common::reference::TicketReference;
    use guichet_core::mail::loops::{AutoReply, Suppressed};
    use guichet_core::mail::reply_address::{ReplyKey, ReplyMailbox};
    use guichet_core::mail::sender::{Trust, UnverifiedReason, Verdict, Verdicts};
    use guichet_core::mail::threading::Thread;
    use proptest::prelude::*;
    use proptest::sample::Index;

    /// The key the sample mails' signed reply addresses were made with: a test value only.
    const SAMPLE_KEY: &[u8] = b"events/mail samples: a test key, never a real one";
    const OURS: &[&str] = &["guichet.example"];

    /// A sample of `events/mail/`, as SES would store it.
    fn sample(name: &str) -> Vec<u8> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../events/mail")
            .join(name);
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    fn parsed(name: &str) -> InboundMail {
        parse_mail(&sample(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    fn address(raw: &str) -> MailAddress {
        MailAddress::parse(raw).expect("valid")
    }

    fn reference(raw: &str) -> TicketReference {
        TicketReference::parse(raw).expect("valid")
    }

    fn key() -> ReplyKey {
        ReplyKey::parse(SAMPLE_KEY).expect("long enough")
    }

    fn mailbox() -> ReplyMailbox {
        ReplyMailbox::parse("soutien", "guichet.example").expect("valid")
    }

    /// The message id SES gave our acknowledgement of K7M2Q-9XW45, as the adapter records it.
    fn known(id: &str) -> Option<TicketReference> {
        (id == "0101019a7c2e4b1d-1f2e3d4c-5b6a-4978-8695-a4b3c2d1e0f9-000000@ca-central-1.amazonses.com")
            .then(|| reference("K7M2Q-9XW45"))
    }

    fn thread(mail: &InboundMail) -> Thread {
        Thread::of(mail, &key(), &mailbox(), known)
    }

    #[test]
    fn every_sample_uses_crlf_line_endings() {
        for name in [
            "attachment.eml",
            "html-only.eml",
            "encoded-headers.eml",
            "webmail-reply.eml",
            "out-of-office.eml",
            "delivery-report.eml",
            "spoofed-from.eml",
            "two-recipients.eml",
        ] {
            let raw = sample(name);
            let lone_lf = raw
                .iter()
                .enumerate()
                .any(|(i, b)| *b == b'\n' && (i == 0 || raw[i - 1] != b'\r'));
            assert!(!lone_lf, "{name} has a bare LF");
        }
    }

    #[test]
    fn a_text_part_and_a_png_attachment() {
        let mail = parsed("attachment.eml");
        assert_eq!(
            mail.message_id.as_deref(),
            Some("CAB7x9K2mQpL4tR8vW1nZ3yH6jF0sD5gA@mail.exemple.ca")
        );
        assert_eq!(mail.from, Some(address("joueur@exemple.ca")));
        assert_eq!(mail.to, vec![address("soutien@guichet.example")]);
        assert!(mail.cc.is_empty());
        assert_eq!(mail.subject, "Retrait bloqué depuis 3 jours");
        assert_eq!(
            mail.text,
            "Bonjour,\n\nMon retrait de 250 $ est bloqué depuis trois jours. Voici la capture \
             d'écran du message d'erreur.\n\nMerci,\nÉlise"
        );
        let [attachment] = mail.attachments.as_slice() else {
            panic!("one attachment expected: {:?}", mail.attachments)
        };
        assert_eq!(attachment.file_name.as_deref(), Some("erreur-retrait.png"));
        assert_eq!(attachment.content_type, "image/png");
        assert_eq!(attachment.size, 73);
        // The decoded bytes, for the attachment pipeline's checks: a PNG's signature first.
        assert_eq!(attachment.content.0.len(), 73);
        assert!(attachment.content.0.starts_with(b"\x89PNG\r\n\x1a\n"));
        assert_eq!(format!("{:?}", attachment.content), "Content(<73 bytes>)");
        assert!(!mail.is_delivery_report);
        assert_eq!(AutoReply::allowed(&mail, OURS), Ok(()));
        assert_eq!(thread(&mail), Thread::New);
    }

    #[test]
    fn an_html_only_mail_is_read_as_its_text() {
        let mail = parsed("html-only.eml");
        assert_eq!(mail.from, Some(address("marc.gagnon@exemple.ca")));
        let text = &mail.text;
        assert!(text.starts_with("Bonjour,"), "{text:?}");
        assert!(
            text.contains("je ne peux plus me connecter : l'application affiche"),
            "{text:?}"
        );
        assert!(text.contains("Session expirée"), "{text:?}");
        assert!(
            text.contains("J'ai déjà réinstallé l'application."),
            "{text:?}"
        );
        assert!(text.ends_with("Marc"), "{text:?}");
        for markup in ["<p>", "<html", "&eacute;", "font-family", "Content-Type"] {
            assert!(!text.contains(markup), "{markup} in {text:?}");
        }
        assert!(mail.attachments.is_empty());
    }

    #[test]
    fn encoded_words_in_latin_1_and_utf_8_are_decoded() {
        let mail = parsed("encoded-headers.eml");
        assert_eq!(mail.subject, "Reçu : dépôt non crédité");
        assert_eq!(mail.from, Some(address("francois.belanger@exemple.ca")));
        assert_eq!(mail.to, vec![address("soutien@guichet.example")]);
        assert!(
            mail.text
                .contains("mon dépôt de 100 $ n'est\ntoujours pas crédité à mon compte"),
            "{:?}",
            mail.text
        );
        assert!(mail.text.ends_with("François"), "{:?}", mail.text);
    }

    #[test]
    fn a_webmail_reply_keeps_its_thread_and_quotes_our_mail() {
        let mail = parsed("webmail-reply.eml");
        let ours = "0101019a7c2e4b1d-1f2e3d4c-5b6a-4978-8695-a4b3c2d1e0f9-000000@ca-central-1.amazonses.com";
        assert_eq!(mail.in_reply_to, vec![ours.to_owned()]);
        assert_eq!(mail.references, vec![ours.to_owned()]);
        assert_eq!(
            mail.subject,
            "Re: Votre demande K7M2Q-9XW45 a bien été reçue"
        );
        assert!(
            mail.text.starts_with(
                "Merci. J'ai refait la vérification et le retrait est toujours bloqué."
            ),
            "{:?}",
            mail.text
        );
        assert!(
            mail.text
                .contains("> Nous avons bien reçu votre demande K7M2Q-9XW45."),
            "{:?}",
            mail.text
        );
        assert_eq!(
            mail.to,
            vec![address("soutien+k7m2q9xw45.h2buwpb3y2@guichet.example")]
        );
        assert_eq!(
            thread(&mail),
            Thread::ByReplyAddress(reference("K7M2Q-9XW45"))
        );
        // Had the signed address been lost, the answered message id would still thread it.
        let forwarded = InboundMail {
            to: vec![address("soutien@guichet.example")],
            ..mail.clone()
        };
        assert_eq!(
            thread(&forwarded),
            Thread::ByMessageId(reference("K7M2Q-9XW45"))
        );
        // And without either, its subject, for a verified sender only.
        let bare = InboundMail {
            in_reply_to: Vec::new(),
            references: Vec::new(),
            ..forwarded
        };
        assert_eq!(thread(&bare), Thread::BySubject(reference("K7M2Q-9XW45")));
        assert_eq!(AutoReply::allowed(&mail, OURS), Ok(()));
    }

    #[test]
    fn an_out_of_office_notice_is_never_answered() {
        let mail = parsed("out-of-office.eml");
        assert_eq!(mail.auto_submitted.as_deref(), Some("auto-replied"));
        assert_eq!(mail.auto_response_suppress.as_deref(), Some("All"));
        assert_eq!(
            mail.subject,
            "Réponse automatique : Votre demande K7M2Q-9XW45"
        );
        assert_eq!(
            mail.text,
            "Je suis absente jusqu'au 7 décembre, sans accès à mes courriels.\n\nÉlise"
        );
        assert_eq!(
            AutoReply::allowed(&mail, OURS),
            Err(Suppressed::AutoSubmitted)
        );
        // It still belongs to the ticket it answers; the caller decides what to do with it.
        assert_eq!(
            thread(&mail),
            Thread::ByReplyAddress(reference("K7M2Q-9XW45"))
        );
    }

    #[test]
    fn a_bounce_is_a_delivery_report() {
        let mail = parsed("delivery-report.eml");
        assert!(mail.is_delivery_report);
        assert_eq!(
            mail.message_id.as_deref(),
            Some("20261202162040.7C1F52A0087@mx.exemple.ca")
        );
        assert_eq!(mail.from, Some(address("mailer-daemon@mx.exemple.ca")));
        assert!(
            mail.text
                .contains("<ancien.joueur@exemple.ca>: user unknown"),
            "{:?}",
            mail.text
        );
        assert_eq!(
            AutoReply::allowed(&mail, OURS),
            Err(Suppressed::DeliveryReport)
        );
        // The subject of the bounced mail is in an attachment, not the bounce's own: nothing
        // ties the bounce to R3T8N-2MXPD.
        assert_eq!(thread(&mail), Thread::New);
    }

    #[test]
    fn a_spoofed_from_reads_like_any_mail_and_only_the_verdicts_tell() {
        let mail = parsed("spoofed-from.eml");
        let on_file = address("joueur@exemple.ca");
        assert_eq!(mail.from.as_ref(), Some(&on_file));
        assert_eq!(
            mail.subject,
            "Changement de compte bancaire pour mes retraits"
        );
        assert_eq!(AutoReply::allowed(&mail, OURS), Ok(()));
        // What SES said of it: the attacker's own domain passes SPF and DKIM, DMARC fails for
        // From's domain.
        let spoofed = Verdicts {
            spf: Verdict::Pass,
            dkim: Verdict::Pass,
            dmarc: Verdict::Fail,
            spam: Verdict::Pass,
            virus: Verdict::Pass,
            aligned: false,
        };
        assert_eq!(
            Trust::of(mail.from.as_ref(), Some(&on_file), spoofed),
            Trust::Unverified(UnverifiedReason::DmarcFailed)
        );
        let no_policy = Verdicts {
            dmarc: Verdict::Gray,
            ..spoofed
        };
        assert_eq!(
            Trust::of(mail.from.as_ref(), Some(&on_file), no_policy),
            Trust::Unverified(UnverifiedReason::NotAuthenticated)
        );
        let genuine = Verdicts {
            dmarc: Verdict::Pass,
            ..spoofed
        };
        assert_eq!(
            Trust::of(mail.from.as_ref(), Some(&on_file), genuine),
            Trust::Player
        );
    }

    #[test]
    fn a_mail_to_two_of_our_addresses_keeps_both() {
        let mail = parsed("two-recipients.eml");
        assert_eq!(mail.to, vec![address("soutien@guichet.example")]);
        assert_eq!(
            mail.cc,
            vec![
                address("soutien+r3t8n2mxpd.hj5pyby45c@guichet.example"),
                address("marc.gagnon@exemple.ca"),
            ]
        );
        assert_eq!(mail.recipients().count(), 3);
        assert_eq!(
            mail.in_reply_to,
            vec!["CAHn3Wq1x2c3v4b5n6m7@mail.exemple.ca"]
        );
        assert_eq!(
            thread(&mail),
            Thread::ByReplyAddress(reference("R3T8N-2MXPD"))
        );
    }

    #[test]
    fn two_authors_or_none_make_no_sender() {
        let two_headers = b"From: a@exemple.ca\r\nFrom: b@exemple.ca\r\nSubject: x\r\n\r\nx\r\n";
        assert_eq!(parse_mail(two_headers).map(|m| m.from), Ok(None));
        let a_list = b"From: a@exemple.ca, b@exemple.ca\r\nSubject: x\r\n\r\nx\r\n";
        assert_eq!(parse_mail(a_list).map(|m| m.from), Ok(None));
        let a_group = b"From: Equipe: a@exemple.ca;\r\nSubject: x\r\n\r\nx\r\n";
        assert_eq!(
            parse_mail(a_group).map(|m| m.from),
            Ok(Some(address("a@exemple.ca")))
        );
        let no_address = b"From: Joueur\r\nSubject: x\r\n\r\nx\r\n";
        assert_eq!(parse_mail(no_address).map(|m| m.from), Ok(None));
        let none = b"Subject: x\r\n\r\nx\r\n";
        let mail = parse_mail(none).expect("a mail");
        assert_eq!(mail.from, None);
        assert_eq!(AutoReply::allowed(&mail, OURS), Err(Suppressed::NoSender));
    }

    #[test]
    fn repeated_loop_headers_are_all_kept() {
        let raw = b"From: a@exemple.ca\r\nPrecedence: first-class\r\nPrecedence:\r\n  bulk\r\n\
                    List-Id: Joueurs\r\n <joueurs.exemple.ca>\r\nSubject: x\r\n\r\nx\r\n";
        let mail = parse_mail(raw).expect("a mail");
        assert_eq!(mail.precedence.as_deref(), Some("first-class, bulk"));
        assert_eq!(
            mail.list_id.as_deref(),
            Some("Joueurs <joueurs.exemple.ca>")
        );
        assert_eq!(AutoReply::allowed(&mail, OURS), Err(Suppressed::Precedence));
    }

    #[test]
    fn control_and_invisible_characters_are_dropped_from_the_text() {
        let raw = "From: a@exemple.ca\r\nSubject: Bon\u{200B}jour\r\n\
                   Content-Type: text/plain; charset=utf-8\r\n\r\n\
                   \u{FEFF}Ligne\u{7} 1\r\nLigne\u{202E} 2\rLigne 3\r\n\r\n"
            .as_bytes();
        let mail = parse_mail(raw).expect("a mail");
        assert_eq!(mail.subject, "Bonjour");
        assert_eq!(mail.text, "Ligne 1\nLigne 2\nLigne 3");
    }

    #[test]
    fn what_is_not_a_mail_is_named() {
        let too_large = vec![b'a'; MAX_MAIL_BYTES + 1];
        assert_eq!(
            parse_mail(&too_large),
            Err(MailError::TooLarge {
                size: MAX_MAIL_BYTES + 1,
                max: MAX_MAIL_BYTES
            })
        );
        assert_eq!(parse_mail(b""), Err(MailError::NotMail));
        assert_eq!(parse_mail(b"\r\n\r\n"), Err(MailError::NotMail));
        assert_eq!(
            parse_mail(b"X-Custom: 1\r\nX-Other: 2\r\n\r\nbody"),
            Err(MailError::NoHeaders)
        );
        assert!(parse_mail(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").is_err());
    }

    /// Every sample, to edit in the property tests.
    #[test]
    fn spf_and_dkim_count_only_aligned_with_from_and_only_from_the_top_results() {
        let from = address("joueur@exemple.ca");
        let mail = |results: &str| {
            format!(
                "{results}\r\nFrom: joueur@exemple.ca\r\nTo: soutien@guichet.example\r\nSubject: x\r\n\r\nBonjour\r\n"
            )
        };
        let aligned = mail(
            "Authentication-Results: amazonses.com;\r\n spf=pass (spfCheck: domain of exemple.ca) smtp.mailfrom=joueur@exemple.ca;\r\n dkim=pass header.i=@exemple.ca;\r\n dmarc=none header.from=exemple.ca;",
        );
        assert!(spf_and_dkim_aligned(
            aligned.as_bytes(),
            &from,
            "amazonses.com"
        ));
        // The attacker's own domain passes both, for itself.
        let other = mail(
            "Authentication-Results: amazonses.com; spf=pass smtp.mailfrom=bounces@envoi.attaquant.example; dkim=pass header.i=@attaquant.example; dmarc=fail header.from=exemple.ca;",
        );
        assert!(!spf_and_dkim_aligned(
            other.as_bytes(),
            &from,
            "amazonses.com"
        ));
        // One of the two is not enough.
        let spf_only = mail(
            "Authentication-Results: amazonses.com; spf=pass smtp.mailfrom=joueur@exemple.ca; dkim=fail header.i=@exemple.ca;",
        );
        assert!(!spf_and_dkim_aligned(
            spf_only.as_bytes(),
            &from,
            "amazonses.com"
        ));
        // A forged header below SES's own is not read; one from another server is not ours.
        let forged = format!(
            "Authentication-Results: amazonses.com; spf=fail smtp.mailfrom=x@attaquant.example;\r\n{}",
            mail("Authentication-Results: amazonses.com; spf=pass smtp.mailfrom=joueur@exemple.ca; dkim=pass header.d=exemple.ca;")
        );
        assert!(!spf_and_dkim_aligned(
            forged.as_bytes(),
            &from,
            "amazonses.com"
        ));
        let foreign = mail(
            "Authentication-Results: mx.attaquant.example; spf=pass smtp.mailfrom=joueur@exemple.ca; dkim=pass header.d=exemple.ca;",
        );
        assert!(!spf_and_dkim_aligned(
            foreign.as_bytes(),
            &from,
            "amazonses.com"
        ));
        assert!(!spf_and_dkim_aligned(b"", &from, "amazonses.com"));
    }

    fn samples() -> Vec<Vec<u8>> {
        [
            "attachment.eml",
            "html-only.eml",
            "encoded-headers.eml",
            "webmail-reply.eml",
            "out-of-office.eml",
            "delivery-report.eml",
            "spoofed-from.eml",
            "two-recipients.eml",
        ]
        .into_iter()
        .map(sample)
        .collect()
    }

    /// A byte to edit a mail with: mostly what MIME is made of, sometimes anything.
    fn edit_byte() -> impl Strategy<Value = u8> {
        prop_oneof![
            3 => prop::sample::select(b"\r\n\t :;=-\"<>@?_=/.,ABZaz09+".to_vec()),
            1 => any::<u8>(),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn any_bytes_are_a_mail_or_an_error_never_a_panic(
            raw in prop::collection::vec(any::<u8>(), 0..2048),
        ) {
            // `read`, not `parse_mail`: a panic must fail the test, not be caught.
            let _ = read(&raw);
        }

        #[test]
        fn an_edited_sample_is_a_mail_or_an_error_never_a_panic(
            which in any::<Index>(),
            edits in prop::collection::vec((0u8..4, any::<Index>(), edit_byte()), 1..12),
        ) {
            let all = samples();
            let mut raw = all[which.index(all.len())].clone();
            for (op, at, byte) in edits {
                match op {
                    0 => raw.insert(at.index(raw.len() + 1), byte),
                    1 if !raw.is_empty() => {
                        raw.remove(at.index(raw.len()));
                    }
                    2 if !raw.is_empty() => {
                        let i = at.index(raw.len());
                        raw[i] = byte;
                    }
                    _ => raw.truncate(at.index(raw.len() + 1)),
                }
            }
            if let Ok(mail) = read(&raw) {
                prop_assert!(!mail.text.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\t')));
                prop_assert!(!mail.subject.chars().any(char::is_control));
                prop_assert!(!guichet_core::common::validation::has_invisible(&mail.text));
            }
        }
    }
}

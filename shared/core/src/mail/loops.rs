//! When the desk may answer a mail automatically (the acknowledgement of a new ticket), after
//! RFC 3834: never to another automaton, a list, a bounce or ourselves, and at most once a day
//! per sender. Two auto-responders answering each other, or an acknowledgement sent to every
//! subscriber of a list, is a mail storm that ends with our sending domain blocked.
//!
//! Only the automatic answers are concerned: a mail that is suppressed here still reaches its
//! ticket, and an agent's own answer is never suppressed.

use jiff::{SignedDuration, Timestamp};

use crate::mail::message::InboundMail;

/// The header on every automatic mail we send (RFC 3834 section 5): the other side's
/// auto-responder, if it follows the RFC, then stays silent.
pub const ACK_HEADER: (&str, &str) = ("Auto-Submitted", "auto-replied");

/// At most one automatic answer per sender in this long. RFC 3834 section 2 suggests several
/// days for a vacation notice; a day is enough to break a loop with an automaton that ignores
/// our `Auto-Submitted` (one mail a day each way), and a player who writes again about another
/// problem the next day still learns the second ticket's reference.
pub const ACK_INTERVAL: SignedDuration = SignedDuration::from_hours(24);

vocabulary!(
    /// Why no automatic answer is sent, in the order the rules are checked.
    Suppressed {
        /// A delivery status notification: a bounce is answered by nobody.
        DeliveryReport => "delivery_report",
        /// No single valid `From`: nobody to answer.
        NoSender => "no_sender",
        /// `Auto-Submitted` with any value but `no`: an automaton sent it.
        AutoSubmitted => "auto_submitted",
        /// `X-Auto-Response-Suppress` asks for no automatic answer.
        AutoResponseSuppress => "auto_response_suppress",
        /// `Precedence: bulk`, `list` or `junk`.
        Precedence => "precedence",
        /// A mailing list's copy (`List-Id`).
        List => "list",
        /// From (or Reply-To) one of our own domains: answering would loop.
        OwnDomain => "own_domain",
    }
);

/// The rule of automatic answers.
pub struct AutoReply;

impl AutoReply {
    /// Whether `mail` may be answered automatically, or the first rule that forbids it.
    /// `our_domains` are the domains we send and receive mail as (`guichet.example`); their
    /// subdomains count as ours too, since bounce and feedback addresses often live there.
    pub fn allowed(mail: &InboundMail, our_domains: &[&str]) -> Result<(), Suppressed> {
        if mail.is_delivery_report {
            return Err(Suppressed::DeliveryReport);
        }
        let Some(from) = &mail.from else {
            return Err(Suppressed::NoSender);
        };
        if mail
            .auto_submitted
            .as_deref()
            .is_some_and(is_auto_submitted)
        {
            return Err(Suppressed::AutoSubmitted);
        }
        if mail
            .auto_response_suppress
            .as_deref()
            .is_some_and(suppresses_auto_reply)
        {
            return Err(Suppressed::AutoResponseSuppress);
        }
        if mail.precedence.as_deref().is_some_and(is_bulk) {
            return Err(Suppressed::Precedence);
        }
        if mail
            .list_id
            .as_deref()
            .is_some_and(|id| !id.trim().is_empty())
        {
            return Err(Suppressed::List);
        }
        let ours = |domain: &str| our_domains.iter().any(|our| within(domain, our));
        if ours(from.domain()) || mail.reply_to.as_ref().is_some_and(|r| ours(r.domain())) {
            return Err(Suppressed::OwnDomain);
        }
        Ok(())
    }
}

/// Whether a sender whose last automatic answer went out at `last_ack_at` may have another
/// now. A last answer dated after `now` (clocks disagree) counts as just sent: when in doubt,
/// stay silent.
pub fn one_ack_per_day(last_ack_at: Option<Timestamp>, now: Timestamp) -> bool {
    last_ack_at.is_none_or(|last| now.duration_since(last) >= ACK_INTERVAL)
}

/// The values of one or more occurrences of a header, joined by `,` by the reader.
fn values(header: &str) -> impl Iterator<Item = &str> {
    header.split(',').map(str::trim)
}

/// RFC 3834 section 5: `no` is the only value that says a person sent it. Parameters after `;`
/// are ignored; an empty value is not `no`, so an automaton that wrote the header badly is
/// still an automaton.
fn is_auto_submitted(header: &str) -> bool {
    values(header).any(|value| {
        let keyword = value.split(';').next().unwrap_or_default().trim();
        !keyword.eq_ignore_ascii_case("no")
    })
}

/// Microsoft's `X-Auto-Response-Suppress` lists what the sender does not want back. `All`,
/// `AutoReply` (automatic answers other than out-of-office) and `OOF` (out-of-office notices)
/// all mean "no automatic answer", and ours is one. `DR`, `NDR`, `RN` and `NRN` concern delivery
/// and read receipts, which we never send, and `None` suppresses nothing. Values are
/// case-insensitive and separated by commas (or, as some senders write them, spaces).
fn suppresses_auto_reply(header: &str) -> bool {
    header.split([',', ' ', '\t']).map(str::trim).any(|value| {
        ["all", "autoreply", "oof"]
            .iter()
            .any(|v| value.eq_ignore_ascii_case(v))
    })
}

/// `Precedence: bulk`, `list` or `junk` (RFC 3834 section 2, after long practice).
fn is_bulk(header: &str) -> bool {
    values(header).any(|value| {
        ["bulk", "list", "junk"]
            .iter()
            .any(|v| value.eq_ignore_ascii_case(v))
    })
}

/// `domain` is `ours` or one of its subdomains: compared label by label, so `notguichet.example`
/// is not within `guichet.example`.
fn within(domain: &str, ours: &str) -> bool {
    let ours = ours.trim().trim_end_matches('.');
    if ours.is_empty() {
        return false;
    }
    let domain = domain.trim_end_matches('.');
    domain.eq_ignore_ascii_case(ours)
        || (domain.len() > ours.len()
            && domain
                .get(domain.len() - ours.len()..)
                .is_some_and(|tail| tail.eq_ignore_ascii_case(ours))
            && domain.as_bytes().get(domain.len() - ours.len() - 1) == Some(&b'.'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::message::MailAddress;

    const OURS: &[&str] = &["guichet.example"];

    fn address(raw: &str) -> Option<MailAddress> {
        MailAddress::parse(raw)
    }

    /// A player's ordinary mail: may be acknowledged.
    fn player_mail() -> InboundMail {
        InboundMail {
            from: address("joueur@exemple.ca"),
            to: address("soutien@guichet.example").into_iter().collect(),
            subject: "Mon retrait n'est jamais arrivé".into(),
            text: "Bonjour, ...".into(),
            ..InboundMail::default()
        }
    }

    #[test]
    fn a_players_own_mail_may_be_acknowledged() {
        assert_eq!(AutoReply::allowed(&player_mail(), OURS), Ok(()));
        let human = InboundMail {
            auto_submitted: Some("No".into()),
            precedence: Some("first-class".into()),
            auto_response_suppress: Some("DR, RN, NRN, NDR".into()),
            ..player_mail()
        };
        assert_eq!(AutoReply::allowed(&human, OURS), Ok(()));
    }

    #[test]
    fn an_automaton_is_never_answered() {
        for value in [
            "auto-replied",
            "Auto-Generated",
            "auto-replied; owner-email=\"x@exemple.ca\"",
            "auto-notified",
            "",
            "no, auto-replied",
        ] {
            let mail = InboundMail {
                auto_submitted: Some(value.into()),
                ..player_mail()
            };
            assert_eq!(
                AutoReply::allowed(&mail, OURS),
                Err(Suppressed::AutoSubmitted),
                "{value}"
            );
        }
    }

    #[test]
    fn microsofts_suppression_header_is_read_for_automatic_answers_only() {
        for (value, suppressed) in [
            ("All", true),
            ("OOF", true),
            ("AutoReply", true),
            ("DR, OOF, AutoReply", true),
            ("oof autoreply", true),
            ("DR", false),
            ("NDR, RN, NRN", false),
            ("None", false),
        ] {
            let mail = InboundMail {
                auto_response_suppress: Some(value.into()),
                ..player_mail()
            };
            let expected = if suppressed {
                Err(Suppressed::AutoResponseSuppress)
            } else {
                Ok(())
            };
            assert_eq!(AutoReply::allowed(&mail, OURS), expected, "{value}");
        }
    }

    #[test]
    fn bulk_and_list_mail_is_not_answered() {
        for value in ["bulk", "List", "JUNK", "first-class, bulk"] {
            let mail = InboundMail {
                precedence: Some(value.into()),
                ..player_mail()
            };
            assert_eq!(
                AutoReply::allowed(&mail, OURS),
                Err(Suppressed::Precedence),
                "{value}"
            );
        }
        let list = InboundMail {
            list_id: Some("Joueurs <joueurs.exemple.ca>".into()),
            ..player_mail()
        };
        assert_eq!(AutoReply::allowed(&list, OURS), Err(Suppressed::List));
    }

    #[test]
    fn bounces_anonymous_mail_and_our_own_are_not_answered() {
        let bounce = InboundMail {
            is_delivery_report: true,
            ..player_mail()
        };
        assert_eq!(
            AutoReply::allowed(&bounce, OURS),
            Err(Suppressed::DeliveryReport)
        );
        let anonymous = InboundMail {
            from: None,
            ..player_mail()
        };
        assert_eq!(
            AutoReply::allowed(&anonymous, OURS),
            Err(Suppressed::NoSender)
        );
        for from in [
            "soutien@guichet.example",
            "bounces@mail.guichet.example",
            "x@GUICHET.EXAMPLE",
        ] {
            let ours = InboundMail {
                from: address(from),
                ..player_mail()
            };
            assert_eq!(
                AutoReply::allowed(&ours, OURS),
                Err(Suppressed::OwnDomain),
                "{from}"
            );
        }
        let replying_to_us = InboundMail {
            reply_to: address("soutien@guichet.example"),
            ..player_mail()
        };
        assert_eq!(
            AutoReply::allowed(&replying_to_us, OURS),
            Err(Suppressed::OwnDomain)
        );
        let look_alike = InboundMail {
            from: address("joueur@notguichet.example"),
            ..player_mail()
        };
        assert_eq!(AutoReply::allowed(&look_alike, OURS), Ok(()));
        assert_eq!(AutoReply::allowed(&player_mail(), &[""]), Ok(()));
    }

    #[test]
    fn the_first_rule_broken_is_named() {
        let everything = InboundMail {
            auto_submitted: Some("auto-replied".into()),
            precedence: Some("bulk".into()),
            list_id: Some("l.exemple.ca".into()),
            ..player_mail()
        };
        assert_eq!(
            AutoReply::allowed(&everything, OURS),
            Err(Suppressed::AutoSubmitted)
        );
    }

    #[test]
    fn a_sender_gets_one_acknowledgement_a_day() {
        let now: Timestamp = "2026-12-01T15:00:00Z".parse().expect("valid");
        let ago = |hours: i64| now - SignedDuration::from_hours(hours);
        assert!(one_ack_per_day(None, now));
        assert!(one_ack_per_day(Some(ago(24)), now));
        assert!(one_ack_per_day(Some(ago(48)), now));
        assert!(!one_ack_per_day(Some(ago(23)), now));
        assert!(!one_ack_per_day(Some(now), now));
        assert!(!one_ack_per_day(Some(ago(-1)), now), "a future date");
    }

    #[test]
    fn our_header_marks_our_mail_as_an_automatic_answer() {
        assert_eq!(ACK_HEADER, ("Auto-Submitted", "auto-replied"));
        let our_ack = InboundMail {
            auto_submitted: Some(ACK_HEADER.1.into()),
            ..player_mail()
        };
        assert_eq!(
            AutoReply::allowed(&our_ack, OURS),
            Err(Suppressed::AutoSubmitted)
        );
    }
}

//! Which ticket an inbound mail belongs to, from the strongest evidence to the weakest:
//!
//! 1. a signed reply address among its recipients (`To`, then `Cc`): only someone who received
//!    our mail about that ticket can know it;
//! 2. a message id it answers (`In-Reply-To`, then `References` from the newest) that is one of
//!    our own mails about a ticket: the player's client kept the thread, though the address was
//!    lost (a reply to all, a forward, an address book entry);
//! 3. a ticket reference in its subject (`Re: Votre demande K7M2Q-9XW45`) with a valid check
//!    symbol: anyone can write a subject, so see [`Thread::BySubject`];
//!
//! and otherwise a new ticket.

use crate::common::reference::TicketReference;
use crate::mail::message::InboundMail;
use crate::mail::reply_address::{ticket_of, ReplyKey, ReplyMailbox};

/// At most this many message ids are looked up for one mail (`In-Reply-To` first, then the
/// newest `References`): each lookup may be a read of the store, and a long thread's oldest ids
/// are also the least likely to be ours.
pub const MAX_ID_LOOKUPS: usize = 20;

/// The ticket a mail continues, and how we know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Thread {
    /// Sent to the ticket's signed reply address: the sender received our mail.
    ByReplyAddress(TicketReference),
    /// Answers one of our mails about the ticket.
    ByMessageId(TicketReference),
    /// Names the ticket in its subject, and nothing stronger. Anyone can type a reference into
    /// a subject, so this only threads a mail whose sender the caller has verified to be the
    /// ticket's player (`mail::sender::Trust::Player` with that player's address on file); any
    /// other mail naming the ticket is a new ticket, or waits for an agent.
    BySubject(TicketReference),
    /// Nothing ties it to a ticket.
    New,
}

impl Thread {
    /// `known` maps the message id of a mail we sent (without angle brackets) to its ticket:
    /// the ids SES gave our outgoing mail, which the adapter records when it sends. It is asked
    /// about each id exactly as the mail wrote it, so the adapter keys its records on the full
    /// `Message-ID` our mail went out with (SES's id followed by its `@` domain) or strips the
    /// domain itself.
    pub fn of(
        mail: &InboundMail,
        key: &ReplyKey,
        mailbox: &ReplyMailbox,
        known: impl Fn(&str) -> Option<TicketReference>,
    ) -> Thread {
        if let Some(reference) = mail
            .recipients()
            .find_map(|address| ticket_of(key, address, mailbox))
        {
            return Thread::ByReplyAddress(reference);
        }
        if let Some(reference) = answered_ids(mail).into_iter().find_map(known) {
            return Thread::ByMessageId(reference);
        }
        match reference_in_subject(&mail.subject) {
            Some(reference) => Thread::BySubject(reference),
            None => Thread::New,
        }
    }

    /// The ticket, unless the mail starts a new one.
    pub fn reference(&self) -> Option<&TicketReference> {
        match self {
            Thread::ByReplyAddress(r) | Thread::ByMessageId(r) | Thread::BySubject(r) => Some(r),
            Thread::New => None,
        }
    }
}

/// The message ids `mail` answers, in the order [`Thread::of`] asks about them: `In-Reply-To`,
/// then `References` from the newest, each once, at most [`MAX_ID_LOOKUPS`]. For an adapter
/// that looks them all up at once before threading.
pub fn answered_ids(mail: &InboundMail) -> Vec<&str> {
    let mut answered: Vec<&str> = Vec::new();
    for id in mail.in_reply_to.iter().chain(mail.references.iter().rev()) {
        if answered.len() == MAX_ID_LOOKUPS {
            break;
        }
        if !answered.contains(&id.as_str()) {
            answered.push(id);
        }
    }
    answered
}

/// The first ticket reference written in `subject`: ten symbols as a word of its own, with or
/// without the hyphen after the fifth (`K7M2Q-9XW45`, `k7m2q9xw45`), in any case, whose check
/// symbol is valid. Unlike a reference dictated to an agent, look-alike letters (`O` for `0`,
/// `I` or `L` for `1`) are not read: our mail wrote the reference, a client copied it, and
/// reading them would turn more ordinary ten-letter words into candidates (`impossible`).
pub fn reference_in_subject(subject: &str) -> Option<TicketReference> {
    // Runs of ASCII letters and digits, by byte offsets; anything else separates words.
    let mut runs: Vec<(usize, usize)> = Vec::new();
    let mut start = None;
    for (i, c) in subject.char_indices() {
        match (c.is_ascii_alphanumeric(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                runs.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        runs.push((s, subject.len()));
    }
    let word = |(s, e): (usize, usize)| subject.get(s..e).unwrap_or_default();
    let mut candidates = Vec::new();
    for (i, &run) in runs.iter().enumerate() {
        let text = word(run);
        if text.len() == 10 {
            candidates.push(text.to_owned());
        } else if text.len() == 5 {
            // Five symbols, one hyphen, five symbols: the reference as we display it.
            if let Some(&next) = runs.get(i + 1) {
                let hyphen = subject.get(run.1..next.0) == Some("-");
                let next_text = word(next);
                if hyphen && next_text.len() == 5 {
                    candidates.push(format!("{text}{next_text}"));
                }
            }
        }
    }
    candidates.into_iter().find_map(|candidate| {
        TicketReference::parse(&candidate)
            .ok()
            .filter(|reference| reference.as_str().eq_ignore_ascii_case(&candidate))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::message::MailAddress;
    use crate::mail::reply_address::reply_address;

    fn key() -> ReplyKey {
        ReplyKey::parse(&[7u8; 32]).expect("32 bytes")
    }

    fn mailbox() -> ReplyMailbox {
        ReplyMailbox::parse("soutien", "guichet.example").expect("valid")
    }

    fn ticket(seed: u8) -> TicketReference {
        TicketReference::from_random([seed, 200, 17, 99, 0, 255, 42, 128, 7])
    }

    fn address(raw: &str) -> MailAddress {
        MailAddress::parse(raw).expect("valid")
    }

    /// Our mails' ids: `ours-N@eu-west-1.amazonses.com` belongs to ticket N.
    fn known(id: &str) -> Option<TicketReference> {
        let n = id
            .strip_prefix("ours-")?
            .strip_suffix("@eu-west-1.amazonses.com")?;
        n.parse().ok().map(ticket)
    }

    fn mail() -> InboundMail {
        InboundMail {
            from: Some(address("joueur@exemple.ca")),
            to: vec![address("soutien@guichet.example")],
            subject: "Question".into(),
            ..InboundMail::default()
        }
    }

    fn thread(mail: &InboundMail) -> Thread {
        Thread::of(mail, &key(), &mailbox(), known)
    }

    #[test]
    fn a_mail_with_nothing_to_tie_it_is_new() {
        assert_eq!(thread(&mail()), Thread::New);
        assert_eq!(Thread::New.reference(), None);
    }

    #[test]
    fn a_signed_reply_address_in_to_or_cc_wins() {
        let reply = reply_address(&key(), &mailbox(), &ticket(1));
        let to = InboundMail {
            to: vec![address("autre@exemple.ca"), reply.clone()],
            in_reply_to: vec!["ours-2@eu-west-1.amazonses.com".into()],
            subject: format!("Re: Votre demande {}", ticket(3)),
            ..mail()
        };
        assert_eq!(thread(&to), Thread::ByReplyAddress(ticket(1)));
        let cc = InboundMail {
            cc: vec![reply],
            ..mail()
        };
        assert_eq!(thread(&cc), Thread::ByReplyAddress(ticket(1)));
        assert_eq!(
            Thread::ByReplyAddress(ticket(1)).reference(),
            Some(&ticket(1))
        );
    }

    #[test]
    fn a_forged_reply_address_falls_through_to_the_weaker_evidence() {
        let reply = reply_address(&key(), &mailbox(), &ticket(1));
        let forged = reply.expose().replacen(".", ".x", 1);
        let forged = InboundMail {
            to: vec![address(&forged)],
            in_reply_to: vec!["ours-2@eu-west-1.amazonses.com".into()],
            ..mail()
        };
        assert_eq!(thread(&forged), Thread::ByMessageId(ticket(2)));
    }

    #[test]
    fn in_reply_to_comes_before_the_newest_reference() {
        let answer = InboundMail {
            in_reply_to: vec!["ours-2@eu-west-1.amazonses.com".into()],
            references: vec![
                "ours-4@eu-west-1.amazonses.com".into(),
                "ours-5@eu-west-1.amazonses.com".into(),
            ],
            ..mail()
        };
        assert_eq!(thread(&answer), Thread::ByMessageId(ticket(2)));
        let unknown_parent = InboundMail {
            in_reply_to: vec!["CAxyz@mail.gmail.com".into()],
            references: vec![
                "ours-4@eu-west-1.amazonses.com".into(),
                "ours-5@eu-west-1.amazonses.com".into(),
                "CAxyz@mail.gmail.com".into(),
            ],
            ..mail()
        };
        assert_eq!(thread(&unknown_parent), Thread::ByMessageId(ticket(5)));
    }

    #[test]
    fn only_so_many_ids_are_looked_up() {
        let asked = std::cell::Cell::new(0usize);
        let counting = |id: &str| {
            asked.set(asked.get() + 1);
            known(id)
        };
        let long_thread = InboundMail {
            references: (0..500).map(|i| format!("theirs-{i}@exemple.ca")).collect(),
            ..mail()
        };
        assert_eq!(
            Thread::of(&long_thread, &key(), &mailbox(), counting),
            Thread::New
        );
        assert_eq!(asked.get(), MAX_ID_LOOKUPS);
    }

    #[test]
    fn a_reference_in_the_subject_threads_last() {
        let reference = ticket(6);
        let compact = reference.as_str().to_owned();
        let shown = reference.to_string();
        for subject in [
            format!("Re: Votre demande {shown}"),
            format!("RE: [{}]", shown.to_lowercase()),
            format!("TR: demande {compact} - retrait"),
            format!("Re:{}", compact.to_lowercase()),
            format!("ticket-{shown}."),
        ] {
            let answer = InboundMail {
                subject: subject.clone(),
                ..mail()
            };
            assert_eq!(
                thread(&answer),
                Thread::BySubject(reference.clone()),
                "{subject}"
            );
        }
        let with_parent = InboundMail {
            subject: format!("Re: {shown}"),
            references: vec!["ours-2@eu-west-1.amazonses.com".into()],
            ..mail()
        };
        assert_eq!(thread(&with_parent), Thread::ByMessageId(ticket(2)));
    }

    #[test]
    fn a_token_that_fails_its_check_is_not_a_reference() {
        let reference = ticket(6);
        let shown = reference.to_string();
        // The last symbol changed: a mistyped or invented reference.
        let last = shown.chars().last().expect("ten symbols");
        let wrong = if last == '0' { '1' } else { '0' };
        let mistyped = format!("{}{wrong}", &shown[..shown.len() - 1]);
        for subject in [
            format!("Re: {mistyped}"),
            format!("Re: {}", shown.replace('-', "--")),
            format!("Re: x{}", reference.as_str()),
            "Re: impossible".into(),
            "Re: accessible".into(),
            String::new(),
        ] {
            assert_eq!(reference_in_subject(&subject), None, "{subject}");
        }
    }

    #[test]
    fn look_alike_letters_are_not_read_from_a_subject() {
        let reference = ticket(6);
        assert!(reference.as_str().contains('0'));
        let look_alike = reference.as_str().replace('0', "O");
        assert_eq!(TicketReference::parse(&look_alike), Ok(reference));
        assert_eq!(reference_in_subject(&format!("Re: {look_alike}")), None);
    }

    #[test]
    fn the_first_valid_reference_of_the_subject_is_taken() {
        let subject = format!("Re: demande {} (et {})", ticket(6), ticket(7));
        assert_eq!(reference_in_subject(&subject), Some(ticket(6)));
        let accented = format!("Reçu: référence {} — merci", ticket(7));
        assert_eq!(reference_in_subject(&accented), Some(ticket(7)));
    }
}

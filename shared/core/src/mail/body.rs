//! From a mail's text to what a ticket keeps of it: the new part of a reply (mail programs
//! quote the whole thread below it), within the size a ticket's text may have. What is cut is
//! not lost: the raw mail is kept beside the ticket.

/// What ends a cut text, so that a reader knows there was more.
pub const CUT_MARK: &str = "\n[…]";

/// The part of `text` above the quotation a mail program put under a reply: the first
/// attribution line (`Le 3 déc. 2026 à 10:02, Soutien <…> a écrit :`, `On Thu, Dec 3, 2026 at
/// 10:02 AM Support <…> wrote:`), an Outlook separator (`-----Original Message-----`, `-----
/// Message d'origine -----`, a `From:`/`De :` header block after a blank line), or the first
/// run of `>` lines. Only when something is left above it: a mail that is all quotation (or
/// that quotes first and answers below) is kept whole.
pub fn reply_text(text: &str) -> &str {
    let mut offset = 0;
    let mut previous_blank = true;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim();
        if starts_quotation(trimmed, previous_blank) {
            let above = without_attribution(text[..offset].trim_end());
            if !above.trim().is_empty() {
                return above;
            }
            return text.trim_end();
        }
        previous_blank = trimmed.is_empty();
        offset += line.len();
    }
    text.trim_end()
}

/// `above` without its last paragraph when that paragraph is an attribution a mail program
/// wrapped over several lines (`Le … Soutien <` then `soutien@…> a écrit :`).
fn without_attribution(above: &str) -> &str {
    let lower = above.to_lowercase();
    let wrapped = ["a écrit :", "a écrit:", "wrote:"]
        .iter()
        .any(|end| lower.ends_with(end));
    if !wrapped {
        return above;
    }
    match above.rfind("\n\n") {
        Some(start) => above[..start].trim_end(),
        None => above,
    }
}

fn starts_quotation(line: &str, previous_blank: bool) -> bool {
    let lower = line.to_lowercase();
    let attribution = (lower.starts_with("le ") && lower.ends_with("a écrit :"))
        || (lower.starts_with("le ") && lower.ends_with("a écrit:"))
        || (lower.starts_with("on ") && lower.ends_with("wrote:"));
    let separator = lower.starts_with("-----original message")
        || lower.starts_with("----- original message")
        || lower.starts_with("-----message d'origine")
        || lower.starts_with("----- message d'origine");
    let header_block =
        previous_blank && (lower.starts_with("from: ") || lower.starts_with("de : "));
    attribution || separator || header_block || line.starts_with('>')
}

/// `text` within `max` characters: cut at the last line break (or space) before the limit when
/// there is one in its last fifth, and marked with [`CUT_MARK`].
pub fn within(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let keep = max.saturating_sub(CUT_MARK.chars().count());
    let end = text
        .char_indices()
        .nth(keep)
        .map_or(text.len(), |(index, _)| index);
    let head = &text[..end];
    let floor = head.len() - head.len() / 5;
    let cut = head
        .rfind('\n')
        .filter(|&i| i >= floor)
        .or_else(|| head.rfind(' ').filter(|&i| i >= floor))
        .unwrap_or(head.len());
    format!("{}{CUT_MARK}", head[..cut].trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_webmail_reply_keeps_the_new_part_only() {
        let text = "Merci, c'est réglé.\n\nLe jeu. 3 déc. 2026 à 10:02, Soutien <soutien+x@guichet.example> a écrit :\n> Bonjour,\n> Avez-vous essayé ?\n";
        assert_eq!(reply_text(text), "Merci, c'est réglé.");
        let english =
            "Thanks!\nOn Thu, Dec 3, 2026 at 10:02 AM Support <s@g.example> wrote:\n> Hello";
        assert_eq!(reply_text(english), "Thanks!");
        let outlook =
            "Voici le document.\n\n-----Message d'origine-----\nDe : Soutien\nObjet : Demande";
        assert_eq!(reply_text(outlook), "Voici le document.");
        let headers = "See below.\n\nFrom: Support <s@g.example>\nSent: Thursday";
        assert_eq!(reply_text(headers), "See below.");
        let quoted = "Oui.\n> Pouvez-vous confirmer ?";
        assert_eq!(reply_text(quoted), "Oui.");
        let wrapped = "Merci.\n\nLe mar. 1 déc. 2026, à 10 h 17, Soutien Guichet <\nsoutien+x@guichet.example> a écrit :\n\n> Bonjour,";
        assert_eq!(reply_text(wrapped), "Merci.");
    }

    #[test]
    fn a_mail_that_is_all_quotation_or_answers_below_is_kept_whole() {
        let text = "> Pouvez-vous confirmer ?\nOui, je confirme.";
        assert_eq!(reply_text(text), text);
        let plain = "Bonjour,\nmon retrait est bloqué depuis mardi.\n";
        assert_eq!(reply_text(plain), plain.trim_end());
        // A "From:" in the middle of a sentence's line is not a header block.
        let inline = "Bonjour,\nFrom: what I see, the game froze.";
        assert_eq!(reply_text(inline), inline);
    }

    #[test]
    fn a_long_text_is_cut_at_a_line_and_marked() {
        let text = format!("{}\n{}", "a".repeat(90), "b".repeat(50));
        let cut = within(&text, 100);
        assert_eq!(cut, format!("{}{CUT_MARK}", "a".repeat(90)));
        assert_eq!(within("court", 100), "court");
    }

    proptest! {
        #[test]
        fn a_cut_text_fits_and_starts_as_the_text(text in "\\PC{0,400}", max in 10usize..200) {
            let cut = within(&text, max);
            prop_assert!(cut.chars().count() <= max);
            let kept = cut.strip_suffix(CUT_MARK).unwrap_or(&cut);
            prop_assert!(text.starts_with(kept));
        }

        #[test]
        fn the_reply_text_is_a_prefix_of_the_text(text in "(\\PC{0,40}\n){0,8}") {
            let reply = reply_text(&text);
            prop_assert!(text.starts_with(reply));
        }
    }
}

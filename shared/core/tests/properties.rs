//! Property tests of every parser and validator of the core: whatever a client, a token, a
//! queue message or a stored item hands them, they answer (never panic), what they accept keeps
//! their promise, and the round trips (reference, ids, cursors, queue messages) hold.
//!
//! Purely random strings rarely get past a parser's first check, so most properties also feed
//! *near-valid* inputs: a valid value with a few characters inserted, deleted or replaced.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jiff::Timestamp;
use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{json, Value};

mod strategies;
use strategies::*;

use guichet_core::attachments::rules::{attachment_key, parse_attachment_key};
use guichet_core::common::contact::ContactAddress;
use guichet_core::common::paging::{parse_millis_part, PageCursor};
use guichet_core::common::player::{Language, PlayerId};
use guichet_core::common::reference::{ReferenceError, TicketReference};
use guichet_core::common::validation::{
    free_text, has_invisible, rfc3339, without_invisible, Rule,
};
use guichet_core::documents::rules::{upload_id_of_key, UploadId};
use guichet_core::escalation::rules::EscalationRequest;
use guichet_core::incidents::ports::IncidentStart;
use guichet_core::incidents::rules::{normalise, FanOut, IncidentId};
use guichet_core::mail::loops::AutoReply;
use guichet_core::mail::message::{InboundMail, MailAddress};
use guichet_core::mail::reply_address::{reply_address, ticket_of, ReplyKey, ReplyMailbox};
use guichet_core::mail::sender::{Trust, Verdict, Verdicts};
use guichet_core::mail::threading::reference_in_subject;
use guichet_core::notifications::rules::{About, NotificationKind, NotificationMessage};
use guichet_core::outbox::rules::MessageId;
use guichet_core::tickets::intake::TicketRequest;
use guichet_core::tickets::ports::{IdempotencyKey, PageStart, QueueStart};
use guichet_core::tickets::ticket::Priority;
use guichet_core::tickets::workflow::ReasonCode;
use guichet_core::verification::rules::{document_key, CaseId, DocumentKind};

/// The references' alphabet as the reference module documents it: Crockford's base 32 without
/// `V` (so no `I`, `L`, `O`, `U`, `V`).
const REFERENCE_ALPHABET: &str = "0123456789ABCDEFGHJKMNPQRSTWXYZ";
/// The server-made ids' alphabet: Crockford's base 32.
const ID_ALPHABET: &str = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

// ---------------------------------------------------------------------------------------------
// Ticket references

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn a_reference_round_trips_through_its_display_and_canonical_forms(r in reference()) {
        let shown = r.to_string();
        prop_assert_eq!(shown.len(), 11);
        prop_assert_eq!(&shown[5..6], "-");
        prop_assert_eq!(TicketReference::parse(&shown), Ok(r.clone()));
        prop_assert_eq!(TicketReference::parse(r.as_str()), Ok(r.clone()));
        // As a player may say or type it: any case, spaces for the hyphen.
        let typed = shown.to_lowercase().replace('-', " ");
        prop_assert_eq!(TicketReference::parse(&typed), Ok(r.clone()));
        // Serde goes through the display form and parse.
        let json = serde_json::to_string(&r).expect("serialises");
        prop_assert_eq!(serde_json::from_str::<TicketReference>(&json).ok(), Some(r));
    }

    #[test]
    fn one_mistyped_symbol_is_always_caught(
        r in reference(),
        at in 0usize..10,
        symbol in prop::sample::select(REFERENCE_ALPHABET.chars().collect::<Vec<_>>()),
    ) {
        let mut typed: Vec<char> = r.as_str().chars().collect();
        prop_assume!(typed[at] != symbol);
        typed[at] = symbol;
        let typed: String = typed.into_iter().collect();
        prop_assert_eq!(TicketReference::parse(&typed), Err(ReferenceError::Check));
    }

    #[test]
    fn two_swapped_neighbours_are_always_caught(r in reference(), at in 0usize..9) {
        let mut typed: Vec<char> = r.as_str().chars().collect();
        prop_assume!(typed[at] != typed[at + 1]);
        typed.swap(at, at + 1);
        let typed: String = typed.into_iter().collect();
        prop_assert_eq!(TicketReference::parse(&typed), Err(ReferenceError::Check));
    }

    #[test]
    fn whatever_is_typed_a_reference_parses_to_its_canonical_form_or_is_refused(
        raw in prop_oneof![any_text(), reference().prop_flat_map(|r| near(r.to_string()))],
    ) {
        if let Ok(r) = TicketReference::parse(&raw) {
            prop_assert_eq!(r.as_str().len(), 10);
            prop_assert!(r.as_str().chars().all(|c| REFERENCE_ALPHABET.contains(c)));
            prop_assert_eq!(TicketReference::parse(&r.to_string()), Ok(r));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Server-made ids, message ids, player ids, addresses, idempotency keys, reason codes

/// The id kinds' common promise, for one kind: `parse` of what `from_random` made gives it back
/// (also lower-cased and padded, as staff may type it), serde agrees with `parse`, and whatever
/// `parse` accepts is the prefix and the right number of upper-case symbols.
macro_rules! id_properties {
    ($test:ident, $id:ty, $bytes:literal) => {
        proptest! {
            #![proptest_config(ProptestConfig::with_cases(CASES))]

            #[test]
            fn $test(
                random in any::<[u8; $bytes]>(),
                padding in "[ \t\n]{0,2}",
                raw in prop_oneof![
                    any_text(),
                    any::<[u8; $bytes]>()
                        .prop_flat_map(|r| near(<$id>::from_random(r).as_str().to_owned())),
                ],
            ) {
                let id = <$id>::from_random(random);
                prop_assert_eq!(<$id>::parse(id.as_str()), Some(id.clone()));
                let typed = format!("{padding}{}{padding}", id.as_str().to_lowercase());
                prop_assert_eq!(<$id>::parse(&typed), Some(id.clone()));
                let json = serde_json::to_string(&id).expect("serialises");
                prop_assert_eq!(serde_json::from_str::<$id>(&json).ok(), Some(id));

                let parsed = <$id>::parse(&raw);
                prop_assert_eq!(
                    serde_json::from_value::<$id>(Value::String(raw.clone())).ok(),
                    parsed.clone()
                );
                if let Some(id) = parsed {
                    let symbols = id.as_str().strip_prefix(<$id>::PREFIX).expect("the prefix");
                    prop_assert_eq!(symbols.len(), <$id>::SYMBOLS);
                    prop_assert!(symbols.chars().all(|c| ID_ALPHABET.contains(c)));
                    prop_assert_eq!(id.as_str(), raw.trim().to_ascii_uppercase());
                }
            }
        }
    };
}

id_properties!(case_ids_round_trip_and_refuse_anything_else, CaseId, 12);
id_properties!(upload_ids_round_trip_and_refuse_anything_else, UploadId, 16);
id_properties!(
    incident_ids_round_trip_and_refuse_anything_else,
    IncidentId,
    12
);

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn message_ids_round_trip_and_are_lower_case_hex_only(
        id in message_id(),
        raw in prop_oneof![any_text(), message_id().prop_flat_map(|m| near(m.to_string()))],
    ) {
        prop_assert_eq!(MessageId::parse(id.as_str()), Some(id.clone()));
        let json = serde_json::to_string(&id).expect("serialises");
        prop_assert_eq!(serde_json::from_str::<MessageId>(&json).ok(), Some(id));
        if let Some(m) = MessageId::parse(&raw) {
            prop_assert_eq!(m.as_str(), raw.as_str());
            prop_assert!(raw.len() == 32 && raw.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f')));
        }
    }

    #[test]
    fn a_player_id_is_accepted_exactly_when_it_is_1_to_128_token_characters(
        valid in "[A-Za-z0-9_.:@-]{1,128}",
        raw in prop_oneof![any_text(), "[A-Za-z0-9_.:@-]{1,128}".prop_flat_map(near)],
    ) {
        prop_assert_eq!(PlayerId::parse(&valid).map(|p| p.as_str().to_owned()), Some(valid));
        let parsed = PlayerId::parse(&raw);
        let expected = (1..=128).contains(&raw.len())
            && raw.chars().all(|c| c.is_ascii_alphanumeric() || "-_.:@".contains(c));
        prop_assert_eq!(parsed.is_some(), expected, "{:?}", raw);
        // A player id read from a stored item or a message goes through the same parse.
        prop_assert_eq!(
            serde_json::from_value::<PlayerId>(Value::String(raw.clone())).ok(),
            parsed
        );
    }

    #[test]
    fn a_contact_address_is_one_plain_address_or_refused(
        valid in "[a-z0-9._+-]{1,64}@[a-z0-9-]{1,20}(\\.[a-z0-9-]{1,20}){1,3}",
        padding in "[ \t]{0,2}",
        raw in prop_oneof![
            any_text(),
            "[a-z0-9._+-]{1,64}@[a-z0-9-]{1,20}\\.[a-z]{2,6}".prop_flat_map(near),
        ],
    ) {
        let address = ContactAddress::parse(&format!("{padding}{valid}{padding}"));
        prop_assert_eq!(address.as_ref().map(ContactAddress::expose), Some(valid.as_str()));
        if let Some(address) = ContactAddress::parse(&raw) {
            let text = address.expose();
            prop_assert!(text.len() <= ContactAddress::MAX_LEN);
            prop_assert_eq!(text.matches('@').count(), 1);
            let (local, domain) = text.split_once('@').expect("one @");
            prop_assert!(!local.is_empty() && local.len() <= 64);
            prop_assert!(domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.'));
            prop_assert!(!text.chars().any(|c| c.is_whitespace() || c.is_control()));
            prop_assert!(!text.contains(['<', '>', ',', ';', '"']), "{:?}", text);
        }
    }

    #[test]
    fn an_idempotency_key_is_8_to_128_token_characters(
        valid in "[A-Za-z0-9_.:-]{8,128}",
        uuid in "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
        raw in prop_oneof![any_text(), "[A-Za-z0-9_.:-]{6,10}".prop_flat_map(near)],
    ) {
        prop_assert_eq!(IdempotencyKey::parse(&valid).map(|k| k.as_str().to_owned()), Some(valid));
        prop_assert!(IdempotencyKey::parse(&uuid).is_some());
        let expected = (IdempotencyKey::MIN_LEN..=IdempotencyKey::MAX_LEN).contains(&raw.len())
            && raw.chars().all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c));
        prop_assert_eq!(IdempotencyKey::parse(&raw).is_some(), expected, "{:?}", raw);
    }

    #[test]
    fn a_reason_code_is_1_to_40_lower_case_letters_digits_or_underscores(
        valid in "[a-z0-9_]{1,40}",
        raw in prop_oneof![any_text(), "[a-z0-9_]{1,40}".prop_flat_map(near)],
    ) {
        prop_assert_eq!(
            ReasonCode::parse("reason", &valid).map(|r| r.as_str().to_owned()),
            Ok(valid)
        );
        let expected = (1..=40).contains(&raw.len())
            && raw.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        prop_assert_eq!(ReasonCode::parse("reason", &raw).is_ok(), expected, "{:?}", raw);
    }
}

// ---------------------------------------------------------------------------------------------
// Page cursors

/// The cursor's text, as a client could forge it: base64url of any text.
fn forged(text: &str) -> String {
    URL_SAFE_NO_PAD.encode(text)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn every_listings_cursor_round_trips(
        created_at in millis_instant(),
        r in reference(),
        priority in prop::sample::select(Priority::ALL),
        id in incident_id(),
    ) {
        let page = PageStart { created_at, reference: r.clone() };
        prop_assert_eq!(PageStart::from_cursor(&page.to_cursor()), Some(page));
        let queue = QueueStart { rank: priority.rank(), created_at, reference: r };
        prop_assert_eq!(QueueStart::from_cursor(&queue.to_cursor()), Some(queue));
        let incidents = IncidentStart { created_at, id };
        prop_assert_eq!(IncidentStart::from_cursor(&incidents.to_cursor()), Some(incidents));
    }

    #[test]
    fn any_cursor_decodes_or_is_refused_and_what_decodes_names_itself_again(
        raw in any_text(),
        bytes in prop::collection::vec(any::<u8>(), 0..60),
        tampered in (millis_instant(), reference(), prop::sample::select(Priority::ALL))
            .prop_flat_map(|(at, r, p)| {
                let text = format!("{}.{}.{}", p.rank(), at.as_millisecond(), r.as_str());
                near(text)
            }),
        tampered_page in (millis_instant(), reference())
            .prop_flat_map(|(at, r)| near(format!("{}.{}", at.as_millisecond(), r.as_str()))),
        tampered_incident in (millis_instant(), incident_id())
            .prop_flat_map(|(at, id)| near(format!("{}.{}", at.as_millisecond(), id.as_str()))),
    ) {
        let encoded_bytes = URL_SAFE_NO_PAD.encode(&bytes);
        for cursor in [
            raw.clone(),
            encoded_bytes,
            forged(&raw),
            forged(&tampered),
            forged(&tampered_page),
            forged(&tampered_incident),
        ] {
            if let Some(start) = PageStart::from_cursor(&cursor) {
                prop_assert_eq!(PageStart::from_cursor(&start.to_cursor()), Some(start));
            }
            if let Some(start) = QueueStart::from_cursor(&cursor) {
                prop_assert_eq!(QueueStart::from_cursor(&start.to_cursor()), Some(start));
            }
            if let Some(start) = IncidentStart::from_cursor(&cursor) {
                prop_assert_eq!(IncidentStart::from_cursor(&start.to_cursor()), Some(start));
            }
        }
    }

    #[test]
    fn a_millisecond_part_reads_back_what_it_wrote(at in millis_instant(), raw in any_text()) {
        prop_assert_eq!(parse_millis_part(&at.as_millisecond().to_string()), Some(at));
        if let Some(at) = parse_millis_part(&raw) {
            prop_assert_eq!(raw.parse::<i64>().ok(), Some(at.as_millisecond()));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Free text and timestamps

/// Characters the free-text rule refuses as invisible, whatever surrounds them.
const INVISIBLE: &[char] = &[
    '\u{061C}', '\u{180E}', '\u{200B}', '\u{200C}', '\u{200E}', '\u{200F}', '\u{202A}', '\u{202B}',
    '\u{202C}', '\u{202D}', '\u{202E}', '\u{2060}', '\u{2061}', '\u{2062}', '\u{2063}', '\u{2064}',
    '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}', '\u{FEFF}',
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn free_text_is_trimmed_bounded_printable_and_visible_or_refused(
        raw in prop_oneof![any_text(), "[ \\n]{0,2}[a-zé ,.!?\\n\\t]{0,30}[ \\t]{0,2}".prop_flat_map(near)],
        min in 0usize..12,
        extra in 0usize..30,
    ) {
        let max = min + extra;
        match free_text("field", &raw, min, max) {
            Ok(text) => {
                prop_assert_eq!(text.as_str(), raw.trim());
                let length = text.chars().count();
                prop_assert!(min <= length && length <= max);
                prop_assert!(!text.chars().any(|c| c.is_control() && !"\n\r\t".contains(c)));
                prop_assert!(!has_invisible(&text));
            }
            Err(error) => {
                prop_assert_eq!(error.field.as_str(), "field");
                if error.rule == Rule::Required {
                    prop_assert!(raw.trim().is_empty());
                }
            }
        }
    }

    #[test]
    fn an_invisible_character_anywhere_is_refused(
        text in "[a-zA-Z0-9 ]{0,20}",
        at in any::<Index>(),
        invisible in prop::sample::select(INVISIBLE),
    ) {
        prop_assert!(!has_invisible(&text));
        let mut chars: Vec<char> = text.chars().collect();
        chars.insert(at.index(chars.len() + 1), invisible);
        let hiding: String = chars.into_iter().collect();
        prop_assert!(has_invisible(&hiding), "{:?}", hiding);
        prop_assert_eq!(
            free_text("field", &format!("x{hiding}x"), 1, 100).map_err(|e| e.rule),
            Err(Rule::InvisibleCharacter)
        );
    }
}

/// An RFC 3339 timestamp written from its parts, and the instant those parts name.
fn rfc3339_parts() -> impl Strategy<Value = (String, Timestamp)> {
    (
        // Away from jiff's range ends, where an offset could push the instant out of range.
        1i16..=9998,
        1i8..=12,
        any::<Index>(),
        (0i8..24, 0i8..60, 0i8..60),
        (0usize..=9, 0u32..1_000_000_000),
        prop::option::of((any::<bool>(), 0i32..24, 0i32..60)),
    )
        .prop_map(
            |(year, month, day, (hour, minute, second), (digits, nanos), offset)| {
                let days = jiff::civil::Date::new(year, month, 1)
                    .expect("a valid month")
                    .days_in_month();
                let day = day.index(days as usize) as i8 + 1;
                // The fraction as written: `digits` digits of `nanos`, the rest dropped.
                let kept = nanos / 10u32.pow(9 - digits as u32) * 10u32.pow(9 - digits as u32);
                let fraction = if digits == 0 {
                    String::new()
                } else {
                    format!(".{:09}", kept)[..=digits].to_owned()
                };
                let (zone, seconds) = match offset {
                    None => ("Z".to_owned(), 0),
                    Some((negative, h, m)) => {
                        let sign = if negative { '-' } else { '+' };
                        let seconds = (h * 3600 + m * 60) * if negative { -1 } else { 1 };
                        (format!("{sign}{h:02}:{m:02}"), seconds)
                    }
                };
                let text = format!(
                "{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}{fraction}{zone}"
            );
                let civil =
                    jiff::civil::DateTime::new(year, month, day, hour, minute, second, kept as i32)
                        .expect("a valid date and time");
                let instant = jiff::tz::Offset::from_seconds(seconds)
                    .expect("a valid offset")
                    .to_timestamp(civil)
                    .expect("within range");
                (text, instant)
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn every_strict_rfc3339_timestamp_is_read_as_the_instant_it_names(
        (text, instant) in rfc3339_parts(),
    ) {
        prop_assert_eq!(rfc3339(&text), Some(instant), "{}", text);
    }

    #[test]
    fn the_lenient_spellings_jiff_would_take_are_refused(
        (text, _) in rfc3339_parts(),
        lenient in 0u8..6,
    ) {
        let spelled = match lenient {
            0 => text.replacen('T', " ", 1),
            1 => text.replacen('T', "t", 1),
            2 => format!("{text}[UTC]"),
            // Minutes without seconds.
            3 => format!("{}{}", &text[..16], &text[19..]),
            // The offset without its colon (`+0500`), or a lower-case `z`.
            4 if text.ends_with('Z') => text.replace('Z', "z"),
            4 => format!("{}{}", &text[..text.len() - 3], &text[text.len() - 2..]),
            _ => format!("{text} "),
        };
        prop_assert_eq!(rfc3339(&spelled), None, "{}", spelled);
    }

    #[test]
    fn any_text_is_a_strict_timestamp_or_refused(
        raw in prop_oneof![
            any_text(),
            rfc3339_parts().prop_flat_map(|(text, _)| near(text)),
        ],
    ) {
        if let Some(instant) = rfc3339(&raw) {
            // What the strict reader accepts, jiff reads as the same instant, and it has the
            // strict shape: `T` and `:` in place, `Z` or a `±HH:MM` offset at the end.
            prop_assert_eq!(raw.parse::<Timestamp>().ok(), Some(instant));
            let b = raw.as_bytes();
            prop_assert!(b[10] == b'T' && b[13] == b':' && b[16] == b':', "{:?}", raw);
            let tail = &raw[raw.len().saturating_sub(6)..];
            prop_assert!(
                raw.ends_with('Z')
                    || (matches!(tail.as_bytes()[0], b'+' | b'-') && tail.as_bytes()[3] == b':'),
                "{:?}",
                raw
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Languages and incident subjects

/// The languages `Accept-Language` offers, with qualities: the tags the desk knows, tags it does
/// not, and the wildcard.
fn offered() -> impl Strategy<Value = Vec<(&'static str, Option<u16>)>> {
    let tag = prop::sample::select(&["fr", "en", "FR-ca", "en-US", "de", "es-MX", "*"][..]);
    prop::collection::vec((tag, prop::option::of(0u16..=1000)), 0..5)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn the_language_is_the_best_offered_of_french_and_english(offers in offered()) {
        let header = offers
            .iter()
            .map(|(tag, q)| match q {
                Some(q) => format!("{tag};q={}", f32::from(*q) / 1000.0),
                None => (*tag).to_owned(),
            })
            .collect::<Vec<_>>()
            .join(", ");
        // The first of the highest quality above zero, French when none is acceptable.
        let mut best: Option<(u16, Language)> = None;
        for (tag, q) in &offers {
            let q = q.unwrap_or(1000);
            let language = match tag.to_ascii_lowercase().split('-').next() {
                Some("fr") => Language::Fr,
                Some("en") => Language::En,
                _ => continue,
            };
            if q > 0 && best.is_none_or(|(b, _)| q > b) {
                best = Some((q, language));
            }
        }
        let expected = best.map_or(Language::Fr, |(_, l)| l);
        prop_assert_eq!(Language::from_accept_language(Some(&header)), expected, "{}", header);
    }

    #[test]
    fn any_accept_language_header_picks_a_language(raw in any_text()) {
        // Whatever the header, an answer: the value itself is the property above's concern.
        let _ = Language::from_accept_language(Some(&raw));
    }

    #[test]
    fn a_subject_name_is_normalised_once_whatever_its_case_and_spacing(
        raw in prop_oneof![any_text(), "[A-Za-zé ]{0,20}".prop_flat_map(near)],
    ) {
        let once = normalise(&raw);
        prop_assert_eq!(once.as_deref().and_then(normalise), once.clone());
        let shouted = format!(" \t{}  ", raw.to_ascii_uppercase().replace(' ', " \t "));
        prop_assert_eq!(normalise(&shouted), once.clone());
        if let Some(name) = once {
            prop_assert!(!name.is_empty() && name.trim() == name && !name.contains("  "));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Closed vocabularies: each wire name reads back as its word, and nothing else reads at all

/// For each vocabulary: `parse` of every word's `as_str` is that word, `NAMES` lists exactly
/// those wire names, and any other text is refused.
macro_rules! vocabulary_properties {
    ($test:ident, $($vocabulary:ty),+) => {
        proptest! {
            #![proptest_config(ProptestConfig::with_cases(CASES))]

            #[test]
            fn $test(raw in prop_oneof![any_text(), "[a-z_/]{1,24}"]) {
                $(
                    let names: Vec<&str> = <$vocabulary>::ALL.iter().map(|w| w.as_str()).collect();
                    prop_assert_eq!(&names[..], <$vocabulary>::NAMES);
                    for word in <$vocabulary>::ALL {
                        prop_assert_eq!(<$vocabulary>::parse(word.as_str()), Some(*word));
                    }
                    let parsed = <$vocabulary>::parse(&raw);
                    prop_assert_eq!(parsed.is_some(), names.contains(&raw.as_str()), "{:?}", raw);
                )+
            }
        }
    };
}

vocabulary_properties!(
    every_vocabulary_reads_exactly_its_wire_names,
    guichet_core::tickets::ticket::Channel,
    guichet_core::tickets::ticket::Category,
    guichet_core::tickets::ticket::Team,
    guichet_core::tickets::ticket::TicketStatus,
    Priority,
    Language,
    guichet_core::documents::rules::ContentType,
    guichet_core::documents::rules::CheckFailure,
    DocumentKind,
    guichet_core::verification::rules::CaseReason,
    guichet_core::verification::rules::ReasonCode,
    guichet_core::incidents::rules::IncidentStatus,
    guichet_core::outbox::rules::Destination,
    guichet_core::mail::loops::Suppressed,
    Verdict,
    guichet_core::mail::sender::QuarantineReason,
    guichet_core::mail::sender::UnverifiedReason
);

// ---------------------------------------------------------------------------------------------
// S3 keys

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn an_attachment_key_parses_back_to_its_ticket_and_upload(r in reference(), u in upload_id()) {
        let key = attachment_key(&r, &u);
        prop_assert_eq!(parse_attachment_key(&key), Some((r, u.clone())));
        prop_assert_eq!(upload_id_of_key(&key), Some(u));
    }

    #[test]
    fn a_document_key_names_its_upload(
        player in "[A-Za-z0-9_.:@-]{1,40}",
        case in any::<[u8; 12]>(),
        kind in prop::sample::select(DocumentKind::ALL),
        u in upload_id(),
    ) {
        let player = PlayerId::parse(&player).expect("a valid player id");
        let key = document_key(&player, &CaseId::from_random(case), kind, &u);
        prop_assert_eq!(upload_id_of_key(&key), Some(u));
        prop_assert_eq!(parse_attachment_key(&key), None);
    }

    #[test]
    fn only_the_exact_attachment_key_shape_is_parsed(
        raw in prop_oneof![
            any_text(),
            (reference(), upload_id()).prop_flat_map(|(r, u)| near(attachment_key(&r, &u))),
            // The hyphenated and lower-case spellings of a reference parse, but are not the key.
            (reference(), upload_id()).prop_flat_map(|(r, u)| {
                near(format!("tickets/{}/{}", r.to_string().to_lowercase(), u.as_str()))
            }),
        ],
    ) {
        if let Some((r, u)) = parse_attachment_key(&raw) {
            prop_assert_eq!(attachment_key(&r, &u), raw.clone());
        }
        if let Some(u) = upload_id_of_key(&raw) {
            let last = raw.rsplit('/').next().expect("rsplit yields one part at least");
            prop_assert_eq!(UploadId::parse(last), Some(u));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Queue messages: what the outbox puts on the escalations and incident-updates queues, read back
// by route-escalations and incident-updates. (The notifications queue's message is left out: its
// schema is being changed.)

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn queue_messages_round_trip(request in escalation_request(), page in fan_out()) {
        let text = serde_json::to_string(&request).expect("serialises");
        prop_assert_eq!(serde_json::from_str::<EscalationRequest>(&text).ok(), Some(request));
        let text = serde_json::to_string(&page).expect("serialises");
        prop_assert_eq!(serde_json::from_str::<FanOut>(&text).ok(), Some(page));
    }

    #[test]
    fn any_queue_body_is_read_or_refused_and_what_is_read_is_valid(
        raw in any_text(),
        request in escalation_request().prop_flat_map(|r| {
            near_object(serde_json::to_value(r).expect("json"))
        }),
        page in fan_out().prop_flat_map(|p| {
            near_object(serde_json::to_value(p).expect("json"))
        }),
        text_edit in escalation_request().prop_flat_map(|r| near(serde_json::to_string(&r).expect("json"))),
    ) {
        for body in [raw, request.to_string(), page.to_string(), text_edit] {
            // Ids inside come out valid (serde goes through their parse), so a message read
            // once reads the same when written again.
            if let Ok(request) = serde_json::from_str::<EscalationRequest>(&body) {
                let again = serde_json::to_string(&request).expect("serialises");
                prop_assert_eq!(serde_json::from_str::<EscalationRequest>(&again).ok(), Some(request));
            }
            if let Ok(page) = serde_json::from_str::<FanOut>(&body) {
                let again = serde_json::to_string(&page).expect("serialises");
                prop_assert_eq!(serde_json::from_str::<FanOut>(&again).ok(), Some(page));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The create-ticket body

fn now() -> Timestamp {
    "2026-11-26T15:00:00Z".parse().expect("a valid timestamp")
}

/// A body that parses, with and without incident details.
fn ticket_body() -> impl Strategy<Value = Value> {
    let incident = near_object(json!({
        "occurred_at": "2026-11-26T14:00:00-05:00",
        "game_name": "Roulette Royale",
        "payment_system": "Interac",
        "transaction_id": "TX-123_4",
        "steps_tried": ["relancé", "vidé le cache"],
    }));
    (incident, any::<bool>()).prop_flat_map(|(incident, is_incident)| {
        let mut body = json!({
            "channel": "form",
            "category": "technical",
            "subject": "Le jeu ne charge pas",
            "description": "La page reste blanche après la connexion.",
            "language": "fr",
        });
        if is_incident {
            body["category"] = json!("incident");
            body["incident"] = incident;
        }
        near_object(body)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn any_ticket_body_is_a_request_or_a_named_refusal(
        body in prop_oneof![json_value(), ticket_body()],
        accept_language in prop::option::of(any_text()),
    ) {
        match TicketRequest::parse(&body, accept_language.as_deref(), now()) {
            Ok(request) => {
                let subject = request.subject.chars().count();
                prop_assert!((3..=150).contains(&subject));
                prop_assert_eq!(request.subject.trim(), request.subject.as_str());
                let description = request.description.chars().count();
                prop_assert!((10..=5000).contains(&description));
                prop_assert_eq!(request.fingerprint().len(), 64);
            }
            // The message a client reads is made for any refusal.
            Err(error) => prop_assert!(!error.to_string().is_empty()),
        }
    }

    #[test]
    fn a_retry_differing_only_in_surrounding_spaces_has_the_same_fingerprint(
        body in ticket_body(),
        padding in "[ \\t\\n]{1,3}",
    ) {
        let Ok(request) = TicketRequest::parse(&body, None, now()) else {
            return Ok(());
        };
        let mut padded = body.clone();
        for field in ["subject", "description"] {
            padded[field] = json!(format!("{padding}{}{padding}", body[field].as_str().expect("a string")));
        }
        let retried = TicketRequest::parse(&padded, None, now()).expect("still valid");
        prop_assert_eq!(retried.fingerprint(), request.fingerprint());
    }
}

// ---------------------------------------------------------------------------------------------
// The notifications queue's message

/// A message naming a notification of a ticket or of a case.
fn notification_message() -> impl Strategy<Value = NotificationMessage> {
    let about = prop_oneof![
        reference().prop_map(About::Ticket),
        any::<[u8; 12]>().prop_map(|case| About::Case(CaseId::from_random(case))),
    ];
    (
        message_id(),
        "[a-z0-9][a-z0-9-]{0,30}",
        about,
        0..NotificationKind::ALL.len(),
        millis_instant(),
    )
        .prop_map(|(id, player, about, kind, at)| NotificationMessage {
            notification_id: id,
            player: PlayerId::parse(&player).expect("a valid player id"),
            about,
            kind: NotificationKind::ALL[kind],
            created_at: at,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn a_notification_message_round_trips_and_carries_no_text(message in notification_message()) {
        let text = serde_json::to_string(&message).expect("serialises");
        prop_assert_eq!(
            serde_json::from_str::<NotificationMessage>(&text).ok(),
            Some(message)
        );
        let wire: Value = serde_json::from_str(&text).expect("JSON");
        for field in ["language", "subject", "body"] {
            prop_assert!(wire.get(field).is_none(), "{}", text);
        }
    }

    #[test]
    fn any_notification_body_is_read_or_refused_and_names_one_thing(
        raw in any_text(),
        edited in notification_message().prop_flat_map(|m| {
            near_object(serde_json::to_value(m).expect("json"))
        }),
        text_edit in notification_message()
            .prop_flat_map(|m| near(serde_json::to_string(&m).expect("json"))),
    ) {
        for body in [raw, edited.to_string(), text_edit] {
            if let Ok(message) = serde_json::from_str::<NotificationMessage>(&body) {
                // What is read is written back as v2, naming exactly one ticket or case.
                let again = serde_json::to_value(&message).expect("serialises");
                prop_assert_eq!(&again["schema"], "guichet.notification.v2");
                prop_assert!(again.get("ticket").is_some() != again.get("case").is_some());
                prop_assert_eq!(
                    serde_json::from_value::<NotificationMessage>(again).ok(),
                    Some(message)
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// E-mail: addresses, signed reply addresses, references in subjects, the loop and trust rules

fn verdict() -> impl Strategy<Value = Verdict> {
    prop::sample::select(Verdict::ALL.to_vec())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn a_mail_address_is_normal_bounded_and_reads_back_as_itself(
        raw in prop_oneof![
            any_text(),
            "[A-Za-z0-9._+-]{1,12}@[A-Za-z0-9-]{1,10}\\.[a-z]{2,4}".prop_flat_map(near),
        ],
    ) {
        let parsed = MailAddress::parse(&raw);
        prop_assert_eq!(
            serde_json::from_value::<MailAddress>(Value::String(raw.clone())).ok(),
            parsed.clone()
        );
        if let Some(address) = parsed {
            let text = address.expose();
            prop_assert!(text.len() <= MailAddress::MAX_LEN);
            prop_assert_eq!(text.matches('@').count(), 1);
            prop_assert!(!text.chars().any(|c| c.is_ascii_uppercase() || c.is_whitespace()));
            prop_assert!(!has_invisible(text));
            prop_assert_eq!(format!("{}@{}", address.local_part(), address.domain()), text);
            prop_assert_eq!(MailAddress::parse(text), Some(address.clone()));
            prop_assert_eq!(MailAddress::parse(&text.to_ascii_uppercase()), Some(address));
        }
    }

    #[test]
    fn a_reply_address_reads_back_as_its_ticket_and_no_edit_of_its_tag_does(
        r in reference(),
        key in prop::collection::vec(any::<u8>(), 32..80),
        at in any::<Index>(),
        symbol in prop::sample::select("abcdefghijklmnopqrstuvwxyz234567".chars().collect::<Vec<_>>()),
    ) {
        let key = ReplyKey::parse(&key).expect("at least 32 bytes");
        let mailbox = ReplyMailbox::parse("soutien", "guichet.example").expect("valid");
        let reply = reply_address(&key, &mailbox, &r);
        prop_assert_eq!(ticket_of(&key, &reply, &mailbox), Some(r.clone()));
        let upper = MailAddress::parse(&reply.expose().to_ascii_uppercase()).expect("valid");
        prop_assert_eq!(ticket_of(&key, &upper, &mailbox), Some(r));
        // One symbol of the tag (reference or MAC) replaced by another.
        let local: Vec<char> = reply.local_part().chars().collect();
        let tag_start = "soutien+".len();
        let i = tag_start + at.index(local.len() - tag_start);
        prop_assume!(local[i] != '.' && local[i] != symbol);
        let mut edited = local.clone();
        edited[i] = symbol;
        let edited: String = edited.into_iter().collect();
        let edited = MailAddress::parse(&format!("{edited}@guichet.example")).expect("valid");
        prop_assert_eq!(ticket_of(&key, &edited, &mailbox), None);
    }

    #[test]
    fn any_address_is_answered_without_panicking(
        raw in prop_oneof![
            any_text(),
            "soutien\\+[a-z0-9]{10}\\.[a-z2-7]{10}@guichet\\.example".prop_flat_map(near),
        ],
    ) {
        let key = ReplyKey::parse(&[9u8; 32]).expect("32 bytes");
        let mailbox = ReplyMailbox::parse("soutien", "guichet.example").expect("valid");
        if let Some(address) = MailAddress::parse(&raw) {
            // A random tag has a 2^-50 chance of a valid MAC: never in these cases.
            prop_assert_eq!(ticket_of(&key, &address, &mailbox), None);
        }
    }

    #[test]
    fn a_reference_between_words_is_found_in_a_subject(
        r in reference(),
        before in prop_oneof![Just(String::new()), "(Re: |TR: |RE:|\\[)[a-zé ]{0,20}"],
        after in prop_oneof![Just(String::new()), "[ .,\\]][a-zé ]{0,20}"],
        dashed in any::<bool>(),
        lower in any::<bool>(),
    ) {
        let shown = if dashed { r.to_string() } else { r.as_str().to_owned() };
        let shown = if lower { shown.to_lowercase() } else { shown };
        let separator = if before.is_empty() || before.ends_with([' ', ':', '[']) { "" } else { " " };
        let subject = format!("{before}{separator}{shown}{after}");
        // Ten-letter words of the random text could hold a reference of their own before ours,
        // but only with its valid check symbol and no look-alike letters: allow for it.
        match reference_in_subject(&subject) {
            Some(found) if found != r => {
                prop_assert!(subject.to_ascii_uppercase().find(found.as_str())
                    < subject.to_ascii_uppercase().find(&shown.to_ascii_uppercase()));
            }
            found => prop_assert_eq!(found, Some(r)),
        }
    }

    #[test]
    fn any_subject_is_searched_without_panicking(subject in any_text()) {
        if let Some(found) = reference_in_subject(&subject) {
            prop_assert!(subject.to_ascii_uppercase().contains(&found.as_str()[..5]));
        }
    }

    #[test]
    fn text_without_its_invisible_characters_has_none_and_keeps_the_rest(text in any_text()) {
        let visible = without_invisible(&text);
        prop_assert!(!has_invisible(&visible));
        if !has_invisible(&text) {
            prop_assert_eq!(visible, text);
        }
    }

    #[test]
    fn an_automaton_or_a_list_is_never_answered(
        auto_submitted in prop::option::of(prop_oneof![
            "(?i)no",
            "(?i)no ?; ?[a-z-]{1,8}=[a-z]{1,8}",
            "(?i)auto-(replied|generated|notified)(; [a-z]{1,8}=x)?",
            "[a-zA-Z-]{0,12}",
        ]),
        precedence in prop::option::of("[a-zA-Z, -]{0,12}"),
        list_id in prop::option::of("[a-z. <>]{0,12}"),
    ) {
        let mail = InboundMail {
            from: MailAddress::parse("joueur@exemple.ca"),
            auto_submitted: auto_submitted.clone(),
            precedence: precedence.clone(),
            list_id: list_id.clone(),
            ..InboundMail::default()
        };
        let allowed = AutoReply::allowed(&mail, &["guichet.example"]).is_ok();
        let automaton = auto_submitted.is_some_and(|v| {
            !v.split(';').next().unwrap_or_default().trim().eq_ignore_ascii_case("no")
        });
        let bulk = precedence.is_some_and(|p| {
            p.split(',').any(|v| ["bulk", "list", "junk"].contains(&v.trim().to_lowercase().as_str()))
        });
        let list = list_id.is_some_and(|l| !l.trim().is_empty());
        prop_assert_eq!(allowed, !(automaton || bulk || list));
    }

    #[test]
    fn only_the_address_on_file_with_an_authenticated_domain_is_the_player(
        spf in verdict(), dkim in verdict(), dmarc in verdict(),
        spam in verdict(), virus in verdict(), aligned in any::<bool>(),
        same in any::<bool>(),
    ) {
        let on_file = MailAddress::parse("joueur@exemple.ca").expect("valid");
        let from = if same { on_file.clone() } else {
            MailAddress::parse("joueur@exemple.com").expect("valid")
        };
        let verdicts = Verdicts { spf, dkim, dmarc, spam, virus, aligned };
        let trust = Trust::of(Some(&from), Some(&on_file), verdicts);
        let authenticated = dmarc == Verdict::Pass
            || (dmarc != Verdict::Fail && spf == Verdict::Pass && dkim == Verdict::Pass && aligned);
        let clean = spam != Verdict::Fail && virus != Verdict::Fail;
        prop_assert_eq!(trust == Trust::Player, same && authenticated && clean);
        prop_assert_eq!(matches!(trust, Trust::Quarantine(_)), !clean);
    }
}

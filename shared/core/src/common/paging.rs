//! One page of a listing, how it is cut from an over-fetched read, and the opaque cursor that
//! says where the next one starts.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jiff::Timestamp;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T, S> {
    pub items: Vec<T>,
    pub next: Option<S>,
}

impl<T, S> Page<T, S> {
    /// A page of `limit` from items read in order with one extra: the extra one, if it came,
    /// only tells that another page follows, which starts after the page's last item
    /// (`start_of`). Asking for one more avoids an empty last page.
    pub fn of_over_fetched(mut items: Vec<T>, limit: u16, start_of: impl Fn(&T) -> S) -> Self {
        let next = if items.len() > usize::from(limit) {
            items.truncate(usize::from(limit));
            items.last().map(start_of)
        } else {
            None
        };
        Page { items, next }
    }
}

/// Where a page starts, handed to clients as an opaque cursor: base64url of the start's parts
/// joined by `.` (e.g. `<created ms>.<reference>`). Decoding checks every part, so a tampered
/// cursor is refused (a 400 at the edge), never a store error. The partition a listing reads
/// always comes from the caller (the player, the team in the path), never from the cursor, so
/// a cursor cannot reach another player's or team's items.
pub trait PageCursor: Sized {
    /// How many parts a cursor of this kind has; the last may not contain `.` either.
    const PARTS: usize;

    /// The start's parts, in order, none containing `.`.
    fn parts(&self) -> Vec<String>;

    /// The start the parts name, if every part is valid.
    fn from_parts(parts: &[&str]) -> Option<Self>;

    fn to_cursor(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.parts().join("."))
    }

    fn from_cursor(raw: &str) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(raw).ok()?;
        let text = std::str::from_utf8(&bytes).ok()?;
        let parts: Vec<&str> = text.split('.').collect();
        if parts.len() != Self::PARTS {
            return None;
        }
        Self::from_parts(&parts)
    }
}

/// A cursor part for a time: milliseconds since the epoch, as the keys sort.
pub fn millis_part(at: Timestamp) -> String {
    at.as_millisecond().to_string()
}

/// The time a [`millis_part`] names.
pub fn parse_millis_part(part: &str) -> Option<Timestamp> {
    Timestamp::from_millisecond(part.parse().ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A start of two parts, like every listing's: a time and an id.
    #[derive(Debug, Clone, PartialEq, Eq)]
    struct Start {
        at: Timestamp,
        id: String,
    }

    impl PageCursor for Start {
        const PARTS: usize = 2;

        fn parts(&self) -> Vec<String> {
            vec![millis_part(self.at), self.id.clone()]
        }

        fn from_parts(parts: &[&str]) -> Option<Self> {
            let id = parts[1];
            if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
                return None;
            }
            Some(Start {
                at: parse_millis_part(parts[0])?,
                id: id.to_owned(),
            })
        }
    }

    #[test]
    fn a_cursor_round_trips_and_is_opaque() {
        let start = Start {
            at: Timestamp::from_millisecond(1_764_169_200_123).expect("valid"),
            id: "ABC123".into(),
        };
        let cursor = start.to_cursor();
        assert_eq!(cursor, URL_SAFE_NO_PAD.encode("1764169200123.ABC123"));
        assert_eq!(Start::from_cursor(&cursor), Some(start));
    }

    #[test]
    fn a_tampered_cursor_is_refused() {
        for text in [
            "1764169200123",            // a part missing
            "1764169200123.ABC.D",      // a part too many
            "x.ABC123",                 // not a time
            "99999999999999999.ABC123", // beyond the time range
            "1764169200123.",           // an empty part
            "1764169200123.AB-C",       // a part its parser refuses
        ] {
            assert_eq!(
                Start::from_cursor(&URL_SAFE_NO_PAD.encode(text)),
                None,
                "{text}"
            );
        }
        assert_eq!(Start::from_cursor("not-base64!"), None);
        assert_eq!(
            Start::from_cursor(&URL_SAFE_NO_PAD.encode([0xff, 0xfe])),
            None
        );
    }

    #[test]
    fn a_page_cut_from_an_over_fetched_read_says_where_the_next_starts() {
        let page = Page::of_over_fetched(vec![1, 2, 3], 2, |n: &i32| n * 10);
        assert_eq!((page.items, page.next), (vec![1, 2], Some(20)));
        let last = Page::of_over_fetched(vec![1, 2], 2, |n: &i32| n * 10);
        assert_eq!((last.items, last.next), (vec![1, 2], None));
    }
}

//! Ticket references: what a player reads out to a chat agent.
//!
//! Ten symbols shown as `XXXXX-XXXXX`: nine random symbols and one check symbol. The alphabet is
//! Crockford's base 32 without `V`, so it has 31 symbols; 31 is prime, which lets a weighted sum
//! modulo 31 catch every single mistyped symbol and every swap of two neighbours. Letters that
//! look like digits (`O`, `I`, `L`) are read as those digits, and case is ignored, so a reference
//! dictated over the phone still parses. Nine random symbols give 31^9 ≈ 2.6e13 values, so
//! references are neither sequential nor guessable; uniqueness is still enforced by the store's
//! conditional write, never assumed.

use std::fmt;

const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKMNPQRSTWXYZ";
const RADIX: u32 = 31;
const PAYLOAD_LEN: usize = 9;
const LEN: usize = PAYLOAD_LEN + 1;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TicketReference(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    #[error("a reference has {expected} letters and digits")]
    Length { expected: usize },
    #[error("a reference uses only digits and the letters A-Z except U and V")]
    Symbol,
    #[error("the reference's check character does not match: it was probably mistyped")]
    Check,
}

impl TicketReference {
    /// Builds a reference from nine random values (each reduced modulo 31).
    pub fn from_random(random: [u8; PAYLOAD_LEN]) -> Self {
        let mut values = [0u32; PAYLOAD_LEN];
        for (value, byte) in values.iter_mut().zip(random) {
            // 256 is not a multiple of 31: the tiny bias (9/256 for the first symbols)
            // costs well under a bit of entropy, and uniqueness is enforced by the store.
            *value = u32::from(byte) % RADIX;
        }
        let check = check_value(&values);
        let mut text = String::with_capacity(LEN);
        for value in values.iter().chain(std::iter::once(&check)) {
            text.push(char::from(ALPHABET[*value as usize]));
        }
        Self(text)
    }

    /// Draws a fresh reference from the operating system's random source.
    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut random = [0u8; PAYLOAD_LEN];
        getrandom::fill(&mut random)?;
        Ok(Self::from_random(random))
    }

    /// Parses what a player typed or said: any case, optional hyphens and spaces.
    pub fn parse(input: &str) -> Result<Self, ReferenceError> {
        let mut values = Vec::with_capacity(LEN);
        for c in input.chars() {
            if c == '-' || c == ' ' {
                continue;
            }
            if values.len() == LEN {
                return Err(ReferenceError::Length { expected: LEN });
            }
            values.push(symbol_value(c).ok_or(ReferenceError::Symbol)?);
        }
        if values.len() != LEN {
            return Err(ReferenceError::Length { expected: LEN });
        }
        let (payload, check) = values.split_at(PAYLOAD_LEN);
        if check_value(payload) != check[0] {
            return Err(ReferenceError::Check);
        }
        Ok(Self(
            values
                .iter()
                .map(|v| char::from(ALPHABET[*v as usize]))
                .collect(),
        ))
    }

    /// The canonical form, without the hyphen: what the store keys on.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TicketReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (head, tail) = self.0.split_at(LEN / 2);
        write!(f, "{head}-{tail}")
    }
}

fn symbol_value(c: char) -> Option<u32> {
    let c = match c.to_ascii_uppercase() {
        'O' => '0',
        'I' | 'L' => '1',
        other => other,
    };
    ALPHABET
        .iter()
        .position(|s| char::from(*s) == c)
        .map(|p| p as u32)
}

/// Weights 1..=9 are distinct and non-zero modulo 31, so one wrong symbol or two swapped
/// neighbours always change the sum.
fn check_value(payload: &[u32]) -> u32 {
    let sum: u32 = payload
        .iter()
        .enumerate()
        .map(|(i, v)| (i as u32 + 1) * v)
        .sum();
    sum % RADIX
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> TicketReference {
        TicketReference::from_random([3, 200, 17, 99, 0, 255, 42, 128, 7])
    }

    #[test]
    fn round_trips_through_its_display_form() {
        let reference = sample();
        let shown = reference.to_string();
        assert_eq!(shown.len(), 11);
        assert_eq!(shown.as_bytes()[5], b'-');
        assert_eq!(TicketReference::parse(&shown), Ok(reference));
    }

    #[test]
    fn parsing_ignores_case_spaces_and_look_alike_letters() {
        let reference = sample();
        let shown = reference.to_string().to_lowercase().replace('-', " ");
        assert_eq!(TicketReference::parse(&shown), Ok(reference.clone()));
        let with_o = reference.as_str().replace('0', "o");
        assert_eq!(TicketReference::parse(&with_o), Ok(reference));
    }

    #[test]
    fn every_single_substitution_is_caught() {
        let reference = sample();
        let original: Vec<char> = reference.as_str().chars().collect();
        for position in 0..LEN {
            for symbol in ALPHABET.iter().map(|b| char::from(*b)) {
                if symbol == original[position] {
                    continue;
                }
                let mut typed = original.clone();
                typed[position] = symbol;
                let typed: String = typed.into_iter().collect();
                assert_eq!(
                    TicketReference::parse(&typed),
                    Err(ReferenceError::Check),
                    "{typed}"
                );
            }
        }
    }

    #[test]
    fn every_swap_of_neighbours_is_caught() {
        let reference = sample();
        let original: Vec<char> = reference.as_str().chars().collect();
        for position in 0..LEN - 1 {
            if original[position] == original[position + 1] {
                continue;
            }
            let mut typed = original.clone();
            typed.swap(position, position + 1);
            let typed: String = typed.into_iter().collect();
            assert_eq!(TicketReference::parse(&typed), Err(ReferenceError::Check));
        }
    }

    #[test]
    fn wrong_length_and_symbols_are_named() {
        assert_eq!(
            TicketReference::parse("ABC"),
            Err(ReferenceError::Length { expected: 10 })
        );
        assert_eq!(
            TicketReference::parse("ABCDE-FGHJKM"),
            Err(ReferenceError::Length { expected: 10 })
        );
        assert_eq!(
            TicketReference::parse("ABCDE-FGHJU"),
            Err(ReferenceError::Symbol)
        );
    }

    #[test]
    fn generated_references_differ_and_parse() {
        let a = TicketReference::generate().expect("random source");
        let b = TicketReference::generate().expect("random source");
        assert_ne!(a, b);
        assert_eq!(TicketReference::parse(a.as_str()), Ok(a));
    }
}

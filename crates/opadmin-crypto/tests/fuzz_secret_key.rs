//! Property tests of Secret Key parsing: whatever a person pastes gives a key or a typed error,
//! never a panic; every key reads back from its printed form in any case, with any spaces and
//! dashes.

mod common;

use std::time::{Duration, Instant};

use opadmin_crypto::CryptoError;
use opadmin_crypto::secret_key::{ALPHABET, SecretKey};
use proptest::prelude::*;

/// An independent statement of the grammar: drop separators, upper-case, then the key is valid
/// exactly when every character is in the alphabet and it has 34 characters (33 for `A2`, whose
/// secret is one character shorter).
fn expected(input: &str) -> Option<(String, String, String)> {
    let cleaned: String = input
        .chars()
        .filter(|c| *c != '-' && !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if !cleaned.chars().all(|c| ALPHABET.contains(c)) {
        return None;
    }
    let secret_len = match (cleaned.len(), cleaned.starts_with("A2")) {
        (34, false) => 26,
        (33, true) => 25,
        _ => return None,
    };
    Some((
        cleaned[..2].to_owned(),
        cleaned[2..8].to_owned(),
        cleaned[8..8 + secret_len].to_owned(),
    ))
}

fn alphabet_string(len: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(0..ALPHABET.len(), len).prop_map(|ix| {
        ix.into_iter()
            .map(|i| ALPHABET.as_bytes()[i] as char)
            .collect()
    })
}

/// Re-prints `readable` as a person might paste it: every letter in either case, every dash
/// kept, dropped or turned into spaces, and separators added anywhere.
fn messy(readable: &str, choices: &[u8]) -> String {
    let mut out = String::new();
    for (c, choice) in readable.chars().zip(choices.iter().cycle()) {
        match c {
            '-' => match choice % 4 {
                0 => out.push('-'),
                1 => {}
                2 => out.push(' '),
                _ => out.push_str(" - "),
            },
            c => {
                if choice & 0x10 != 0 {
                    out.push(c.to_ascii_lowercase());
                } else {
                    out.push(c);
                }
                match choice >> 5 {
                    0 => out.push(' '),
                    1 => out.push('\t'),
                    2 => out.push('-'),
                    _ => {}
                }
            }
        }
    }
    format!("  {out}\n")
}

proptest! {
    #![proptest_config(common::config(256))]

    #[test]
    fn arbitrary_strings_never_panic(input in any::<String>()) {
        let _ = SecretKey::parse(&input);
    }

    /// Strings made mostly of key characters and separators hit every branch of the grammar;
    /// the parser agrees with the independent statement above on each of them.
    #[test]
    fn parser_agrees_with_the_grammar(input in "[A-Za-z0-9 \t-]{0,48}") {
        match (SecretKey::parse(&input), expected(&input)) {
            (Ok(key), Some((format, account, secret))) => {
                prop_assert_eq!(key.format(), format);
                prop_assert_eq!(key.account_id(), account);
                prop_assert_eq!(key.expose_secret(), secret);
            }
            (Err(CryptoError::SecretKey(_)), None) => {}
            (got, want) => prop_assert!(false, "{input:?}: parsed {got:?}, expected {want:?}"),
        }
    }

    #[test]
    fn keys_round_trip_through_any_printed_form(
        account in alphabet_string(6),
        secret in alphabet_string(26),
        choices in proptest::collection::vec(any::<u8>(), 1..64),
    ) {
        let key = SecretKey::from_parts("A3", &account, &secret).unwrap();
        let printed = messy(&key.to_readable(), &choices);
        prop_assert_eq!(SecretKey::parse(&printed).unwrap(), key);
    }

    #[test]
    fn legacy_a2_keys_round_trip(
        account in alphabet_string(6),
        secret in alphabet_string(25),
        choices in proptest::collection::vec(any::<u8>(), 1..64),
    ) {
        let key = SecretKey::from_parts("A2", &account, &secret).unwrap();
        prop_assert_eq!(key.to_readable().len(), 2 + 1 + 6 + 5 * 6);
        let printed = messy(&key.to_readable(), &choices);
        prop_assert_eq!(SecretKey::parse(&printed).unwrap(), key);
    }

    /// Generated keys print and read back too (the form the emulator hands out).
    #[test]
    fn generated_keys_round_trip(choices in proptest::collection::vec(any::<u8>(), 1..64)) {
        let key = SecretKey::generate();
        prop_assert_eq!(SecretKey::parse(&messy(&key.to_readable(), &choices)).unwrap(), key);
    }

    /// One wrong character anywhere in a valid key is refused, and the error quotes nothing.
    #[test]
    fn one_foreign_character_is_refused(
        secret in alphabet_string(26),
        at in 0usize..40,
        bad in prop_oneof![Just('0'), Just('1'), Just('I'), Just('O'), Just('U'), Just('é'), Just('_')],
    ) {
        let key = SecretKey::from_parts("A3", "RTN9SA", &secret).unwrap();
        let mut chars: Vec<char> = key.to_readable().chars().collect();
        chars[at] = bad;
        let input: String = chars.into_iter().collect();
        let err = SecretKey::parse(&input).unwrap_err();
        prop_assert!(matches!(err, CryptoError::SecretKey(_)), "{err:?}");
        let shown = format!("{err} {err:?}");
        prop_assert!(!shown.contains(&secret[..6]), "{shown}");
    }
}

/// A pasted megabyte is refused as too long in bounded time, without growing a copy of it.
#[test]
fn huge_input_is_refused_quickly() {
    for filler in ["A", "a-", " ", "é"] {
        let input = filler.repeat(4 << 20);
        let started = Instant::now();
        let err = SecretKey::parse(&input).unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(2), "{filler:?}");
        let expected = if filler == " " {
            "empty"
        } else if filler == "é" {
            "character"
        } else {
            "too long"
        };
        assert!(err.to_string().contains(expected), "{filler:?}: {err}");
    }
}

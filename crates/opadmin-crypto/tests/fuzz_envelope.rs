//! Property tests of the session envelope `{kid, enc, cty, iv, data}`: whatever JSON arrives
//! gives an envelope or a typed error; decrypting anything but the untouched ciphertext fails
//! with a typed error; huge fields are refused or handled in memory linear in their size.

mod common;

use std::time::{Duration, Instant};

use opadmin_crypto::CryptoError;
use opadmin_crypto::encoding::{b64url_decode, b64url_encode};
use opadmin_crypto::envelope::{Envelope, SymmetricKey};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

const FIELDS: [&str; 8] = ["kid", "enc", "cty", "iv", "data", "alg", "p2s", "p2c"];

/// A value for one envelope field: a plausible one, or anything at all.
fn field_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!("K")),
        Just(json!("A256GCM")),
        Just(json!("RSA-OAEP")),
        Just(json!("b5+jwk+json")),
        "[A-Za-z0-9_-]{0,40}={0,3}".prop_map(Value::String),
        any::<u32>().prop_map(Value::from),
        common::any_json(),
    ]
}

/// An object with some envelope fields (each one plausible or arbitrary) and maybe extras.
fn envelope_like() -> impl Strategy<Value = Value> {
    (
        proptest::collection::vec(proptest::option::of(field_value()), FIELDS.len()),
        proptest::collection::btree_map("[a-z]{1,6}", common::any_json(), 0..3),
    )
        .prop_map(|(values, extra)| {
            let mut object: Map<String, Value> = extra.into_iter().collect();
            for (name, value) in FIELDS.iter().zip(values) {
                if let Some(value) = value {
                    object.insert((*name).to_owned(), value);
                }
            }
            Value::Object(object)
        })
}

fn key() -> SymmetricKey {
    SymmetricKey::new("K", [0x42; 32])
}

proptest! {
    #![proptest_config(common::config(256))]

    #[test]
    fn arbitrary_json_never_panics(value in common::any_json()) {
        if let Ok(envelope) = Envelope::from_json(&value) {
            // Not made with this key: opening it must fail.
            prop_assert!(key().decrypt(&envelope).is_err());
        }
    }

    #[test]
    fn arbitrary_field_values_never_panic(value in envelope_like()) {
        let _ = Envelope::is_envelope(&value);
        match Envelope::from_json(&value) {
            Ok(envelope) => {
                let err = key().decrypt(&envelope).unwrap_err();
                prop_assert!(
                    matches!(
                        err,
                        CryptoError::Envelope(_)
                            | CryptoError::Encoding(_)
                            | CryptoError::WrongKey { .. }
                            | CryptoError::Decrypt
                    ),
                    "{err:?}"
                );
                let _ = key().decrypt_json::<Value>(&envelope);
            }
            Err(err) => prop_assert!(matches!(err, CryptoError::Envelope(_)), "{err:?}"),
        }
    }

    /// Any single flipped bit of the ciphertext, its tag or the IV is caught by the tag check.
    #[test]
    fn a_flipped_bit_is_an_error(
        plain in proptest::collection::vec(any::<u8>(), 0..512),
        secret in any::<[u8; 32]>(),
        in_iv in any::<bool>(),
        bit in any::<usize>(),
    ) {
        let key = SymmetricKey::new("K", secret);
        let mut envelope = key.encrypt(&plain);
        prop_assert_eq!(&*key.decrypt(&envelope).unwrap(), plain.as_slice());
        let field = if in_iv { envelope.iv.as_mut().unwrap() } else { &mut envelope.data };
        let mut raw = b64url_decode(field).unwrap();
        let bit = bit % (raw.len() * 8);
        raw[bit / 8] ^= 1 << (bit % 8);
        *field = b64url_encode(&raw);
        prop_assert_eq!(key.decrypt(&envelope), Err(CryptoError::Decrypt));
    }

    /// Edits of the base64 text itself (a character replaced, dropped or added) are errors too:
    /// a typed error about the encoding or length, or a failed tag check.
    #[test]
    fn an_edited_text_is_an_error(
        plain in proptest::collection::vec(any::<u8>(), 0..256),
        in_iv in any::<bool>(),
        at in any::<usize>(),
        edit in 0u8..3,
        c in prop_oneof![proptest::char::range('A', 'Z'), Just('='), Just('+'), Just('/'), Just('_'), any::<char>()],
    ) {
        let key = key();
        let mut envelope = key.encrypt(&plain);
        let field = if in_iv { envelope.iv.as_mut().unwrap() } else { &mut envelope.data };
        let original = field.clone();
        let mut chars: Vec<char> = field.chars().collect();
        let at = at % (chars.len() + 1);
        match edit {
            0 if at < chars.len() => chars[at] = c,
            1 if at < chars.len() => { chars.remove(at); }
            _ => chars.insert(at, c),
        }
        *field = chars.into_iter().collect();
        // Trailing `=` padding is tolerated on purpose; anything else must fail.
        prop_assume!(field.trim_end_matches('=') != original);
        prop_assert!(key.decrypt(&envelope).is_err());
    }
}

/// Fields of several megabytes: the IV is refused by its length before it is decoded, the data
/// is decoded once (memory linear in its size) and fails its tag check; both in bounded time.
#[test]
fn huge_base64_fields_are_refused_in_bounded_time() {
    let key = key();
    let valid = key.encrypt(b"{}");
    let huge = "A".repeat(8 << 20);

    let mut big_iv = valid.clone();
    big_iv.iv = Some(huge.clone());
    let started = Instant::now();
    assert!(matches!(
        key.decrypt(&big_iv),
        Err(CryptoError::Envelope(_))
    ));
    assert!(started.elapsed() < Duration::from_secs(2));

    let mut big_data = valid.clone();
    big_data.data = huge.clone();
    let started = Instant::now();
    assert_eq!(key.decrypt(&big_data), Err(CryptoError::Decrypt));
    assert!(started.elapsed() < Duration::from_secs(5));

    let mut not_base64 = valid;
    not_base64.data = format!("{huge}!");
    assert_eq!(
        key.decrypt(&not_base64),
        Err(CryptoError::Encoding("base64url"))
    );

    let value = json!({"kid": "K", "enc": "A256GCM", "iv": huge, "data": "AAAA"});
    let envelope = Envelope::from_json(&value).unwrap();
    assert!(matches!(
        key.decrypt(&envelope),
        Err(CryptoError::Envelope(_))
    ));
}

/// The real `encSymKey` of the fixture account's primary keyset parses as an envelope, and a key
/// other than its AUK cannot open it.
#[test]
fn real_envelope_parses_and_refuses_a_wrong_key() {
    let value = common::fixture("encrypted-aes-key.json");
    assert!(Envelope::is_envelope(&value));
    let envelope = Envelope::from_json(&value).unwrap();
    assert_eq!(envelope.kid, "mp");
    let wrong = SymmetricKey::new("mp", [7; 32]);
    assert_eq!(wrong.decrypt(&envelope), Err(CryptoError::Decrypt));
}

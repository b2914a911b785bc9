//! Property tests of JWK import: public and private RSA JWKs and symmetric JWKs. Arbitrary
//! objects and mutated real keys give a key or a typed error, never a panic; a key that is
//! accepted works; absurd modulus sizes are refused.

mod common;

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use opadmin_crypto::CryptoError;
use opadmin_crypto::encoding::{b64url_decode, b64url_encode};
use opadmin_crypto::envelope::SymmetricKey;
use opadmin_crypto::jwk::Jwk;
use opadmin_crypto::rsa::{RsaPrivateKey, RsaPublicKey};
use proptest::prelude::*;
use serde_json::{Map, Value};

const MEMBERS: [&str; 14] = [
    "alg", "ext", "k", "key_ops", "kty", "kid", "n", "e", "d", "p", "q", "dp", "dq", "qi",
];

/// The two real private JWKs of the fixtures (RSA-OAEP and RSA-OAEP-256), as JSON objects.
fn real_keys() -> &'static [Map<String, Value>; 2] {
    static KEYS: OnceLock<[Map<String, Value>; 2]> = OnceLock::new();
    KEYS.get_or_init(|| {
        ["rsa-key.json", "rsa-key-oaep-256.json"].map(|name| match common::fixture(name) {
            Value::Object(map) => map,
            other => panic!("{name} is not an object: {other}"),
        })
    })
}

/// Tries every importer on a JWK. Whatever is accepted must be a working key: a private key
/// opens what its public half wraps, a symmetric key opens what it encrypts.
fn import_all(jwk: &Jwk) -> Result<(), TestCaseError> {
    if let Ok(public) = RsaPublicKey::from_jwk(jwk) {
        prop_assert!(public.encrypt(b"probe").is_ok());
    }
    if let Ok(private) = RsaPrivateKey::from_jwk(jwk) {
        let wrapped = private.public_key().encrypt(b"probe").unwrap();
        prop_assert_eq!(&*private.decrypt(&wrapped).unwrap(), b"probe".as_slice());
    }
    if let Ok(symmetric) = SymmetricKey::from_jwk(jwk) {
        let envelope = symmetric.encrypt(b"probe");
        prop_assert_eq!(&*symmetric.decrypt(&envelope).unwrap(), b"probe".as_slice());
    }
    Ok(())
}

fn import_json(value: &Value) -> Result<(), TestCaseError> {
    let bytes = serde_json::to_vec(value).unwrap();
    let _ = RsaPrivateKey::from_jwk_json(&bytes);
    let _ = SymmetricKey::from_jwk_json(&bytes);
    if let Ok(jwk) = serde_json::from_value::<Jwk>(value.clone()) {
        import_all(&jwk)?;
    }
    Ok(())
}

/// A value for one JWK member: plausible base64url of a plausible size, or anything.
fn member_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::from("RSA")),
        Just(Value::from("oct")),
        Just(Value::from("AQAB")),
        Just(Value::from("RSA-OAEP-256")),
        proptest::collection::vec(any::<u8>(), 0..300).prop_map(|b| Value::from(b64url_encode(&b))),
        common::any_json(),
    ]
}

#[derive(Debug, Clone)]
enum Mutation {
    /// Drop a member.
    Remove(usize),
    /// Replace a member with another value.
    Replace(usize, Value),
    /// Flip one bit of a base64url member's bytes.
    FlipBit(usize, usize),
    /// Keep only a prefix of a base64url member's bytes.
    Truncate(usize, usize),
    /// Put zero bytes in front of a base64url member's bytes.
    LeadingZeros(usize, usize),
    /// Swap two members.
    Swap(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let member = 0..MEMBERS.len();
    prop_oneof![
        member.clone().prop_map(Mutation::Remove),
        (member.clone(), member_value()).prop_map(|(m, v)| Mutation::Replace(m, v)),
        (member.clone(), any::<usize>()).prop_map(|(m, b)| Mutation::FlipBit(m, b)),
        (member.clone(), any::<usize>()).prop_map(|(m, n)| Mutation::Truncate(m, n)),
        (member.clone(), 1usize..600).prop_map(|(m, n)| Mutation::LeadingZeros(m, n)),
        (member.clone(), member).prop_map(|(a, b)| Mutation::Swap(a, b)),
    ]
}

fn apply(jwk: &mut Map<String, Value>, mutation: &Mutation) {
    let bytes_of = |jwk: &Map<String, Value>, m: usize| {
        jwk.get(MEMBERS[m])
            .and_then(Value::as_str)
            .and_then(|s| b64url_decode(s).ok())
    };
    match mutation {
        Mutation::Remove(m) => {
            jwk.remove(MEMBERS[*m]);
        }
        Mutation::Replace(m, value) => {
            jwk.insert(MEMBERS[*m].to_owned(), value.clone());
        }
        Mutation::FlipBit(m, bit) => {
            if let Some(mut bytes) = bytes_of(jwk, *m).filter(|b| !b.is_empty()) {
                let bit = bit % (bytes.len() * 8);
                bytes[bit / 8] ^= 1 << (bit % 8);
                jwk.insert(MEMBERS[*m].to_owned(), b64url_encode(&bytes).into());
            }
        }
        Mutation::Truncate(m, n) => {
            if let Some(bytes) = bytes_of(jwk, *m) {
                let n = n % (bytes.len() + 1);
                jwk.insert(MEMBERS[*m].to_owned(), b64url_encode(&bytes[..n]).into());
            }
        }
        Mutation::LeadingZeros(m, n) => {
            if let Some(bytes) = bytes_of(jwk, *m) {
                let mut padded = vec![0u8; *n];
                padded.extend_from_slice(&bytes);
                jwk.insert(MEMBERS[*m].to_owned(), b64url_encode(&padded).into());
            }
        }
        Mutation::Swap(a, b) => {
            let va = jwk.remove(MEMBERS[*a]);
            let vb = jwk.remove(MEMBERS[*b]);
            if let Some(v) = va {
                jwk.insert(MEMBERS[*b].to_owned(), v);
            }
            if let Some(v) = vb {
                jwk.insert(MEMBERS[*a].to_owned(), v);
            }
        }
    }
}

proptest! {
    #![proptest_config(common::config(256))]

    #[test]
    fn arbitrary_json_never_panics(value in common::any_json()) {
        import_json(&value)?;
    }

    #[test]
    fn arbitrary_member_values_never_panic(
        values in proptest::collection::vec(proptest::option::of(member_value()), MEMBERS.len()),
    ) {
        let object: Map<String, Value> = MEMBERS
            .iter()
            .zip(values)
            .filter_map(|(name, v)| v.map(|v| ((*name).to_owned(), v)))
            .collect();
        import_json(&Value::Object(object))?;
    }

    #[test]
    fn mutated_real_keys_never_panic(
        which in 0usize..2,
        mutations in proptest::collection::vec(mutation(), 1..4),
    ) {
        let mut jwk = real_keys()[which].clone();
        for m in &mutations {
            apply(&mut jwk, m);
        }
        import_json(&Value::Object(jwk))?;
    }

    /// A changed bit in the modulus or a prime makes an inconsistent private key: refused.
    #[test]
    fn a_flipped_bit_in_n_p_or_q_is_refused(
        which in 0usize..2,
        member in prop_oneof![Just("n"), Just("p"), Just("q")],
        bit in any::<usize>(),
    ) {
        let mut jwk = real_keys()[which].clone();
        let index = MEMBERS.iter().position(|m| *m == member).unwrap();
        apply(&mut jwk, &Mutation::FlipBit(index, bit));
        let jwk: Jwk = serde_json::from_value(Value::Object(jwk)).unwrap();
        prop_assert!(RsaPrivateKey::from_jwk(&jwk).is_err());
    }

    /// Symmetric JWKs: only a 32-byte `k` with a `kid` and `kty` `oct` is a key.
    #[test]
    fn symmetric_jwks_need_32_bytes(
        k in proptest::collection::vec(any::<u8>(), 0..80),
        kid in proptest::option::of("[a-z2-7]{0,26}"),
        kty in prop_oneof![Just("oct".to_owned()), "[A-Za-z]{0,4}"],
    ) {
        let mut jwk = Jwk::default();
        jwk.kty = kty.clone();
        jwk.kid = kid.clone();
        jwk.k = Some(b64url_encode(&k));
        let result = SymmetricKey::from_jwk(&jwk);
        prop_assert_eq!(result.is_ok(), k.len() == 32 && kid.is_some() && kty == "oct");
        if let Err(err) = result {
            prop_assert!(matches!(err, CryptoError::Jwk(_)), "{err:?}");
        }
    }
}

/// The real keys import, so the mutations above start from keys that work.
#[test]
fn the_real_keys_import() {
    for key in real_keys() {
        let jwk: Jwk = serde_json::from_value(Value::Object(key.clone())).unwrap();
        let private = RsaPrivateKey::from_jwk(&jwk).unwrap();
        let wrapped = private.public_key().encrypt(b"x").unwrap();
        assert_eq!(&*private.decrypt(&wrapped).unwrap(), b"x");
    }
}

/// Moduli of absurd sizes (empty, one byte, 1024 bits, 16384 bits, a megabyte) are refused
/// with a typed error, quickly, before any key is built from them.
#[test]
fn absurd_modulus_sizes_are_refused() {
    let real: Jwk = serde_json::from_value(Value::Object(real_keys()[0].clone())).unwrap();
    for size in [1usize, 2, 128, 2048, 1 << 20] {
        let mut n = vec![0xc5u8; size];
        n[size - 1] |= 1;
        let mut public = Jwk::default();
        public.kty = "RSA".into();
        public.kid = Some("k".into());
        public.e = Some("AQAB".into());
        public.n = Some(b64url_encode(&n));
        let started = Instant::now();
        let err = RsaPublicKey::from_jwk(&public).unwrap_err();
        assert!(matches!(err, CryptoError::Jwk(_)), "{size}: {err:?}");
        let mut private = real.clone();
        private.n = public.n.clone();
        assert!(matches!(
            RsaPrivateKey::from_jwk(&private),
            Err(CryptoError::Jwk(_))
        ));
        assert!(started.elapsed() < Duration::from_secs(2), "{size}");
    }
    let mut empty = real.clone();
    empty.n = Some(String::new());
    assert!(RsaPublicKey::from_jwk(&empty).is_err());
}

/// Public exponents that are huge or tiny are refused, not computed with.
#[test]
fn absurd_exponents_are_refused() {
    let real: Jwk = serde_json::from_value(Value::Object(real_keys()[0].clone())).unwrap();
    for e in [vec![1u8], vec![2], vec![0xff; 512], vec![0x01; 1 << 16]] {
        let mut jwk = real.clone();
        jwk.e = Some(b64url_encode(&e));
        let started = Instant::now();
        assert!(RsaPublicKey::from_jwk(&jwk).is_err(), "{}", e.len());
        assert!(RsaPrivateKey::from_jwk(&jwk).is_err(), "{}", e.len());
        assert!(started.elapsed() < Duration::from_secs(2));
    }
}

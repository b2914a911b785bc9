//! Service-account tokens (`ops_…`, docs/protocol.md 3.8 and "Observed from 1Password's own
//! client"): what they carry, and how they are read.
//!
//! A token is `ops_` followed by base64url (with or without `=` padding) of a JSON object:
//!
//! ```text
//! {signInAddress, userAuth{method, alg, iterations, salt}, email, srpX (64 hex digits),
//!  muk (JWK: alg A256GCM, k, kty oct, kid "mp", ...), secretKey,
//!  throttleSecret{seed (64 hex digits), uuid}, deviceUuid}
//! ```
//!
//! Signing in with it skips 2SKD: `srpX` is SRP's `x` and `muk` the Account Unlock Key; the
//! rest of the sign-in is the password sign-in's, step for step ([`crate::auth`]).
//!
//! [`ServiceAccountToken`] is a secret: its key material is zeroized on drop, it has no
//! `Display`, its `Debug` shows only the sign-in address and email, and no error of
//! [`ServiceAccountToken::parse`] quotes the token or any part of it.

use std::fmt;

use opadmin_crypto::encoding::{b64url_decode, hex_decode};
use opadmin_crypto::envelope::SymmetricKey;
use opadmin_crypto::jwk::Jwk;
use opadmin_crypto::kdf::{KdfAlgorithm, KdfParams, SRP_METHOD};
use opadmin_crypto::secret::SecretBytes32;
use opadmin_crypto::secret_key::SecretKey;
use serde_json::{Map, Value};
use zeroize::{Zeroize, Zeroizing};

use crate::error::{ApiError, Result};

/// The prefix of every service-account token.
pub const TOKEN_PREFIX: &str = "ops_";

/// A parsed service-account token. Zeroized on drop; `Debug` redacts everything but the sign-in
/// address and the email.
#[derive(Clone)]
pub struct ServiceAccountToken {
    sign_in_address: String,
    email: String,
    method: String,
    params: KdfParams,
    srp_x: SecretBytes32,
    muk: SymmetricKey,
    secret_key: SecretKey,
    throttle_seed: SecretBytes32,
    throttle_uuid: String,
    device_uuid: String,
}

impl fmt::Debug for ServiceAccountToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceAccountToken")
            .field("sign_in_address", &self.sign_in_address)
            .field("email", &self.email)
            .finish_non_exhaustive()
    }
}

impl Drop for ServiceAccountToken {
    fn drop(&mut self) {
        self.params.salt.zeroize();
        self.throttle_uuid.zeroize();
        self.device_uuid.zeroize();
    }
}

fn malformed(reason: impl Into<String>) -> ApiError {
    ApiError::MalformedServiceAccountToken {
        reason: reason.into(),
    }
}

/// A text field of `object`. `name` is always one of this module's literals, so no reason
/// built from it can quote the token.
fn text<'a>(object: &'a Map<String, Value>, name: &'static str) -> Result<&'a str> {
    object
        .get(name)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| malformed(format!("the field {name} is missing or not text")))
}

fn object<'a>(value: &'a Value, name: &'static str) -> Result<&'a Map<String, Value>> {
    value
        .get(name)
        .and_then(Value::as_object)
        .ok_or_else(|| malformed(format!("the field {name} is missing or not an object")))
}

/// 64 hex digits as 32 bytes.
fn hex32(value: &str, name: &'static str) -> Result<SecretBytes32> {
    let wrong = || malformed(format!("the field {name} is not 64 hex digits"));
    if value.len() != 64 || !value.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(wrong());
    }
    let bytes = Zeroizing::new(hex_decode(value).map_err(|_| wrong())?);
    let array: [u8; 32] = bytes.as_slice().try_into().map_err(|_| wrong())?;
    Ok(SecretBytes32::new(array))
}

/// Blanks every string of a JSON value (the parsed token), so that no copy of the key material
/// outlives parsing.
fn scrub(value: &mut Value) {
    match value {
        Value::String(s) => s.zeroize(),
        Value::Array(items) => items.iter_mut().for_each(scrub),
        Value::Object(map) => map.values_mut().for_each(scrub),
        _ => {}
    }
}

impl ServiceAccountToken {
    /// Reads a token: the `ops_` prefix, base64url with or without padding, JSON, and every
    /// field checked (lengths, encodings, the `muk` JWK). Surrounding whitespace is ignored.
    ///
    /// # Errors
    ///
    /// [`ApiError::MalformedServiceAccountToken`], whose reason names what is wrong and never
    /// quotes the token.
    pub fn parse(token: &str) -> Result<Self> {
        let token = token.trim();
        let body = token
            .strip_prefix(TOKEN_PREFIX)
            .ok_or_else(|| malformed("it does not start with ops_"))?;
        if body.is_empty() {
            return Err(malformed("nothing follows ops_"));
        }
        let bytes = Zeroizing::new(
            b64url_decode(body).map_err(|_| malformed("the part after ops_ is not base64url"))?,
        );
        let mut value: Value = serde_json::from_slice(&bytes)
            .map_err(|_| malformed("the part after ops_ does not decode to JSON"))?;
        let parsed = Self::from_json(&value);
        scrub(&mut value);
        parsed
    }

    fn from_json(value: &Value) -> Result<Self> {
        let top = value
            .as_object()
            .ok_or_else(|| malformed("the decoded token is not a JSON object"))?;
        let sign_in_address = text(top, "signInAddress")?;
        if sign_in_address.len() > 255 || sign_in_address.chars().any(char::is_whitespace) {
            return Err(malformed("the field signInAddress is not a host name"));
        }
        let user_auth = object(value, "userAuth")?;
        let method = text(user_auth, "method")?;
        if method != SRP_METHOD {
            return Err(malformed(format!(
                "userAuth.method is not {SRP_METHOD}, the only SRP group supported"
            )));
        }
        let alg = KdfAlgorithm::parse(text(user_auth, "alg")?)
            .map_err(|_| malformed("userAuth.alg is not a supported key-derivation algorithm"))?;
        let iterations = user_auth
            .get("iterations")
            .and_then(Value::as_u64)
            .and_then(|n| u32::try_from(n).ok())
            .filter(|n| *n > 0)
            .ok_or_else(|| malformed("userAuth.iterations is not a positive whole number"))?;
        let salt = b64url_decode(text(user_auth, "salt")?)
            .ok()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| malformed("userAuth.salt is not base64url"))?;
        let email = text(top, "email")?;
        if !email.contains('@') || email.chars().any(char::is_whitespace) {
            return Err(malformed("the field email is not an email address"));
        }
        let srp_x = hex32(text(top, "srpX")?, "srpX")?;
        let muk = Self::parse_muk(object(value, "muk")?)?;
        let secret_key = SecretKey::parse(text(top, "secretKey")?)
            .map_err(|_| malformed("the field secretKey is not a Secret Key"))?;
        let throttle = object(value, "throttleSecret")?;
        let throttle_seed = hex32(text(throttle, "seed")?, "throttleSecret.seed")?;
        let throttle_uuid = text(throttle, "uuid")?.to_owned();
        let device_uuid = text(top, "deviceUuid")?;
        if device_uuid.len() != 26
            || !device_uuid
                .bytes()
                .all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b))
        {
            return Err(malformed(
                "the field deviceUuid is not 26 lower-case base32 characters",
            ));
        }
        Ok(Self {
            sign_in_address: sign_in_address.to_owned(),
            email: email.trim().to_owned(),
            method: method.to_owned(),
            params: KdfParams {
                alg,
                salt,
                iterations,
            },
            srp_x,
            muk,
            secret_key,
            throttle_seed,
            throttle_uuid,
            device_uuid: device_uuid.to_owned(),
        })
    }

    /// The `muk` JWK: `kty` `oct`, `alg` `A256GCM`, `kid` `mp`, a 32-byte `k`.
    fn parse_muk(jwk: &Map<String, Value>) -> Result<SymmetricKey> {
        let is =
            |name: &str, expected: &str| jwk.get(name).and_then(Value::as_str) == Some(expected);
        if !is("kty", "oct") || !is("alg", "A256GCM") || !is("kid", "mp") {
            return Err(malformed(
                "the muk is not an A256GCM key (kty oct, alg A256GCM, kid mp)",
            ));
        }
        let wrong = || malformed("muk.k is not a 32-byte base64url key");
        let k = jwk.get("k").and_then(Value::as_str).ok_or_else(wrong)?;
        let bytes = Zeroizing::new(b64url_decode(k).map_err(|_| wrong())?);
        if bytes.len() != 32 {
            return Err(wrong());
        }
        let mut parsed = Jwk::default();
        parsed.kty = "oct".into();
        parsed.kid = Some("mp".into());
        parsed.k = Some(k.to_owned());
        SymmetricKey::from_jwk(&parsed).map_err(|_| wrong())
    }

    /// The account's sign-in address as the token names it (`my.1password.com`; a bare host
    /// means HTTPS).
    pub fn sign_in_address(&self) -> &str {
        &self.sign_in_address
    }

    /// The service account's email (`…@1passwordserviceaccounts.com`).
    pub fn email(&self) -> &str {
        &self.email
    }

    /// The device the token signs in as (registered to the service account).
    pub fn device_uuid(&self) -> &str {
        &self.device_uuid
    }

    /// The SRP method of `userAuth` (`SRPg-4096`).
    pub fn srp_method(&self) -> &str {
        &self.method
    }

    /// The key-derivation parameters of `userAuth` (informational: nothing is derived).
    pub fn kdf_params(&self) -> &KdfParams {
        &self.params
    }

    /// The Secret Key (its format and id go into `auth/start` and the SRP identity).
    pub fn secret_key(&self) -> &SecretKey {
        &self.secret_key
    }

    /// SRP `x`.
    pub(crate) fn srp_x(&self) -> &SecretBytes32 {
        &self.srp_x
    }

    /// The Account Unlock Key (kid `mp`).
    pub(crate) fn muk(&self) -> &SymmetricKey {
        &self.muk
    }

    /// The throttle secret's uuid (the `kid` of the official client's throttling token).
    pub fn throttle_uuid(&self) -> &str {
        &self.throttle_uuid
    }

    /// The throttle secret's 32-byte seed. Handle with care.
    pub fn throttle_seed(&self) -> &SecretBytes32 {
        &self.throttle_seed
    }
}

impl std::str::FromStr for ServiceAccountToken {
    type Err = ApiError;

    fn from_str(token: &str) -> Result<Self> {
        Self::parse(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opadmin_crypto::encoding::b64url_encode;
    use serde_json::json;

    const SRP_X: &str = "0f6a1c3e9b2d4f8a7c5e3b1d9f0a2c4e6b8d0f1a3c5e7b9d1f3a5c7e9b0d2f4a";
    const SEED: &str = "d2c4b6a8f0e1d3c5b7a9f1e3d5c7b9a1f3e5d7c9b1a3f5e7d9c1b3a5f7e9d1c3";
    const K: &str = "KCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4_QEFCQ0RFRkc";

    fn valid() -> Value {
        json!({
            "signInAddress": "acme-test.1password.com",
            "userAuth": {"method": "SRPg-4096", "alg": "PBES2g-HS256", "iterations": 100000,
                         "salt": "NDgcUtnZgPSefLkd4OUR2A"},
            "email": "qwxkz7tpr4mnb@1passwordserviceaccounts.com",
            "srpX": SRP_X,
            "muk": {"alg": "A256GCM", "ext": true, "k": K, "key_ops": ["encrypt", "decrypt"],
                    "kty": "oct", "kid": "mp"},
            "secretKey": "A3-RTN9SA-DY9445Y5FF96X6E7B5GPFA95R9",
            "throttleSecret": {"seed": SEED, "uuid": "h5pbjtm3yzcfvgx6wdq2nrk4ea"},
            "deviceUuid": "rz64r4uhyvgew672nm4ncaqonq",
        })
    }

    fn encode(v: &Value) -> String {
        format!("ops_{}", b64url_encode(v.to_string().as_bytes()))
    }

    /// Asserts that neither the error's message nor its `Debug` quotes the token.
    fn assert_quotes_nothing(token: &str, error: &ApiError) {
        assert!(
            matches!(error, ApiError::MalformedServiceAccountToken { .. }),
            "{error:?}"
        );
        let shown = format!("{error} {error:?}");
        let chars: Vec<char> = token.chars().collect();
        for window in chars.windows(8) {
            let part: String = window.iter().collect();
            assert!(!shown.contains(&part), "{shown:?} quotes {part:?}");
        }
        for secret in [
            SRP_X,
            SEED,
            K,
            "RTN9SA",
            "DY9445",
            "NDgcUtnZ",
            "qwxkz7tpr4mnb",
            "rz64r4uh",
            "h5pbjtm3",
            "acme-test",
        ] {
            assert!(!shown.contains(secret), "{shown:?} quotes {secret:?}");
        }
    }

    #[test]
    fn a_valid_token_parses_with_or_without_padding() {
        let token = encode(&valid());
        let parsed = ServiceAccountToken::parse(&token).unwrap();
        assert_eq!(parsed.sign_in_address(), "acme-test.1password.com");
        assert_eq!(parsed.email(), "qwxkz7tpr4mnb@1passwordserviceaccounts.com");
        assert_eq!(parsed.device_uuid(), "rz64r4uhyvgew672nm4ncaqonq");
        assert_eq!(parsed.secret_key().account_id(), "RTN9SA");
        assert_eq!(parsed.kdf_params().iterations, 100_000);
        assert_eq!(parsed.srp_x().expose_secret()[0], 0x0f);
        assert_eq!(parsed.muk().kid(), "mp");
        assert_eq!(parsed.throttle_uuid(), "h5pbjtm3yzcfvgx6wdq2nrk4ea");

        let body = token.strip_prefix("ops_").unwrap();
        let padded = format!("ops_{body}{}", "=".repeat((4 - body.len() % 4) % 4));
        assert!(ServiceAccountToken::parse(&padded).is_ok());
        assert!(ServiceAccountToken::parse(&format!("  {token}\n")).is_ok());
        let via_from_str: ServiceAccountToken = token.parse().unwrap();
        assert_eq!(via_from_str.email(), parsed.email());
    }

    #[test]
    fn debug_shows_no_secret() {
        let token = encode(&valid());
        let parsed = ServiceAccountToken::parse(&token).unwrap();
        let shown = format!("{parsed:?}");
        for secret in [
            SRP_X,
            SEED,
            K,
            "DY9445",
            "NDgcUtnZ",
            "rz64r4uh",
            &token[4..20],
        ] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }

    #[test]
    fn malformed_tokens_are_typed_errors_that_quote_nothing() {
        let good = encode(&valid());
        let body = good.strip_prefix("ops_").unwrap().to_owned();
        let mut cases: Vec<(String, &str)> = vec![
            (format!("opx_{body}"), "ops_"),
            (body.clone(), "ops_"),
            ("ops_".into(), "nothing follows"),
            (format!("ops_{}!*", &body[..40]), "base64url"),
            (
                format!(
                    "ops_{}",
                    b64url_encode(b"{\"signInAddress\": \"acme-test.1password")
                ),
                "JSON",
            ),
            (
                format!("ops_{}", b64url_encode(b"[\"acme-test.1password.com\"]")),
                "object",
            ),
        ];
        let mutate = |f: &dyn Fn(&mut Value)| {
            let mut v = valid();
            f(&mut v);
            encode(&v)
        };
        type Mutation = Box<dyn Fn(&mut Value)>;
        let mutations: Vec<(Mutation, &str)> = vec![
            (
                Box::new(|v| {
                    v.as_object_mut().unwrap().remove("srpX");
                }),
                "srpX",
            ),
            (Box::new(|v| v["srpX"] = json!(&SRP_X[..62])), "srpX"),
            (
                Box::new(|v| v["srpX"] = json!(format!("{}zz", &SRP_X[..62]))),
                "srpX",
            ),
            (Box::new(|v| v["srpX"] = json!(12345)), "srpX"),
            (
                Box::new(|v| {
                    v.as_object_mut().unwrap().remove("muk");
                }),
                "muk",
            ),
            (
                Box::new(|v| v["muk"]["kid"] = json!("acme-test-kid")),
                "muk",
            ),
            (Box::new(|v| v["muk"]["k"] = json!(&K[..20])), "muk.k"),
            (
                Box::new(|v| v["secretKey"] = json!("A3-RTN9SA-DY9445")),
                "secretKey",
            ),
            (
                Box::new(|v| v["throttleSecret"]["seed"] = json!(&SEED[..10])),
                "seed",
            ),
            (
                Box::new(|v| {
                    v["throttleSecret"].as_object_mut().unwrap().remove("uuid");
                }),
                "uuid",
            ),
            (
                Box::new(|v| v["deviceUuid"] = json!("RZ64R4UHYVGEW672NM4NCAQONQ")),
                "deviceUuid",
            ),
            (
                Box::new(|v| v["deviceUuid"] = json!("rz64r4uh")),
                "deviceUuid",
            ),
            (Box::new(|v| v["email"] = json!("qwxkz7tpr4mnb")), "email"),
            (
                Box::new(|v| v["signInAddress"] = json!("acme-test 1password.com")),
                "signInAddress",
            ),
            (
                Box::new(|v| v["userAuth"]["iterations"] = json!(0)),
                "iterations",
            ),
            (
                Box::new(|v| v["userAuth"]["method"] = json!("SRP-acme-test")),
                "method",
            ),
            (
                Box::new(|v| v["userAuth"]["alg"] = json!("acme-test-alg")),
                "alg",
            ),
            (
                Box::new(|v| v["userAuth"]["salt"] = json!("!!acme-test!!")),
                "salt",
            ),
            (Box::new(|v| v["userAuth"] = json!("acme-test")), "userAuth"),
        ];
        for (f, expect) in &mutations {
            cases.push((mutate(f.as_ref()), expect));
        }
        for (token, expect) in cases {
            let error = ServiceAccountToken::parse(&token).expect_err(expect);
            assert!(
                error.to_string().contains(expect),
                "{error} should mention {expect}"
            );
            assert_quotes_nothing(&token, &error);
        }
    }
}

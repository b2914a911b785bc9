//! Reading an answer body with as few copies as its size allows (docs/sync.md, "Memory").
//!
//! The account answer of a 10,000-person account is tens of megabytes of base64 inside one
//! envelope. Read through a `serde_json::Value`, it used to be held five times at once: the raw
//! body, the envelope's `data` as a `Value` string, a clone of that `Value`, the decoded
//! ciphertext, the plaintext, and the plaintext again as a `Value` tree. Here:
//!
//! * the raw body is looked at once, in place ([`Shape`]): its
//!   envelope fields (borrowed from the body, not copied) and whether it carries an
//!   `errorCode`; every other value is skipped, so the whole body is still checked to be JSON;
//! * an envelope's `data` is decoded once and decrypted in place
//!   ([`SymmetricKey::decrypt_raw`](opadmin_crypto::envelope::SymmetricKey::decrypt_raw));
//! * the plaintext is kept as bytes ([`Answer`]) and parsed straight into the caller's type;
//!   a `Value` is built only for callers that ask for one.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeOwned, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use serde_json::value::RawValue;
use zeroize::Zeroizing;

use crate::error::{ApiError, Result};

/// A JSON answer's text: the plaintext of an envelope, or a plain body. Empty for an empty body
/// (read as `null`). Zeroized on drop, as decrypted plaintext is.
pub(crate) struct Answer(Zeroizing<Vec<u8>>);

impl Answer {
    /// An answer from its JSON text (already checked to be JSON, or empty).
    pub(crate) fn new(json: Zeroizing<Vec<u8>>) -> Self {
        Self(json)
    }

    /// The answer as a `serde_json::Value` (`Value::Null` for an empty body).
    pub(crate) fn into_value(self, endpoint: &str) -> Result<Value> {
        self.parse(endpoint)
    }

    /// The answer read straight into `T`; a mismatch is a protocol error naming the endpoint
    /// (with serde's message only when it quotes no value from the answer).
    pub(crate) fn parse<T: DeserializeOwned>(self, endpoint: &str) -> Result<T> {
        let parsed = if self.0.iter().all(u8::is_ascii_whitespace) {
            T::deserialize(Value::Null)
        } else {
            serde_json::from_slice(&self.0)
        };
        parsed.map_err(|e| shape_error(endpoint, &e))
    }

    /// The server error body this answer carries, if it reads as one (`{}` otherwise).
    pub(crate) fn error_body(&self) -> crate::models::ServerErrorBody {
        serde_json::from_slice(&self.0).unwrap_or_default()
    }

    /// Whether the answer is exactly `{"success":1}`.
    pub(crate) fn is_plain_success(&self) -> bool {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct PlainSuccess {
            success: i64,
        }
        serde_json::from_slice::<PlainSuccess>(&self.0).is_ok_and(|s| s.success == 1)
    }
}

impl fmt::Debug for Answer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Answer({} bytes)", self.0.len())
    }
}

/// The protocol error for an answer that does not read as the expected type.
pub(crate) fn shape_error(endpoint: &str, error: &serde_json::Error) -> ApiError {
    let detail = error.to_string();
    // serde quotes values it could not read; an answer's values are never echoed.
    let detail = if detail.contains('"') {
        "a field has an unexpected value".to_owned()
    } else {
        detail
    };
    ApiError::Protocol(format!(
        "the answer to {endpoint} does not have the expected shape ({detail})"
    ))
}

/// What one pass over a JSON body tells, borrowing from it: its envelope fields as raw JSON,
/// and whether it is an object with an `errorCode`. Parsing it checks that the
/// whole body is JSON.
#[derive(Default)]
pub(crate) struct Shape<'a> {
    /// `errorCode` is present (with any value).
    pub(crate) error_code: bool,
    kid: Option<&'a RawValue>,
    enc: Option<&'a RawValue>,
    iv: Option<&'a RawValue>,
    data: Option<&'a RawValue>,
}

/// An envelope's fields as text, borrowed from the body where the JSON has no escapes.
pub(crate) struct EnvelopeText<'a> {
    /// `kid`.
    pub(crate) kid: Cow<'a, str>,
    /// `enc`.
    pub(crate) enc: Cow<'a, str>,
    /// `iv`, when present.
    pub(crate) iv: Option<Cow<'a, str>>,
    /// `data`.
    pub(crate) data: Cow<'a, str>,
}

impl<'a> Shape<'a> {
    /// Reads the shape of a body; `None` when it is not JSON. An empty body (only whitespace)
    /// has the default shape: not an object, no envelope.
    pub(crate) fn of(body: &'a [u8]) -> Option<Self> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Some(Self::default());
        }
        serde_json::from_slice(body).ok()
    }

    /// Whether the body looks like an envelope: an object with `enc`, `kid` and `data`.
    pub(crate) fn is_envelope(&self) -> bool {
        self.kid.is_some() && self.enc.is_some() && self.data.is_some()
    }

    /// The envelope's fields as text; `None` when one of them is not a string.
    pub(crate) fn envelope(&self) -> Option<EnvelopeText<'a>> {
        Some(EnvelopeText {
            kid: text(self.kid?)?,
            enc: text(self.enc?)?,
            iv: match self.iv {
                None => None,
                Some(raw) => Some(text(raw)?),
            },
            data: text(self.data?)?,
        })
    }
}

/// A JSON string's text, borrowed when it has no escapes.
fn text(raw: &RawValue) -> Option<Cow<'_, str>> {
    let json = raw.get();
    match serde_json::from_str::<&str>(json) {
        Ok(borrowed) => Some(Cow::Borrowed(borrowed)),
        Err(_) => serde_json::from_str::<String>(json).ok().map(Cow::Owned),
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Shape<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        deserializer.deserialize_any(ShapeVisitor(std::marker::PhantomData))
    }
}

struct ShapeVisitor<'a>(std::marker::PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for ShapeVisitor<'a> {
    type Value = Shape<'a>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JSON")
    }

    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> std::result::Result<Shape<'a>, M::Error> {
        let mut shape = Shape::default();
        while let Some(key) = map.next_key::<Key<'de>>()? {
            let slot = match key.0.as_ref() {
                "kid" => &mut shape.kid,
                "enc" => &mut shape.enc,
                "iv" => &mut shape.iv,
                "data" => &mut shape.data,
                "errorCode" => {
                    shape.error_code = true;
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            // A repeated key keeps its last value, as a JSON object read into a map would.
            *slot = Some(map.next_value::<&'de RawValue>()?);
        }
        Ok(shape)
    }

    fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> std::result::Result<Shape<'a>, S::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Shape::default())
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> std::result::Result<Shape<'a>, E> {
        Ok(Shape::default())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> std::result::Result<Shape<'a>, E> {
        Ok(Shape::default())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> std::result::Result<Shape<'a>, E> {
        Ok(Shape::default())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> std::result::Result<Shape<'a>, E> {
        Ok(Shape::default())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> std::result::Result<Shape<'a>, E> {
        Ok(Shape::default())
    }
    fn visit_unit<E: de::Error>(self) -> std::result::Result<Shape<'a>, E> {
        Ok(Shape::default())
    }
}

/// An object key, borrowed when it has no escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_borrowed_str<E: de::Error>(
                self,
                v: &'de str,
            ) -> std::result::Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_envelope_is_read_in_place_and_its_data_borrowed() {
        let body =
            br#"{"kid":"s1","enc":"A256GCM","cty":"b5+jwk+json","iv":"aXY","data":"ZGF0YQ"}"#;
        let shape = Shape::of(body).unwrap();
        assert!(shape.is_envelope() && !shape.error_code);
        let text = shape.envelope().unwrap();
        assert!(matches!(text.data, Cow::Borrowed("ZGF0YQ")));
        assert_eq!(text.kid, "s1");
        assert_eq!(text.iv.as_deref(), Some("aXY"));
    }

    #[test]
    fn escaped_fields_are_read_as_owned_text_and_non_strings_are_no_envelope() {
        let shape = Shape::of(br#"{"kid":"s\u0031","enc":"A256GCM","data":"x"}"#).unwrap();
        assert_eq!(shape.envelope().unwrap().kid, "s1");
        let shape = Shape::of(br#"{"kid":1,"enc":"A256GCM","data":"x"}"#).unwrap();
        assert!(shape.is_envelope());
        assert!(shape.envelope().is_none());
    }

    #[test]
    fn shapes_of_other_json() {
        assert!(
            !Shape::of(b"[1,2,{\"kid\":1,\"enc\":1,\"data\":1}]")
                .unwrap()
                .is_envelope()
        );
        assert!(!Shape::of(b"  ").unwrap().is_envelope());
        assert!(!Shape::of(b"null").unwrap().is_envelope());
        let error = Shape::of(br#"{"errorCode":102,"errorMessage":"x"}"#).unwrap();
        assert!(error.error_code && !error.is_envelope());
        assert!(Shape::of(br#"{"users":[]}"#).is_some_and(|s| !s.error_code));
        // A nested errorCode is not the answer's.
        assert!(!Shape::of(br#"{"a":{"errorCode":1}}"#).unwrap().error_code);
    }

    #[test]
    fn not_json_has_no_shape() {
        for body in [
            &b"{"[..],
            b"{\"a\":1} trailing",
            b"<html>",
            b"{\"a\":1,}",
            b"\xff",
        ] {
            assert!(Shape::of(body).is_none(), "{body:?}");
        }
    }

    #[test]
    fn answers_parse_straight_into_types_and_never_quote_values() {
        let answer = Answer::new(Zeroizing::new(br#"{"success":1}"#.to_vec()));
        assert!(answer.is_plain_success());
        assert!(
            !Answer::new(Zeroizing::new(br#"{"success":1,"x":2}"#.to_vec())).is_plain_success()
        );
        let empty = Answer::new(Zeroizing::new(Vec::new()));
        assert_eq!(empty.into_value("x").unwrap(), Value::Null);
        let wrong = Answer::new(Zeroizing::new(br#"{"n":"secret-value"}"#.to_vec()));
        #[derive(Debug, Deserialize)]
        struct N {
            #[allow(dead_code)]
            n: u32,
        }
        let error = wrong.parse::<N>("an endpoint").unwrap_err().to_string();
        assert!(
            error.contains("an endpoint") && !error.contains("secret-value"),
            "{error}"
        );
    }
}

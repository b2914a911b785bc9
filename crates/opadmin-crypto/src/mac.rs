//! The request MAC, header `X-AgileBits-MAC: v1|{requestID}|{mac}` (docs/protocol.md 3.5).
//!
//! `macKey = HMAC-SHA256(session key, "He never wears a Mac, in the pouring rain. Very strange.")`;
//! message `sessionID|METHOD|host/path?query|v1|requestID` (host without port, path without its
//! leading `/`, query still percent-encoded, `?` always present); the header carries the first 12
//! bytes of `HMAC-SHA256(macKey, message)` in base64url.

use std::fmt;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::encoding::b64url_encode;
use crate::error::{CryptoError, Result};

/// The constant that keys the MAC key derivation.
const MAC_KEY_DATA: &[u8] = b"He never wears a Mac, in the pouring rain. Very strange.";

/// Name of the header.
pub const HEADER: &str = "X-AgileBits-MAC";

/// The per-session MAC key. Zeroized on drop; `Debug` redacts.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct MacKey([u8; 32]);

impl MacKey {
    /// Derives the MAC key from the raw 32-byte session key (done once per session).
    pub fn derive(session_key: &[u8; 32]) -> Self {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(session_key)
            .expect("HMAC accepts keys of any length");
        mac.update(MAC_KEY_DATA);
        Self(mac.finalize().into_bytes().into())
    }

    /// The key bytes. Handle with care.
    pub fn expose_secret(&self) -> &[u8; 32] {
        &self.0
    }

    /// Builds the header value for a request.
    pub fn sign(
        &self,
        session_id: &str,
        method: &str,
        url: &str,
        request_id: u64,
    ) -> Result<String> {
        let tag = self.tag(session_id, method, url, request_id)?;
        Ok(format!("v1|{request_id}|{}", b64url_encode(&tag)))
    }

    /// Verifies a header value received with a request, in constant time; returns the request
    /// id it carries so the caller can check it against replays.
    pub fn verify(&self, header: &str, session_id: &str, method: &str, url: &str) -> Result<u64> {
        let mut parts = header.splitn(3, '|');
        let (Some("v1"), Some(id), Some(mac)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(CryptoError::Mac);
        };
        // Only the canonical decimal form is the header that was signed: `u64::from_str` also
        // reads `+42` and `042`, which must not verify as request 42.
        let request_id: u64 = id.parse().map_err(|_| CryptoError::Mac)?;
        if request_id.to_string() != id {
            return Err(CryptoError::Mac);
        }
        let expected = b64url_encode(&self.tag(session_id, method, url, request_id)?);
        if bool::from(expected.as_bytes().ct_eq(mac.as_bytes())) {
            Ok(request_id)
        } else {
            Err(CryptoError::Mac)
        }
    }

    fn tag(&self, session_id: &str, method: &str, url: &str, request_id: u64) -> Result<[u8; 12]> {
        let message = mac_message(session_id, method, url, request_id)?;
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0)
            .expect("HMAC accepts keys of any length");
        mac.update(message.as_bytes());
        let full = mac.finalize().into_bytes();
        let mut tag = [0u8; 12];
        tag.copy_from_slice(&full[..12]);
        Ok(tag)
    }
}

impl fmt::Debug for MacKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MacKey(<redacted>)")
    }
}

/// The message that is MAC'd: `sessionID|METHOD|host/path?query|v1|requestID`.
///
/// `url` is an absolute URL (`https://host:port/api/...?...`) or, as a server sees it, a
/// `host:port/path?query` string; either way the port is dropped and the query kept as sent.
pub fn mac_message(session_id: &str, method: &str, url: &str, request_id: u64) -> Result<String> {
    let rest = match url.find("://") {
        Some(i) => &url[i + 3..],
        None => url,
    };
    let (authority, path_and_query) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, ""),
    };
    if authority.is_empty() {
        return Err(CryptoError::Url("no host".into()));
    }
    // Drop user info and port; keep bracketed IPv6 hosts whole.
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    let host = if authority.starts_with('[') {
        authority
            .split(']')
            .next()
            .map(|h| format!("{h}]"))
            .unwrap_or_default()
    } else {
        authority.split(':').next().unwrap_or(authority).to_owned()
    };
    let (path, query) = match path_and_query.split_once('?') {
        Some((p, q)) => (p, q),
        None => (path_and_query, ""),
    };
    let path = path.split('#').next().unwrap_or(path);
    let query = query.split('#').next().unwrap_or(query);
    Ok(format!(
        "{session_id}|{}|{host}/{path}?{query}|v1|{request_id}",
        method.to_ascii_uppercase()
    ))
}

/// How far request ids may run ahead of the highest seen, and how far below it one may still
/// arrive out of order (docs/decisions.md, decision 2).
pub const REQUEST_ID_WINDOW: u64 = 64;

/// The server half of the request-id rule: every signed request of a session carries a new id,
/// at most [`REQUEST_ID_WINDOW`] above the highest seen; ids may arrive out of order within the
/// window below it; a repeat, a zero, or an id outside the window is refused (a replay).
///
/// The first id of a session may be anything: 1Password's own SDK starts at a random value
/// (observed: 10732530), not at 1. Memory is bounded: at most [`REQUEST_ID_WINDOW`] ids are kept.
#[derive(Debug, Clone, Default)]
pub struct RequestIdWindow {
    highest: u64,
    seen: std::collections::BTreeSet<u64>,
}

impl RequestIdWindow {
    /// An empty window (no id seen yet).
    pub fn new() -> Self {
        Self::default()
    }

    /// Accepts `id` and records it, or refuses it as a replay or out of the window.
    pub fn accept(&mut self, id: u64) -> bool {
        if self.highest == 0 && self.seen.is_empty() && id > 0 {
            self.highest = id - 1;
        }
        let low = self.highest.saturating_sub(REQUEST_ID_WINDOW);
        // Saturating: a client may send ids up to u64::MAX; the window then ends there.
        let high = self.highest.saturating_add(REQUEST_ID_WINDOW);
        if id == 0 || id <= low || id > high || self.seen.contains(&id) {
            return false;
        }
        self.seen.insert(id);
        self.highest = self.highest.max(id);
        let floor = self.highest.saturating_sub(REQUEST_ID_WINDOW);
        self.seen = self.seen.split_off(&floor);
        true
    }

    /// The highest id accepted so far (0 before the first).
    pub fn highest(&self) -> u64 {
        self.highest
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn request_ids_replays_and_window() {
        let mut w = RequestIdWindow::new();
        assert!(w.accept(1));
        assert!(!w.accept(1), "replay");
        assert!(w.accept(3));
        assert!(w.accept(2), "out of order within the window");
        assert!(!w.accept(0));
        assert!(!w.accept(3 + REQUEST_ID_WINDOW + 1), "too far ahead");
        assert!(w.accept(60));
        assert!(w.accept(120));
        assert!(!w.accept(60), "replay");
        assert!(!w.accept(50), "below the window");
        assert_eq!(w.highest(), 120);
    }

    #[test]
    fn request_ids_near_the_top_do_not_overflow() {
        let mut w = RequestIdWindow::new();
        assert!(w.accept(u64::MAX), "a first id may be anything");
        assert!(!w.accept(u64::MAX), "replay");
        assert!(w.accept(u64::MAX - 1), "within the window below");
        let mut w = RequestIdWindow::new();
        assert!(w.accept(u64::MAX - 10));
        assert!(w.accept(u64::MAX));
        assert!(!w.accept(u64::MAX));
        assert!(!w.accept(u64::MAX - REQUEST_ID_WINDOW - 5));
    }

    #[test]
    fn the_window_keeps_at_most_its_width_of_ids() {
        let mut w = RequestIdWindow::new();
        for id in 1..10_000 {
            assert!(w.accept(id));
        }
        assert!(w.seen.len() as u64 <= REQUEST_ID_WINDOW + 1);
    }

    #[test]
    fn message_drops_port_and_keeps_encoding() {
        let m = mac_message(
            "S",
            "get",
            "https://h.example:3000/api/v1/vaults?a=b%2Cc",
            7,
        )
        .unwrap();
        assert_eq!(m, "S|GET|h.example/api/v1/vaults?a=b%2Cc|v1|7");
        let m = mac_message(
            "S",
            "POST",
            "https://my.1password.com/api/v1/auth/verify",
            1,
        )
        .unwrap();
        assert_eq!(m, "S|POST|my.1password.com/api/v1/auth/verify?|v1|1");
        assert!(mac_message("S", "GET", "https:///x", 1).is_err());
    }

    #[test]
    fn verify_rejects_wrong_and_malformed_headers() {
        let key = MacKey::derive(&[7u8; 32]);
        let url = "https://h/api/v1/x";
        let h = key.sign("S", "GET", url, 5).unwrap();
        assert_eq!(key.verify(&h, "S", "GET", url), Ok(5));
        assert_eq!(key.verify(&h, "S", "PUT", url), Err(CryptoError::Mac));
        assert_eq!(key.verify(&h, "T", "GET", url), Err(CryptoError::Mac));
        assert_eq!(
            key.verify(&h.replace("|5|", "|6|"), "S", "GET", url),
            Err(CryptoError::Mac)
        );
        for bad in ["", "v2|5|abc", "v1|x|abc", "v1|5"] {
            assert_eq!(key.verify(bad, "S", "GET", url), Err(CryptoError::Mac));
        }
        assert_eq!(format!("{key:?}"), "MacKey(<redacted>)");
    }

    proptest! {
        #[test]
        fn sign_then_verify(key in any::<[u8; 32]>(), id in any::<u64>(), path in "[a-z/]{0,20}", q in "[a-z=&%0-9]{0,20}") {
            let k = MacKey::derive(&key);
            let url = format!("https://example.com:8443/api/{path}?{q}");
            let h = k.sign("SESSION", "PATCH", &url, id).unwrap();
            prop_assert_eq!(k.verify(&h, "SESSION", "patch", &url), Ok(id));
        }
    }
}

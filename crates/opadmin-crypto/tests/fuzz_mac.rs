//! Property tests of the request MAC header `v1|{requestID}|{mac}`: arbitrary header strings
//! and URLs never panic; any header other than the exact one signed is refused.

mod common;

use opadmin_crypto::CryptoError;
use opadmin_crypto::mac::{MacKey, mac_message};
use proptest::prelude::*;

const URL: &str = "https://acme.1password.com/api/v1/vault/abc/items?attrs=x%2Cy";

fn key() -> MacKey {
    MacKey::derive(&[9; 32])
}

/// URLs as they come: well formed, or not at all.
fn url() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[a-z]{0,5}://[a-z.:@\\[\\]0-9]{0,20}(/[a-z%0-9?#=&/]{0,20})?",
        "[:/@\\[\\]?#a-z]{0,16}",
    ]
}

proptest! {
    #![proptest_config(common::config(256))]

    #[test]
    fn arbitrary_headers_never_panic_and_are_refused(header in any::<String>(), url in url()) {
        prop_assert_eq!(key().verify(&header, "SESSION", "GET", &url), Err(CryptoError::Mac));
    }

    /// Headers shaped like real ones but not signed are refused.
    #[test]
    fn well_shaped_forgeries_are_refused(
        id in "[0-9+-]{0,22}",
        tag in "[A-Za-z0-9_-]{0,20}",
        version in prop_oneof![Just("v1"), Just("v2"), Just("V1"), Just("")],
    ) {
        let header = format!("{version}|{id}|{tag}");
        prop_assert_eq!(key().verify(&header, "SESSION", "GET", URL), Err(CryptoError::Mac));
    }

    #[test]
    fn arbitrary_urls_never_panic(url in url(), method in any::<String>(), id in any::<u64>()) {
        if mac_message("S", &method, &url, id).is_ok() {
            let header = key().sign("S", &method, &url, id).unwrap();
            prop_assert_eq!(key().verify(&header, "S", &method, &url), Ok(id));
        } else {
            prop_assert!(matches!(key().sign("S", &method, &url, id), Err(CryptoError::Url(_))));
        }
    }

    /// One edit anywhere in a signed header (a character replaced, removed or added) makes a
    /// different header, and every different header is refused: the request id must be written
    /// exactly as signed, not just parse to the same number.
    #[test]
    fn any_edit_of_a_signed_header_is_refused(
        id in any::<u64>(),
        at in any::<usize>(),
        edit in 0u8..3,
        c in prop_oneof![proptest::char::range('0', '9'), Just('+'), Just('|'), Just(' '), Just('A'), Just('='), any::<char>()],
    ) {
        let key = key();
        let header = key.sign("SESSION", "POST", URL, id).unwrap();
        let mut chars: Vec<char> = header.chars().collect();
        let at = at % (chars.len() + 1);
        match edit {
            0 if at < chars.len() => chars[at] = c,
            1 if at < chars.len() => { chars.remove(at); }
            _ => chars.insert(at, c),
        }
        let edited: String = chars.into_iter().collect();
        prop_assume!(edited != header);
        prop_assert_eq!(key.verify(&edited, "SESSION", "POST", URL), Err(CryptoError::Mac), "{}", edited);
    }
}

/// Regression: a request id written with a `+` sign or leading zeros parsed to the signed
/// number, so such a header verified although it is not the header that was signed.
#[test]
fn a_non_canonical_request_id_is_refused() {
    let key = key();
    let header = key.sign("SESSION", "GET", URL, 42).unwrap();
    assert_eq!(key.verify(&header, "SESSION", "GET", URL), Ok(42));
    for variant in [
        header.replacen("|42|", "|+42|", 1),
        header.replacen("|42|", "|042|", 1),
        header.replacen("|42|", "|0042|", 1),
        header.replacen("|42|", "| 42|", 1),
    ] {
        assert_eq!(
            key.verify(&variant, "SESSION", "GET", URL),
            Err(CryptoError::Mac),
            "{variant}"
        );
    }
    let zero = key.sign("SESSION", "GET", URL, 0).unwrap();
    assert_eq!(key.verify(&zero, "SESSION", "GET", URL), Ok(0));
    assert_eq!(
        key.verify(&zero.replacen("|0|", "|00|", 1), "SESSION", "GET", URL),
        Err(CryptoError::Mac)
    );
}

/// A megabyte of header is refused without trouble.
#[test]
fn huge_headers_are_refused() {
    let huge = format!("v1|1|{}", "A".repeat(1 << 20));
    assert_eq!(key().verify(&huge, "S", "GET", URL), Err(CryptoError::Mac));
    let huge_id = format!("v1|{}|AAAA", "9".repeat(1 << 20));
    assert_eq!(
        key().verify(&huge_id, "S", "GET", URL),
        Err(CryptoError::Mac)
    );
}

//! Property tests of the keyset chain: hostile keyset lists (cycles in `encryptedBy`, missing
//! parents, duplicates, thousands of entries, wrong `enc`) give a keyring or a typed error,
//! never a panic or an endless loop. Built on the real keysets answer of the fixture account,
//! which opens with the Account Unlock Key of the published test vectors.

mod common;

use std::collections::HashSet;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use opadmin_crypto::CryptoError;
use opadmin_crypto::encoding::hex_decode;
use opadmin_crypto::envelope::SymmetricKey;
use opadmin_crypto::keyset::{Keyring, KeysetCiphertext};
use proptest::prelude::*;

/// The AUK (kid `mp`) that opens the fixture account's primary keyset (from the test vectors).
const AUK_HEX: &str = "44c38e8fedb84a1ab5ba74ed98dde931f6500ae39c1d9c85e20a7268ab2074f0";

fn auk() -> SymmetricKey {
    let bytes = hex_decode(AUK_HEX).unwrap();
    SymmetricKey::new("mp", bytes.try_into().unwrap())
}

/// The five keysets of the fixture: the primary (encrypted by `mp`) and four group keysets
/// wrapped to it, one of them twice.
fn real() -> &'static [KeysetCiphertext] {
    static KEYSETS: OnceLock<Vec<KeysetCiphertext>> = OnceLock::new();
    KEYSETS.get_or_init(|| {
        serde_json::from_value(common::fixture("get-keysets-response.json")["keysets"].clone())
            .unwrap()
    })
}

fn primary() -> &'static KeysetCiphertext {
    real().iter().find(|k| k.encrypted_by == "mp").unwrap()
}

fn group() -> &'static KeysetCiphertext {
    real().iter().find(|k| k.encrypted_by != "mp").unwrap()
}

/// What can be done to one entry of a list.
#[derive(Debug, Clone)]
enum Edit {
    /// `encSymKey.kid` names another entry, `mp` or nothing known.
    Parent(Name),
    /// `encryptedBy` changes.
    EncryptedBy(Name),
    /// The uuid changes (a duplicate of another entry, or a stranger).
    Uuid(Name),
    /// `encSymKey.enc` changes.
    Enc(&'static str),
    /// The serial number changes.
    Sn(u64),
}

#[derive(Debug, Clone)]
enum Name {
    /// The uuid of the entry at this index (modulo the list's length).
    Entry(usize),
    Mp,
    Unknown(String),
}

fn name() -> impl Strategy<Value = Name> {
    prop_oneof![
        any::<usize>().prop_map(Name::Entry),
        Just(Name::Mp),
        "[a-z2-7]{0,26}".prop_map(Name::Unknown),
    ]
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        name().prop_map(Edit::Parent),
        name().prop_map(Edit::EncryptedBy),
        name().prop_map(Edit::Uuid),
        prop_oneof![
            Just("A256GCM"),
            Just("RSA-OAEP"),
            Just("RSA-OAEP-256"),
            Just(""),
            Just("none")
        ]
        .prop_map(Edit::Enc),
        prop_oneof![Just(0u64), Just(1), Just(2), Just(u64::MAX)].prop_map(Edit::Sn),
    ]
}

fn resolve(name: &Name, list: &[KeysetCiphertext]) -> String {
    match name {
        Name::Entry(i) => list[i % list.len()].uuid.clone(),
        Name::Mp => "mp".to_owned(),
        Name::Unknown(s) => s.clone(),
    }
}

fn apply(list: &mut [KeysetCiphertext], at: usize, edit: &Edit) {
    if list.is_empty() {
        return;
    }
    let at = at % list.len();
    match edit {
        Edit::Parent(n) => list[at].enc_sym_key.kid = resolve(n, list),
        Edit::EncryptedBy(n) => list[at].encrypted_by = resolve(n, list),
        Edit::Uuid(n) => list[at].uuid = resolve(n, list),
        Edit::Enc(e) => list[at].enc_sym_key.enc = (*e).to_owned(),
        Edit::Sn(sn) => list[at].sn = *sn,
    }
}

/// Unlocks, and checks what any success must satisfy.
fn unlock_checked(
    list: &[KeysetCiphertext],
) -> Result<Result<Keyring, CryptoError>, TestCaseError> {
    let started = Instant::now();
    let result = Keyring::unlock(list, &auk());
    prop_assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    if let Ok(ring) = &result {
        let uuids: HashSet<&str> = list.iter().map(|k| k.uuid.as_str()).collect();
        prop_assert!(ring.len() <= uuids.len());
        let primary = ring.primary().expect("an unlocked ring has a primary");
        let highest = list
            .iter()
            .filter(|k| k.encrypted_by == "mp")
            .map(|k| k.sn)
            .max()
            .unwrap();
        prop_assert!(
            list.iter()
                .any(|k| k.uuid == primary.uuid() && k.sn == highest)
        );
        for uuid in uuids {
            if let Some(keyset) = ring.get(uuid) {
                prop_assert_eq!(keyset.uuid(), uuid);
                prop_assert_eq!(keyset.symmetric_key().kid(), uuid);
            }
        }
    }
    Ok(result)
}

proptest! {
    #![proptest_config(common::config(64))]

    /// The real keysets in any order, with any duplicates, open to the same ring as long as the
    /// primary is there.
    #[test]
    fn any_order_and_duplicates_of_the_real_list_open(
        picks in proptest::collection::vec(0usize..5, 0..12),
    ) {
        let mut list: Vec<KeysetCiphertext> = picks.iter().map(|&i| real()[i].clone()).collect();
        let has_primary = list.iter().any(|k| k.encrypted_by == "mp");
        if !has_primary {
            prop_assert!(Keyring::unlock(&list, &auk()).is_err());
            list.push(primary().clone());
        }
        let distinct: HashSet<&str> = list.iter().map(|k| k.uuid.as_str()).collect();
        let ring = unlock_checked(&list)?.unwrap();
        prop_assert_eq!(ring.len(), distinct.len());
        prop_assert_eq!(ring.primary().unwrap().uuid(), primary().uuid.as_str());
    }

    /// Rewired lists: parents, uuids, `encryptedBy`, `enc` and serial numbers changed at
    /// random, making cycles, orphans, strangers and duplicates.
    #[test]
    fn hostile_lists_never_panic_or_loop(
        picks in proptest::collection::vec(0usize..5, 0..10),
        edits in proptest::collection::vec((any::<usize>(), edit()), 0..8),
    ) {
        let mut list: Vec<KeysetCiphertext> = picks.iter().map(|&i| real()[i].clone()).collect();
        for (at, e) in &edits {
            apply(&mut list, *at, e);
        }
        if let Err(err) = unlock_checked(&list)? {
            let shown = err.to_string();
            prop_assert!(shown.len() < 2048, "{} bytes", shown.len());
        }
    }
}

/// Two keysets that each name the other as their parent: neither can be opened.
#[test]
fn a_cycle_is_an_error() {
    let mut a = group().clone();
    let mut b = group().clone();
    a.uuid = "aaaaaaaaaaaaaaaaaaaaaaaaaa".into();
    b.uuid = "bbbbbbbbbbbbbbbbbbbbbbbbbb".into();
    a.enc_sym_key.kid = b.uuid.clone();
    b.enc_sym_key.kid = a.uuid.clone();
    let mut selfish = group().clone();
    selfish.uuid = "cccccccccccccccccccccccccc".into();
    selfish.enc_sym_key.kid = selfish.uuid.clone();
    let err = Keyring::unlock(&[primary().clone(), a, b, selfish], &auk()).unwrap_err();
    assert!(err.to_string().contains("no open keyset"), "{err}");
}

/// Five thousand keysets chained to one another in a loop that never reaches the primary:
/// refused quickly, with an error of bounded size.
#[test]
fn thousands_of_orphans_are_refused_quickly() {
    let count = 5000;
    let mut list = vec![primary().clone()];
    for i in 0..count {
        let mut k = group().clone();
        k.uuid = format!("orphan{i:020}");
        k.enc_sym_key.kid = format!("orphan{:020}", (i + 1) % count);
        list.push(k);
    }
    let started = Instant::now();
    let err = Keyring::unlock(&list, &auk()).unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(matches!(err, CryptoError::Jwk(_)), "{err:?}");
    assert!(
        err.to_string().len() < 2048,
        "{} bytes",
        err.to_string().len()
    );
}

/// Regression: a keyset listed again after it was opened is skipped, not decrypted again
/// (the fixture itself lists one group keyset twice). Before, every copy cost an RSA
/// decryption and key import, and a damaged later copy failed the whole unlock.
#[test]
fn duplicates_are_opened_once() {
    let mut damaged = group().clone();
    damaged.enc_pri_key.data = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".into();
    let mut list = vec![primary().clone(), group().clone()];
    list.extend(std::iter::repeat_n(damaged, 2000));
    let started = Instant::now();
    let ring = Keyring::unlock(&list, &auk()).unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(ring.len(), 2);
    assert!(ring.contains(&group().uuid));
}

/// A keyset whose parent opens but whose content names another key is refused, as is one
/// whose `enc` does not match how it was wrapped.
#[test]
fn wrong_content_and_wrong_enc_are_errors() {
    let mut renamed = group().clone();
    renamed.uuid = "dddddddddddddddddddddddddd".into();
    let err = Keyring::unlock(&[primary().clone(), renamed], &auk()).unwrap_err();
    assert!(matches!(err, CryptoError::Jwk(_)), "{err:?}");

    for enc in ["A256GCM", "RSA-OAEP-256", "", "none"] {
        let mut wrong = group().clone();
        wrong.enc_sym_key.enc = enc.into();
        assert!(
            Keyring::unlock(&[primary().clone(), wrong], &auk()).is_err(),
            "{enc}"
        );
    }
    let mut no_auk = primary().clone();
    no_auk.encrypted_by = "someone".into();
    assert!(Keyring::unlock(&[no_auk, group().clone()], &auk()).is_err());
    assert!(Keyring::unlock(&[], &auk()).is_err());
}

/// Partial unlocking: the primary keyset opens and every other keyset that does not (damaged,
/// or orphaned by a cycle among thousands) is named once, quickly; the good ones still open.
#[test]
fn partial_unlock_names_each_keyset_that_does_not_open() {
    let mut damaged = group().clone();
    let mid = damaged.enc_sym_key.data.len() / 2;
    let c = if &damaged.enc_sym_key.data[mid..=mid] == "A" {
        "B"
    } else {
        "A"
    };
    damaged.enc_sym_key.data.replace_range(mid..=mid, c);
    damaged.uuid = "dddddddddddddddddddddddddd".into();
    let mut list: Vec<KeysetCiphertext> = real().to_vec();
    list.push(damaged);
    let count = 3000;
    for i in 0..count {
        let mut k = group().clone();
        k.uuid = format!("orphan{i:020}");
        k.enc_sym_key.kid = format!("orphan{:020}", (i + 1) % count);
        list.push(k);
    }
    let started = Instant::now();
    let (ring, failed) = Keyring::unlock_partial(&list, &auk()).expect("the primary opens");
    assert!(started.elapsed() < Duration::from_secs(5));
    let full = Keyring::unlock(real(), &auk()).unwrap();
    assert_eq!(ring.len(), full.len(), "every good keyset still opens");
    let named: HashSet<&str> = failed.iter().map(|(u, _)| u.as_str()).collect();
    assert_eq!(named.len(), failed.len(), "each named once");
    assert_eq!(failed.len(), count + 1);
    assert!(named.contains("dddddddddddddddddddddddddd"));
    assert!(named.contains(format!("orphan{:020}", 17).as_str()));

    // Without an openable primary there is nothing to degrade to.
    let mut bad_primary = primary().clone();
    bad_primary.enc_sym_key.data = group().enc_sym_key.data.clone();
    assert!(Keyring::unlock_partial(&[bad_primary], &auk()).is_err());
}

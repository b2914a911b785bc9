//! The real b5 fixtures (tests/fixtures/b5, MIT) decrypt with opadmin-crypto: the keysets answer
//! opens with the Account Unlock Key of the published vectors, its group keysets open through the
//! primary keyset, and the vault keys and vault attributes of the account answer open with them.

use opadmin_crypto::encoding::hex_encode;
use opadmin_crypto::envelope::{Envelope, SymmetricKey};
use opadmin_crypto::keyset::{Keyring, KeysetCiphertext};
use opadmin_crypto::rsa::RsaPrivateKey;
use serde_json::Value;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/b5");
/// The AUK that opens the fixture account's primary keyset (vectors/keys.json).
const AUK_HEX: &str = "44c38e8fedb84a1ab5ba74ed98dde931f6500ae39c1d9c85e20a7268ab2074f0";

fn fixture(name: &str) -> Value {
    let text = std::fs::read_to_string(format!("{FIXTURES}/{name}")).expect("fixture present");
    // get-keysets-response.json starts with a `// keysets` line, as in its source.
    let json = text
        .trim_start()
        .strip_prefix("//")
        .map(|t| t.split_once('\n').map_or("", |(_, r)| r))
        .unwrap_or(&text);
    serde_json::from_str(json).expect("fixture is JSON")
}

fn auk() -> SymmetricKey {
    let bytes = opadmin_crypto::encoding::hex_decode(AUK_HEX).expect("hex");
    SymmetricKey::new("mp", bytes.try_into().expect("32 bytes"))
}

fn keyring() -> Keyring {
    let keysets: Vec<KeysetCiphertext> =
        serde_json::from_value(fixture("get-keysets-response.json")["keysets"].clone())
            .expect("keysets parse");
    Keyring::unlock(&keysets, &auk()).expect("keysets open")
}

#[test]
fn keysets_fixture_opens_every_keyset() {
    let ring = keyring();
    assert_eq!(
        ring.primary().map(|k| k.uuid()),
        Some("szerdhg2ww2ahjo4ilz57x7cce")
    );
    for uuid in [
        "sm5hkw3mxwdcwcgljf4kyplwea",
        "yf2ji37vkqdow7pnbo3y37b3lu",
        "srkx3r5c3qgyzsdswfc4awgh2m",
    ] {
        assert!(ring.contains(uuid), "group keyset {uuid} opened");
    }
    let sym = ring.primary().expect("primary").symmetric_key();
    assert_eq!(
        hex_encode(sym.expose_secret()),
        "bba932f6032dc4dffaa9b8f03c9fd4b810127b89a49408db7b914a131690c091"
    );
}

#[test]
fn encrypted_aes_key_fixture_opens_with_the_auk() {
    let env = Envelope::from_json(&fixture("encrypted-aes-key.json")).expect("envelope");
    let key = SymmetricKey::from_jwk_json(&auk().decrypt(&env).expect("decrypts")).expect("jwk");
    assert_eq!(key.kid(), "szerdhg2ww2ahjo4ilz57x7cce");
}

#[test]
fn account_vault_keys_and_attributes_open() {
    let ring = keyring();
    let account = fixture("get-account-info-response.json");
    let vaults = account["vaults"].as_array().expect("vaults");
    assert!(!vaults.is_empty());
    for vault in vaults {
        let access = &vault["access"][0];
        let wrapped = Envelope::from_json(&access["encVaultKey"]).expect("encVaultKey");
        assert_eq!(wrapped.enc, "RSA-OAEP");
        let vault_key = ring.unwrap_key(&wrapped).expect("vault key opens");
        if vault["uuid"] == "ru74fjxlkipzzctorwj4icrj2a" {
            assert_eq!(vault_key.kid(), "x4ouqoqyhcnqojrgubso4hsdga");
            assert_eq!(
                hex_encode(vault_key.expose_secret()),
                "ce92c6d1af345c645211ad49692b22338d128d974e3b6718c868e02776c873a9"
            );
        }
        let attrs: Value = vault_key
            .decrypt_json(&Envelope::from_json(&vault["encAttrs"]).expect("encAttrs"))
            .expect("attributes decrypt");
        assert!(
            attrs.get("name").is_some() || attrs.get("type").is_some(),
            "{attrs}"
        );
    }
}

#[test]
fn rsa_key_fixtures_import_and_oaep256_round_trips() {
    let sha1 = RsaPrivateKey::from_jwk_json(fixture("rsa-key.json").to_string().as_bytes())
        .expect("rsa-key.json");
    assert_eq!(sha1.kid(), "szerdhg2ww2ahjo4ilz57x7cce");
    let sha256 =
        RsaPrivateKey::from_jwk_json(fixture("rsa-key-oaep-256.json").to_string().as_bytes())
            .expect("oaep-256");
    let env = sha256
        .public_key()
        .encrypt(b"All your base are belong to us")
        .expect("encrypt");
    assert_eq!(env.enc, "RSA-OAEP-256");
    assert_eq!(
        &*sha256.decrypt(&env).expect("decrypt"),
        b"All your base are belong to us"
    );
}

#[test]
fn tampered_fixture_ciphertext_is_refused() {
    let mut env = Envelope::from_json(&fixture("encrypted-aes-key.json")).expect("envelope");
    let mut data = env.data.into_bytes();
    data[5] = if data[5] == b'A' { b'B' } else { b'A' };
    env.data = String::from_utf8(data).expect("ascii");
    assert!(auk().decrypt(&env).is_err());
}

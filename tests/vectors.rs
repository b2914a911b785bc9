//! The vector runner: every case of `tests/vectors/*.json`, and of `$OPADMIN_EXTRA_VECTORS/*.json`
//! when that variable names a folder, checked against `opadmin-crypto` as
//! `tests/vectors/SCHEMA.md` describes. A mismatch or an unknown `kind` fails; the last line
//! printed is `N passed, N failed`.

use std::path::{Path, PathBuf};

use opadmin_crypto::encoding::{b64url_decode, b64url_encode, hex_decode, hex_encode};
use opadmin_crypto::envelope::{Envelope, SymmetricKey};
use opadmin_crypto::jwk::Jwk;
use opadmin_crypto::kdf::{self, KdfAlgorithm, KdfParams};
use opadmin_crypto::mac::MacKey;
use opadmin_crypto::rsa::RsaPrivateKey;
use opadmin_crypto::secret::SecretBytes32;
use opadmin_crypto::secret_key::SecretKey;
use opadmin_crypto::{mfa, srp};
use serde_json::Value;

type Outcome = Result<(), String>;

fn field<'a>(case: &'a Value, name: &str) -> Result<&'a Value, String> {
    case.get(name)
        .ok_or_else(|| format!("missing field {name:?}"))
}

fn text<'a>(case: &'a Value, name: &str) -> Result<&'a str, String> {
    field(case, name)?
        .as_str()
        .ok_or_else(|| format!("field {name:?} is not a string"))
}

fn number(case: &Value, name: &str) -> Result<u64, String> {
    field(case, name)?
        .as_u64()
        .ok_or_else(|| format!("field {name:?} is not a number"))
}

/// Bytes from `<stem>_utf8`, `<stem>_hex` or `<stem>_b64url`, whichever the case has.
fn bytes(case: &Value, stem: &str) -> Result<Vec<u8>, String> {
    if let Some(v) = case.get(format!("{stem}_utf8")).and_then(Value::as_str) {
        return Ok(v.as_bytes().to_vec());
    }
    if let Some(v) = case.get(format!("{stem}_hex")).and_then(Value::as_str) {
        return hex_decode(v).map_err(|e| e.to_string());
    }
    if let Some(v) = case.get(format!("{stem}_b64url")).and_then(Value::as_str) {
        return b64url_decode(v).map_err(|e| e.to_string());
    }
    Err(format!("missing {stem}_utf8/_hex/_b64url"))
}

fn hex32(case: &Value, name: &str) -> Result<SecretBytes32, String> {
    let raw = hex_decode(text(case, name)?).map_err(|e| e.to_string())?;
    if raw.len() > 32 {
        return Err(format!("{name} longer than 32 bytes"));
    }
    let mut out = [0u8; 32];
    out[32 - raw.len()..].copy_from_slice(&raw);
    Ok(SecretBytes32::new(out))
}

fn key32(bytes: &[u8]) -> Result<[u8; 32], String> {
    bytes
        .try_into()
        .map_err(|_| format!("expected 32 key bytes, got {}", bytes.len()))
}

fn expect_eq(what: &str, got: &str, want: &str) -> Outcome {
    if got.eq_ignore_ascii_case(want) {
        Ok(())
    } else {
        Err(format!("{what}: got {got}, want {want}"))
    }
}

fn want<'a>(case: &'a Value, name: &str) -> Result<&'a str, String> {
    field(case, "expect")?
        .get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("expect.{name} missing"))
}

fn wants_error(case: &Value) -> bool {
    case.get("expect")
        .and_then(|e| e.get("error"))
        .and_then(Value::as_bool)
        == Some(true)
}

fn credentials(
    case: &Value,
) -> Result<
    (
        opadmin_crypto::secret::Password,
        String,
        SecretKey,
        KdfParams,
    ),
    String,
> {
    let sk = SecretKey::parse(text(case, "secret_key")?).map_err(|e| e.to_string())?;
    let params = KdfParams::from_wire(
        text(case, "alg")?,
        text(case, "salt_b64url")?,
        u32::try_from(number(case, "iterations")?).map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.to_string())?;
    Ok((
        text(case, "password")?.into(),
        text(case, "email")?.to_owned(),
        sk,
        params,
    ))
}

fn jwk_outcome(case: &Value, plaintext: &[u8]) -> Outcome {
    let expect = field(case, "expect")?;
    if let Some(p) = expect.get("plaintext_utf8").and_then(Value::as_str) {
        return expect_eq("plaintext", &String::from_utf8_lossy(plaintext), p);
    }
    let key = SymmetricKey::from_jwk_json(plaintext).map_err(|e| e.to_string())?;
    expect_eq("kid", key.kid(), want(case, "kid")?)?;
    expect_eq(
        "key",
        &hex_encode(key.expose_secret()),
        want(case, "key_hex")?,
    )
}

fn run_case(case: &Value) -> Outcome {
    let kind = text(case, "kind")?;
    match kind {
        "secret_key.parse" => match SecretKey::parse(text(case, "input")?) {
            Ok(k) if !wants_error(case) => {
                expect_eq("format", k.format(), want(case, "format")?)?;
                expect_eq("account_id", k.account_id(), want(case, "account_id")?)?;
                expect_eq("secret", k.expose_secret(), want(case, "secret")?)
            }
            Ok(_) => Err("parsed, but an error was expected".into()),
            Err(_) if wants_error(case) => Ok(()),
            Err(e) => Err(e.to_string()),
        },
        "secret_key.hkdf" => {
            let sk = SecretKey::parse(text(case, "secret_key")?).map_err(|e| e.to_string())?;
            let got = b64url_encode(kdf::secret_key_hkdf(&sk).expose_secret());
            expect_eq("key", &got, want(case, "key_b64url")?)
        }
        "hkdf_sha256" => {
            let mut out = vec![0u8; number(case, "length")? as usize];
            kdf::hkdf_sha256_into(
                &bytes(case, "ikm")?,
                &bytes(case, "salt")?,
                &bytes(case, "info")?,
                &mut out,
            )
            .map_err(|e| e.to_string())?;
            expect_eq("okm", &b64url_encode(&out), want(case, "okm_b64url")?)
        }
        "pbkdf2" => {
            let alg = match text(case, "hash")? {
                "sha256" => KdfAlgorithm::Pbes2gHs256,
                "sha512" => KdfAlgorithm::Pbes2gHs512,
                other => return Err(format!("unknown hash {other}")),
            };
            let mut out = vec![0u8; number(case, "length")? as usize];
            let iterations =
                u32::try_from(number(case, "iterations")?).map_err(|e| e.to_string())?;
            kdf::pbkdf2(
                alg,
                &bytes(case, "password")?,
                &bytes(case, "salt")?,
                iterations,
                &mut out,
            );
            expect_eq("dk", &b64url_encode(&out), want(case, "dk_b64url")?)
        }
        "auk" => {
            let (password, email, sk, params) = credentials(case)?;
            let auk = kdf::derive_auk(&password, &email, &sk, &params);
            expect_eq("kid", auk.kid(), "mp")?;
            expect_eq(
                "auk",
                &hex_encode(auk.expose_secret()),
                want(case, "key_hex")?,
            )
        }
        "srp_x" => {
            let (password, email, sk, params) = credentials(case)?;
            let x = kdf::derive_srp_x(&password, &email, &sk, text(case, "method")?, &params)
                .map_err(|e| e.to_string())?;
            expect_eq("x", &hex_encode(x.expose_secret()), want(case, "x_hex")?)
        }
        "srp.verifier" => {
            let v = srp::verifier(&hex32(case, "x_hex")?);
            expect_eq("v", &srp::to_server_hex(&v), want(case, "v_hex")?)
        }
        "srp.v1.u" => {
            let a = hex_decode(text(case, "a_pub_hex")?).map_err(|e| e.to_string())?;
            let b = hex_decode(text(case, "b_pub_hex")?).map_err(|e| e.to_string())?;
            expect_eq("u", &hex_encode(&srp::v1_u(&a, &b)), want(case, "u_hex")?)
        }
        "srp.v1.session_key" => {
            let client = srp::SrpClient::from_secret(
                &hex_decode(text(case, "a_hex")?).map_err(|e| e.to_string())?,
            );
            let x = hex32(case, "x_hex")?;
            let b = text(case, "b_pub_hex")?;
            let session = text(case, "session_id")?;
            let key = match case.get("u_hex").and_then(Value::as_str) {
                Some(u) => client.v1_session_key_with_u(
                    &x,
                    b,
                    session,
                    &hex_decode(u).map_err(|e| e.to_string())?,
                ),
                None => client.v1_session_key(&x, b, session),
            }
            .map_err(|e| e.to_string())?;
            expect_eq(
                "key",
                &hex_encode(key.expose_secret()),
                want(case, "key_hex")?,
            )
        }
        "srp.v2.k" => expect_eq("k", &hex_encode(&srp::v2_k()), want(case, "k_hex")?),
        "srp.v2.session_key" => {
            let client = srp::SrpClient::from_secret(
                &hex_decode(text(case, "a_hex")?).map_err(|e| e.to_string())?,
            );
            expect_eq("A", &client.public_hex(), want(case, "a_pub_hex")?)?;
            let proof = client
                .v2_session(
                    &hex32(case, "x_hex")?,
                    text(case, "b_pub_hex")?,
                    &[],
                    "",
                    "",
                )
                .map_err(|e| e.to_string())?;
            expect_eq(
                "key",
                &hex_encode(proof.key().expose_secret()),
                want(case, "key_hex")?,
            )
        }
        "srp.v2.m1" => {
            let a = hex_decode(text(case, "a_pub_hex")?).map_err(|e| e.to_string())?;
            let b = hex_decode(text(case, "b_pub_hex")?).map_err(|e| e.to_string())?;
            let key = key32(&hex_decode(text(case, "key_hex")?).map_err(|e| e.to_string())?)?;
            let salt = hex_decode(text(case, "salt_hex")?).map_err(|e| e.to_string())?;
            let m1 = srp::v2_m1(
                &a,
                &b,
                &key,
                &salt,
                text(case, "skid")?,
                text(case, "email")?,
            );
            expect_eq("m1", &hex_encode(&m1), want(case, "m1_hex")?)
        }
        "srp.v2.m2" => {
            let a = hex_decode(text(case, "a_pub_hex")?).map_err(|e| e.to_string())?;
            let m1 = key32(&hex_decode(text(case, "m1_hex")?).map_err(|e| e.to_string())?)?;
            let key = key32(&hex_decode(text(case, "key_hex")?).map_err(|e| e.to_string())?)?;
            expect_eq(
                "m2",
                &hex_encode(&srp::v2_m2(&a, &m1, &key)),
                want(case, "m2_hex")?,
            )
        }
        "verify_hash.v1" => {
            let got = srp::v1_client_verify_hash(text(case, "skid")?, text(case, "session_id")?);
            expect_eq("clientVerifyHash", &got, want(case, "client_verify_hash")?)
        }
        "mfa.dshmac" => {
            let got = mfa::dshmac(text(case, "dsecret")?, text(case, "session_id")?)
                .map_err(|e| e.to_string())?;
            expect_eq("dshmac", &got, want(case, "dshmac")?)
        }
        "mac.key" => {
            let key = key32(&bytes(case, "session_key")?)?;
            expect_eq(
                "mac key",
                &hex_encode(MacKey::derive(&key).expose_secret()),
                want(case, "mac_key_hex")?,
            )
        }
        "mac.request" => {
            let mac = MacKey::derive(&key32(&bytes(case, "session_key")?)?);
            let (session, method, url) = (
                text(case, "session_id")?,
                text(case, "method")?,
                text(case, "url")?,
            );
            let header = mac
                .sign(session, method, url, number(case, "request_id")?)
                .map_err(|e| e.to_string())?;
            expect_eq("header", &header, want(case, "header")?)?;
            mac.verify(&header, session, method, url)
                .map(|_| ())
                .map_err(|e| e.to_string())
        }
        "envelope.encrypt" => {
            let key = SymmetricKey::new(text(case, "kid")?, key32(&bytes(case, "key")?)?);
            let iv: [u8; 12] = bytes(case, "iv")?
                .try_into()
                .map_err(|_| "iv must be 12 bytes".to_string())?;
            let plain = bytes(case, "plaintext")?;
            let env = key.encrypt_with_iv(&plain, &iv);
            expect_eq("data", &env.data, want(case, "data_b64url")?)?;
            let back = key.decrypt(&env).map_err(|e| e.to_string())?;
            if *back == plain {
                Ok(())
            } else {
                Err("decrypting the encryption gave other bytes".into())
            }
        }
        "envelope.decrypt" => {
            let key = SymmetricKey::new("vector", key32(&bytes(case, "key")?)?);
            match key.decrypt_raw(text(case, "iv_b64url")?, text(case, "data_b64url")?) {
                Ok(_) if wants_error(case) => Err("decrypted, but an error was expected".into()),
                Ok(p) => expect_eq(
                    "plaintext",
                    &String::from_utf8_lossy(&p),
                    want(case, "plaintext_utf8")?,
                ),
                Err(_) if wants_error(case) => Ok(()),
                Err(e) => Err(e.to_string()),
            }
        }
        "keyset.decrypt_sym_key" => {
            let auk = SymmetricKey::new(
                "mp",
                key32(&hex_decode(text(case, "auk_hex")?).map_err(|e| e.to_string())?)?,
            );
            let env = Envelope::from_json(field(case, "enc")?).map_err(|e| e.to_string())?;
            let plain = auk.decrypt(&env).map_err(|e| e.to_string())?;
            jwk_outcome(case, &plain)
        }
        "rsa.decrypt" => {
            let jwk: Jwk = serde_json::from_value(field(case, "private_jwk")?.clone())
                .map_err(|e| e.to_string())?;
            let key = RsaPrivateKey::from_jwk(&jwk).map_err(|e| e.to_string())?;
            let env = Envelope::from_json(field(case, "enc")?).map_err(|e| e.to_string())?;
            let plain = key.decrypt(&env).map_err(|e| e.to_string())?;
            jwk_outcome(case, &plain)
        }
        other => Err(format!("unknown kind {other:?}")),
    }
}

fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read vector folder {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
}

fn main() {
    let mut dirs = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")];
    if let Some(extra) = std::env::var_os("OPADMIN_EXTRA_VECTORS").filter(|v| !v.is_empty()) {
        dirs.push(PathBuf::from(extra));
    }
    let (mut passed, mut failed) = (0usize, 0usize);
    for dir in dirs {
        for file in json_files(&dir) {
            let name = file.display().to_string();
            let doc: Value = match std::fs::read_to_string(&file)
                .map_err(|e| e.to_string())
                .and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string()))
            {
                Ok(v) => v,
                Err(e) => {
                    println!("FAIL {name}: unreadable: {e}");
                    failed += 1;
                    continue;
                }
            };
            let Some(cases) = doc.get("cases").and_then(Value::as_array) else {
                println!("FAIL {name}: no \"cases\" array");
                failed += 1;
                continue;
            };
            for case in cases {
                let label = case
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("<unnamed>");
                match run_case(case) {
                    Ok(()) => {
                        passed += 1;
                        println!("ok   {name} :: {label}");
                    }
                    Err(e) => {
                        failed += 1;
                        println!("FAIL {name} :: {label}: {e}");
                    }
                }
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    if failed > 0 || passed == 0 {
        std::process::exit(1);
    }
}

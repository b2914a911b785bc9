//! # opadmin-crypto
//!
//! The cryptography of 1Password's b5 protocol, with no I/O: what a client computes to sign in
//! as an administrator and open vault keys, and what a server computes to check it.
//!
//! | module | what it holds |
//! |---|---|
//! | [`secret_key`] | the Secret Key: parsing what a person pastes, masked display, generation |
//! | [`kdf`] | 2SKD: the Account Unlock Key (kid `mp`) and SRP `x` |
//! | [`srp`] | SRP over the 4096-bit group, v1 and v2, client and server halves |
//! | [`envelope`] | symmetric keys and the AES-256-GCM envelope of every ciphertext |
//! | [`mac`] | the `X-AgileBits-MAC` request signature |
//! | [`rsa`] | RSA-OAEP (SHA-1 and SHA-256) key wrapping, JWK import/export |
//! | [`keyset`] | keysets: generation, and the decryption chain AUK -> keysets -> vault keys |
//! | [`mfa`] | remember-this-device `dshmac` and TOTP |
//! | [`jwk`], [`encoding`], [`secret`] | JSON Web Keys, wire encodings, secret containers |
//!
//! Every type holding secret material zeroizes it on drop and prints nothing of it in `Debug`.
//!
//! ```
//! use opadmin_crypto::{kdf, secret_key::SecretKey, srp};
//!
//! // What a client does with the server's `userAuth` and `userB` (here played by the server half).
//! let sk = SecretKey::parse("A3-RTN9SA-DY9445-Y5FF9-6X6E7-B5GPF-A95R9")?;
//! let params = kdf::KdfParams::from_wire("PBES2g-HS256", "ZGVmZ2hpamtsbW5vcHFycw", 1000)?;
//! let x = kdf::derive_srp_x(&"hunter2".into(), "ops@example.com", &sk, "SRPg-4096", &params)?;
//!
//! let server = srp::SrpServer::new(srp::SrpVersion::V2, &srp::verifier(&x), "SESSIONID");
//! let client = srp::SrpClient::generate();
//! let proof = client.v2_session(&x, &server.public_hex(), &params.salt, sk.account_id(), "ops@example.com")?;
//! let server_key = server.session_key(&client.public_hex())?;
//! let m2 = server.v2_confirm(&client.public_hex(), &server_key, &params.salt, sk.account_id(),
//!                            "ops@example.com", &proof.client_verify_hash())?;
//! proof.verify_server(&m2)?;
//! assert_eq!(proof.key(), &server_key);
//! # Ok::<(), opadmin_crypto::error::CryptoError>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod encoding;
pub mod envelope;
pub mod error;
pub mod jwk;
pub mod kdf;
pub mod keyset;
pub mod mac;
pub mod mfa;
pub mod rsa;
pub mod secret;
pub mod secret_key;
pub mod srp;

pub use error::{CryptoError, Result};

//! placeholder
#![forbid(unsafe_code)]
pub mod encoding;
pub mod envelope;
pub mod error;
pub mod jwk;
pub mod kdf;
pub mod keyset;
pub mod secret;
pub mod secret_key;

//! The crate's one error type.

use thiserror::Error;

/// Everything that can go wrong in `opadmin-crypto`.
///
/// No variant ever carries secret material: a malformed Secret Key is described by what is wrong
/// with it, never echoed; a failed decryption says only that it failed.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CryptoError {
    /// A Secret Key could not be parsed; the reason says what is wrong (never the key itself).
    #[error(
        "malformed Secret Key: {0}. A Secret Key looks like A3-XXXXXX-XXXXXX-XXXXX-XXXXX-XXXXX-XXXXX"
    )]
    SecretKey(&'static str),
    /// A key-derivation or SRP algorithm name that this crate does not implement.
    #[error("unsupported algorithm {0:?}")]
    UnsupportedAlgorithm(String),
    /// Input that should be base64url, base32 or hex is not.
    #[error("invalid {0} encoding")]
    Encoding(&'static str),
    /// A JSON Web Key is missing a field or has one of the wrong size or type.
    #[error("malformed key: {0}")]
    Jwk(String),
    /// An encrypted envelope is malformed (missing field, wrong `enc`, wrong IV length, ...).
    #[error("malformed encrypted envelope: {0}")]
    Envelope(String),
    /// Decryption failed: wrong key, or the ciphertext or its tag was altered.
    #[error("decryption failed: wrong key or tampered ciphertext")]
    Decrypt,
    /// The key that an envelope names (`kid`) is not the key it was given.
    #[error("envelope is encrypted with key {expected:?}, not with the key given ({given:?})")]
    WrongKey {
        /// The `kid` in the envelope.
        expected: String,
        /// The id of the key that was offered.
        given: String,
    },
    /// An SRP public value is invalid (`A` or `B` congruent to 0 or 1 modulo N).
    #[error("invalid SRP public value {0}: rejected (congruent to 0 or 1 modulo N)")]
    SrpBadPublic(&'static str),
    /// The peer's SRP proof did not match: wrong password/Secret Key, or an impostor.
    #[error("SRP proof did not verify")]
    SrpProof,
    /// A request MAC did not verify.
    #[error("request MAC did not verify")]
    Mac,
    /// A URL given for a request MAC could not be parsed.
    #[error("invalid URL for request MAC: {0}")]
    Url(String),
    /// Key-derivation parameters from the server outside the range this client accepts: too few
    /// PBKDF2 iterations make the password cheap to guess from what the server learns, too many
    /// pin a thread for minutes or hours.
    #[error(
        "the server asked for {iterations} PBKDF2 iterations, outside the accepted range \
         {min}..={max}; refusing to derive keys (check the sign-in address; for a test server with \
         low counts, lower the floor explicitly)"
    )]
    KdfIterationsOutOfRange {
        /// What the server asked for.
        iterations: u32,
        /// The smallest count accepted.
        min: u32,
        /// The largest count accepted.
        max: u32,
    },
    /// The platform's cryptographic library failed (for example, key generation).
    #[error("crypto backend failure: {0}")]
    Backend(&'static str),
}

/// Shorthand for results of this crate.
pub type Result<T> = std::result::Result<T, CryptoError>;

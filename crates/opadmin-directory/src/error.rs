//! The facade's error: what a caller acts on, with a message that says what to do next.

use std::sync::Arc;

use opadmin_api::ApiError;
use std::time::Duration;

/// Everything that can go wrong administering an account. No variant carries a secret.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Wrong email, account password or Secret Key (the server does not say which).
    #[error(
        "sign-in failed: the email, account password or Secret Key is wrong. Check all three (the Secret Key starts with A3-)"
    )]
    BadCredentials,
    /// The account requires a second factor and none could be given.
    #[error("this account requires a second factor ({}); configure a TOTP secret or an MFA code callback", methods.join(", "))]
    MfaRequired {
        /// Methods the account offers.
        methods: Vec<String>,
    },
    /// Only second factors this SDK cannot perform (Duo, WebAuthn) are offered.
    #[error("the account requires a second factor this SDK cannot perform ({}): set up TOTP for the integration user and pass its secret, or use the SCIM bridge", offered.join(", "))]
    MfaUnsupported {
        /// What the account offers.
        offered: Vec<String>,
    },
    /// The signed-in user is suspended or deleted.
    #[error(
        "the integration user is {0}: an owner must reactivate it (or use another administrator)"
    )]
    AdminDisabled(&'static str),
    /// The integration write-up's error (docs/requirements.md): no Manage Vault permission on that vault.
    #[error("{}", opadmin_api::error::NO_MANAGE_VAULT_MESSAGE)]
    NoManageVaultPermission,
    /// The signed-in identity may not create vaults (it lacks the Create Vault account
    /// permission: the account's policy may keep vault creation to administrators, and a
    /// service account needs to be created with that right).
    #[error(
        "the integration user may not create vaults: it needs the Create Vault permission (Owners and Administrators have it; members have it unless the account's policy keeps vault creation to administrators; a service account must be created with it)"
    )]
    NoCreateVaultPermission,
    /// The vault is not a user-created shared vault (a Personal, Private, Everyone or
    /// Transfer vault, ...): it cannot be renamed or deleted through this API.
    #[error(
        "vault {vault} is a {vault_type} vault, not a shared vault someone created: it cannot be {operation}"
    )]
    SpecialVault {
        /// The vault.
        vault: crate::VaultId,
        /// Its type.
        vault_type: crate::VaultType,
        /// What was refused (`deleted`, `renamed`).
        operation: &'static str,
    },
    /// The account is not on 1Password Business (invitations).
    #[error(
        "inviting people is available only on 1Password Business; this account is on another plan. Invite people from 1Password's website instead"
    )]
    BusinessPlanRequired,
    /// A person, group, vault or invitation that the signed-in administrator cannot see.
    #[error(
        "{what} not found, or not visible to the integration user; check the id or email, and that the integration user has access to it"
    )]
    NotFound {
        /// What was looked for.
        what: String,
    },
    /// The server refused the operation.
    #[error(
        "not permitted: {message}. The integration user needs the permission for this action (for example, membership in Administrators or Owners)"
    )]
    PermissionDenied {
        /// The server's words, or ours.
        message: String,
    },
    /// A service-account token (`ops_…`) that cannot be read; the reason never quotes it.
    #[error(
        "the service-account token is malformed: {reason}. Copy the whole token (it starts with ops_) again"
    )]
    MalformedServiceAccountToken {
        /// What is wrong.
        reason: String,
    },
    /// The account refused the service-account token (revoked, expired, or another account's).
    #[error(
        "sign-in failed: the account refused the service-account token (revoked, expired, or for another account). Create a new token and try again"
    )]
    ServiceAccountTokenRejected,
    /// Signed in with a service-account token, and asked for something service accounts may
    /// not do (manage people or group membership) or cannot see (people). Nothing was sent.
    #[error(
        "{operation} is not permitted for a service account (service accounts cannot manage or see people, change group membership or administer the account); sign in as an administrator (email, account password and Secret Key) to do this"
    )]
    NotPermittedForServiceAccount {
        /// What was asked.
        operation: &'static str,
    },
    /// The change does not apply to this person's state or type.
    #[error("{0}")]
    InvalidState(String),
    /// The backend cannot do this at all (for example vault access over SCIM).
    #[error(
        "{operation} is not supported by the {backend} backend; use the b5 (Admin) backend for it"
    )]
    NotSupported {
        /// What was asked.
        operation: &'static str,
        /// Which backend.
        backend: &'static str,
    },
    /// Arguments that cannot be right (empty permission set, unknown permission name, ...).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// Still rate limited after the bounded retries.
    #[error("1Password is rate limiting these requests{}; wait and try again, or lower the concurrency", retry_after.map(|d| format!(" (asked to wait {}s)", d.as_secs())).unwrap_or_default())]
    RateLimited {
        /// How long the server asked to wait.
        retry_after: Option<Duration>,
    },
    /// The network failed, or the HTTP client could not be set up (after retries where
    /// retrying was safe). `source` is the underlying error when there is one.
    #[error(
        "could not reach the server: {message}. Check the address and the network, then try again"
    )]
    Transport {
        /// What failed, in words (never a secret).
        message: String,
        /// The underlying error.
        #[source]
        source: Option<Arc<dyn std::error::Error + Send + Sync>>,
    },
    /// The server answered with an error this SDK has no better name for (a 5xx after the
    /// retries where retrying was safe, or an unexpected 4xx). Nothing says the request was
    /// not applied when the status is 5xx: check the state before repeating a change.
    #[error(
        "the server answered HTTP {status}{}{}; retry later, and report it if it persists",
        endpoint.map(|e| format!(" to {e}")).unwrap_or_default(),
        code.map(|c| format!(" (error {c})")).unwrap_or_default()
    )]
    Server {
        /// HTTP status.
        status: u16,
        /// The server's error code, when it gave one.
        code: Option<i64>,
        /// The endpoint called, when known (its name in the b5 endpoint table).
        endpoint: Option<&'static str>,
        /// The API error, with the server's own words.
        #[source]
        source: Box<ApiError>,
    },
    /// A change failed in a way that may have come after the server applied it (a 5xx, a
    /// connection broken after sending, a timeout), and reading the state afterwards could not
    /// settle whether it took effect. `source` is the failure. Read the state before sending
    /// the change again. (When the read settles it, the SDK reports the change as done, or
    /// sends it again; see `docs/decisions.md`.)
    #[error(
        "{endpoint} may or may not have been applied: it failed after it was sent ({source}); check the current state before trying again"
    )]
    MaybeApplied {
        /// The endpoint called (its name in the b5 endpoint table, e.g. `people.suspend`).
        endpoint: &'static str,
        /// The failure.
        #[source]
        source: Box<Error>,
    },
    /// The session expired and could not be renewed (after sign-out, or when the server
    /// refused to renew it).
    #[error("the 1Password session has ended; sign in again")]
    SessionExpired,
    /// A cryptographic check or operation failed on data from the server (a key that does not
    /// open, a ciphertext that does not decrypt): nothing of it was used.
    #[error(
        "a cryptographic check failed on data from the server ({0}); nothing of it was used. Check the sign-in address; if it persists, report it"
    )]
    Crypto(#[source] opadmin_crypto::CryptoError),
    /// The server did not answer in time (after retries where retrying was safe); a body that
    /// arrives too slowly ends here too.
    #[error(
        "1Password did not answer in time; check the network, then try again (or raise the timeout)"
    )]
    Timeout,
    /// An answer failed verification: not encrypted with the session key where it must be, a
    /// wrong server proof, keysets that no longer open. Possibly an attack or an intercepting
    /// proxy: nothing of the answer was used, and the call is not retried.
    #[error(
        "the server's answer failed verification ({0}); nothing of it was used and nothing was retried. Check the sign-in address and that nothing intercepts the connection (a TLS-inspecting proxy, for example)"
    )]
    Tampered(String),
    /// The server asked for key-derivation work outside the accepted range (PBKDF2 iterations
    /// too few to protect the password, or so many they would pin a thread for hours). Nothing
    /// was derived.
    #[error(
        "the server asked for {iterations} PBKDF2 iterations; this SDK accepts {min} to {max}, so it derived nothing. Check the sign-in address (a test server with low counts needs AdminBuilder::min_kdf_iterations, never a real account)"
    )]
    UnsafeKdfParameters {
        /// What the server asked for.
        iterations: u32,
        /// The smallest count accepted.
        min: u32,
        /// The largest count accepted.
        max: u32,
    },
    /// An answer's body was larger than the cap (reading stopped there).
    #[error(
        "an answer from the server is larger than {limit} bytes, the most this SDK reads; if the account really is that large, raise AdminBuilder::max_answer_bytes"
    )]
    AnswerTooLarge {
        /// The cap, in bytes.
        limit: usize,
    },
    /// Not attempted: an earlier failure that concerns the whole session (the network, an
    /// expired session, tampering, rate limiting) stopped the run before this target. Nothing
    /// was sent for it, so it is safe to try again.
    #[error(
        "not attempted: an earlier failure stopped the run ({reason}); nothing was sent for this target, so it is safe to try again"
    )]
    NotAttempted {
        /// The failure that stopped the run, in words.
        reason: String,
    },
    /// A fault inside this SDK (a worker that panicked) while handling one item; the item's
    /// outcome is unknown on this side and nothing of its work was used.
    #[error("an internal error occurred while {0}; nothing of it was used. Report it")]
    Internal(String),
    /// A plan was to be applied, but what it was computed from (a vault's access, a group's
    /// members, a person's state or groups, the pending invitations) changed since: nothing was
    /// sent. Plan again, or apply with re-planning.
    #[error(
        "the account changed since the plan was made ({}); nothing was sent. Plan again and review the new plan, or apply it with re-planning",
        changed.join("; ")
    )]
    PlanStale {
        /// What changed, in words (e.g. `access to vault …`).
        changed: Vec<String>,
    },
    /// An answer that was altered or not understood: nothing was applied on our side.
    #[error(
        "the server's answer could not be trusted or understood ({0}); nothing was changed on this side. Try again; if it persists, report it"
    )]
    Protocol(String),
}

/// Shorthand.
pub type Result<T> = std::result::Result<T, Error>;

impl From<ApiError> for Error {
    fn from(e: ApiError) -> Self {
        match e {
            ApiError::Authentication | ApiError::WrongSecretKey => Error::BadCredentials,
            ApiError::MalformedServiceAccountToken { reason } => {
                Error::MalformedServiceAccountToken { reason }
            }
            ApiError::ServiceAccountTokenRejected => Error::ServiceAccountTokenRejected,
            ApiError::MfaRequired { methods } => Error::MfaRequired { methods },
            ApiError::MfaUnsupported { offered } => Error::MfaUnsupported { offered },
            ApiError::UserSuspended | ApiError::AccountSuspended => {
                Error::AdminDisabled("suspended")
            }
            ApiError::UserDeleted => Error::AdminDisabled("deleted"),
            ApiError::NoManageVaultPermission => Error::NoManageVaultPermission,
            ApiError::BusinessPlanRequired => Error::BusinessPlanRequired,
            ApiError::NotFound { what } => Error::NotFound { what },
            ApiError::PermissionDenied { message, .. } => Error::PermissionDenied { message },
            ApiError::RateLimited { retry_after } => Error::RateLimited { retry_after },
            ApiError::Transport { detail, source } => Error::Transport {
                message: detail,
                source: source.map(|s| s as Arc<dyn std::error::Error + Send + Sync>),
            },
            ApiError::Server {
                status,
                error_code,
                endpoint,
                ..
            } => Error::Server {
                status,
                code: error_code,
                endpoint,
                source: Box::new(e),
            },
            ApiError::SessionExpired => Error::SessionExpired,
            ApiError::Timeout => Error::Timeout,
            ApiError::InvalidInput(m) => Error::InvalidInput(m),
            ApiError::Tampered(m) => Error::Tampered(m),
            ApiError::Protocol(m) => Error::Protocol(m),
            ApiError::UnsafeKdfParameters {
                iterations,
                min,
                max,
            } => Error::UnsafeKdfParameters {
                iterations,
                min,
                max,
            },
            ApiError::AnswerTooLarge { limit, .. } => Error::AnswerTooLarge { limit },
            ApiError::Crypto(c) => Error::Crypto(c),
            ApiError::MaybeApplied { endpoint, source } => Error::MaybeApplied {
                endpoint,
                source: Box::new(Error::from(*source)),
            },
            other => Error::Protocol(other.to_string()),
        }
    }
}

impl From<opadmin_crypto::CryptoError> for Error {
    fn from(e: opadmin_crypto::CryptoError) -> Self {
        Error::Crypto(e)
    }
}

impl Error {
    /// A [`Transport`](Self::Transport) error with a message and no underlying error.
    pub fn transport(message: impl Into<String>) -> Self {
        Error::Transport {
            message: message.into(),
            source: None,
        }
    }
}

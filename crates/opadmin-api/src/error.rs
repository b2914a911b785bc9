//! The crate's error taxonomy, and the mapping from server error answers to it
//! (docs/protocol.md 3.7).
//!
//! Every message says what to do next. No variant carries a password, Secret Key, session key,
//! token or request body: server messages are kept only as the short text the server wrote.

use std::time::Duration;

use thiserror::Error;

use crate::models::ServerErrorBody;

/// The exact message of [`ApiError::NoManageVaultPermission`] (from the integration write-up, docs/requirements.md).
pub const NO_MANAGE_VAULT_MESSAGE: &str = "The admin account does not have access to this vault. Ensure the user whose credentials are used to connect the integration has access to this vault, and that they have the 'Manage Vault' permission on it.";

/// Everything that can go wrong talking to a 1Password account.
#[derive(Debug, Clone, Error)]
#[non_exhaustive]
pub enum ApiError {
    /// The connection failed (DNS, TLS, reset, malformed HTTP), or the HTTP client could not be
    /// set up. `source` is the HTTP library's error, when there is one.
    #[error(
        "could not reach the 1Password server: {detail}. Check the sign-in address and the network, then retry"
    )]
    Transport {
        /// What failed, with its causes (never the URL).
        detail: String,
        /// The HTTP library's error.
        #[source]
        source: Option<std::sync::Arc<reqwest::Error>>,
    },

    /// The server did not answer in time.
    #[error("the 1Password server did not answer in time; retry later or raise the timeout")]
    Timeout,

    /// The server asked the client to slow down (HTTP 429).
    #[error("rate limited by the 1Password server; {}", retry_hint(.retry_after))]
    RateLimited {
        /// How long the server asked to wait (`X-Rate-Limit-Retry-In`), when it said.
        retry_after: Option<Duration>,
    },

    /// Sign-in failed: the email, account password or Secret Key is wrong (deliberately not
    /// saying which).
    #[error(
        "sign-in failed: the email, account password or Secret Key is wrong. Check all three \
         (the Secret Key starts with A3-) and try again"
    )]
    Authentication,

    /// A service-account token (`ops_…`) that cannot be read. The reason names what is wrong
    /// and never quotes the token or any part of it.
    #[error(
        "the service-account token is malformed: {reason}. Copy the whole token again (it starts \
         with ops_) from where it was created"
    )]
    MalformedServiceAccountToken {
        /// What is wrong, in words that contain nothing of the token.
        reason: String,
    },

    /// The account refused a well-formed service-account token (unknown, revoked or expired,
    /// or for another account). Deliberately says nothing more.
    #[error(
        "sign-in failed: the account refused the service-account token (it may have been revoked \
         or have expired, or belong to another account). Create a new token for the service \
         account and try again"
    )]
    ServiceAccountTokenRejected,

    /// The server says the signing-in user's Secret Key is not the one given: its id (the six
    /// characters after `A3-`) or format differs. Deliberately says nothing more.
    #[error(
        "sign-in failed: the Secret Key does not belong to this account. Copy the Secret Key again \
         from the user's Emergency Kit (it starts with A3-) and check the sign-in address"
    )]
    WrongSecretKey,

    /// The account requires a second factor and none was configured.
    #[error(
        "the account requires a second factor (offered: {}); configure a TOTP secret or supply a \
         one-time code",
        join_or_none(.methods)
    )]
    MfaRequired {
        /// The offered factors (`totp`, `dsecret`, `duo`, `webAuthn`, ...).
        methods: Vec<String>,
    },

    /// The account requires a second factor this SDK cannot perform (Duo, WebAuthn, ...).
    #[error(
        "the account requires a second factor this SDK cannot perform (offered: {}); enable TOTP \
         for the integration user, or use a user without enforced MFA",
        join_or_none(.offered)
    )]
    MfaUnsupported {
        /// The offered factors.
        offered: Vec<String>,
    },

    /// The 1Password account is suspended.
    #[error(
        "the 1Password account is suspended; its owner must contact 1Password to reactivate it"
    )]
    AccountSuspended,

    /// The signed-in user is suspended.
    #[error(
        "the signing-in user is suspended; an administrator must reactivate them, or use another administrator"
    )]
    UserSuspended,

    /// The signed-in user was deleted.
    #[error(
        "the signing-in user has been deleted; connect the integration with another administrator"
    )]
    UserDeleted,

    /// The object does not exist, or the signed-in user cannot see it.
    #[error(
        "{what} was not found, or the signed-in user cannot see it; check the id and the user's access"
    )]
    NotFound {
        /// What was looked for, e.g. `vault ru74fjxlkipzzctorwj4icrj2a`.
        what: String,
    },

    /// The server refused the operation for lack of permission.
    #[error(
        "the server refused the operation{}: {message}. Give the signed-in administrator the \
         permission it needs, or use another administrator",
        code_suffix(.code)
    )]
    PermissionDenied {
        /// Server error code (101 "operation not permitted"), when there was one.
        code: Option<i64>,
        /// The server's message, or a description of the refusal.
        message: String,
    },

    /// The signed-in user lacks the Manage Vault permission on the vault it tried to change.
    #[error("{}", NO_MANAGE_VAULT_MESSAGE)]
    NoManageVaultPermission,

    /// The operation needs a 1Password Business account (invitations).
    #[error(
        "this operation needs a 1Password Business account; upgrade the account's plan to use it"
    )]
    BusinessPlanRequired,

    /// The server said something this client does not understand or did not expect.
    #[error(
        "unexpected answer from the 1Password server: {0}. Update opadmin; if it persists, report it"
    )]
    Protocol(String),

    /// A check on the server's answer failed: a proof, an echoed id, a ciphertext. Possibly an
    /// attack; do not retry blindly.
    #[error(
        "the server's answer failed verification: {0}. Check that the sign-in address is right and that nothing intercepts the connection"
    )]
    Tampered(String),

    /// The server asked for key-derivation work outside the accepted range (PBKDF2 iterations
    /// too low to protect the password, or so high they would pin a thread for hours). Nothing
    /// was derived. See [`KdfLimits`](opadmin_crypto::kdf::KdfLimits).
    #[error(
        "the server asked for {iterations} PBKDF2 iterations; this client accepts {min} to {max}, \
         so it derived nothing. Check the sign-in address; a test server with low counts needs \
         the floor lowered explicitly (never for a real account)"
    )]
    UnsafeKdfParameters {
        /// What the server asked for.
        iterations: u32,
        /// The smallest count accepted.
        min: u32,
        /// The largest count accepted.
        max: u32,
    },

    /// An answer's body was larger than the cap this client reads (reading stopped there).
    #[error(
        "the answer to {endpoint} is larger than {limit} bytes, the most this client reads; if \
         the account really is that large, raise the answer size limit in the transport settings"
    )]
    AnswerTooLarge {
        /// The endpoint's name, e.g. `vaults.list`.
        endpoint: &'static str,
        /// The cap, in bytes.
        limit: usize,
    },

    /// Any other server error.
    #[error(
        "the 1Password server answered HTTP {status}{}{}{}{}; retry later, and report it if it persists",
        endpoint_suffix(.endpoint),
        code_suffix(.error_code),
        message_suffix(.error_message),
        reason_suffix(.reason)
    )]
    Server {
        /// HTTP status.
        status: u16,
        /// The endpoint called (its name in the endpoint table, e.g. `vault.get`), when known.
        endpoint: Option<&'static str>,
        /// Server error code.
        error_code: Option<i64>,
        /// Server error message.
        error_message: Option<String>,
        /// Machine-readable reason.
        reason: Option<String>,
    },

    /// A state change failed in a way that may have come after the server applied it (an HTTP
    /// 5xx, a connection broken after the request was sent, a timeout), so it was not sent
    /// again: read the current state to learn whether it took effect before sending it again.
    /// `source` is the failure itself.
    #[error(
        "the call to {endpoint} failed, and the server may have applied it before failing; read          the current state before sending it again (cause: {source})"
    )]
    MaybeApplied {
        /// The endpoint's name, e.g. `people.suspend`.
        endpoint: &'static str,
        /// The failure.
        #[source]
        source: Box<ApiError>,
    },

    /// The session expired or was refused (HTTP 401, error 102); sign in again.
    #[error("the 1Password session expired or was refused; sign in again")]
    SessionExpired,

    /// A cryptographic operation failed.
    #[error("cryptographic failure: {0}")]
    Crypto(#[from] opadmin_crypto::error::CryptoError),

    /// The caller passed something unusable.
    #[error("invalid input: {0}")]
    InvalidInput(String),
}

/// Shorthand for results of this crate.
pub type Result<T, E = ApiError> = std::result::Result<T, E>;

fn retry_hint(after: &Option<Duration>) -> String {
    match after {
        Some(d) => format!("retry in {} s", d.as_secs().max(1)),
        None => "retry later".to_owned(),
    }
}

fn join_or_none(list: &[String]) -> String {
    if list.is_empty() {
        "none listed".to_owned()
    } else {
        list.join(", ")
    }
}

fn code_suffix(code: &Option<i64>) -> String {
    code.map(|c| format!(" (error code {c})"))
        .unwrap_or_default()
}

fn message_suffix(message: &Option<String>) -> String {
    message
        .as_deref()
        .filter(|m| !m.is_empty())
        .map(|m| format!(": {m}"))
        .unwrap_or_default()
}

fn endpoint_suffix(endpoint: &Option<&'static str>) -> String {
    endpoint.map(|e| format!(" to {e}")).unwrap_or_default()
}

fn reason_suffix(reason: &Option<String>) -> String {
    reason
        .as_deref()
        .filter(|r| !r.is_empty())
        .map(|r| format!(" (reason {r})"))
        .unwrap_or_default()
}

/// Longest server message kept in an error (server text is untrusted).
const MAX_SERVER_TEXT: usize = 200;

/// Server text as it may appear in an error: control characters (terminal escapes, new lines
/// that could forge log lines) replaced by a space, trimmed, and clipped to
/// `MAX_SERVER_TEXT` characters.
fn clip(text: &str) -> String {
    let cleaned: String = text
        .chars()
        .take(MAX_SERVER_TEXT + 1)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let text = cleaned.trim();
    match text.char_indices().nth(MAX_SERVER_TEXT) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

impl ApiError {
    /// Maps an HTTP error answer (status and raw body) to an error.
    ///
    /// Call it for answers that are not successes (and for HTTP 200 answers whose decrypted body
    /// is an error object). The body may be `{errorCode, errorMessage, requestId}`, `{reason}`,
    /// `{}`, or not JSON at all. In order:
    ///
    /// 1. `reason` `account_policy` → [`BusinessPlanRequired`](Self::BusinessPlanRequired);
    ///    `user_suspended` → [`UserSuspended`](Self::UserSuspended); `user_deleted` →
    ///    [`UserDeleted`](Self::UserDeleted); `invalid_sk_prefix_format` →
    ///    [`Authentication`](Self::Authentication) (a Secret Key of the wrong format).
    /// 2. error code 107 (suspended login) or HTTP 435 → `UserSuspended`; 109 (deleted login)
    ///    or HTTP 436 → `UserDeleted`.
    /// 3. error code 102 or HTTP 401 → [`SessionExpired`](Self::SessionExpired).
    ///    **Decision:** 102 "Authentication required." is what the server answers to any
    ///    request without a live session (expired, replayed request id, wrong MAC), so outside
    ///    sign-in it means "sign in again"; the transport re-signs in once and retries. The
    ///    sign-in code, which knows that a 401 answers a wrong password (SRP proof) or a wrong
    ///    MFA code, maps those to [`Authentication`](Self::Authentication) itself.
    /// 4. HTTP 429 → [`RateLimited`](Self::RateLimited) with `retry_after: None` (the
    ///    `X-Rate-Limit-Retry-In` header is the transport's to read; see
    ///    [`with_retry_after`](Self::with_retry_after)).
    /// 5. error code 117 or HTTP 404 → [`NotFound`](Self::NotFound) (`what` is generic; rename
    ///    it with [`with_subject`](Self::with_subject)).
    /// 6. error code 101 or HTTP 403 → [`PermissionDenied`](Self::PermissionDenied).
    /// 7. error code 125 or HTTP 445 (deprecated client) → [`Protocol`](Self::Protocol).
    /// 8. anything else → [`Server`](Self::Server).
    pub fn from_response(status: u16, body: &[u8]) -> ApiError {
        let parsed: ServerErrorBody = serde_json::from_slice(body).unwrap_or_default();
        Self::from_error_body(status, &parsed)
    }

    /// Like [`from_response`](Self::from_response), for a body already parsed.
    pub fn from_error_body(status: u16, body: &ServerErrorBody) -> ApiError {
        let code = body.error_code;
        let message = body
            .error_message
            .as_deref()
            .map(clip)
            .filter(|m| !m.is_empty());
        let reason = body.reason.as_deref().map(clip).filter(|r| !r.is_empty());

        match reason.as_deref() {
            Some("account_policy") => return ApiError::BusinessPlanRequired,
            Some("user_suspended") => return ApiError::UserSuspended,
            Some("user_deleted") => return ApiError::UserDeleted,
            Some("invalid_sk_prefix_format") => return ApiError::Authentication,
            _ => {}
        }
        if code == Some(107) || status == 435 {
            return ApiError::UserSuspended;
        }
        if code == Some(109) || status == 436 {
            return ApiError::UserDeleted;
        }
        if code == Some(102) || status == 401 {
            return ApiError::SessionExpired;
        }
        if status == 429 {
            return ApiError::RateLimited { retry_after: None };
        }
        if code == Some(117) || status == 404 {
            return ApiError::NotFound {
                what: "the requested object".to_owned(),
            };
        }
        if code == Some(101) || status == 403 {
            let message = message
                .or_else(|| reason.clone().map(|r| format!("reason {r}")))
                .unwrap_or_else(|| "operation not permitted".to_owned());
            return ApiError::PermissionDenied { code, message };
        }
        if code == Some(125) || status == 445 {
            return ApiError::Protocol(
                "the server says this client version is deprecated".to_owned(),
            );
        }
        ApiError::Server {
            status,
            endpoint: None,
            error_code: code,
            error_message: message,
            reason,
        }
    }

    /// Names the endpoint of a [`Server`](Self::Server) error; other errors are returned
    /// unchanged.
    pub fn at_endpoint(self, name: &'static str) -> ApiError {
        match self {
            ApiError::Server {
                status,
                error_code,
                error_message,
                reason,
                ..
            } => ApiError::Server {
                status,
                endpoint: Some(name),
                error_code,
                error_message,
                reason,
            },
            other => other,
        }
    }

    /// A transport failure from the HTTP library's error, described without its URL.
    pub fn transport(error: reqwest::Error) -> ApiError {
        ApiError::Transport {
            detail: crate::http::describe_error(&error),
            source: Some(std::sync::Arc::new(error)),
        }
    }

    /// Sets the wait of a [`RateLimited`](Self::RateLimited) error (from the
    /// `X-Rate-Limit-Retry-In` header); other errors are returned unchanged.
    pub fn with_retry_after(self, retry_after: Option<Duration>) -> ApiError {
        match self {
            ApiError::RateLimited { .. } => ApiError::RateLimited { retry_after },
            other => other,
        }
    }

    /// Names what was not found (`vault ru74...`) in a [`NotFound`](Self::NotFound) error; other
    /// errors are returned unchanged.
    pub fn with_subject(self, what: impl Into<String>) -> ApiError {
        match self {
            ApiError::NotFound { .. } => ApiError::NotFound { what: what.into() },
            other => other,
        }
    }

    /// A [`NotFound`](Self::NotFound) error.
    pub fn not_found(what: impl Into<String>) -> ApiError {
        ApiError::NotFound { what: what.into() }
    }

    /// True for errors that may go away when the same request is sent again later: transport
    /// failures, timeouts, rate limits and server errors with a 5xx status. Whether a request
    /// may be repeated also depends on whether it was idempotent; that is the caller's call.
    pub fn is_retryable(&self) -> bool {
        match self {
            // Not blindly: whether to send it again depends on what a read of the state shows.
            ApiError::MaybeApplied { .. } => false,
            ApiError::Transport { .. } | ApiError::Timeout | ApiError::RateLimited { .. } => true,
            ApiError::Server { status, .. } => *status >= 500,
            _ => false,
        }
    }

    /// True when the call failed after it may have been applied ([`MaybeApplied`](Self::MaybeApplied)).
    pub fn maybe_applied(&self) -> bool {
        matches!(self, ApiError::MaybeApplied { .. })
    }

    /// The failure itself: the cause of a [`MaybeApplied`](Self::MaybeApplied), else `self`.
    pub fn cause(&self) -> &ApiError {
        match self {
            ApiError::MaybeApplied { source, .. } => source,
            other => other,
        }
    }

    /// True when signing in again may fix the error.
    pub fn needs_reauthentication(&self) -> bool {
        matches!(self, ApiError::SessionExpired)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(status: u16, body: &str) -> ApiError {
        ApiError::from_response(status, body.as_bytes())
    }

    #[test]
    fn no_manage_vault_message_is_exact() {
        assert_eq!(
            ApiError::NoManageVaultPermission.to_string(),
            "The admin account does not have access to this vault. Ensure the user whose credentials are used to connect the integration has access to this vault, and that they have the 'Manage Vault' permission on it."
        );
    }

    #[test]
    fn session_and_authentication() {
        let fixture =
            r#"{"errorCode":102,"errorMessage":"Authentication required.","requestId":5425802}"#;
        assert!(matches!(map(401, fixture), ApiError::SessionExpired));
        assert!(matches!(map(200, fixture), ApiError::SessionExpired));
        assert!(matches!(map(401, ""), ApiError::SessionExpired));
        assert!(map(401, "").needs_reauthentication());
        assert!(matches!(
            map(400, r#"{"reason":"invalid_sk_prefix_format"}"#),
            ApiError::Authentication
        ));
    }

    #[test]
    fn not_found() {
        let e = map(
            404,
            r#"{"errorCode":117,"errorMessage":"Not found.","requestId":20988701}"#,
        );
        assert!(matches!(e, ApiError::NotFound { .. }));
        assert!(matches!(
            map(200, r#"{"errorCode":117}"#),
            ApiError::NotFound { .. }
        ));
        assert!(matches!(
            map(404, "<html>nope</html>"),
            ApiError::NotFound { .. }
        ));
        let named = e.with_subject("vault abc");
        assert!(named.to_string().starts_with("vault abc was not found"));
    }

    #[test]
    fn permission_denied() {
        match map(
            403,
            r#"{"errorCode":101,"errorMessage":"Operation not permitted."}"#,
        ) {
            ApiError::PermissionDenied { code, message } => {
                assert_eq!(code, Some(101));
                assert_eq!(message, "Operation not permitted.");
            }
            other => panic!("{other:?}"),
        }
        match map(403, "Forbidden") {
            ApiError::PermissionDenied { code, message } => {
                assert_eq!(code, None);
                assert_eq!(message, "operation not permitted");
            }
            other => panic!("{other:?}"),
        }
        let shown = map(403, r#"{"errorCode":101,"errorMessage":"x"}"#).to_string();
        assert!(shown.contains("(error code 101)"), "{shown}");
    }

    #[test]
    fn rate_limited() {
        let e = map(429, "");
        assert!(matches!(e, ApiError::RateLimited { retry_after: None }));
        assert!(e.is_retryable());
        let e = e.with_retry_after(Some(Duration::from_secs(7)));
        assert!(matches!(e, ApiError::RateLimited { retry_after: Some(d) } if d.as_secs() == 7));
        assert!(e.to_string().contains("retry in 7 s"));
        assert!(matches!(
            map(404, "").with_retry_after(Some(Duration::from_secs(1))),
            ApiError::NotFound { .. }
        ));
    }

    #[test]
    fn plans_and_user_states() {
        assert!(matches!(
            map(403, r#"{"reason":"account_policy"}"#),
            ApiError::BusinessPlanRequired
        ));
        assert!(matches!(
            map(403, r#"{"reason":"user_suspended"}"#),
            ApiError::UserSuspended
        ));
        assert!(matches!(
            map(403, r#"{"reason":"user_deleted"}"#),
            ApiError::UserDeleted
        ));
        assert!(matches!(map(435, ""), ApiError::UserSuspended));
        assert!(matches!(map(436, ""), ApiError::UserDeleted));
        assert!(matches!(
            map(400, r#"{"errorCode":107}"#),
            ApiError::UserSuspended
        ));
        assert!(matches!(
            map(400, r#"{"errorCode":109}"#),
            ApiError::UserDeleted
        ));
    }

    #[test]
    fn deprecated_client() {
        assert!(matches!(map(445, ""), ApiError::Protocol(_)));
        assert!(matches!(
            map(400, r#"{"errorCode":125}"#),
            ApiError::Protocol(_)
        ));
    }

    #[test]
    fn everything_else_is_server() {
        match map(
            500,
            r#"{"errorCode":103,"errorMessage":"Internal server error.","requestId":1}"#,
        ) {
            e @ ApiError::Server { .. } => {
                assert!(e.is_retryable());
                let shown = e.to_string();
                assert!(shown.contains("HTTP 500"), "{shown}");
                assert!(shown.contains("error code 103"), "{shown}");
                assert!(shown.contains("Internal server error."), "{shown}");
            }
            other => panic!("{other:?}"),
        }
        match map(400, "{}") {
            ApiError::Server {
                status: 400,
                error_code: None,
                error_message: None,
                reason: None,
                ..
            } => {}
            other => panic!("{other:?}"),
        }
        match map(409, r#"{"reason":"email_already_in_use"}"#) {
            e @ ApiError::Server { .. } => {
                assert!(!e.is_retryable());
                assert!(e.to_string().contains("email_already_in_use"));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            map(502, "bad gateway"),
            ApiError::Server { status: 502, .. }
        ));
    }

    #[test]
    fn server_text_loses_control_characters() {
        let body = ServerErrorBody {
            error_code: Some(999),
            error_message: Some("bad\u{1b}[31m red\nforged: line\r".to_owned()),
            ..ServerErrorBody::default()
        };
        let shown = ApiError::from_error_body(500, &body).to_string();
        assert!(!shown.chars().any(char::is_control), "{shown:?}");
        assert!(shown.contains("bad [31m red forged: line"), "{shown}");
    }

    #[test]
    fn long_server_text_is_clipped() {
        let long = "x".repeat(5000);
        let body = format!(r#"{{"errorCode":999,"errorMessage":"{long}"}}"#);
        let shown = map(400, &body).to_string();
        assert!(shown.len() < 600, "{}", shown.len());
    }

    #[test]
    fn messages_say_what_to_do() {
        assert!(ApiError::Authentication.to_string().contains("Secret Key"));
        let mfa = ApiError::MfaRequired {
            methods: vec!["totp".into(), "dsecret".into()],
        };
        assert!(mfa.to_string().contains("totp, dsecret"));
        assert!(
            ApiError::MfaUnsupported { offered: vec![] }
                .to_string()
                .contains("none listed")
        );
        assert!(
            ApiError::BusinessPlanRequired
                .to_string()
                .contains("Business")
        );
        let crypto: ApiError = opadmin_crypto::error::CryptoError::Decrypt.into();
        assert!(matches!(crypto, ApiError::Crypto(_)));
    }
}

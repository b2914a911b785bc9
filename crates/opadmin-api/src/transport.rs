//! The transport: one HTTP client per sign-in address, the b5 headers, session encryption and
//! the request MAC, retries, and the transparent sign-in again when a session expires.
//!
//! What every request gets (docs/protocol.md 3.1, 3.5):
//!
//! * `X-AgileBits-Client` ([`TransportConfig::client`], default [`DEFAULT_CLIENT`]);
//! * `X-AgileBits-Session-ID` once a session exists;
//! * once the session key exists: `X-AgileBits-MAC` (request ids start at 1 after each
//!   sign-in and grow by one per signed request, atomically, so concurrent calls work; the MAC
//!   covers the host without its port), and the body is sent as an encrypted envelope (session
//!   key, `kid` = session id).
//!
//! **Encrypted answers only.** Before the session key exists (the sign-in start, device
//! registration and the SRP exchange) answers are plain JSON. Once it exists, every success
//! answer must be an envelope that names this session's key and opens under it; the only
//! exceptions are the endpoints on the allow-list in [`endpoints`](crate::endpoints)
//! ([`Endpoint::plain_success_answer`]), whose answer may also be exactly `{"success":1}` in
//! plain JSON. Anything else (plain JSON, an empty body, an envelope under another key, one
//! that does not open) is [`ApiError::Tampered`]: never retried, nothing of it used. This is
//! also what proves the server in SRP v1, which has no server proof of its own: an impostor
//! without the verifier cannot derive the session key, so its answer to `auth/verify` cannot
//! be an envelope that opens. Error answers (4xx, 5xx) may be plain; they map through
//! [`ApiError::from_error_body`] and can only make a call fail. A redirect (3xx) is never
//! followed and is an error.
//!
//! **Bounded reads.** Every body is read as a stream with a cap
//! ([`TransportConfig::max_answer_bytes`], default
//! [`DEFAULT_MAX_ANSWER_BYTES`]); past it the call fails
//! with [`ApiError::AnswerTooLarge`] and memory stays near the cap. A body that drips slowly
//! ends at the attempt's total timeout ([`TransportConfig::timeout`]).
//!
//! Retries ([`RetryPolicy`]): bounded by attempts (including the first) and total time, with
//! jitter, for 429 (waiting `X-Rate-Limit-Retry-In` seconds, capped), 502/503/504, connection
//! errors and timeouts. A call is repeated only when its [`Endpoint`]
//! is idempotent, or when it certainly was not applied (no connection could be made, or the
//! server answered 429). A POST or PATCH that may have been applied (a timeout after sending, a
//! 5xx) is never repeated. Nor is a state change whose caller checks its outcome by reading
//! state ([`Endpoint::checked_after_failure`], every people, group and vault-access change):
//! after such a failure it ends with [`ApiError::MaybeApplied`] (the failure as its cause), and
//! the caller reads the state to decide whether to send it again.
//!
//! Session expiry: a 401 / error 102 on a MAC-signed call whose endpoint allows it makes the
//! transport sign in again once (with what the sign-in left it, see
//! [`auth::sign_in`](crate::auth::sign_in)) and send the call once more; a second expiry is
//! returned as [`ApiError::SessionExpired`]. The sign-in again is single-flight, failures
//! included: calls that meet the expiry while one sign-in is under way wait for it and share
//! its outcome, so N concurrent calls cause exactly one sign-in, and if it fails every one of
//! them gets that failure. A sign-in that fails for a reason that will not pass by itself
//! (wrong credentials, a refused token, a disabled user, a failed check of the server) is
//! final: later calls get the same error without another attempt, so a changed password
//! cannot lock the account out through repeated attempts.
//!
//! Every call runs in a `tracing` span `b5.request` with the method, the path (without the
//! query), the attempt and the HTTP status; bodies, keys and headers are never logged.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use opadmin_crypto::envelope::{ENC_A256GCM, SymmetricKey};
use opadmin_crypto::mac::{HEADER as MAC_HEADER, MacKey};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tracing::Instrument;
use url::Url;
use zeroize::Zeroizing;

use crate::answer::{Answer, Shape};
use crate::concurrency::{Concurrency, Limiter, Signal};
use crate::endpoints::{Endpoint, encode_into};
use crate::error::{ApiError, Result};
use crate::http::{self, DEFAULT_MAX_ANSWER_BYTES, ReadError};

/// The default `X-AgileBits-Client` value, `name/version` (the device registered at sign-in
/// takes its client name and version from it). The one place this value is written.
pub const DEFAULT_CLIENT: &str = "opadmin/0100";

/// Header naming the client.
pub const CLIENT_HEADER: &str = "X-AgileBits-Client";
/// Header carrying the session id.
pub const SESSION_HEADER: &str = "X-AgileBits-Session-ID";
/// Header of a 429 answer: seconds to wait.
pub const RETRY_IN_HEADER: &str = "X-Rate-Limit-Retry-In";

/// Splits a client descriptor `name/version` into its parts (`("opadmin", "0100")`). A
/// descriptor without `/` is all name, with an empty version.
pub fn client_parts(client: &str) -> (&str, &str) {
    client.rsplit_once('/').unwrap_or((client, ""))
}

/// When and how often failed calls are sent again.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1 = never retry). Default 4.
    pub max_attempts: u32,
    /// No retry starts later than this after the first attempt. Default 60 s.
    pub max_elapsed: Duration,
    /// Back-off before the second attempt; doubled for each further one, with jitter.
    /// Default 250 ms.
    pub initial_backoff: Duration,
    /// Longest back-off between attempts (before jitter). Default 8 s.
    pub max_backoff: Duration,
    /// Longest wait honoured for `X-Rate-Limit-Retry-In`. Default 60 s.
    pub max_rate_limit_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            max_elapsed: Duration::from_secs(60),
            initial_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(8),
            max_rate_limit_wait: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// Never retry.
    pub fn never() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Sets the number of attempts (the first included; at least 1).
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// Sets the total time after which no retry starts.
    pub fn with_max_elapsed(mut self, elapsed: Duration) -> Self {
        self.max_elapsed = elapsed;
        self
    }

    /// Sets the first back-off and the longest one.
    pub fn with_backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.initial_backoff = initial;
        self.max_backoff = max.max(initial);
        self
    }

    /// Sets the longest `X-Rate-Limit-Retry-In` wait honoured.
    pub fn with_max_rate_limit_wait(mut self, wait: Duration) -> Self {
        self.max_rate_limit_wait = wait;
        self
    }

    /// The back-off before attempt `attempt + 1`: exponential, capped, with "equal jitter"
    /// (half fixed, half random).
    fn backoff(&self, attempt: u32) -> Duration {
        let factor = 1u32 << attempt.saturating_sub(1).min(16);
        let base = self
            .initial_backoff
            .saturating_mul(factor)
            .min(self.max_backoff);
        let half = base / 2;
        half + jitter(half)
    }
}

fn jitter(up_to: Duration) -> Duration {
    let millis = u64::try_from(up_to.as_millis()).unwrap_or(u64::MAX);
    Duration::from_millis(fastrand::u64(0..=millis))
}

/// What an attempt's outcome says about the server's load. A 429's wait is capped at
/// `max_wait` (the retry policy's `max_rate_limit_wait`): it pauses every task of the transport,
/// so a hostile `X-Rate-Limit-Retry-In` must not stall them longer than one retry would wait.
fn signal_of<T>(
    result: &std::result::Result<T, Failure>,
    endpoint: &'static str,
    took: Duration,
    max_wait: Duration,
) -> Signal {
    match result {
        Ok(_) => Signal::Answered { endpoint, took },
        Err(failure) => match &failure.error {
            ApiError::RateLimited { retry_after } => {
                Signal::RateLimited(retry_after.map(|w| w.min(max_wait)))
            }
            ApiError::Server {
                status: 502..=504, ..
            } => Signal::Overloaded,
            ApiError::Transport { .. } | ApiError::Timeout => Signal::Failed,
            _ => Signal::Answered { endpoint, took },
        },
    }
}

/// How the transport talks to the server.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TransportConfig {
    /// The `X-AgileBits-Client` value, `name/version`. Default [`DEFAULT_CLIENT`].
    pub client: String,
    /// The `User-Agent` value. Default `opadmin/<crate version>`.
    pub user_agent: String,
    /// Time limit of one attempt, from sending to the whole answer read. Default 30 s.
    pub timeout: Duration,
    /// Time limit to open a connection. Default 10 s.
    pub connect_timeout: Duration,
    /// Retries.
    pub retry: RetryPolicy,
    /// Allow `http://` to a host that is not loopback. Off by default: the session is encrypted
    /// end to end, but the Secret Key id, email and SRP values would travel in clear.
    pub allow_insecure_http: bool,
    /// The largest answer body read, in bytes; a larger one is [`ApiError::AnswerTooLarge`].
    /// Default [`DEFAULT_MAX_ANSWER_BYTES`] (64 MiB).
    pub max_answer_bytes: usize,
    /// The one adaptive limit on requests in flight, shared by every call through this
    /// transport (see [`crate::concurrency`]).
    pub concurrency: Concurrency,
}

impl Default for TransportConfig {
    fn default() -> Self {
        Self {
            client: DEFAULT_CLIENT.to_owned(),
            user_agent: format!("opadmin/{}", env!("CARGO_PKG_VERSION")),
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            retry: RetryPolicy::default(),
            allow_insecure_http: false,
            max_answer_bytes: DEFAULT_MAX_ANSWER_BYTES,
            concurrency: Concurrency::default(),
        }
    }
}

impl TransportConfig {
    /// Sets the `X-AgileBits-Client` value (`name/version`).
    pub fn with_client(mut self, client: impl Into<String>) -> Self {
        self.client = client.into();
        self
    }

    /// Sets the `User-Agent` value.
    pub fn with_user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// Sets the time limit of one attempt.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the time limit to open a connection.
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Sets the retry policy.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Sets the largest answer body read, in bytes (at least 1 KiB).
    pub fn with_max_answer_bytes(mut self, bytes: usize) -> Self {
        self.max_answer_bytes = bytes.max(1024);
        self
    }

    /// Sets the adaptive limit on requests in flight (see [`crate::concurrency`]).
    pub fn with_concurrency(mut self, concurrency: Concurrency) -> Self {
        self.concurrency = concurrency;
        self
    }

    /// Allows plain `http://` to hosts that are not loopback (testing set-ups only).
    pub fn with_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }
}

/// Parses a sign-in address into the base URL of the API.
///
/// Accepted: `my.1password.com` (HTTPS is assumed), `https://example.1password.eu`,
/// `http://127.0.0.1:8080` and other loopback addresses (`127.0.0.0/8`, `::1`, `localhost`).
/// Plain `http://` to any other host needs `allow_insecure_http`. A path, if given, is dropped.
pub fn parse_address(address: &str, allow_insecure_http: bool) -> Result<Url> {
    let trimmed = address.trim();
    if trimmed.is_empty() {
        return Err(ApiError::InvalidInput(
            "the sign-in address is empty; give the account's address, e.g. my.1password.com"
                .to_owned(),
        ));
    }
    let with_scheme = if trimmed.contains("://") {
        trimmed.to_owned()
    } else {
        format!("https://{trimmed}")
    };
    let mut url = Url::parse(&with_scheme).map_err(|e| {
        ApiError::InvalidInput(format!(
            "the sign-in address {trimmed:?} is not an address ({e}); give e.g. my.1password.com"
        ))
    })?;
    if url.host().is_none() {
        return Err(ApiError::InvalidInput(format!(
            "the sign-in address {trimmed:?} has no host name; give e.g. my.1password.com"
        )));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(ApiError::InvalidInput(
            "the sign-in address must not carry a user name or password".to_owned(),
        ));
    }
    match url.scheme() {
        "https" => {}
        "http" if http::is_loopback(&url) || allow_insecure_http => {}
        "http" => {
            return Err(ApiError::InvalidInput(format!(
                "refusing plain http to {trimmed:?}: use https, or a loopback address for a local \
                 emulator, or allow insecure http explicitly for a test set-up"
            )));
        }
        other => {
            return Err(ApiError::InvalidInput(format!(
                "the sign-in address uses the scheme {other:?}; use https"
            )));
        }
    }
    url.set_path("/");
    url.set_query(None);
    url.set_fragment(None);
    Ok(url)
}

/// One call to send: an endpoint, its filled path and query, and an optional JSON body.
///
/// `Debug` shows the endpoint and path only, never the body.
#[derive(Clone)]
pub struct Request {
    endpoint: Endpoint,
    path: String,
    query: String,
    body: Option<Value>,
}

impl Request {
    /// A call to `endpoint` with its path parameters (see
    /// [`Endpoint::path_with`](crate::endpoints::Endpoint::path_with)).
    pub fn new(endpoint: Endpoint, args: &[&str]) -> Self {
        Self {
            path: endpoint.path_with(args),
            endpoint,
            query: String::new(),
            body: None,
        }
    }

    /// Adds a query parameter. The value is percent-encoded except for commas, which separate
    /// list elements (`attrs=me,users`).
    pub fn query(mut self, key: &str, value: &str) -> Self {
        if !self.query.is_empty() {
            self.query.push('&');
        }
        encode_into(&mut self.query, key, false);
        self.query.push('=');
        encode_into(&mut self.query, value, true);
        self
    }

    /// Sets the JSON body (encrypted on the wire once a session key exists).
    pub fn body<T: Serialize + ?Sized>(mut self, body: &T) -> Result<Self> {
        let value = serde_json::to_value(body).map_err(|e| {
            ApiError::InvalidInput(format!(
                "could not encode the body of {}: {e}",
                self.endpoint.name
            ))
        })?;
        self.body = Some(value);
        Ok(self)
    }

    /// The endpoint.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// The path and query as sent, e.g. `/api/v1/account?attrs=me,users`.
    pub fn path_and_query(&self) -> String {
        if self.query.is_empty() {
            self.path.clone()
        } else {
            format!("{}?{}", self.path, self.query)
        }
    }
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("endpoint", &self.endpoint.name)
            .field("method", &self.endpoint.method)
            .field("path", &self.path)
            .field("has_body", &self.body.is_some())
            .finish()
    }
}

/// A session: its id, and once SRP is done its key, MAC key and request counter.
pub(crate) struct Session {
    id: String,
    key: Option<SymmetricKey>,
    mac: Option<MacKey>,
    next_request_id: AtomicU64,
}

impl Session {
    /// A session that has an id and no key yet (between `auth/start` and the SRP exchange).
    pub(crate) fn started(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            key: None,
            mac: None,
            next_request_id: AtomicU64::new(1),
        }
    }

    /// A session with its key (`kid` = session id); the request counter starts at 1.
    pub(crate) fn with_key(id: impl Into<String>, key: &[u8; 32]) -> Self {
        let id = id.into();
        Self {
            key: Some(SymmetricKey::new(id.clone(), *key)),
            mac: Some(MacKey::derive(key)),
            id,
            next_request_id: AtomicU64::new(1),
        }
    }

    pub(crate) fn id(&self) -> &str {
        &self.id
    }

    fn is_signed(&self) -> bool {
        self.key.is_some()
    }

    fn next_request_id(&self) -> u64 {
        self.next_request_id.fetch_add(1, Ordering::SeqCst)
    }
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("id", &self.id)
            .field("key", &self.key.as_ref().map(|_| "<redacted>"))
            .field(
                "next_request_id",
                &self.next_request_id.load(Ordering::SeqCst),
            )
            .finish()
    }
}

/// What the transport calls to sign in again after a session expired.
#[async_trait]
pub(crate) trait Reauthenticate: Send + Sync {
    /// Runs the sign-in again and returns the new session (not yet installed).
    async fn reauthenticate(&self, transport: &Transport) -> Result<Arc<Session>>;
}

struct Current {
    session: Arc<Session>,
    generation: u64,
}

struct Inner {
    http: reqwest::Client,
    base: Url,
    config: TransportConfig,
    current: RwLock<Option<Current>>,
    generation: AtomicU64,
    reauth: RwLock<Option<Arc<dyn Reauthenticate>>>,
    /// Held while a sign-in again runs; what the last one left.
    reauth_state: tokio::sync::Mutex<ReauthState>,
    /// Sign-ins again that have finished, succeeded or failed (read before waiting for
    /// `reauth_state`, to learn whether one finished while a call waited).
    reauth_finished: AtomicU64,
    /// The one limit on requests in flight.
    limiter: Limiter,
}

/// What the sign-ins again left behind.
#[derive(Default)]
struct ReauthState {
    /// The last sign-in again's failure, if it failed.
    last_failure: Option<ApiError>,
    /// A failure that will not pass by itself (wrong credentials, a refused token, a failed
    /// check of the server): every later expiry gets it without another attempt.
    final_failure: Option<ApiError>,
}

/// The HTTP side of a 1Password account: base address, HTTP client, session state. Cheap to
/// clone (shared).
#[derive(Clone)]
pub struct Transport {
    inner: Arc<Inner>,
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let session = self.current().map(|(s, _)| s);
        f.debug_struct("Transport")
            .field("base", &self.inner.base.as_str())
            .field("session", &session)
            .field("client", &self.inner.config.client)
            .finish_non_exhaustive()
    }
}

/// Whether a failed attempt may have had its effect on the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Applied {
    No,
    Maybe,
}

struct Failure {
    error: ApiError,
    applied: Applied,
}

impl Failure {
    fn new(error: ApiError, applied: Applied) -> Self {
        Self { error, applied }
    }
}

impl Transport {
    /// The one HTTP client factory: a transport for a sign-in address (see [`parse_address`]),
    /// with rustls (aws-lc-rs), no redirects, HTTPS only unless the address is plain `http` to
    /// loopback or insecure http is allowed.
    pub fn new(address: &str, config: TransportConfig) -> Result<Self> {
        let base = parse_address(address, config.allow_insecure_http)?;
        let mut headers = reqwest::header::HeaderMap::new();
        let client_value = reqwest::header::HeaderValue::from_str(&config.client).map_err(|_| {
            ApiError::InvalidInput(format!(
                "the client descriptor {:?} is not a valid header value; use name/version in ASCII",
                config.client
            ))
        })?;
        headers.insert(CLIENT_HEADER, client_value);
        let http = reqwest::Client::builder()
            .tls_backend_rustls()
            .https_only(base.scheme() == "https")
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(config.user_agent.clone())
            .default_headers(headers)
            .timeout(config.timeout)
            .connect_timeout(config.connect_timeout)
            .build()
            .map_err(|e| ApiError::Transport {
                detail: format!(
                    "could not set up the HTTP client ({})",
                    http::describe_error(&e)
                ),
                source: Some(Arc::new(e)),
            })?;
        let config_concurrency = config.concurrency;
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                base,
                config,
                current: RwLock::new(None),
                generation: AtomicU64::new(0),
                reauth: RwLock::new(None),
                reauth_state: tokio::sync::Mutex::new(ReauthState::default()),
                reauth_finished: AtomicU64::new(0),
                limiter: Limiter::new(config_concurrency),
            }),
        })
    }

    /// The API's base URL (`https://my.1password.com/`).
    pub fn base_url(&self) -> &Url {
        &self.inner.base
    }

    /// The configuration.
    pub fn config(&self) -> &TransportConfig {
        &self.inner.config
    }

    /// The adaptive limit on requests in flight as it stands now.
    pub fn concurrency_limit(&self) -> usize {
        self.inner.limiter.limit()
    }

    /// The current session's id, when signed in.
    pub fn session_id(&self) -> Option<String> {
        self.current().map(|(s, _)| s.id().to_owned())
    }

    /// Forgets the session and the means to sign in again (after sign-out).
    pub fn clear_session(&self) {
        if let Ok(mut current) = self.inner.current.write() {
            *current = None;
        }
        if let Ok(mut reauth) = self.inner.reauth.write() {
            *reauth = None;
        }
    }

    fn current(&self) -> Option<(Arc<Session>, u64)> {
        self.inner
            .current
            .read()
            .ok()
            .and_then(|c| c.as_ref().map(|c| (c.session.clone(), c.generation)))
    }

    /// Makes `session` the one every call uses.
    pub(crate) fn install_session(&self, session: Arc<Session>) {
        let generation = self.inner.generation.fetch_add(1, Ordering::SeqCst) + 1;
        if let Ok(mut current) = self.inner.current.write() {
            *current = Some(Current {
                session,
                generation,
            });
        }
    }

    /// Sets what signs in again after a session expired.
    pub(crate) fn set_reauthenticator(&self, reauth: Arc<dyn Reauthenticate>) {
        if let Ok(mut slot) = self.inner.reauth.write() {
            *slot = Some(reauth);
        }
    }

    /// Sends a call with the current session, retrying as the policy and the endpoint allow and
    /// signing in again once if the session expired. Returns the (decrypted) JSON answer;
    /// `Value::Null` for an empty body.
    pub async fn send(&self, request: Request) -> Result<Value> {
        let name = request.endpoint.name;
        self.send_answer(request).await?.into_value(name)
    }

    /// Like [`send`](Self::send), reading the answer as `T` straight from its text (no
    /// `Value` in between: a large answer is held once).
    pub async fn send_json<T: DeserializeOwned>(&self, request: Request) -> Result<T> {
        let name = request.endpoint.name;
        self.send_answer(request).await?.parse(name)
    }

    /// [`send`](Self::send) up to the answer's text.
    async fn send_answer(&self, request: Request) -> Result<Answer> {
        let current = self.current();
        let session = current.as_ref().map(|(s, _)| s.clone());
        let result = self.send_with_session(&request, session.as_ref()).await;
        match result {
            Err(ApiError::SessionExpired)
                if request.endpoint.reauthenticate
                    && session.as_ref().is_some_and(|s| s.is_signed()) =>
            {
                let seen = current.map(|(_, g)| g).unwrap_or_default();
                self.reauthenticate(seen).await?;
                let session = self.current().map(|(s, _)| s);
                self.send_with_session(&request, session.as_ref()).await
            }
            other => other,
        }
    }

    async fn reauthenticate(&self, seen_generation: u64) -> Result<()> {
        let reauth = self
            .inner
            .reauth
            .read()
            .ok()
            .and_then(|r| r.clone())
            .ok_or(ApiError::SessionExpired)?;
        let ticket = self.inner.reauth_finished.load(Ordering::SeqCst);
        let mut state = self.inner.reauth_state.lock().await;
        if let Some(error) = &state.final_failure {
            return Err(error.clone());
        }
        if self.current().map(|(_, g)| g) != Some(seen_generation) {
            // Another call signed in again while this one waited.
            return Ok(());
        }
        if self.inner.reauth_finished.load(Ordering::SeqCst) > ticket
            && let Some(error) = &state.last_failure
        {
            // A sign-in again finished while this call waited, and failed: share its outcome
            // rather than try again at once.
            return Err(error.clone());
        }
        tracing::info!("the 1Password session expired; signing in again");
        let result = reauth.reauthenticate(self).await;
        self.inner.reauth_finished.fetch_add(1, Ordering::SeqCst);
        match result {
            Ok(session) => {
                state.last_failure = None;
                self.install_session(session);
                Ok(())
            }
            Err(error) => {
                tracing::warn!(
                    final_failure = !error.is_retryable(),
                    "signing in again after the session expired failed"
                );
                if !error.is_retryable() {
                    state.final_failure = Some(error.clone());
                }
                state.last_failure = Some(error.clone());
                Err(error)
            }
        }
    }

    /// Sends with an explicit session (or none), with retries and without re-sign-in: the
    /// sign-in flow uses this while it builds its session.
    pub(crate) async fn send_with_session(
        &self,
        request: &Request,
        session: Option<&Arc<Session>>,
    ) -> Result<Answer> {
        let policy = &self.inner.config.retry;
        let started = Instant::now();
        let mut attempt: u32 = 1;
        loop {
            let span = tracing::info_span!(
                "b5.request",
                method = %request.endpoint.method,
                path = %request.path,
                attempt,
                status = tracing::field::Empty,
            );
            let slot = self.inner.limiter.acquire().await;
            let sent = Instant::now();
            let result = self
                .attempt(request, session.map(Arc::as_ref))
                .instrument(span)
                .await;
            self.inner.limiter.record(signal_of(
                &result,
                request.endpoint.name,
                sent.elapsed(),
                policy.max_rate_limit_wait,
            ));
            drop(slot);
            let failure = match result {
                Ok(value) => return Ok(value),
                Err(failure) => failure,
            };
            let Some(delay) = self.retry_delay(request, &failure, attempt) else {
                return Err(Self::final_error(request, failure));
            };
            if attempt >= policy.max_attempts || started.elapsed() + delay > policy.max_elapsed {
                return Err(Self::final_error(request, failure));
            }
            tracing::debug!(
                endpoint = request.endpoint.name,
                attempt,
                delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                "retrying after a transient failure"
            );
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }

    /// The error a call ends with: a failure of a state change checked after failures
    /// ([`Endpoint::checked_after_failure`]) that may have been applied (a 5xx, a broken
    /// connection, a timeout) becomes [`ApiError::MaybeApplied`], keeping it as the cause.
    fn final_error(request: &Request, failure: Failure) -> ApiError {
        let uncertain = matches!(
            failure.error,
            ApiError::Server {
                status: 500..=599,
                ..
            } | ApiError::Transport { .. }
                | ApiError::Timeout
        );
        if request.endpoint.checked_after_failure && failure.applied == Applied::Maybe && uncertain
        {
            ApiError::MaybeApplied {
                endpoint: request.endpoint.name,
                source: Box::new(failure.error),
            }
        } else {
            failure.error
        }
    }

    /// The wait before the next attempt, or `None` when the failure must not be retried.
    fn retry_delay(&self, request: &Request, failure: &Failure, attempt: u32) -> Option<Duration> {
        let policy = &self.inner.config.retry;
        let transient = match &failure.error {
            ApiError::RateLimited { retry_after } => {
                // The server refused the call before acting on it: safe for any method.
                let wait = retry_after
                    .unwrap_or_else(|| policy.backoff(attempt))
                    .min(policy.max_rate_limit_wait);
                return Some(wait + jitter(Duration::from_millis(100)));
            }
            ApiError::Server { status, .. } => matches!(status, 502..=504),
            ApiError::Transport { .. } | ApiError::Timeout => true,
            _ => false,
        };
        // A state change that may have been applied is repeated only when the endpoint is
        // idempotent and its caller does not check the outcome by reading state instead.
        let safe = failure.applied == Applied::No
            || (request.endpoint.idempotent && !request.endpoint.checked_after_failure);
        (transient && safe).then(|| policy.backoff(attempt))
    }

    /// One attempt: sign, encrypt, send, read, decrypt.
    async fn attempt(
        &self,
        request: &Request,
        session: Option<&Session>,
    ) -> std::result::Result<Answer, Failure> {
        let endpoint = &request.endpoint;
        let url = self
            .inner
            .base
            .join(&request.path_and_query())
            .map_err(|e| {
                Failure::new(
                    ApiError::InvalidInput(format!(
                        "could not build the URL of {}: {e}",
                        endpoint.name
                    )),
                    Applied::No,
                )
            })?;
        let mut builder = self
            .inner
            .http
            .request(endpoint.method.to_reqwest(), url.clone());
        let signing = session.and_then(|s| s.key.as_ref().zip(s.mac.as_ref()).map(|k| (s, k)));
        if let Some(session) = session {
            builder = builder.header(SESSION_HEADER, session.id.as_str());
        }
        if let Some((session, (_, mac))) = signing {
            let request_id = session.next_request_id();
            let header = mac
                .sign(
                    &session.id,
                    endpoint.method.as_str(),
                    url.as_str(),
                    request_id,
                )
                .map_err(|e| Failure::new(ApiError::Crypto(e), Applied::No))?;
            builder = builder.header(MAC_HEADER, header);
        }
        if let Some(body) = &request.body {
            builder = match signing {
                Some((_, (key, _))) => builder.json(&key.encrypt_json(body)),
                None => builder.json(body),
            };
        }

        let response = builder.send().await.map_err(classify_send_error)?;
        let status = response.status().as_u16();
        tracing::Span::current().record("status", status);
        let retry_in = response
            .headers()
            .get(RETRY_IN_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(http::parse_retry_seconds);
        let success = (200..300).contains(&status);
        if (300..400).contains(&status) {
            return Err(Failure::new(
                ApiError::Protocol(format!(
                    "the server answered {} with a redirect (HTTP {status}), which this client \
                     never follows; check the sign-in address",
                    endpoint.name
                )),
                Applied::Maybe,
            ));
        }
        let bytes = http::read_capped(response, self.inner.config.max_answer_bytes)
            .await
            .map_err(|e| match e {
                ReadError::TooLarge { limit } => Failure::new(
                    ApiError::AnswerTooLarge {
                        endpoint: endpoint.name,
                        limit,
                    },
                    Applied::Maybe,
                ),
                ReadError::Timeout => Failure::new(ApiError::Timeout, Applied::Maybe),
                ReadError::Transport(e) => Failure::new(ApiError::transport(e), Applied::Maybe),
            })?;
        let applied = if status == 429 || (400..500).contains(&status) {
            Applied::No
        } else {
            Applied::Maybe
        };

        let keyed = signing.is_some();
        let (answer, error_code) = match Shape::of(&bytes) {
            Some(shape) if shape.is_envelope() => {
                let plaintext = self
                    .open(endpoint, &shape, session)
                    .map_err(|e| Failure::new(e, Applied::Maybe))?;
                drop(bytes);
                let Some(inner) = Shape::of(&plaintext) else {
                    return Err(Failure::new(
                        ApiError::Protocol(format!(
                            "the decrypted answer to {} is not JSON",
                            endpoint.name
                        )),
                        Applied::Maybe,
                    ));
                };
                let error_code = inner.error_code;
                (Answer::new(plaintext), error_code)
            }
            Some(shape) => {
                let error_code = shape.error_code;
                let answer = Answer::new(Zeroizing::new(bytes));
                // Once the session key exists, a success answer must be an envelope, except
                // exactly `{"success":1}` from an endpoint on the allow-list.
                if keyed && success && !(endpoint.plain_success_answer && answer.is_plain_success())
                {
                    return Err(Failure::new(
                        ApiError::Tampered(format!(
                            "the answer to {} is not encrypted with the session key, and this \
                             endpoint's answers must be",
                            endpoint.name
                        )),
                        Applied::Maybe,
                    ));
                }
                (answer, error_code)
            }
            None if success && keyed => {
                return Err(Failure::new(
                    ApiError::Tampered(format!(
                        "the answer to {} is neither an envelope nor JSON",
                        endpoint.name
                    )),
                    Applied::Maybe,
                ));
            }
            None if success => {
                return Err(Failure::new(
                    ApiError::Protocol(format!(
                        "the answer to {} (HTTP {status}) is not JSON",
                        endpoint.name
                    )),
                    Applied::Maybe,
                ));
            }
            None => (Answer::new(Zeroizing::new(Vec::new())), false),
        };

        if success {
            if error_code {
                return Err(Failure::new(
                    ApiError::from_error_body(status, &answer.error_body())
                        .at_endpoint(endpoint.name),
                    Applied::Maybe,
                ));
            }
            return Ok(answer);
        }
        let body = answer.error_body();
        let error = ApiError::from_error_body(status, &body)
            .with_retry_after(retry_in)
            .at_endpoint(endpoint.name);
        tracing::debug!(
            endpoint = endpoint.name,
            status,
            error_code = body.error_code,
            "the server answered with an error"
        );
        Err(Failure::new(error, applied))
    }

    /// Opens an encrypted answer with the session key, in place; any failure is tampering.
    fn open(
        &self,
        endpoint: &Endpoint,
        shape: &Shape<'_>,
        session: Option<&Session>,
    ) -> Result<Zeroizing<Vec<u8>>> {
        let name = endpoint.name;
        let Some((session, key)) = session.and_then(|s| s.key.as_ref().map(|k| (s, k))) else {
            return Err(ApiError::Tampered(format!(
                "the answer to {name} is encrypted, but no session key exists yet"
            )));
        };
        let envelope = shape.envelope().ok_or_else(|| {
            ApiError::Tampered(format!("the encrypted answer to {name} is malformed"))
        })?;
        if envelope.kid != session.id.as_str() {
            return Err(ApiError::Tampered(format!(
                "the answer to {name} is encrypted with a key other than this session's"
            )));
        }
        let undecryptable = || {
            ApiError::Tampered(format!(
                "the encrypted answer to {name} did not decrypt with the session key"
            ))
        };
        if envelope.enc != ENC_A256GCM {
            return Err(undecryptable());
        }
        let iv = envelope.iv.as_deref().ok_or_else(undecryptable)?;
        key.decrypt_raw(iv, &envelope.data)
            .map_err(|_| undecryptable())
    }
}

fn classify_send_error(error: reqwest::Error) -> Failure {
    if error.is_connect() {
        // Nothing reached the server.
        Failure::new(ApiError::transport(error), Applied::No)
    } else if error.is_timeout() {
        Failure::new(ApiError::Timeout, Applied::Maybe)
    } else if error.is_builder() {
        Failure::new(
            ApiError::InvalidInput(http::describe_error(&error)),
            Applied::No,
        )
    } else {
        Failure::new(ApiError::transport(error), Applied::Maybe)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_hostile_retry_wait_pauses_everyone_no_longer_than_one_retry_would_wait() {
        let refused: std::result::Result<(), _> = Err(super::Failure::new(
            super::ApiError::RateLimited {
                retry_after: Some(std::time::Duration::from_secs(86_400)),
            },
            super::Applied::No,
        ));
        let cap = std::time::Duration::from_secs(60);
        assert_eq!(
            super::signal_of(&refused, "an endpoint", std::time::Duration::ZERO, cap),
            super::Signal::RateLimited(Some(cap))
        );
    }

    use super::*;

    #[test]
    fn addresses() {
        let u = parse_address("my.1password.com", false).unwrap();
        assert_eq!(u.as_str(), "https://my.1password.com/");
        let u = parse_address(" https://acme.1password.eu/signin?x=1 ", false).unwrap();
        assert_eq!(u.as_str(), "https://acme.1password.eu/");
        for ok in [
            "http://127.0.0.1:8080",
            "http://127.1.2.3",
            "http://[::1]:99",
            "http://localhost:3000/",
        ] {
            assert!(parse_address(ok, false).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "http://my.1password.com",
            "ftp://x",
            "https://user:pw@my.1password.com",
            "http://10.0.0.1",
        ] {
            assert!(
                matches!(parse_address(bad, false), Err(ApiError::InvalidInput(_))),
                "{bad}"
            );
        }
        assert!(parse_address("http://10.0.0.1", true).is_ok());
    }

    #[test]
    fn client_descriptor() {
        assert_eq!(client_parts(DEFAULT_CLIENT), ("opadmin", "0100"));
        assert_eq!(client_parts("x"), ("x", ""));
        assert_eq!(
            client_parts("1Password SDK/0050002"),
            ("1Password SDK", "0050002")
        );
    }

    #[test]
    fn queries_keep_commas() {
        let r = Request::new(crate::endpoints::USERS, &[])
            .query("emails", "a@b.com,c+d@e.com")
            .query("states", "A,S");
        assert_eq!(
            r.path_and_query(),
            "/api/v3/users?emails=a%40b.com,c%2Bd%40e.com&states=A,S"
        );
    }

    #[test]
    fn backoff_is_bounded() {
        let p = RetryPolicy::default();
        for attempt in 1..40 {
            assert!(p.backoff(attempt) <= p.max_backoff);
        }
        assert!(p.backoff(1) >= p.initial_backoff / 2);
    }

    #[test]
    fn request_counter_starts_at_one() {
        let s = Session::with_key("SESSION", &[7u8; 32]);
        assert_eq!(s.next_request_id(), 1);
        assert_eq!(s.next_request_id(), 2);
        let shown = format!("{s:?}");
        assert!(shown.contains("<redacted>"), "{shown}");
    }
}

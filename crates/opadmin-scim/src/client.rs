//! The SCIM 2.0 HTTP client: bearer token, `application/scim+json`, 1-based paging, `eq` filters,
//! and the transport rules of the b5 client (see [`ScimClient`]).

use std::fmt;
use std::time::{Duration, SystemTime};

use opadmin_api::http::{self, ReadError, describe_error};
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tracing::Instrument;
use zeroize::Zeroizing;

use super::model::{ListResponse, PatchOp, ScimErrorBody};
use opadmin_directory::{Error, Result};

pub use opadmin_api::http::DEFAULT_MAX_ANSWER_BYTES;

/// The SCIM media type (RFC 7644 §3.1).
pub const SCIM_MEDIA_TYPE: &str = "application/scim+json";

/// Resources per page asked for when listing (1Password accepts at least 100).
pub const DEFAULT_PAGE_SIZE: u32 = 100;

/// Retries after a retryable failure before giving up.
pub const DEFAULT_MAX_RETRIES: u32 = 3;

/// The longest single wait the client accepts; a longer `Retry-After` is reported, not waited.
pub const DEFAULT_MAX_RETRY_WAIT: Duration = Duration::from_secs(30);

/// Time limit of one attempt on the default HTTP client, from sending to the whole answer read.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// Time limit to open a connection on the default HTTP client.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Safety bound on pages per listing (10,000 pages of 100 = a million resources).
const MAX_PAGES: u32 = 10_000;

/// The smallest body cap accepted by [`ScimClient::max_answer_bytes`].
const MIN_ANSWER_BYTES: usize = 1024;

/// A SCIM bearer token. Its `Debug` and `Display` never show it, and it is wiped on drop.
#[derive(Clone)]
pub struct BearerToken(Zeroizing<String>);

impl BearerToken {
    /// Wraps a token.
    pub fn new(token: impl Into<String>) -> Self {
        Self(Zeroizing::new(token.into()))
    }

    fn expose(&self) -> &str {
        self.0.as_str()
    }
}

impl fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BearerToken(<redacted>)")
    }
}

impl From<String> for BearerToken {
    fn from(s: String) -> Self {
        Self::new(s)
    }
}

impl From<&str> for BearerToken {
    fn from(s: &str) -> Self {
        Self::new(s)
    }
}

/// A filter of the one form this client sends: `attr eq "value"`, the value escaped as a JSON
/// string (so `"` and `\` cannot break out of it).
///
/// ```
/// use opadmin_scim::Filter;
/// let f = Filter::eq("userName", r#"o"brien\x@example.com"#).unwrap();
/// assert_eq!(f.as_str(), r#"userName eq "o\"brien\\x@example.com""#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter(String);

impl Filter {
    /// `attr eq "value"`. The attribute must be a plain SCIM attribute path (letters, digits,
    /// `.`, `_`, `-`, `:`, `$`), never text from outside.
    pub fn eq(attribute: &str, value: &str) -> Result<Self> {
        let plain = !attribute.is_empty()
            && attribute
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | ':' | '$'));
        if !plain {
            return Err(Error::InvalidInput(format!(
                "{attribute:?} is not a SCIM attribute name; use a plain name such as userName or displayName"
            )));
        }
        let quoted = serde_json::to_string(value)
            .map_err(|e| Error::InvalidInput(format!("filter value: {e}")))?;
        Ok(Self(format!("{attribute} eq {quoted}")))
    }

    /// The filter text, as sent in `?filter=`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Makes a [`ScimClient`] with settings fixed at construction: the connect timeout, plain HTTP
/// to hosts that are not loopback, or an HTTP client of your own.
///
/// ```
/// # fn run() -> opadmin_directory::Result<()> {
/// use std::time::Duration;
/// use opadmin_scim::ScimClient;
///
/// let client = ScimClient::builder("https://scim.example.com", "token")
///     .connect_timeout(Duration::from_secs(5))
///     .build()?
///     .timeout(Duration::from_secs(30));
/// # Ok(()) }
/// ```
pub struct ScimClientBuilder {
    base_url: String,
    token: BearerToken,
    connect_timeout: Duration,
    allow_insecure_http: bool,
    http: Option<reqwest::Client>,
}

impl fmt::Debug for ScimClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScimClientBuilder")
            .field("base_url", &self.base_url)
            .field("token", &self.token)
            .field("connect_timeout", &self.connect_timeout)
            .field("allow_insecure_http", &self.allow_insecure_http)
            .field("own_http_client", &self.http.is_some())
            .finish()
    }
}

impl ScimClientBuilder {
    /// Time limit to open a connection (default [`DEFAULT_CONNECT_TIMEOUT`]). Ignored with an
    /// HTTP client of your own, which keeps its own.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Allows plain `http://` to hosts that are not loopback. **For test set-ups only**: the
    /// bearer token, which grants provisioning rights over the whole account, would travel in
    /// clear. Off by default; loopback hosts (`127.0.0.0/8`, `::1`, `localhost`) never need it.
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }

    /// Uses a `reqwest::Client` of your own (proxies, CA roots). The URL rules still apply.
    /// Build it with `redirect(reqwest::redirect::Policy::none())`: a client that follows
    /// redirects would send the request on before this client sees the 3xx (reqwest drops the
    /// token on a redirect to another host, but not on one to the same host).
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }

    /// Checks the URL and the token and makes the client.
    ///
    /// Errors ([`Error::InvalidInput`]): a URL that does not parse, is not `https://` (or
    /// `http://` to a loopback host, or any host with [`allow_insecure_http`](Self::allow_insecure_http)),
    /// carries a user name, password, query or fragment; an empty token, or one that cannot be
    /// sent in an HTTP header.
    pub fn build(self) -> Result<ScimClient> {
        let trimmed = self.base_url.trim();
        let parsed = url::Url::parse(trimmed).map_err(|e| {
            Error::InvalidInput(format!(
                "SCIM base URL {trimmed:?}: {e}; give the bridge's full URL, e.g. https://scim.example.com"
            ))
        })?;
        match parsed.scheme() {
            "https" => {}
            "http" if http::is_loopback(&parsed) || self.allow_insecure_http => {}
            "http" => {
                return Err(Error::InvalidInput(format!(
                    "refusing plain http to {:?}: the SCIM bearer token would travel in clear; \
                     use https (plain http is accepted only to a loopback address, or with \
                     allow_insecure_http for a test set-up)",
                    parsed.host_str().unwrap_or_default()
                )));
            }
            _ => {
                return Err(Error::InvalidInput(format!(
                    "SCIM base URL {trimmed:?} must start with https:// (or http:// for a local test server)"
                )));
            }
        }
        if parsed.host().is_none() {
            return Err(Error::InvalidInput(format!(
                "SCIM base URL {trimmed:?} has no host; give the bridge's full URL"
            )));
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            // Not quoted: the part before `@` may be a credential.
            return Err(Error::InvalidInput(
                "the SCIM base URL must not carry a user name or password; pass the bearer token \
                 separately"
                    .into(),
            ));
        }
        if parsed.query().is_some() || parsed.fragment().is_some() {
            return Err(Error::InvalidInput(
                "the SCIM base URL must not carry a query or fragment; give only the bridge's URL"
                    .into(),
            ));
        }
        // Surrounding whitespace (a token read from a file ends in a newline) is not part of it.
        let token = match self.token.expose().trim() {
            t if t.len() == self.token.expose().len() => self.token,
            t => BearerToken::new(t),
        };
        if token.expose().is_empty() {
            return Err(Error::InvalidInput(
                "the SCIM bearer token is empty; pass the token issued when the bridge was set up"
                    .into(),
            ));
        }
        if !token.expose().bytes().all(|b| b.is_ascii_graphic()) {
            // Not quoted: the message must not carry the token.
            return Err(Error::InvalidInput(
                "the SCIM bearer token contains spaces or characters that cannot be sent in an \
                 HTTP header; copy the token again"
                    .into(),
            ));
        }
        let (http, own_client) = match self.http {
            Some(http) => (http, true),
            None => {
                let http = reqwest::Client::builder()
                    .tls_backend_rustls()
                    .https_only(parsed.scheme() == "https")
                    .redirect(reqwest::redirect::Policy::none())
                    .user_agent(format!("opadmin/{}", env!("CARGO_PKG_VERSION")))
                    .timeout(DEFAULT_TIMEOUT)
                    .connect_timeout(self.connect_timeout)
                    .build()
                    .map_err(|e| {
                        Error::transport(format!(
                            "could not set up the HTTP client ({})",
                            describe_error(&e)
                        ))
                    })?;
                (http, false)
            }
        };
        Ok(ScimClient {
            base: trimmed.trim_end_matches('/').to_owned(),
            token,
            http,
            own_client,
            page_size: DEFAULT_PAGE_SIZE,
            max_retries: DEFAULT_MAX_RETRIES,
            max_retry_wait: DEFAULT_MAX_RETRY_WAIT,
            timeout: None,
            max_answer_bytes: DEFAULT_MAX_ANSWER_BYTES,
        })
    }
}

/// A SCIM 2.0 client for one service provider (a 1Password SCIM bridge, hosted provisioning, or
/// any RFC 7644 server).
///
/// The base URL is used verbatim: `https://scim.example.com`, `https://scim.example.com/scim`,
/// `…/scim/v2` and `https://provisioning.1password.com/scim/v2` are all taken as given, and
/// resource paths (`/Users`, `/Groups`, …) are appended to it.
///
/// Transport rules:
///
/// * **HTTPS only**, except plain `http://` to a loopback host (a local test server); plain
///   `http://` anywhere else is refused when the client is made, because the bearer token
///   would travel in clear, unless [`ScimClientBuilder::allow_insecure_http`] is set on purpose.
/// * **Timeouts**: 10 s to connect and 60 s in all per attempt, body included, by default
///   ([`ScimClient::timeout`]); a body that drips slowly ends there as [`Error::Timeout`].
/// * **No redirects**: a 3xx answer is an error ([`Error::Protocol`]) and its target is never
///   contacted.
/// * **Bounded reads**: every body is read with a cap ([`ScimClient::max_answer_bytes`], default
///   [`DEFAULT_MAX_ANSWER_BYTES`]); past it the call fails with [`Error::AnswerTooLarge`] and
///   memory stays near the cap.
/// * **Retries that never repeat a change**: a 429 is retried for any method (the server refused
///   before acting); a 502/503/504, a timeout or a connection lost after sending only for `GET`;
///   a connection that could not be opened for any method (nothing reached the server). So a
///   `POST /Users` answered 503 is sent exactly once and its error returned. `Retry-After` is
///   honoured as delay-seconds or an HTTP date.
/// * **The token stays secret**: it travels only in the `Authorization` header (marked
///   sensitive), never in a URL; `Debug` redacts it; error messages carry no URL from the HTTP
///   library and any text the server sends back has the token scrubbed from it; tracing
///   records the method, path, attempt and status only.
#[derive(Clone)]
pub struct ScimClient {
    base: String,
    token: BearerToken,
    http: reqwest::Client,
    own_client: bool,
    page_size: u32,
    max_retries: u32,
    max_retry_wait: Duration,
    /// Per-attempt total timeout set with [`ScimClient::timeout`]; `None` keeps the HTTP
    /// client's own (60 s on the default client).
    timeout: Option<Duration>,
    max_answer_bytes: usize,
}

impl fmt::Debug for ScimClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScimClient")
            .field("base", &self.base)
            .field("token", &self.token)
            .field("own_http_client", &self.own_client)
            .field("page_size", &self.page_size)
            .field("max_retries", &self.max_retries)
            .field("max_retry_wait", &self.max_retry_wait)
            .field("timeout", &self.timeout)
            .field("max_answer_bytes", &self.max_answer_bytes)
            .finish_non_exhaustive()
    }
}

/// What an exchange answered: the status and, if any, the body.
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) body: Vec<u8>,
}

impl Answer {
    /// The body as `T`, or `None` when there is none (204, or an empty 200).
    pub(crate) fn json<T: DeserializeOwned>(&self) -> Result<Option<T>> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        serde_json::from_slice(&self.body).map(Some).map_err(|e| {
            // serde's message may quote a value from the answer; keep it only when it quotes none.
            let detail = e.to_string();
            let detail = if detail.contains('"') || detail.contains('`') {
                "a field has an unexpected value".to_owned()
            } else {
                detail
            };
            Error::Protocol(format!("SCIM answer (HTTP {}): {detail}", self.status))
        })
    }
}

/// Whether a failed attempt may have changed something on the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Failed {
    /// Refused before acting: 429. Safe to repeat for any method.
    RateLimited,
    /// Nothing reached the server (no connection could be opened). Safe for any method.
    NotSent,
    /// Transient, but the request may have been applied (502/503/504, a timeout or a
    /// connection lost after sending). Repeated only for `GET` and `HEAD`.
    MaybeApplied,
    /// Not worth repeating (4xx, 5xx other than the above, 3xx, an answer too large).
    Final,
}

/// Whether a failure of `kind` on `method` may be sent again.
fn may_retry(kind: Failed, method: &Method) -> bool {
    match kind {
        Failed::RateLimited | Failed::NotSent => true,
        Failed::MaybeApplied => matches!(*method, Method::GET | Method::HEAD),
        Failed::Final => false,
    }
}

struct Failure {
    error: Error,
    kind: Failed,
    retry_after: Option<Duration>,
}

impl Failure {
    fn new(error: Error, kind: Failed) -> Self {
        Self {
            error,
            kind,
            retry_after: None,
        }
    }
}

impl ScimClient {
    /// A client for `base_url` with this bearer token, on the default HTTP client (rustls, no
    /// redirects, 10 s connect and 60 s total timeouts). `https://` only, or `http://` to a
    /// loopback host; see [`builder`](Self::builder) for the opt-in to plain HTTP elsewhere.
    pub fn new(base_url: &str, token: impl Into<BearerToken>) -> Result<Self> {
        Self::builder(base_url, token).build()
    }

    /// Like [`new`](Self::new), with a `reqwest::Client` of your own (proxies, CA roots,
    /// timeouts). The same URL rules apply; build the client without redirects (see
    /// [`ScimClientBuilder::http_client`]).
    pub fn with_http_client(
        base_url: &str,
        token: impl Into<BearerToken>,
        http: reqwest::Client,
    ) -> Result<Self> {
        Self::builder(base_url, token).http_client(http).build()
    }

    /// A builder for settings fixed at construction (connect timeout, plain HTTP to
    /// non-loopback hosts for test set-ups, an HTTP client of your own).
    pub fn builder(base_url: &str, token: impl Into<BearerToken>) -> ScimClientBuilder {
        ScimClientBuilder {
            base_url: base_url.to_owned(),
            token: token.into(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            allow_insecure_http: false,
            http: None,
        }
    }

    /// Resources per page when listing (at least 1).
    pub fn page_size(mut self, page_size: u32) -> Self {
        self.page_size = page_size.max(1);
        self
    }

    /// Retries after a retryable failure, and the longest single wait (a longer `Retry-After`
    /// is reported as the error without waiting: [`Error::RateLimited`] for a 429).
    pub fn retries(mut self, max_retries: u32, max_wait: Duration) -> Self {
        self.max_retries = max_retries;
        self.max_retry_wait = max_wait;
        self
    }

    /// Time limit of one attempt, from sending to the whole answer read (a body that arrives
    /// too slowly ends here as [`Error::Timeout`]). Applies to every request, on the default
    /// client (whose own limit is [`DEFAULT_TIMEOUT`]) or one of your own.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The largest answer body read, in bytes (at least 1 KiB; default
    /// [`DEFAULT_MAX_ANSWER_BYTES`], 64 MiB); a larger one is [`Error::AnswerTooLarge`].
    pub fn max_answer_bytes(mut self, bytes: usize) -> Self {
        self.max_answer_bytes = bytes.max(MIN_ANSWER_BYTES);
        self
    }

    /// The base URL, as configured (without a trailing `/`).
    pub fn base_url(&self) -> &str {
        &self.base
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Removes the token from text that came from outside (a server's error detail, an HTTP
    /// library's message): a server may echo the `Authorization` header back.
    fn scrub(&self, text: &str) -> String {
        let token = self.token.expose();
        if token.is_empty() {
            text.to_owned()
        } else {
            text.replace(token, "<redacted>")
        }
    }

    /// One exchange, with bounded retries where repeating cannot apply a change twice.
    /// Non-2xx answers become errors.
    pub(crate) async fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&serde_json::Value>,
    ) -> Result<Answer> {
        let body = body
            .map(serde_json::to_vec)
            .transpose()
            .map_err(|e| Error::InvalidInput(format!("SCIM request body: {e}")))?;
        let mut attempt = 0u32;
        loop {
            let span = tracing::info_span!(
                "scim.request",
                method = %method,
                path = %path,
                attempt = attempt + 1,
                status = tracing::field::Empty,
            );
            let failure = match self
                .attempt(&method, path, query, body.as_deref(), &span)
                .instrument(span.clone())
                .await
            {
                Ok(answer) => return Ok(answer),
                Err(failure) => failure,
            };
            if attempt >= self.max_retries || !may_retry(failure.kind, &method) {
                if failure.kind == Failed::MaybeApplied && !may_retry(failure.kind, &method) {
                    tracing::debug!(%method, path, "SCIM: not retried, the request may have been applied");
                }
                return Err(failure.error);
            }
            let wait = failure.retry_after.unwrap_or_else(|| backoff(attempt));
            if wait > self.max_retry_wait {
                return Err(failure.error);
            }
            attempt += 1;
            tracing::debug!(%method, path, ?wait, attempt, "SCIM: retrying");
            tokio::time::sleep(wait).await;
        }
    }

    /// One attempt: send, check the status, read the body with the cap.
    async fn attempt(
        &self,
        method: &Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&[u8]>,
        span: &tracing::Span,
    ) -> std::result::Result<Answer, Failure> {
        let mut request = self
            .http
            .request(method.clone(), self.url(path))
            .bearer_auth(self.token.expose())
            .header(
                reqwest::header::ACCEPT,
                "application/scim+json, application/json",
            );
        if !query.is_empty() {
            request = request.query(query);
        }
        if let Some(timeout) = self.timeout {
            request = request.timeout(timeout);
        }
        if let Some(body) = body {
            request = request
                .header(reqwest::header::CONTENT_TYPE, SCIM_MEDIA_TYPE)
                .body(body.to_vec());
        }
        let response = request
            .send()
            .await
            .map_err(|e| self.send_failure(&e, method, path))?;
        let status = response.status();
        span.record("status", status.as_u16());
        if status.is_redirection() {
            return Err(Failure::new(
                Error::Protocol(format!(
                    "the SCIM server answered {method} {path} with a redirect (HTTP {}); \
                     redirects are never followed, so nothing was sent on. Check the SCIM base URL",
                    status.as_u16()
                )),
                Failed::Final,
            ));
        }
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| http::parse_retry_after(v, SystemTime::now()));
        let body = http::read_capped(response, self.max_answer_bytes)
            .await
            .map_err(|e| match e {
                ReadError::TooLarge { limit } => {
                    Failure::new(Error::AnswerTooLarge { limit }, Failed::Final)
                }
                ReadError::Timeout => Failure::new(Error::Timeout, Failed::MaybeApplied),
                ReadError::Transport(e) => Failure::new(
                    Error::transport(self.scrub(&format!(
                        "reading the answer to SCIM {method} {path} failed ({})",
                        describe_error(&e)
                    ))),
                    Failed::MaybeApplied,
                ),
            })?;
        if status.is_success() {
            return Ok(Answer { status, body });
        }
        let kind = match status {
            StatusCode::TOO_MANY_REQUESTS => Failed::RateLimited,
            StatusCode::BAD_GATEWAY
            | StatusCode::SERVICE_UNAVAILABLE
            | StatusCode::GATEWAY_TIMEOUT => Failed::MaybeApplied,
            _ => Failed::Final,
        };
        let error = if status == StatusCode::TOO_MANY_REQUESTS {
            Error::RateLimited { retry_after }
        } else {
            let error = error_from(status, &body, method, path);
            if kind == Failed::MaybeApplied && !may_retry(kind, method) {
                annotate_not_repeated(error)
            } else {
                error
            }
        };
        Err(Failure {
            error: scrub_error(error, |t| self.scrub(t)),
            kind,
            retry_after,
        })
    }

    /// A failure of `send()`: typed, without the URL, with whether the server may have acted.
    fn send_failure(&self, e: &reqwest::Error, method: &Method, path: &str) -> Failure {
        if e.is_connect() {
            // No connection was opened: nothing reached the server.
            Failure::new(
                Error::transport(self.scrub(&format!(
                    "could not connect to the SCIM server for {method} {path} ({})",
                    describe_error(e)
                ))),
                Failed::NotSent,
            )
        } else if e.is_timeout() {
            Failure::new(Error::Timeout, Failed::MaybeApplied)
        } else if e.is_builder() {
            Failure::new(
                Error::InvalidInput(self.scrub(&format!(
                    "could not build SCIM {method} {path} ({})",
                    describe_error(e)
                ))),
                Failed::Final,
            )
        } else {
            Failure::new(
                Error::transport(self.scrub(&format!(
                    "SCIM {method} {path} failed after it was sent ({})",
                    describe_error(e)
                ))),
                Failed::MaybeApplied,
            )
        }
    }

    /// GET a resource.
    pub(crate) async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        let answer = self.send(Method::GET, path, &[], None).await?;
        answer
            .json()?
            .ok_or_else(|| Error::Protocol(format!("SCIM GET {path} answered without a body")))
    }

    /// Every resource at `path` (optionally filtered), following 1-based pages until
    /// `totalResults` is reached. Pages are counted by their `Resources`, not `itemsPerPage`.
    pub async fn list<T: DeserializeOwned>(
        &self,
        path: &str,
        filter: Option<&Filter>,
    ) -> Result<Vec<T>> {
        let mut all = Vec::new();
        let mut start: u64 = 1;
        for _ in 0..MAX_PAGES {
            let mut query = vec![
                ("startIndex", start.to_string()),
                ("count", self.page_size.to_string()),
            ];
            if let Some(f) = filter {
                query.push(("filter", f.as_str().to_owned()));
            }
            let answer = self.send(Method::GET, path, &query, None).await?;
            let page: ListResponse<T> = answer.json()?.ok_or_else(|| {
                Error::Protocol(format!("SCIM list {path} answered without a body"))
            })?;
            let got = page.resources.len() as u64;
            all.extend(page.resources);
            let total = page.total_results.unwrap_or(0);
            if got == 0 || start + got > total {
                return Ok(all);
            }
            start += got;
        }
        Err(Error::Protocol(format!(
            "SCIM list {path} did not end after {MAX_PAGES} pages"
        )))
    }

    /// POST a new resource; any 2xx is accepted (1Password answers 200, RFC 7644 says 201).
    pub(crate) async fn create<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T> {
        let body = to_value(body)?;
        let answer = self.send(Method::POST, path, &[], Some(&body)).await?;
        answer
            .json()?
            .ok_or_else(|| Error::Protocol(format!("SCIM POST {path} answered without a body")))
    }

    /// PATCH a resource; `None` when the server answered 204 or without a body.
    pub(crate) async fn patch<T: DeserializeOwned>(
        &self,
        path: &str,
        op: &PatchOp,
    ) -> Result<Option<T>> {
        let body = to_value(op)?;
        let answer = self.send(Method::PATCH, path, &[], Some(&body)).await?;
        answer.json()
    }

    /// DELETE a resource.
    pub(crate) async fn delete(&self, path: &str) -> Result<()> {
        self.send(Method::DELETE, path, &[], None).await.map(drop)
    }
}

fn to_value<B: Serialize>(body: &B) -> Result<serde_json::Value> {
    serde_json::to_value(body).map_err(|e| Error::InvalidInput(format!("SCIM request body: {e}")))
}

/// `/Users/{id}` with the id percent-encoded as one path segment.
pub(crate) fn resource_path(collection: &str, id: &str) -> String {
    let mut out = String::with_capacity(collection.len() + id.len() + 1);
    out.push_str(collection);
    out.push('/');
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// 250 ms, 500 ms, 1 s, … with jitter, capped at 8 s.
fn backoff(attempt: u32) -> Duration {
    let base = 250u64.saturating_mul(1 << attempt.min(5)).min(8_000);
    Duration::from_millis(base + fastrand::u64(0..=base / 4))
}

/// Adds to a 5xx error on a request that changes something that it was not sent again.
fn annotate_not_repeated(error: Error) -> Error {
    match error {
        Error::Transport { message, source } => Error::Transport {
            message: format!(
                "{message}; it was not sent again because the server may have applied it: check \
                 its result before trying again"
            ),
            source,
        },
        other => other,
    }
}

/// Applies `scrub` to every text of an error that can carry words from the server.
fn scrub_error(error: Error, scrub: impl Fn(&str) -> String) -> Error {
    match error {
        Error::InvalidInput(m) => Error::InvalidInput(scrub(&m)),
        Error::InvalidState(m) => Error::InvalidState(scrub(&m)),
        Error::Transport { message, source } => Error::Transport {
            message: scrub(&message),
            source,
        },
        Error::Protocol(m) => Error::Protocol(scrub(&m)),
        Error::Tampered(m) => Error::Tampered(scrub(&m)),
        Error::PermissionDenied { message } => Error::PermissionDenied {
            message: scrub(&message),
        },
        Error::NotFound { what } => Error::NotFound { what: scrub(&what) },
        other => other,
    }
}

/// An error answer as the facade's error, using the SCIM error body when there is one.
fn error_from(status: StatusCode, body: &[u8], method: &Method, path: &str) -> Error {
    let parsed: ScimErrorBody = serde_json::from_slice(body).unwrap_or_default();
    let code = parsed
        .status
        .and_then(|s| StatusCode::from_u16(s).ok())
        .filter(|s| s.is_client_error() || s.is_server_error())
        .unwrap_or(status);
    let detail = parsed
        .detail
        .clone()
        .map(|d| truncate(&d))
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_owned());
    let scim_type = parsed
        .scim_type
        .as_deref()
        .map(|t| format!(" [{t}]"))
        .unwrap_or_default();
    match code {
        StatusCode::UNAUTHORIZED => Error::PermissionDenied {
            message: format!(
                "the SCIM server refused the bearer token (HTTP 401: {detail}); check the token, or issue a new one from the bridge's setup"
            ),
        },
        StatusCode::FORBIDDEN => Error::PermissionDenied {
            message: format!("SCIM {method} {path} (HTTP 403: {detail})"),
        },
        StatusCode::NOT_FOUND => Error::NotFound {
            what: format!("SCIM resource {path}"),
        },
        StatusCode::CONFLICT => Error::InvalidState(format!(
            "the SCIM server refused {method} {path} because it conflicts with an existing resource (HTTP 409{scim_type}: {detail}); look the existing one up instead of creating it"
        )),
        StatusCode::TOO_MANY_REQUESTS => Error::RateLimited { retry_after: None },
        c if c.is_client_error() => Error::InvalidInput(format!(
            "the SCIM server rejected {method} {path} (HTTP {}{scim_type}: {detail})",
            c.as_u16()
        )),
        c => Error::transport(format!(
            "the SCIM server failed on {method} {path} (HTTP {}: {detail})",
            c.as_u16()
        )),
    }
}

fn truncate(s: &str) -> String {
    const MAX: usize = 300;
    if s.len() <= MAX {
        return s.to_owned();
    }
    let mut end = MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_escapes_quotes_and_backslashes() {
        let f = Filter::eq("userName", "a\"b\\c@x.y").unwrap();
        assert_eq!(f.as_str(), r#"userName eq "a\"b\\c@x.y""#);
        let f = Filter::eq("displayName", "line\nbreak").unwrap();
        assert_eq!(f.as_str(), r#"displayName eq "line\nbreak""#);
    }

    #[test]
    fn filter_rejects_attribute_injection() {
        assert!(Filter::eq("userName eq \"x\" or userName", "y").is_err());
        assert!(Filter::eq("", "y").is_err());
        assert!(Filter::eq("emails.value", "y").is_ok());
    }

    #[test]
    fn token_is_redacted() {
        let c = ScimClient::new("https://scim.example.com/", "s3cret-token").unwrap();
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("s3cret"), "{dbg}");
        assert!(dbg.contains("redacted"));
        assert_eq!(c.base_url(), "https://scim.example.com");
    }

    #[test]
    fn base_url_is_kept_verbatim_and_validated() {
        for base in [
            "https://scim.example.com",
            "https://scim.example.com/scim",
            "https://scim.example.com/scim/v2",
            "https://provisioning.1password.com/scim/v2/",
        ] {
            let c = ScimClient::new(base, "t").unwrap();
            assert_eq!(
                c.url("/Users"),
                format!("{}/Users", base.trim_end_matches('/'))
            );
        }
        assert!(ScimClient::new("scim.example.com", "t").is_err());
        assert!(ScimClient::new("ftp://scim.example.com", "t").is_err());
        assert!(ScimClient::new("https://scim.example.com/?x=1", "t").is_err());
        assert!(ScimClient::new("https://scim.example.com", " ").is_err());
    }

    #[test]
    fn resource_paths_encode_ids() {
        assert_eq!(resource_path("/Users", "ABC123"), "/Users/ABC123");
        assert_eq!(resource_path("/Users", "a/b?c"), "/Users/a%2Fb%3Fc");
    }

    #[test]
    fn only_requests_that_cannot_have_been_applied_are_repeated() {
        for m in [
            Method::GET,
            Method::POST,
            Method::PATCH,
            Method::PUT,
            Method::DELETE,
        ] {
            assert!(may_retry(Failed::RateLimited, &m), "{m}");
            assert!(may_retry(Failed::NotSent, &m), "{m}");
            assert!(!may_retry(Failed::Final, &m), "{m}");
            assert_eq!(may_retry(Failed::MaybeApplied, &m), m == Method::GET, "{m}");
        }
    }

    #[test]
    fn backoff_is_bounded() {
        assert!(backoff(10) <= Duration::from_millis(10_000));
        assert!(backoff(0) >= Duration::from_millis(250));
    }

    #[test]
    fn errors_map_by_status_and_body() {
        let e = error_from(
            StatusCode::CONFLICT,
            br#"{"status":"409","scimType":"uniqueness","detail":"exists"}"#,
            &Method::POST,
            "/Users",
        );
        assert!(matches!(&e, Error::InvalidState(m) if m.contains("uniqueness")));
        let e = error_from(StatusCode::NOT_FOUND, b"not json", &Method::GET, "/Users/x");
        assert!(matches!(e, Error::NotFound { .. }));
        let e = error_from(StatusCode::UNAUTHORIZED, b"", &Method::GET, "/Users");
        assert!(matches!(&e, Error::PermissionDenied { message } if message.contains("token")));
        let e = error_from(
            StatusCode::BAD_REQUEST,
            br#"{"status":400}"#,
            &Method::GET,
            "/Users",
        );
        assert!(matches!(e, Error::InvalidInput(_)));
    }
}

//! The SCIM 2.0 HTTP client: bearer token, `application/scim+json`, 1-based paging, `eq` filters,
//! bounded retries on 429/503 honouring `Retry-After`.

use std::fmt;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use zeroize::Zeroizing;

use super::model::{ListResponse, PatchOp, ScimErrorBody};
use crate::error::{Error, Result};

/// The SCIM media type (RFC 7644 §3.1).
pub const SCIM_MEDIA_TYPE: &str = "application/scim+json";

/// Resources per page asked for when listing (1Password accepts at least 100).
pub const DEFAULT_PAGE_SIZE: u32 = 100;

/// Retries after a 429 or 503 before giving up.
pub const DEFAULT_MAX_RETRIES: u32 = 3;

/// The longest single wait the client accepts; a longer `Retry-After` is reported, not waited.
pub const DEFAULT_MAX_RETRY_WAIT: Duration = Duration::from_secs(30);

/// Safety bound on pages per listing (10,000 pages of 100 = a million resources).
const MAX_PAGES: u32 = 10_000;

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
/// use opadmin::scim::Filter;
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

/// A SCIM 2.0 client for one service provider (a 1Password SCIM bridge, hosted provisioning, or
/// any RFC 7644 server).
///
/// The base URL is used verbatim: `https://scim.example.com`, `https://scim.example.com/scim`,
/// `…/scim/v2` and `https://provisioning.1password.com/scim/v2` are all taken as given, and
/// resource paths (`/Users`, `/Groups`, …) are appended to it.
#[derive(Clone)]
pub struct ScimClient {
    base: String,
    token: BearerToken,
    http: reqwest::Client,
    page_size: u32,
    max_retries: u32,
    max_retry_wait: Duration,
}

impl fmt::Debug for ScimClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScimClient")
            .field("base", &self.base)
            .field("token", &self.token)
            .field("page_size", &self.page_size)
            .field("max_retries", &self.max_retries)
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
        serde_json::from_slice(&self.body)
            .map(Some)
            .map_err(|e| Error::Protocol(format!("SCIM answer (HTTP {}): {e}", self.status)))
    }
}

impl ScimClient {
    /// A client for `base_url` (http or https) with this bearer token.
    pub fn new(base_url: &str, token: impl Into<BearerToken>) -> Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| Error::Transport(format!("HTTP client: {e}")))?;
        Self::with_http_client(base_url, token, http)
    }

    /// Like [`new`](Self::new), with a `reqwest::Client` of your own (proxies, CA roots, timeouts).
    pub fn with_http_client(
        base_url: &str,
        token: impl Into<BearerToken>,
        http: reqwest::Client,
    ) -> Result<Self> {
        let parsed = url::Url::parse(base_url.trim()).map_err(|e| {
            Error::InvalidInput(format!(
                "SCIM base URL {base_url:?}: {e}; give the bridge's full URL, e.g. https://scim.example.com"
            ))
        })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(Error::InvalidInput(format!(
                "SCIM base URL {base_url:?} must start with https:// (or http:// for a local test server)"
            )));
        }
        if parsed.query().is_some() || parsed.fragment().is_some() {
            return Err(Error::InvalidInput(format!(
                "SCIM base URL {base_url:?} must not carry a query or fragment; give only the bridge's URL"
            )));
        }
        let token = token.into();
        if token.expose().trim().is_empty() {
            return Err(Error::InvalidInput(
                "the SCIM bearer token is empty; pass the token issued when the bridge was set up"
                    .into(),
            ));
        }
        Ok(Self {
            base: base_url.trim().trim_end_matches('/').to_owned(),
            token,
            http,
            page_size: DEFAULT_PAGE_SIZE,
            max_retries: DEFAULT_MAX_RETRIES,
            max_retry_wait: DEFAULT_MAX_RETRY_WAIT,
        })
    }

    /// Resources per page when listing (at least 1).
    pub fn page_size(mut self, page_size: u32) -> Self {
        self.page_size = page_size.max(1);
        self
    }

    /// Retries after 429/503, and the longest single wait (a longer `Retry-After` is reported as
    /// [`Error::RateLimited`] without waiting).
    pub fn retries(mut self, max_retries: u32, max_wait: Duration) -> Self {
        self.max_retries = max_retries;
        self.max_retry_wait = max_wait;
        self
    }

    /// The base URL, as configured (without a trailing `/`).
    pub fn base_url(&self) -> &str {
        &self.base
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// One exchange, with bounded retries on 429 and 503. Non-2xx answers become errors.
    pub(crate) async fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&serde_json::Value>,
    ) -> Result<Answer> {
        let mut attempt = 0u32;
        loop {
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
            if let Some(body) = body {
                let bytes = serde_json::to_vec(body)
                    .map_err(|e| Error::InvalidInput(format!("SCIM request body: {e}")))?;
                request = request
                    .header(reqwest::header::CONTENT_TYPE, SCIM_MEDIA_TYPE)
                    .body(bytes);
            }
            let response = request.send().await.map_err(|e| transport_error(&e))?;
            let status = response.status();
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(parse_retry_after);
            let body = response
                .bytes()
                .await
                .map_err(|e| transport_error(&e))?
                .to_vec();
            if status.is_success() {
                return Ok(Answer { status, body });
            }
            if matches!(
                status,
                StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
            ) {
                let wait = retry_after.unwrap_or_else(|| backoff(attempt));
                if attempt < self.max_retries && wait <= self.max_retry_wait {
                    attempt += 1;
                    tracing::debug!(%status, ?wait, attempt, "SCIM: retrying");
                    tokio::time::sleep(wait).await;
                    continue;
                }
                if status == StatusCode::TOO_MANY_REQUESTS {
                    return Err(Error::RateLimited { retry_after });
                }
            }
            return Err(error_from(status, &body, &method, path));
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

/// `Retry-After` in delta-seconds (an HTTP date is not honoured: the backoff applies instead).
fn parse_retry_after(value: &str) -> Option<Duration> {
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// 250 ms, 500 ms, 1 s, … with jitter, capped at 8 s.
fn backoff(attempt: u32) -> Duration {
    let base = 250u64.saturating_mul(1 << attempt.min(5)).min(8_000);
    Duration::from_millis(base + fastrand::u64(0..=base / 4))
}

fn transport_error(e: &reqwest::Error) -> Error {
    // reqwest's messages carry the URL, never request headers, so the token cannot leak here.
    let what = if e.is_timeout() {
        "the request timed out".to_owned()
    } else if e.is_connect() {
        format!("could not connect to the SCIM server ({e})")
    } else {
        e.to_string()
    };
    Error::Transport(what)
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
        c => Error::Transport(format!(
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
    fn retry_after_seconds() {
        assert_eq!(parse_retry_after(" 7 "), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert!(backoff(10) <= Duration::from_millis(10_000));
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

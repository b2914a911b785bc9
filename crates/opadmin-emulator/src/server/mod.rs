//! The HTTP side: one dispatcher that reads a request, applies injected faults, checks the
//! session, MAC and request id of signed requests, opens encrypted bodies, routes, and seals the
//! answer with the session key.

mod auth;
pub(crate) mod faults;
pub(crate) mod limit;
pub(crate) mod mutate;
mod resources;
mod routes;
pub(crate) mod scim;
pub(crate) mod session;
mod vault_lifecycle;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use opadmin_crypto::envelope::{Envelope, SymmetricKey};
use serde_json::{Value, json};

use crate::config::{EmulatorConfig, FaultKind};
use crate::model::Account;
use crate::rng::Entropy;
use routes::{Answer, Call, Handler, Route};
use session::{Session, Stage};

/// Everything the server shares between requests.
pub(crate) struct Shared {
    pub config: EmulatorConfig,
    pub account: Mutex<Account>,
    pub sessions: Mutex<HashMap<String, Session>>,
    pub entropy: Entropy,
    pub requests: AtomicU64,
    /// Signed requests that changed the account: its [`faults::fingerprint`] differs after the
    /// request from before it. A write the server accepts but that changes nothing (a repeat)
    /// does not count; a change whose answer a fault then replaced does.
    pub changes: AtomicU64,
    /// The fault rules in force ([`crate::config::FaultRule`]).
    pub faults: faults::FaultBook,
    /// Requests in flight and per second, for [`crate::config::RateLimit`].
    pub limiter: limit::Limiter,
    /// Held while a state-changing signed request runs, so that the change counter attributes
    /// each change to the request that made it.
    pub writes: Mutex<()>,
    /// The SCIM side: its bearer token and what it keeps beside the account.
    pub scim: scim::ScimState,
}

impl Shared {
    pub fn account(&self) -> MutexGuard<'_, Account> {
        self.account.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn sessions(&self) -> MutexGuard<'_, HashMap<String, Session>> {
        self.sessions.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A request as the handlers see it.
pub(crate) struct Req {
    pub method: String,
    pub segs: Vec<String>,
    pub query: HashMap<String, String>,
    pub mac_url: String,
    pub session_header: Option<String>,
    pub mac_header: Option<String>,
    /// The `Authorization` header (SCIM's bearer token).
    pub authorization: Option<String>,
    pub body: Bytes,
    /// The opened JSON body of a signed request (`null` when empty).
    pub json: Value,
}

impl Req {
    /// A query parameter split on commas (`attrs=a,b`).
    pub fn list(&self, name: &str) -> Vec<String> {
        self.query
            .get(name)
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Parses the (plain) body as JSON.
    pub fn plain_json(&self) -> Result<Value, Reply> {
        if self.body.is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&self.body).map_err(|_| Reply::bad_request())
    }
}

/// An answer. Whether a 2xx answer to a signed request goes out sealed is decided in one place,
/// the route table ([`routes::ROUTES`]), not by the handler.
pub(crate) struct Reply {
    pub status: u16,
    pub body: Value,
    pub headers: Vec<(&'static str, String)>,
}

/// Error numbers of docs/protocol.md 3.7 the emulator answers with.
pub(crate) mod code {
    pub const BAD_REQUEST: i64 = 100;
    pub const NOT_PERMITTED: i64 = 101;
    pub const AUTH_REQUIRED: i64 = 102;
    pub const ONE_MUST_REMAIN: i64 = 108;
    pub const CANNOT_REMOVE_SELF: i64 = 116;
    pub const NOT_FOUND: i64 = 117;
    pub const INVALID: i64 = 119;
    pub const ALREADY_USED: i64 = 115;
    pub const INCORRECT_ATTR_VERSION: i64 = 127;
}

static REQUEST_IDS: AtomicU64 = AtomicU64::new(1_000_000);

impl Reply {
    /// A success answer to a signed request (sealed with the session key on the way out).
    pub fn sealed(body: Value) -> Self {
        Self::plain(body)
    }

    /// A success answer in plain JSON: to an unsigned request, or to a signed one whose route
    /// answers in plain JSON ([`routes::ROUTES`]).
    pub fn plain(body: Value) -> Self {
        Self {
            status: 200,
            body,
            headers: Vec::new(),
        }
    }

    /// `{"success": 1}`, sealed.
    pub fn success() -> Self {
        Self::sealed(json!({"success": 1}))
    }

    /// `{errorCode, errorMessage, requestId}` with an HTTP status.
    pub fn error(status: u16, code: i64, message: &str) -> Self {
        let id = REQUEST_IDS.fetch_add(1, Ordering::Relaxed);
        Self::plain(json!({"errorCode": code, "errorMessage": message, "requestId": id}))
            .with_status(status)
    }

    /// `{reason}` with an HTTP status.
    pub fn reason(status: u16, reason: &str) -> Self {
        Self::plain(json!({ "reason": reason })).with_status(status)
    }

    /// 400 / 100.
    pub fn bad_request() -> Self {
        Self::error(400, code::BAD_REQUEST, "Bad request.")
    }

    /// 401 / 102.
    pub fn auth_required() -> Self {
        Self::error(401, code::AUTH_REQUIRED, "Authentication required.")
    }

    /// 403 / 101.
    pub fn not_permitted() -> Self {
        Self::error(403, code::NOT_PERMITTED, "Operation not permitted.")
    }

    /// 404 / 117.
    pub fn not_found() -> Self {
        Self::error(404, code::NOT_FOUND, "Not found.")
    }

    /// 400 / 119: a key or record that does not check out.
    pub fn invalid(message: &str) -> Self {
        Self::error(400, code::INVALID, message)
    }

    fn with_status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }
}

/// Axum's entry point: everything goes through here.
pub(crate) async fn dispatch(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let n = shared.requests.fetch_add(1, Ordering::Relaxed) + 1;
    let faults = &shared.config.faults;
    let _in_flight = match shared.limiter.admit(faults.rate_limit.as_ref()) {
        Ok(guard) => guard,
        Err(retry_in) => {
            let mut r = Reply::error(429, 429, "Too many requests.");
            r.headers
                .push(("X-Rate-Limit-Retry-In", retry_in.to_string()));
            return respond(r);
        }
    };
    if let Some(latency) = faults.latency {
        tokio::time::sleep(latency).await;
    }
    if faults
        .rate_limit_every
        .is_some_and(|every| every > 0 && n.is_multiple_of(every))
    {
        let mut r = Reply::error(429, 429, "Too many requests.");
        r.headers.push((
            "X-Rate-Limit-Retry-In",
            faults.rate_limit_retry_in_secs.to_string(),
        ));
        return respond(r);
    }
    if faults.server_error_rate > 0.0 && fastrand::f64() < faults.server_error_rate {
        return respond(Reply::error(503, 103, "Service unavailable."));
    }
    let req = match read(request).await {
        Ok(r) => r,
        Err(reply) => return respond(reply),
    };
    // Handlers are short and CPU-bound (RSA checks); they run on a blocking thread so that
    // large accounts do not stall the reactor.
    let (reply, after) = tokio::task::spawn_blocking(move || handle(&shared, req))
        .await
        .unwrap_or_else(|_| (Reply::error(500, 103, "Internal server error."), None));
    match after {
        None => respond(reply),
        Some(After::Drop) => respond_then_break(reply),
        Some(After::Hang(wait)) => {
            tokio::time::sleep(wait).await;
            respond(reply)
        }
    }
}

/// What happens to an answer after its change was applied, under an injected fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum After {
    /// The status and headers go out, then the body breaks off.
    Drop,
    /// The answer is held back this long.
    Hang(std::time::Duration),
}

/// The answer's status and headers, then a body that fails before its first byte: the server
/// breaks the connection and the client never reads a complete answer.
fn respond_then_break(reply: Reply) -> Response {
    let mut response = respond(reply);
    let broken = futures::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "injected fault: the connection breaks after the change was applied",
        ))
    });
    *response.body_mut() = Body::from_stream(broken);
    response.headers_mut().remove("content-length");
    response
}

async fn read(request: Request) -> Result<Req, Reply> {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 64 * 1024 * 1024)
        .await
        .map_err(|_| Reply::error(413, 118, "Request too large."))?;
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let host = header("host").unwrap_or_else(|| "localhost".to_owned());
    let path = parts.uri.path().to_owned();
    let raw_query = parts.uri.query().unwrap_or("").to_owned();
    let query = parse_query(&raw_query).map_err(|_| Reply::bad_request())?;
    let segs = parse_path(&path).map_err(|_| Reply::bad_request())?;
    Ok(Req {
        method: parts.method.as_str().to_ascii_uppercase(),
        segs,
        query,
        mac_url: format!("{host}{path}?{raw_query}"),
        session_header: header("x-agilebits-session-id"),
        mac_header: header("x-agilebits-mac"),
        authorization: header("authorization"),
        body,
        json: Value::Null,
    })
}

/// A path or query that does not decode: a `%` not followed by two hex digits, or bytes that
/// are not UTF-8 once decoded. Answered 400 / 100.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BadEncoding;

/// Splits a request path into its non-empty segments, each percent-decoded (`+` stays `+`: it
/// means a space only in a query).
pub(crate) fn parse_path(path: &str) -> Result<Vec<String>, BadEncoding> {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(|s| percent_decode(s, false))
        .collect()
}

/// Parses `a=1&b=x%20y` into its pairs (`+` is a space, as in HTML forms; a key without `=`
/// has the empty value; for a repeated key the last one counts).
pub(crate) fn parse_query(raw: &str) -> Result<HashMap<String, String>, BadEncoding> {
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            Ok((percent_decode(k, true)?, percent_decode(v, true)?))
        })
        .collect()
}

/// Decodes `%XX` escapes (and, if asked, `+` as a space); the result must be UTF-8.
pub(crate) fn percent_decode(s: &str, plus_is_space: bool) -> Result<String, BadEncoding> {
    fn hex(b: u8) -> Option<u8> {
        match b {
            b'0'..=b'9' => Some(b - b'0'),
            b'a'..=b'f' => Some(b - b'a' + 10),
            b'A'..=b'F' => Some(b - b'A' + 10),
            _ => None,
        }
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'%' => {
                let high = bytes.get(i + 1).copied().and_then(hex).ok_or(BadEncoding)?;
                let low = bytes.get(i + 2).copied().and_then(hex).ok_or(BadEncoding)?;
                out.push(high << 4 | low);
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| BadEncoding)
}

fn respond(reply: Reply) -> Response {
    let body = if reply.status == 204 {
        Vec::new()
    } else {
        serde_json::to_vec(&reply.body).unwrap_or_else(|_| b"{}".to_vec())
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() =
        StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response
        .headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    for (name, value) in reply.headers {
        if let Ok(v) = HeaderValue::from_str(&value) {
            response.headers_mut().insert(name, v);
        }
    }
    response
}

fn handle(shared: &Shared, mut req: Req) -> (Reply, Option<After>) {
    let segs: Vec<&str> = req.segs.iter().map(String::as_str).collect();
    if let Some(path) = scim::mount(&segs) {
        return (scim::handle(shared, &req, path), None);
    }
    let route = routes::find(&req.method, &segs, || has_key(shared, &req));
    if let Some(Handler::Open(handler) | Handler::BeforeKey(handler)) = route.map(|r| r.handler) {
        return (handler(shared, &req), None);
    }
    // Everything else is a signed request in a session with a key.
    let admitted = match session::admit(shared, &mut req) {
        Ok(a) => a,
        Err(reply) => return (reply, None),
    };
    let is_auth = req
        .segs
        .get(2)
        .is_some_and(|s| s == "auth" || s == "session");
    let state_changing = req.method != "GET" && !is_auth;
    let path = format!("/{}", req.segs.join("/"));
    let fault = shared.faults.strike(&req.method, &path, state_changing);
    match fault {
        Some(FaultKind::FailBeforeApply) => {
            return (Reply::error(503, 103, "Service unavailable."), None);
        }
        Some(FaultKind::RateLimitBeforeApply) => {
            let mut r = Reply::error(429, 429, "Too many requests.");
            r.headers.push(("X-Rate-Limit-Retry-In", "0".to_owned()));
            return (r, None);
        }
        Some(FaultKind::ExpireSessionBeforeApply) => {
            shared.sessions().remove(&admitted.session_id);
            return (Reply::auth_required(), None);
        }
        _ => {}
    }
    let reply = if state_changing {
        let _serial = shared.writes.lock().unwrap_or_else(|p| p.into_inner());
        let before = faults::fingerprint(&shared.account());
        let reply = signed(shared, &req, route, &admitted);
        if faults::fingerprint(&shared.account()) != before {
            shared.changes.fetch_add(1, Ordering::Relaxed);
        }
        reply
    } else {
        signed(shared, &req, route, &admitted)
    };
    let answer = route.map_or(Answer::Sealed, |r| r.answer);
    let reply = seal_answer(answer, &admitted.key, reply);
    match fault {
        Some(FaultKind::ApplyThenServerError) => {
            (Reply::error(500, 103, "Internal server error."), None)
        }
        Some(FaultKind::ApplyThenDrop) => (reply, Some(After::Drop)),
        Some(FaultKind::ApplyThenHang(wait)) => (reply, Some(After::Hang(wait))),
        _ => (reply, None),
    }
}

/// Seals a 2xx answer to a signed request unless its route answers in plain JSON.
fn seal_answer(answer: Answer, key: &SymmetricKey, reply: Reply) -> Reply {
    if !(200..300).contains(&reply.status) || answer == Answer::Plain {
        return reply;
    }
    let sealed: Envelope = key.encrypt_json(&reply.body);
    Reply {
        body: serde_json::to_value(sealed).unwrap_or(Value::Null),
        ..reply
    }
}

fn has_key(shared: &Shared, req: &Req) -> bool {
    req.session_header
        .as_ref()
        .and_then(|id| shared.sessions().get(id).map(|s| s.key.is_some()))
        .unwrap_or(false)
}

/// Serves an admitted signed request: the sign-in steps at any stage; everything else only
/// once signed in, and the routes closed to service accounts refused to them first.
fn signed(
    shared: &Shared,
    req: &Req,
    route: Option<&'static Route>,
    admitted: &session::Admitted,
) -> Reply {
    match route.map(|r| (r, r.handler)) {
        Some((_, Handler::Signing(handler))) => {
            handler(shared, req, &admitted.session_id, admitted.stage)
        }
        _ if admitted.stage != Stage::Active => Reply::auth_required(),
        Some((route, Handler::SignedIn(handler))) => {
            if !route.service_accounts && shared.account().is_service_account(&admitted.user) {
                return Reply::not_permitted();
            }
            let segs: Vec<&str> = req.segs.iter().map(String::as_str).collect();
            let params = route.capture(&segs).unwrap_or_default();
            handler(
                shared,
                &Call::new(req, &admitted.user, &admitted.session_id, params),
            )
        }
        _ => Reply::not_found(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Percent-encodes everything outside the unreserved set, as a well-behaved client does.
    fn encode(s: &str) -> String {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect()
    }

    #[test]
    fn malformed_escapes_are_refused() {
        for bad in [
            "%", "a%", "%4", "%zz", "%4g", "%%41", "%C3", "%FF%FE", "x%C3%28",
        ] {
            assert_eq!(percent_decode(bad, false), Err(BadEncoding), "{bad:?}");
        }
        assert_eq!(percent_decode("a%2Fb+c", false).unwrap(), "a/b+c");
        assert_eq!(percent_decode("a%2fb+c", true).unwrap(), "a/b c");
        assert_eq!(percent_decode("%C3%A9t%C3%A9", false).unwrap(), "été");
        assert_eq!(
            parse_path("/api//v1/vault/%41B/").unwrap(),
            ["api", "v1", "vault", "AB"]
        );
        assert_eq!(parse_query("a=1&&b&c=%zz"), Err(BadEncoding));
        let q = parse_query("attrs=a%2Cb&flag&x=1+2&x=3").unwrap();
        assert_eq!(q["attrs"], "a,b");
        assert_eq!(q["flag"], "");
        assert_eq!(q["x"], "3", "the last of a repeated key counts");
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        #[test]
        fn decoding_arbitrary_text_never_panics(s in any::<String>(), plus in any::<bool>()) {
            let _ = percent_decode(&s, plus);
            let _ = parse_path(&s);
            let _ = parse_query(&s);
        }

        #[test]
        fn decoding_arbitrary_escapes_never_panics(s in "([%+/&=]|%[0-9a-fA-F]{0,2}|[^%]){0,64}") {
            let _ = percent_decode(&s, true);
            let _ = parse_path(&s);
            let _ = parse_query(&s);
        }

        #[test]
        fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            // Bytes as an HTTP stack may hand them over: each byte escaped, or raw when ASCII.
            let escaped: String = bytes.iter().map(|b| format!("%{b:02x}")).collect();
            let decoded = percent_decode(&escaped, false);
            prop_assert_eq!(decoded.is_ok(), std::str::from_utf8(&bytes).is_ok());
            let raw = String::from_utf8_lossy(&bytes);
            let _ = parse_path(&raw);
            let _ = parse_query(&raw);
        }

        #[test]
        fn path_segments_round_trip(segs in proptest::collection::vec("\\PC{1,12}", 0..6)) {
            let path: String = segs.iter().map(|s| format!("/{}", encode(s))).collect();
            prop_assert_eq!(parse_path(&path).unwrap(), segs);
        }

        #[test]
        fn queries_round_trip(pairs in proptest::collection::hash_map("\\PC{1,10}", "\\PC{0,10}", 0..6)) {
            let raw = pairs
                .iter()
                .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
                .collect::<Vec<_>>()
                .join("&");
            prop_assert_eq!(parse_query(&raw).unwrap(), pairs);
        }
    }
}

//! The hostile server: a small reverse proxy on 127.0.0.1 in front of a real emulator. It
//! forwards every request unchanged (method, path and query, headers, body) and every answer
//! unchanged, except where a rule of the test says otherwise; it counts every request by method
//! and path. Also a "redirect target" server that only counts what reaches it.
//!
//! The b5 request MAC covers the host without its port, so forwarding from one port of
//! 127.0.0.1 to another keeps every MAC valid: with no rules, the proxy is invisible.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use opadmin::Admin;
use opadmin_emulator::{Emulator, EmulatorConfig, RunningEmulator, demo_account};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// The largest request body the proxy accepts from the SDK (the SDK's requests are small).
const MAX_REQUEST_BYTES: usize = 16 << 20;
/// Chunk size of the endless body.
const ENDLESS_CHUNK: usize = 64 * 1024;

/// A change the rewrite action applies to the emulator's JSON answer.
pub type Rewrite = Arc<dyn Fn(&mut Value) + Send + Sync>;

/// What the proxy does with a request a rule matched.
#[derive(Clone)]
pub enum Action {
    /// Answers this status and JSON body itself; nothing reaches the emulator.
    Answer {
        /// HTTP status.
        status: u16,
        /// The plain JSON body.
        body: Value,
    },
    /// Forwards the request, then applies the function to the emulator's JSON answer.
    Rewrite(Rewrite),
    /// Answers 200 with a body that never ends (chunks of `[` as fast as the client reads).
    Endless,
    /// Answers 200 with a body of one byte every `interval`, never ending.
    Drip {
        /// The pause before each byte.
        interval: Duration,
    },
    /// Answers a redirect (`status`, e.g. 302 or 307) to `location`.
    Redirect {
        /// HTTP status (3xx).
        status: u16,
        /// The `Location` header.
        location: String,
    },
    /// Answers 401 `{"errorCode":102}` ("session expired / not authenticated").
    Unauthorized,
}

impl Action {
    /// Answers a plain JSON body with status 200.
    pub fn plain(body: Value) -> Self {
        Action::Answer { status: 200, body }
    }
}

/// A rule: requests whose method is `method` and whose path starts with `prefix` get `action`,
/// from the (`skip` + 1)-th such request on; the first `skip` are forwarded unchanged.
pub struct Rule {
    method: Method,
    prefix: String,
    skip: u64,
    action: Action,
    seen: AtomicU64,
}

impl Rule {
    /// A rule for `method` on paths starting with `prefix`.
    pub fn new(method: Method, prefix: &str, action: Action) -> Self {
        Self {
            method,
            prefix: prefix.to_owned(),
            skip: 0,
            action,
            seen: AtomicU64::new(0),
        }
    }

    /// Lets the first `n` matching requests through unchanged.
    pub fn after(mut self, n: u64) -> Self {
        self.skip = n;
        self
    }
}

struct ProxyState {
    upstream: String,
    client: reqwest::Client,
    rules: Mutex<Vec<Rule>>,
    counts: Mutex<HashMap<(Method, String), u64>>,
}

/// The reverse proxy. Dropping it stops accepting connections.
pub struct Proxy {
    addr: SocketAddr,
    state: Arc<ProxyState>,
    task: JoinHandle<()>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Proxy {
    /// Starts a proxy on a free port of 127.0.0.1 in front of `emu`.
    pub async fn start(emu: &RunningEmulator) -> Self {
        let client = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .expect("proxy HTTP client");
        let state = Arc::new(ProxyState {
            upstream: emu.address(),
            client,
            rules: Mutex::new(Vec::new()),
            counts: Mutex::new(HashMap::new()),
        });
        let app = Router::new().fallback(handle).with_state(state.clone());
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .expect("proxy binds");
        let addr = listener.local_addr().expect("proxy address");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { addr, state, task }
    }

    /// The address to give the SDK, `http://127.0.0.1:PORT`.
    pub fn address(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Adds a rule (rules are tried in the order added; the first that matches the method and
    /// path prefix decides).
    pub fn rule(&self, rule: Rule) {
        self.state.rules.lock().unwrap().push(rule);
    }

    /// Removes every rule: from now on everything is forwarded unchanged.
    pub fn clear_rules(&self) {
        self.state.rules.lock().unwrap().clear();
    }

    /// Requests seen with this method and exactly this path (query excluded), whether a rule
    /// answered them or not.
    pub fn count(&self, method: Method, path: &str) -> u64 {
        self.state
            .counts
            .lock()
            .unwrap()
            .get(&(method, path.to_owned()))
            .copied()
            .unwrap_or(0)
    }

    /// Requests seen with this method and a path starting with `prefix`.
    pub fn count_prefix(&self, method: Method, prefix: &str) -> u64 {
        self.state
            .counts
            .lock()
            .unwrap()
            .iter()
            .filter(|((m, p), _)| *m == method && p.starts_with(prefix))
            .map(|(_, n)| *n)
            .sum()
    }
}

async fn handle(State(state): State<Arc<ProxyState>>, req: Request) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    *state
        .counts
        .lock()
        .unwrap()
        .entry((method.clone(), path.clone()))
        .or_default() += 1;
    let action = {
        let rules = state.rules.lock().unwrap();
        rules
            .iter()
            .find(|r| r.method == method && path.starts_with(&r.prefix))
            .and_then(|r| {
                (r.seen.fetch_add(1, Ordering::SeqCst) >= r.skip).then(|| r.action.clone())
            })
    };
    match action {
        None => forward(&state, req).await.unwrap_or_else(bad_gateway),
        Some(Action::Answer { status, body }) => json_answer(status, &body),
        Some(Action::Rewrite(rewrite)) => match forward(&state, req).await {
            Ok(answer) => rewrite_answer(answer, &rewrite).await,
            Err(e) => bad_gateway(e),
        },
        Some(Action::Endless) => {
            let chunk = Bytes::from(vec![b'['; ENDLESS_CHUNK]);
            let stream = futures::stream::repeat_with(move || Ok::<_, Infallible>(chunk.clone()));
            streaming_answer(Body::from_stream(stream))
        }
        Some(Action::Drip { interval }) => {
            let stream = futures::stream::unfold(0u64, move |n| async move {
                tokio::time::sleep(interval).await;
                let byte = if n == 0 { b'[' } else { b' ' };
                Some((Ok::<_, Infallible>(Bytes::from(vec![byte])), n + 1))
            });
            streaming_answer(Body::from_stream(stream))
        }
        Some(Action::Redirect { status, location }) => {
            let mut answer = Response::new(Body::empty());
            *answer.status_mut() = StatusCode::from_u16(status).expect("redirect status");
            answer.headers_mut().insert(
                header::LOCATION,
                HeaderValue::from_str(&location).expect("location header"),
            );
            answer
        }
        Some(Action::Unauthorized) => json_answer(
            401,
            &serde_json::json!({"errorCode": 102, "errorMessage": "Unauthorized"}),
        ),
    }
}

/// Hop-by-hop and framing headers, which each side of the proxy sets for itself.
fn hop_header(name: &header::HeaderName) -> bool {
    [
        header::HOST,
        header::CONTENT_LENGTH,
        header::TRANSFER_ENCODING,
        header::CONNECTION,
    ]
    .contains(name)
}

fn copy_headers(from: &HeaderMap, to: &mut HeaderMap) {
    for (name, value) in from {
        if !hop_header(name) {
            to.append(name.clone(), value.clone());
        }
    }
}

/// Sends the request on to the emulator as it came and reads the whole answer.
async fn forward(state: &ProxyState, req: Request) -> Result<Response, String> {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, MAX_REQUEST_BYTES)
        .await
        .map_err(|e| format!("request body: {e}"))?;
    let path_and_query = parts
        .uri
        .path_and_query()
        .map_or("/", |pq| pq.as_str())
        .to_owned();
    let mut headers = HeaderMap::new();
    copy_headers(&parts.headers, &mut headers);
    let upstream = state
        .client
        .request(
            parts.method,
            format!("{}{}", state.upstream, path_and_query),
        )
        .headers(headers)
        .body(body)
        .send()
        .await
        .map_err(|e| format!("upstream: {e}"))?;
    let status = upstream.status();
    let upstream_headers = upstream.headers().clone();
    let bytes = upstream
        .bytes()
        .await
        .map_err(|e| format!("upstream body: {e}"))?;
    let mut answer = Response::new(Body::from(bytes));
    *answer.status_mut() = status;
    copy_headers(&upstream_headers, answer.headers_mut());
    Ok(answer)
}

async fn rewrite_answer(answer: Response, rewrite: &Rewrite) -> Response {
    let (mut parts, body) = answer.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .expect("forwarded body is in memory");
    let body = match serde_json::from_slice::<Value>(&bytes) {
        Ok(mut value) => {
            rewrite(&mut value);
            Bytes::from(serde_json::to_vec(&value).expect("JSON serialises"))
        }
        Err(_) => bytes,
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(body))
}

fn json_answer(status: u16, body: &Value) -> Response {
    let mut answer = Response::new(Body::from(
        serde_json::to_vec(body).expect("JSON serialises"),
    ));
    *answer.status_mut() = StatusCode::from_u16(status).expect("status");
    answer.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    answer
}

fn streaming_answer(body: Body) -> Response {
    let mut answer = Response::new(body);
    answer.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    answer
}

fn bad_gateway(reason: String) -> Response {
    json_answer(502, &serde_json::json!({ "proxyError": reason }))
}

/// A server on 127.0.0.1 that answers 404 to everything and counts what reached it: the
/// target of the redirect attacks.
pub struct HitCounter {
    addr: SocketAddr,
    hits: Arc<AtomicU64>,
    task: JoinHandle<()>,
}

impl Drop for HitCounter {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl HitCounter {
    /// Starts one on a free port.
    pub async fn start() -> Self {
        let hits = Arc::new(AtomicU64::new(0));
        let counter = hits.clone();
        let app = Router::new().fallback(move || {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                StatusCode::NOT_FOUND
            }
        });
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .expect("redirect target binds");
        let addr = listener.local_addr().expect("redirect target address");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { addr, hits, task }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn address(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Requests received.
    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::SeqCst)
    }
}

/// The demo account on a real emulator, with 100,000 PBKDF2 iterations (the SDK's floor).
pub async fn emulator() -> RunningEmulator {
    Emulator::start(
        EmulatorConfig::default(),
        demo_account().iterations(100_000),
    )
    .await
    .expect("emulator starts")
}

/// A builder for the owner of `emu`, signing in through `proxy`.
pub fn owner_builder(emu: &RunningEmulator, proxy: &Proxy) -> opadmin::AdminBuilder {
    let c = emu.owner();
    Admin::builder()
        .address(proxy.address())
        .credentials(&c.email, &c.password, &c.secret_key)
}

/// An emulator, a proxy in front of it, and the owner signed in through the proxy.
pub async fn signed_in() -> (RunningEmulator, Proxy, Admin) {
    let emu = emulator().await;
    let proxy = Proxy::start(&emu).await;
    let admin = owner_builder(&emu, &proxy)
        .build()
        .await
        .expect("the owner signs in through the proxy");
    (emu, proxy, admin)
}

//! The SCIM client against a hostile server on 127.0.0.1: plain HTTP to a remote host, a 503
//! on `POST /Users`, a 429 with an HTTP-date `Retry-After`, a redirect, an endless body, a body
//! that drips, and a server that echoes the token back. Each test checks the typed error, what
//! the server received (so that nothing was applied twice or sent on), and that the bearer
//! token is in no error's `Display` or `Debug`.
//!
//! The server is a few lines of raw HTTP/1.1 over tokio, so that it can misbehave in ways a
//! mocking library does not allow (endless and slow bodies). Every loop in it is bounded in
//! count and time, and it only ever listens on 127.0.0.1.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use opadmin::scim::{ScimClient, ScimDirectory};
use opadmin::{Directory, Error, UserType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

const TOKEN: &str = "scim-h0st1le-t0ken-9f8e7d";

/// The longest any one answer of the hostile server goes on (endless and dripping bodies).
const SERVER_ANSWER_LIMIT: Duration = Duration::from_secs(10);
/// The most an endless body writes before it stops by itself.
const ENDLESS_LIMIT: u64 = 256 * 1024 * 1024;

/// What the server answers.
#[derive(Clone)]
enum Reply {
    /// A complete answer.
    Fixed {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    },
    /// `200` with a chunked body that never ends (until the client hangs up or the bounds).
    Endless,
    /// `200` with a chunked body of one byte every 100 ms.
    Drip,
}

fn reply(status: u16, headers: &[(&str, &str)], body: &str) -> Reply {
    Reply::Fixed {
        status,
        headers: headers
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        body: body.to_owned(),
    }
}

/// What the server received: `METHOD /path` (without the query) and the `Authorization` value.
#[derive(Debug, Clone)]
struct Seen {
    line: String,
    authorization: Option<String>,
}

type Handler = dyn Fn(&str, &str, usize) -> Reply + Send + Sync;

struct Hostile {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    /// Bytes of body the endless answers wrote, and whether their loop has ended.
    written: Arc<AtomicU64>,
    stopped: Arc<AtomicBool>,
    task: JoinHandle<()>,
}

impl Drop for Hostile {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Hostile {
    /// A server whose answer is `handler(method, path, n)`, `n` counting requests from 0.
    async fn start(handler: impl Fn(&str, &str, usize) -> Reply + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let written = Arc::new(AtomicU64::new(0));
        let stopped = Arc::new(AtomicBool::new(false));
        let handler: Arc<Handler> = Arc::new(handler);
        let task = {
            let (seen, written, stopped) = (seen.clone(), written.clone(), stopped.clone());
            tokio::spawn(async move {
                while let Ok((stream, _)) = listener.accept().await {
                    let (seen, written, stopped, handler) = (
                        seen.clone(),
                        written.clone(),
                        stopped.clone(),
                        handler.clone(),
                    );
                    tokio::spawn(async move {
                        let _ = serve(stream, &seen, &written, &stopped, &*handler).await;
                    });
                }
            })
        };
        Self {
            addr,
            seen,
            written,
            stopped,
            task,
        }
    }

    fn url(&self) -> String {
        format!("http://{}/scim/v2", self.addr)
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("lock").clone()
    }

    fn lines(&self) -> Vec<String> {
        self.seen().into_iter().map(|s| s.line).collect()
    }
}

/// One connection: one request, one answer, then close.
async fn serve(
    mut stream: TcpStream,
    seen: &Mutex<Vec<Seen>>,
    written: &AtomicU64,
    stopped: &AtomicBool,
    handler: &Handler,
) -> std::io::Result<()> {
    let Some((method, path, authorization)) =
        tokio::time::timeout(Duration::from_secs(5), read_request(&mut stream))
            .await
            .ok()
            .flatten()
    else {
        return Ok(());
    };
    let n = {
        let mut seen = seen.lock().expect("lock");
        seen.push(Seen {
            line: format!("{method} {path}"),
            authorization,
        });
        seen.len() - 1
    };
    match handler(&method, &path, n) {
        Reply::Fixed {
            status,
            headers,
            body,
        } => {
            let mut head = format!(
                "HTTP/1.1 {status} Hostile\r\nContent-Type: application/scim+json\r\n\
                 Content-Length: {}\r\nConnection: close\r\n",
                body.len()
            );
            for (k, v) in headers {
                head.push_str(&format!("{k}: {v}\r\n"));
            }
            head.push_str("\r\n");
            stream.write_all(head.as_bytes()).await?;
            stream.write_all(body.as_bytes()).await?;
            stream.shutdown().await
        }
        Reply::Endless => {
            stream.write_all(chunked_head().as_bytes()).await?;
            let chunk = vec![b' '; 64 * 1024];
            let frame_head = format!("{:x}\r\n", chunk.len());
            let started = Instant::now();
            let result = async {
                while written.load(Ordering::SeqCst) < ENDLESS_LIMIT
                    && started.elapsed() < SERVER_ANSWER_LIMIT
                {
                    stream.write_all(frame_head.as_bytes()).await?;
                    stream.write_all(&chunk).await?;
                    stream.write_all(b"\r\n").await?;
                    written.fetch_add(chunk.len() as u64, Ordering::SeqCst);
                }
                Ok::<(), std::io::Error>(())
            }
            .await;
            stopped.store(true, Ordering::SeqCst);
            result
        }
        Reply::Drip => {
            stream.write_all(chunked_head().as_bytes()).await?;
            let started = Instant::now();
            while started.elapsed() < SERVER_ANSWER_LIMIT {
                stream.write_all(b"1\r\n \r\n").await?;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Ok(())
        }
    }
}

fn chunked_head() -> String {
    "HTTP/1.1 200 OK\r\nContent-Type: application/scim+json\r\nTransfer-Encoding: chunked\r\n\
     Connection: close\r\n\r\n"
        .to_owned()
}

/// Reads a request's head (at most 64 KiB) and its body (at most 1 MiB, by Content-Length).
async fn read_request(stream: &mut TcpStream) -> Option<(String, String, Option<String>)> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 4096];
    let head_end = loop {
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        if buf.len() > 64 * 1024 {
            return None;
        }
        let n = stream.read(&mut byte).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&byte[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next()?.split(' ');
    let method = request_line.next()?.to_owned();
    let target = request_line.next()?;
    let path = target.split('?').next().unwrap_or(target).to_owned();
    let mut content_length = 0usize;
    let mut authorization = None;
    for line in lines {
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                content_length = value.trim().parse().ok()?;
            } else if name.eq_ignore_ascii_case("authorization") {
                authorization = Some(value.trim().to_owned());
            }
        }
    }
    let mut have = buf.len() - head_end;
    while have < content_length.min(1024 * 1024) {
        let n = stream.read(&mut byte).await.ok()?;
        if n == 0 {
            break;
        }
        have += n;
    }
    Some((method, path, authorization))
}

const EMPTY_LIST: &str = r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":0,"startIndex":1,"Resources":[]}"#;

/// The token is in neither the error's `Display` nor its `Debug`.
fn assert_no_token(e: &Error) {
    for text in [e.to_string(), format!("{e:?}")] {
        assert!(!text.contains(TOKEN), "the token leaked: {text}");
    }
}

/// The server was sent the token (so the checks above are not vacuous).
fn assert_token_was_sent(server: &Hostile) {
    let expected = format!("Bearer {TOKEN}");
    assert!(
        server
            .seen()
            .iter()
            .all(|s| s.authorization.as_deref() == Some(expected.as_str())),
        "{:?}",
        server.lines()
    );
}

fn directory(client: ScimClient) -> Box<dyn Directory> {
    Box::new(ScimDirectory::with_client(client))
}

#[test]
fn plain_http_to_a_remote_host_is_refused_before_connecting() {
    // 192.0.2.1 (TEST-NET-1) is never contacted: every constructor refuses the URL.
    let url = "http://192.0.2.1/scim";
    let errors = [
        ScimClient::new(url, TOKEN).map(drop).unwrap_err(),
        ScimClient::with_http_client(url, TOKEN, reqwest::Client::new())
            .map(drop)
            .unwrap_err(),
        ScimDirectory::new(url, TOKEN).map(drop).unwrap_err(),
    ];
    for e in &errors {
        assert!(
            matches!(e, Error::InvalidInput(m) if m.contains("in clear") && m.contains("192.0.2.1")),
            "{e:?}"
        );
        assert_no_token(e);
    }
}

#[tokio::test]
async fn post_users_answered_503_is_sent_once() {
    let server = Hostile::start(|_, _, _| {
        reply(
            503,
            &[("Retry-After", "0")],
            r#"{"status":"503","detail":"try later"}"#,
        )
    })
    .await;
    let dir = directory(ScimClient::new(&server.url(), TOKEN).expect("client"));
    let started = Instant::now();
    let e = dir
        .invite("new@x.example", "New Person", UserType::Member)
        .await
        .expect_err("503");
    assert!(
        matches!(&e, Error::Transport { message: m, .. } if m.contains("503") && m.contains("not sent again")),
        "{e:?}"
    );
    assert_no_token(&e);
    assert_eq!(server.lines(), ["POST /scim/v2/Users"]);
    assert_token_was_sent(&server);
    // No back-off was waited either.
    assert!(started.elapsed() < Duration::from_secs(2));
}

/// An HTTP date `ahead` from now, in whole seconds as HTTP dates are.
fn http_date_in(ahead: Duration) -> String {
    (time::OffsetDateTime::now_utc() + ahead)
        .format(time::macros::format_description!(
            "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
        ))
        .expect("date")
}

#[tokio::test]
async fn retry_after_as_an_http_date_is_honoured() {
    let date = http_date_in(Duration::from_secs(2));
    let server = Hostile::start(move |_, _, n| {
        if n == 0 {
            reply(429, &[("Retry-After", date.as_str())], "")
        } else {
            reply(200, &[], EMPTY_LIST)
        }
    })
    .await;
    let dir = directory(ScimClient::new(&server.url(), TOKEN).expect("client"));
    let started = Instant::now();
    let users = dir.users().await.expect("listed after waiting");
    let waited = started.elapsed();
    assert!(users.is_empty());
    // Whole seconds: the wait is between 1 and 2 s, where the back-off alone is about 0.3 s.
    assert!(waited >= Duration::from_millis(900), "{waited:?}");
    assert!(waited < Duration::from_secs(5), "{waited:?}");
    assert_eq!(server.lines(), ["GET /scim/v2/Users", "GET /scim/v2/Users"]);
    assert_token_was_sent(&server);

    // A date beyond the longest wait accepted: reported at once, with the wait.
    let date = http_date_in(Duration::from_secs(3600));
    let server =
        Hostile::start(move |_, _, _| reply(429, &[("Retry-After", date.as_str())], "")).await;
    let dir = directory(ScimClient::new(&server.url(), TOKEN).expect("client"));
    let e = dir
        .invite("a@x.example", "A", UserType::Member)
        .await
        .expect_err("429");
    assert!(
        matches!(e, Error::RateLimited { retry_after: Some(d) } if d > Duration::from_secs(3000)),
        "{e:?}"
    );
    assert_no_token(&e);
    assert_eq!(server.lines(), ["POST /scim/v2/Users"]);
}

#[tokio::test]
async fn a_redirect_is_not_followed() {
    let target =
        Hostile::start(|_, _, _| reply(201, &[], r#"{"id":"X","userName":"a@x.example"}"#)).await;
    let location = format!("{}/Users", target.url());
    let server =
        Hostile::start(move |_, _, _| reply(307, &[("Location", location.as_str())], "")).await;
    let dir = directory(ScimClient::new(&server.url(), TOKEN).expect("client"));
    let e = dir
        .invite("a@x.example", "A", UserType::Member)
        .await
        .expect_err("redirect");
    assert!(
        matches!(&e, Error::Protocol(m) if m.contains("never followed")),
        "{e:?}"
    );
    assert_no_token(&e);
    assert_eq!(server.lines(), ["POST /scim/v2/Users"]);
    assert!(target.lines().is_empty(), "{:?}", target.lines());

    let e = dir.users().await.expect_err("redirect");
    assert!(matches!(&e, Error::Protocol(_)), "{e:?}");
    assert!(target.lines().is_empty(), "{:?}", target.lines());
}

#[tokio::test]
async fn an_endless_body_stops_at_the_cap() {
    const CAP: usize = 1024 * 1024;
    let server = Hostile::start(|_, _, _| Reply::Endless).await;
    let dir = directory(
        ScimClient::new(&server.url(), TOKEN)
            .expect("client")
            .max_answer_bytes(CAP),
    );
    let started = Instant::now();
    let e = dir.users().await.expect_err("endless");
    assert!(matches!(e, Error::AnswerTooLarge { limit: CAP }), "{e:?}");
    assert_no_token(&e);
    assert!(started.elapsed() < Duration::from_secs(5));
    // Not retried: the same answer would come again.
    assert_eq!(server.lines(), ["GET /scim/v2/Users"]);
    // The client hung up: the server's writes failed long before its own bound, so no more
    // than the cap plus what the sockets buffer was ever sent.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !server.stopped.load(Ordering::SeqCst) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        server.stopped.load(Ordering::SeqCst),
        "the body was still being read"
    );
    let written = server.written.load(Ordering::SeqCst);
    assert!(written < 32 * 1024 * 1024, "{written} bytes were taken in");
}

#[tokio::test]
async fn a_dripping_body_ends_at_the_total_timeout() {
    let server = Hostile::start(|_, _, _| Reply::Drip).await;
    let dir = directory(
        ScimClient::new(&server.url(), TOKEN)
            .expect("client")
            .timeout(Duration::from_secs(1)),
    );
    let started = Instant::now();
    let e = dir
        .invite("a@x.example", "A", UserType::Member)
        .await
        .expect_err("drip");
    let took = started.elapsed();
    assert!(matches!(e, Error::Timeout), "{e:?}");
    assert_no_token(&e);
    assert!(took >= Duration::from_millis(900), "{took:?}");
    assert!(took < Duration::from_secs(3), "{took:?}");
    // A POST that timed out may have been applied: it is not sent again.
    assert_eq!(server.lines(), ["POST /scim/v2/Users"]);
}

#[tokio::test]
async fn the_token_is_in_no_error() {
    // A server that echoes the token back everywhere it can.
    let server = Hostile::start(|method, path, _| {
        let echo = format!(
            r#"{{"status":"{{S}}","scimType":"invalidValue","detail":"Authorization: Bearer {TOKEN}"}}"#
        );
        match (method, path) {
            ("POST", "/scim/v2/Users") => reply(400, &[], &echo.replace("{S}", "400")),
            ("POST", "/scim/v2/Groups") => reply(409, &[], &echo.replace("{S}", "409")),
            ("PATCH", _) => reply(503, &[], &echo.replace("{S}", "503")),
            ("DELETE", _) => reply(401, &[], &echo.replace("{S}", "401")),
            ("GET", "/scim/v2/Groups") => reply(
                302,
                &[("Location", &format!("http://127.0.0.1:9/?token={TOKEN}"))],
                "",
            ),
            // A success whose shape is wrong, with the token as the offending value.
            _ => reply(200, &[], &format!(r#"{{"Resources":"{TOKEN}","totalResults":1}}"#)),
        }
    })
    .await;
    let scim = ScimDirectory::with_client(
        ScimClient::new(&server.url(), TOKEN)
            .expect("client")
            .retries(0, Duration::from_secs(1)),
    );
    let dir: &dyn Directory = &scim;
    let errors = [
        dir.invite("a@x.example", "A", UserType::Member)
            .await
            .map(drop)
            .expect_err("400"),
        scim.create_group("G").await.map(drop).expect_err("409"),
        dir.suspend(opadmin::UserId::new("U").into())
            .await
            .map(drop)
            .expect_err("503"),
        scim.delete_group(&opadmin::GroupId::new("g"))
            .await
            .expect_err("401"),
        dir.groups().await.map(drop).expect_err("302"),
        dir.users().await.map(drop).expect_err("bad shape"),
    ];
    assert!(
        matches!(&errors[0], Error::InvalidInput(_)),
        "{:?}",
        errors[0]
    );
    assert!(
        matches!(&errors[1], Error::InvalidState(_)),
        "{:?}",
        errors[1]
    );
    assert!(
        matches!(&errors[2], Error::Transport { .. }),
        "{:?}",
        errors[2]
    );
    assert!(
        matches!(&errors[3], Error::PermissionDenied { .. }),
        "{:?}",
        errors[3]
    );
    assert!(matches!(&errors[4], Error::Protocol(_)), "{:?}", errors[4]);
    assert!(matches!(&errors[5], Error::Protocol(_)), "{:?}", errors[5]);
    for e in &errors {
        assert_no_token(e);
    }
    assert!(!format!("{scim:?}").contains(TOKEN));
    // One request per call: nothing was repeated, and nothing followed the redirect.
    assert_eq!(
        server.lines(),
        [
            "POST /scim/v2/Users",
            "POST /scim/v2/Groups",
            "PATCH /scim/v2/Users/U",
            "DELETE /scim/v2/Groups/g",
            "GET /scim/v2/Groups",
            "GET /scim/v2/Users",
        ]
    );
    assert_token_was_sent(&server);
}

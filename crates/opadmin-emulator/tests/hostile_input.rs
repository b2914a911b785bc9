//! Hostile input over HTTP: malformed percent-encoding and huge paths, request ids at the top of
//! the `u64` range, a flood of `auth/start` calls, a string of wrong second factors. Each must
//! get a 4xx answer (never a panic or a hang), and the emulator must keep serving afterwards.

mod support;

use std::time::Duration;

use opadmin_crypto::srp::SrpVersion;
use opadmin_emulator::{
    AccountBuilder, Emulator, EmulatorConfig, PersonSpec, Role, RunningEmulator, demo_account,
};
use serde_json::json;
use support::{Raw, totp_now};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The unfinished sign-ins the emulator keeps at most (its documented cap).
const UNFINISHED_CAP: usize = 256;

async fn demo() -> RunningEmulator {
    Emulator::start(EmulatorConfig::default(), demo_account().iterations(1000))
        .await
        .expect("emulator starts")
}

/// Sends raw bytes as one HTTP/1.1 request and returns the status code of the answer.
async fn raw_http(emu: &RunningEmulator, target: &[u8]) -> u16 {
    let mut stream = tokio::net::TcpStream::connect(emu.socket_addr())
        .await
        .expect("connects");
    let mut request = b"GET ".to_vec();
    request.extend_from_slice(target);
    request.extend_from_slice(b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    stream.write_all(&request).await.expect("request written");
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut answer))
        .await
        .expect("answered in bounded time")
        .expect("answer read");
    let text = String::from_utf8_lossy(&answer);
    let status = text
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok());
    status.unwrap_or_else(|| panic!("no status line in {:?}", &text[..text.len().min(200)]))
}

/// The emulator still answers, and a person can still sign in.
async fn still_serves(emu: &RunningEmulator) {
    let mut raw = Raw::new(&emu.address());
    raw.sign_in(emu.owner(), SrpVersion::V2, None)
        .await
        .unwrap_or_else(|a| panic!("sign-in refused afterwards: {} {}", a.status, a.body));
    assert_eq!(raw.signed("GET", "/api/v1/vaults", None).await.status, 200);
}

#[tokio::test]
async fn malformed_paths_and_queries_are_refused() {
    let emu = demo().await;
    let long_segment = "a".repeat(60_000);
    let long_path = format!("/api/v1/{long_segment}");
    let many_segments = "/x".repeat(20_000);
    let mut targets: Vec<Vec<u8>> = [
        "/api/v1/%zz",
        "/api/v1/vault%",
        "/api/v1/vault%4",
        "/api/v1/%C3%28",
        "/api/v1/%FF%FE%FD",
        "/api/v2/user/%00%0a",
        "/api/v1/vaults?attrs=%zz",
        "/api/v1/vaults?%=%",
        "/scim/v2/Users?filter=userName%20eq%20%22%C3%22",
        "/scim/v2/Users/%E2%82",
        "/%",
    ]
    .iter()
    .map(|t| t.as_bytes().to_vec())
    .collect();
    targets.push(long_path.into_bytes());
    targets.push(many_segments.into_bytes());
    targets.push(b"/api/v1/\xc3\x28/\xff".to_vec());
    targets.push(b"/api/v1/vaults?q=\xff\xfe".to_vec());
    for target in &targets {
        let status = raw_http(&emu, target).await;
        assert!(
            (400..500).contains(&status),
            "{:?}: {status}",
            String::from_utf8_lossy(&target[..target.len().min(60)])
        );
    }
    // Escapes that do decode still route as before.
    assert_eq!(raw_http(&emu, b"/%73cim/v2/ping").await, 200);
    assert_eq!(raw_http(&emu, b"/api/v1/vaults").await, 401, "unsigned");
    still_serves(&emu).await;
}

#[tokio::test]
async fn request_ids_at_the_top_of_the_range_do_not_overflow() {
    let emu = demo().await;
    let mut raw = Raw::new(&emu.address());
    raw.sign_in(emu.owner(), SrpVersion::V2, None)
        .await
        .unwrap_or_else(|a| panic!("{} {}", a.status, a.body));
    for id in [u64::MAX, u64::MAX - 1, u64::MAX - 64, u64::MAX / 2] {
        let a = raw.signed_with_id("GET", "/api/v1/vaults", None, id).await;
        assert_eq!(
            (a.status, a.body["errorCode"].as_i64()),
            (401, Some(102)),
            "request id {id} is far outside the window"
        );
    }
    // An id that does not fit in 64 bits.
    let session = raw.session.clone().unwrap();
    let url = format!("{}/api/v1/vaults", raw.base);
    let good = raw
        .mac
        .as_ref()
        .unwrap()
        .sign(&session, "GET", &url, 5)
        .unwrap();
    let tag = good.rsplit('|').next().unwrap();
    let a = raw
        .finish(
            raw.http
                .get(&url)
                .header("X-AgileBits-Session-ID", &session)
                .header("X-AgileBits-MAC", format!("v1|18446744073709551616|{tag}")),
        )
        .await;
    assert_eq!(a.status, 401);
    // The session goes on with ordinary ids.
    let a = raw.signed("GET", "/api/v1/vaults", None).await;
    assert_eq!(a.status, 200, "{}", a.body);
    still_serves(&emu).await;
}

#[tokio::test]
async fn a_flood_of_auth_starts_stays_bounded() {
    let emu = demo().await;
    let owner = emu.owner().clone();
    let sk = opadmin_crypto::secret_key::SecretKey::parse(&owner.secret_key).unwrap();
    let http = reqwest::Client::new();
    let start = |device: String| {
        let http = http.clone();
        let url = format!("{}/api/v3/auth/start", emu.address());
        let body = json!({"email": owner.email, "skFormat": sk.format(), "skid": sk.account_id(), "deviceUuid": device});
        async move {
            let resp = http.post(url).json(&body).send().await.expect("sent");
            let status = resp.status().as_u16();
            let body: serde_json::Value = resp.json().await.expect("json");
            (
                status,
                body["sessionID"].as_str().unwrap_or_default().to_owned(),
            )
        }
    };
    let (_, first) = start("abandoned-first".into()).await;
    for i in 0..1_000 {
        let (status, session) = start(format!("device{i:04}")).await;
        assert_eq!(status, 200);
        assert!(!session.is_empty());
        assert!(
            emu.session_count() <= UNFINISHED_CAP,
            "{} sessions after {} starts",
            emu.session_count(),
            i + 2
        );
    }
    assert_eq!(emu.session_count(), UNFINISHED_CAP);
    // The oldest abandoned sign-in made room: its session is gone.
    let a = http
        .post(format!("{}/api/v2/auth", emu.address()))
        .header("X-AgileBits-Session-ID", &first)
        .json(&json!({"userA": "02"}))
        .send()
        .await
        .unwrap();
    assert_eq!(a.status().as_u16(), 401);
    still_serves(&emu).await;
    assert!(emu.session_count() <= UNFINISHED_CAP + 1);
}

fn totp_account() -> AccountBuilder {
    AccountBuilder::new("MFA Inc")
        .iterations(1000)
        .owner("boss@mfa.example", "Boss", "pw-boss")
        .person(
            PersonSpec::new("totp@mfa.example", "Tia Totp")
                .role(Role::Administrator)
                .password("pw-totp")
                .totp(),
        )
}

/// A 6-digit code that is none of the codes valid around now.
fn wrong_code(secret: &str) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let valid: Vec<String> = [now - 60, now - 30, now, now + 30, now + 60]
        .iter()
        .map(|t| opadmin_crypto::mfa::totp(secret, *t).unwrap())
        .collect();
    (0..)
        .map(|n: u32| format!("{:06}", (n * 7919) % 1_000_000))
        .find(|c| !valid.contains(c))
        .unwrap()
}

async fn mfa_attempt(raw: &mut Raw, code: &str) -> u16 {
    let session = raw.session.clone().unwrap();
    let body = json!({"sessionID": session, "client": "raw-test/1", "totp": {"code": code}});
    raw.signed("POST", "/api/v1/auth/mfa", Some(body))
        .await
        .status
}

#[tokio::test]
async fn wrong_second_factors_drop_the_session() {
    let emu = Emulator::start(EmulatorConfig::default(), totp_account())
        .await
        .unwrap();
    let creds = emu.credentials("totp@mfa.example").unwrap().clone();
    let secret = creds.totp_secret.clone().unwrap();

    // Four wrong codes, then the right one: still accepted.
    let mut raw = Raw::new(&emu.address());
    let first = raw
        .sign_in(&creds, SrpVersion::V2, Some(wrong_code(&secret)))
        .await
        .expect_err("wrong code");
    assert_eq!(first.status, 401);
    for _ in 0..3 {
        assert_eq!(mfa_attempt(&mut raw, &wrong_code(&secret)).await, 401);
    }
    assert_eq!(mfa_attempt(&mut raw, &totp_now(&secret)).await, 200);
    assert_eq!(raw.signed("GET", "/api/v1/vaults", None).await.status, 200);

    // Twenty wrong codes: the fifth drops the session; the right code then comes too late.
    let mut raw = Raw::new(&emu.address());
    raw.sign_in(&creds, SrpVersion::V2, Some(wrong_code(&secret)))
        .await
        .expect_err("wrong code");
    let sessions_before = emu.session_count();
    for _ in 1..20 {
        assert_eq!(mfa_attempt(&mut raw, &wrong_code(&secret)).await, 401);
    }
    assert_eq!(
        emu.session_count(),
        sessions_before - 1,
        "the session was dropped"
    );
    assert_eq!(mfa_attempt(&mut raw, &totp_now(&secret)).await, 401);
    assert_eq!(raw.signed("GET", "/api/v1/vaults", None).await.status, 401);

    // A remembered-device answer that is wrong counts the same way.
    let mut raw = Raw::new(&emu.address());
    raw.dsecret = Some("AAAAAAAAAAAAAAAAAAAAAA".into());
    let refused = raw
        .sign_in(&creds, SrpVersion::V2, None)
        .await
        .expect_err("wrong dshmac");
    assert_eq!(refused.status, 401);

    // A fresh sign-in with the right code works.
    let mut raw = Raw::new(&emu.address());
    raw.sign_in(&creds, SrpVersion::V2, Some(totp_now(&secret)))
        .await
        .unwrap_or_else(|a| panic!("{} {}", a.status, a.body));
    assert_eq!(raw.signed("GET", "/api/v1/vaults", None).await.status, 200);
}

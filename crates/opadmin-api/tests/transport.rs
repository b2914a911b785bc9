//! Transport behaviour after sign-in: retries, rate limits, timeouts, tampering, unmatched
//! requests, session expiry, request MACs, and secrets kept out of Debug and errors.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{Answer, Fake, catch_all, fixture, seen_url, start, test_options, test_transport};
use opadmin_api::ApiError;
use opadmin_api::auth::{SignInOptions, SignedIn, sign_in};
use opadmin_api::endpoints::{Endpoint, Method};
use opadmin_api::models::{Invite, InviteRequest};
use opadmin_api::transport::{Request, RetryPolicy};
use opadmin_api::types::UserType;
use opadmin_crypto::encoding::{b64url_encode, hex_encode};
use opadmin_crypto::envelope::SymmetricKey;
use opadmin_crypto::mac::MacKey;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn signed_in(server: &MockServer, fake: &Fake, options: SignInOptions) -> SignedIn {
    sign_in(fake.account.credentials(&server.uri()), options)
        .await
        .expect("sign-in")
}

/// Mounts `GET /api/v1/account` answering the real account fixture, encrypted.
async fn mount_account(server: &MockServer, fake: &Fake) {
    Mock::given(method("GET"))
        .and(path("/api/v1/account"))
        .respond_with(
            fake.signed(|_, _| Answer::Encrypted(fixture("get-account-info-response.json"))),
        )
        .named("account")
        .mount(server)
        .await;
}

async fn count(server: &MockServer, p: &str) -> usize {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == p)
        .count()
}

#[tokio::test]
async fn rate_limit_waits_the_announced_time_then_succeeds() {
    let (server, fake) = start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/account"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("X-Rate-Limit-Retry-In", "1")
                .set_body_json(json!({})),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    mount_account(&server, &fake).await;
    catch_all(&server, 0).await;
    let s = signed_in(&server, &fake, test_options()).await;

    let started = Instant::now();
    let account = s.client.account().await.expect("account after 429");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(account.uuid.as_str(), "FPF3CVJPDVAT5NVS26SPR4MPAI");
    assert_eq!(count(&server, "/api/v1/account").await, 2);
}

#[tokio::test]
async fn unavailable_twice_then_success_on_a_get() {
    let (server, fake) = start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/account"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .with_priority(1)
        .expect(2)
        .mount(&server)
        .await;
    mount_account(&server, &fake).await;
    catch_all(&server, 0).await;
    let s = signed_in(&server, &fake, test_options()).await;
    s.client.account().await.expect("account after two 503");
    assert_eq!(count(&server, "/api/v1/account").await, 3);
}

#[tokio::test]
async fn retries_are_bounded() {
    let (server, fake) = start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/account"))
        .respond_with(ResponseTemplate::new(502))
        .expect(3)
        .mount(&server)
        .await;
    catch_all(&server, 0).await;
    let options = SignInOptions::default().with_transport(
        test_transport().with_retry(
            RetryPolicy::default()
                .with_max_attempts(3)
                .with_backoff(Duration::from_millis(5), Duration::from_millis(10)),
        ),
    );
    let s = signed_in(&server, &fake, options).await;
    let err = s.client.account().await.expect_err("always 502");
    assert!(
        matches!(err, ApiError::Server { status: 502, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_post_that_timed_out_after_sending_is_not_repeated() {
    let (server, fake) = start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/invite"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!([]))
                .set_delay(Duration::from_secs(3)),
        )
        .expect(1)
        .mount(&server)
        .await;
    // An idempotent GET that times out is repeated, for contrast.
    Mock::given(method("GET"))
        .and(path("/api/v1/invites"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!([]))
                .set_delay(Duration::from_secs(3)),
        )
        .expect(2)
        .mount(&server)
        .await;
    catch_all(&server, 0).await;
    let options = SignInOptions::default().with_transport(
        test_transport()
            .with_timeout(Duration::from_millis(400))
            .with_retry(
                RetryPolicy::default()
                    .with_max_attempts(2)
                    .with_backoff(Duration::from_millis(5), Duration::from_millis(10)),
            ),
    );
    let s = signed_in(&server, &fake, options).await;
    let request = InviteRequest {
        invites: vec![Invite {
            email: "new@example.com".into(),
            language: "en".into(),
            vaults: None,
        }],
        invite_type: UserType::Member,
    };
    let err = s.client.invite(&request).await.expect_err("timeout");
    assert!(
        matches!(&err, ApiError::MaybeApplied { endpoint: "invite.send", source } if matches!(**source, ApiError::Timeout)),
        "{err:?}"
    );
    assert!(err.maybe_applied() && matches!(err.cause(), ApiError::Timeout));
    let err = s
        .client
        .invitations()
        .collect_all()
        .await
        .expect_err("timeout");
    assert!(matches!(err, ApiError::Timeout), "{err:?}");
}

#[tokio::test]
async fn a_checked_state_change_is_not_repeated_after_a_5xx_but_is_after_429s() {
    let (server, fake) = start().await;
    // Two 429s (refused before acting: repeated), then a 503 (maybe applied: not repeated,
    // although a PUT is idempotent by HTTP's definition).
    Mock::given(method("PUT"))
        .and(path("/api/v1/people/suspend/U1"))
        .respond_with(ResponseTemplate::new(429).insert_header("X-Rate-Limit-Retry-In", "0"))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/api/v1/people/suspend/U1"))
        .respond_with(ResponseTemplate::new(503))
        .with_priority(2)
        .mount(&server)
        .await;
    catch_all(&server, 0).await;
    let options = SignInOptions::default().with_transport(
        test_transport().with_retry(
            RetryPolicy::default()
                .with_max_attempts(6)
                .with_backoff(Duration::from_millis(5), Duration::from_millis(10)),
        ),
    );
    let s = signed_in(&server, &fake, options).await;
    let err = s
        .client
        .suspend_people(&[opadmin_api::types::UserId::new("U1")])
        .await
        .expect_err("503");
    assert!(err.maybe_applied(), "{err:?}");
    assert!(
        matches!(err.cause(), ApiError::Server { status: 503, .. }),
        "{err:?}"
    );
    assert!(!err.is_retryable());
    assert!(err.to_string().contains("people.suspend"), "{err}");
    assert_eq!(count(&server, "/api/v1/people/suspend/U1").await, 3);
}

/// The session key the fake server holds for the client's session.
fn session_key(s: &SignedIn, fake: &Fake) -> (String, [u8; 32]) {
    let sid = s.client.transport().session_id().expect("session");
    let key = fake.session_key(&sid).expect("key");
    (sid, key)
}

#[tokio::test]
async fn a_tampered_encrypted_answer_is_rejected_without_retry() {
    let (server, fake) = start().await;
    catch_all(&server, 0).await;
    let s = signed_in(&server, &fake, test_options()).await;
    let (sid, key) = session_key(&s, &fake);
    let key = SymmetricKey::new(sid.clone(), key);

    let mut envelope = key.encrypt_json(&fixture("get-account-info-response.json"));
    let mut data: Vec<char> = envelope.data.chars().collect();
    data[10] = if data[10] == 'A' { 'B' } else { 'A' };
    envelope.data = data.into_iter().collect();
    Mock::given(method("GET"))
        .and(path("/api/v1/account"))
        .respond_with(ResponseTemplate::new(200).set_body_json(&envelope))
        .expect(1)
        .mount(&server)
        .await;
    let err = s.client.account().await.expect_err("tampered");
    assert!(matches!(err, ApiError::Tampered(_)), "{err:?}");

    // A well-formed envelope under another session's key id is tampering too.
    let other = SymmetricKey::new("OTHERSESSIONIDXXXXXXXXXXXX", *key.expose_secret());
    Mock::given(method("GET"))
        .and(path("/api/v1/invites"))
        .respond_with(ResponseTemplate::new(200).set_body_json(other.encrypt_json(&json!([]))))
        .expect(1)
        .mount(&server)
        .await;
    let err = s.client.invitations().collect_all().await.expect_err("kid");
    assert!(matches!(err, ApiError::Tampered(_)), "{err:?}");
}

/// What a call should end with, for the table of hostile answers below.
#[derive(Debug)]
enum Expect {
    Opens,
    Tampered,
    Protocol,
    NotFound,
}

#[tokio::test]
async fn hostile_answer_bodies_end_in_typed_errors_and_escaped_envelopes_still_open() {
    let (server, fake) = start().await;
    catch_all(&server, 0).await;
    let s = signed_in(&server, &fake, test_options()).await;
    let (sid, key) = session_key(&s, &fake);
    let key = SymmetricKey::new(sid.clone(), key);
    let account = fixture("get-account-info-response.json");
    let good = key.encrypt_json(&account);
    let iv = good.iv.clone().expect("iv");
    let field = |name: &str, value: Value| {
        let mut v = serde_json::to_value(&good).unwrap();
        v[name] = value;
        v.to_string()
    };
    let without = |name: &str| {
        let mut v = serde_json::to_value(&good).unwrap();
        v.as_object_mut().unwrap().remove(name);
        v.to_string()
    };
    let sealed = |plaintext: &[u8]| serde_json::to_string(&key.encrypt(plaintext)).unwrap();
    // The same envelope with every character of `data` and `kid` written as a JSON escape.
    let escaped = {
        let escape = |t: &str| {
            t.chars()
                .map(|c| format!("\\u{:04x}", c as u32))
                .collect::<String>()
        };
        format!(
            r#"{{"kid":"{}","enc":"A256GCM","cty":"b5+jwk+json","iv":"{iv}","data":"{}"}}"#,
            escape(&sid),
            escape(&good.data)
        )
    };
    let cases: Vec<(&str, String, Expect)> = vec![
        ("escaped envelope", escaped, Expect::Opens),
        ("kid not a string", field("kid", json!(5)), Expect::Tampered),
        (
            "data not a string",
            field("data", json!(["x"])),
            Expect::Tampered,
        ),
        (
            "another cipher",
            field("enc", json!("A128GCM")),
            Expect::Tampered,
        ),
        ("no iv", without("iv"), Expect::Tampered),
        ("short iv", field("iv", json!("AAAA")), Expect::Tampered),
        (
            "data not base64",
            field("data", json!("*&^%")),
            Expect::Tampered,
        ),
        (
            "data shorter than a tag",
            field("data", json!("AAAA")),
            Expect::Tampered,
        ),
        (
            "envelope then garbage",
            format!("{} x", serde_json::to_string(&good).unwrap()),
            Expect::Tampered,
        ),
        ("plain JSON", account.to_string(), Expect::Tampered),
        (
            "plain success off the allow-list",
            r#"{"success":1}"#.into(),
            Expect::Tampered,
        ),
        ("empty body", String::new(), Expect::Tampered),
        ("deep nesting", "[".repeat(100_000), Expect::Tampered),
        ("HTML", "<html>502</html>".into(), Expect::Tampered),
        ("plaintext not JSON", sealed(b"{not json"), Expect::Protocol),
        (
            "plaintext of the wrong shape",
            sealed(br#"{"uuid":7}"#),
            Expect::Protocol,
        ),
        (
            "an error inside the envelope",
            sealed(br#"{"errorCode":117}"#),
            Expect::NotFound,
        ),
    ];
    for (name, body, expect) in cases {
        Mock::given(method("GET"))
            .and(path("/api/v1/account"))
            .respond_with(ResponseTemplate::new(200).set_body_raw(body, "application/json"))
            .up_to_n_times(1)
            .with_priority(1)
            .mount(&server)
            .await;
        let started = Instant::now();
        let result = s.client.account().await;
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{name}: not bounded"
        );
        match (&expect, &result) {
            (Expect::Opens, Ok(a)) => assert_eq!(a.uuid.to_string(), account["uuid"]),
            (Expect::Tampered, Err(ApiError::Tampered(_)))
            | (Expect::Protocol, Err(ApiError::Protocol(_)))
            | (Expect::NotFound, Err(ApiError::NotFound { .. })) => {}
            _ => panic!("{name}: expected {expect:?}, got {result:?}"),
        }
    }
    assert_eq!(count(&server, "/api/v1/account").await, 17, "none retried");
}

#[tokio::test]
async fn an_unmatched_request_fails_loudly() {
    let (server, fake) = start().await;
    // This test expects exactly one unmatched request; every other test expects none, so an
    // unexpected request fails it when the server is dropped.
    catch_all(&server, 1).await;
    let s = signed_in(&server, &fake, test_options()).await;
    const NOWHERE: Endpoint = Endpoint::new("nowhere", Method::Get, "/api/v1/nowhere/{id}");
    let err = s
        .client
        .send(Request::new(NOWHERE, &["x"]))
        .await
        .expect_err("unmatched");
    assert!(
        matches!(err, ApiError::Server { status: 599, .. }),
        "{err:?}"
    );
    server.verify().await;
}

#[tokio::test]
async fn session_expiry_signs_in_again_exactly_once() {
    let (server, fake) = start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/account"))
        .respond_with(ResponseTemplate::new(401).set_body_json(fixture("no-auth-response.json")))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    mount_account(&server, &fake).await;
    catch_all(&server, 0).await;
    let s = signed_in(&server, &fake, test_options()).await;
    let first_session = s.client.transport().session_id();
    s.client.keysets().await.expect("a call before expiry");

    s.client.account().await.expect("account after one expiry");
    assert_eq!(fake.state().sessions_started, 2);
    // First sign-in: start, device registration, start again; re-sign-in: one start.
    assert_eq!(count(&server, "/api/v3/auth/start").await, 3);
    assert_eq!(count(&server, "/api/v1/device").await, 1);
    assert_eq!(count(&server, "/api/v2/auth/complete").await, 2);
    // Keysets: the first sign-in, the call before expiry, and the sign-in again, which proves
    // that the keysets still open with the key that opened them at first.
    assert_eq!(count(&server, "/api/v2/account/keysets").await, 3);
    assert_ne!(s.client.transport().session_id(), first_session);

    // The server forgets the session: the next call signs in again, once more.
    fake.expire_sessions();
    s.client
        .account()
        .await
        .expect("account after server-side expiry");
    assert_eq!(fake.state().sessions_started, 3);
}

#[tokio::test]
async fn a_second_expiry_is_returned() {
    let (server, fake) = start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/account"))
        .respond_with(ResponseTemplate::new(401).set_body_json(fixture("no-auth-response.json")))
        .expect(2)
        .mount(&server)
        .await;
    catch_all(&server, 0).await;
    let s = signed_in(&server, &fake, test_options()).await;
    let err = s.client.account().await.expect_err("expired twice");
    assert!(matches!(err, ApiError::SessionExpired), "{err:?}");
    assert_eq!(fake.state().sessions_started, 2);
}

#[tokio::test]
async fn concurrent_expiries_share_one_sign_in() {
    let (server, fake) = start().await;
    mount_account(&server, &fake).await;
    catch_all(&server, 0).await;
    let s = signed_in(&server, &fake, test_options()).await;
    fake.expire_sessions();
    let calls: Vec<_> = (0..8)
        .map(|_| {
            let client = s.client.clone();
            tokio::spawn(async move { client.account().await.map(|_| ()) })
        })
        .collect();
    for call in calls {
        call.await.unwrap().expect("account");
    }
    assert_eq!(fake.state().sessions_started, 2);
}

#[tokio::test]
async fn request_macs_verify_and_request_ids_increase() {
    let (server, fake) = start().await;
    mount_account(&server, &fake).await;
    catch_all(&server, 0).await;
    let s = signed_in(&server, &fake, test_options()).await;
    let (sid, key) = session_key(&s, &fake);
    for _ in 0..3 {
        s.client.account().await.expect("account");
    }
    // Concurrent calls each take their own id.
    let client = Arc::new(s.client.clone());
    let calls: Vec<_> = (0..10)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.account().await.map(|_| ()) })
        })
        .collect();
    for call in calls {
        call.await.unwrap().expect("concurrent account");
    }

    let mac_key = MacKey::derive(&key);
    let mut ids = Vec::new();
    for req in server.received_requests().await.unwrap() {
        let Some(header) = req.headers.get("X-AgileBits-MAC") else {
            continue;
        };
        let header = header.to_str().unwrap();
        assert!(header.starts_with("v1|"), "{header}");
        let id = mac_key
            .verify(header, &sid, req.method.as_str(), &seen_url(&req))
            .expect("MAC verifies");
        assert_eq!(
            req.headers
                .get("X-AgileBits-Session-ID")
                .unwrap()
                .to_str()
                .unwrap(),
            sid
        );
        assert_eq!(
            req.headers
                .get("X-AgileBits-Client")
                .unwrap()
                .to_str()
                .unwrap(),
            "opadmin/0100"
        );
        ids.push(id);
    }
    // complete = 1, keysets = 2, three accounts = 3..5, then ten concurrent ones.
    assert_eq!(&ids[..5], &[1, 2, 3, 4, 5]);
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted, (1..=15).collect::<Vec<u64>>());

    // The signed, encrypted requests carry envelopes under the session key.
    let complete = server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.url.path() == "/api/v2/auth/complete")
        .unwrap();
    let body: Value = complete.body_json().unwrap();
    assert_eq!(body["kid"], sid.as_str());
    assert_eq!(body["enc"], "A256GCM");
}

#[tokio::test]
async fn no_secret_in_debug_or_errors() {
    let (server, fake) = start().await;
    catch_all(&server, 0).await;
    let creds = fake.account.credentials(&server.uri());
    let s = sign_in(
        creds.clone(),
        test_options().with_totp_secret(common::TOTP_SECRET),
    )
    .await
    .expect("sign-in");
    let (sid, key) = session_key(&s, &fake);
    let secrets = [
        common::PASSWORD.to_owned(),
        fake.account.secret_key.expose_secret().to_owned(),
        fake.account.secret_key.to_readable(),
        b64url_encode(&key),
        hex_encode(&key),
        common::TOTP_SECRET.to_owned(),
    ];

    let mut shown = vec![
        format!("{creds:?}"),
        format!("{s:?}"),
        format!("{:?}", s.client),
        format!("{:#?}", s.client.transport()),
        format!("{:?}", test_options().with_totp_secret(common::TOTP_SECRET)),
    ];
    // Errors from a wrong password, a tampered answer and a server error.
    let mut wrong = creds.clone();
    wrong.password = format!("{}x", common::PASSWORD).into();
    shown.push(
        sign_in(wrong, test_options())
            .await
            .unwrap_err()
            .to_string(),
    );
    let key = SymmetricKey::new(sid, key);
    let mut envelope = key.encrypt_json(&json!({"x": 1}));
    envelope.data.replace_range(0..2, "zz");
    Mock::given(method("GET"))
        .and(path("/api/v1/account"))
        .respond_with(ResponseTemplate::new(200).set_body_json(&envelope))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/invites"))
        .respond_with(
            ResponseTemplate::new(500)
                .set_body_json(json!({"errorCode": 103, "errorMessage": "Internal server error."})),
        )
        .mount(&server)
        .await;
    let tampered = s.client.account().await.unwrap_err();
    shown.push(tampered.to_string());
    shown.push(format!("{tampered:?}"));
    shown.push(
        s.client
            .invitations()
            .collect_all()
            .await
            .unwrap_err()
            .to_string(),
    );
    for text in &shown {
        for secret in &secrets {
            assert!(!text.contains(secret.as_str()), "secret shown in {text}");
        }
    }
    assert!(shown.iter().any(|t| t.contains("Secret Key")));
}

#[tokio::test]
async fn connection_failures_are_transport_errors_after_bounded_retries() {
    // Nothing listens on port 9 of loopback (discard); the connection is refused.
    let transport = opadmin_api::transport::Transport::new(
        "http://127.0.0.1:9",
        test_transport().with_retry(
            RetryPolicy::default()
                .with_max_attempts(3)
                .with_backoff(Duration::from_millis(5), Duration::from_millis(10)),
        ),
    )
    .expect("transport");
    let started = Instant::now();
    const START: Endpoint = opadmin_api::endpoints::AUTH_START;
    let err = transport
        .send(Request::new(START, &[]).body(&json!({})).unwrap())
        .await
        .expect_err("refused");
    assert!(matches!(err, ApiError::Transport { .. }), "{err:?}");
    assert!(err.to_string().contains("could not reach"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

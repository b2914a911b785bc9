//! A small b5 server for wiremock, played with opadmin-crypto's server halves: it runs real
//! SRP (v1 or v2), keeps real session keys, checks every request MAC, decrypts request bodies
//! and encrypts its answers. Tests add their own mocks for the resources they exercise and
//! register [`catch_all`] last, so any request nobody expected fails the test.

#![allow(dead_code)]

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use opadmin_api::auth::{Credentials, SignInOptions};
use opadmin_api::transport::{RetryPolicy, TransportConfig};
use opadmin_crypto::encoding::{UuidCase, generate_uuid};
use opadmin_crypto::envelope::{Envelope, SymmetricKey};
use opadmin_crypto::kdf::{KdfParams, SRP_METHOD, derive_auk, derive_srp_x};
use opadmin_crypto::keyset::{Keyset, KeysetCiphertext};
use opadmin_crypto::mac::{MacKey, RequestIdWindow};
use opadmin_crypto::secret::Password;
use opadmin_crypto::secret_key::SecretKey;
use opadmin_crypto::srp::{self, SrpServer, SrpVersion};
use serde_json::{Value, json};
use wiremock::matchers::{any, method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

pub const EMAIL: &str = "Admin@Example.com";
pub const PASSWORD: &str = "correct horse battery staple 42";
pub const TOTP_SECRET: &str = "JBSWY3DPEHPK3PXP";

/// A real server answer from `tests/fixtures/b5/`, without its leading `// comment` line.
pub fn fixture(name: &str) -> Value {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/b5");
    let text = std::fs::read_to_string(dir.join(name)).expect("fixture readable");
    let json = text
        .trim_start()
        .strip_prefix("//")
        .and_then(|rest| rest.split_once('\n').map(|(_, json)| json.to_owned()))
        .unwrap_or(text);
    serde_json::from_str(&json).expect("fixture is JSON")
}

/// The user the fake server knows.
pub struct AccountData {
    pub email: String,
    pub password: String,
    pub secret_key: SecretKey,
    pub srp_params: KdfParams,
    pub verifier: Vec<u8>,
    pub keysets: Value,
    pub primary_keyset_uuid: String,
    pub account_uuid: String,
    pub user_uuid: String,
}

impl AccountData {
    /// A fresh user with low iteration counts (1000) for speed.
    pub fn generate() -> Self {
        let secret_key = SecretKey::generate();
        let password = Password::new(PASSWORD);
        let srp_params = KdfParams::generate(100_000);
        let x = derive_srp_x(&password, EMAIL, &secret_key, SRP_METHOD, &srp_params).unwrap();
        let keyset = Keyset::generate(generate_uuid(UuidCase::Lower)).unwrap();
        let auk_params = KdfParams::generate(100_000);
        let auk = derive_auk(&password, EMAIL, &secret_key, &auk_params);
        let ct = keyset.encrypt_with_auk(&auk, &auk_params, 1).unwrap();
        Self {
            email: EMAIL.to_owned(),
            password: PASSWORD.to_owned(),
            verifier: srp::verifier(&x),
            srp_params,
            keysets: json!({"version": 1, "keysets": [ct]}),
            primary_keyset_uuid: keyset.uuid().to_owned(),
            secret_key,
            account_uuid: generate_uuid(UuidCase::Upper),
            user_uuid: generate_uuid(UuidCase::Upper),
        }
    }

    pub fn credentials(&self, address: &str) -> Credentials {
        Credentials::new(
            address,
            self.email.clone(),
            self.password.as_str(),
            self.secret_key.clone(),
        )
    }
}

#[derive(Default)]
struct SessionRec {
    srp: Option<SrpServer>,
    a_hex: String,
    key: Option<[u8; 32]>,
    request_ids: RequestIdWindow,
}

/// What the fake server has seen and how it behaves.
#[derive(Default)]
pub struct State {
    sessions: HashMap<String, SessionRec>,
    pub registered_devices: HashSet<String>,
    /// `mfa` object put into complete/verify answers.
    pub mfa: Option<Value>,
    /// The remember-me token handed out after a TOTP answer.
    pub dsecret_to_hand_out: Option<String>,
    /// How the last MFA answer was given: `totp` or `dsecret`.
    pub mfa_answers: Vec<String>,
    /// Every MAC-signed request: (session id, method, path, request id).
    pub signed: Vec<(String, String, String, u64)>,
    /// Sessions started (auth/start answers with status ok).
    pub sessions_started: usize,
    /// Answer to complete/verify replaced by this (plain JSON, encrypted by the server).
    pub complete_answer: Option<Value>,
    /// Status answered at complete/verify instead of success.
    pub complete_status: Option<(u16, Value)>,
    /// Expire every session on every signed request.
    pub always_expire: bool,
}

/// The fake server: account data and state, shared by the responders.
#[derive(Clone)]
pub struct Fake {
    pub account: Arc<AccountData>,
    pub state: Arc<Mutex<State>>,
}

/// What a signed-request handler answers.
pub enum Answer {
    /// Encrypted with the session key.
    Encrypted(Value),
    /// Plain JSON.
    Plain(Value),
    /// An error status with a plain JSON body.
    Status(u16, Value),
}

fn no_auth() -> ResponseTemplate {
    ResponseTemplate::new(401).set_body_json(fixture("no-auth-response.json"))
}

/// The URL as the client addressed it (wiremock's own `url` names `localhost`; the MAC covers
/// the host of the `Host` header).
pub fn seen_url(req: &Request) -> String {
    let mut url = req.url.clone();
    if let Some(host) = req.headers.get("host").and_then(|h| h.to_str().ok()) {
        let name = host.rsplit_once(':').map_or(host, |(name, _)| name);
        let _ = url.set_host(Some(name));
    }
    url.to_string()
}

fn session_of(req: &Request) -> Option<String> {
    req.headers
        .get("X-AgileBits-Session-ID")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

impl Fake {
    pub fn new(account: AccountData) -> Self {
        Self {
            account: Arc::new(account),
            state: Arc::new(Mutex::new(State::default())),
        }
    }

    pub fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap()
    }

    /// Forgets every session: the next signed request gets 401 / 102.
    pub fn expire_sessions(&self) {
        self.state().sessions.clear();
    }

    /// The session key of a session (for tests that check MACs themselves).
    pub fn session_key(&self, session_id: &str) -> Option<[u8; 32]> {
        self.state().sessions.get(session_id).and_then(|s| s.key)
    }

    /// Session ids the server knows.
    pub fn session_ids(&self) -> Vec<String> {
        self.state().sessions.keys().cloned().collect()
    }

    /// A responder for a MAC-signed, encrypted request: checks the session, the MAC and the
    /// request id, decrypts the body, calls `handler`, encrypts its answer.
    pub fn signed<F>(&self, handler: F) -> impl Respond + use<F>
    where
        F: Fn(&Request, Option<Value>) -> Answer + Send + Sync + 'static,
    {
        let fake = self.clone();
        move |req: &Request| {
            let Some(sid) = session_of(req) else {
                return no_auth();
            };
            let key = {
                let mut state = fake.state();
                if state.always_expire {
                    state.sessions.clear();
                }
                let Some(rec) = state.sessions.get_mut(&sid) else {
                    return no_auth();
                };
                let Some(key) = rec.key else {
                    return no_auth();
                };
                let Some(header) = req
                    .headers
                    .get("X-AgileBits-MAC")
                    .and_then(|v| v.to_str().ok())
                else {
                    return no_auth();
                };
                let Ok(id) =
                    MacKey::derive(&key).verify(header, &sid, req.method.as_str(), &seen_url(req))
                else {
                    return no_auth();
                };
                if !rec.request_ids.accept(id) {
                    return no_auth();
                }
                state.signed.push((
                    sid.clone(),
                    req.method.as_str().to_owned(),
                    req.url.path().to_owned(),
                    id,
                ));
                SymmetricKey::new(sid.clone(), key)
            };
            let body = if req.body.is_empty() {
                None
            } else {
                let Ok(envelope) = serde_json::from_slice::<Envelope>(&req.body) else {
                    return ResponseTemplate::new(400).set_body_json(json!({"errorCode": 100}));
                };
                match key.decrypt_json::<Value>(&envelope) {
                    Ok(v) => Some(v),
                    Err(_) => return no_auth(),
                }
            };
            match handler(req, body) {
                Answer::Encrypted(v) => {
                    ResponseTemplate::new(200).set_body_json(key.encrypt_json(&v))
                }
                Answer::Plain(v) => ResponseTemplate::new(200).set_body_json(v),
                Answer::Status(s, v) => ResponseTemplate::new(s).set_body_json(v),
            }
        }
    }

    /// Mounts the sign-in endpoints (start, device, SRP v1 and v2, complete, verify, MFA,
    /// keysets).
    pub async fn mount_sign_in(&self, server: &MockServer) {
        let fake = self.clone();
        Mock::given(method("POST"))
            .and(path("/api/v3/auth/start"))
            .respond_with(move |req: &Request| {
                let body: Value = req.body_json().unwrap_or_default();
                let account = &fake.account;
                if body["email"].as_str() != Some(account.email.trim().to_lowercase().as_str()) {
                    return ResponseTemplate::new(400).set_body_json(json!({}));
                }
                assert_eq!(body["skFormat"], "A3");
                let device = body["deviceUuid"].as_str().unwrap_or_default().to_owned();
                let sid = generate_uuid(UuidCase::Upper);
                let mut state = fake.state();
                state.sessions.insert(sid.clone(), SessionRec::default());
                let status = if state.registered_devices.contains(&device) {
                    state.sessions_started += 1;
                    "ok"
                } else {
                    "device-not-registered"
                };
                ResponseTemplate::new(200).set_body_json(json!({
                    "status": status,
                    "sessionID": sid,
                    "accountKeyFormat": account.secret_key.format(),
                    "accountKeyUuid": account.secret_key.account_id(),
                    "userAuth": {
                        "method": SRP_METHOD,
                        "alg": "PBES2g-HS256",
                        "iterations": account.srp_params.iterations,
                        "salt": account.srp_params.salt_b64url(),
                    },
                    "newEmail": null,
                    "newHost": null,
                }))
            })
            .named("auth/start")
            .mount(server)
            .await;

        let fake = self.clone();
        Mock::given(method("POST"))
            .and(path("/api/v1/device"))
            .respond_with(move |req: &Request| {
                assert!(
                    req.headers.get("X-AgileBits-MAC").is_none(),
                    "device registration is not signed"
                );
                let Some(sid) = session_of(req) else {
                    return no_auth();
                };
                let body: Value = req.body_json().expect("device body is plain JSON");
                let mut state = fake.state();
                if !state.sessions.contains_key(&sid) {
                    return no_auth();
                }
                let uuid = body["uuid"].as_str().unwrap_or_default().to_owned();
                assert_eq!(uuid.len(), 26);
                assert!(body["clientName"].is_string());
                state.registered_devices.insert(uuid);
                ResponseTemplate::new(200).set_body_json(json!({"success": 1}))
            })
            .named("device")
            .mount(server)
            .await;

        let fake = self.clone();
        Mock::given(method("POST"))
            .and(path("/api/v2/auth"))
            .respond_with(move |req: &Request| {
                let Some(sid) = session_of(req) else {
                    return no_auth();
                };
                let body: Value = req.body_json().unwrap_or_default();
                assert!(body["userA"].is_string());
                let server = SrpServer::new(SrpVersion::V2, &fake.account.verifier, &sid);
                let b = server.public_hex();
                let mut state = fake.state();
                let Some(rec) = state.sessions.get_mut(&sid) else {
                    return no_auth();
                };
                rec.srp = Some(server);
                rec.a_hex = body["userA"].as_str().unwrap_or_default().to_owned();
                ResponseTemplate::new(200).set_body_json(json!({"userB": b}))
            })
            .named("auth v2")
            .mount(server)
            .await;

        let fake = self.clone();
        Mock::given(method("POST"))
            .and(path("/api/v2/auth/confirm-key"))
            .respond_with(move |req: &Request| {
                let Some(sid) = session_of(req) else {
                    return no_auth();
                };
                let body: Value = req.body_json().unwrap_or_default();
                let mut state = fake.state();
                let Some(rec) = state.sessions.get_mut(&sid) else {
                    return no_auth();
                };
                let a = rec.a_hex.clone();
                let Some(server) = rec.srp.as_ref() else {
                    return no_auth();
                };
                let Ok(key) = server.session_key(&a) else {
                    return no_auth();
                };
                let account = &fake.account;
                let Ok(m2) = server.v2_confirm(
                    &a,
                    &key,
                    &account.srp_params.salt,
                    account.secret_key.account_id(),
                    &account.email,
                    body["clientVerifyHash"].as_str().unwrap_or_default(),
                ) else {
                    return no_auth();
                };
                rec.key = Some(*key.expose_secret());
                ResponseTemplate::new(200).set_body_json(json!({"serverVerifyHash": m2}))
            })
            .named("auth v2 confirm-key")
            .mount(server)
            .await;

        let fake = self.clone();
        Mock::given(method("POST"))
            .and(path("/api/v1/auth"))
            .respond_with(move |req: &Request| {
                let Some(sid) = session_of(req) else {
                    return no_auth();
                };
                let body: Value = req.body_json().unwrap_or_default();
                assert_eq!(body["sessionID"].as_str(), Some(sid.as_str()));
                let server = SrpServer::new(SrpVersion::V1, &fake.account.verifier, &sid);
                let Ok(key) = server.session_key(body["userA"].as_str().unwrap_or_default()) else {
                    return no_auth();
                };
                let mut state = fake.state();
                let Some(rec) = state.sessions.get_mut(&sid) else {
                    return no_auth();
                };
                rec.key = Some(*key.expose_secret());
                ResponseTemplate::new(200)
                    .set_body_json(json!({"sessionID": sid, "userB": server.public_hex()}))
            })
            .named("auth v1")
            .mount(server)
            .await;

        for (route, v1) in [
            ("/api/v2/auth/complete", false),
            ("/api/v2/auth/verify", true),
        ] {
            let fake = self.clone();
            let responder = self.signed(move |req, body| {
                let body = body.expect("complete/verify carry a body");
                assert!(body["client"].is_string());
                assert_eq!(body["device"]["uuid"].as_str().map(str::len), Some(26));
                let sid = session_of(req).unwrap_or_default();
                let state = fake.state();
                if let Some((status, answer)) = &state.complete_status {
                    return Answer::Status(*status, answer.clone());
                }
                if let Some(answer) = &state.complete_answer {
                    return Answer::Encrypted(answer.clone());
                }
                let account = &fake.account;
                let mut answer = json!({
                    "notifier": format!("wss://b5n.example/{}/{}", account.account_uuid, account.user_uuid),
                    "accountUuid": account.account_uuid,
                    "userUuid": account.user_uuid,
                    "mfa": state.mfa.clone(),
                });
                if v1 {
                    let cvh = body["clientVerifyHash"].as_str().unwrap_or_default();
                    assert_eq!(
                        cvh,
                        srp::v1_client_verify_hash(account.secret_key.account_id(), &sid)
                    );
                    answer["serverVerifyHash"] = json!(srp::v1_server_verify_hash(&sid, cvh));
                }
                Answer::Encrypted(answer)
            });
            Mock::given(method("POST"))
                .and(path(route))
                .respond_with(responder)
                .named(route)
                .mount(server)
                .await;
        }

        let fake = self.clone();
        let responder = self.signed(move |req, body| {
            let body = body.expect("mfa carries a body");
            let sid = session_of(req).unwrap_or_default();
            let mut state = fake.state();
            if let Some(dshmac) = body["dsecret"]["dshmac"].as_str() {
                let token = state.dsecret_to_hand_out.clone().unwrap_or_default();
                if opadmin_crypto::mfa::dshmac(&token, &sid).ok().as_deref() != Some(dshmac) {
                    return Answer::Status(401, fixture("no-auth-response.json"));
                }
                state.mfa_answers.push("dsecret".into());
                return Answer::Encrypted(json!({}));
            }
            let code = body["totp"]["code"].as_str().unwrap_or_default().to_owned();
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs();
            let ok = [now.saturating_sub(30), now, now + 30]
                .iter()
                .any(|t| opadmin_crypto::mfa::totp(TOTP_SECRET, *t).unwrap() == code);
            if !ok {
                return Answer::Status(401, fixture("no-auth-response.json"));
            }
            state.mfa_answers.push("totp".into());
            Answer::Encrypted(json!({"dsecret": state.dsecret_to_hand_out}))
        });
        Mock::given(method("POST"))
            .and(path("/api/v1/auth/mfa"))
            .respond_with(responder)
            .named("auth/mfa")
            .mount(server)
            .await;

        let keysets = self.account.keysets.clone();
        Mock::given(method("GET"))
            .and(path("/api/v2/account/keysets"))
            .respond_with(self.signed(move |_, _| Answer::Encrypted(keysets.clone())))
            .named("keysets")
            .mount(server)
            .await;
    }
}

/// Answers 599 to any request no other mock matched; `expected` is how many such requests the
/// test expects (0: any unmatched request fails the test when the server is dropped).
pub async fn catch_all(server: &MockServer, expected: u64) {
    Mock::given(any())
        .respond_with(ResponseTemplate::new(599).set_body_string("unmatched request"))
        .with_priority(u8::MAX)
        .expect(expected)
        .named("catch-all: unmatched request")
        .mount(server)
        .await;
}

/// Transport settings for tests: short back-offs, short timeouts.
pub fn test_transport() -> TransportConfig {
    TransportConfig::default()
        .with_timeout(Duration::from_secs(5))
        .with_retry(
            RetryPolicy::default()
                .with_backoff(Duration::from_millis(10), Duration::from_millis(50))
                .with_max_rate_limit_wait(Duration::from_secs(5)),
        )
}

pub fn test_options() -> SignInOptions {
    SignInOptions::default().with_transport(test_transport())
}

/// A fake server with the sign-in endpoints mounted, for a fresh user.
pub async fn start() -> (MockServer, Fake) {
    let server = MockServer::start().await;
    let fake = Fake::new(AccountData::generate());
    fake.mount_sign_in(&server).await;
    (server, fake)
}

/// Keysets as the fake serves them.
pub fn keysets_of(fake: &Fake) -> Vec<KeysetCiphertext> {
    serde_json::from_value(fake.account.keysets["keysets"].clone()).unwrap()
}

//! A minimal b5 client built from `opadmin-crypto` alone (and reqwest), so that the emulator is
//! tested against the protocol, not against the SDK that shares its assumptions.
#![allow(dead_code)]

use opadmin_crypto::encoding::{UuidCase, generate_uuid};
use opadmin_crypto::envelope::{Envelope, SymmetricKey};
use opadmin_crypto::kdf::{self, KdfParams};
use opadmin_crypto::keyset::{Keyring, KeysetCiphertext};
use opadmin_crypto::mac::MacKey;
use opadmin_crypto::secret_key::SecretKey;
use opadmin_crypto::srp::{self, SrpClient, SrpVersion};
use opadmin_emulator::Credentials;
use serde_json::{Value, json};

pub struct Raw {
    pub http: reqwest::Client,
    pub base: String,
    pub device: String,
    pub session: Option<String>,
    pub key: Option<SymmetricKey>,
    pub mac: Option<MacKey>,
    pub next_id: u64,
    pub user_uuid: String,
    pub dsecret: Option<String>,
    /// Every answer received, in order: `(METHOD path, status, body as read, decrypted if sealed)`.
    pub log: std::sync::Mutex<Vec<(String, u16, Value)>>,
}

pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub encrypted: bool,
}

impl Raw {
    pub fn new(base: &str) -> Self {
        Self {
            http: reqwest::Client::new(),
            base: base.to_owned(),
            device: generate_uuid(UuidCase::Lower),
            session: None,
            key: None,
            mac: None,
            next_id: 1,
            user_uuid: String::new(),
            dsecret: None,
            log: std::sync::Mutex::new(Vec::new()),
        }
    }

    pub async fn plain(&self, method: &str, path: &str, body: &Value) -> Answer {
        let mut rb = self
            .http
            .request(
                method.parse().expect("method"),
                format!("{}{}", self.base, path),
            )
            .json(body);
        if let Some(s) = &self.session {
            rb = rb.header("X-AgileBits-Session-ID", s);
        }
        let resp = rb.send().await.expect("request sent");
        let status = resp.status().as_u16();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        self.record(method, path, status, &body);
        Answer {
            status,
            body,
            encrypted: false,
        }
    }

    fn record(&self, method: &str, path: &str, status: u16, body: &Value) {
        if let Ok(mut log) = self.log.lock() {
            log.push((format!("{method} {path}"), status, body.clone()));
        }
    }

    /// The last logged answer to `METHOD path` (exactly as requested), if any.
    pub fn logged(&self, route: &str) -> Option<(u16, Value)> {
        let log = self.log.lock().ok()?;
        log.iter()
            .rev()
            .find(|(r, _, _)| r == route)
            .map(|(_, s, b)| (*s, b.clone()))
    }

    /// A signed request with an encrypted body; the answer is decrypted when sealed.
    pub async fn signed(&mut self, method: &str, path: &str, body: Option<Value>) -> Answer {
        let id = self.next_id;
        self.next_id += 1;
        self.signed_with_id(method, path, body, id).await
    }

    pub async fn signed_with_id(
        &mut self,
        method: &str,
        path: &str,
        body: Option<Value>,
        id: u64,
    ) -> Answer {
        let url = format!("{}{}", self.base, path);
        let session = self.session.clone().expect("session");
        let header = self
            .mac
            .as_ref()
            .expect("mac")
            .sign(&session, method, &url, id)
            .expect("mac");
        let mut rb = self
            .http
            .request(method.parse().expect("method"), &url)
            .header("X-AgileBits-Session-ID", &session)
            .header("X-AgileBits-MAC", header);
        if let Some(b) = body {
            rb = rb.json(&self.key.as_ref().expect("key").encrypt_json(&b));
        }
        let answer = self.finish(rb).await;
        self.record(method, path, answer.status, &answer.body);
        answer
    }

    /// A signed request (next request id) whose body is sent as given, not encrypted.
    pub async fn signed_raw_body(&mut self, method: &str, path: &str, body: Vec<u8>) -> Answer {
        let id = self.next_id;
        self.next_id += 1;
        let url = format!("{}{}", self.base, path);
        let session = self.session.clone().expect("session");
        let header = self
            .mac
            .as_ref()
            .expect("mac")
            .sign(&session, method, &url, id)
            .expect("mac");
        let rb = self
            .http
            .request(method.parse().expect("method"), &url)
            .header("X-AgileBits-Session-ID", &session)
            .header("X-AgileBits-MAC", header)
            .header("content-type", "application/json")
            .body(body);
        let answer = self.finish(rb).await;
        self.record(method, path, answer.status, &answer.body);
        answer
    }

    pub async fn finish(&self, rb: reqwest::RequestBuilder) -> Answer {
        let resp = rb.send().await.expect("request sent");
        let status = resp.status().as_u16();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        if Envelope::is_envelope(&body) {
            let env = Envelope::from_json(&body).expect("envelope");
            let plain = self
                .key
                .as_ref()
                .expect("key")
                .decrypt(&env)
                .expect("answer decrypts with the session key");
            return Answer {
                status,
                body: serde_json::from_slice(&plain).expect("json"),
                encrypted: true,
            };
        }
        Answer {
            status,
            body,
            encrypted: false,
        }
    }

    /// Signs in; returns the failing answer if a step is refused.
    pub async fn sign_in(
        &mut self,
        creds: &Credentials,
        version: SrpVersion,
        totp_code: Option<String>,
    ) -> Result<(), Answer> {
        let sk = SecretKey::parse(&creds.secret_key).expect("secret key");
        let start_body = json!({"email": creds.email, "skFormat": sk.format(), "skid": sk.account_id(), "deviceUuid": self.device});
        self.session = None;
        let mut a = self.plain("POST", "/api/v3/auth/start", &start_body).await;
        if a.status != 200 {
            return Err(a);
        }
        if a.body["status"] == "device-not-registered" {
            self.session = a.body["sessionID"].as_str().map(str::to_owned);
            let reg = self
                .plain(
                    "POST",
                    "/api/v1/device",
                    &json!({"uuid": self.device, "clientName": "raw-test", "clientVersion": "1"}),
                )
                .await;
            assert_eq!(reg.status, 200, "device registration: {}", reg.body);
            self.session = None;
            a = self.plain("POST", "/api/v3/auth/start", &start_body).await;
        }
        assert_eq!(a.body["status"], "ok", "{}", a.body);
        assert!(a.body.get("newEmail").is_some() && a.body.get("newHost").is_some());
        assert_eq!(a.body["accountKeyUuid"], sk.account_id());
        let session = a.body["sessionID"].as_str().expect("session").to_owned();
        self.session = Some(session.clone());
        let ua = &a.body["userAuth"];
        let params = KdfParams::from_wire(
            ua["alg"].as_str().unwrap(),
            ua["salt"].as_str().unwrap(),
            ua["iterations"].as_u64().unwrap() as u32,
        )
        .unwrap();
        let x = kdf::derive_srp_x(
            &creds.password.as_str().into(),
            &creds.email,
            &sk,
            ua["method"].as_str().unwrap(),
            &params,
        )
        .unwrap();
        let client = SrpClient::generate();
        let key = match version {
            SrpVersion::V2 => {
                let b = self
                    .plain(
                        "POST",
                        "/api/v2/auth",
                        &json!({"userA": client.public_hex()}),
                    )
                    .await;
                if b.status != 200 {
                    return Err(b);
                }
                let b_hex = b.body["userB"].as_str().unwrap().to_owned();
                assert_eq!(b_hex.len() % 2, 0, "userB is even-length hex");
                let proof = client
                    .v2_session(&x, &b_hex, &params.salt, sk.account_id(), &creds.email)
                    .unwrap();
                let c = self
                    .plain(
                        "POST",
                        "/api/v2/auth/confirm-key",
                        &json!({"clientVerifyHash": proof.client_verify_hash()}),
                    )
                    .await;
                if c.status != 200 {
                    return Err(c);
                }
                proof
                    .verify_server(c.body["serverVerifyHash"].as_str().unwrap())
                    .expect("server proof verifies");
                *proof.key().expose_secret()
            }
            SrpVersion::V1 => {
                let b = self
                    .plain(
                        "POST",
                        "/api/v1/auth",
                        &json!({"sessionID": session, "userA": client.public_hex()}),
                    )
                    .await;
                if b.status != 200 {
                    return Err(b);
                }
                assert_eq!(b.body["sessionID"], session.as_str());
                let k = client
                    .v1_session_key(&x, b.body["userB"].as_str().unwrap(), &session)
                    .unwrap();
                *k.expose_secret()
            }
        };
        self.key = Some(SymmetricKey::new(session.clone(), key));
        self.mac = Some(MacKey::derive(&key));
        self.next_id = 1;
        let device = json!({"uuid": self.device, "clientName": "raw-test", "clientVersion": "1"});
        let done = match version {
            SrpVersion::V2 => {
                self.signed(
                    "POST",
                    "/api/v2/auth/complete",
                    Some(json!({"client": "raw-test/1", "device": device})),
                )
                .await
            }
            SrpVersion::V1 => {
                let cvh = srp::v1_client_verify_hash(sk.account_id(), &session);
                let d = self.signed("POST", "/api/v2/auth/verify", Some(json!({"sessionID": session, "clientVerifyHash": cvh, "client": "raw-test/1", "device": device}))).await;
                if d.status == 200 {
                    assert_eq!(
                        d.body["serverVerifyHash"],
                        srp::v1_server_verify_hash(&session, &cvh)
                    );
                }
                d
            }
        };
        if done.status != 200 {
            return Err(done);
        }
        assert!(done.encrypted, "complete/verify answers are sealed");
        self.user_uuid = done.body["userUuid"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if !done.body["mfa"].is_null() {
            let answer = match (&self.dsecret, totp_code) {
                (Some(token), _) if done.body["mfa"]["dsecret"]["enabled"] == true => {
                    json!({"sessionID": session, "client": "raw-test/1", "dsecret": {"dshmac": opadmin_crypto::mfa::dshmac(token, &session).unwrap()}})
                }
                (_, Some(code)) => {
                    json!({"sessionID": session, "client": "raw-test/1", "totp": {"code": code}})
                }
                _ => return Err(done),
            };
            let m = self.signed("POST", "/api/v1/auth/mfa", Some(answer)).await;
            if m.status != 200 {
                return Err(m);
            }
            if let Some(t) = m.body["dsecret"].as_str() {
                self.dsecret = Some(t.to_owned());
            }
        }
        Ok(())
    }

    /// Keysets opened with the AUK.
    pub async fn keyring(&mut self, creds: &Credentials) -> Keyring {
        let ks = self.signed("GET", "/api/v2/account/keysets", None).await;
        assert_eq!(ks.status, 200, "{}", ks.body);
        let keysets: Vec<KeysetCiphertext> =
            serde_json::from_value(ks.body["keysets"].clone()).unwrap();
        let primary = keysets.iter().find(|k| k.encrypted_by == "mp").unwrap();
        let e = &primary.enc_sym_key;
        let params = KdfParams::from_wire(
            e.alg.as_deref().unwrap(),
            e.p2s.as_deref().unwrap(),
            e.p2c.unwrap(),
        )
        .unwrap();
        let sk = SecretKey::parse(&creds.secret_key).unwrap();
        let auk = kdf::derive_auk(&creds.password.as_str().into(), &creds.email, &sk, &params);
        Keyring::unlock(&keysets, &auk).expect("keysets open")
    }
}

pub fn totp_now(secret: &str) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    opadmin_crypto::mfa::totp(secret, now).unwrap()
}

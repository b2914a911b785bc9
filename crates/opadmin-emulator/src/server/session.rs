//! Sessions: their stages, idle expiry, the request MAC and the request-id replay window.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use opadmin_crypto::envelope::{Envelope, SymmetricKey};
use opadmin_crypto::mac::{MacKey, RequestIdWindow};
use opadmin_crypto::srp::{SrpServer, SrpVersion};
use serde_json::Value;

use super::{Reply, Req, Shared};

/// How far a session has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stage {
    /// `auth/start` answered; waiting for the SRP exchange.
    Started,
    /// SRP done: the key exists (v1 waits for `verify`, v2 for `confirm-key`).
    KeyAgreed,
    /// v2 `confirm-key` checked the client's proof; waiting for `complete`.
    Confirmed,
    /// Signed in, but a second factor is due.
    MfaPending,
    /// Signed in.
    Active,
}

/// One session.
pub(crate) struct Session {
    pub user: String,
    pub device: String,
    pub stage: Stage,
    pub version: SrpVersion,
    pub srp: Option<SrpServer>,
    pub a_hex: Option<String>,
    pub key: Option<SymmetricKey>,
    pub mac: Option<MacKey>,
    /// The request-id replay window (docs/decisions.md, decision 2).
    pub request_ids: RequestIdWindow,
    pub signed_requests: u64,
    pub last_used: Instant,
    /// When `auth/start` made it (the sign-in timeout counts from here).
    pub created: Instant,
    /// Wrong second-factor answers so far.
    pub mfa_failures: u32,
}

/// How long a sign-in may take from `auth/start` to a usable session. A session that has not
/// finished signing in by then is dropped (whatever the idle timeout), so abandoned sign-ins do
/// not pile up.
pub(crate) const SIGN_IN_TIMEOUT: Duration = Duration::from_secs(10 * 60);

/// At most this many sessions may be part-way through signing in at once. `auth/start` needs no
/// credential, so without a cap a loop of it would grow the server's memory without bound; when
/// the cap is reached the oldest unfinished sign-in is dropped to make room (refusing new ones
/// instead would let that loop lock everyone out).
pub(crate) const MAX_UNFINISHED_SESSIONS: usize = 256;

/// Wrong second-factor answers a session may give; the last one drops the session, and every
/// later request in it answers 401 (a 6-digit code cannot be guessed in a few tries).
pub(crate) const MAX_MFA_FAILURES: u32 = 5;

impl Session {
    pub fn new(user: String, device: String) -> Self {
        Self {
            user,
            device,
            stage: Stage::Started,
            version: SrpVersion::V2,
            srp: None,
            a_hex: None,
            key: None,
            mac: None,
            request_ids: RequestIdWindow::new(),
            signed_requests: 0,
            last_used: Instant::now(),
            created: Instant::now(),
            mfa_failures: 0,
        }
    }

    /// True once the session is signed in (no step of the sign-in is due).
    pub fn finished(&self) -> bool {
        self.stage == Stage::Active
    }

    /// True when the session has been idle too long, or has not finished signing in within
    /// [`SIGN_IN_TIMEOUT`].
    pub fn expired(&self, idle_timeout: Duration) -> bool {
        self.last_used.elapsed() > idle_timeout
            || (!self.finished() && self.created.elapsed() > SIGN_IN_TIMEOUT)
    }

    /// Records the session key (kid = session id) and its MAC key.
    pub fn set_key(&mut self, session_id: &str, key: &[u8; 32]) {
        self.key = Some(SymmetricKey::new(session_id, *key));
        self.mac = Some(MacKey::derive(key));
    }
}

/// Drops expired sessions, then, if [`MAX_UNFINISHED_SESSIONS`] sign-ins are under way, the
/// oldest of them, so that one more can start.
pub(crate) fn make_room(sessions: &mut HashMap<String, Session>, idle_timeout: Duration) {
    sessions.retain(|_, s| !s.expired(idle_timeout));
    let mut unfinished: Vec<(Instant, String)> = sessions
        .iter()
        .filter(|(_, s)| !s.finished())
        .map(|(id, s)| (s.created, id.clone()))
        .collect();
    if unfinished.len() < MAX_UNFINISHED_SESSIONS {
        return;
    }
    let excess = unfinished.len() + 1 - MAX_UNFINISHED_SESSIONS;
    unfinished.sort_unstable();
    for (_, id) in unfinished.into_iter().take(excess) {
        sessions.remove(&id);
    }
}

/// A signed request that passed [`admit`].
pub(crate) struct Admitted {
    pub session_id: String,
    pub user: String,
    pub stage: Stage,
    /// The session key, which seals the answer.
    pub key: SymmetricKey,
}

/// Admits a signed request: session known and not expired, MAC valid, request id fresh, body
/// opened with the session key (see [`open_body`]).
pub(crate) fn admit(shared: &Shared, req: &mut Req) -> Result<Admitted, Reply> {
    let session_id = req
        .session_header
        .clone()
        .ok_or_else(Reply::auth_required)?;
    let mut sessions = shared.sessions();
    let session = sessions
        .get_mut(&session_id)
        .ok_or_else(Reply::auth_required)?;
    if session.expired(shared.config.session_idle_timeout) {
        sessions.remove(&session_id);
        return Err(Reply::auth_required());
    }
    let (Some(mac), Some(key)) = (session.mac.clone(), session.key.clone()) else {
        return Err(Reply::auth_required());
    };
    let header = req.mac_header.as_deref().ok_or_else(Reply::auth_required)?;
    let request_id = mac
        .verify(header, &session_id, &req.method, &req.mac_url)
        .map_err(|_| Reply::auth_required())?;
    if !session.request_ids.accept(request_id) {
        return Err(Reply::auth_required());
    }
    session.signed_requests += 1;
    if let Some(limit) = shared.config.faults.expire_session_after_requests
        && session.signed_requests > limit
        && session.stage == super::Stage::Active
    {
        sessions.remove(&session_id);
        return Err(Reply::auth_required());
    }
    session.last_used = Instant::now();
    let (user, stage) = (session.user.clone(), session.stage);
    drop(sessions);
    req.json = open_body(&key, &req.body)?;
    Ok(Admitted {
        session_id,
        user,
        stage,
        key,
    })
}

/// The body of a signed request, which must travel as a session envelope
/// `{kid, enc: "A256GCM", cty, iv, data}` whose `kid` is the session id and which opens under
/// the session key; an empty body is `null`. 1Password's clients encrypt every body they send
/// once the session key exists (only the sign-in steps before it are plain JSON).
///
/// Decision (the real server's exact answer to a plain body on a signed request is not
/// recorded):
/// * a body that is not JSON, is JSON but not an envelope (plain JSON), or is a malformed
///   envelope answers HTTP 400, errorCode 100 ("Bad request.");
/// * an envelope that names another `kid`, another `enc`, or does not open (wrong key, altered
///   ciphertext) answers HTTP 401, errorCode 102, as a bad MAC does: the body is not
///   authenticated by this session;
/// * either way the refusal comes before routing, so nothing is applied (the request id, already
///   checked by then, stays used).
fn open_body(key: &SymmetricKey, body: &[u8]) -> Result<Value, Reply> {
    if body.is_empty() {
        return Ok(Value::Null);
    }
    let value: Value = serde_json::from_slice(body).map_err(|_| Reply::bad_request())?;
    if !Envelope::is_envelope(&value) {
        return Err(Reply::bad_request());
    }
    let envelope = Envelope::from_json(&value).map_err(|_| Reply::bad_request())?;
    let plain = key.decrypt(&envelope).map_err(|_| Reply::auth_required())?;
    serde_json::from_slice(&plain).map_err(|_| Reply::bad_request())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_must_be_session_envelopes() {
        let key = SymmetricKey::new("SESSION", [7u8; 32]);
        let other = SymmetricKey::new("OTHER", [7u8; 32]);
        let body = serde_json::json!({"a": 1});
        let sealed = serde_json::to_vec(&key.encrypt_json(&body)).unwrap();
        assert_eq!(open_body(&key, &sealed).ok(), Some(body.clone()));
        assert_eq!(open_body(&key, b"").ok(), Some(Value::Null));
        let status = |r: Result<Value, Reply>| r.err().map(|r| r.status);
        assert_eq!(
            status(open_body(&key, br#"{"a":1}"#)),
            Some(400),
            "plain JSON"
        );
        assert_eq!(status(open_body(&key, b"not json")), Some(400));
        let foreign = serde_json::to_vec(&other.encrypt_json(&body)).unwrap();
        assert_eq!(status(open_body(&key, &foreign)), Some(401), "another kid");
        let mut env = key.encrypt_json(&body);
        let first = if env.data.starts_with('A') { "B" } else { "A" };
        env.data = format!("{first}{}", &env.data[1..]);
        let altered = serde_json::to_vec(&env).unwrap();
        assert_eq!(status(open_body(&key, &altered)), Some(401), "altered");
    }

    #[test]
    fn abandoned_sign_ins_are_capped() {
        let mut sessions = HashMap::new();
        let idle = Duration::from_secs(60);
        for i in 0..MAX_UNFINISHED_SESSIONS * 3 {
            make_room(&mut sessions, idle);
            sessions.insert(format!("S{i}"), Session::new("U".into(), "d".into()));
        }
        assert_eq!(sessions.len(), MAX_UNFINISHED_SESSIONS);
        assert!(sessions.contains_key(&format!("S{}", MAX_UNFINISHED_SESSIONS * 3 - 1)));
        let mut active = Session::new("U".into(), "d".into());
        active.stage = Stage::Active;
        sessions.insert("ACTIVE".into(), active);
        for i in 0..MAX_UNFINISHED_SESSIONS {
            make_room(&mut sessions, idle);
            sessions.insert(format!("T{i}"), Session::new("U".into(), "d".into()));
        }
        assert!(
            sessions.contains_key("ACTIVE"),
            "signed-in sessions are kept"
        );
        assert_eq!(sessions.len(), MAX_UNFINISHED_SESSIONS + 1);
        make_room(&mut sessions, Duration::ZERO);
        assert!(sessions.is_empty(), "idle sessions are swept");
    }
}

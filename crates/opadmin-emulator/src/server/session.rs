//! Sessions: their stages, idle expiry, the request MAC and the request-id replay window.

use std::collections::BTreeSet;
use std::time::Instant;

use opadmin_crypto::envelope::{Envelope, SymmetricKey};
use opadmin_crypto::mac::MacKey;
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
    pub highest_request_id: u64,
    pub seen: BTreeSet<u64>,
    pub signed_requests: u64,
    pub last_used: Instant,
}

/// Decision 2 of PROTOCOL.md: request ids must be new, at most this far above the highest seen,
/// and may arrive out of order within this window below it.
pub(crate) const REQUEST_ID_WINDOW: u64 = 64;

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
            highest_request_id: 0,
            seen: BTreeSet::new(),
            signed_requests: 0,
            last_used: Instant::now(),
        }
    }

    /// Records the session key (kid = session id) and its MAC key.
    pub fn set_key(&mut self, session_id: &str, key: &[u8; 32]) {
        self.key = Some(SymmetricKey::new(session_id, *key));
        self.mac = Some(MacKey::derive(key));
    }

    /// Accepts a request id, or refuses it as a replay / out of window.
    ///
    /// Observed: the official SDK starts a session's request ids at a random value (e.g.
    /// 10732530), not at 1, so the first signed request of a session sets the starting point;
    /// after it the replay window of PROTOCOL.md decision 2 applies.
    pub fn accept_request_id(&mut self, id: u64) -> bool {
        if self.highest_request_id == 0 && self.seen.is_empty() && id > 0 {
            self.highest_request_id = id - 1;
        }
        let low = self.highest_request_id.saturating_sub(REQUEST_ID_WINDOW);
        if id == 0
            || id <= low
            || id > self.highest_request_id + REQUEST_ID_WINDOW
            || self.seen.contains(&id)
        {
            return false;
        }
        self.seen.insert(id);
        self.highest_request_id = self.highest_request_id.max(id);
        let floor = self.highest_request_id.saturating_sub(REQUEST_ID_WINDOW);
        self.seen = self.seen.split_off(&floor);
        true
    }
}

/// Admits a signed request: session known and not idle, MAC valid, request id fresh, body
/// decrypted. Returns the session id, its user and stage.
pub(crate) fn admit(shared: &Shared, req: &mut Req) -> Result<(String, String, Stage), Reply> {
    let session_id = req
        .session_header
        .clone()
        .ok_or_else(Reply::auth_required)?;
    let mut sessions = shared.sessions();
    let session = sessions
        .get_mut(&session_id)
        .ok_or_else(Reply::auth_required)?;
    if session.last_used.elapsed() > shared.config.session_idle_timeout {
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
    if !session.accept_request_id(request_id) {
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
    Ok((session_id, user, stage))
}

/// A signed request's body: an envelope under the session key (or, tolerated, plain JSON).
fn open_body(key: &SymmetricKey, body: &[u8]) -> Result<Value, Reply> {
    if body.is_empty() {
        return Ok(Value::Null);
    }
    let value: Value = serde_json::from_slice(body).map_err(|_| Reply::bad_request())?;
    if !Envelope::is_envelope(&value) {
        return Ok(value);
    }
    let envelope = Envelope::from_json(&value).map_err(|_| Reply::bad_request())?;
    let plain = key.decrypt(&envelope).map_err(|_| Reply::auth_required())?;
    serde_json::from_slice(&plain).map_err(|_| Reply::bad_request())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_replays_and_window() {
        let mut s = Session::new("U".into(), "d".into());
        assert!(s.accept_request_id(1));
        assert!(!s.accept_request_id(1), "replay");
        assert!(s.accept_request_id(3));
        assert!(s.accept_request_id(2), "out of order within the window");
        assert!(!s.accept_request_id(0));
        assert!(
            !s.accept_request_id(3 + REQUEST_ID_WINDOW + 1),
            "too far ahead"
        );
        assert!(s.accept_request_id(60));
        assert!(s.accept_request_id(120));
        assert!(!s.accept_request_id(60), "replay");
        assert!(!s.accept_request_id(50), "below the window");
    }
}

//! Sign-in: `auth/start`, device registration, SRP v1 and v2, `verify`/`complete`, MFA.
//!
//! Decisions where the sources are silent (recorded in docs/decisions.md; kept here, in one place):
//! * an unknown email answers HTTP 400 `{}` (no user enumeration); a wrong Secret Key format
//!   400 `{"reason":"invalid_sk_prefix_format"}`;
//! * a wrong password shows as a failed `confirm-key` (v2) or an unreadable `verify` (v1):
//!   HTTP 401, errorCode 102;
//! * a suspended or deleted person learns it only after proving the password, at
//!   `complete`/`verify`: HTTP 435 `{"reason":"user_suspended"}` / 436 `{"reason":"user_deleted"}`;
//! * an account that enforces MFA, for a person without a second factor, answers `mfa` with
//!   `mustEnable` (the session then never becomes usable);
//! * a session that gives [`MAX_MFA_FAILURES`](super::session::MAX_MFA_FAILURES) wrong second factors is dropped (each wrong one
//!   answers 401 / 102, and so does everything after the last);
//! * sign-ins that are never finished are dropped after
//!   [`SIGN_IN_TIMEOUT`](super::session::SIGN_IN_TIMEOUT), and at most
//!   [`MAX_UNFINISHED_SESSIONS`](super::session::MAX_UNFINISHED_SESSIONS) may be under way (the
//!   oldest is dropped to make room).

use opadmin_crypto::encoding::{UuidCase, b64url_encode};
use opadmin_crypto::mfa;
use opadmin_crypto::srp::{self, SrpServer, SrpVersion};
use serde_json::{Value, json};

use super::session::{MAX_MFA_FAILURES, Session, Stage, make_room};
use super::{Reply, Req, Shared};
use crate::config::SrpFlavours;
use crate::model::now_rfc3339;

fn field<'a>(v: &'a Value, name: &str) -> Result<&'a str, Reply> {
    v.get(name)
        .and_then(Value::as_str)
        .ok_or_else(Reply::bad_request)
}

pub(super) fn start(shared: &Shared, req: &Req) -> Reply {
    let body = match req.plain_json() {
        Ok(b) => b,
        Err(r) => return r,
    };
    let (Ok(email), Ok(sk_format), Ok(device)) = (
        field(&body, "email"),
        field(&body, "skFormat"),
        field(&body, "deviceUuid"),
    ) else {
        return Reply::bad_request();
    };
    let account = shared.account();
    let Some(user) = account.find_user(email) else {
        return Reply::plain(json!({})).status(400);
    };
    let Some(sign_in) = &user.sign_in else {
        return Reply::plain(json!({})).status(400);
    };
    if sk_format != sign_in.sk_format {
        return Reply::reason(400, "invalid_sk_prefix_format");
    }
    let session_id = shared.entropy.uuid(UuidCase::Upper);
    let known_device = user.devices.contains(device);
    let answer = if known_device {
        json!({
            "status": "ok",
            "sessionID": session_id,
            "accountKeyFormat": sign_in.sk_format,
            "accountKeyUuid": sign_in.sk_id,
            "userAuth": {
                "method": srp_method(),
                "alg": sign_in.kdf.alg.name(),
                "iterations": sign_in.kdf.iterations,
                "salt": sign_in.kdf.salt_b64url(),
            },
            "newEmail": null,
            "newHost": null,
        })
    } else {
        json!({"status": "device-not-registered", "sessionID": session_id, "newEmail": null, "newHost": null})
    };
    let mut answer = answer;
    if shared.config.faults.omit_auth_start_new_email
        && let Some(map) = answer.as_object_mut()
    {
        map.remove("newEmail");
    }
    let session = Session::new(user.uuid.clone(), device.to_owned());
    drop(account);
    let mut sessions = shared.sessions();
    make_room(&mut sessions, shared.config.session_idle_timeout);
    sessions.insert(session_id, session);
    Reply::plain(answer)
}

fn srp_method() -> &'static str {
    opadmin_crypto::kdf::SRP_METHOD
}

pub(super) fn register_device(shared: &Shared, req: &Req) -> Reply {
    let Some(session_id) = &req.session_header else {
        return Reply::auth_required();
    };
    let body = match req.plain_json() {
        Ok(b) => b,
        Err(r) => return r,
    };
    let Ok(uuid) = field(&body, "uuid") else {
        return Reply::bad_request();
    };
    let user = match shared.sessions().get(session_id) {
        Some(s) if s.expired(shared.config.session_idle_timeout) => {
            return Reply::auth_required();
        }
        Some(s) if s.device == uuid => s.user.clone(),
        Some(_) => return Reply::invalid("The device is not the one this session started with."),
        None => return Reply::auth_required(),
    };
    if let Some(u) = shared.account().users.get_mut(&user) {
        u.devices.insert(uuid.to_owned());
    }
    Reply::plain(json!({"success": 1}))
}

fn flavour_allowed(shared: &Shared, version: SrpVersion) -> bool {
    matches!(
        (shared.config.srp, version),
        (SrpFlavours::Both, _)
            | (SrpFlavours::V1Only, SrpVersion::V1)
            | (SrpFlavours::V2Only, SrpVersion::V2)
    )
}

/// Runs the server half of SRP for a session; returns `userB`.
fn exchange(
    shared: &Shared,
    session_id: &str,
    a_hex: &str,
    version: SrpVersion,
) -> Result<String, Reply> {
    if !flavour_allowed(shared, version) {
        return Err(Reply::error(
            400,
            super::code::BAD_REQUEST,
            "This SRP flavour is not accepted by this account.",
        ));
    }
    let mut sessions = shared.sessions();
    let session = sessions
        .get_mut(session_id)
        .ok_or_else(Reply::auth_required)?;
    if session.stage != Stage::Started || session.expired(shared.config.session_idle_timeout) {
        return Err(Reply::auth_required());
    }
    let account = shared.account();
    let user = account
        .users
        .get(&session.user)
        .ok_or_else(Reply::auth_required)?;
    if !user.devices.contains(&session.device) {
        return Err(Reply::auth_required());
    }
    let sign_in = user.sign_in.as_ref().ok_or_else(Reply::auth_required)?;
    let server = SrpServer::with_secret(
        version,
        &sign_in.verifier,
        session_id,
        &shared.entropy.bytes::<32>(),
    );
    let key = server
        .session_key(a_hex)
        .map_err(|_| Reply::bad_request())?;
    let b_hex = server.public_hex();
    session.set_key(session_id, key.expose_secret());
    session.version = version;
    session.a_hex = Some(a_hex.to_owned());
    session.srp = Some(server);
    session.stage = Stage::KeyAgreed;
    Ok(b_hex)
}

pub(super) fn srp_v1(shared: &Shared, req: &Req) -> Reply {
    let body = match req.plain_json() {
        Ok(b) => b,
        Err(r) => return r,
    };
    let (Ok(session_id), Ok(a_hex)) = (field(&body, "sessionID"), field(&body, "userA")) else {
        return Reply::bad_request();
    };
    match exchange(shared, session_id, a_hex, SrpVersion::V1) {
        Ok(b) => Reply::plain(json!({"sessionID": session_id, "userB": b})),
        Err(r) => r,
    }
}

pub(super) fn srp_v2(shared: &Shared, req: &Req) -> Reply {
    let Some(session_id) = &req.session_header else {
        return Reply::auth_required();
    };
    let body = match req.plain_json() {
        Ok(b) => b,
        Err(r) => return r,
    };
    let Ok(a_hex) = field(&body, "userA") else {
        return Reply::bad_request();
    };
    match exchange(shared, session_id, a_hex, SrpVersion::V2) {
        Ok(b) => Reply::plain(json!({ "userB": b })),
        Err(r) => r,
    }
}

pub(super) fn confirm_key(shared: &Shared, req: &Req) -> Reply {
    let Some(session_id) = &req.session_header else {
        return Reply::auth_required();
    };
    let body = match req.plain_json() {
        Ok(b) => b,
        Err(r) => return r,
    };
    let Ok(hash) = field(&body, "clientVerifyHash") else {
        return Reply::bad_request();
    };
    let mut sessions = shared.sessions();
    let Some(session) = sessions.get_mut(session_id.as_str()) else {
        return Reply::auth_required();
    };
    if session.stage != Stage::KeyAgreed
        || session.version != SrpVersion::V2
        || session.expired(shared.config.session_idle_timeout)
    {
        return Reply::auth_required();
    }
    let account = shared.account();
    let (Some(user), Some(server), Some(a_hex), Some(key)) = (
        account.users.get(&session.user),
        &session.srp,
        &session.a_hex,
        &session.key,
    ) else {
        return Reply::auth_required();
    };
    let Some(sign_in) = &user.sign_in else {
        return Reply::auth_required();
    };
    let key = opadmin_crypto::secret::SecretBytes32::new(*key.expose_secret());
    match server.v2_confirm(
        a_hex,
        &key,
        &sign_in.kdf.salt,
        &sign_in.sk_id,
        &user.email,
        hash,
    ) {
        Ok(m2) => {
            session.stage = Stage::Confirmed;
            Reply::plain(json!({ "serverVerifyHash": m2 }))
        }
        Err(_) => {
            drop(account);
            sessions.remove(session_id.as_str());
            Reply::auth_required()
        }
    }
}

pub(super) fn complete(shared: &Shared, _req: &Req, session_id: &str, stage: Stage) -> Reply {
    let version = shared.sessions().get(session_id).map(|s| s.version);
    if stage != Stage::Confirmed || version != Some(SrpVersion::V2) {
        return Reply::auth_required();
    }
    finish(shared, session_id, None)
}

pub(super) fn verify(shared: &Shared, req: &Req, session_id: &str, stage: Stage) -> Reply {
    let version = shared.sessions().get(session_id).map(|s| s.version);
    if stage != Stage::KeyAgreed || version != Some(SrpVersion::V1) {
        return Reply::auth_required();
    }
    let Ok(hash) = field(&req.json, "clientVerifyHash") else {
        return Reply::bad_request();
    };
    let skid = {
        let sessions = shared.sessions();
        let account = shared.account();
        sessions
            .get(session_id)
            .and_then(|s| account.users.get(&s.user))
            .and_then(|u| u.sign_in.as_ref())
            .map(|s| s.sk_id.clone())
    };
    let Some(skid) = skid else {
        return Reply::auth_required();
    };
    if hash != srp::v1_client_verify_hash(&skid, session_id) {
        return Reply::auth_required();
    }
    finish(
        shared,
        session_id,
        Some(srp::v1_server_verify_hash(session_id, hash)),
    )
}

/// The end of a sign-in: state checks, then either a live session or a second factor due.
fn finish(shared: &Shared, session_id: &str, server_verify_hash: Option<String>) -> Reply {
    let mut sessions = shared.sessions();
    let Some(session) = sessions.get_mut(session_id) else {
        return Reply::auth_required();
    };
    let mut account = shared.account();
    let (account_uuid, mfa_enforced) = (account.uuid.clone(), account.mfa_enforced);
    let Some(user) = account.users.get_mut(&session.user) else {
        return Reply::auth_required();
    };
    match user.state {
        'S' => {
            drop(account);
            sessions.remove(session_id);
            return Reply::reason(435, "user_suspended");
        }
        'D' => {
            drop(account);
            sessions.remove(session_id);
            return Reply::reason(436, "user_deleted");
        }
        _ => {}
    }
    let mfa = if user.totp_secret.is_some() {
        json!({"totp": {"enabled": true, "digits": 6}, "dsecret": {"enabled": true}})
    } else if mfa_enforced && user.user_type != 'S' {
        // Decision: an account's MFA policy does not apply to service accounts (their token is
        // the only credential, and no second factor can be enrolled for them).
        json!({"mustEnable": {"enabled": true, "availableTypes": ["totp"]}})
    } else {
        Value::Null
    };
    if mfa.is_null() {
        session.stage = Stage::Active;
        user.last_auth_at = Some(now_rfc3339());
    } else {
        session.stage = Stage::MfaPending;
    }
    let mut answer = json!({
        "notifier": format!("wss://b5n.1password.com/{account_uuid}/{}/{}", user.uuid, session.device),
        "accountUuid": account_uuid,
        "userUuid": user.uuid,
        "mfa": mfa,
    });
    if let Some(h) = server_verify_hash {
        answer["serverVerifyHash"] = json!(h);
    }
    Reply::sealed(answer)
}

pub(super) fn mfa(shared: &Shared, req: &Req, session_id: &str, stage: Stage) -> Reply {
    if stage != Stage::MfaPending {
        return Reply::auth_required();
    }
    let mut sessions = shared.sessions();
    let Some(session) = sessions.get_mut(session_id) else {
        return Reply::auth_required();
    };
    let mut account = shared.account();
    let Some(user) = account.users.get_mut(&session.user) else {
        return Reply::auth_required();
    };
    let now = time::OffsetDateTime::now_utc().unix_timestamp().max(0) as u64;
    // Every candidate is compared in constant time, and all of them are compared.
    let passed = if let Some(code) = req.json.pointer("/totp/code").and_then(Value::as_str) {
        user.totp_secret.as_deref().is_some_and(|secret| {
            [now.saturating_sub(30), now, now.saturating_add(30)]
                .iter()
                .fold(false, |ok, t| {
                    ok | mfa::totp(secret, *t).is_ok_and(|c| mfa::codes_match(&c, code))
                })
        })
    } else if let Some(dshmac) = req.json.pointer("/dsecret/dshmac").and_then(Value::as_str) {
        user.dsecrets.iter().fold(false, |ok, token| {
            ok | mfa::dshmac(token, session_id).is_ok_and(|h| mfa::codes_match(&h, dshmac))
        })
    } else {
        return Reply::bad_request();
    };
    if !passed {
        session.mfa_failures += 1;
        if session.mfa_failures >= MAX_MFA_FAILURES {
            drop(account);
            sessions.remove(session_id);
        }
        return Reply::auth_required();
    }
    session.stage = Stage::Active;
    user.last_auth_at = Some(now_rfc3339());
    let token = b64url_encode(&shared.entropy.bytes::<16>());
    user.dsecrets.insert(token.clone());
    Reply::sealed(json!({ "dsecret": token }))
}

impl Reply {
    fn status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }
}

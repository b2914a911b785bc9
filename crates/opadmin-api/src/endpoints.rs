//! Every b5 endpoint this crate calls, in one table: method, path template, and whether a call
//! may be repeated safely (idempotent) and may trigger a transparent sign-in again.
//!
//! **Idempotency is decided here and nowhere else.** The transport retries a failed call
//! (429, 502/503/504, connection errors, timeouts) only when its endpoint is idempotent, or when
//! the call certainly never reached the server (the connection could not be made, or the server
//! answered 429). By default GET, PUT and DELETE are idempotent and POST and PATCH are not; the
//! few POST/PATCH calls that set a value rather than add one are marked idempotent explicitly
//! below (each with the reason).
//!
//! **Which answers may be plaintext is decided here too.** Once a session key exists, every
//! answer must be an envelope that opens under it, except the endpoints marked
//! [`answers_plain_success`](Endpoint::answers_plain_success) below, whose success answer may be
//! exactly `{"success":1}` in plain JSON (each marked with where that was observed).
//!
//! Path templates name their parameters in braces (`/api/v2/user/{uuid}`); the parameters are
//! filled in order by [`Endpoint::path_with`], each percent-encoded as one path segment (commas
//! stay as they are: the server joins uuid lists with them).

use std::fmt;

/// An HTTP method as the b5 API uses them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// `GET`
    Get,
    /// `POST`
    Post,
    /// `PUT`
    Put,
    /// `PATCH`
    Patch,
    /// `DELETE`
    Delete,
}

impl Method {
    /// The method's name, upper case.
    pub const fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }

    /// GET, PUT and DELETE are idempotent by HTTP's definition; POST and PATCH are not.
    pub const fn idempotent_by_default(self) -> bool {
        matches!(self, Method::Get | Method::Put | Method::Delete)
    }

    pub(crate) fn to_reqwest(self) -> reqwest::Method {
        match self {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Put => reqwest::Method::PUT,
            Method::Patch => reqwest::Method::PATCH,
            Method::Delete => reqwest::Method::DELETE,
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One endpoint of the b5 API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint {
    /// A short name for logs and errors, e.g. `vault.get`.
    pub name: &'static str,
    /// The HTTP method.
    pub method: Method,
    /// The path template, e.g. `/api/v3/vault/{uuid}`.
    pub path: &'static str,
    /// Whether sending the call twice has the same effect as sending it once.
    pub idempotent: bool,
    /// Whether an expired session (401, error 102) on this call triggers one transparent
    /// sign-in and one retry. Off for the sign-in calls themselves and for sign-out.
    pub reauthenticate: bool,
    /// Whether, once the session key exists, this endpoint's success answer may be the plain
    /// JSON `{"success":1}` instead of an envelope. The allow-list of plaintext answers: every
    /// other answer on a keyed session must open under the session key, or it is
    /// [`ApiError::Tampered`](crate::ApiError::Tampered). Each entry says where the plaintext
    /// answer was observed.
    pub plain_success_answer: bool,
    /// Whether this is a state change whose outcome the caller checks by reading the state
    /// afterwards. After a failure that may have come after the server applied it (an HTTP 5xx,
    /// a connection broken after sending, a timeout) the transport does not send it again, even
    /// when it is idempotent by HTTP's definition, and returns
    /// [`ApiError::MaybeApplied`](crate::ApiError::MaybeApplied): a repeat is not answered like
    /// the first call (a repeated delete is "not found", a repeated suspension "not
    /// permitted"), so only a read can tell what happened. Failures that certainly changed
    /// nothing (429, no connection) are still retried.
    pub checked_after_failure: bool,
}

impl Endpoint {
    /// An endpoint with the method's default idempotency that re-signs in on expiry.
    pub const fn new(name: &'static str, method: Method, path: &'static str) -> Self {
        Self {
            name,
            method,
            path,
            idempotent: method.idempotent_by_default(),
            reauthenticate: true,
            plain_success_answer: false,
            checked_after_failure: false,
        }
    }

    /// Marks a state change whose outcome the caller checks by reading state after a failure
    /// that may have come after it was applied (see
    /// [`checked_after_failure`](Self::checked_after_failure)).
    pub const fn checked_after_failure(mut self) -> Self {
        self.checked_after_failure = true;
        self
    }

    /// Puts this endpoint on the allow-list of answers that may be plain `{"success":1}` once
    /// the session key exists (see [`plain_success_answer`](Self::plain_success_answer)).
    pub const fn answers_plain_success(mut self) -> Self {
        self.plain_success_answer = true;
        self
    }

    /// Marks a call (a GET with an effect) as not safe to repeat after a failure that may have
    /// come after it was applied.
    pub const fn not_idempotent(mut self) -> Self {
        self.idempotent = false;
        self
    }

    /// Marks a POST/PATCH endpoint as safe to repeat.
    pub const fn idempotent(mut self) -> Self {
        self.idempotent = true;
        self
    }

    /// Turns off transparent re-sign-in for this endpoint.
    pub const fn without_reauthentication(mut self) -> Self {
        self.reauthenticate = false;
        self
    }

    /// The path with its `{…}` parameters replaced, in order, by `args`, each percent-encoded as
    /// a path segment. Missing arguments leave the parameter empty; extra ones are ignored.
    pub fn path_with(&self, args: &[&str]) -> String {
        let mut out = String::with_capacity(self.path.len() + 32);
        let mut args = args.iter();
        let mut rest = self.path;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let Some(close) = rest[open..].find('}') else {
                out.push_str(&rest[open..]);
                return out;
            };
            if let Some(arg) = args.next() {
                encode_into(&mut out, arg, true);
            }
            rest = &rest[open + close + 1..];
        }
        out.push_str(rest);
        out
    }
}

/// Percent-encodes `text` into `out`: unreserved characters stay, and so do commas when
/// `keep_commas` (uuid lists); everything else becomes `%XX`.
pub(crate) fn encode_into(out: &mut String, text: &str, keep_commas: bool) {
    for byte in text.bytes() {
        let keep = byte.is_ascii_alphanumeric()
            || matches!(byte, b'-' | b'.' | b'_' | b'~')
            || (keep_commas && byte == b',');
        if keep {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
}

// ---- Sign-in (docs/protocol.md 3.2 to 3.6) -----------------------------------------------------

/// `POST /api/v3/auth/start`. Marked idempotent: a repeated start only opens another session.
pub const AUTH_START: Endpoint = Endpoint::new("auth.start", Method::Post, "/api/v3/auth/start")
    .idempotent()
    .without_reauthentication();
/// `POST /api/v1/device` (plain JSON, session header only). Marked idempotent: registering the
/// same device uuid twice registers it once.
pub const DEVICE_REGISTER: Endpoint =
    Endpoint::new("device.register", Method::Post, "/api/v1/device")
        .idempotent()
        .without_reauthentication();
/// `PUT /api/v1/device/{uuid}/reauthorize` (after `device-deleted`).
pub const DEVICE_REAUTHORIZE: Endpoint = Endpoint::new(
    "device.reauthorize",
    Method::Put,
    "/api/v1/device/{uuid}/reauthorize",
)
.without_reauthentication();
/// SRP v2 `POST /api/v2/auth {userA}`.
pub const AUTH_V2: Endpoint =
    Endpoint::new("auth.v2", Method::Post, "/api/v2/auth").without_reauthentication();
/// SRP v2 `POST /api/v2/auth/confirm-key {clientVerifyHash}`.
pub const AUTH_V2_CONFIRM_KEY: Endpoint = Endpoint::new(
    "auth.v2.confirm-key",
    Method::Post,
    "/api/v2/auth/confirm-key",
)
.without_reauthentication();
/// SRP v2 `POST /api/v2/auth/complete {client, device}` (encrypted, MAC'd).
pub const AUTH_V2_COMPLETE: Endpoint =
    Endpoint::new("auth.v2.complete", Method::Post, "/api/v2/auth/complete")
        .without_reauthentication();
/// SRP v1 `POST /api/v1/auth {sessionID, userA}`.
pub const AUTH_V1: Endpoint =
    Endpoint::new("auth.v1", Method::Post, "/api/v1/auth").without_reauthentication();
/// SRP v1 `POST /api/v2/auth/verify` (encrypted, MAC'd).
pub const AUTH_V1_VERIFY: Endpoint =
    Endpoint::new("auth.v1.verify", Method::Post, "/api/v2/auth/verify").without_reauthentication();
/// `POST /api/v1/auth/mfa` (encrypted, MAC'd).
pub const AUTH_MFA: Endpoint =
    Endpoint::new("auth.mfa", Method::Post, "/api/v1/auth/mfa").without_reauthentication();
/// `GET /api/v2/account/keysets`.
pub const KEYSETS: Endpoint =
    Endpoint::new("account.keysets", Method::Get, "/api/v2/account/keysets");
/// `PUT /api/v1/session/touch`: keep the session alive.
pub const SESSION_TOUCH: Endpoint =
    Endpoint::new("session.touch", Method::Put, "/api/v1/session/touch");
/// `PUT /api/v1/session/signout`. Never re-signs in (signing in to sign out is pointless).
pub const SESSION_SIGNOUT: Endpoint =
    Endpoint::new("session.signout", Method::Put, "/api/v1/session/signout")
        .without_reauthentication()
        // 1Password's web client reads sign-out's `{"success":1}` without decrypting it.
        .answers_plain_success();

// ---- Account, users, reports (docs/protocol.md 4.3; docs/decisions.md, decision 5) ---------------------------------

/// `GET /api/v1/account?attrs=…`.
pub const ACCOUNT: Endpoint = Endpoint::new("account.get", Method::Get, "/api/v1/account");
/// `GET /api/v3/users?…` (filters in the query).
pub const USERS: Endpoint = Endpoint::new("users.list", Method::Get, "/api/v3/users");
/// `GET /api/v2/user/{uuid}?attrs=…`.
pub const USER: Endpoint = Endpoint::new("user.get", Method::Get, "/api/v2/user/{uuid}");
/// `GET /api/v1/user/pubkeys?uuids=a,b`.
pub const USER_PUBKEYS: Endpoint =
    Endpoint::new("user.pubkeys", Method::Get, "/api/v1/user/pubkeys");
/// `GET /api/v1/report/user/{uuid}?sections=overview`.
pub const USER_REPORT: Endpoint =
    Endpoint::new("report.user", Method::Get, "/api/v1/report/user/{uuid}");

// ---- People lifecycle (uuids comma-joined, at most 15 per call) ---------------------------

/// `PUT /api/v2/people/confirm {peopleUuids, groupMemberships?, vaultaccess?}`.
pub const PEOPLE_CONFIRM: Endpoint =
    Endpoint::new("people.confirm", Method::Put, "/api/v2/people/confirm").checked_after_failure();
/// `PUT /api/v1/people/suspend/{uuids}`.
pub const PEOPLE_SUSPEND: Endpoint = Endpoint::new(
    "people.suspend",
    Method::Put,
    "/api/v1/people/suspend/{uuids}",
)
.checked_after_failure();
/// `PUT /api/v1/people/reactivate/{uuids}`.
pub const PEOPLE_REACTIVATE: Endpoint = Endpoint::new(
    "people.reactivate",
    Method::Put,
    "/api/v1/people/reactivate/{uuids}",
)
.checked_after_failure();
/// `DELETE /api/v1/people/{uuids}`.
pub const PEOPLE_DELETE: Endpoint =
    Endpoint::new("people.delete", Method::Delete, "/api/v1/people/{uuids}")
        .checked_after_failure();

// ---- Groups (docs/protocol.md 4.4) ---------------------------------------------------------------

/// `GET /api/v2/group/{uuid}?attrs=pubkey,memberships,vault-access`.
pub const GROUP: Endpoint = Endpoint::new("group.get", Method::Get, "/api/v2/group/{uuid}");
/// `GET /api/v1/group/pubkeys?uuids=…`.
pub const GROUP_PUBKEYS: Endpoint =
    Endpoint::new("group.pubkeys", Method::Get, "/api/v1/group/pubkeys");
/// `PATCH /api/v3/group/{uuid}/membership {add, remove}`. Not idempotent (adds carry fresh
/// key material and versions).
pub const GROUP_MEMBERSHIP: Endpoint = Endpoint::new(
    "group.membership",
    Method::Patch,
    "/api/v3/group/{uuid}/membership",
)
.checked_after_failure();
/// `DELETE /api/v1/group/{group}/person/{user}`.
pub const GROUP_REMOVE_MEMBER: Endpoint = Endpoint::new(
    "group.remove-member",
    Method::Delete,
    "/api/v1/group/{group}/person/{user}",
)
.checked_after_failure();
/// `PATCH /api/v1/group/{group}/person/{user}/role/{A|R}`. Marked idempotent: it sets the role
/// to a value named in the path.
pub const GROUP_SET_ROLE: Endpoint = Endpoint::new(
    "group.set-role",
    Method::Patch,
    "/api/v1/group/{group}/person/{user}/role/{role}",
)
.idempotent()
.checked_after_failure();

// ---- Vaults (docs/protocol.md 4.2; docs/decisions.md, decisions 6 and 8) --------------------------------------------

/// `GET /api/v1/vaults?attrs=combined-access` (a JSON array).
pub const VAULTS: Endpoint = Endpoint::new("vaults.list", Method::Get, "/api/v1/vaults");
/// `GET /api/v3/vault/{uuid}?attrs=accessors,combined-access`.
pub const VAULT: Endpoint = Endpoint::new("vault.get", Method::Get, "/api/v3/vault/{uuid}");
/// `PATCH /api/v2/vault/{uuid}/vaultaccess {"vaultaccess": […]}` (answers plain
/// `{"success": 1}`). Not idempotent by decision: the records carry vault-key serial numbers
/// and the server's effect on a repeat is not documented.
pub const VAULT_ACCESS_GRANT: Endpoint = Endpoint::new(
    "vault.grant",
    Method::Patch,
    "/api/v2/vault/{uuid}/vaultaccess",
)
// 1Password's own SDK (0.5.0) requires this write's answer to be exactly `{"success":1}`,
// unencrypted: an encrypted answer makes it fail.
.answers_plain_success()
.checked_after_failure();
/// `DELETE /api/v1/vault/{vault}/person/{user}` (answers plain `{"success": 1}`).
pub const VAULT_REVOKE_USER: Endpoint = Endpoint::new(
    "vault.revoke-user",
    Method::Delete,
    "/api/v1/vault/{vault}/person/{user}",
)
// 1Password's own SDK (0.5.0) requires this write's answer to be exactly `{"success":1}`,
// unencrypted: an encrypted answer makes it fail.
.answers_plain_success()
.checked_after_failure();
/// `DELETE /api/v1/vault/{vault}/group/{group}` (answers plain `{"success": 1}`).
pub const VAULT_REVOKE_GROUP: Endpoint = Endpoint::new(
    "vault.revoke-group",
    Method::Delete,
    "/api/v1/vault/{vault}/group/{group}",
)
// 1Password's own SDK (0.5.0) requires this write's answer to be exactly `{"success":1}`,
// unencrypted: an encrypted answer makes it fail.
.answers_plain_success()
.checked_after_failure();
/// `PATCH /api/v1/acl/person/{vault}/{user}/{acl}`. Marked idempotent: it sets the acl to the
/// value in the path.
pub const VAULT_ACL_USER: Endpoint = Endpoint::new(
    "vault.acl-user",
    Method::Patch,
    "/api/v1/acl/person/{vault}/{user}/{acl}",
)
.idempotent()
// The same family of vault-access writes as the grant and revokes above, answered the same way;
// not observed separately from them.
.answers_plain_success()
.checked_after_failure();
/// `PATCH /api/v1/acl/group/{vault}/{group}/{acl}`. Marked idempotent, as above.
pub const VAULT_ACL_GROUP: Endpoint = Endpoint::new(
    "vault.acl-group",
    Method::Patch,
    "/api/v1/acl/group/{vault}/{group}/{acl}",
)
.idempotent()
// The same family of vault-access writes as the grant and revokes above, answered the same way;
// not observed separately from them.
.answers_plain_success()
.checked_after_failure();

// ---- Vault lifecycle (observed from 1Password's SDK 0.5.0; docs/protocol.md 4.2) -------------

/// `GET /api/v1/vault/preflight/create?type=U`: the groups a new vault must (and may) be
/// shared with.
pub const VAULT_CREATE_PREFLIGHT: Endpoint = Endpoint::new(
    "vault.create-preflight",
    Method::Get,
    "/api/v1/vault/preflight/create",
);
/// `POST /api/v2/vault {uuid, type, encAttrs, access}`. The client picks the uuid, so after a
/// failure that may have come after it was applied a read of that uuid tells whether the vault
/// exists; a blind repeat would be refused as a uuid in use.
pub const VAULT_CREATE: Endpoint = Endpoint::new("vault.create", Method::Post, "/api/v2/vault")
    // 1Password's SDK 0.5.0 requires exactly a plain `{"success":1}` here (observed against
    // the emulator: an encrypted answer or the vault object makes it fail).
    .answers_plain_success()
    .checked_after_failure();
/// `PUT /api/v3/vault/{uuid}/attrs {uuid, type, encAttrs, attrVersion}`: a new name and
/// description. A repeat after it was applied is refused (the `attrVersion` moved on), so the
/// outcome is read instead.
pub const VAULT_UPDATE_ATTRS: Endpoint = Endpoint::new(
    "vault.update-attrs",
    Method::Put,
    "/api/v3/vault/{uuid}/attrs",
)
// As for the creation: 1Password's SDK 0.5.0 requires a plain `{"success":1}`.
.answers_plain_success()
.checked_after_failure();
/// `GET /api/v1/vault/preflight/delete/{uuid}`: what deleting the vault would take with it
/// (1Password's web client asks before deleting; its SDK does not).
pub const VAULT_DELETE_PREFLIGHT: Endpoint = Endpoint::new(
    "vault.delete-preflight",
    Method::Get,
    "/api/v1/vault/preflight/delete/{uuid}",
);
/// `DELETE /api/v4/vault/{uuid}`.
pub const VAULT_DELETE: Endpoint =
    Endpoint::new("vault.delete", Method::Delete, "/api/v4/vault/{uuid}")
        // As for the creation: 1Password's SDK 0.5.0 requires a plain `{"success":1}`.
        .answers_plain_success()
        .checked_after_failure();
/// `PATCH /api/v2/acl/groups [{groupUuid, vaultUuid, permission}]`: many groups' permissions
/// at once. Marked idempotent: it sets each acl to the value in the body.
pub const GROUP_VAULT_ACLS: Endpoint =
    Endpoint::new("vault.acl-groups", Method::Patch, "/api/v2/acl/groups")
        .idempotent()
        // As for the creation: 1Password's SDK 0.5.0 requires a plain `{"success":1}`.
        .answers_plain_success()
        .checked_after_failure();

// ---- Invitations (docs/protocol.md 4.3) -----------------------------------------------------------

/// `POST /api/v1/invite {invites, type}`: sends emails; never repeated.
pub const INVITE: Endpoint =
    Endpoint::new("invite.send", Method::Post, "/api/v1/invite").checked_after_failure();
/// `GET /api/v1/invites`.
pub const INVITES: Endpoint = Endpoint::new("invite.list", Method::Get, "/api/v1/invites");
/// `DELETE /api/v1/invite/{uuids}`: the caller checks the outcome (the invitation is no longer
/// pending) after a failure that may have come after it was applied.
pub const INVITE_REVOKE: Endpoint =
    Endpoint::new("invite.revoke", Method::Delete, "/api/v1/invite/{uuids}")
        .checked_after_failure();
/// `GET /api/v1/invite/resend/{uuids}`: sends the emails again. A GET with an effect, as
/// 1Password's web client sends it: not repeated after a failure that may have come after the
/// emails went out (nothing shows whether they did).
pub const INVITE_RESEND: Endpoint = Endpoint::new(
    "invite.resend",
    Method::Get,
    "/api/v1/invite/resend/{uuids}",
)
.not_idempotent();

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_filled_and_encoded() {
        assert_eq!(
            VAULT_ACL_USER.path_with(&["v1", "U1", "15730672"]),
            "/api/v1/acl/person/v1/U1/15730672"
        );
        assert_eq!(
            PEOPLE_SUSPEND.path_with(&["A,B"]),
            "/api/v1/people/suspend/A,B"
        );
        assert_eq!(USER.path_with(&["../x y"]), "/api/v2/user/..%2Fx%20y");
        assert_eq!(ACCOUNT.path_with(&[]), "/api/v1/account");
    }

    #[test]
    fn idempotency_table() {
        for e in [ACCOUNT, USERS, PEOPLE_SUSPEND, PEOPLE_DELETE, SESSION_TOUCH] {
            assert!(e.idempotent, "{}", e.name);
        }
        for e in [
            INVITE,
            GROUP_MEMBERSHIP,
            VAULT_ACCESS_GRANT,
            AUTH_V2,
            AUTH_MFA,
        ] {
            assert!(!e.idempotent, "{}", e.name);
        }
        for e in [VAULT_ACL_USER, VAULT_ACL_GROUP, GROUP_SET_ROLE, AUTH_START] {
            assert!(e.idempotent, "{}", e.name);
        }
        for e in [
            PEOPLE_CONFIRM,
            PEOPLE_SUSPEND,
            PEOPLE_REACTIVATE,
            PEOPLE_DELETE,
            GROUP_MEMBERSHIP,
            GROUP_REMOVE_MEMBER,
            GROUP_SET_ROLE,
            VAULT_ACCESS_GRANT,
            VAULT_REVOKE_USER,
            VAULT_REVOKE_GROUP,
            VAULT_ACL_USER,
            VAULT_ACL_GROUP,
            INVITE,
            INVITE_REVOKE,
            VAULT_CREATE,
            VAULT_UPDATE_ATTRS,
            VAULT_DELETE,
            GROUP_VAULT_ACLS,
        ] {
            assert!(e.checked_after_failure, "{}", e.name);
            assert!(
                !e.name.starts_with("vault.") || e.plain_success_answer,
                "{}",
                e.name
            );
        }
        for e in [
            ACCOUNT,
            USERS,
            VAULT,
            GROUP,
            SESSION_TOUCH,
            AUTH_START,
            INVITE_RESEND,
        ] {
            assert!(!e.checked_after_failure, "{}", e.name);
        }
        const { assert!(!INVITE_RESEND.idempotent) };
        const { assert!(!SESSION_SIGNOUT.reauthenticate) };
        const { assert!(ACCOUNT.reauthenticate) };
    }
}

//! Service accounts: users of type `S` that sign in with an `ops_` token instead of an email,
//! password and Secret Key (docs/protocol.md 3.8 and "Observed from 1Password's own client").
//!
//! Decisions, kept here in one place:
//!
//! * **Sign-in material.** The emulator stores a service account's SRP `x` and Account Unlock
//!   Key directly (random, from the account's entropy, so seeded accounts repeat) instead of
//!   deriving them by 2SKD from a password: nobody knows a service account's password, and the
//!   token carries exactly these two values. The verifier is `g^x` and the keyset is encrypted
//!   with the AUK, as for people (`builder.rs`).
//! * **Iterations.** The token's and `auth/start`'s `userAuth.iterations` is always
//!   [`SERVICE_ACCOUNT_ITERATIONS`] (100000), whatever the account's iteration count for people:
//!   the official client rejects 1000. Nothing is derived with it (the client skips 2SKD), so it
//!   costs nothing.
//! * **Device.** The token's `deviceUuid` is registered to the service account when the account
//!   is built, so `auth/start` answers `status: ok` for it at once.
//! * **Address.** `signInAddress` is the emulator's `host:port`, known only once the listener is
//!   bound: the token is rendered on request ([`render_token`]), never stored.
//! * **Encoding.** `ops_` + base64url **without padding** of the JSON (the b5 wire form of
//!   base64url everywhere else; docs/protocol.md 3.5).
//! * **Visibility.** A service account is in no group. It sees the vaults it was given directly
//!   and the groups it was shown ([`ServiceAccountSpec::group`]): docs/decisions.md, decision 7 lets
//!   anyone see the groups it "may manage", and a service account may manage a group's access to
//!   the vaults it holds Manage on, so it is shown those groups. This is deliberately narrower
//!   than the ViewGroups/ManageGroups account permissions (which show every group and, for
//!   ManageGroups, allow membership changes a service account may never make); those bits can
//!   still be given with [`ServiceAccountSpec::permissions`]. The Manage-bit rule (docs/decisions.md, decision 8)
//!   applies to it like to anyone.
//! * **What it may not do.** 1Password documents that service accounts cannot manage people or
//!   groups or administer the account. The emulator answers HTTP 403, errorCode 101 to a
//!   service account for: invitations (send, list, revoke, invited vaults), confirmation,
//!   suspend / reactivate / delete, and group membership and role changes. Which routes those
//!   are is an attribute of each route in the server's one route table (`server/routes.rs`).
//! * **Listings.** People listings (`/api/v3/users`, the account object's `users` and `counts`)
//!   leave service accounts out, as the real `/api/v3/users` lists them apart
//!   (`serviceAccounts`, docs/protocol.md 4.3). A service account still sees itself.

use opadmin_crypto::encoding::{b64url_encode, hex_encode};
use serde_json::json;

use crate::model::{Acl, ServiceAccount, SignIn, User};

/// PBKDF2 iterations in every service-account token and its `auth/start` answer.
pub const SERVICE_ACCOUNT_ITERATIONS: u32 = 100_000;

/// The domain of every service account's email.
pub const SERVICE_ACCOUNT_EMAIL_DOMAIN: &str = "1passwordserviceaccounts.com";

/// A service account to put in the account.
#[derive(Debug, Clone)]
pub struct ServiceAccountSpec {
    pub(crate) name: String,
    pub(crate) vaults: Vec<(String, Acl)>,
    pub(crate) groups: Vec<String>,
    pub(crate) permissions: u64,
}

impl ServiceAccountSpec {
    /// A service account with this display name and no access yet. Its email is
    /// `<lower-case uuid>@1passwordserviceaccounts.com`.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            vaults: Vec::new(),
            groups: Vec::new(),
            permissions: 0,
        }
    }

    /// Grants it direct access to a vault (by name) with these acl bits; include
    /// [`acl::MANAGE`](crate::acl::MANAGE) to let it grant and revoke access to that vault.
    pub fn vault(mut self, name: impl Into<String>, acl: Acl) -> Self {
        self.vaults.push((name.into(), acl));
        self
    }

    /// Shows it a group (by name), so that it can read the group and grant or revoke the group's
    /// access to the vaults it manages. It never may change the group's members.
    pub fn group(mut self, name: impl Into<String>) -> Self {
        self.groups.push(name.into());
        self
    }

    /// Gives it account permission bits directly (for example
    /// [`perm::VIEW_GROUPS`](crate::perm::VIEW_GROUPS) to see every group).
    pub fn permissions(mut self, bits: u64) -> Self {
        self.permissions |= bits;
        self
    }
}

/// A service account of a running emulator. `Debug` never shows the token.
#[derive(Clone)]
pub struct ServiceAccountCredentials {
    /// Its user uuid.
    pub user_uuid: String,
    /// Its email (`…@1passwordserviceaccounts.com`).
    pub email: String,
    /// Its display name.
    pub name: String,
    /// The `ops_` token, naming this emulator's `host:port` as `signInAddress`.
    pub token: String,
}

impl std::fmt::Debug for ServiceAccountCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceAccountCredentials")
            .field("user_uuid", &self.user_uuid)
            .field("email", &self.email)
            .field("name", &self.name)
            .field("token", &"<redacted>")
            .finish()
    }
}

/// The `ops_` token of a service account, for a server at `sign_in_address` (`host:port`).
pub(crate) fn render_token(
    user: &User,
    sign_in: &SignIn,
    sa: &ServiceAccount,
    sign_in_address: &str,
) -> String {
    let token = json!({
        "signInAddress": sign_in_address,
        "userAuth": {
            "method": opadmin_crypto::kdf::SRP_METHOD,
            "alg": sign_in.kdf.alg.name(),
            "iterations": sign_in.kdf.iterations,
            "salt": sign_in.kdf.salt_b64url(),
        },
        "email": user.email,
        "srpX": hex_encode(sa.srp_x.expose_secret()),
        "muk": sa.auk.to_jwk(),
        "secretKey": sa.secret_key,
        "throttleSecret": {
            "seed": hex_encode(&sa.throttle_seed),
            "uuid": sa.throttle_uuid,
        },
        "deviceUuid": sa.device,
    });
    format!("ops_{}", b64url_encode(token.to_string().as_bytes()))
}

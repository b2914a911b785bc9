//! `Admin`: sign in once, then sync and act.
//!
//! The methods live by duty: `builder` signs in, `sync` assembles snapshots and opens vault
//! keys, `access` grants and revokes vault access, `people` and `groups` act on people and
//! groups, `invitations` lists, resends and revokes pending invitations, `vaults` creates, renames and
//! deletes vaults and sets many groups' permissions at once; this module holds the `Admin` type and the helpers they share.

pub(crate) mod access;
mod builder;
mod converge;
pub(crate) mod groups;
pub(crate) mod invitations;
pub(crate) mod people;
mod sync;
mod vaults;

use std::sync::Arc;

use opadmin_api::models::{self, AccessorType, VaultAccess};
use opadmin_api::types::{GroupId, UserId, VaultPermissions};
use opadmin_api::{ApiError, Client};
use opadmin_crypto::rsa::RsaPublicKey;

use crate::RememberToken;
use crate::error::{Error, Result};
use crate::keys::KeyStore;
use crate::model::SkippedItem;

pub use builder::AdminBuilder;

/// A server answer whose "not found" is renamed to `what` (e.g. `vault …`, built only on that
/// path); every other error converts as usual.
fn named_not_found<T>(
    answer: std::result::Result<T, ApiError>,
    what: impl FnOnce() -> String,
) -> Result<T> {
    answer.map_err(|e| match e {
        ApiError::NotFound { .. } => Error::NotFound { what: what() },
        other => other.into(),
    })
}

/// The most requests an `Admin` keeps in flight by default: the ceiling of the one adaptive
/// limit its transport shares between every call (it starts lower, grows while answers are
/// healthy and is cut on 429 or overload; see `opadmin_api::concurrency`).
pub const DEFAULT_CONCURRENCY: usize = 32;

struct Inner {
    client: Client,
    keys: KeyStore,
    me: UserId,
    device_uuid: String,
    remember_token: Option<RememberToken>,
    concurrency: usize,
    /// Signed in with a service-account token.
    service_account: bool,
    /// The signed-in user's keysets that did not open at sign-in (other than the primary one,
    /// without which sign-in fails).
    skipped_keysets: Vec<SkippedItem>,
    /// What the last sync keeps for the next (incremental) one.
    sync_cache: std::sync::Mutex<Option<sync::SyncCache>>,
}

/// A signed-in administrator. Cheap to clone; clones share the session and the key store.
#[derive(Clone)]
pub struct Admin {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Admin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Admin")
            .field("user", &self.inner.me)
            .field("device", &self.inner.device_uuid)
            .field("service_account", &self.inner.service_account)
            .finish_non_exhaustive()
    }
}

impl Admin {
    /// Starts a builder.
    pub fn builder() -> AdminBuilder {
        AdminBuilder::default()
    }

    /// The signed-in administrator's uuid.
    pub fn user_id(&self) -> &UserId {
        &self.inner.me
    }

    /// The device this session signed in as: store it and pass it to
    /// [`AdminBuilder::device_uuid`] to be the same device next time.
    pub fn device_uuid(&self) -> &str {
        &self.inner.device_uuid
    }

    /// A remember-this-device token issued at this sign-in (after a second factor), to store as
    /// a secret and pass to [`AdminBuilder::remember_token`]. It is zeroized on drop and its
    /// `Debug` is redacted; [`RememberToken::expose_secret`] gives the text to store.
    pub fn remember_token(&self) -> Option<&RememberToken> {
        self.inner.remember_token.as_ref()
    }

    pub(crate) fn client(&self) -> &Client {
        &self.inner.client
    }

    /// The signed-in user's keysets that did not open at sign-in, each with why. Sign-in needs
    /// only the primary keyset (the one the account password and Secret Key open); another
    /// keyset that does not open is skipped, and what is wrapped only to it (a vault key, a
    /// group keyset) is skipped in turn when used. [`sync`](Self::sync) lists these too.
    pub fn skipped_keysets(&self) -> &[SkippedItem] {
        &self.inner.skipped_keysets
    }

    /// The transport's adaptive limit on requests in flight as it stands now (between 1 and
    /// the ceiling set with [`AdminBuilder::concurrency`](crate::AdminBuilder::concurrency)):
    /// lower after the server refused requests with 429 or showed overload.
    pub fn concurrency_limit(&self) -> usize {
        self.client().transport().concurrency_limit()
    }

    /// Whether this session signed in with a service-account token.
    pub fn is_service_account(&self) -> bool {
        self.inner.service_account
    }

    /// Refuses, before anything is sent, what a service account may not do or cannot see.
    ///
    /// Decision: 1Password documents that service accounts cannot manage people, change group
    /// membership or administer the account (the emulator answers those 403 / 101), and a
    /// service account sees no people. So people operations, group membership and role
    /// changes, and the person-level vault-access calls (whose group-aware rules need the
    /// person's groups, which a service account cannot read) fail here with
    /// [`Error::NotPermittedForServiceAccount`]. `sync` and `users` fail too: a snapshot
    /// without people would be silently incomplete. What works: [`vaults`](Self::vaults),
    /// [`vault_accessors`](Self::vault_accessors), [`group`](Self::group),
    /// [`groups`](Self::groups) (the groups it sees), [`open_vault_keys`](Self::open_vault_keys),
    /// and [`grant_group_vault_access`](Self::grant_group_vault_access) /
    /// [`revoke_group_vault_access`](Self::revoke_group_vault_access) on vaults it manages.
    pub(crate) fn deny_service_account(&self, operation: &'static str) -> Result<()> {
        if self.inner.service_account {
            Err(Error::NotPermittedForServiceAccount { operation })
        } else {
            Ok(())
        }
    }

    fn record(
        &self,
        v: &models::Vault,
        kind: AccessorType,
        id: &str,
        public: &RsaPublicKey,
        acl: VaultPermissions,
    ) -> Result<VaultAccess> {
        let key = self.inner.keys.vault_key(v)?;
        let sn = v.combined_access.as_ref().map_or(1, |a| a.vault_key_sn);
        Ok(VaultAccess {
            vault_uuid: v.uuid.clone(),
            accessor_type: kind,
            accessor_uuid: id.to_owned(),
            acl,
            lease_timeout: 0,
            vault_key_sn: sn,
            encrypted_by: public.kid().to_owned(),
            enc_vault_key: public.wrap_key(&key)?,
        })
    }

    async fn user_public_key(&self, user: &UserId) -> Result<RsaPublicKey> {
        let keys = self
            .client()
            .user_public_keys(std::slice::from_ref(user))
            .await?;
        let entry = keys
            .into_iter()
            .find(|k| k.uuid == user.as_str())
            .ok_or_else(|| Error::NotFound {
                what: format!("public key of {user}"),
            })?;
        Ok(RsaPublicKey::from_jwk(&entry.pub_key)?)
    }

    async fn group_public_key(&self, group: &GroupId) -> Result<RsaPublicKey> {
        let keys = self
            .client()
            .group_public_keys(std::slice::from_ref(group))
            .await?;
        let entry = keys
            .into_iter()
            .find(|k| k.uuid == group.as_str())
            .ok_or_else(|| Error::NotFound {
                what: format!("group {group}"),
            })?;
        Ok(RsaPublicKey::from_jwk(&entry.pub_key)?)
    }

    /// Signs out (the session ends on the server).
    pub async fn sign_out(&self) -> Result<()> {
        Ok(self.client().sign_out().await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_found_takes_the_given_name_and_other_errors_pass_through() {
        let renamed =
            named_not_found::<()>(Err(ApiError::not_found("the requested object")), || {
                "vault v1".to_owned()
            });
        assert!(matches!(renamed, Err(Error::NotFound { what }) if what == "vault v1"));

        let mut named = false;
        let other = named_not_found::<()>(Err(ApiError::Timeout), || {
            named = true;
            String::new()
        });
        assert!(matches!(other, Err(Error::Timeout)));
        assert!(!named, "the name is built only for a not-found answer");

        assert_eq!(named_not_found(Ok(7), || unreachable!()).ok(), Some(7));
    }
}

//! The one key store: which key opens what. Callers of the facade never hold key bytes.
//!
//! Vault keys come wrapped to the administrator's own keyset or to a group keyset it holds;
//! group keysets come wrapped to a member (`userMembership`) or to the Recovery group
//! (`recoveryKeyset`, which owners hold). Opened keys are cached for the life of the `Admin`.

use std::collections::HashMap;
use std::sync::{Mutex, RwLock};

use opadmin_api::models::{Group as WireGroup, Vault as WireVault};
use opadmin_api::types::VaultId;
use opadmin_crypto::envelope::{Envelope, SymmetricKey};
use opadmin_crypto::keyset::{Keyring, Keyset};

use crate::error::{Error, Result};

/// Opened keysets and vault keys.
pub(crate) struct KeyStore {
    keyring: RwLock<Keyring>,
    vault_keys: Mutex<HashMap<VaultId, SymmetricKey>>,
}

impl std::fmt::Debug for KeyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyStore").finish_non_exhaustive()
    }
}

impl KeyStore {
    pub fn new(keyring: Keyring) -> Self {
        Self {
            keyring: RwLock::new(keyring),
            vault_keys: Mutex::new(HashMap::new()),
        }
    }

    fn ring(&self) -> std::sync::RwLockReadGuard<'_, Keyring> {
        self.keyring.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Opens (and remembers) keysets the server sent: group keysets from memberships or the
    /// Recovery group. Keysets whose parent is not held are skipped, not errors.
    pub fn learn_group(&self, group: &WireGroup) {
        let mut ring = self.keyring.write().unwrap_or_else(|p| p.into_inner());
        for ks in group
            .user_membership
            .as_ref()
            .and_then(|m| m.keyset.as_ref())
            .into_iter()
            .chain(group.recovery_keyset.as_ref())
        {
            if !ring.contains(&ks.uuid) {
                let _ = ring.add_all(std::iter::once(ks));
            }
        }
    }

    /// The opened keyset of a group, when the administrator holds it.
    pub fn group_keyset(&self, group: &WireGroup) -> Result<Keyset> {
        self.learn_group(group);
        let uuid = group
            .active_keyset_uuid
            .clone()
            .or_else(|| {
                group
                    .user_membership
                    .as_ref()
                    .and_then(|m| m.keyset.as_ref())
                    .map(|k| k.uuid.clone())
            })
            .ok_or_else(|| Error::Protocol(format!("group {} has no keyset", group.uuid)))?;
        self.ring().get(&uuid).cloned().ok_or_else(|| Error::PermissionDenied {
            message: format!(
                "the integration user cannot open the keys of group {:?}: it is neither a member of it nor of the Recovery group",
                group.name
            ),
        })
    }

    /// A vault key from the administrator's effective access record (`combinedAccess`).
    pub fn vault_key(&self, vault: &WireVault) -> Result<SymmetricKey> {
        if let Some(k) = self
            .vault_keys
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&vault.uuid)
        {
            return Ok(k.clone());
        }
        let wrapped = vault
            .combined_access
            .as_ref()
            .map(|a| &a.enc_vault_key)
            .ok_or(Error::NoManageVaultPermission)?;
        let key = self.open(wrapped)?;
        self.remember(&vault.uuid, key.clone());
        Ok(key)
    }

    /// Opens a wrapped key with whatever keyset it names.
    pub fn open(&self, wrapped: &Envelope) -> Result<SymmetricKey> {
        Ok(self.ring().unwrap_key(wrapped)?)
    }

    /// The public key of the signed-in identity's primary keyset (what a vault key is wrapped
    /// to for oneself), from the keys opened at sign-in rather than from the server.
    pub fn own_public_key(&self) -> Option<opadmin_crypto::rsa::RsaPublicKey> {
        self.ring().primary().map(|k| k.public_key().clone())
    }

    /// Whether a vault key is already open.
    pub fn has_vault_key(&self, vault: &VaultId) -> bool {
        self.vault_keys
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains_key(vault)
    }

    /// Remembers an opened vault key.
    pub fn remember(&self, vault: &VaultId, key: SymmetricKey) {
        self.vault_keys
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(vault.clone(), key);
    }

    /// Opens many vault keys on every core (RSA-OAEP is the hot path of a sync). Keys already
    /// open are skipped; every vault whose key was tried is reported, `Ok` or with why its key
    /// did not open (a worker thread that panicked gives [`Error::Internal`] for its vaults).
    pub fn open_vault_keys(&self, wrapped: Vec<(VaultId, Envelope)>) -> Vec<(VaultId, Result<()>)> {
        let todo: Vec<(VaultId, Envelope)> = wrapped
            .into_iter()
            .filter(|(v, _)| !self.has_vault_key(v))
            .collect();
        if todo.is_empty() {
            return Vec::new();
        }
        let threads = std::thread::available_parallelism()
            .map_or(2, |n| n.get())
            .min(todo.len());
        let chunk = todo.len().div_ceil(threads);
        let ring = self.ring();
        let opened: Vec<(VaultId, Result<SymmetricKey>)> = std::thread::scope(|scope| {
            let handles: Vec<_> = todo
                .chunks(chunk)
                .map(|part| {
                    let ring = &*ring;
                    let handle = scope.spawn(move || {
                        part.iter()
                            .map(|(v, e)| (v.clone(), ring.unwrap_key(e).map_err(Error::from)))
                            .collect::<Vec<_>>()
                    });
                    (part, handle)
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|(part, h)| {
                    // A thread that panicked reports each of its vaults as failed, rather
                    // than losing them.
                    h.join().unwrap_or_else(|_| {
                        part.iter()
                            .map(|(v, _)| {
                                (
                                    v.clone(),
                                    Err(Error::Internal(format!(
                                        "opening the key of vault {v} (the worker thread crashed)"
                                    ))),
                                )
                            })
                            .collect()
                    })
                })
                .collect()
        });
        drop(ring);
        opened
            .into_iter()
            .map(|(v, r)| match r {
                Ok(key) => {
                    self.remember(&v, key);
                    (v, Ok(()))
                }
                Err(e) => (v, Err(e)),
            })
            .collect()
    }

    /// A remembered vault key.
    pub fn cached_vault_key(&self, vault: &VaultId) -> Option<SymmetricKey> {
        self.vault_keys
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(vault)
            .cloned()
    }
}

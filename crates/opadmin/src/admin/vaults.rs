//! The vault lifecycle: create a vault, change its name and description, delete it, and set
//! many groups' permissions on vaults at once.
//!
//! A new vault is made here, as 1Password's clients make one: a fresh random 256-bit vault key,
//! the attributes (`{name, desc, avatar, color, type, version}`) encrypted with it, and an access
//! record for each accessor holding the key wrapped to its public key: the signed-in identity
//! (read, write, export and Manage; wrapped to its own public key from the keys it opened at
//! sign-in), the groups the server's creation preflight names (Manage), and the Recovery group
//! when it is visible (Recover), as 1Password's web client does. The client chooses the vault's
//! uuid, so after a failure that may have come after the server created it, a read of that uuid
//! settles it.

use std::collections::BTreeMap;

use opadmin_api::ApiError;
use opadmin_api::models::{
    self, AccessorType, CreateVaultRequest, GroupVaultAcl, UpdateVaultAttrsRequest, VaultAccess,
    VaultAttributes,
};
use opadmin_api::types::{GroupId, GroupType, VaultId, VaultPermissions, VaultType};
use opadmin_crypto::encoding::{UuidCase, generate_uuid};
use opadmin_crypto::envelope::SymmetricKey;
use opadmin_crypto::rsa::RsaPublicKey;

use super::Admin;
use super::converge::Converged;
use crate::error::{Error, Result};
use crate::model::{
    GroupPermissionUpdate, GroupPermissionsOutcome, VaultOutcome, VaultSummary, VaultUpdate,
};

/// The longest vault name or description accepted, in characters.
pub const MAX_VAULT_TEXT: usize = 1000;

/// Entries per `PATCH /api/v2/acl/groups` request.
const GROUP_ACLS_PER_REQUEST: usize = 50;

/// A name: not blank, not too long.
fn checked_name(name: &str) -> Result<&str> {
    let name = name.trim();
    if name.is_empty() {
        return Err(Error::InvalidInput("a vault name cannot be empty".into()));
    }
    if name.chars().count() > MAX_VAULT_TEXT {
        return Err(Error::InvalidInput(format!(
            "a vault name has at most {MAX_VAULT_TEXT} characters"
        )));
    }
    Ok(name)
}

fn checked_description(description: &str) -> Result<&str> {
    if description.chars().count() > MAX_VAULT_TEXT {
        return Err(Error::InvalidInput(format!(
            "a vault description has at most {MAX_VAULT_TEXT} characters"
        )));
    }
    Ok(description)
}

/// An access record carrying `key` wrapped to `public`.
fn access_record(
    vault: &VaultId,
    kind: AccessorType,
    id: &str,
    public: &RsaPublicKey,
    key: &SymmetricKey,
    acl: VaultPermissions,
) -> Result<VaultAccess> {
    Ok(VaultAccess {
        vault_uuid: vault.clone(),
        accessor_type: kind,
        accessor_uuid: id.to_owned(),
        acl,
        lease_timeout: 0,
        vault_key_sn: 1,
        encrypted_by: public.kid().to_owned(),
        enc_vault_key: public.wrap_key(key)?,
    })
}

/// A vault's permissions for the signed-in identity, from its `combinedAccess`.
fn own_permissions(v: &models::Vault) -> VaultPermissions {
    v.combined_access
        .as_ref()
        .map_or(VaultPermissions::NONE, |a| a.acl)
}

/// Maps the refusal of an attributes change that lost a race (the vault changed since it was
/// read: HTTP 409) to a state error; other errors convert as usual.
fn update_error(vault: &VaultId, error: ApiError) -> Error {
    match error {
        ApiError::Server { status: 409, .. } => Error::InvalidState(format!(
            "vault {vault} changed while it was being renamed; read it again and retry"
        )),
        other => other.into(),
    }
}

impl Admin {
    /// A vault's summary and opened attributes, from a read of the vault.
    fn summary_of(&self, v: &models::Vault) -> Result<(VaultSummary, VaultAttributes)> {
        let key = self.inner.keys.vault_key(v)?;
        let attrs: VaultAttributes = key.decrypt_json(&v.enc_attrs)?;
        let summary = VaultSummary::new(
            v.uuid.clone(),
            attrs.name.clone(),
            attrs.desc.clone(),
            v.vault_type,
            own_permissions(v),
        );
        Ok((summary, attrs))
    }

    /// Whether a vault exists and is visible (a read that does not find it says no; any other
    /// failure of the read is returned).
    async fn vault_exists(&self, vault: &VaultId) -> Result<bool> {
        match self.client().vault(vault).await {
            Ok(_) => Ok(true),
            Err(ApiError::NotFound { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Creates a shared vault (type `U`) named `name` with `description`, shared with the
    /// signed-in identity (read, write, export and Manage), the groups the account requires
    /// on every new vault (Owners), the administrator groups unless the account's preflight
    /// says otherwise, and the Recovery group (Recover) when it is visible. The new vault is
    /// then read back, so the answer shows it as the server serves it.
    ///
    /// Needs the Create Vault permission ([`Error::NoCreateVaultPermission`] otherwise). After a
    /// failure that may have come after the server created it, the vault is looked up by the
    /// uuid this call chose: found, it is
    /// [`VaultOutcome::CreatedDespiteFailure`]; not found, it is sent again.
    pub async fn create_vault(&self, name: &str, description: &str) -> Result<VaultOutcome> {
        let name = checked_name(name)?;
        let description = checked_description(description)?;
        let preflight = self
            .client()
            .create_vault_preflight()
            .await
            .map_err(|e| match e {
                ApiError::PermissionDenied { .. } => Error::NoCreateVaultPermission,
                other => other.into(),
            })?;
        let mine = self.inner.keys.own_public_key().ok_or_else(|| {
            Error::Internal("creating a vault (no primary keyset is open)".into())
        })?;

        // The groups and their permissions, each once.
        let mut groups: BTreeMap<GroupId, VaultPermissions> = BTreeMap::new();
        let admin_groups = if preflight.enable_admin_groups_by_default {
            preflight.admin_group_uuids.as_slice()
        } else {
            &[]
        };
        for g in preflight.mandatory_group_uuids.iter().chain(admin_groups) {
            groups.insert(g.clone(), VaultPermissions::MANAGE);
        }
        let visible = self.client().groups().collect_all().await?;
        for g in visible
            .iter()
            .filter(|g| g.group_type == GroupType::Recovery)
        {
            *groups
                .entry(g.uuid.clone())
                .or_insert(VaultPermissions::NONE) |= VaultPermissions::RECOVER;
        }
        let ids: Vec<GroupId> = groups.keys().cloned().collect();
        let public_keys = if ids.is_empty() {
            Vec::new()
        } else {
            self.client().group_public_keys(&ids).await?
        };

        let uuid = VaultId::new(generate_uuid(UuidCase::Lower));
        let key = SymmetricKey::generate(generate_uuid(UuidCase::Lower));
        let attrs = VaultAttributes {
            name: name.to_owned(),
            desc: description.to_owned(),
            avatar: String::new(),
            color: String::new(),
            vault_type: VaultType::UserCreated,
            version: 1,
        };
        let me = self.user_id().as_str();
        let mut access = vec![access_record(
            &uuid,
            AccessorType::User,
            me,
            &mine,
            &key,
            VaultPermissions::RWE | VaultPermissions::MANAGE,
        )?];
        for (group, acl) in &groups {
            let entry = public_keys
                .iter()
                .find(|k| k.uuid == group.as_str())
                .ok_or_else(|| Error::NotFound {
                    what: format!("public key of group {group}"),
                })?;
            let public = RsaPublicKey::from_jwk(&entry.pub_key)?;
            access.push(access_record(
                &uuid,
                AccessorType::Group,
                group.as_str(),
                &public,
                &key,
                *acl,
            )?);
        }
        let request = CreateVaultRequest {
            uuid: uuid.clone(),
            vault_type: VaultType::UserCreated,
            enc_attrs: key.encrypt_json(&attrs),
            access,
        };
        self.inner.keys.remember(&uuid, key);
        let sent = self
            .converge(
                "vault.create",
                || async { Ok(self.client().create_vault(&request).await?) },
                || self.vault_exists(&uuid),
            )
            .await
            .map_err(|e| match e {
                Error::PermissionDenied { .. } => Error::NoCreateVaultPermission,
                other => other,
            })?;
        let v = self.client().vault(&uuid).await?;
        let (vault, _) = self.summary_of(&v)?;
        Ok(match sent {
            Converged::Sent(()) => VaultOutcome::Created { vault },
            Converged::DespiteFailure => VaultOutcome::CreatedDespiteFailure { vault },
        })
    }

    /// Changes a vault's name and/or description ([`VaultUpdate`]; `None` keeps the current
    /// one). Needs Manage on the vault ([`Error::NoManageVaultPermission`]); only shared vaults
    /// someone created can be changed ([`Error::SpecialVault`]). When nothing would change,
    /// nothing is sent ([`VaultOutcome::Unchanged`]). The attributes keep their other fields.
    pub async fn update_vault(&self, vault: &VaultId, update: VaultUpdate) -> Result<VaultOutcome> {
        let name = update.name.as_deref().map(checked_name).transpose()?;
        let description = update
            .description
            .as_deref()
            .map(checked_description)
            .transpose()?;
        if name.is_none() && description.is_none() {
            return Err(Error::InvalidInput(
                "give a new name, a new description, or both".into(),
            ));
        }
        let v = self.vault_with_access(vault).await?;
        if v.vault_type != VaultType::UserCreated {
            return Err(Error::SpecialVault {
                vault: vault.clone(),
                vault_type: v.vault_type,
                operation: "renamed",
            });
        }
        Self::require_manage(&v)?;
        let (before, attrs) = self.summary_of(&v)?;
        let mut new_attrs = attrs.clone();
        if let Some(name) = name {
            new_attrs.name = name.to_owned();
        }
        if let Some(description) = description {
            new_attrs.desc = description.to_owned();
        }
        if new_attrs == attrs {
            return Ok(VaultOutcome::Unchanged { vault: before });
        }
        let key = self.inner.keys.vault_key(&v)?;
        let request = UpdateVaultAttrsRequest {
            uuid: vault.clone(),
            vault_type: v.vault_type,
            enc_attrs: key.encrypt_json(&new_attrs),
            attr_version: v.attr_version,
        };
        let in_place = || async {
            let now = self.client().vault(vault).await?;
            let (_, attrs) = self.summary_of(&now)?;
            Ok(attrs.name == new_attrs.name && attrs.desc == new_attrs.desc)
        };
        let sent = self
            .converge(
                "vault.update-attrs",
                || async {
                    self.client()
                        .update_vault_attrs(&request)
                        .await
                        .map_err(|e| update_error(vault, e))
                },
                in_place,
            )
            .await?;
        let (after, _) = self.summary_of(&self.client().vault(vault).await?)?;
        Ok(match sent {
            Converged::Sent(()) => VaultOutcome::Updated { before, after },
            Converged::DespiteFailure => VaultOutcome::UpdatedDespiteFailure { before, after },
        })
    }

    /// Deletes a shared vault (with its items and every access record). Needs Manage on the
    /// vault ([`Error::NoManageVaultPermission`]); Personal, Everyone, Transfer and other
    /// special vaults are refused before anything is sent ([`Error::SpecialVault`]). After a
    /// failure that may have come after the deletion, the vault is looked up: gone, it is
    /// [`VaultOutcome::DeletedDespiteFailure`].
    pub async fn delete_vault(&self, vault: &VaultId) -> Result<VaultOutcome> {
        let v = self.vault_with_access(vault).await?;
        if v.vault_type != VaultType::UserCreated {
            return Err(Error::SpecialVault {
                vault: vault.clone(),
                vault_type: v.vault_type,
                operation: "deleted",
            });
        }
        Self::require_manage(&v)?;
        let (summary, _) = self.summary_of(&v)?;
        let sent = self
            .converge(
                "vault.delete",
                || async { Ok(self.client().delete_vault(vault).await?) },
                || async { Ok(!self.vault_exists(vault).await?) },
            )
            .await?;
        Ok(match sent {
            Converged::Sent(()) => VaultOutcome::Deleted { vault: summary },
            Converged::DespiteFailure => VaultOutcome::DeletedDespiteFailure { vault: summary },
        })
    }

    /// Sets many groups' permissions on vaults at once: each `(vault, group, permissions)`
    /// changes that group's existing grant on that vault to exactly `permissions` closed under
    /// their dependencies. Everything is checked before anything is sent: the signed-in identity
    /// needs Manage on every vault named ([`Error::NoManageVaultPermission`]), every group must
    /// already have a grant there (grant it first with
    /// [`grant_group_vault_access`](Self::grant_group_vault_access); otherwise
    /// [`Error::InvalidState`]), and a pair may be named once. Grants that already have those
    /// permissions are reported as unchanged and not sent; the rest go in requests of 50, each
    /// applied by the server all or nothing.
    pub async fn set_group_vault_permissions_bulk(
        &self,
        changes: &[(VaultId, GroupId, VaultPermissions)],
    ) -> Result<GroupPermissionsOutcome> {
        let mut outcome = GroupPermissionsOutcome::default();
        let mut vaults: BTreeMap<VaultId, models::Vault> = BTreeMap::new();
        let mut seen = std::collections::BTreeSet::new();
        for (vault, group, permissions) in changes {
            if !seen.insert((vault.clone(), group.clone())) {
                return Err(Error::InvalidInput(format!(
                    "group {group} on vault {vault} is named more than once"
                )));
            }
            let after = permissions.with_dependencies();
            if !after.is_grantable() {
                return Err(Error::InvalidInput("the permissions must include at least one of view, edit, export, manage or recover".into()));
            }
            if !vaults.contains_key(vault) {
                let v = self.vault_with_access(vault).await?;
                Self::require_manage(&v)?;
                vaults.insert(vault.clone(), v);
            }
            let before = vaults[vault]
                .access
                .as_deref()
                .unwrap_or_default()
                .iter()
                .find(|r| {
                    r.accessor_type == AccessorType::Group && r.accessor_uuid == group.as_str()
                })
                .map(|r| r.acl)
                .ok_or_else(|| {
                    Error::InvalidState(format!(
                        "group {group} has no access to vault {vault}; grant it access first"
                    ))
                })?;
            let update = GroupPermissionUpdate::new(vault.clone(), group.clone(), before, after);
            if before == after {
                outcome.unchanged.push(update);
            } else {
                outcome.changed.push(update);
            }
        }
        for chunk in outcome.changed.chunks(GROUP_ACLS_PER_REQUEST) {
            let body: Vec<GroupVaultAcl> = chunk
                .iter()
                .map(|u| GroupVaultAcl {
                    group_uuid: u.group.clone(),
                    vault_uuid: u.vault.clone(),
                    permission: u.after,
                })
                .collect();
            let in_place = || async {
                for u in chunk {
                    let v = self.vault_with_access(&u.vault).await?;
                    let now = v.access.as_deref().unwrap_or_default().iter().find(|r| {
                        r.accessor_type == AccessorType::Group
                            && r.accessor_uuid == u.group.as_str()
                    });
                    if now.map(|r| r.acl) != Some(u.after) {
                        return Ok(false);
                    }
                }
                Ok(true)
            };
            let sent = self
                .converge(
                    "vault.acl-groups",
                    || async {
                        Ok(self
                            .client()
                            .set_group_vault_permissions_bulk(&body)
                            .await?)
                    },
                    in_place,
                )
                .await?;
            if sent == Converged::DespiteFailure {
                outcome.applied_despite_failure = true;
            }
        }
        Ok(outcome)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_must_be_present_and_bounded() {
        assert_eq!(checked_name("  Ops  ").ok(), Some("Ops"));
        assert!(matches!(checked_name("   "), Err(Error::InvalidInput(_))));
        let long = "x".repeat(MAX_VAULT_TEXT + 1);
        assert!(matches!(checked_name(&long), Err(Error::InvalidInput(_))));
        assert!(checked_name(&long[1..]).is_ok());
        assert!(checked_description("").is_ok());
        assert!(matches!(
            checked_description(&long),
            Err(Error::InvalidInput(_))
        ));
    }

    #[test]
    fn a_lost_race_on_the_attributes_is_a_state_error() {
        let vault = VaultId::new("v");
        let conflict = ApiError::Server {
            status: 409,
            endpoint: Some("vault.update-attrs"),
            error_code: Some(127),
            error_message: Some("Incorrect attr version.".into()),
            reason: None,
        };
        assert!(matches!(
            update_error(&vault, conflict),
            Error::InvalidState(m) if m.contains("changed")
        ));
        assert!(matches!(
            update_error(&vault, ApiError::Timeout),
            Error::Timeout
        ));
    }
}

//! The snapshot (`sync`), vault listing and vault key opening.

use futures::{StreamExt, TryStreamExt};
use opadmin_api::access;
use opadmin_api::account::AccountAttr;
use opadmin_api::models::{self, AccessorType, VaultAccess};
use opadmin_api::types::{GroupId, UserId, VaultId, VaultPermissions};

use super::people::user_from;
use super::{Admin, named_not_found};
use crate::error::{Error, Result};
use crate::model::{Accessor, AccountInfo, Group, Snapshot, User, UserAccess, Vault, VaultSummary};

/// Groups by id, and each person's groups: built once per sync, so that resolving who has access
/// to 2,000 vaults does not rescan 1,000 groups for every person.
struct GroupIndex<'a> {
    by_id: std::collections::HashMap<&'a str, &'a Group>,
    of_user: std::collections::HashMap<UserId, Vec<GroupId>>,
}

impl<'a> GroupIndex<'a> {
    fn new(groups: &'a [Group]) -> Self {
        let mut of_user: std::collections::HashMap<UserId, Vec<GroupId>> =
            std::collections::HashMap::new();
        for g in groups {
            for m in &g.members {
                of_user
                    .entry(m.user.clone())
                    .or_default()
                    .push(g.id.clone());
            }
        }
        Self {
            by_id: groups.iter().map(|g| (g.id.as_str(), g)).collect(),
            of_user,
        }
    }
}

fn perms_of(record: &VaultAccess) -> VaultPermissions {
    record.acl
}

/// The grants of a vault's access records.
fn accessors_of(records: &[VaultAccess]) -> Vec<Accessor> {
    records
        .iter()
        .filter_map(|r| match r.accessor_type {
            AccessorType::User => Some(Accessor::User {
                id: UserId::new(&r.accessor_uuid),
                permissions: perms_of(r),
            }),
            AccessorType::Group => Some(Accessor::Group {
                id: GroupId::new(&r.accessor_uuid),
                permissions: perms_of(r),
            }),
            _ => None,
        })
        .collect()
}

impl Admin {
    /// The account object: users with last sign-in, groups, vaults, tier.
    async fn account(&self) -> Result<models::Account> {
        Ok(self.client().account_with(&AccountAttr::ALL).await?)
    }

    /// Everything the administrator can see: account, people (state, last sign-in), groups with
    /// members, vaults with names and accessors, and each person's access with its reasons.
    /// Vault keys are opened on every core, once per `Admin`.
    pub async fn sync(&self) -> Result<Snapshot> {
        self.deny_service_account("sync (a snapshot of people, groups and vaults)")?;
        let account = self.account().await?;
        let plan = account.plan();
        let info = AccountInfo::new(
            account.uuid.to_string(),
            account.name.clone(),
            account.account_type,
            plan,
        );
        let users: Vec<User> = account
            .users
            .as_deref()
            .unwrap_or_default()
            .iter()
            .map(user_from)
            .collect();
        let wire_groups = account.groups.clone().unwrap_or_default();
        for g in &wire_groups {
            self.inner.keys.learn_group(g);
        }
        let groups = self.groups_in(&wire_groups).await?;
        let n = self.inner.concurrency;
        let client = self.client().clone();
        let listed = self.client().vaults().collect_all().await?;
        self.open_keys_of(&listed).await?;
        let detailed: Vec<models::Vault> = futures::stream::iter(
            listed
                .iter()
                .map(|v| v.uuid.clone())
                .collect::<Vec<_>>()
                .into_iter()
                .map(move |id| {
                    let client = client.clone();
                    async move { client.vault(&id).await }
                }),
        )
        .buffered(n)
        .try_collect()
        .await?;
        let index = GroupIndex::new(&groups);
        let mut vaults = Vec::with_capacity(detailed.len());
        for v in detailed {
            vaults.push(self.vault_view(&v, &index)?);
        }
        let mut snapshot = Snapshot::new(info);
        snapshot.users = users;
        snapshot.groups = groups;
        snapshot.vaults = vaults;
        Ok(snapshot)
    }

    /// Every vault the signed-in identity can see, with its name decrypted and its own
    /// permissions, without reading people or groups (one listing; vault keys opened once).
    pub async fn vaults(&self) -> Result<Vec<VaultSummary>> {
        let listed = self.client().vaults().collect_all().await?;
        self.open_keys_of(&listed).await?;
        listed
            .iter()
            .map(|v| {
                let key = self
                    .inner
                    .keys
                    .cached_vault_key(&v.uuid)
                    .map_or_else(|| self.inner.keys.vault_key(v), Ok)?;
                let attrs: models::VaultAttributes = key.decrypt_json(&v.enc_attrs)?;
                let permissions = v
                    .combined_access
                    .as_ref()
                    .map_or(VaultPermissions::NONE, |a| a.acl);
                Ok(VaultSummary::new(
                    v.uuid.clone(),
                    attrs.name,
                    attrs.desc,
                    v.vault_type,
                    permissions,
                ))
            })
            .collect()
    }

    /// Every grant on a vault (people and groups, with their permissions).
    pub async fn vault_accessors(&self, vault: &VaultId) -> Result<Vec<Accessor>> {
        let v = named_not_found(self.client().vault(vault).await, || {
            format!("vault {vault}")
        })?;
        Ok(accessors_of(v.access.as_deref().unwrap_or_default()))
    }

    /// Opens the key of every vault the administrator can see, on every core, and keeps them
    /// for later calls. Returns how many vaults there are. `sync` does this itself; calling it
    /// first only moves the work earlier.
    pub async fn open_vault_keys(&self) -> Result<usize> {
        let listed = self.client().vaults().collect_all().await?;
        self.open_keys_of(&listed).await?;
        Ok(listed.len())
    }

    async fn open_keys_of(&self, listed: &[models::Vault]) -> Result<()> {
        let wrapped: Vec<_> = listed
            .iter()
            .filter_map(|v| {
                v.combined_access
                    .as_ref()
                    .map(|a| (v.uuid.clone(), a.enc_vault_key.clone()))
            })
            .collect();
        let keys = self.clone();
        let failures =
            tokio::task::spawn_blocking(move || keys.inner.keys.open_vault_keys(wrapped))
                .await
                .map_err(|e| Error::Protocol(format!("key opening task failed: {e}")))?;
        match failures.into_iter().find(|(_, r)| r.is_err()) {
            Some((vault, Err(e))) => Err(Error::Protocol(format!(
                "cannot open the key of vault {vault}: {e}"
            ))),
            _ => Ok(()),
        }
    }

    fn vault_view(&self, v: &models::Vault, index: &GroupIndex<'_>) -> Result<Vault> {
        let key = self
            .inner
            .keys
            .cached_vault_key(&v.uuid)
            .map_or_else(|| self.inner.keys.vault_key(v), Ok)?;
        let attrs: models::VaultAttributes = key.decrypt_json(&v.enc_attrs)?;
        let records = v.access.as_deref().unwrap_or_default();
        let accessors = accessors_of(records);
        // Each person with access, and why.
        let mut people: Vec<UserId> = records
            .iter()
            .filter(|r| r.accessor_type == AccessorType::User)
            .map(|r| UserId::new(&r.accessor_uuid))
            .collect();
        for r in records
            .iter()
            .filter(|r| r.accessor_type == AccessorType::Group)
        {
            if let Some(g) = index.by_id.get(r.accessor_uuid.as_str()) {
                people.extend(g.members.iter().map(|m| m.user.clone()));
            }
        }
        people.sort();
        people.dedup();
        let user_access = people
            .into_iter()
            .map(|user| {
                let in_groups = index
                    .of_user
                    .get(&user)
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                let eff = access::effective_access(records, &user, in_groups);
                let permissions = eff.permissions();
                let via_groups = eff.via_groups.into_iter().map(|g| g.group).collect();
                UserAccess::new(user, permissions, eff.direct, via_groups)
            })
            .collect();
        let mut vault = Vault::new(v.uuid.clone(), attrs.name, attrs.desc, v.vault_type);
        vault.accessors = accessors;
        vault.user_access = user_access;
        Ok(vault)
    }
}

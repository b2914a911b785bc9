//! The snapshot (`sync`), vault listing and vault key opening.

use std::collections::HashMap;

use futures::StreamExt;
use opadmin_api::ApiError;
use opadmin_api::access;
use opadmin_api::account::AccountAttr;
use opadmin_api::models::{self, AccessorType, VaultAccess};
use opadmin_api::types::{GroupId, UserId, VaultId, VaultPermissions};

use super::groups::group_from;
use super::people::user_from;
use super::{Admin, named_not_found};
use crate::error::{Error, Result};
use crate::model::{
    Accessor, AccountInfo, Changes, Group, ItemChanges, SkipReason, SkippedItem, SkippedKind,
    Snapshot, User, UserAccess, Vault, VaultSummary,
};

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

/// What a sync keeps for the next one (see [`Admin::sync`]): each vault read, with the versions
/// it was read at and its grants (who has access through which group is worked out again from
/// the groups of the new sync), and a digest of every person, group and vault as reported, to
/// say what changed.
#[derive(Default)]
pub(super) struct SyncCache {
    /// Vaults by id, as read, without `user_access`.
    vaults: HashMap<VaultId, Vault>,
    users: HashMap<UserId, u64>,
    groups: HashMap<GroupId, u64>,
    vault_digests: HashMap<VaultId, u64>,
}

impl SyncCache {
    /// What a stored snapshot tells: its vaults' grants and versions, and its digests.
    fn from_snapshot(snapshot: &Snapshot) -> Self {
        let mut cache = Self::default();
        cache.remember(snapshot);
        cache
    }

    /// Replaces the digests and vaults with those of `snapshot`.
    fn remember(&mut self, snapshot: &Snapshot) {
        self.users = snapshot
            .users
            .iter()
            .map(|u| (u.id.clone(), digest(u)))
            .collect();
        self.groups = snapshot
            .groups
            .iter()
            .map(|g| (g.id.clone(), digest(g)))
            .collect();
        self.vault_digests = snapshot
            .vaults
            .iter()
            .map(|v| (v.id.clone(), digest(v)))
            .collect();
        self.vaults = snapshot
            .vaults
            .iter()
            .map(|v| {
                let mut base = Vault::new(v.id.clone(), &v.name, &v.description, v.vault_type);
                base.accessors = v.accessors.clone();
                base.attr_version = v.attr_version;
                base.accessors_version = v.accessors_version;
                (v.id.clone(), base)
            })
            .collect();
    }

    /// A vault read before at exactly these versions (never when a version is unknown: 0).
    fn unchanged_vault(&self, listed: &models::Vault) -> Option<&Vault> {
        let known = self.vaults.get(&listed.uuid)?;
        (listed.attr_version != 0
            && listed.accessors_version != 0
            && known.attr_version == listed.attr_version
            && known.accessors_version == listed.accessors_version)
            .then_some(known)
    }

    /// What differs between the remembered digests and `snapshot`.
    fn changes(
        &self,
        snapshot: &Snapshot,
    ) -> (
        ItemChanges<UserId>,
        ItemChanges<GroupId>,
        ItemChanges<VaultId>,
    ) {
        (
            diff(
                &self.users,
                snapshot.users.iter().map(|u| (&u.id, digest(u))),
            ),
            diff(
                &self.groups,
                snapshot.groups.iter().map(|g| (&g.id, digest(g))),
            ),
            diff(
                &self.vault_digests,
                snapshot.vaults.iter().map(|v| (&v.id, digest(v))),
            ),
        )
    }
}

/// A digest of an item as reported (its JSON form).
fn digest<T: serde::Serialize>(item: &T) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    serde_json::to_vec(item).unwrap_or_default().hash(&mut h);
    h.finish()
}

/// Added, changed and removed ids between remembered digests and new items.
fn diff<'a, Id: Clone + Ord + std::hash::Hash + Eq + 'a>(
    before: &HashMap<Id, u64>,
    now: impl Iterator<Item = (&'a Id, u64)>,
) -> ItemChanges<Id> {
    let mut out = ItemChanges::default();
    let mut seen = std::collections::HashSet::new();
    for (id, d) in now {
        seen.insert(id.clone());
        match before.get(id) {
            None => out.added.push(id.clone()),
            Some(old) if *old != d => out.changed.push(id.clone()),
            Some(_) => {}
        }
    }
    out.removed = before
        .keys()
        .filter(|id| !seen.contains(*id))
        .cloned()
        .collect();
    out.added.sort();
    out.changed.sort();
    out.removed.sort();
    out
}

/// The vaults of a sync before who has access through groups is worked out.
struct VaultBases {
    bases: Vec<Vault>,
    skipped: Vec<SkippedItem>,
    /// Vaults read now.
    read: usize,
    /// Vaults taken from the previous snapshot.
    reused: usize,
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
    ///
    /// **Incremental.** After the first sync, an `Admin` reads again only the vaults whose
    /// attribute version or grants version (`attrVersion`, `accessorsVersion` in the vault
    /// listing) moved since its previous sync, and takes the others as they were; people and
    /// groups with their members are read in full every time (1Password documents no version
    /// that moves when a group's members change, so none is trusted: see docs/sync.md).
    /// [`Snapshot::changes`] says what differs from the previous snapshot. To continue from a
    /// stored snapshot in a new process, use [`sync_since`](Self::sync_since).
    ///
    /// Degrades rather than aborts on a per-item problem: a vault that disappears between the
    /// listing and its read, a vault key that does not open, a group that may not be read, or
    /// a keyset skipped at sign-in is named in [`Snapshot::skipped`] with its reason, and the
    /// rest of the snapshot is complete. Errors that concern the whole account (the session,
    /// the network after retries, tampering, rate limiting, a server fault) still fail the
    /// sync.
    pub async fn sync(&self) -> Result<Snapshot> {
        let previous = self.take_sync_cache();
        self.sync_after(previous).await
    }

    /// As [`sync`](Self::sync), continuing from a snapshot taken earlier (by any `Admin` of the
    /// same account, possibly stored as JSON and read back): only vaults whose versions moved
    /// since are read again, and [`Snapshot::changes`] is relative to `previous`. A snapshot
    /// stored before vault versions were recorded has none, so each of its vaults is read again.
    ///
    /// A snapshot of another account is refused with [`Error::InvalidInput`] before anything is
    /// sent: its changes would describe two different accounts.
    pub async fn sync_since(&self, previous: &Snapshot) -> Result<Snapshot> {
        let signed_in = self.client().account_uuid().as_str();
        if previous.account.id != signed_in {
            return Err(Error::InvalidInput(format!(
                "the snapshot to continue from is of account {}, not of the signed-in account \
                 {signed_in}; sync it with its own account, or sync afresh",
                previous.account.id
            )));
        }
        self.sync_after(Some(SyncCache::from_snapshot(previous)))
            .await
    }

    fn take_sync_cache(&self) -> Option<SyncCache> {
        self.inner
            .sync_cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
    }

    async fn sync_after(&self, previous: Option<SyncCache>) -> Result<Snapshot> {
        self.deny_service_account("sync (a snapshot of people, groups and vaults)")?;
        // The vault listing does not depend on the account answer: both are asked at once.
        // Vault keys are opened only after the account's groups are known (a vault key may be
        // wrapped to a group's keyset).
        let (account, listed) = tokio::join!(self.account(), self.client().vaults().collect_all());
        let mut account = account?;
        let listed = listed?;
        let plan = account.plan();
        let info = AccountInfo::new(
            account.uuid.to_string(),
            account.name.clone(),
            account.account_type,
            plan.clone(),
        );
        let users: Vec<User> = account
            .users
            .as_deref()
            .unwrap_or_default()
            .iter()
            .map(user_from)
            .collect();
        let mut skipped: Vec<SkippedItem> = self.inner.skipped_keysets.clone();
        let wire_groups = account.groups.take().unwrap_or_default();
        for g in &wire_groups {
            self.inner.keys.learn_group(g);
        }
        drop(account);
        // Groups' members and the vaults are read at the same time: both streams share the
        // transport's one limit on requests in flight.
        let mut skipped_groups = Vec::new();
        let (groups, vaults) = tokio::join!(
            self.readable_groups(&wire_groups, &mut skipped_groups),
            self.vault_bases(&listed, previous.as_ref()),
        );
        let groups = groups?;
        let VaultBases {
            bases,
            skipped: skipped_vaults,
            read,
            reused,
        } = vaults?;
        drop(wire_groups);
        skipped.extend(skipped_groups);
        skipped.extend(skipped_vaults);
        let index = GroupIndex::new(&groups);
        let vaults: Vec<Vault> = bases
            .into_iter()
            .map(|v| with_user_access(v, &index))
            .collect();
        drop(index);
        let mut snapshot = Snapshot::new(info);
        snapshot.users = users;
        snapshot.groups = groups;
        snapshot.vaults = vaults;
        snapshot.invitations = self.invitations_for_sync(&plan, &mut skipped).await?;
        snapshot.skipped = skipped;
        let mut cache = previous.unwrap_or_default();
        if cache.users.is_empty() && cache.groups.is_empty() && cache.vaults.is_empty() {
            snapshot.changes = None;
        } else {
            let (users, groups, vaults) = cache.changes(&snapshot);
            let mut changes = Changes::default();
            changes.users = users;
            changes.groups = groups;
            changes.vaults = vaults;
            changes.vaults_read = read;
            changes.vaults_reused = reused;
            snapshot.changes = Some(changes);
        }
        cache.remember(&snapshot);
        *self
            .inner
            .sync_cache
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some(cache);
        Ok(snapshot)
    }

    /// Reads the listed vaults not known at their current versions from `previous`; the others
    /// are taken from it. In the listing's order.
    async fn vault_bases(
        &self,
        listed: &[models::Vault],
        previous: Option<&SyncCache>,
    ) -> Result<VaultBases> {
        let mut skipped = Vec::new();
        let n = self.inner.concurrency;
        let client = self.client().clone();
        let unopened = self.open_keys_of(listed).await?;
        let mut bases: Vec<Vault> = Vec::with_capacity(listed.len());
        let mut to_read = Vec::with_capacity(listed.len());
        for v in listed {
            if let Some((_, e)) = unopened.iter().find(|(id, _)| id == &v.uuid) {
                skipped.push(vault_skipped(v, None, e));
            } else if v.combined_access.is_none() && !self.inner.keys.has_vault_key(&v.uuid) {
                skipped.push(vault_skipped(v, None, &Error::NoManageVaultPermission));
            } else if let Some(known) = previous.and_then(|c| c.unchanged_vault(v)) {
                bases.push(known.clone());
            } else {
                to_read.push(v);
            }
        }
        let reused = bases.len();
        let read = to_read.len();
        // Each answer is reduced to what the snapshot keeps as it arrives, so the wire models
        // (with every wrapped vault key) are never all held at once.
        let detailed: Vec<(&models::Vault, Result<Vault>)> =
            futures::stream::iter(to_read.into_iter().map(move |listed| {
                let client = client.clone();
                async move {
                    let base = match client.vault(&listed.uuid).await {
                        Ok(v) => self.vault_base(&v),
                        Err(e) => Err(Error::from(e)),
                    };
                    (listed, base)
                }
            }))
            .buffered(n)
            .collect()
            .await;
        for (listed, base) in detailed {
            match base {
                Ok(v) => bases.push(v),
                Err(e) if skip_reason(&e).is_some() => {
                    let name = self.vault_name(listed);
                    skipped.push(vault_skipped(listed, name, &e));
                }
                Err(e) => return Err(e),
            }
        }
        // In the listing's order, whether read now or taken from before.
        let order: HashMap<&VaultId, usize> = listed
            .iter()
            .enumerate()
            .map(|(i, v)| (&v.uuid, i))
            .collect();
        bases.sort_by_key(|v| order.get(&v.id).copied().unwrap_or(usize::MAX));
        Ok(VaultBases {
            bases,
            skipped,
            read,
            reused,
        })
    }

    /// Reads every group; one that is gone or may not be read is added to `skipped` (named, as
    /// the account listing gave its name) instead of failing the sync.
    async fn readable_groups(
        &self,
        wire_groups: &[models::Group],
        skipped: &mut Vec<SkippedItem>,
    ) -> Result<Vec<Group>> {
        let client = self.client().clone();
        // Each answer is reduced to the snapshot's group as it arrives (the wire model carries
        // keysets and wrapped vault keys the snapshot does not keep).
        let answers: Vec<(&models::Group, std::result::Result<Group, ApiError>)> =
            futures::stream::iter(wire_groups.iter().map(move |listed| {
                let client = client.clone();
                async move { (listed, client.group(&listed.uuid).await.map(group_from)) }
            }))
            .buffered(self.inner.concurrency)
            .collect()
            .await;
        let mut groups = Vec::with_capacity(answers.len());
        for (listed, answer) in answers {
            match answer.map_err(Error::from) {
                Ok(g) => groups.push(g),
                Err(e) => match skip_reason(&e) {
                    Some(reason) => skipped.push(SkippedItem::new(
                        SkippedKind::Group,
                        listed.uuid.as_str(),
                        Some(listed.name.clone()),
                        reason,
                        &e,
                    )),
                    None => return Err(e),
                },
            }
        }
        Ok(groups)
    }

    /// A listed vault's name, when its key is open and its attributes decrypt.
    fn vault_name(&self, v: &models::Vault) -> Option<String> {
        let key = self.inner.keys.cached_vault_key(&v.uuid)?;
        key.decrypt_json::<models::VaultAttributes>(&v.enc_attrs)
            .ok()
            .map(|a| a.name)
    }

    /// Every vault the signed-in identity can see, with its name decrypted and its own
    /// permissions, without reading people or groups (one listing; vault keys opened once).
    pub async fn vaults(&self) -> Result<Vec<VaultSummary>> {
        let listed = self.client().vaults().collect_all().await?;
        self.open_all_keys_of(&listed).await?;
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
        self.open_all_keys_of(&listed).await?;
        Ok(listed.len())
    }

    /// Opens the keys of listed vaults (those not yet open) and returns the vaults whose key did
    /// not open, each with why.
    async fn open_keys_of(&self, listed: &[models::Vault]) -> Result<Vec<(VaultId, Error)>> {
        let wrapped: Vec<_> = listed
            .iter()
            .filter_map(|v| {
                v.combined_access
                    .as_ref()
                    .map(|a| (v.uuid.clone(), a.enc_vault_key.clone()))
            })
            .collect();
        let keys = self.clone();
        let opened = tokio::task::spawn_blocking(move || keys.inner.keys.open_vault_keys(wrapped))
            .await
            .map_err(|_| Error::Internal("opening vault keys (the task crashed)".into()))?;
        Ok(opened
            .into_iter()
            .filter_map(|(v, r)| r.err().map(|e| (v, e)))
            .collect())
    }

    /// Opens the keys of listed vaults; the first that does not open is the error.
    async fn open_all_keys_of(&self, listed: &[models::Vault]) -> Result<()> {
        match self.open_keys_of(listed).await?.into_iter().next() {
            Some((vault, Error::Internal(m))) => Err(Error::Internal(format!("{m} ({vault})"))),
            Some((vault, e)) => Err(Error::Protocol(format!(
                "cannot open the key of vault {vault}: {e}"
            ))),
            None => Ok(()),
        }
    }

    /// A vault as read: name and description decrypted, grants and versions; without who has
    /// access through which group (see [`with_user_access`]).
    fn vault_base(&self, v: &models::Vault) -> Result<Vault> {
        let key = self
            .inner
            .keys
            .cached_vault_key(&v.uuid)
            .map_or_else(|| self.inner.keys.vault_key(v), Ok)?;
        let attrs: models::VaultAttributes = key.decrypt_json(&v.enc_attrs)?;
        let mut vault = Vault::new(v.uuid.clone(), attrs.name, attrs.desc, v.vault_type);
        vault.accessors = accessors_of(v.access.as_deref().unwrap_or_default());
        vault.attr_version = v.attr_version;
        vault.accessors_version = v.accessors_version;
        Ok(vault)
    }
}

/// Each person with access to the vault, and why: directly, and through which of the groups
/// (with the members these groups have now).
fn with_user_access(mut vault: Vault, index: &GroupIndex<'_>) -> Vault {
    let records = &vault.accessors;
    let mut people: Vec<UserId> = Vec::new();
    for a in records {
        match a {
            Accessor::User { id, .. } => people.push(id.clone()),
            Accessor::Group { id, .. } => {
                if let Some(g) = index.by_id.get(id.as_str()) {
                    people.extend(g.members.iter().map(|m| m.user.clone()));
                }
            }
            _ => {}
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
    vault.user_access = user_access;
    vault
}

/// Whether an error concerns only the item that drew it, and so is skipped rather than failing
/// the sync; `None` for errors about the whole account (session, network, tampering, ...).
fn skip_reason(e: &Error) -> Option<SkipReason> {
    match e {
        Error::NotFound { .. } => Some(SkipReason::Gone),
        Error::PermissionDenied { .. } | Error::NoManageVaultPermission => {
            Some(SkipReason::NotPermitted)
        }
        Error::Crypto(_) => Some(SkipReason::KeyDoesNotOpen),
        Error::Internal(_) => Some(SkipReason::Internal),
        _ => None,
    }
}

/// A skipped vault. A key that did not open is [`SkipReason::KeyDoesNotOpen`] whatever the
/// crypto layer called it (a wrong key id, a failed padding or tag check).
fn vault_skipped(v: &models::Vault, name: Option<String>, e: &Error) -> SkippedItem {
    let reason = match e {
        Error::Internal(_) => SkipReason::Internal,
        Error::NotFound { .. } => SkipReason::Gone,
        Error::PermissionDenied { .. } | Error::NoManageVaultPermission => SkipReason::NotPermitted,
        _ => SkipReason::KeyDoesNotOpen,
    };
    SkippedItem::new(SkippedKind::Vault, v.uuid.as_str(), name, reason, e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_item_errors_are_skipped_and_account_wide_ones_are_not() {
        let gone = Error::NotFound {
            what: "vault v".into(),
        };
        assert_eq!(skip_reason(&gone), Some(SkipReason::Gone));
        assert_eq!(
            skip_reason(&Error::NoManageVaultPermission),
            Some(SkipReason::NotPermitted)
        );
        assert_eq!(
            skip_reason(&Error::Internal("x".into())),
            Some(SkipReason::Internal)
        );
        for whole in [
            Error::SessionExpired,
            Error::Timeout,
            Error::Tampered("x".into()),
            Error::transport("down"),
            Error::RateLimited { retry_after: None },
        ] {
            assert_eq!(skip_reason(&whole), None, "{whole}");
        }
    }
}

//! From a desired state to changes, decided and predicted in order over the account's state.
//!
//! Group memberships come first (who a group covers decides whether a person needs a direct
//! grant), then each vault: groups' grants, then people's. Every change goes through the same
//! planning as [`Admin::plan`](crate::Admin::plan), over the state the earlier changes leave.

use opadmin_api::access::{self, PermissionScheme};
use opadmin_api::account::AccountAttr;
use opadmin_api::types::GroupType;

use super::desired::parse_permissions;
use super::world::World;
use super::{Change, DesiredGroup, DesiredState, DesiredVault, Gap};
use crate::admin::groups::active_role;
use crate::error::{Error, Result};
use crate::model::{Accessor, UserRef};
use crate::{Admin, GroupId, UserId, VaultId, VaultPermissions};

/// A group or vault as named in a description: by uuid, else by name (two with the name is an
/// error naming both).
fn by_name_or_id<'l, T: Clone>(
    listed: impl Iterator<Item = (&'l str, &'l str, T)>,
    named: &str,
    what: &str,
) -> Result<Option<T>> {
    let named = named.trim();
    let mut found: Vec<(&str, T)> = Vec::new();
    for (id, name, value) in listed {
        if id == named {
            return Ok(Some(value));
        }
        if name == named {
            found.push((id, value));
        }
    }
    match found.len() {
        0 => Ok(None),
        1 => Ok(found.pop().map(|(_, v)| v)),
        _ => Err(Error::InvalidInput(format!(
            "more than one {what} is named {named:?} ({}); name it by uuid",
            found
                .iter()
                .map(|(id, _)| *id)
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// The grant a description asks for: the named permissions, on a Teams account widened to
/// whole bundles, closed under their dependencies.
fn target(names: &[String], whose: &str, scheme: PermissionScheme) -> Result<VaultPermissions> {
    Ok(scheme
        .widen(parse_permissions(names, whose)?)
        .with_dependencies())
}

/// The changes that bring a direct grant `current` to exactly `wanted`: the missing
/// permissions added, then the extra ones removed (in that order, so the grant never becomes
/// empty on the way).
fn adjust(
    current: VaultPermissions,
    wanted: VaultPermissions,
    add: impl FnOnce(VaultPermissions) -> Change,
    remove: impl FnOnce(VaultPermissions) -> Change,
) -> Vec<Change> {
    let mut out = Vec::new();
    let missing = wanted.difference(current);
    if !missing.is_empty() {
        out.push(add(missing));
    }
    let extra = current.difference(wanted);
    if extra.is_grantable() {
        out.push(remove(extra));
    }
    out
}

/// Everything a description needs to be resolved against: groups, people, vaults.
struct Names {
    groups: Vec<(GroupId, String, GroupType)>,
}

impl Names {
    fn group(&self, named: &str) -> Result<Option<GroupId>> {
        by_name_or_id(
            self.groups
                .iter()
                .map(|(id, name, _)| (id.as_str(), name.as_str(), id.clone())),
            named,
            "group",
        )
    }

    fn is_built_in(&self, id: &GroupId) -> bool {
        self.groups
            .iter()
            .any(|(g, _, t)| g == id && *t != GroupType::UserDefined)
    }
}

/// Plans `desired` into `world`.
pub(super) async fn reconcile(
    admin: &Admin,
    world: &mut World<'_>,
    desired: &DesiredState,
) -> Result<()> {
    desired.validate()?;
    admin.deny_service_account("reconciling a desired state")?;
    let account = admin.client().account_with(&[AccountAttr::Groups]).await?;
    let names = Names {
        groups: account
            .groups
            .unwrap_or_default()
            .into_iter()
            .map(|g| (g.uuid, g.name, g.group_type))
            .collect(),
    };
    world.users = Some(admin.users().await?);
    let scheme = world.scheme().await?;
    for group in &desired.groups {
        memberships(world, &names, group).await?;
    }
    for vault in &desired.vaults {
        vault_access(world, &names, vault, scheme).await?;
    }
    Ok(())
}

/// A person named in a description, or a gap.
async fn person(world: &mut World<'_>, named: &str) -> Result<Option<UserId>> {
    let user = UserRef::from(named);
    let found = world.resolve(&user).await?;
    if found.is_none() {
        world.gap(Gap::UnknownUser {
            user: user.to_string(),
        });
    }
    Ok(found)
}

/// A group named in a description and visible, or a gap.
async fn group(world: &mut World<'_>, names: &Names, named: &str) -> Result<Option<GroupId>> {
    if let Some(id) = names.group(named)?
        && world.load_group(&id).await?
    {
        return Ok(Some(id));
    }
    world.gap(Gap::UnknownGroup {
        group: named.trim().to_owned(),
    });
    Ok(None)
}

async fn memberships(world: &mut World<'_>, names: &Names, desired: &DesiredGroup) -> Result<()> {
    let Some(gid) = group(world, names, &desired.group).await? else {
        return Ok(());
    };
    let group_name = desired.group.trim().to_owned();
    let mut listed: Vec<UserId> = Vec::new();
    for m in &desired.members {
        let Some(uid) = person(world, &m.user).await? else {
            continue;
        };
        if listed.contains(&uid) {
            return Err(Error::InvalidInput(format!(
                "{} is listed twice in group {group_name:?} (by email and by uuid)",
                m.user.trim()
            )));
        }
        listed.push(uid.clone());
        let members = world
            .group(&gid)
            .map(|g| g.members.clone())
            .unwrap_or_default();
        let change = match active_role(&members, &uid) {
            None => Change::AddToGroup {
                group: gid.clone(),
                user: UserRef::Id(uid),
                role: m.role,
            },
            Some(role) if role == m.role => continue,
            Some(_) if &uid == world.me() => {
                world.gap(left_alone(
                    format!("your own role in group {group_name}"),
                    "reconciling never changes the signed-in administrator's memberships",
                ));
                continue;
            }
            Some(_) => Change::SetGroupRole {
                group: gid.clone(),
                user: UserRef::Id(uid),
                role: m.role,
            },
        };
        world.plan_change(change).await?;
    }
    if desired.exact {
        let members = world
            .group(&gid)
            .map(|g| g.members.clone())
            .unwrap_or_default();
        for m in members.iter().filter(|m| !listed.contains(&m.user)) {
            if &m.user == world.me() {
                world.gap(left_alone(
                    format!("your own membership of group {group_name}"),
                    "reconciling never changes the signed-in administrator's memberships",
                ));
                continue;
            }
            world
                .plan_change(Change::RemoveFromGroup {
                    group: gid.clone(),
                    user: UserRef::Id(m.user.clone()),
                })
                .await?;
        }
    }
    Ok(())
}

fn left_alone(what: String, reason: &str) -> Gap {
    Gap::LeftAlone {
        what,
        reason: reason.to_owned(),
    }
}

async fn vault_access(
    world: &mut World<'_>,
    names: &Names,
    desired: &DesiredVault,
    scheme: PermissionScheme,
) -> Result<()> {
    let vault_name = desired.vault.trim().to_owned();
    let listed_vaults: Vec<(VaultId, String)> = world
        .vault_list()
        .await?
        .iter()
        .map(|v| (v.id.clone(), v.name.clone()))
        .collect();
    let vid = by_name_or_id(
        listed_vaults
            .iter()
            .map(|(id, name)| (id.as_str(), name.as_str(), id.clone())),
        &vault_name,
        "vault",
    )?;
    let vid = match vid {
        Some(id) if world.load_vault(&id).await? => id,
        _ => {
            world.gap(Gap::UnknownVault { vault: vault_name });
            return Ok(());
        }
    };

    // Groups' grants first: they decide which people are covered.
    let mut listed_groups: Vec<GroupId> = Vec::new();
    for g in &desired.groups {
        let whose = format!("group {:?} on vault {vault_name:?}", g.group.trim());
        let wanted = target(&g.permissions, &whose, scheme)?;
        let Some(gid) = group(world, names, &g.group).await? else {
            continue;
        };
        listed_groups.push(gid.clone());
        let records = accessors(world, &vid);
        let changes = match access::group_access(&records, &gid) {
            None => vec![Change::GrantGroupVaultAccess {
                vault: vid.clone(),
                group: gid.clone(),
                permissions: wanted,
            }],
            Some(current) => adjust(
                current,
                wanted,
                |p| Change::AddGroupVaultPermissions {
                    vault: vid.clone(),
                    group: gid.clone(),
                    permissions: p,
                },
                |p| Change::RemoveGroupVaultPermissions {
                    vault: vid.clone(),
                    group: gid.clone(),
                    permissions: p,
                },
            ),
        };
        for change in changes {
            world.plan_change(change).await?;
        }
    }
    if desired.exact {
        for a in accessors(world, &vid) {
            if let Accessor::Group { id, .. } = a
                && !listed_groups.contains(&id)
                && !names.is_built_in(&id)
            {
                world
                    .plan_change(Change::RevokeGroupVaultAccess {
                        vault: vid.clone(),
                        group: id,
                    })
                    .await?;
            }
        }
    }

    // Then people.
    let mut listed_people: Vec<UserId> = Vec::new();
    for p in &desired.people {
        let whose = format!("{} on vault {vault_name:?}", p.user.trim());
        let wanted = target(&p.permissions, &whose, scheme)?;
        let Some(uid) = person(world, &p.user).await? else {
            continue;
        };
        if listed_people.contains(&uid) {
            return Err(Error::InvalidInput(format!(
                "{} is listed twice on vault {vault_name:?} (by email and by uuid)",
                p.user.trim()
            )));
        }
        listed_people.push(uid.clone());
        if &uid == world.me() {
            world.gap(left_alone(
                format!("your own access to vault {vault_name}"),
                "reconciling never changes the signed-in administrator's own vault access",
            ));
            continue;
        }
        let records = accessors(world, &vid);
        let groups = world.groups_of(&uid);
        let effective = access::effective_access(&records, &uid, &groups);
        let changes = match effective.direct {
            Some(current) => adjust(
                current,
                wanted,
                |p| Change::AddVaultPermissions {
                    vault: vid.clone(),
                    user: UserRef::Id(uid.clone()),
                    permissions: p,
                },
                |p| Change::RemoveVaultPermissions {
                    vault: vid.clone(),
                    user: UserRef::Id(uid.clone()),
                    permissions: p,
                },
            ),
            None if effective.via_groups.is_empty() => vec![Change::GrantVaultAccess {
                vault: vid.clone(),
                user: UserRef::Id(uid.clone()),
                permissions: wanted,
            }],
            None if !p.direct && effective.permissions().contains(wanted) => Vec::new(),
            None => {
                // The grant rule adds no direct grant for someone a group gives access to.
                world.gap(Gap::CoveredByGroups {
                    vault: vid.clone(),
                    user: uid.clone(),
                    asked: wanted,
                    groups: effective.via_groups,
                });
                Vec::new()
            }
        };
        for change in changes {
            world.plan_change(change).await?;
        }
    }
    if desired.exact {
        let visible: Vec<UserId> = world
            .users
            .as_deref()
            .unwrap_or_default()
            .iter()
            .map(|u| u.id.clone())
            .collect();
        for a in accessors(world, &vid) {
            let Accessor::User { id, .. } = a else {
                continue;
            };
            if listed_people.contains(&id) || &id == world.me() {
                continue;
            }
            if !visible.contains(&id) {
                world.gap(left_alone(
                    format!("the direct grant of {id} on vault {vault_name}"),
                    "not a person the administrator can list (a service account, or someone not visible)",
                ));
                continue;
            }
            world
                .plan_change(Change::RevokeVaultAccess {
                    vault: vid.clone(),
                    user: UserRef::Id(id),
                })
                .await?;
        }
    }
    Ok(())
}

/// A vault's grants as the plan predicts them.
fn accessors(world: &World<'_>, vault: &VaultId) -> Vec<Accessor> {
    world
        .vault(vault)
        .map(|v| v.accessors.clone())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_resolve_by_uuid_then_unique_name() {
        let listed = [("g1", "Eng", 1), ("g2", "Ops", 2), ("g3", "Ops", 3)];
        let find = |named: &str| by_name_or_id(listed.iter().copied(), named, "group");
        assert_eq!(find("Eng").unwrap(), Some(1));
        assert_eq!(find("g3").unwrap(), Some(3));
        assert_eq!(find("Sales").unwrap(), None);
        let e = find("Ops").unwrap_err().to_string();
        assert!(e.contains("g2") && e.contains("g3"), "{e}");
    }

    #[test]
    fn adjusting_adds_the_missing_then_removes_the_extra() {
        use VaultPermissions as P;
        let add = |p| Change::AddGroupVaultPermissions {
            vault: VaultId::new("v"),
            group: GroupId::new("g"),
            permissions: p,
        };
        let remove = |p| Change::RemoveGroupVaultPermissions {
            vault: VaultId::new("v"),
            group: GroupId::new("g"),
            permissions: p,
        };
        assert!(adjust(P::RWE, P::RWE, add, remove).is_empty());
        assert_eq!(
            adjust(P::READ_ITEM, P::READ_ITEM | P::MANAGE, add, remove),
            vec![add(P::MANAGE)]
        );
        assert_eq!(
            adjust(P::RWE | P::MANAGE, P::MANAGE, add, remove),
            vec![remove(P::RWE)]
        );
        assert_eq!(
            adjust(P::READ_ITEM, P::MANAGE, add, remove),
            vec![add(P::MANAGE), remove(P::READ_ITEM)]
        );
        // Bits with no name and no meaning to the rules are not "removed".
        assert!(adjust(P::MANAGE | P::from_bits(1 << 29), P::MANAGE, add, remove).is_empty());
    }
}

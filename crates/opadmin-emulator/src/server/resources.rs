//! Account, people, groups, vaults, invitations and reports. Every listing shows only what the
//! signed-in person may see (docs/decisions.md, decision 7); every change checks its authority first
//! and validates everything before applying anything.

use opadmin_crypto::envelope::Envelope;
use opadmin_crypto::keyset::KeysetCiphertext;
use serde_json::{Value, json};

use super::mutate::{self, Lifecycle};
use super::{Reply, Req, Shared, code, vault_lifecycle};
use crate::builder::opens_to;
use crate::model::{
    Access, Account, Acl, Invitation, MemberRole, Plan, Vault, acl, now_rfc3339, perm,
};
use crate::views;

/// People `me` may list. Service accounts are left out of people listings (decision in
/// `service_account.rs`), except oneself.
fn visible_users<'a>(account: &'a Account, me: &str) -> Vec<&'a crate::model::User> {
    if account.may(me, perm::VIEW_PEOPLE) {
        account
            .users
            .values()
            .filter(|u| u.state != 'D' && (u.user_type != 'S' || u.uuid == me))
            .collect()
    } else {
        account.users.get(me).into_iter().collect()
    }
}

pub(super) fn account(shared: &Shared, req: &Req, me: &str) -> Reply {
    let account = shared.account();
    let attrs = req.list("attrs");
    let has = |a: &str| attrs.iter().any(|x| x == a);
    let mut v = views::account(&account);
    if has("me")
        && let Some(user) = account.users.get(me)
    {
        let mut p = views::person(&account, user);
        p["keysets"] = json!([user.keyset]);
        p["memberships"] = account
            .groups_of(me)
            .iter()
            .map(|g| views::membership(g, me, true))
            .collect();
        p["accountKeyFormat"] = json!(user.sign_in.as_ref().map(|s| s.sk_format.clone()));
        p["accountKeyUuid"] = json!(user.sign_in.as_ref().map(|s| s.sk_id.clone()));
        v["me"] = p;
    }
    if has("users") {
        let perms = account.permission_map();
        v["users"] = visible_users(&account, me)
            .into_iter()
            .map(|u| views::person_with(u, perms.get(u.uuid.as_str()).copied().unwrap_or(0)))
            .collect();
    }
    if has("groups") {
        v["groups"] = account
            .groups
            .values()
            .filter(|g| account.sees_group(g, me))
            .map(|g| views::group(&account, g, me, &[]))
            .collect();
    }
    if has("vaults") {
        v["vaults"] = account
            .vaults
            .values()
            .filter(|vault| account.sees_vault(vault, me))
            .map(|vault| views::vault(&account, vault, me, false, true))
            .collect();
    }
    if has("tier") {
        v["tier"] = views::tier(account.plan);
    }
    if has("settings") {
        v["settings"] = views::settings();
    }
    if has("counts") {
        let pending = account
            .invitations
            .iter()
            .filter(|i| i.state == 'P')
            .count();
        let people = account
            .users
            .values()
            .filter(|u| u.state != 'D' && u.user_type != 'S')
            .count();
        v["counts"] = json!({"invitations": pending, "users": people});
    }
    Reply::sealed(v)
}

pub(super) fn keysets(shared: &Shared, me: &str) -> Reply {
    let account = shared.account();
    let Some(user) = account.users.get(me) else {
        return Reply::not_found();
    };
    let mut keysets: Vec<&KeysetCiphertext> = vec![&user.keyset];
    keysets.extend(
        account
            .groups_of(me)
            .iter()
            .filter_map(|g| g.members.get(me).map(|m| &m.keyset)),
    );
    let mut answer = json!({"version": 1, "keysets": keysets});
    if shared.config.faults.omit_keysets_version
        && let Some(map) = answer.as_object_mut()
    {
        map.remove("version");
    }
    Reply::sealed(answer)
}

pub(super) fn users(shared: &Shared, req: &Req, me: &str) -> Reply {
    let account = shared.account();
    let states = req.list("states");
    let types = req.list("types");
    let emails: Vec<String> = req
        .list("emails")
        .iter()
        .map(|e| e.to_lowercase())
        .collect();
    let search = req.query.get("search").map(|s| s.to_lowercase());
    let group = req.query.get("group").and_then(|g| account.groups.get(g));
    let vault = req.query.get("vault").and_then(|v| account.vaults.get(v));
    if req.query.contains_key("group") && group.is_none()
        || req.query.contains_key("vault") && vault.is_none()
    {
        return Reply::not_found();
    }
    let matched: Vec<&crate::model::User> = visible_users(&account, me)
        .into_iter()
        .filter(|u| states.is_empty() || states.iter().any(|s| s.starts_with(u.state)))
        .filter(|u| types.is_empty() || types.iter().any(|t| t.starts_with(u.user_type)))
        .filter(|u| emails.is_empty() || emails.contains(&u.email))
        .filter(|u| {
            search
                .as_ref()
                .is_none_or(|s| u.email.contains(s) || u.name.to_lowercase().contains(s))
        })
        .filter(|u| group.is_none_or(|g| g.members.contains_key(&u.uuid)))
        .filter(|u| vault.is_none_or(|v| !account.effective_acl(v, &u.uuid).is_empty()))
        .collect();
    let limit = req
        .query
        .get("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(usize::MAX);
    let with_perms = req
        .list("attrs")
        .iter()
        .any(|a| a == "combined-permissions");
    let list: Vec<Value> = matched
        .iter()
        .take(limit)
        .map(|u| views::partial_person(&account, u, with_perms))
        .collect();
    Reply::sealed(json!({"totalCount": matched.len(), "users": list}))
}

/// The one shape of a "get one" answer: resolve the id, check that `me` may see what it names,
/// and render it with the requested `attrs`. An unknown id and one `me` may not see get the same
/// answer, 404 / 117, so that a hidden record's id is not confirmed.
fn get_one<T>(
    shared: &Shared,
    req: &Req,
    resolve: impl FnOnce(&Account) -> Option<&T>,
    visible: impl FnOnce(&Account, &T) -> bool,
    render: impl FnOnce(&Account, &T, &[&str]) -> Value,
) -> Reply {
    let account = shared.account();
    match resolve(&account).filter(|found| visible(&account, found)) {
        Some(found) => {
            let attrs = req.list("attrs");
            let attrs: Vec<&str> = attrs.iter().map(String::as_str).collect();
            Reply::sealed(render(&account, found, &attrs))
        }
        None => Reply::not_found(),
    }
}

pub(super) fn user(shared: &Shared, req: &Req, me: &str, uuid: &str) -> Reply {
    get_one(
        shared,
        req,
        |account| account.users.get(uuid).filter(|u| u.state != 'D'),
        |account, user| user.uuid == me || account.may(me, perm::VIEW_PEOPLE),
        |account, user, attrs| {
            let mut v = views::person(account, user);
            if attrs.contains(&"groups") {
                v["memberships"] = account
                    .groups_of(&user.uuid)
                    .iter()
                    .map(|g| views::membership(g, &user.uuid, false))
                    .collect();
            }
            if attrs.contains(&"vault-access") {
                v["vaultAccess"] = account
                    .vaults
                    .values()
                    .filter_map(|vault| {
                        vault
                            .users
                            .get(&user.uuid)
                            .map(|a| views::access(vault, "user", &user.uuid, a))
                    })
                    .collect();
            }
            v
        },
    )
}

pub(super) fn user_pubkeys(shared: &Shared, req: &Req) -> Reply {
    let account = shared.account();
    let mut out = Vec::new();
    for uuid in req.list("uuids") {
        match account.users.get(&uuid).filter(|u| u.state != 'D') {
            Some(u) => out.push(json!({"uuid": u.uuid, "pubKey": u.pub_jwk})),
            None => return Reply::not_found(),
        }
    }
    Reply::sealed(Value::Array(out))
}

pub(super) fn group_pubkeys(shared: &Shared, req: &Req, me: &str) -> Reply {
    let account = shared.account();
    let mut out = Vec::new();
    for uuid in req.list("uuids") {
        match account.groups.get(&uuid).filter(|g| {
            account.sees_group(g, me) || vault_lifecycle::named_by_preflight(&account, me, &g.uuid)
        }) {
            Some(g) => out.push(json!({"uuid": g.uuid, "pubKey": g.pub_jwk})),
            None => return Reply::not_found(),
        }
    }
    Reply::sealed(Value::Array(out))
}

pub(super) fn group(shared: &Shared, req: &Req, me: &str, uuid: &str) -> Reply {
    get_one(
        shared,
        req,
        |account| account.groups.get(uuid),
        |account, g| {
            account.sees_group(g, me) || vault_lifecycle::named_by_preflight(account, me, &g.uuid)
        },
        |account, g, attrs| views::group(account, g, me, attrs),
    )
}

pub(super) fn group_users(shared: &Shared, me: &str, uuid: &str) -> Reply {
    let account = shared.account();
    let Some(g) = account
        .groups
        .get(uuid)
        .filter(|g| account.sees_group(g, me))
    else {
        return Reply::not_found();
    };
    let users: Vec<Value> = g
        .members
        .keys()
        .filter_map(|u| account.users.get(u))
        .map(|u| views::partial_person(&account, u, false))
        .collect();
    Reply::sealed(Value::Array(users))
}

/// The group, if `me` sees it and may change its members.
fn managed_group(account: &Account, me: &str, group: &str) -> Result<(), Reply> {
    if !account
        .groups
        .get(group)
        .is_some_and(|g| account.sees_group(g, me))
    {
        return Err(Reply::not_found());
    }
    if !may_manage_group(account, me, group) {
        return Err(Reply::not_permitted());
    }
    Ok(())
}

/// Whether `keyset` is `group`'s keyset wrapped to `user`'s public key (checked by opening it).
fn wraps_group_keyset(
    group: &crate::model::Group,
    user: &crate::model::User,
    keyset: &KeysetCiphertext,
) -> bool {
    keyset.uuid == group.keyset.uuid()
        && opens_to(
            &user.private,
            &keyset.enc_sym_key,
            group.keyset.symmetric_key(),
        )
}

/// Who may change a group's members: holders of Manage Groups, and the group's managers.
fn may_manage_group(account: &Account, me: &str, group: &str) -> bool {
    account.may(me, perm::MANAGE_GROUPS)
        || account.groups.get(group).is_some_and(|g| {
            g.members
                .get(me)
                .is_some_and(|m| m.role == MemberRole::Manager)
        })
}

fn check_removal(account: &Account, me: &str, group: &str, user: &str) -> Result<(), Reply> {
    let g = account.groups.get(group).ok_or_else(Reply::not_found)?;
    if !g.members.contains_key(user) {
        return Err(Reply::not_found());
    }
    if user == me {
        return Err(Reply::error(
            409,
            code::CANNOT_REMOVE_SELF,
            "You cannot remove yourself from a group.",
        ));
    }
    if g.group_type == 'O' && g.members.len() == 1 {
        return Err(Reply::error(
            409,
            code::ONE_MUST_REMAIN,
            "The Owners group must keep one member.",
        ));
    }
    Ok(())
}

pub(super) fn membership(shared: &Shared, req: &Req, me: &str, uuid: &str) -> Reply {
    let mut account = shared.account();
    if let Err(r) = managed_group(&account, me, uuid) {
        return r;
    }
    let adds = req
        .json
        .get("add")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let removes: Vec<String> = req
        .json
        .get("remove")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    // Validate everything first.
    let mut additions = Vec::new();
    for add in &adds {
        let (Some(member), Some(keyset)) = (
            add.get("memberUuid").and_then(Value::as_str),
            add.get("keyset"),
        ) else {
            return Reply::bad_request();
        };
        let role = match add.get("role").and_then(Value::as_str).unwrap_or("R") {
            "A" => MemberRole::Manager,
            "R" => MemberRole::Member,
            _ => return Reply::bad_request(),
        };
        let Ok(keyset) = serde_json::from_value::<KeysetCiphertext>(keyset.clone()) else {
            return Reply::bad_request();
        };
        let Some(user) = account.users.get(member).filter(|u| u.state != 'D') else {
            return Reply::not_found();
        };
        let group = &account.groups[uuid];
        if !wraps_group_keyset(group, user, &keyset) {
            return Reply::invalid(
                "The group keyset is not wrapped to the new member's public key.",
            );
        }
        additions.push((member.to_owned(), role, keyset));
    }
    for user in &removes {
        if let Err(r) = check_removal(&account, me, uuid, user) {
            return r;
        }
    }
    let now = now_rfc3339();
    let group = account.groups.get_mut(uuid).expect("checked above");
    for (member, role, keyset) in additions {
        mutate::add_member(group, member, role, keyset, &now);
    }
    for user in removes {
        mutate::remove_member(group, &user, &now);
    }
    Reply::success()
}

pub(super) fn remove_member(shared: &Shared, me: &str, group: &str, user: &str) -> Reply {
    let mut account = shared.account();
    if let Err(r) = managed_group(&account, me, group) {
        return r;
    }
    if let Err(r) = check_removal(&account, me, group, user) {
        return r;
    }
    if let Some(g) = account.groups.get_mut(group) {
        mutate::remove_member(g, user, &now_rfc3339());
    }
    Reply::success()
}

pub(super) fn set_role(shared: &Shared, me: &str, group: &str, user: &str, role: &str) -> Reply {
    let role = match role {
        "A" => MemberRole::Manager,
        "R" => MemberRole::Member,
        _ => return Reply::bad_request(),
    };
    let mut account = shared.account();
    if let Err(r) = managed_group(&account, me, group) {
        return r;
    }
    match account
        .groups
        .get_mut(group)
        .and_then(|g| g.members.get_mut(user))
    {
        Some(m) => {
            m.role = role;
            Reply::success()
        }
        None => Reply::not_found(),
    }
}

pub(super) fn vaults(shared: &Shared, me: &str) -> Reply {
    let mut account = shared.account();
    let list: Vec<Value> = account
        .vaults
        .values()
        .filter(|v| account.sees_vault(v, me))
        .map(|v| views::vault(&account, v, me, false, false))
        .collect();
    // Test hook (`RunningEmulator::delete_vault_after_listing`): listed, then gone.
    for gone in std::mem::take(&mut account.vanish_after_listing) {
        account.vaults.remove(&gone);
    }
    Reply::sealed(Value::Array(list))
}

pub(super) fn vault(shared: &Shared, req: &Req, me: &str, uuid: &str) -> Reply {
    get_one(
        shared,
        req,
        |account| account.vaults.get(uuid),
        |account, v| account.sees_vault(v, me),
        |account, v, attrs| views::vault(account, v, me, attrs.contains(&"accessors"), false),
    )
}

/// The vault, if `me` sees it and holds Manage on it (docs/decisions.md, decision 8).
pub(super) fn managed_vault<'a>(
    account: &'a Account,
    me: &str,
    uuid: &str,
) -> Result<&'a Vault, Reply> {
    let vault = account.vaults.get(uuid).ok_or_else(Reply::not_found)?;
    if !account.effective_acl(vault, me).contains(acl::MANAGE) {
        return Err(Reply::not_permitted());
    }
    Ok(vault)
}

/// Checks one `VaultAccess` record against the vault and the accessor's keys.
pub(super) fn checked_access(
    account: &Account,
    vault: &Vault,
    record: &Value,
) -> Result<(bool, String, Access), Reply> {
    let kind = record
        .get("accessorType")
        .and_then(Value::as_str)
        .ok_or_else(Reply::bad_request)?;
    let id = record
        .get("accessorUuid")
        .and_then(Value::as_str)
        .ok_or_else(Reply::bad_request)?;
    let acl_bits = record
        .get("acl")
        .and_then(Value::as_u64)
        .ok_or_else(Reply::bad_request)?;
    let acl_bits = Acl::from_bits(u32::try_from(acl_bits).map_err(|_| Reply::bad_request())?);
    if !acl_bits.intersects(acl::RWE | acl::MANAGE | acl::RECOVER) {
        return Err(Reply::invalid(
            "An access record must grant read, write, export, Manage or Recover.",
        ));
    }
    let enc: Envelope = record
        .get("encVaultKey")
        .and_then(|e| Envelope::from_json(e).ok())
        .ok_or_else(Reply::bad_request)?;
    if let Some(v) = record.get("vaultUuid").and_then(Value::as_str)
        && !v.is_empty()
        && v != vault.uuid
    {
        return Err(Reply::invalid("The access record names another vault."));
    }
    let (is_group, opens) = match kind {
        "user" => {
            let user = account
                .users
                .get(id)
                .filter(|u| u.state != 'D')
                .ok_or_else(Reply::not_found)?;
            (
                false,
                enc.kid == user.public.kid() && opens_to(&user.private, &enc, &vault.key),
            )
        }
        "group" => {
            let group = account.groups.get(id).ok_or_else(Reply::not_found)?;
            (
                true,
                enc.kid == group.keyset.uuid()
                    && opens_to(group.keyset.private_key(), &enc, &vault.key),
            )
        }
        _ => return Err(Reply::bad_request()),
    };
    if !opens {
        return Err(Reply::invalid(
            "The vault key is not wrapped to the accessor's public key.",
        ));
    }
    Ok((
        is_group,
        id.to_owned(),
        Access {
            acl: acl_bits,
            encrypted_by: enc.kid.clone(),
            enc_vault_key: enc,
        },
    ))
}

pub(super) fn grant(shared: &Shared, req: &Req, me: &str, uuid: &str) -> Reply {
    let mut account = shared.account();
    let vault = match managed_vault(&account, me, uuid) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let records = req
        .json
        .get("vaultaccess")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if records.is_empty() {
        return Reply::bad_request();
    }
    let mut checked = Vec::new();
    for record in &records {
        match checked_access(&account, vault, record) {
            Ok(c) => checked.push(c),
            Err(r) => return r,
        }
    }
    let vault = account.vaults.get_mut(uuid).expect("checked above");
    for (is_group, id, access) in checked {
        if is_group {
            vault.groups.insert(id, access)
        } else {
            vault.users.insert(id, access)
        };
    }
    vault.access_version += 1;
    vault.updated_at = now_rfc3339();
    Reply::plain(json!({"success": 1}))
}

pub(super) fn revoke(shared: &Shared, me: &str, uuid: &str, kind: &str, id: &str) -> Reply {
    let mut account = shared.account();
    if let Err(r) = managed_vault(&account, me, uuid) {
        return r;
    }
    let vault = account.vaults.get_mut(uuid).expect("checked above");
    let removed = if kind == "group" {
        vault.groups.remove(id)
    } else {
        vault.users.remove(id)
    };
    if removed.is_none() {
        return Reply::not_found();
    }
    vault.access_version += 1;
    Reply::plain(json!({"success": 1}))
}

pub(super) fn change_acl(
    shared: &Shared,
    me: &str,
    uuid: &str,
    kind: &str,
    id: &str,
    acl_text: &str,
) -> Reply {
    let Ok(new_acl) = acl_text.parse::<u32>().map(Acl::from_bits) else {
        return Reply::bad_request();
    };
    if !new_acl.intersects(acl::RWE | acl::MANAGE | acl::RECOVER) {
        return Reply::invalid(
            "An access record must grant read, write, export, Manage or Recover.",
        );
    }
    let mut account = shared.account();
    if let Err(r) = managed_vault(&account, me, uuid) {
        return r;
    }
    let vault = account.vaults.get_mut(uuid).expect("checked above");
    let record = if kind == "group" {
        vault.groups.get_mut(id)
    } else {
        vault.users.get_mut(id)
    };
    match record {
        Some(a) => {
            a.acl = new_acl;
            vault.access_version += 1;
            Reply::plain(json!({"success": 1}))
        }
        None => Reply::not_found(),
    }
}

pub(super) fn invite(shared: &Shared, req: &Req, me: &str) -> Reply {
    let mut account = shared.account();
    if account.plan != Plan::Business {
        return Reply::reason(403, "account_policy");
    }
    if !account.may(me, perm::ADD_PERSON) {
        return Reply::not_permitted();
    }
    let invite_type = match req.json.get("type").and_then(Value::as_str).unwrap_or("R") {
        "R" => 'R',
        "G" => 'G',
        _ => return Reply::bad_request(),
    };
    let Some(invites) = req
        .json
        .get("invites")
        .and_then(Value::as_array)
        .filter(|a| !a.is_empty())
    else {
        return Reply::bad_request();
    };
    let mut new = Vec::new();
    for inv in invites {
        let Some(email) = inv
            .get("email")
            .and_then(Value::as_str)
            .map(|e| e.trim().to_lowercase())
            .filter(|e| e.contains('@'))
        else {
            return Reply::bad_request();
        };
        if mutate::email_in_use(&account, &email)
            || new.iter().any(|i: &Invitation| i.email == email)
        {
            return Reply::reason(409, "email_already_in_use");
        }
        let mut vaults = Vec::new();
        for v in inv
            .get("vaults")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let (Some(uuid), Some(a)) = (
                v.get("uuid").and_then(Value::as_str),
                v.get("acl").and_then(Value::as_u64),
            ) else {
                return Reply::bad_request();
            };
            if managed_vault(&account, me, uuid).is_err() {
                return Reply::not_permitted();
            }
            vaults.push((uuid.to_owned(), Acl::from_bits(a as u32)));
        }
        new.push(mutate::new_invitation(
            &shared.entropy,
            email,
            invite_type,
            vaults,
        ));
    }
    let sender = account
        .users
        .get(me)
        .map(|u| u.name.clone())
        .unwrap_or_default();
    let answer: Vec<Value> = new
        .iter()
        .map(|i| views::invitation(&account, i, &sender))
        .collect();
    account.invitations.extend(new);
    Reply::sealed(Value::Array(answer))
}

pub(super) fn invites(shared: &Shared, me: &str) -> Reply {
    let account = shared.account();
    if !account.may(me, perm::ADD_PERSON) {
        return Reply::not_permitted();
    }
    let list: Vec<Value> = account
        .invitations
        .iter()
        .filter(|i| i.state == 'P')
        .map(|i| views::invitation(&account, i, ""))
        .collect();
    Reply::sealed(Value::Array(list))
}

/// The vaults chosen at invitation time, by the uuid of the person who accepted.
pub(super) fn invite_vaults(shared: &Shared, me: &str) -> Reply {
    let account = shared.account();
    if !account.may(me, perm::ADD_PERSON) {
        return Reply::not_permitted();
    }
    let mut by_user = serde_json::Map::new();
    for inv in account.invitations.iter().filter(|i| i.state == 'A') {
        let Some(user) = inv
            .user
            .as_ref()
            .filter(|u| account.users.get(*u).is_some_and(|u| u.state == 'P'))
        else {
            continue;
        };
        let vaults: Vec<Value> = inv
            .vaults
            .iter()
            .map(|(v, a)| json!({"uuid": v, "acl": a}))
            .collect();
        by_user.insert(
            user.clone(),
            json!({"shouldConfirm": true, "vaults": vaults}),
        );
    }
    Reply::sealed(json!({ "vaultsByUserUuid": by_user }))
}

pub(super) fn revoke_invites(shared: &Shared, me: &str, uuids: &str) -> Reply {
    let mut account = shared.account();
    if !account.may(me, perm::ADD_PERSON) {
        return Reply::not_permitted();
    }
    let ids: Vec<&str> = uuids.split(',').collect();
    if ids.iter().any(|id| {
        !account
            .invitations
            .iter()
            .any(|i| i.uuid == *id && i.state == 'P')
    }) {
        return Reply::not_found();
    }
    for inv in account
        .invitations
        .iter_mut()
        .filter(|i| ids.contains(&i.uuid.as_str()))
    {
        inv.state = 'R';
    }
    Reply::success()
}

/// Resends pending invitations (a new `sentAt`); any uuid that is not a pending invitation
/// makes the whole call 404, and nothing is resent.
pub(super) fn resend_invites(shared: &Shared, me: &str, uuids: &str) -> Reply {
    let mut account = shared.account();
    if !account.may(me, perm::ADD_PERSON) {
        return Reply::not_permitted();
    }
    let ids: Vec<&str> = uuids.split(',').collect();
    if ids.iter().any(|id| {
        !account
            .invitations
            .iter()
            .any(|i| i.uuid == *id && i.state == 'P')
    }) {
        return Reply::not_found();
    }
    let now = crate::model::now_rfc3339();
    for inv in account
        .invitations
        .iter_mut()
        .filter(|i| ids.contains(&i.uuid.as_str()))
    {
        inv.sent_at = now.clone();
        inv.resent += 1;
    }
    Reply::success()
}

pub(super) fn confirm(shared: &Shared, req: &Req, me: &str) -> Reply {
    let mut account = shared.account();
    if !account.may(me, perm::ADD_PERSON) {
        return Reply::not_permitted();
    }
    let people: Vec<String> = req
        .json
        .get("peopleUuids")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    if people.is_empty() {
        return Reply::bad_request();
    }
    let memberships = req
        .json
        .get("groupMemberships")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let accesses = req
        .json
        .get("vaultaccess")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let team = account.team_members_group().map(|g| g.uuid.clone());
    let everyone = account
        .vaults
        .values()
        .find(|v| v.vault_type == 'E')
        .map(|v| v.uuid.clone());

    // Validate: every person awaits confirmation; every membership is a real wrap of the group
    // keyset to that person; every member (type R) gets Team Members (or, on older accounts, the
    // Everyone vault).
    let mut new_members: Vec<(String, String, MemberRole, KeysetCiphertext)> = Vec::new();
    for m in &memberships {
        let (Some(group), Some(member), Some(keyset)) = (
            m.get("groupUuid").and_then(Value::as_str),
            m.get("memberUuid").and_then(Value::as_str),
            m.get("keyset"),
        ) else {
            return Reply::bad_request();
        };
        let Ok(keyset) = serde_json::from_value::<KeysetCiphertext>(keyset.clone()) else {
            return Reply::bad_request();
        };
        let (Some(g), Some(u)) = (account.groups.get(group), account.users.get(member)) else {
            return Reply::not_found();
        };
        if !people.iter().any(|p| p == member) {
            return Reply::invalid("A membership names someone who is not being confirmed.");
        }
        if !wraps_group_keyset(g, u, &keyset) {
            return Reply::invalid(
                "The group keyset is not wrapped to the new member's public key.",
            );
        }
        let role = if m.get("role").and_then(Value::as_str) == Some("A") {
            MemberRole::Manager
        } else {
            MemberRole::Member
        };
        new_members.push((group.to_owned(), member.to_owned(), role, keyset));
    }
    let mut new_access = Vec::new();
    for record in &accesses {
        let Some(vault) = record
            .get("vaultUuid")
            .and_then(Value::as_str)
            .and_then(|v| account.vaults.get(v))
        else {
            return Reply::not_found();
        };
        if vault.vault_type != 'E' && !account.effective_acl(vault, me).contains(acl::MANAGE) {
            return Reply::not_permitted();
        }
        match checked_access(&account, vault, record) {
            Ok((false, id, access)) if people.contains(&id) => {
                new_access.push((vault.uuid.clone(), id, access))
            }
            Ok(_) => {
                return Reply::invalid(
                    "A vault access record names someone who is not being confirmed.",
                );
            }
            Err(r) => return r,
        }
    }
    for p in &people {
        let Some(user) = account.users.get(p) else {
            return Reply::not_found();
        };
        if user.state != 'P' {
            return Reply::invalid("Only people awaiting confirmation can be confirmed.");
        }
        if user.user_type == 'R' {
            let covered = match (&team, &everyone) {
                (Some(t), _) => new_members.iter().any(|(g, m, _, _)| g == t && m == p),
                (None, Some(e)) => new_access.iter().any(|(v, u, _)| v == e && u == p),
                (None, None) => true,
            };
            if !covered {
                return Reply::invalid(
                    "A new member must receive the Team Members keyset (or the Everyone vault key).",
                );
            }
        }
    }
    // Apply.
    let now = now_rfc3339();
    for p in &people {
        if let Some(u) = account.users.get_mut(p) {
            u.state = 'A';
            u.updated_at = now.clone();
        }
    }
    for (group, member, role, keyset) in new_members {
        if let Some(g) = account.groups.get_mut(&group) {
            mutate::add_member(g, member, role, keyset, &now);
        }
    }
    for (vault, user, access) in new_access {
        if let Some(v) = account.vaults.get_mut(&vault) {
            v.users.insert(user, access);
            v.access_version += 1;
        }
    }
    Reply::success()
}

pub(super) fn lifecycle(shared: &Shared, me: &str, action: &str, uuids: &str) -> Reply {
    let mut account = shared.account();
    let needed = if action == "delete" {
        perm::DELETE_PERSON
    } else {
        perm::SUSPEND_PERSON
    };
    if !account.may(me, needed) {
        return Reply::not_permitted();
    }
    let ids: Vec<String> = uuids
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    if ids.is_empty() || ids.len() > 100 {
        return Reply::bad_request();
    }
    let owners: Vec<String> = account
        .groups
        .values()
        .filter(|g| g.group_type == 'O')
        .flat_map(|g| g.members.keys().cloned())
        .collect();
    let me_owner = owners.iter().any(|o| o == me);
    for id in &ids {
        let Some(user) = account.users.get(id).filter(|u| u.state != 'D') else {
            return Reply::not_found();
        };
        if id == me || (owners.contains(id) && !me_owner) {
            return Reply::not_permitted();
        }
        if !Lifecycle::from_action(action).allowed_from(user.state) {
            return Reply::invalid("The person is not in a state that allows this.");
        }
    }
    let action = Lifecycle::from_action(action);
    mutate::apply_lifecycle(&mut account, &ids, action);
    drop(account);
    mutate::end_sessions(shared, &ids, action);
    Reply::success()
}

pub(super) fn report(shared: &Shared, me: &str, uuid: &str) -> Reply {
    let account = shared.account();
    if uuid != me && !account.may(me, perm::VIEW_PEOPLE) {
        return Reply::not_permitted();
    }
    let Some(user) = account.users.get(uuid).filter(|u| u.state != 'D') else {
        return Reply::not_found();
    };
    Reply::sealed(json!({"overview": {"user": views::person(&account, user)}}))
}

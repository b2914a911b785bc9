//! The vault lifecycle: the creation preflight, creating a vault, changing its name and
//! description, deleting it, and setting many groups' permissions on vaults at once.
//!
//! Rules, decided here (the real server's are not all recorded):
//!
//! * **Who may create a vault.** Whoever holds the account permission Create Vault
//!   ([`perm::CREATE_VAULT`]): Owners and Administrators always; ordinary members through the
//!   Team Members group, which has it unless the account's policy takes it away
//!   ([`crate::AccountBuilder::members_cannot_create_vaults`]); guests never; a service account
//!   when it was given the bit. Anyone else is answered 403 / 101, the preflight too.
//! * **What a new vault must carry.** Its uuid is the client's (26 lower-case base32
//!   characters, not in use: else 400 / 100, or 409 / 115 when taken), its type is `U`, its
//!   `encAttrs` an `A256GCM` envelope under the new vault key, and `access` the creator's own
//!   record with Manage and a record for each group the preflight makes mandatory (Owners).
//!   Every record must open, with its accessor's private key, to the same vault key: the
//!   emulator learns the key by opening the creator's record, then opens the attributes with it
//!   (they must name the vault and say type `U`). Anything that does not check out is
//!   400 / 119 and nothing is created.
//! * **Attributes.** Changing a vault's name or description needs Manage on it, the vault's
//!   current `attrVersion` (else 409 / 127, incorrect attr version) and new attributes under the
//!   vault's own key with its own type; the version then goes up by one.
//! * **Deleting.** Needs Manage on the vault; only user-created vaults (type `U`) can be deleted:
//!   the Everyone, Personal, Transfer and other special vaults are refused 403 / 101.
//! * **Many groups' permissions at once.** Each entry `{groupUuid, vaultUuid, permission}` sets
//!   the acl of a group's existing access record (a new record needs the vault key wrapped to
//!   the group, which only the vault-access grant carries); the caller needs Manage on every
//!   vault named, every group must have a record, and every acl must grant read, write, export,
//!   Manage or Recover. Everything is checked before anything changes.

use opadmin_crypto::envelope::Envelope;
use serde_json::{Value, json};

use super::resources::{checked_access, managed_vault};
use super::{Reply, Req, Shared, code};
use crate::model::{Account, Acl, Vault, acl, now_rfc3339, perm};

/// At most this many access records in one creation request, and this many entries in one
/// group-permissions request: each record costs an RSA decryption to check.
pub(crate) const MAX_RECORDS: usize = 64;

/// The built-in group of a type letter (`O` Owners, `A` Administrators).
fn builtin_group(account: &Account, group_type: char) -> Option<&str> {
    account
        .groups
        .values()
        .find(|g| g.group_type == group_type)
        .map(|g| g.uuid.as_str())
}

/// The groups every new vault must be shared with (Owners, with Manage) and those it is shared
/// with unless the creator opts out (Administrators, with Manage), as the creation preflight
/// names them.
fn preflight_groups(account: &Account) -> (Vec<&str>, Vec<&str>) {
    (
        builtin_group(account, 'O').into_iter().collect(),
        builtin_group(account, 'A').into_iter().collect(),
    )
}

/// Whether `me` may read `group` (with its public key) because the creation preflight names it:
/// 1Password's SDK reads each named group (`GET /api/v2/group/{g}?attrs=vault-access,pubkey`)
/// to wrap the new vault's key to it, so whoever may create vaults may read these few groups,
/// though they do not appear in that person's group listings.
pub(super) fn named_by_preflight(account: &Account, me: &str, group: &str) -> bool {
    if !account.may(me, perm::CREATE_VAULT) {
        return false;
    }
    let (mandatory, admins) = preflight_groups(account);
    mandatory.contains(&group) || admins.contains(&group)
}

/// `GET /api/v1/vault/preflight/create?type=U`.
pub(super) fn preflight_create(shared: &Shared, req: &Req, me: &str) -> Reply {
    if req.query.get("type").map(String::as_str) != Some("U") {
        return Reply::bad_request();
    }
    let account = shared.account();
    if !account.may(me, perm::CREATE_VAULT) {
        return Reply::not_permitted();
    }
    let (mandatory, admins) = preflight_groups(&account);
    Reply::sealed(json!({
        "mandatoryGroupUuids": mandatory,
        "adminGroupUuids": admins,
        "enableAdminGroupsByDefault": true,
    }))
}

/// Whether `uuid` has the shape of a vault id: 26 lower-case base32 characters.
fn is_vault_uuid(uuid: &str) -> bool {
    uuid.len() == 26
        && uuid
            .bytes()
            .all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b))
}

/// The opened attributes of a vault, checked: a JSON object with a string `name` and the
/// vault's `type`. Returns the name.
fn checked_attrs(vault: &Vault, enc: &Envelope) -> Result<String, Reply> {
    if enc.enc != "A256GCM" || enc.kid != vault.key.kid() {
        return Err(Reply::invalid(
            "The vault attributes are not encrypted with the vault key.",
        ));
    }
    let attrs: Value = vault
        .key
        .decrypt_json(enc)
        .map_err(|_| Reply::invalid("The vault attributes do not open with the vault key."))?;
    let name = attrs.get("name").and_then(Value::as_str);
    let vault_type = attrs.get("type").and_then(Value::as_str);
    match (name, vault_type) {
        (Some(name), Some(t)) if t == vault.vault_type.to_string() => Ok(name.to_owned()),
        _ => Err(Reply::invalid(
            "The vault attributes must carry a name and the vault's type.",
        )),
    }
}

/// `POST /api/v2/vault {uuid, type, encAttrs, access}`: a new vault, answered with the vault as
/// its creator sees it.
pub(super) fn create(shared: &Shared, req: &Req, me: &str) -> Reply {
    let mut account = shared.account();
    if !account.may(me, perm::CREATE_VAULT) {
        return Reply::not_permitted();
    }
    let body = &req.json;
    let (Some(uuid), Some(vault_type), Some(enc_attrs), Some(records)) = (
        body.get("uuid").and_then(Value::as_str),
        body.get("type").and_then(Value::as_str),
        body.get("encAttrs")
            .and_then(|e| Envelope::from_json(e).ok()),
        body.get("access").and_then(Value::as_array),
    ) else {
        return Reply::bad_request();
    };
    if !is_vault_uuid(uuid) || records.is_empty() || records.len() > MAX_RECORDS {
        return Reply::bad_request();
    }
    if vault_type != "U" {
        return Reply::invalid("Only user-created vaults (type U) can be created.");
    }
    if account.vaults.contains_key(uuid) {
        return Reply::error(409, code::ALREADY_USED, "The vault uuid is already in use.");
    }
    // The vault key, from the creator's own record.
    let Some(creator) = account.users.get(me) else {
        return Reply::auth_required();
    };
    let Some(own) = records.iter().find(|r| {
        r.get("accessorType").and_then(Value::as_str) == Some("user")
            && r.get("accessorUuid").and_then(Value::as_str) == Some(me)
    }) else {
        return Reply::invalid("A new vault must give its creator access.");
    };
    let Some(key) = own
        .get("encVaultKey")
        .and_then(|e| Envelope::from_json(e).ok())
        .filter(|e| e.kid == creator.public.kid())
        .and_then(|e| creator.private.unwrap_key(&e).ok())
    else {
        return Reply::invalid("The vault key is not wrapped to the creator's public key.");
    };
    let now = now_rfc3339();
    let mut vault = Vault {
        uuid: uuid.to_owned(),
        creator: me.to_owned(),
        name: String::new(),
        vault_type: 'U',
        key,
        enc_attrs: enc_attrs.clone(),
        created_at: now.clone(),
        updated_at: now,
        attr_version: 1,
        content_version: 1,
        access_version: 1,
        items: 0,
        users: Default::default(),
        groups: Default::default(),
    };
    vault.name = match checked_attrs(&vault, &enc_attrs) {
        Ok(name) => name,
        Err(r) => return r,
    };
    let mut checked = Vec::with_capacity(records.len());
    for record in records {
        match checked_access(&account, &vault, record) {
            Ok(c) => checked.push(c),
            Err(r) => return r,
        }
    }
    let creator_acl = checked
        .iter()
        .filter(|(is_group, id, _)| !is_group && id == me)
        .fold(Acl::NONE, |a, (_, _, access)| a | access.acl);
    if !creator_acl.contains(acl::MANAGE) {
        return Reply::invalid("The creator of a vault must be able to manage it.");
    }
    let (mandatory, _) = preflight_groups(&account);
    if mandatory.iter().any(|g| {
        !checked
            .iter()
            .any(|(is_group, id, _)| *is_group && id == *g)
    }) {
        return Reply::invalid("A new vault must be shared with every mandatory group.");
    }
    for (is_group, id, access) in checked {
        // A repeated record (1Password's SDK sends a mandatory group's twice) counts once.
        let map = if is_group {
            &mut vault.groups
        } else {
            &mut vault.users
        };
        map.insert(id, access);
    }
    account.vaults.insert(vault.uuid.clone(), vault);
    Reply::plain(json!({"success": 1}))
}

/// `PUT /api/v2/vault/{uuid} {uuid, type, encAttrs, attrVersion}`: new attributes (name,
/// description) for a vault.
pub(super) fn update(shared: &Shared, req: &Req, me: &str, uuid: &str) -> Reply {
    let mut account = shared.account();
    let vault = match managed_vault(&account, me, uuid) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let body = &req.json;
    let (Some(version), Some(enc_attrs)) = (
        body.get("attrVersion").and_then(Value::as_u64),
        body.get("encAttrs")
            .and_then(|e| Envelope::from_json(e).ok()),
    ) else {
        return Reply::bad_request();
    };
    if body
        .get("uuid")
        .and_then(Value::as_str)
        .is_some_and(|u| u != uuid)
        || body
            .get("type")
            .and_then(Value::as_str)
            .is_some_and(|t| t != vault.vault_type.to_string())
    {
        return Reply::invalid("The body names another vault or another vault type.");
    }
    if version != vault.attr_version {
        return Reply::error(409, code::INCORRECT_ATTR_VERSION, "Incorrect attr version.");
    }
    let name = match checked_attrs(vault, &enc_attrs) {
        Ok(name) => name,
        Err(r) => return r,
    };
    let vault = account.vaults.get_mut(uuid).expect("checked above");
    vault.name = name;
    vault.enc_attrs = enc_attrs;
    vault.attr_version += 1;
    vault.updated_at = now_rfc3339();
    Reply::plain(json!({"success": 1}))
}

/// The vault `me` may delete: it exists and `me` sees it (else 404), `me` holds Manage on it
/// and it is user-created (else 403).
fn deletable<'a>(account: &'a Account, me: &str, uuid: &str) -> Result<&'a Vault, Reply> {
    let vault = account
        .vaults
        .get(uuid)
        .filter(|v| account.sees_vault(v, me))
        .ok_or_else(Reply::not_found)?;
    let vault = managed_vault(account, me, &vault.uuid)?;
    if vault.vault_type != 'U' || (account.is_service_account(me) && vault.creator != me) {
        return Err(Reply::not_permitted());
    }
    Ok(vault)
}

/// `GET /api/v1/vault/preflight/delete/{uuid}`: `{archivedItemCount}`, refused like the deletion.
pub(super) fn preflight_delete(shared: &Shared, me: &str, uuid: &str) -> Reply {
    let account = shared.account();
    match deletable(&account, me, uuid) {
        Ok(_) => Reply::sealed(json!({"archivedItemCount": 0})),
        Err(r) => r,
    }
}

/// `DELETE /api/v4/vault/{uuid}`: deletes a user-created vault and every access record to it.
pub(super) fn delete(shared: &Shared, me: &str, uuid: &str) -> Reply {
    let mut account = shared.account();
    if let Err(r) = deletable(&account, me, uuid) {
        return r;
    }
    account.vaults.remove(uuid);
    Reply::plain(json!({"success": 1}))
}

/// `PUT /api/v2/acl/groups [{groupUuid, vaultUuid, permission}]`: sets the permissions of many
/// groups' existing access records at once (all or nothing).
pub(super) fn group_acls(shared: &Shared, req: &Req, me: &str) -> Reply {
    let mut account = shared.account();
    let Some(entries) = req.json.as_array() else {
        return Reply::bad_request();
    };
    if entries.is_empty() || entries.len() > MAX_RECORDS {
        return Reply::bad_request();
    }
    let mut changes: Vec<(String, String, Acl)> = Vec::with_capacity(entries.len());
    for entry in entries {
        let (Some(group), Some(vault), Some(bits)) = (
            entry.get("groupUuid").and_then(Value::as_str),
            entry.get("vaultUuid").and_then(Value::as_str),
            entry.get("permission").and_then(Value::as_u64),
        ) else {
            return Reply::bad_request();
        };
        let Ok(bits) = u32::try_from(bits) else {
            return Reply::bad_request();
        };
        let new_acl = Acl::from_bits(bits);
        if !new_acl.intersects(acl::RWE | acl::MANAGE | acl::RECOVER) {
            return Reply::invalid(
                "An access record must grant read, write, export, Manage or Recover.",
            );
        }
        let v = match managed_vault(&account, me, vault) {
            Ok(v) => v,
            Err(r) => return r,
        };
        if !v.groups.contains_key(group) {
            return Reply::not_found();
        }
        changes.push((vault.to_owned(), group.to_owned(), new_acl));
    }
    let now = now_rfc3339();
    for (vault, group, new_acl) in changes {
        if let Some(v) = account.vaults.get_mut(&vault)
            && let Some(record) = v.groups.get_mut(&group)
            && record.acl != new_acl
        {
            record.acl = new_acl;
            v.access_version += 1;
            v.updated_at = now.clone();
        }
    }
    Reply::plain(json!({"success": 1}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vault_uuids_are_26_lower_case_base32_characters() {
        assert!(is_vault_uuid("jlksdumbikne2hgxonr6yvurwe"));
        assert!(!is_vault_uuid("JLKSDUMBIKNE2HGXONR6YVURWE"));
        assert!(!is_vault_uuid("jlksdumbikne2hgxonr6yvurw"));
        assert!(!is_vault_uuid("jlksdumbikne2hgxonr6yvurw1"));
        assert!(!is_vault_uuid("jlksdumbikne2hgxonr6yvurw/"));
        assert!(!is_vault_uuid(""));
    }
}

//! JSON views of the account model in the wire shapes of docs/protocol.md and the real fixtures.
//! Tests parse every view with `opadmin-api`'s models, so the two cannot drift apart.

use serde_json::{Value, json};

use crate::model::{Access, Account, Group, Invitation, Plan, User, Vault};

/// Where the account's file attachments are served from (`baseAttachmentURL`); the host the real
/// service names in its account answer.
pub(crate) const BASE_ATTACHMENT_URL: &str = "https://f.1password.com/";

/// Where the account's avatars are served from (`baseAvatarURL`), as the real service names it.
pub(crate) const BASE_AVATAR_URL: &str = "https://a.1password.com/";

/// The head of the account answer (`GET /api/v3/account`), before any `attrs`. 1Password's own
/// client requires every one of these fields but `domain`, the two base URLs as URLs.
pub(crate) fn account(account: &Account) -> Value {
    json!({
        "uuid": account.uuid,
        "name": account.name,
        "type": "B",
        "state": "A",
        "avatar": "",
        "domain": account.domain,
        "attrVersion": 1,
        "createdAt": account.created_at,
        "baseAttachmentURL": BASE_ATTACHMENT_URL,
        "baseAvatarURL": BASE_AVATAR_URL,
    })
}

/// The billing tier of a plan (`attrs=tier`). 1Password's own client requires `guestsIncluded`
/// and `membersIncluded` (16-bit counts) and `features` (a list of strings); the counts and
/// feature names here are plausible, not the real catalogue's.
pub(crate) fn tier(plan: Plan) -> Value {
    let (guests, members, features): (u16, u16, &[&str]) = match plan {
        Plan::Business => (
            20,
            1,
            &["custom-groups", "advanced-reports", "provisioning", "duo"],
        ),
        Plan::Teams => (5, 10, &["provisioning"]),
    };
    json!({
        "name": plan.tier_name(),
        "isPublic": true,
        "guestsIncluded": guests,
        "membersIncluded": members,
        "features": features,
    })
}

/// The account settings (`attrs=settings`): the team-member policies, all off. Watchtower's
/// allowed domains are one comma-separated string, as 1Password's own client reads them.
pub(crate) fn settings() -> Value {
    json!({
        "teamMemberPolicies": {
            "blockFileStorage": false,
            "blockPasskeyAuthenticator": false,
            "allowedWatchtowerDomains": "",
            "telemetryOptOut": false,
        }
    })
}

/// A person (`Person`): what the account object's `users` and `GET /api/v2/user` carry.
pub(crate) fn person(account: &Account, user: &User) -> Value {
    person_with(user, account.permissions_of(&user.uuid))
}

/// [`person`] with the account permissions already known (listings compute them once for all).
pub(crate) fn person_with(user: &User, permissions: u64) -> Value {
    json!({
        "uuid": user.uuid,
        "email": user.email,
        "name": user.name,
        "state": user.state.to_string(),
        "type": user.user_type.to_string(),
        "attrVersion": 1,
        "keysetVersion": 1,
        "avatar": "",
        "language": "en",
        "createdAt": user.created_at,
        "updatedAt": user.updated_at,
        "lastAuthAt": user.last_auth_at,
        "combinedPermissions": permissions,
        "hasMFAEnabled": user.totp_secret.is_some(),
        "newsletterPrefs": 0,
        "preferences": 0,
        "pubKey": user.pub_jwk,
    })
}

/// The partial person of `GET /api/v3/users`.
pub(crate) fn partial_person(account: &Account, user: &User, with_permissions: bool) -> Value {
    let mut v = json!({
        "uuid": user.uuid,
        "name": user.name,
        "email": user.email,
        "avatar": "",
        "state": user.state.to_string(),
        "type": user.user_type.to_string(),
    });
    if with_permissions {
        v["combinedPermissions"] = json!(account.permissions_of(&user.uuid));
    }
    v
}

/// A membership record; `with_keyset` includes the group keyset wrapped to that member.
pub(crate) fn membership(group: &Group, user: &str, with_keyset: bool) -> Value {
    let Some(m) = group.members.get(user) else {
        return Value::Null;
    };
    let mut v = json!({
        "groupUuid": group.uuid,
        "memberUuid": user,
        "role": m.role.letter().to_string(),
        "state": "A",
        "version": 1,
        "createdAt": m.created_at,
        "updatedAt": m.created_at,
    });
    if with_keyset {
        v["keyset"] = serde_json::to_value(&m.keyset).unwrap_or(Value::Null);
    }
    v
}

/// A group as the signed-in `viewer` sees it; `attrs` as in `?attrs=pubkey,memberships,vault-access`.
pub(crate) fn group(account: &Account, group: &Group, viewer: &str, attrs: &[&str]) -> Value {
    let mut v = json!({
        "uuid": group.uuid,
        "name": group.name,
        "desc": group.desc,
        "type": group.group_type.to_string(),
        "state": "A",
        "attrVersion": group.attr_version,
        "permissions": group.permissions,
        "activeKeysetUuid": group.keyset.uuid(),
        "avatar": "",
        "createdAt": group.created_at,
        "updatedAt": group.updated_at,
    });
    if group.members.contains_key(viewer) {
        v["userMembership"] = membership(group, viewer, true);
    }
    if let Some(recovery) = &group.recovery_keyset {
        v["recoveryKeyset"] = serde_json::to_value(recovery).unwrap_or(Value::Null);
    }
    if attrs.contains(&"pubkey") {
        v["pubKey"] = serde_json::to_value(&group.pub_jwk).unwrap_or(Value::Null);
    }
    if attrs.contains(&"memberships") {
        v["memberships"] = group
            .members
            .keys()
            .map(|u| membership(group, u, false))
            .collect();
    }
    if attrs.contains(&"vault-access") {
        v["vaultAccess"] = account
            .vaults
            .values()
            .filter_map(|vault| {
                vault
                    .groups
                    .get(&group.uuid)
                    .map(|a| access(vault, "group", &group.uuid, a))
            })
            .collect();
    }
    v
}

/// One `VaultAccess` record.
pub(crate) fn access(vault: &Vault, accessor_type: &str, accessor: &str, a: &Access) -> Value {
    json!({
        "vaultUuid": vault.uuid,
        "accessorType": accessor_type,
        "accessorUuid": accessor,
        "acl": a.acl,
        "leaseTimeout": 0,
        "vaultKeySN": 1,
        "encryptedBy": a.encrypted_by,
        "encVaultKey": a.enc_vault_key,
    })
}

/// The viewer's effective access record: the union of its acls, with the vault key wrapped to
/// its own keyset when it has direct access, else to a group keyset of a group it is in.
pub(crate) fn combined_access(account: &Account, vault: &Vault, viewer: &str) -> Value {
    let acl = account.effective_acl(vault, viewer);
    let record = vault
        .users
        .get(viewer)
        .map(|a| ("user", viewer.to_owned(), a))
        .or_else(|| {
            vault
                .groups
                .iter()
                .find(|(g, _)| {
                    account
                        .groups
                        .get(*g)
                        .is_some_and(|g| g.members.contains_key(viewer))
                })
                .map(|(g, a)| ("group", g.clone(), a))
        });
    match record {
        Some((kind, id, a)) => {
            let mut v = access(vault, kind, &id, a);
            v["acl"] = json!(acl);
            v["accessVersion"] = json!(vault.access_version);
            v
        }
        None => Value::Null,
    }
}

/// Every access record of a vault.
pub(crate) fn accessors(vault: &Vault) -> Vec<Value> {
    vault
        .users
        .iter()
        .map(|(u, a)| access(vault, "user", u, a))
        .chain(
            vault
                .groups
                .iter()
                .map(|(g, a)| access(vault, "group", g, a)),
        )
        .collect()
}

/// A vault as `viewer` sees it; `with_accessors` adds `access` with every record.
pub(crate) fn vault(
    account: &Account,
    vault: &Vault,
    viewer: &str,
    with_accessors: bool,
    in_account: bool,
) -> Value {
    let mut v = json!({
        "uuid": vault.uuid,
        "type": vault.vault_type.to_string(),
        "createdAt": vault.created_at,
        "updatedAt": vault.updated_at,
        "attrVersion": vault.attr_version,
        "contentVersion": vault.content_version,
        "encAttrs": vault.enc_attrs,
        "activeItemCount": vault.items,
        "accessorsVersion": vault.access_version,
        "clientAccess": 4_294_967_295u64,
        "combinedAccess": combined_access(account, vault, viewer),
        "accessorsPreviews": null,
    });
    if with_accessors {
        v["access"] = Value::Array(accessors(vault));
    }
    if in_account {
        // The account object's vaults carry the viewer's own records and accessor ids (fixture).
        let mut own: Vec<Value> = vault
            .users
            .get(viewer)
            .map(|a| access(vault, "user", viewer, a))
            .into_iter()
            .collect();
        own.extend(
            vault
                .groups
                .iter()
                .filter(|(g, _)| {
                    account
                        .groups
                        .get(*g)
                        .is_some_and(|g| g.members.contains_key(viewer))
                })
                .map(|(g, a)| access(vault, "group", g, a)),
        );
        v["access"] = Value::Array(own);
        v["userUUIDs"] = json!(vault.users.keys().collect::<Vec<_>>());
        v["groupUUIDs"] = json!(vault.groups.keys().collect::<Vec<_>>());
        v["accessorCount"] = json!(vault.users.len() + vault.groups.len());
    }
    v
}

/// `InvitationDetails`.
pub(crate) fn invitation(account: &Account, inv: &Invitation, sender: &str) -> Value {
    json!({
        "uuid": inv.uuid,
        "token": inv.token,
        "accountUuid": account.uuid,
        "accountName": account.name,
        "accountType": "B",
        "accountHost": format!("{}.1password.com", account.domain),
        "email": inv.email,
        "language": "en",
        "senderFullName": sender,
        "state": inv.state.to_string(),
        "type": inv.invite_type.to_string(),
        "sentAt": inv.sent_at,
        "timeout": 432_000,
        "acceptedAt": null,
        "revokedAt": null,
        "accountUsesNewKeysets": true,
    })
}

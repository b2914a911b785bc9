//! The account's state changes, one function each, shared by the b5 handlers
//! ([`super::resources`]), the SCIM handlers ([`super::scim`]) and the test hooks of
//! [`crate::RunningEmulator`]. Handlers check authority and validate first; these functions only
//! apply, so that a change made over either protocol leaves the account in the same state.

use std::collections::BTreeMap;

use opadmin_crypto::encoding::UuidCase;
use opadmin_crypto::keyset::{Keyset, KeysetCiphertext};

use super::Shared;
use crate::model::{Account, Acl, Group, Invitation, Member, MemberRole, User, now_rfc3339, perm};
use crate::rng::Entropy;

/// Suspend, reactivate or delete a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lifecycle {
    Suspend,
    Reactivate,
    Delete,
}

impl Lifecycle {
    /// The b5 path word (`suspend`, `reactivate`, `delete`).
    pub fn from_action(action: &str) -> Self {
        match action {
            "suspend" => Self::Suspend,
            "reactivate" => Self::Reactivate,
            _ => Self::Delete,
        }
    }

    /// Whether a person in `state` can undergo this change.
    pub fn allowed_from(self, state: char) -> bool {
        match self {
            Self::Suspend => matches!(state, 'A' | 'P' | 'T' | '1' | '2' | '3' | '4'),
            Self::Reactivate => state == 'S',
            Self::Delete => state != 'D',
        }
    }
}

/// Applies a lifecycle change to people already checked with [`Lifecycle::allowed_from`]. A
/// deleted person also leaves every group and loses direct vault access. End their sessions
/// afterwards with [`end_sessions`] (after releasing the account lock).
pub(crate) fn apply_lifecycle(account: &mut Account, ids: &[String], action: Lifecycle) {
    let now = now_rfc3339();
    for id in ids {
        if action == Lifecycle::Delete {
            for g in account.groups.values_mut() {
                g.members.remove(id);
            }
            for v in account.vaults.values_mut() {
                if v.users.remove(id).is_some() {
                    v.access_version += 1;
                }
            }
        }
        if let Some(u) = account.users.get_mut(id) {
            u.state = match action {
                Lifecycle::Suspend => 'S',
                Lifecycle::Reactivate => 'A',
                Lifecycle::Delete => 'D',
            };
            u.updated_at = now.clone();
        }
    }
}

/// Ends the sessions of suspended or deleted people (call without holding the account lock).
pub(crate) fn end_sessions(shared: &Shared, ids: &[String], action: Lifecycle) {
    if action != Lifecycle::Reactivate {
        shared.sessions().retain(|_, s| !ids.contains(&s.user));
    }
}

/// Whether `email` (lower case) is taken: by a person who is not deleted, or by a pending
/// invitation.
pub(crate) fn email_in_use(account: &Account, email: &str) -> bool {
    account
        .emails
        .get(email)
        .and_then(|u| account.users.get(u))
        .is_some_and(|u| u.state != 'D')
        || account
            .invitations
            .iter()
            .any(|i| i.email == email && i.state == 'P')
}

/// A new pending invitation (not yet added to the account).
pub(crate) fn new_invitation(
    entropy: &Entropy,
    email: String,
    invite_type: char,
    vaults: Vec<(String, Acl)>,
) -> Invitation {
    Invitation {
        uuid: entropy.uuid(UuidCase::Lower),
        email,
        invite_type,
        state: 'P',
        vaults,
        sent_at: now_rfc3339(),
        token: entropy.uuid(UuidCase::Lower),
        user: None,
        resent: 0,
    }
}

/// A new person who has never signed in, with a keyset from the shared key pool (the
/// emulator's convention for people who never sign in), added to the account and its email
/// index. Returns the uuid.
pub(crate) fn add_person(
    account: &mut Account,
    entropy: &Entropy,
    email: &str,
    name: &str,
    state: char,
    user_type: char,
) -> Result<String, opadmin_crypto::CryptoError> {
    let uuid = entropy.uuid(UuidCase::Upper);
    let keyset_uuid = entropy.uuid(UuidCase::Lower);
    let pool = &account.key_pool;
    let private = pool[account.users.len() % pool.len()].with_kid(&keyset_uuid);
    let keyset = Keyset::from_parts(entropy.symmetric_key(keyset_uuid), private);
    let params = opadmin_crypto::kdf::KdfParams::generate(1000);
    let ct = keyset.encrypt_with_auk(&entropy.symmetric_key("mp"), &params, 1)?;
    let now = now_rfc3339();
    let public = keyset.public_key().clone();
    let user = User {
        uuid: uuid.clone(),
        email: email.to_owned(),
        name: name.to_owned(),
        state,
        user_type,
        created_at: now.clone(),
        updated_at: now,
        last_auth_at: None,
        keyset: ct,
        pub_jwk: public.to_jwk(),
        public,
        private: keyset.private_key().clone(),
        sign_in: None,
        totp_secret: None,
        dsecrets: Default::default(),
        devices: Default::default(),
    };
    account.emails.insert(email.to_owned(), uuid.clone());
    account.users.insert(uuid.clone(), user);
    Ok(uuid)
}

/// Adds (or replaces) a membership whose keyset was already checked to be the group's keyset
/// wrapped to the member's public key.
pub(crate) fn add_member(
    group: &mut Group,
    user: String,
    role: MemberRole,
    keyset: KeysetCiphertext,
    now: &str,
) {
    group.members.insert(
        user,
        Member {
            role,
            keyset,
            created_at: now.to_owned(),
        },
    );
    group.updated_at = now.to_owned();
}

/// Removes a membership; whether there was one.
pub(crate) fn remove_member(group: &mut Group, user: &str, now: &str) -> bool {
    let removed = group.members.remove(user).is_some();
    if removed {
        group.updated_at = now.to_owned();
    }
    removed
}

/// A new user-defined group with a fresh keyset (from the key pool), also wrapped to the
/// Recovery group as every group's is, added to the account. Returns its uuid.
pub(crate) fn add_group(
    account: &mut Account,
    entropy: &Entropy,
    name: &str,
) -> Result<String, opadmin_crypto::CryptoError> {
    let uuid = entropy.uuid(UuidCase::Lower);
    let keyset_uuid = entropy.uuid(UuidCase::Lower);
    let pool = &account.key_pool;
    let private = pool[account.groups.len() % pool.len()].with_kid(&keyset_uuid);
    let keyset = Keyset::from_parts(entropy.symmetric_key(keyset_uuid), private);
    let recovery_keyset = match account.groups.values().find(|g| g.group_type == 'R') {
        Some(r) => Some(keyset.encrypt_for_member(r.keyset.public_key(), 1)?),
        None => None,
    };
    let now = now_rfc3339();
    let group = Group {
        uuid: uuid.clone(),
        name: name.to_owned(),
        desc: String::new(),
        group_type: 'U',
        permissions: perm::USER_DEFINED_GROUP,
        pub_jwk: keyset.public_key().to_jwk(),
        keyset,
        created_at: now.clone(),
        updated_at: now,
        attr_version: 1,
        members: BTreeMap::new(),
        recovery_keyset,
    };
    account.groups.insert(uuid.clone(), group);
    Ok(uuid)
}

/// Renames a group.
pub(crate) fn rename_group(group: &mut Group, name: &str) {
    group.name = name.to_owned();
    group.attr_version += 1;
    group.updated_at = now_rfc3339();
}

/// Deletes a group and its vault access records; whether it existed.
pub(crate) fn delete_group(account: &mut Account, uuid: &str) -> bool {
    if account.groups.remove(uuid).is_none() {
        return false;
    }
    for v in account.vaults.values_mut() {
        if v.groups.remove(uuid).is_some() {
            v.access_version += 1;
        }
    }
    true
}

//! The record types the commands print, with their stable field names (documented in the
//! README and in `--help`).

use std::collections::HashMap;

use opadmin::{GroupRole, Snapshot, User, VaultPermissions};

use crate::exit::{Kind, kind_of, sentence};
use crate::output::{Record, Value};

/// A person (`users list`, `users get`, `sync`).
#[derive(Debug, Clone)]
pub struct UserRecord(pub User);

impl Record for UserRecord {
    const FIELDS: &'static [&'static str] = &[
        "id",
        "email",
        "name",
        "state",
        "type",
        "created_at",
        "last_auth_at",
    ];
    const TABLE: &'static [&'static str] =
        &["email", "name", "state", "type", "last_auth_at", "id"];
    fn values(&self) -> Vec<Value> {
        let u = &self.0;
        vec![
            Value::Text(u.id.to_string()),
            Value::Text(u.email.clone()),
            Value::text_or_null(u.name.clone()),
            Value::Text(u.state.to_string()),
            Value::Text(u.user_type.to_string()),
            u.created_at.map_or(Value::Null, Value::Time),
            u.last_sign_in.map_or(Value::Null, Value::Time),
        ]
    }
}

/// A pending invitation (`users invitations`).
#[derive(Debug, Clone)]
pub struct InvitationRecord(pub opadmin::PendingInvitation);

impl Record for InvitationRecord {
    const FIELDS: &'static [&'static str] = &["id", "email", "type", "sent_at"];
    const TABLE: &'static [&'static str] = &["email", "type", "sent_at", "id"];
    fn values(&self) -> Vec<Value> {
        let i = &self.0;
        vec![
            Value::Text(i.id.clone()),
            Value::Text(i.email.clone()),
            Value::Text(i.user_type.to_string()),
            i.sent_at.map_or(Value::Null, Value::Time),
        ]
    }
}

/// A group (`groups list`, `sync`).
#[derive(Debug, Clone)]
pub struct GroupRecord {
    /// Uuid.
    pub id: String,
    /// Name.
    pub name: String,
    /// `OWNERS`, `ADMINISTRATORS`, `TEAM_MEMBERS`, `USER_DEFINED`, ...
    pub group_type: String,
    /// Active members.
    pub member_count: usize,
}

impl Record for GroupRecord {
    const FIELDS: &'static [&'static str] = &["id", "name", "type", "member_count"];
    const TABLE: &'static [&'static str] = &["name", "type", "member_count", "id"];
    fn values(&self) -> Vec<Value> {
        vec![
            Value::Text(self.id.clone()),
            Value::Text(self.name.clone()),
            Value::Text(self.group_type.clone()),
            Value::Int(self.member_count as u64),
        ]
    }
}

/// A member of a group (`groups members`, `sync`).
#[derive(Debug, Clone)]
pub struct MemberRecord {
    /// The group's uuid.
    pub group_id: String,
    /// The group's name.
    pub group_name: String,
    /// The person's uuid.
    pub id: String,
    /// The person, when visible.
    pub user: Option<User>,
    /// `MEMBER` or `MANAGER`.
    pub role: GroupRole,
}

impl Record for MemberRecord {
    const FIELDS: &'static [&'static str] = &[
        "group_id",
        "group_name",
        "id",
        "email",
        "name",
        "type",
        "state",
        "role",
    ];
    const TABLE: &'static [&'static str] = &["group_name", "email", "name", "role", "state", "id"];
    fn values(&self) -> Vec<Value> {
        let user = self.user.as_ref();
        vec![
            Value::Text(self.group_id.clone()),
            Value::Text(self.group_name.clone()),
            Value::Text(self.id.clone()),
            user.map_or(Value::Null, |u| Value::Text(u.email.clone())),
            user.map_or(Value::Null, |u| Value::text_or_null(u.name.clone())),
            user.map_or(Value::Null, |u| Value::Text(u.user_type.to_string())),
            user.map_or(Value::Null, |u| Value::Text(u.state.to_string())),
            Value::Text(self.role.to_string()),
        ]
    }
}

/// A vault (`vaults list`, `sync`).
#[derive(Debug, Clone)]
pub struct VaultRecord {
    /// Uuid.
    pub id: String,
    /// Name.
    pub name: String,
    /// `USER_CREATED`, `EVERYONE`, `PERSONAL`, ...
    pub vault_type: String,
    /// Description.
    pub description: String,
    /// People with access, directly or through groups.
    pub user_count: usize,
    /// Groups with a grant.
    pub group_count: usize,
}

impl Record for VaultRecord {
    const FIELDS: &'static [&'static str] = &[
        "id",
        "name",
        "type",
        "description",
        "user_count",
        "group_count",
    ];
    const TABLE: &'static [&'static str] = &[
        "name",
        "type",
        "user_count",
        "group_count",
        "description",
        "id",
    ];
    fn values(&self) -> Vec<Value> {
        vec![
            Value::Text(self.id.clone()),
            Value::Text(self.name.clone()),
            Value::Text(self.vault_type.clone()),
            Value::text_or_null(self.description.clone()),
            Value::Int(self.user_count as u64),
            Value::Int(self.group_count as u64),
        ]
    }
}

/// A person's access to a vault and where it comes from (`vaults access`, `sync`).
#[derive(Debug, Clone)]
pub struct AccessRecord {
    /// The vault's uuid.
    pub vault_id: String,
    /// The vault's name.
    pub vault_name: String,
    /// The person's uuid.
    pub id: String,
    /// The person, when visible.
    pub user: Option<User>,
    /// Effective permissions.
    pub permissions: VaultPermissions,
    /// The direct grant, if any.
    pub direct_permissions: Option<VaultPermissions>,
    /// Names of the groups giving access.
    pub via_groups: Vec<String>,
}

impl Record for AccessRecord {
    const FIELDS: &'static [&'static str] = &[
        "vault_id",
        "vault_name",
        "id",
        "email",
        "name",
        "permissions",
        "direct_permissions",
        "via_groups",
    ];
    const TABLE: &'static [&'static str] = &[
        "vault_name",
        "email",
        "permissions",
        "direct_permissions",
        "via_groups",
    ];
    fn values(&self) -> Vec<Value> {
        let user = self.user.as_ref();
        vec![
            Value::Text(self.vault_id.clone()),
            Value::Text(self.vault_name.clone()),
            Value::Text(self.id.clone()),
            user.map_or(Value::Null, |u| Value::Text(u.email.clone())),
            user.map_or(Value::Null, |u| Value::text_or_null(u.name.clone())),
            Value::Perms(self.permissions),
            self.direct_permissions.map_or(Value::Null, Value::Perms),
            Value::List(self.via_groups.clone()),
        ]
    }
}

/// A group's grant on a vault (`vaults access --groups`, `sync`).
#[derive(Debug, Clone)]
pub struct GrantRecord {
    /// The vault's uuid.
    pub vault_id: String,
    /// The vault's name.
    pub vault_name: String,
    /// The group's uuid.
    pub group_id: String,
    /// The group's name, when visible.
    pub group_name: Option<String>,
    /// The grant.
    pub permissions: VaultPermissions,
}

impl Record for GrantRecord {
    const FIELDS: &'static [&'static str] = &[
        "vault_id",
        "vault_name",
        "group_id",
        "group_name",
        "permissions",
    ];
    const TABLE: &'static [&'static str] = &["vault_name", "group_name", "permissions", "group_id"];
    fn values(&self) -> Vec<Value> {
        vec![
            Value::Text(self.vault_id.clone()),
            Value::Text(self.vault_name.clone()),
            Value::Text(self.group_id.clone()),
            self.group_name.clone().map_or(Value::Null, Value::Text),
            Value::Perms(self.permissions),
        ]
    }
}

/// The account (`sync`).
#[derive(Debug, Clone)]
pub struct AccountRecord(pub opadmin::AccountInfo);

impl Record for AccountRecord {
    const FIELDS: &'static [&'static str] = &["id", "name", "type", "plan"];
    const TABLE: &'static [&'static str] = &["name", "type", "plan", "id"];
    fn values(&self) -> Vec<Value> {
        vec![
            Value::Text(self.0.id.clone()),
            Value::Text(self.0.name.clone()),
            Value::Text(self.0.account_type.to_string()),
            Value::Text(self.0.plan.to_string()),
        ]
    }
}

/// What an action did to one target (every changing command, one record per target).
#[derive(Debug, Clone, PartialEq)]
pub struct OutcomeRecord {
    /// `invite`, `confirm`, `suspend`, `reactivate`, `remove`, `grant`, `revoke`,
    /// `group_add`, `group_remove`, `group_role`.
    pub action: &'static str,
    /// The target as given (email, uuid or group name).
    pub target: String,
    /// The person's (or group's) uuid when known.
    pub id: Option<String>,
    /// `invited`, `confirmed`, `suspended`, `reactivated`, `removed`, `granted`,
    /// `already_direct`, `covered_by_groups`, `revoked`, `no_direct_access`, `added`,
    /// `already_member`, `not_member`, `role_set`, or `failed`.
    pub outcome: &'static str,
    /// Permissions granted or already held, when that applies.
    pub permissions: Option<VaultPermissions>,
    /// Names of groups that give access (grant and revoke).
    pub groups: Vec<String>,
    /// The error kind when failed (the exit-code names: `not_found`, `permission_denied`, ...).
    pub error: Option<Kind>,
    /// What happened, in plain words (or the error's message).
    pub message: String,
}

impl OutcomeRecord {
    /// A successful outcome.
    pub fn ok(
        action: &'static str,
        target: impl Into<String>,
        id: Option<String>,
        outcome: &'static str,
        message: impl Into<String>,
    ) -> Self {
        Self {
            action,
            target: target.into(),
            id,
            outcome,
            permissions: None,
            groups: Vec::new(),
            error: None,
            message: sentence(&message.into()),
        }
    }

    /// A failed target.
    pub fn failed(action: &'static str, target: impl Into<String>, error: &opadmin::Error) -> Self {
        Self {
            action,
            target: target.into(),
            id: None,
            outcome: "failed",
            permissions: None,
            groups: Vec::new(),
            error: Some(kind_of(error)),
            message: sentence(&error.to_string()),
        }
    }

    /// With permissions.
    pub fn with_permissions(mut self, permissions: VaultPermissions) -> Self {
        self.permissions = Some(permissions);
        self
    }

    /// With group names.
    pub fn with_groups(mut self, groups: Vec<String>) -> Self {
        self.groups = groups;
        self
    }
}

impl Record for OutcomeRecord {
    const FIELDS: &'static [&'static str] = &[
        "action",
        "target",
        "id",
        "ok",
        "outcome",
        "permissions",
        "groups",
        "error",
        "message",
    ];
    const TABLE: &'static [&'static str] = &["target", "outcome", "message"];
    fn values(&self) -> Vec<Value> {
        vec![
            Value::Text(self.action.to_owned()),
            Value::Text(self.target.clone()),
            self.id.clone().map_or(Value::Null, Value::Text),
            Value::Bool(self.error.is_none()),
            Value::Text(self.outcome.to_owned()),
            self.permissions.map_or(Value::Null, Value::Perms),
            Value::List(self.groups.clone()),
            self.error
                .map_or(Value::Null, |k| Value::Text(k.name().to_owned())),
            Value::Text(self.message.clone()),
        ]
    }
}

/// Something `sync` could not read, and why (`sync`).
#[derive(Debug, Clone)]
pub struct SkippedRecord(pub opadmin::SkippedItem);

impl Record for SkippedRecord {
    const FIELDS: &'static [&'static str] = &["kind", "id", "name", "reason", "message"];
    const TABLE: &'static [&'static str] = &["kind", "name", "reason", "id", "message"];
    fn values(&self) -> Vec<Value> {
        let s = &self.0;
        vec![
            Value::Text(s.kind.as_str().to_owned()),
            Value::Text(s.id.clone()),
            s.name.clone().map_or(Value::Null, Value::text_or_null),
            Value::Text(s.reason.as_str().to_owned()),
            Value::Text(sentence(&s.message)),
        ]
    }
}

/// One person, group or vault added, changed or removed since the stored snapshot
/// (`sync --state FILE --part changes`).
#[derive(Debug, Clone)]
pub struct ChangeRecord {
    /// `person`, `group` or `vault`.
    pub kind: &'static str,
    /// `added`, `changed` or `removed`.
    pub change: &'static str,
    /// Uuid.
    pub id: String,
    /// Email (people) or name, from the new snapshot (from the stored one when removed).
    pub name: String,
}

impl Record for ChangeRecord {
    const FIELDS: &'static [&'static str] = &["kind", "change", "id", "name"];
    const TABLE: &'static [&'static str] = &["kind", "change", "name", "id"];
    fn values(&self) -> Vec<Value> {
        vec![
            Value::Text(self.kind.to_owned()),
            Value::Text(self.change.to_owned()),
            Value::Text(self.id.clone()),
            Value::text_or_null(self.name.clone()),
        ]
    }
}

/// The changes a sync reports against `previous` (the snapshot it continued from), people
/// first, then groups, then vaults; each named from the snapshot that has it.
pub fn change_records(
    changes: &opadmin::Changes,
    now: &Snapshot,
    previous: &Snapshot,
) -> Vec<ChangeRecord> {
    fn names(snapshot: &Snapshot) -> HashMap<&str, &str> {
        let users = snapshot
            .users
            .iter()
            .map(|u| (u.id.as_str(), u.email.as_str()));
        let groups = snapshot
            .groups
            .iter()
            .map(|g| (g.id.as_str(), g.name.as_str()));
        let vaults = snapshot
            .vaults
            .iter()
            .map(|v| (v.id.as_str(), v.name.as_str()));
        users.chain(groups).chain(vaults).collect()
    }
    fn ids<Id: AsRef<str>>(list: &[Id]) -> Vec<&str> {
        list.iter().map(AsRef::as_ref).collect()
    }
    fn by_change<Id: AsRef<str>>(
        items: &opadmin::ItemChanges<Id>,
    ) -> [(&'static str, Vec<&str>); 3] {
        [
            ("added", ids(&items.added)),
            ("changed", ids(&items.changed)),
            ("removed", ids(&items.removed)),
        ]
    }
    let (now_names, previous_names) = (names(now), names(previous));
    let sections = [
        ("person", by_change(&changes.users)),
        ("group", by_change(&changes.groups)),
        ("vault", by_change(&changes.vaults)),
    ];
    let mut records = Vec::new();
    for (kind, by_change) in sections {
        for (change, ids) in by_change {
            let known = if change == "removed" {
                &previous_names
            } else {
                &now_names
            };
            records.extend(ids.into_iter().map(|id| ChangeRecord {
                kind,
                change,
                id: id.to_owned(),
                name: known.get(id).copied().unwrap_or_default().to_owned(),
            }));
        }
    }
    records
}

/// Every record of a snapshot, by section.
#[derive(Debug, Clone)]
pub struct SnapshotRecords {
    /// The account.
    pub account: AccountRecord,
    /// People.
    pub users: Vec<UserRecord>,
    /// Groups.
    pub groups: Vec<GroupRecord>,
    /// Group memberships.
    pub members: Vec<MemberRecord>,
    /// Vaults.
    pub vaults: Vec<VaultRecord>,
    /// People's access to vaults.
    pub access: Vec<AccessRecord>,
    /// Groups' grants on vaults.
    pub grants: Vec<GrantRecord>,
    /// What could not be read (empty when the snapshot is complete).
    pub skipped: Vec<SkippedRecord>,
}

impl SnapshotRecords {
    /// Flattens a snapshot into records, joining uuids to emails and names.
    pub fn from_snapshot(snapshot: &Snapshot) -> Self {
        let users: HashMap<&str, &User> =
            snapshot.users.iter().map(|u| (u.id.as_str(), u)).collect();
        let group_names: HashMap<&str, &str> = snapshot
            .groups
            .iter()
            .map(|g| (g.id.as_str(), g.name.as_str()))
            .collect();
        let mut members = Vec::new();
        let mut groups = Vec::new();
        for g in &snapshot.groups {
            groups.push(group_record(g));
            members.extend(member_records(g, &users));
        }
        let mut vaults = Vec::new();
        let mut access = Vec::new();
        let mut grants = Vec::new();
        for v in &snapshot.vaults {
            let (a, gr) = vault_records(v, &users, &group_names);
            vaults.push(VaultRecord {
                id: v.id.to_string(),
                name: v.name.clone(),
                vault_type: v.vault_type.to_string(),
                description: v.description.clone(),
                user_count: a.len(),
                group_count: gr.len(),
            });
            access.extend(a);
            grants.extend(gr);
        }
        let mut people = snapshot.users.clone();
        people.sort_by(|a, b| a.email.cmp(&b.email));
        groups.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
        members.sort_by(|a, b| {
            (
                &a.group_name,
                &a.group_id,
                a.user.as_ref().map(|u| &u.email),
            )
                .cmp(&(
                    &b.group_name,
                    &b.group_id,
                    b.user.as_ref().map(|u| &u.email),
                ))
        });
        vaults.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
        access.sort_by(|a, b| {
            (
                &a.vault_name,
                &a.vault_id,
                a.user.as_ref().map(|u| &u.email),
            )
                .cmp(&(
                    &b.vault_name,
                    &b.vault_id,
                    b.user.as_ref().map(|u| &u.email),
                ))
        });
        grants.sort_by(|a, b| {
            (&a.vault_name, &a.vault_id, &a.group_name).cmp(&(
                &b.vault_name,
                &b.vault_id,
                &b.group_name,
            ))
        });
        Self {
            account: AccountRecord(snapshot.account.clone()),
            users: people.into_iter().map(UserRecord).collect(),
            groups,
            members,
            vaults,
            access,
            grants,
            skipped: snapshot
                .skipped
                .iter()
                .cloned()
                .map(SkippedRecord)
                .collect(),
        }
    }
}

/// A group's record.
pub fn group_record(g: &opadmin::Group) -> GroupRecord {
    GroupRecord {
        id: g.id.to_string(),
        name: g.name.clone(),
        group_type: g.group_type.to_string(),
        member_count: g.members.len(),
    }
}

/// A group's members as records.
pub fn member_records(g: &opadmin::Group, users: &HashMap<&str, &User>) -> Vec<MemberRecord> {
    g.members
        .iter()
        .map(|m| MemberRecord {
            group_id: g.id.to_string(),
            group_name: g.name.clone(),
            id: m.user.to_string(),
            user: users.get(m.user.as_str()).map(|u| (*u).clone()),
            role: m.role,
        })
        .collect()
}

/// A vault's people and group grants as records.
pub fn vault_records(
    v: &opadmin::Vault,
    users: &HashMap<&str, &User>,
    group_names: &HashMap<&str, &str>,
) -> (Vec<AccessRecord>, Vec<GrantRecord>) {
    let name_of = |id: &str| {
        group_names
            .get(id)
            .map_or_else(|| id.to_owned(), |n| (*n).to_owned())
    };
    let access = v
        .user_access
        .iter()
        .map(|a| AccessRecord {
            vault_id: v.id.to_string(),
            vault_name: v.name.clone(),
            id: a.user.to_string(),
            user: users.get(a.user.as_str()).map(|u| (*u).clone()),
            permissions: a.permissions,
            direct_permissions: a.direct,
            via_groups: a.via_groups.iter().map(|g| name_of(g.as_str())).collect(),
        })
        .collect();
    let grants = v
        .accessors
        .iter()
        .filter_map(|a| match a {
            opadmin::Accessor::Group { id, permissions } => Some(GrantRecord {
                vault_id: v.id.to_string(),
                vault_name: v.name.clone(),
                group_id: id.to_string(),
                group_name: group_names.get(id.as_str()).map(|n| (*n).to_owned()),
                permissions: *permissions,
            }),
            _ => None,
        })
        .collect();
    (access, grants)
}

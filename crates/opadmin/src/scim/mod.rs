//! The second backend: 1Password's SCIM bridge (or hosted provisioning), behind the same
//! [`Directory`] trait as [`Admin`](crate::Admin).
//!
//! SCIM 2.0 (RFC 7643/7644) with a bearer token. What SCIM can do maps onto the trait:
//!
//! | `Directory` call | SCIM request |
//! |---|---|
//! | `users` / `find_user` | `GET /Users` (paged) / `GET /Users?filter=userName eq "…"` |
//! | `invite` | `POST /Users` (the bridge creates and invites; it confirms on its own) |
//! | `suspend` / `reactivate` | `PATCH /Users/{id}` `replace active false/true` |
//! | `remove` | `DELETE /Users/{id}`: **1Password's bridge suspends rather than erases** |
//! | `groups` | `GET /Groups` (paged) |
//! | `add_to_group` / `remove_from_group` | `PATCH /Groups/{id}` `add members` / `remove members[value eq "…"]` |
//!
//! plus [`ScimDirectory::create_group`] and [`ScimDirectory::delete_group`]. What SCIM cannot do
//! (vault access, confirmation, guests, group managers, last sign-in) answers
//! [`Error::NotSupported`] before any request is sent, and [`Directory::capabilities`] says so in
//! advance.
//!
//! The transport follows the same rules as the b5 client (HTTPS only except to loopback, no
//! redirects, timeouts, a cap on every answer, no repeat of a request that may have been
//! applied): see [`ScimClient`] and [`ScimClientBuilder`].
//!
//! ```no_run
//! # async fn run() -> opadmin::Result<()> {
//! use opadmin::Directory;
//! use opadmin::scim::ScimDirectory;
//!
//! // The bridge's URL exactly as configured in your identity provider.
//! let dir = ScimDirectory::new("https://scim.example.com", std::env::var("SCIM_TOKEN").unwrap_or_default())?;
//! for user in dir.users().await? {
//!     println!("{} {}", user.email, user.state);
//! }
//! # Ok(()) }
//! ```

mod client;
mod model;

use async_trait::async_trait;
use opadmin_api::types::{
    GroupId, GroupRole, GroupType, UserId, UserState, UserType, VaultId, VaultPermissions,
};
use serde_json::json;

pub use client::{
    BearerToken, DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_ANSWER_BYTES, DEFAULT_MAX_RETRIES,
    DEFAULT_MAX_RETRY_WAIT, DEFAULT_PAGE_SIZE, DEFAULT_TIMEOUT, Filter, SCIM_MEDIA_TYPE,
    ScimClient, ScimClientBuilder,
};
pub use model::{
    GROUP_SCHEMA, LIST_RESPONSE_SCHEMA, ListResponse, PATCH_OP_SCHEMA, PatchOp, PatchOperation,
    ScimEmail, ScimErrorBody, ScimGroup, ScimMeta, ScimName, ScimReference, ScimUser,
    ServiceProviderConfig, Supported, USER_SCHEMA,
};

use crate::directory::{Capabilities, Directory};
use crate::error::{Error, Result};
use crate::model::{
    Accessor, GrantOutcome, Group, GroupMember, Invitation, MembershipOutcome, RevokeOutcome, User,
    UserRef, VaultSummary,
};
use client::resource_path;

/// The backend name in [`Error::NotSupported`].
pub const BACKEND: &str = "SCIM";

const USERS: &str = "/Users";
const GROUPS: &str = "/Groups";

fn not_supported(operation: &'static str) -> Error {
    Error::NotSupported {
        operation,
        backend: BACKEND,
    }
}

/// A [`Directory`] over SCIM 2.0: 1Password's SCIM bridge, hosted provisioning, or any RFC 7644
/// server.
///
/// Users come back with `state` [`UserState::Active`] or [`UserState::Suspended`] (SCIM has only
/// `active`; invited and pending people show as active), `user_type` [`UserType::Member`] (the
/// bridge never manages guests) and `last_sign_in: None` (SCIM carries no sign-in data). Groups
/// come back as [`GroupType::UserDefined`] with every member as [`GroupRole::Member`]; when the
/// server sends no `members` (1Password's recorded groups never do), a group lists no members.
#[derive(Debug, Clone)]
pub struct ScimDirectory {
    client: ScimClient,
}

impl ScimDirectory {
    /// A directory for the SCIM server at `base_url` (taken verbatim) with this bearer token.
    pub fn new(base_url: &str, token: impl Into<BearerToken>) -> Result<Self> {
        Ok(Self::with_client(ScimClient::new(base_url, token)?))
    }

    /// A directory over a configured [`ScimClient`] (page size, retries, HTTP client).
    pub fn with_client(client: ScimClient) -> Self {
        Self { client }
    }

    /// The underlying client.
    pub fn client(&self) -> &ScimClient {
        &self.client
    }

    /// The server's `/ServiceProviderConfig` (patch, bulk, filter, sort, etag flags).
    pub async fn service_provider_config(&self) -> Result<ServiceProviderConfig> {
        self.client.get("/ServiceProviderConfig").await
    }

    /// Every user as the server sends it.
    pub async fn scim_users(&self) -> Result<Vec<ScimUser>> {
        self.client.list(USERS, None).await
    }

    /// Every group as the server sends it.
    pub async fn scim_groups(&self) -> Result<Vec<ScimGroup>> {
        self.client.list(GROUPS, None).await
    }

    /// One user by id.
    pub async fn scim_user(&self, id: &UserId) -> Result<ScimUser> {
        self.client
            .get(&resource_path(USERS, id.as_str()))
            .await
            .map_err(|e| not_found_as(e, || format!("person {id}")))
    }

    /// One group by id.
    pub async fn scim_group(&self, id: &GroupId) -> Result<ScimGroup> {
        self.client
            .get(&resource_path(GROUPS, id.as_str()))
            .await
            .map_err(|e| not_found_as(e, || format!("group {id}")))
    }

    /// The user whose `userName` is `email` (case-insensitive), as the server sends it.
    pub async fn find_scim_user(&self, email: &str) -> Result<Option<ScimUser>> {
        let email = email.trim();
        if email.is_empty() {
            return Err(Error::InvalidInput("the email is empty".into()));
        }
        let filter = Filter::eq("userName", email)?;
        let found: Vec<ScimUser> = self.client.list(USERS, Some(&filter)).await?;
        Ok(found
            .into_iter()
            .find(|u| u.user_name.trim().eq_ignore_ascii_case(email)))
    }

    /// Creates a group (`POST /Groups`). On 1Password only provisioning-managed groups can be
    /// created and managed this way.
    pub async fn create_group(&self, name: &str) -> Result<Group> {
        let name = name.trim();
        if name.is_empty() {
            return Err(Error::InvalidInput(
                "the group name is empty; give the group a name".into(),
            ));
        }
        let body = ScimGroup {
            schemas: vec![GROUP_SCHEMA.to_owned()],
            display_name: name.to_owned(),
            ..ScimGroup::default()
        };
        let created: ScimGroup = self.client.create(GROUPS, &body).await?;
        Ok(group_from(created))
    }

    /// Deletes a group (`DELETE /Groups/{id}`; on 1Password a real delete, unlike users).
    pub async fn delete_group(&self, group: &GroupId) -> Result<()> {
        self.client
            .delete(&resource_path(GROUPS, group.as_str()))
            .await
            .map_err(|e| not_found_as(e, || format!("group {group}")))
    }

    async fn resolve(&self, user: &UserRef) -> Result<ScimUser> {
        match user {
            UserRef::Id(id) => self.scim_user(id).await,
            UserRef::Email(email) => {
                self.find_scim_user(email)
                    .await?
                    .ok_or_else(|| Error::NotFound {
                        what: format!("person {email}"),
                    })
            }
        }
    }

    async fn resolve_id(&self, user: &UserRef) -> Result<UserId> {
        match user {
            UserRef::Id(id) => Ok(id.clone()),
            UserRef::Email(_) => Ok(UserId::new(self.resolve(user).await?.id)),
        }
    }

    async fn set_active(&self, user: UserRef, active: bool) -> Result<User> {
        let id = self.resolve_id(&user).await?;
        let path = resource_path(USERS, id.as_str());
        let op = PatchOp::new(vec![PatchOperation {
            op: "replace".into(),
            path: Some("active".into()),
            value: Some(json!(active)),
        }]);
        let patched: Option<ScimUser> = self
            .client
            .patch(&path, &op)
            .await
            .map_err(|e| not_found_as(e, || format!("person {id}")))?;
        let current = match patched {
            Some(u) => u,
            None => self.scim_user(&id).await?,
        };
        Ok(user_from(current))
    }

    async fn members(&self, group: &GroupId) -> Result<Option<Vec<ScimReference>>> {
        Ok(self.scim_group(group).await?.members)
    }
}

/// A facade error for a 404 that names what was looked for.
fn not_found_as(e: Error, what: impl FnOnce() -> String) -> Error {
    match e {
        Error::NotFound { .. } => Error::NotFound { what: what() },
        other => other,
    }
}

/// A SCIM user as the facade's [`User`].
pub fn user_from(u: ScimUser) -> User {
    let email = if u.user_name.contains('@') {
        u.user_name.trim().to_lowercase()
    } else {
        u.emails
            .iter()
            .find(|e| e.primary == Some(true))
            .or_else(|| u.emails.first())
            .map(|e| e.value.trim().to_lowercase())
            .unwrap_or_else(|| u.user_name.trim().to_lowercase())
    };
    let name = u
        .display_name
        .clone()
        .or_else(|| u.name.as_ref().and_then(|n| n.formatted.clone()))
        .or_else(|| {
            let n = u.name.as_ref()?;
            let joined = [n.given_name.as_deref(), n.family_name.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            (!joined.is_empty()).then_some(joined)
        })
        .unwrap_or_default();
    let created_at = u
        .meta
        .as_ref()
        .and_then(|m| m.created.as_deref())
        .and_then(|c| {
            time::OffsetDateTime::parse(c, &time::format_description::well_known::Rfc3339).ok()
        });
    User {
        id: UserId::new(u.id),
        email,
        name,
        state: if u.active.unwrap_or(true) {
            UserState::Active
        } else {
            UserState::Suspended
        },
        user_type: UserType::Member,
        created_at,
        last_sign_in: None,
    }
}

/// A SCIM group as the facade's [`Group`].
pub fn group_from(g: ScimGroup) -> Group {
    Group {
        id: GroupId::new(g.id),
        name: g.display_name,
        group_type: GroupType::UserDefined,
        members: g
            .members
            .unwrap_or_default()
            .into_iter()
            .map(|m| GroupMember {
                user: UserId::new(m.value),
                role: GroupRole::Member,
            })
            .collect(),
    }
}

#[async_trait]
impl Directory for ScimDirectory {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            last_sign_in: false,
            vault_access: false,
            guests: false,
            confirmation: false,
            groups: true,
        }
    }

    async fn users(&self) -> Result<Vec<User>> {
        Ok(self
            .scim_users()
            .await?
            .into_iter()
            .map(user_from)
            .collect())
    }

    async fn find_user(&self, email: &str) -> Result<Option<User>> {
        Ok(self.find_scim_user(email).await?.map(user_from))
    }

    /// `POST /Users`: the bridge creates the person and sends the invitation. The returned
    /// [`Invitation::id`] is the new user's SCIM id. Guests and service accounts are refused
    /// before any request.
    async fn invite(&self, email: &str, name: &str, user_type: UserType) -> Result<Invitation> {
        match user_type {
            UserType::Member => {}
            UserType::Guest => return Err(not_supported("inviting guests")),
            _ => return Err(not_supported("inviting service accounts")),
        }
        let email = email.trim().to_lowercase();
        if !email.contains('@') {
            return Err(Error::InvalidInput(format!(
                "{email:?} is not an email address"
            )));
        }
        let name = name.trim();
        let (given, family) = match name.split_once(char::is_whitespace) {
            Some((g, f)) => (g.to_owned(), f.trim().to_owned()),
            None => (name.to_owned(), String::new()),
        };
        let body = ScimUser {
            schemas: vec![USER_SCHEMA.to_owned()],
            user_name: email.clone(),
            name: Some(ScimName {
                formatted: (!name.is_empty()).then(|| name.to_owned()),
                given_name: (!given.is_empty()).then_some(given),
                family_name: (!family.is_empty()).then_some(family),
            }),
            display_name: (!name.is_empty()).then(|| name.to_owned()),
            active: Some(true),
            emails: vec![ScimEmail {
                value: email.clone(),
                kind: Some("work".into()),
                primary: Some(true),
            }],
            ..ScimUser::default()
        };
        let created: ScimUser = self.client.create(USERS, &body).await?;
        if created.id.is_empty() {
            return Err(Error::Protocol(
                "SCIM POST /Users answered a user without an id".into(),
            ));
        }
        Ok(Invitation {
            id: created.id,
            email,
            despite_failure: false,
        })
    }

    async fn confirm(&self, _user: UserRef) -> Result<()> {
        Err(not_supported(
            "confirming people (the SCIM bridge confirms them itself)",
        ))
    }

    async fn suspend(&self, user: UserRef) -> Result<User> {
        self.set_active(user, false).await
    }

    async fn reactivate(&self, user: UserRef) -> Result<User> {
        self.set_active(user, true).await
    }

    /// `DELETE /Users/{id}`. **1Password's bridge suspends rather than erases**: the person is
    /// returned with [`UserState::Suspended`] and stays in the account (erasing needs the b5
    /// backend with provisioning paused). A server that really deletes (strict RFC 7644) yields
    /// the person as last seen with [`UserState::Deleted`].
    async fn remove(&self, user: UserRef) -> Result<User> {
        let before = self.resolve(&user).await?;
        let id = UserId::new(before.id.clone());
        self.client
            .delete(&resource_path(USERS, id.as_str()))
            .await
            .map_err(|e| not_found_as(e, || format!("person {id}")))?;
        match self.scim_user(&id).await {
            Ok(after) => Ok(user_from(after)),
            Err(Error::NotFound { .. }) => {
                let mut gone = user_from(before);
                gone.state = UserState::Deleted;
                Ok(gone)
            }
            Err(e) => Err(e),
        }
    }

    async fn groups(&self) -> Result<Vec<Group>> {
        Ok(self
            .scim_groups()
            .await?
            .into_iter()
            .map(group_from)
            .collect())
    }

    /// `PATCH /Groups/{id}` `add members`. Only [`GroupRole::Member`]: SCIM has no group managers.
    /// When the server lists the group's members, an existing member answers
    /// [`MembershipOutcome::AlreadyMember`] without a change.
    async fn add_to_group(
        &self,
        group: &GroupId,
        user: UserRef,
        role: GroupRole,
    ) -> Result<MembershipOutcome> {
        if role != GroupRole::Member {
            return Err(not_supported("group roles other than member"));
        }
        let id = self.resolve_id(&user).await?;
        if let Some(members) = self.members(group).await?
            && members.iter().any(|m| m.value == id.as_str())
        {
            return Ok(MembershipOutcome::AlreadyMember {
                role: GroupRole::Member,
            });
        }
        let op = PatchOp::new(vec![PatchOperation {
            op: "add".into(),
            path: Some("members".into()),
            value: Some(json!([{ "value": id.as_str() }])),
        }]);
        self.client
            .patch::<serde_json::Value>(&resource_path(GROUPS, group.as_str()), &op)
            .await
            .map_err(|e| not_found_as(e, || format!("group {group}")))?;
        Ok(MembershipOutcome::Added {
            role: GroupRole::Member,
        })
    }

    /// `PATCH /Groups/{id}` `remove members[value eq "…"]`. When the server lists the group's
    /// members, a non-member answers [`MembershipOutcome::NotMember`] without a change.
    async fn remove_from_group(&self, group: &GroupId, user: UserRef) -> Result<MembershipOutcome> {
        let id = self.resolve_id(&user).await?;
        if let Some(members) = self.members(group).await?
            && !members.iter().any(|m| m.value == id.as_str())
        {
            return Ok(MembershipOutcome::NotMember);
        }
        let selector = Filter::eq("value", id.as_str())?;
        let op = PatchOp::new(vec![PatchOperation {
            op: "remove".into(),
            path: Some(format!("members[{selector}]")),
            value: None,
        }]);
        self.client
            .patch::<serde_json::Value>(&resource_path(GROUPS, group.as_str()), &op)
            .await
            .map_err(|e| not_found_as(e, || format!("group {group}")))?;
        Ok(MembershipOutcome::Removed)
    }

    async fn grant_vault_access(
        &self,
        _vault: &VaultId,
        _user: UserRef,
        _permissions: VaultPermissions,
    ) -> Result<GrantOutcome> {
        Err(not_supported("vault access"))
    }

    async fn revoke_vault_access(&self, _vault: &VaultId, _user: UserRef) -> Result<RevokeOutcome> {
        Err(not_supported("vault access"))
    }

    async fn vaults(&self) -> Result<Vec<VaultSummary>> {
        Err(not_supported("listing vaults"))
    }

    async fn vault_accessors(&self, _vault: &VaultId) -> Result<Vec<Accessor>> {
        Err(not_supported("vault access"))
    }

    async fn grant_group_vault_access(
        &self,
        _vault: &VaultId,
        _group: &GroupId,
        _permissions: VaultPermissions,
    ) -> Result<GrantOutcome> {
        Err(not_supported("vault access"))
    }

    async fn revoke_group_vault_access(
        &self,
        _vault: &VaultId,
        _group: &GroupId,
    ) -> Result<RevokeOutcome> {
        Err(not_supported("vault access"))
    }

    async fn set_vault_permissions(
        &self,
        _vault: &VaultId,
        _user: UserRef,
        _permissions: VaultPermissions,
    ) -> Result<VaultPermissions> {
        Err(not_supported("vault access"))
    }
}

#[cfg(test)]
mod tests;

//! `Admin`: sign in once, then sync and act.

use std::sync::Arc;
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use opadmin_api::access::{self, GrantPlan, RevokePlan};
use opadmin_api::auth::{self, Credentials, SignInOptions};
use opadmin_api::models::{
    self, AccessorType, ConfirmPeopleRequest, GroupMembership, GroupMembershipPatch, Invite,
    InviteRequest, InviteVault, MemberAddition, Person, VaultAccess,
};
use opadmin_api::service_account::ServiceAccountToken;
use opadmin_api::transport::{Transport, TransportConfig};
use opadmin_api::types::{
    GroupId, GroupRole, GroupState, GroupType, UserId, UserState, UserType, VaultId,
    VaultPermissions, VaultType,
};
use opadmin_api::{ApiError, Client};
use opadmin_crypto::kdf::{KdfLimits, LOWEST_MIN_ITERATIONS, MAX_ITERATIONS};
use opadmin_crypto::rsa::RsaPublicKey;
use opadmin_crypto::secret::Password;
use opadmin_crypto::srp::SrpVersion;

use crate::RememberToken;
use crate::error::{Error, Result};
use crate::keys::KeyStore;
use crate::model::{
    Accessor, AccountInfo, BulkResult, GrantOutcome, Group, GroupMember, Invitation,
    MembershipOutcome, RevokeOutcome, Snapshot, User, UserAccess, UserRef, Vault, VaultSummary,
};

/// How many requests `sync` and bulk actions keep in flight by default.
pub const DEFAULT_CONCURRENCY: usize = 8;

/// Builds an [`Admin`]: address, email, account password and Secret Key (or a service-account
/// token), plus optional second factor, stored device identity and transport settings.
#[derive(Default)]
pub struct AdminBuilder {
    address: Option<String>,
    email: Option<String>,
    password: Option<Password>,
    secret_key: Option<zeroize::Zeroizing<String>>,
    service_account_token: Option<zeroize::Zeroizing<String>>,
    options: SignInOptions,
    transport: TransportConfig,
    concurrency: Option<usize>,
    min_kdf_iterations: Option<u32>,
}

impl std::fmt::Debug for AdminBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminBuilder")
            .field("address", &self.address)
            .field("email", &self.email)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field(
                "secret_key",
                &self.secret_key.as_ref().map(|_| "<redacted>"),
            )
            .field("service_account", &self.service_account_token.is_some())
            .field("options", &self.options)
            .field("min_kdf_iterations", &self.min_kdf_iterations)
            .finish_non_exhaustive()
    }
}

impl AdminBuilder {
    /// Signs in as a service account with its token (`ops_…`) instead of email, password and
    /// Secret Key. The token names the account's address; [`address`](Self::address), when set,
    /// overrides it (for a local emulator: `http://127.0.0.1:PORT`). The token is kept zeroized
    /// and never shown. A service account may list vaults, read their accessors, read the groups
    /// it sees and grant or revoke groups' access to the vaults it manages; people and group
    /// membership are [`Error::NotPermittedForServiceAccount`].
    pub fn service_account_token(mut self, token: impl Into<String>) -> Self {
        self.service_account_token = Some(zeroize::Zeroizing::new(token.into()));
        self
    }

    /// The sign-in address: `my.1password.com`, `acme.1password.eu`, or `http://127.0.0.1:PORT`
    /// for a local emulator (plain HTTP is accepted only on loopback).
    pub fn address(mut self, address: impl Into<String>) -> Self {
        self.address = Some(address.into());
        self
    }

    /// The administrator's email.
    pub fn email(mut self, email: impl Into<String>) -> Self {
        self.email = Some(email.into());
        self
    }

    /// The administrator's account password (held zeroized; `Debug` never shows it).
    pub fn password(mut self, password: impl Into<String>) -> Self {
        self.password = Some(Password::new(password));
        self
    }

    /// The administrator's Secret Key, as printed (`A3-...`; case, spaces and dashes are fine).
    /// Held zeroized; `Debug` never shows it.
    pub fn secret_key(mut self, secret_key: impl Into<String>) -> Self {
        self.secret_key = Some(zeroize::Zeroizing::new(secret_key.into()));
        self
    }

    /// Email, password and Secret Key at once.
    pub fn credentials(
        self,
        email: impl Into<String>,
        password: impl Into<String>,
        secret_key: impl Into<String>,
    ) -> Self {
        self.email(email).password(password).secret_key(secret_key)
    }

    /// Answers TOTP challenges from this base32 secret.
    pub fn totp_secret(mut self, secret: impl Into<String>) -> Self {
        self.options = self.options.with_totp_secret(secret.into());
        self
    }

    /// Answers second-factor challenges with codes from a callback (`None` gives up).
    pub fn mfa_callback<F>(mut self, f: F) -> Self
    where
        F: Fn(&models::MfaChallenge) -> Option<String> + Send + Sync + 'static,
    {
        self.options = self.options.with_mfa_code_fn(f);
        self
    }

    /// Signs in as a device stored from an earlier run ([`Admin::device_uuid`]).
    pub fn device_uuid(mut self, uuid: impl Into<String>) -> Self {
        self.options = self.options.with_device_uuid(uuid);
        self
    }

    /// Offers a remember-this-device token stored from an earlier run ([`Admin::remember_token`]).
    pub fn remember_token(mut self, token: impl Into<RememberToken>) -> Self {
        self.options = self.options.with_dsecret(token.into());
        self
    }

    /// Lowers the smallest PBKDF2 iteration count accepted from the server (default 100,000;
    /// the largest accepted is 10,000,000). **Unsafe for real accounts**: a server, or anything
    /// between it and you, that hands out a low count makes the password cheaper to guess from
    /// what it learns. Meant for the emulator and test servers, which use low counts to keep
    /// tests fast. Values below 10,000 (which 1Password's own client refuses) make
    /// [`build`](Self::build) fail with [`Error::InvalidInput`].
    pub fn min_kdf_iterations(mut self, iterations: u32) -> Self {
        self.min_kdf_iterations = Some(iterations);
        self
    }

    /// The largest answer body read, in bytes (default 64 MiB); a larger answer is
    /// [`Error::AnswerTooLarge`], with memory staying near the cap.
    pub fn max_answer_bytes(mut self, bytes: usize) -> Self {
        self.transport = self.transport.with_max_answer_bytes(bytes);
        self
    }

    /// Uses SRP v1 instead of v2.
    pub fn srp_v1(mut self) -> Self {
        self.options = self.options.with_srp(SrpVersion::V1);
        self
    }

    /// Per-request timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.transport = self.transport.with_timeout(timeout);
        self
    }

    /// Full transport settings (retries, client descriptor, insecure HTTP).
    pub fn transport(mut self, transport: TransportConfig) -> Self {
        self.transport = transport;
        self
    }

    /// Requests kept in flight by `sync` and bulk actions (default 8).
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = Some(n.max(1));
        self
    }

    /// Signs in.
    pub async fn build(mut self) -> Result<Admin> {
        if let Some(min) = self.min_kdf_iterations {
            let limits = KdfLimits::default().with_min_iterations(min).map_err(|_| {
                Error::InvalidInput(format!(
                    "min_kdf_iterations({min}) is outside {LOWEST_MIN_ITERATIONS}..={MAX_ITERATIONS}"
                ))
            })?;
            self.options = self.options.with_kdf_limits(limits);
        }
        if let Some(token) = self.service_account_token.take() {
            return self.build_service_account(&token).await;
        }
        let missing =
            |what: &str| Error::InvalidInput(format!("{what} is required: set it on the builder"));
        let address = self.address.ok_or_else(|| missing("the sign-in address"))?;
        let email = self.email.ok_or_else(|| missing("the email"))?;
        let password = self
            .password
            .ok_or_else(|| missing("the account password"))?;
        let secret_key = self.secret_key.ok_or_else(|| missing("the Secret Key"))?;
        let credentials = Credentials::parse(address, email, password, secret_key.as_str())
            .map_err(|e| match e {
                ApiError::Crypto(c) => Error::InvalidInput(c.to_string()),
                other => Error::from(other),
            })?;
        let options = self.options.with_transport(self.transport);
        let signed = auth::sign_in(credentials, options).await?;
        Ok(Admin {
            inner: Arc::new(Inner {
                client: signed.client,
                keys: KeyStore::new(signed.keyring),
                me: signed.user_uuid,
                device_uuid: signed.device_uuid,
                remember_token: signed.new_dsecret,
                concurrency: self.concurrency.unwrap_or(DEFAULT_CONCURRENCY),
                service_account: false,
            }),
        })
    }

    async fn build_service_account(self, token: &str) -> Result<Admin> {
        if self.email.is_some() || self.password.is_some() || self.secret_key.is_some() {
            return Err(Error::InvalidInput(
                "give either a service-account token or an email, password and Secret Key, not both"
                    .into(),
            ));
        }
        let token = ServiceAccountToken::parse(token)?;
        let address = self
            .address
            .unwrap_or_else(|| token.sign_in_address().to_owned());
        let transport = Transport::new(&address, self.transport.clone())?;
        let options = self.options.with_transport(self.transport);
        let signed =
            auth::sign_in_service_account_with_transport(transport, token, options).await?;
        Ok(Admin {
            inner: Arc::new(Inner {
                client: signed.client,
                keys: KeyStore::new(signed.keyring),
                me: signed.user_uuid,
                device_uuid: signed.device_uuid,
                remember_token: None,
                concurrency: self.concurrency.unwrap_or(DEFAULT_CONCURRENCY),
                service_account: true,
            }),
        })
    }
}

struct Inner {
    client: Client,
    keys: KeyStore,
    me: UserId,
    device_uuid: String,
    remember_token: Option<RememberToken>,
    concurrency: usize,
    /// Signed in with a service-account token.
    service_account: bool,
}

/// A signed-in administrator. Cheap to clone; clones share the session and the key store.
#[derive(Clone)]
pub struct Admin {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Admin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Admin")
            .field("user", &self.inner.me)
            .field("device", &self.inner.device_uuid)
            .field("service_account", &self.inner.service_account)
            .finish_non_exhaustive()
    }
}

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

/// A group with its active members.
fn group_from(g: models::Group) -> Group {
    Group {
        members: g
            .memberships
            .as_deref()
            .unwrap_or_default()
            .iter()
            .filter(|m| m.state == GroupState::Active)
            .map(|m| GroupMember {
                user: m.member_uuid.clone(),
                role: m.role,
            })
            .collect(),
        id: g.uuid,
        name: g.name,
        group_type: g.group_type,
    }
}

fn user_from(person: &Person) -> User {
    User {
        id: person.uuid.clone(),
        email: person.email.trim().to_lowercase(),
        name: person.display_name(),
        state: person.state,
        user_type: person.user_type,
        created_at: person.created_at(),
        last_sign_in: person.last_auth_at(),
    }
}

impl Admin {
    /// Starts a builder.
    pub fn builder() -> AdminBuilder {
        AdminBuilder::default()
    }

    /// The signed-in administrator's uuid.
    pub fn user_id(&self) -> &UserId {
        &self.inner.me
    }

    /// The device this session signed in as: store it and pass it to
    /// [`AdminBuilder::device_uuid`] to be the same device next time.
    pub fn device_uuid(&self) -> &str {
        &self.inner.device_uuid
    }

    /// A remember-this-device token issued at this sign-in (after a second factor), to store as
    /// a secret and pass to [`AdminBuilder::remember_token`]. It is zeroized on drop and its
    /// `Debug` is redacted; [`RememberToken::expose_secret`] gives the text to store.
    pub fn remember_token(&self) -> Option<&RememberToken> {
        self.inner.remember_token.as_ref()
    }

    fn client(&self) -> &Client {
        &self.inner.client
    }

    /// Whether this session signed in with a service-account token.
    pub fn is_service_account(&self) -> bool {
        self.inner.service_account
    }

    /// Refuses, before anything is sent, what a service account may not do or cannot see.
    ///
    /// Decision: 1Password documents that service accounts cannot manage people, change group
    /// membership or administer the account (the emulator answers those 403 / 101), and a
    /// service account sees no people. So people operations, group membership and role
    /// changes, and the person-level vault-access calls (whose group-aware rules need the
    /// person's groups, which a service account cannot read) fail here with
    /// [`Error::NotPermittedForServiceAccount`]. `sync` and `users` fail too: a snapshot
    /// without people would be silently incomplete. What works: [`vaults`](Self::vaults),
    /// [`vault_accessors`](Self::vault_accessors), [`group`](Self::group),
    /// [`groups`](Self::groups) (the groups it sees), [`open_vault_keys`](Self::open_vault_keys),
    /// and [`grant_group_vault_access`](Self::grant_group_vault_access) /
    /// [`revoke_group_vault_access`](Self::revoke_group_vault_access) on vaults it manages.
    fn deny_service_account(&self, operation: &'static str) -> Result<()> {
        if self.inner.service_account {
            Err(Error::NotPermittedForServiceAccount { operation })
        } else {
            Ok(())
        }
    }

    /// The account object: users with last sign-in, groups, vaults, tier.
    async fn account(&self) -> Result<models::Account> {
        Ok(self
            .client()
            .account_with_attrs(&["me", "users", "groups", "vaults", "tier", "counts"])
            .await?)
    }

    /// Every person the administrator can see, with state and last sign-in.
    pub async fn users(&self) -> Result<Vec<User>> {
        self.deny_service_account("listing people")?;
        let account = self.client().account_with_attrs(&["users"]).await?;
        Ok(account
            .users
            .unwrap_or_default()
            .iter()
            .map(user_from)
            .collect())
    }

    /// Resolves a person by uuid or email.
    pub async fn resolve_user(&self, user: impl Into<UserRef>) -> Result<User> {
        self.deny_service_account("looking up a person")?;
        let user = user.into();
        let not_found = || Error::NotFound {
            what: format!("person {user}"),
        };
        match &user {
            UserRef::Id(id) => Ok(user_from(&self.client().user(id).await.map_err(
                |e| match e {
                    ApiError::NotFound { .. } => not_found(),
                    other => other.into(),
                },
            )?)),
            UserRef::Email(email) => {
                let filter = opadmin_api::users::UserFilter::new().emails([email.clone()]);
                let list = self.client().user_list(&filter).await?;
                let partial = list
                    .users
                    .into_iter()
                    .find(|p| p.email.eq_ignore_ascii_case(email))
                    .ok_or_else(not_found)?;
                Ok(user_from(&self.client().user(&partial.uuid).await?))
            }
        }
    }

    /// A person's uuid: as given, or looked up by email (one request).
    async fn id_of(&self, user: impl Into<UserRef>) -> Result<UserId> {
        match user.into() {
            UserRef::Id(id) => Ok(id),
            email => Ok(self.resolve_user(email).await?.id),
        }
    }

    /// Everything the administrator can see: account, people (state, last sign-in), groups with
    /// members, vaults with names and accessors, and each person's access with its reasons.
    /// Vault keys are opened on every core, once per `Admin`.
    pub async fn sync(&self) -> Result<Snapshot> {
        self.deny_service_account("sync (a snapshot of people, groups and vaults)")?;
        let account = self.account().await?;
        let plan = account.plan();
        let info = AccountInfo {
            id: account.uuid.to_string(),
            name: account.name.clone(),
            account_type: account.account_type,
            plan,
        };
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
        Ok(Snapshot {
            account: info,
            users,
            groups,
            vaults,
        })
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
                Ok(VaultSummary {
                    id: v.uuid.clone(),
                    name: attrs.name,
                    description: attrs.desc,
                    vault_type: v.vault_type,
                    permissions: v
                        .combined_access
                        .as_ref()
                        .map_or(VaultPermissions::NONE, |a| a.acl),
                })
            })
            .collect()
    }

    /// Every grant on a vault (people and groups, with their permissions).
    pub async fn vault_accessors(&self, vault: &VaultId) -> Result<Vec<Accessor>> {
        let v = self.client().vault(vault).await.map_err(|e| match e {
            ApiError::NotFound { .. } => Error::NotFound {
                what: format!("vault {vault}"),
            },
            other => other.into(),
        })?;
        Ok(accessors_of(v.access.as_deref().unwrap_or_default()))
    }

    /// One group the signed-in identity can see, with members and roles.
    pub async fn group(&self, group: &GroupId) -> Result<Group> {
        let g = self.visible_group(group).await?;
        self.inner.keys.learn_group(&g);
        Ok(group_from(g))
    }

    /// Every group the administrator can see, with members and roles.
    pub async fn groups(&self) -> Result<Vec<Group>> {
        let account = self.client().account_with_attrs(&["groups"]).await?;
        let wire = account.groups.unwrap_or_default();
        for g in &wire {
            self.inner.keys.learn_group(g);
        }
        self.groups_in(&wire).await
    }

    async fn groups_in(&self, wire_groups: &[models::Group]) -> Result<Vec<Group>> {
        let client = self.client().clone();
        let ids: Vec<GroupId> = wire_groups.iter().map(|g| g.uuid.clone()).collect();
        futures::stream::iter(ids.into_iter().map(move |id| {
            let client = client.clone();
            async move { client.group(&id).await }
        }))
        .buffered(self.inner.concurrency)
        .map_ok(group_from)
        .try_collect()
        .await
        .map_err(Error::from)
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
                UserAccess {
                    permissions: eff.permissions(),
                    direct: eff.direct,
                    via_groups: eff.via_groups.into_iter().map(|g| g.group).collect(),
                    user,
                }
            })
            .collect();
        Ok(Vault {
            id: v.uuid.clone(),
            name: attrs.name,
            description: attrs.desc,
            vault_type: v.vault_type,
            accessors,
            user_access,
        })
    }

    /// The groups a person is an active member of.
    async fn groups_of(&self, user: &UserId) -> Result<Vec<GroupId>> {
        let person = self.client().user_with_attrs(user, &["groups"]).await?;
        Ok(access::active_group_ids(
            person.memberships.as_deref().unwrap_or_default(),
            user,
        ))
    }

    /// A vault with its accessors; a vault the administrator cannot see is the seed's
    /// "does not have access to this vault" error.
    async fn vault_with_access(&self, vault: &VaultId) -> Result<models::Vault> {
        self.client().vault(vault).await.map_err(|e| match e {
            ApiError::NotFound { .. } | ApiError::PermissionDenied { .. } => {
                Error::NoManageVaultPermission
            }
            other => other.into(),
        })
    }

    fn require_manage(v: &models::Vault) -> Result<()> {
        match &v.combined_access {
            Some(a) if a.acl.contains(VaultPermissions::MANAGE) => Ok(()),
            _ => Err(Error::NoManageVaultPermission),
        }
    }

    fn record(
        &self,
        v: &models::Vault,
        kind: AccessorType,
        id: &str,
        public: &RsaPublicKey,
        acl: VaultPermissions,
    ) -> Result<VaultAccess> {
        let key = self.inner.keys.vault_key(v)?;
        let sn = v.combined_access.as_ref().map_or(1, |a| a.vault_key_sn);
        Ok(VaultAccess {
            vault_uuid: v.uuid.clone(),
            accessor_type: kind,
            accessor_uuid: id.to_owned(),
            acl,
            lease_timeout: 0,
            vault_key_sn: sn,
            encrypted_by: public.kid().to_owned(),
            enc_vault_key: public.wrap_key(&key)?,
        })
    }

    async fn user_public_key(&self, user: &UserId) -> Result<RsaPublicKey> {
        let keys = self
            .client()
            .user_public_keys(std::slice::from_ref(user))
            .await?;
        let entry = keys
            .into_iter()
            .find(|k| k.uuid == user.as_str())
            .ok_or_else(|| Error::NotFound {
                what: format!("public key of {user}"),
            })?;
        Ok(RsaPublicKey::from_jwk(&entry.pub_key)?)
    }

    async fn group_public_key(&self, group: &GroupId) -> Result<RsaPublicKey> {
        let keys = self
            .client()
            .group_public_keys(std::slice::from_ref(group))
            .await?;
        let entry = keys
            .into_iter()
            .find(|k| k.uuid == group.as_str())
            .ok_or_else(|| Error::NotFound {
                what: format!("group {group}"),
            })?;
        Ok(RsaPublicKey::from_jwk(&entry.pub_key)?)
    }

    /// Grants a person access to a vault, following the seed's rules: a person who already has
    /// direct access is left alone (`AlreadyDirect`); a person who has access through a group is
    /// not added directly (`CoveredByGroups`); otherwise the permissions, closed under their
    /// dependencies, are granted. Needs Manage Vault on that vault.
    pub async fn grant_vault_access(
        &self,
        vault: &VaultId,
        user: impl Into<UserRef>,
        permissions: VaultPermissions,
    ) -> Result<GrantOutcome> {
        self.deny_service_account("granting a person access to a vault")?;
        let user_id = self.id_of(user).await?;
        let v = self.vault_with_access(vault).await?;
        let groups = self.groups_of(&user_id).await?;
        let records = v.access.as_deref().unwrap_or_default();
        match access::plan_grant(records, &user_id, &groups, permissions)? {
            GrantPlan::AlreadyDirect { current, .. } => Ok(GrantOutcome::AlreadyDirect { current }),
            GrantPlan::CoveredByGroups { groups } => Ok(GrantOutcome::CoveredByGroups { groups }),
            GrantPlan::Grant { permissions } => {
                Self::require_manage(&v)?;
                let public = self.user_public_key(&user_id).await?;
                let record = self.record(
                    &v,
                    AccessorType::User,
                    user_id.as_str(),
                    &public,
                    permissions,
                )?;
                self.client().grant_vault_access(vault, &[record]).await?;
                Ok(GrantOutcome::Granted { permissions })
            }
        }
    }

    /// Revokes a person's direct access. Access through groups is not revoked (the seed's
    /// rule); it is reported so the caller can remove the person from those groups.
    pub async fn revoke_vault_access(
        &self,
        vault: &VaultId,
        user: impl Into<UserRef>,
    ) -> Result<RevokeOutcome> {
        self.deny_service_account("revoking a person's access to a vault")?;
        let user_id = self.id_of(user).await?;
        let v = self.vault_with_access(vault).await?;
        let groups = self.groups_of(&user_id).await?;
        match access::plan_revoke(v.access.as_deref().unwrap_or_default(), &user_id, &groups) {
            RevokePlan::NothingDirect { via_groups } => {
                Ok(RevokeOutcome::NoDirectAccess { via_groups })
            }
            RevokePlan::RevokeDirect {
                still_via_groups, ..
            } => {
                Self::require_manage(&v)?;
                self.client()
                    .revoke_user_vault_access(vault, &user_id)
                    .await?;
                Ok(RevokeOutcome::Revoked { still_via_groups })
            }
        }
    }

    /// Grants a group access to a vault (`AlreadyDirect` when it has a grant already).
    pub async fn grant_group_vault_access(
        &self,
        vault: &VaultId,
        group: &GroupId,
        permissions: VaultPermissions,
    ) -> Result<GrantOutcome> {
        let v = self.vault_with_access(vault).await?;
        match access::plan_group_grant(v.access.as_deref().unwrap_or_default(), group, permissions)?
        {
            GrantPlan::AlreadyDirect { current, .. } => Ok(GrantOutcome::AlreadyDirect { current }),
            GrantPlan::CoveredByGroups { groups } => Ok(GrantOutcome::CoveredByGroups { groups }),
            GrantPlan::Grant { permissions } => {
                Self::require_manage(&v)?;
                let public = self.group_public_key(group).await?;
                let record = self.record(
                    &v,
                    AccessorType::Group,
                    group.as_str(),
                    &public,
                    permissions,
                )?;
                self.client().grant_vault_access(vault, &[record]).await?;
                Ok(GrantOutcome::Granted { permissions })
            }
        }
    }

    /// Revokes a group's access to a vault.
    pub async fn revoke_group_vault_access(
        &self,
        vault: &VaultId,
        group: &GroupId,
    ) -> Result<RevokeOutcome> {
        let v = self.vault_with_access(vault).await?;
        match access::plan_group_revoke(v.access.as_deref().unwrap_or_default(), group) {
            RevokePlan::NothingDirect { via_groups } => {
                Ok(RevokeOutcome::NoDirectAccess { via_groups })
            }
            RevokePlan::RevokeDirect { .. } => {
                Self::require_manage(&v)?;
                self.client()
                    .revoke_group_vault_access(vault, group)
                    .await?;
                Ok(RevokeOutcome::Revoked {
                    still_via_groups: Vec::new(),
                })
            }
        }
    }

    /// Changes a person's direct permissions on a vault (closed under dependencies). The person
    /// must have a direct grant.
    pub async fn set_vault_permissions(
        &self,
        vault: &VaultId,
        user: impl Into<UserRef>,
        permissions: VaultPermissions,
    ) -> Result<VaultPermissions> {
        self.deny_service_account("changing a person's vault permissions")?;
        let user = self.resolve_user(user).await?;
        let v = self.vault_with_access(vault).await?;
        let has_direct =
            v.access.as_deref().unwrap_or_default().iter().any(|r| {
                r.accessor_type == AccessorType::User && r.accessor_uuid == user.id.as_str()
            });
        if !has_direct {
            return Err(Error::InvalidState(format!(
                "{} has no direct access to this vault; grant access instead",
                user.email
            )));
        }
        Self::require_manage(&v)?;
        let permissions = permissions.with_dependencies();
        if !permissions.is_grantable() {
            return Err(Error::InvalidInput("the permissions must include at least one of view, edit, export, manage or recover".into()));
        }
        self.client()
            .set_user_vault_permissions(vault, &user.id, permissions)
            .await?;
        Ok(permissions)
    }

    /// Invites a person (1Password Business only: checked before anything is sent), optionally
    /// with vaults to give them once confirmed. `name` is not part of a b5 invitation (the
    /// invitee enters it when accepting); it is taken for symmetry with other backends.
    pub async fn invite(
        &self,
        email: &str,
        name: &str,
        user_type: UserType,
        vaults: &[(VaultId, VaultPermissions)],
    ) -> Result<Invitation> {
        self.deny_service_account("inviting a person")?;
        let email = email.trim().to_lowercase();
        if !email.contains('@') {
            return Err(Error::InvalidInput(format!(
                "{email:?} is not an email address"
            )));
        }
        let account = self.client().account_with_attrs(&["tier"]).await?;
        if !account.plan().allows_invitations() {
            return Err(Error::BusinessPlanRequired);
        }
        let _unused_by_b5 = name;
        let invite = Invite {
            email: email.clone(),
            language: "en".into(),
            vaults: (!vaults.is_empty()).then(|| {
                vaults
                    .iter()
                    .map(|(v, p)| InviteVault {
                        uuid: v.clone(),
                        acl: p.with_dependencies(),
                    })
                    .collect()
            }),
        };
        let request = InviteRequest {
            invites: vec![invite],
            invite_type: user_type,
        };
        let details = self.client().invite(&request).await?;
        let d = details
            .into_iter()
            .next()
            .ok_or_else(|| Error::Protocol("the server confirmed no invitation".into()))?;
        Ok(Invitation {
            id: d.uuid,
            email: d.email,
        })
    }

    /// Confirms a person who accepted an invitation (state "awaiting confirmation"): members
    /// receive the Team Members keyset (or, on older accounts, the Everyone vault key) wrapped to
    /// their public key.
    pub async fn confirm(&self, user: impl Into<UserRef>) -> Result<()> {
        self.deny_service_account("confirming a person")?;
        let user = self.resolve_user(user).await?;
        self.confirm_people(std::slice::from_ref(&user)).await
    }

    /// Confirms everyone awaiting confirmation; returns who was confirmed.
    pub async fn confirm_all_pending(&self) -> Result<Vec<User>> {
        self.deny_service_account("confirming people")?;
        let pending: Vec<User> = self
            .users()
            .await?
            .into_iter()
            .filter(|u| u.state == UserState::Pending)
            .collect();
        for chunk in pending.chunks(opadmin_api::client::BATCH_SIZE) {
            self.confirm_people(chunk).await?;
        }
        Ok(pending)
    }

    async fn confirm_people(&self, people: &[User]) -> Result<()> {
        if people.is_empty() {
            return Ok(());
        }
        if let Some(u) = people.iter().find(|u| u.state != UserState::Pending) {
            return Err(Error::InvalidState(format!(
                "{} is {}, not awaiting confirmation",
                u.email, u.state
            )));
        }
        let account = self
            .client()
            .account_with_attrs(&["groups", "vaults"])
            .await?;
        let team = account
            .groups
            .as_deref()
            .unwrap_or_default()
            .iter()
            .find(|g| g.group_type == GroupType::TeamMembers)
            .cloned();
        let ids: Vec<UserId> = people.iter().map(|u| u.id.clone()).collect();
        let keys = self.client().user_public_keys(&ids).await?;
        let mut memberships = Vec::new();
        let mut vault_access = Vec::new();
        let everyone = if team.is_none() {
            let all = self.client().vaults().collect_all().await?;
            all.into_iter()
                .find(|v| v.vault_type == VaultType::Everyone)
        } else {
            None
        };
        let team_keyset = match &team {
            Some(g) => Some(
                self.inner
                    .keys
                    .group_keyset(&self.client().group(&g.uuid).await?)?,
            ),
            None => None,
        };
        for person in people.iter().filter(|p| p.user_type == UserType::Member) {
            let entry = keys
                .iter()
                .find(|k| k.uuid == person.id.as_str())
                .ok_or_else(|| Error::NotFound {
                    what: format!("public key of {}", person.email),
                })?;
            let public = RsaPublicKey::from_jwk(&entry.pub_key)?;
            if let (Some(g), Some(ks)) = (&team, &team_keyset) {
                memberships.push(GroupMembership {
                    group_uuid: g.uuid.clone(),
                    member_uuid: person.id.clone(),
                    role: GroupRole::Member,
                    state: GroupState::Active,
                    version: None,
                    keyset: Some(ks.encrypt_for_member(&public, 1)?),
                    created_at: None,
                    updated_at: None,
                });
            } else if let Some(v) = &everyone {
                vault_access.push(self.record(
                    v,
                    AccessorType::User,
                    person.id.as_str(),
                    &public,
                    VaultPermissions::RWE,
                )?);
            }
        }
        let request = ConfirmPeopleRequest {
            people_uuids: ids,
            group_memberships: (!memberships.is_empty()).then_some(memberships),
            vault_access: (!vault_access.is_empty()).then_some(vault_access),
        };
        self.client().confirm_people(&request).await?;
        Ok(())
    }

    async fn lifecycle(&self, user: UserRef, action: &str) -> Result<User> {
        self.deny_service_account(match action {
            "suspend" => "suspending a person",
            "reactivate" => "reactivating a person",
            _ => "removing a person",
        })?;
        let user = self.resolve_user(user).await?;
        if &user.id == self.user_id() {
            return Err(Error::InvalidInput(format!(
                "the integration user cannot {action} itself"
            )));
        }
        let mut user = user;
        let ids = std::slice::from_ref(&user.id);
        user.state = match action {
            "suspend" => {
                self.client().suspend_people(ids).await?;
                UserState::Suspended
            }
            "reactivate" => {
                self.client().reactivate_people(ids).await?;
                UserState::Active
            }
            _ => {
                self.client().delete_people(ids).await?;
                UserState::Deleted
            }
        };
        Ok(user)
    }

    /// Suspends a person (they can no longer sign in; nothing is deleted). Returns the person
    /// as they now are.
    pub async fn suspend(&self, user: impl Into<UserRef>) -> Result<User> {
        self.lifecycle(user.into(), "suspend").await
    }

    /// Reactivates a suspended person. Returns the person as they now are.
    pub async fn reactivate(&self, user: impl Into<UserRef>) -> Result<User> {
        self.lifecycle(user.into(), "reactivate").await
    }

    /// Removes a person from the account (their access and memberships go with them). Returns
    /// the person as last seen, with the state [`UserState::Deleted`].
    pub async fn remove(&self, user: impl Into<UserRef>) -> Result<User> {
        self.lifecycle(user.into(), "remove").await
    }

    /// A group the administrator can see.
    async fn visible_group(&self, group: &GroupId) -> Result<models::Group> {
        self.client().group(group).await.map_err(|e| match e {
            ApiError::NotFound { .. } => Error::NotFound {
                what: format!("group {group}"),
            },
            other => other.into(),
        })
    }

    /// Adds a person to a group with a role. The group's keyset is wrapped to the new member's
    /// public key (the administrator must hold it: as a member, or through Recovery).
    pub async fn add_to_group(
        &self,
        group: &GroupId,
        user: impl Into<UserRef>,
        role: GroupRole,
    ) -> Result<MembershipOutcome> {
        self.deny_service_account("adding a person to a group")?;
        let user_id = self.id_of(user).await?;
        let g = self.visible_group(group).await?;
        if let Some(m) = g
            .memberships
            .as_deref()
            .unwrap_or_default()
            .iter()
            .find(|m| m.member_uuid == user_id && m.state == GroupState::Active)
        {
            return Ok(MembershipOutcome::AlreadyMember { role: m.role });
        }
        let keyset = self.inner.keys.group_keyset(&g)?;
        let public = self.user_public_key(&user_id).await?;
        let patch = GroupMembershipPatch {
            add: vec![MemberAddition {
                member_uuid: user_id.clone(),
                role,
                keyset: keyset.encrypt_for_member(&public, 1)?,
            }],
            remove: Vec::new(),
        };
        self.client().update_group_membership(group, &patch).await?;
        Ok(MembershipOutcome::Added { role })
    }

    /// Removes a person from a group.
    pub async fn remove_from_group(
        &self,
        group: &GroupId,
        user: impl Into<UserRef>,
    ) -> Result<MembershipOutcome> {
        self.deny_service_account("removing a person from a group")?;
        let user_id = self.id_of(user).await?;
        let g = self.visible_group(group).await?;
        if !g
            .memberships
            .as_deref()
            .unwrap_or_default()
            .iter()
            .any(|m| m.member_uuid == user_id && m.state == GroupState::Active)
        {
            return Ok(MembershipOutcome::NotMember);
        }
        self.client().remove_group_member(group, &user_id).await?;
        Ok(MembershipOutcome::Removed)
    }

    /// Makes a member a manager or a plain member of a group.
    pub async fn set_group_role(
        &self,
        group: &GroupId,
        user: impl Into<UserRef>,
        role: GroupRole,
    ) -> Result<()> {
        self.deny_service_account("changing a person's group role")?;
        let user_id = self.id_of(user).await?;
        let g = self.visible_group(group).await?;
        if !g
            .memberships
            .as_deref()
            .unwrap_or_default()
            .iter()
            .any(|m| m.member_uuid == user_id)
        {
            return Err(Error::InvalidState(format!(
                "{} is not a member of {}",
                user_id, g.name
            )));
        }
        self.client().set_group_role(group, &user_id, role).await?;
        Ok(())
    }

    /// Runs one action over many targets with bounded concurrency. Each target's outcome is
    /// reported; a failure neither stops nor undoes the others.
    pub async fn bulk<T, O, F, Fut>(
        &self,
        targets: impl IntoIterator<Item = T>,
        action: F,
    ) -> Vec<BulkResult<T, O>>
    where
        T: Clone,
        F: Fn(Admin, T) -> Fut,
        Fut: std::future::Future<Output = Result<O>>,
    {
        futures::stream::iter(targets.into_iter().map(|t| {
            let fut = action(self.clone(), t.clone());
            async move {
                BulkResult {
                    target: t,
                    outcome: fut.await,
                }
            }
        }))
        .buffered(self.inner.concurrency)
        .collect()
        .await
    }

    /// Signs out (the session ends on the server).
    pub async fn sign_out(&self) -> Result<()> {
        Ok(self.client().sign_out().await?)
    }
}

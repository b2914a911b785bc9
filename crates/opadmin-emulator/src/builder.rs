//! Building emulated accounts: an owner whose credentials the caller gets back, people, groups and
//! vaults with chosen memberships and access, and synthetic accounts of any size.
//!
//! People who sign in get their own RSA key pair and real 2SKD-derived keys at the configured
//! iteration count. People who never sign in, and every group, share a small pool of RSA key
//! pairs (each under its own key id), so that an account of 10,000 users builds in seconds; the
//! keys are still real, and everything wrapped to them opens.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use opadmin_crypto::encoding::UuidCase;
use opadmin_crypto::envelope::SymmetricKey;
use opadmin_crypto::kdf::{self, KdfAlgorithm, KdfParams};
use opadmin_crypto::keyset::Keyset;
use opadmin_crypto::rsa::RsaPrivateKey;
use opadmin_crypto::secret::{Password, SecretBytes32};
use opadmin_crypto::secret_key::{ALPHABET, SecretKey};
use opadmin_crypto::srp;

use crate::model::{
    Access, Account, Acl, Credentials, Group, Invitation, Member, MemberRole, PersonState, Plan,
    ServiceAccount, SignIn, User, Vault, acl, now_rfc3339, perm,
};
use crate::rng::Entropy;
use crate::service_account::{
    SERVICE_ACCOUNT_EMAIL_DOMAIN, SERVICE_ACCOUNT_ITERATIONS, ServiceAccountSpec,
};

/// A person's role in the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Member of Owners, Administrators, Recovery and Team Members.
    Owner,
    /// Member of Administrators and Team Members.
    Administrator,
    /// Member of Team Members.
    Member,
    /// A guest (type `G`): no Team Members membership.
    Guest,
}

/// A person to put in the account.
#[derive(Debug, Clone)]
pub struct PersonSpec {
    email: String,
    name: String,
    role: Role,
    password: Option<String>,
    state: PersonState,
    totp: bool,
    last_auth_at: Option<String>,
}

impl PersonSpec {
    /// A regular member who never signs in, state Active.
    pub fn new(email: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            email: email.into(),
            name: name.into(),
            role: Role::Member,
            password: None,
            state: PersonState::Active,
            totp: false,
            last_auth_at: None,
        }
    }

    /// Sets the role.
    pub fn role(mut self, role: Role) -> Self {
        self.role = role;
        self
    }

    /// Lets this person sign in with this password (a Secret Key is generated).
    pub fn password(mut self, password: impl Into<String>) -> Self {
        self.password = Some(password.into());
        self
    }

    /// Sets the state (for example [`PersonState::Suspended`], or [`PersonState::Pending`] for
    /// someone awaiting confirmation).
    pub fn state(mut self, state: PersonState) -> Self {
        self.state = state;
        self
    }

    /// Gives this person a TOTP second factor (its secret comes back in the credentials).
    pub fn totp(mut self) -> Self {
        self.totp = true;
        self
    }

    /// Sets the last sign-in time (RFC 3339).
    pub fn last_auth_at(mut self, at: impl Into<String>) -> Self {
        self.last_auth_at = Some(at.into());
        self
    }
}

/// A user-defined group.
#[derive(Debug, Clone)]
pub struct GroupSpec {
    name: String,
    desc: String,
    members: Vec<(String, MemberRole)>,
    permissions: u64,
}

impl GroupSpec {
    /// A group with no members yet.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            desc: String::new(),
            members: Vec::new(),
            permissions: perm::USER_DEFINED_GROUP,
        }
    }

    /// Adds a member ([`MemberRole::Member`]).
    pub fn member(mut self, email: impl Into<String>) -> Self {
        self.members.push((email.into(), MemberRole::Member));
        self
    }

    /// Adds a group manager ([`MemberRole::Manager`]).
    pub fn manager(mut self, email: impl Into<String>) -> Self {
        self.members.push((email.into(), MemberRole::Manager));
        self
    }

    /// Adds account permission bits (for example `perm::MANAGE_GROUPS`).
    pub fn permissions(mut self, bits: u64) -> Self {
        self.permissions |= bits;
        self
    }
}

/// A shared vault.
#[derive(Debug, Clone)]
pub struct VaultSpec {
    name: String,
    desc: String,
    creator: Option<String>,
    exclude_admins: bool,
    users: Vec<(String, Acl)>,
    groups: Vec<(String, Acl)>,
}

impl VaultSpec {
    /// A vault created by the owner; Owners and Administrators get Manage, Recovery gets Recover.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            desc: String::new(),
            creator: None,
            exclude_admins: false,
            users: Vec::new(),
            groups: Vec::new(),
        }
    }

    /// Sets the description.
    pub fn desc(mut self, desc: impl Into<String>) -> Self {
        self.desc = desc.into();
        self
    }

    /// Created by this person (who gets read, write, export and Manage).
    pub fn creator(mut self, email: impl Into<String>) -> Self {
        self.creator = Some(email.into());
        self
    }

    /// The creator chose to exclude Administrators (the "Vault Management Permissions" of the integration write-up, docs/requirements.md).
    pub fn exclude_administrators(mut self) -> Self {
        self.exclude_admins = true;
        self
    }

    /// Grants a person access with this acl.
    pub fn user(mut self, email: impl Into<String>, acl: Acl) -> Self {
        self.users.push((email.into(), acl));
        self
    }

    /// Grants a group access with this acl.
    pub fn group(mut self, name: impl Into<String>, acl: Acl) -> Self {
        self.groups.push((name.into(), acl));
        self
    }
}

/// Errors in an account description.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// A group or vault names a person who is not in the account.
    #[error("no person with email {0:?} in the account")]
    UnknownPerson(String),
    /// A vault names a group that is not in the account.
    #[error("no group named {0:?} in the account")]
    UnknownGroup(String),
    /// Two people share an email.
    #[error("two people share the email {0:?}")]
    DuplicateEmail(String),
    /// A service account names a vault that is not in the account.
    #[error("no vault named {0:?} in the account")]
    UnknownVault(String),
    /// Crypto failed (key generation).
    #[error("crypto failure: {0}")]
    Crypto(#[from] opadmin_crypto::CryptoError),
}

/// Describes an account; [`Emulator::start`](crate::Emulator::start) makes it, with real keys.
#[derive(Debug, Clone)]
pub struct AccountBuilder {
    name: String,
    plan: Plan,
    mfa_enforced: bool,
    iterations: u32,
    seed: Option<u64>,
    legacy_everyone_vault: bool,
    members_cannot_create_vaults: bool,
    people: Vec<PersonSpec>,
    groups: Vec<GroupSpec>,
    vaults: Vec<VaultSpec>,
    service_accounts: Vec<ServiceAccountSpec>,
    synthetic: (usize, usize, usize),
}

/// The owner's email when none is set.
pub const DEFAULT_OWNER_EMAIL: &str = "admin@example.com";

impl AccountBuilder {
    /// A Business account with an owner `admin@example.com` (password generated), 650000
    /// iterations, no second factor enforced.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            plan: Plan::Business,
            mfa_enforced: false,
            iterations: 650_000,
            seed: None,
            legacy_everyone_vault: false,
            members_cannot_create_vaults: false,
            people: Vec::new(),
            groups: Vec::new(),
            vaults: Vec::new(),
            service_accounts: Vec::new(),
            synthetic: (0, 0, 0),
        }
    }

    /// Sets the plan.
    pub fn plan(mut self, plan: Plan) -> Self {
        self.plan = plan;
        self
    }

    /// Every person must pass a second factor at sign-in.
    pub fn enforce_mfa(mut self) -> Self {
        self.mfa_enforced = true;
        self
    }

    /// PBKDF2 iterations for keys and SRP (tests may use a low count; the real one is 650000).
    pub fn iterations(mut self, iterations: u32) -> Self {
        self.iterations = iterations.max(1);
        self
    }

    /// Makes ids, keys and salts repeatable.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// An older account: no Team Members group; new members get the Everyone vault instead.
    pub fn legacy_everyone_vault(mut self) -> Self {
        self.legacy_everyone_vault = true;
        self
    }

    /// The account's policy takes the Create Vault permission away from the Team Members group:
    /// only Owners and Administrators (and service accounts given the permission) may create
    /// vaults. By default members may.
    pub fn members_cannot_create_vaults(mut self) -> Self {
        self.members_cannot_create_vaults = true;
        self
    }

    /// The owner (who signs in with this password).
    pub fn owner(
        mut self,
        email: impl Into<String>,
        name: impl Into<String>,
        password: impl Into<String>,
    ) -> Self {
        self.people
            .retain(|p| p.role != Role::Owner || p.email != DEFAULT_OWNER_EMAIL);
        self.people.insert(
            0,
            PersonSpec::new(email, name)
                .role(Role::Owner)
                .password(password),
        );
        self
    }

    /// Adds a person.
    pub fn person(mut self, person: PersonSpec) -> Self {
        self.people.push(person);
        self
    }

    /// Adds a user-defined group.
    pub fn group(mut self, group: GroupSpec) -> Self {
        self.groups.push(group);
        self
    }

    /// Adds a shared vault.
    pub fn vault(mut self, vault: VaultSpec) -> Self {
        self.vaults.push(vault);
        self
    }

    /// Adds a service account (a user of type `S` that signs in with an `ops_` token; see
    /// [`RunningEmulator::service_accounts`](crate::RunningEmulator::service_accounts)).
    pub fn service_account(mut self, service_account: ServiceAccountSpec) -> Self {
        self.service_accounts.push(service_account);
        self
    }

    /// Adds `users` synthetic members (`user{i}@example.com`, never signing in), `groups` groups of
    /// about ten members each, and `vaults` vaults each shared with one group and two people.
    pub fn synthetic(mut self, users: usize, groups: usize, vaults: usize) -> Self {
        self.synthetic = (users, groups, vaults);
        self
    }

    /// The seed, if one was set.
    pub fn seed_value(&self) -> Option<u64> {
        self.seed
    }

    /// Makes the account. Returns it with the credentials of everyone who can sign in.
    pub(crate) fn build(self) -> Result<(Account, Vec<Credentials>), BuildError> {
        Maker::new(self).make()
    }
}

struct Maker {
    spec: AccountBuilder,
    entropy: Entropy,
    pool: Vec<RsaPrivateKey>,
    next_pool: usize,
    now: String,
}

impl Maker {
    fn new(spec: AccountBuilder) -> Self {
        let entropy = Entropy::new(spec.seed);
        let pool = entropy.key_pool();
        Self {
            spec,
            entropy,
            pool,
            next_pool: 0,
            now: now_rfc3339(),
        }
    }

    fn pooled(&mut self, kid: &str) -> RsaPrivateKey {
        self.next_pool += 1;
        self.pool[self.next_pool % self.pool.len()].with_kid(kid)
    }

    fn secret_key(&self) -> SecretKey {
        let bytes = self.entropy.bytes::<64>();
        let alphabet = ALPHABET.as_bytes();
        let chars: String = bytes
            .iter()
            .map(|b| alphabet[(*b as usize) % alphabet.len()] as char)
            .take(32)
            .collect();
        SecretKey::from_parts("A3", &chars[..6], &chars[6..])
            .expect("alphabet characters make a valid key")
    }

    fn kdf_params(&self) -> KdfParams {
        KdfParams {
            alg: KdfAlgorithm::Pbes2gHs256,
            salt: self.entropy.bytes::<16>().to_vec(),
            iterations: self.spec.iterations,
        }
    }

    fn group(&mut self, name: &str, desc: &str, group_type: char, permissions: u64) -> Group {
        let uuid = self.entropy.uuid(UuidCase::Lower);
        let keyset_uuid = self.entropy.uuid(UuidCase::Lower);
        let private = self.pooled(&keyset_uuid);
        let keyset = Keyset::from_parts(self.entropy.symmetric_key(keyset_uuid.clone()), private);
        let pub_jwk = keyset.public_key().to_jwk();
        Group {
            uuid,
            name: name.to_owned(),
            desc: desc.to_owned(),
            group_type,
            permissions,
            keyset,
            pub_jwk,
            created_at: self.now.clone(),
            updated_at: self.now.clone(),
            attr_version: 1,
            members: BTreeMap::new(),
            recovery_keyset: None,
        }
    }

    fn person(
        &mut self,
        spec: &PersonSpec,
        index: usize,
    ) -> Result<(User, Option<Credentials>), BuildError> {
        let uuid = self.entropy.uuid(UuidCase::Upper);
        let keyset_uuid = self.entropy.uuid(UuidCase::Lower);
        let (private, auk, auk_params, sign_in, creds) = match &spec.password {
            Some(password) => {
                let private = self.entropy.key_pair(&keyset_uuid, &self.pool, index);
                let sk = self.secret_key();
                let pw = Password::new(password.clone());
                let auk_params = self.kdf_params();
                let auk = kdf::derive_auk(&pw, &spec.email, &sk, &auk_params);
                let srp_params = self.kdf_params();
                let x = kdf::derive_srp_x(&pw, &spec.email, &sk, kdf::SRP_METHOD, &srp_params)?;
                let sign_in = SignIn {
                    kdf: srp_params,
                    verifier: srp::verifier(&x),
                    sk_format: sk.format().to_owned(),
                    sk_id: sk.account_id().to_owned(),
                };
                let totp_secret = spec.totp.then(|| self.entropy.totp_secret());
                let creds = Credentials {
                    email: spec.email.clone(),
                    password: password.clone(),
                    secret_key: sk.to_readable(),
                    totp_secret,
                    user_uuid: uuid.clone(),
                };
                (private, auk, auk_params, Some(sign_in), Some(creds))
            }
            None => {
                let private = self.pooled(&keyset_uuid);
                (
                    private,
                    self.entropy.symmetric_key("mp"),
                    self.kdf_params(),
                    None,
                    None,
                )
            }
        };
        let keyset = Keyset::from_parts(self.entropy.symmetric_key(keyset_uuid), private);
        let ct = keyset.encrypt_with_auk(&auk, &auk_params, 1)?;
        let public = keyset.public_key().clone();
        let user = User {
            uuid,
            email: spec.email.trim().to_lowercase(),
            name: spec.name.clone(),
            state: spec.state.letter(),
            user_type: if spec.role == Role::Guest { 'G' } else { 'R' },
            created_at: self.now.clone(),
            updated_at: self.now.clone(),
            last_auth_at: spec.last_auth_at.clone(),
            keyset: ct,
            pub_jwk: public.to_jwk(),
            public,
            private: keyset.private_key().clone(),
            sign_in,
            totp_secret: creds.as_ref().and_then(|c| c.totp_secret.clone()),
            dsecrets: BTreeSet::new(),
            devices: BTreeSet::new(),
        };
        Ok((user, creds))
    }

    /// A service account: own key pair, SRP `x` and AUK stored directly (decisions in
    /// `service_account.rs`), a registered device, no group.
    fn service_account(
        &mut self,
        spec: &ServiceAccountSpec,
        index: usize,
    ) -> Result<(User, ServiceAccount), BuildError> {
        let uuid = self.entropy.uuid(UuidCase::Upper);
        let keyset_uuid = self.entropy.uuid(UuidCase::Lower);
        let private = self.entropy.key_pair(&keyset_uuid, &self.pool, index);
        let sk = self.secret_key();
        let srp_x = SecretBytes32::new(self.entropy.bytes::<32>());
        let auk = SymmetricKey::new("mp", self.entropy.bytes::<32>());
        let params = |entropy: &Entropy| KdfParams {
            alg: KdfAlgorithm::Pbes2gHs256,
            salt: entropy.bytes::<16>().to_vec(),
            iterations: SERVICE_ACCOUNT_ITERATIONS,
        };
        let (auk_params, srp_params) = (params(&self.entropy), params(&self.entropy));
        let device = self.entropy.uuid(UuidCase::Lower);
        let throttle_seed = self.entropy.bytes::<32>();
        let throttle_uuid = self.entropy.uuid(UuidCase::Lower);
        let keyset = Keyset::from_parts(self.entropy.symmetric_key(keyset_uuid), private);
        let ct = keyset.encrypt_with_auk(&auk, &auk_params, 1)?;
        let public = keyset.public_key().clone();
        let user = User {
            email: format!("{}@{SERVICE_ACCOUNT_EMAIL_DOMAIN}", uuid.to_lowercase()),
            uuid,
            name: spec.name.clone(),
            state: 'A',
            user_type: 'S',
            created_at: self.now.clone(),
            updated_at: self.now.clone(),
            last_auth_at: None,
            keyset: ct,
            pub_jwk: public.to_jwk(),
            public,
            private: keyset.private_key().clone(),
            sign_in: Some(SignIn {
                kdf: srp_params,
                verifier: srp::verifier(&srp_x),
                sk_format: sk.format().to_owned(),
                sk_id: sk.account_id().to_owned(),
            }),
            totp_secret: None,
            dsecrets: BTreeSet::new(),
            devices: BTreeSet::from([device.clone()]),
        };
        let sa = ServiceAccount {
            srp_x,
            auk,
            secret_key: sk.to_readable(),
            throttle_seed,
            throttle_uuid,
            device,
            permissions: spec.permissions,
            groups: BTreeSet::new(),
        };
        Ok((user, sa))
    }

    fn make(mut self) -> Result<(Account, Vec<Credentials>), BuildError> {
        let mut people = std::mem::take(&mut self.spec.people);
        if !people.iter().any(|p| p.role == Role::Owner) {
            let password = opadmin_crypto::encoding::b64url_encode(&self.entropy.bytes::<12>());
            people.insert(
                0,
                PersonSpec::new(DEFAULT_OWNER_EMAIL, "Account Owner")
                    .role(Role::Owner)
                    .password(password),
            );
        }
        let (n_users, n_groups, n_vaults) = self.spec.synthetic;
        for i in 0..n_users {
            let days = i % 400;
            people.push(
                PersonSpec::new(format!("user{i}@example.com"), format!("User {i}")).last_auth_at(
                    format!("2026-{:02}-{:02}T09:00:00Z", 1 + days % 12, 1 + days % 28),
                ),
            );
        }

        let mut account = Account {
            uuid: self.entropy.uuid(UuidCase::Upper),
            name: self.spec.name.clone(),
            domain: self.entropy.uuid(UuidCase::Lower),
            plan: self.spec.plan,
            created_at: self.now.clone(),
            mfa_enforced: self.spec.mfa_enforced,
            users: BTreeMap::new(),
            emails: HashMap::new(),
            groups: BTreeMap::new(),
            vaults: BTreeMap::new(),
            invitations: Vec::<Invitation>::new(),
            key_pool: self.pool.clone(),
            service_accounts: BTreeMap::new(),
            vanish_after_listing: Default::default(),
        };

        let mut credentials = Vec::new();
        let mut roles = Vec::new();
        for (i, spec) in people.iter().enumerate() {
            let (user, creds) = self.person(spec, i)?;
            if account
                .emails
                .insert(user.email.clone(), user.uuid.clone())
                .is_some()
            {
                return Err(BuildError::DuplicateEmail(user.email));
            }
            credentials.extend(creds);
            roles.push((user.uuid.clone(), spec.role, spec.state));
            account.users.insert(user.uuid.clone(), user);
        }
        let sa_specs = std::mem::take(&mut self.spec.service_accounts);
        let mut sa_ids = Vec::new();
        for (i, spec) in sa_specs.iter().enumerate() {
            let (user, sa) = self.service_account(spec, people.len() + i)?;
            account.emails.insert(user.email.clone(), user.uuid.clone());
            sa_ids.push(user.uuid.clone());
            account.service_accounts.insert(user.uuid.clone(), sa);
            account.users.insert(user.uuid.clone(), user);
        }

        // Built-in groups.
        let owners = self.group(
            "Owners",
            "Access to billing and account administration.",
            'O',
            perm::OWNERS_GROUP,
        );
        let admins = self.group(
            "Administrators",
            "Administration of users, groups, and vaults.",
            'A',
            perm::ADMINS_GROUP,
        );
        let recovery = self.group(
            "Recovery",
            "Can recover accounts.",
            'R',
            perm::RECOVERY_GROUP,
        );
        let team = (!self.spec.legacy_everyone_vault).then(|| {
            self.group(
                "Team Members",
                "Everyone in the team.",
                'M',
                if self.spec.members_cannot_create_vaults {
                    perm::TEAM_MEMBERS_GROUP & !perm::CREATE_VAULT
                } else {
                    perm::TEAM_MEMBERS_GROUP
                },
            )
        });
        let (owners_id, admins_id, recovery_id) = (
            owners.uuid.clone(),
            admins.uuid.clone(),
            recovery.uuid.clone(),
        );
        let team_id = team.as_ref().map(|t| t.uuid.clone());
        for g in [Some(owners), Some(admins), Some(recovery), team]
            .into_iter()
            .flatten()
        {
            account.groups.insert(g.uuid.clone(), g);
        }
        for (uuid, role, state) in &roles {
            // People awaiting confirmation are not yet in Team Members (confirmation adds them).
            let confirmed = *state != PersonState::Pending;
            let mut in_groups: Vec<&String> = Vec::new();
            match role {
                Role::Owner => in_groups.extend([&owners_id, &admins_id, &recovery_id]),
                Role::Administrator => in_groups.push(&admins_id),
                Role::Member | Role::Guest => {}
            }
            if *role != Role::Guest && confirmed {
                in_groups.extend(team_id.as_ref());
            }
            for g in in_groups {
                let role = if matches!(role, Role::Owner | Role::Administrator) {
                    MemberRole::Manager
                } else {
                    MemberRole::Member
                };
                add_member(&mut account, g, uuid, role, &self.now)?;
            }
        }

        // User-defined and synthetic groups.
        let mut group_specs = std::mem::take(&mut self.spec.groups);
        let user_ids: Vec<String> = account.users.keys().cloned().collect();
        let synthetic_people: Vec<String> = (0..n_users)
            .filter_map(|i| account.emails.get(&format!("user{i}@example.com")).cloned())
            .collect();
        let mut synthetic_members: Vec<Vec<String>> = Vec::new();
        for i in 0..n_groups {
            group_specs.push(GroupSpec::new(format!("Group {i}")));
            let members = if synthetic_people.is_empty() {
                Vec::new()
            } else {
                (0..10)
                    .map(|j| synthetic_people[(i * 7 + j * 13) % synthetic_people.len()].clone())
                    .collect()
            };
            synthetic_members.push(members);
        }
        let first_synthetic = group_specs.len() - n_groups;
        let mut group_names: HashMap<String, String> = HashMap::new();
        for (i, spec) in group_specs.iter().enumerate() {
            let group = self.group(&spec.name, &spec.desc, 'U', spec.permissions);
            let uuid = group.uuid.clone();
            group_names.insert(spec.name.clone(), uuid.clone());
            account.groups.insert(uuid.clone(), group);
            for (email, role) in &spec.members {
                let user = account
                    .find_user(email)
                    .ok_or_else(|| BuildError::UnknownPerson(email.clone()))?
                    .uuid
                    .clone();
                add_member(&mut account, &uuid, &user, *role, &self.now)?;
            }
            if i >= first_synthetic {
                for user in &synthetic_members[i - first_synthetic] {
                    add_member(&mut account, &uuid, user, MemberRole::Member, &self.now)?;
                }
            }
        }
        let _ = user_ids;
        for (spec, id) in sa_specs.iter().zip(&sa_ids) {
            for name in &spec.groups {
                let g = group_names
                    .get(name)
                    .ok_or_else(|| BuildError::UnknownGroup(name.clone()))?
                    .clone();
                if let Some(sa) = account.service_accounts.get_mut(id) {
                    sa.groups.insert(g);
                }
            }
            for (vault, _) in &spec.vaults {
                if !self.spec.vaults.iter().any(|v| &v.name == vault) {
                    return Err(BuildError::UnknownVault(vault.clone()));
                }
            }
        }

        // Every group's keyset is also wrapped to the Recovery group (docs/protocol.md 4.4).
        let recovery_public = account.groups[&recovery_id].keyset.public_key().clone();
        for g in account
            .groups
            .values_mut()
            .filter(|g| g.uuid != recovery_id)
        {
            g.recovery_keyset = Some(g.keyset.encrypt_for_member(&recovery_public, 1)?);
        }

        // Vaults.
        let owner_uuid = roles
            .iter()
            .find(|(_, r, _)| *r == Role::Owner)
            .map(|(u, _, _)| u.clone())
            .unwrap_or_default();
        let mut vault_specs = std::mem::take(&mut self.spec.vaults);
        if self.spec.legacy_everyone_vault {
            vault_specs.insert(
                0,
                VaultSpec::new("Everyone").desc("Shared with everyone in the team."),
            );
        }
        let synthetic_groups: Vec<String> = group_specs[first_synthetic..]
            .iter()
            .map(|g| g.name.clone())
            .collect();
        for i in 0..n_vaults {
            let mut v = VaultSpec::new(format!("Vault {i}"));
            if !synthetic_groups.is_empty() {
                v = v.group(
                    synthetic_groups[i % synthetic_groups.len()].clone(),
                    acl::RWE,
                );
            }
            if !synthetic_people.is_empty() {
                for j in 0..2 {
                    let uuid = &synthetic_people[(i * 31 + j * 17) % synthetic_people.len()];
                    v = v.user(account.users[uuid].email.clone(), acl::RWE);
                }
            }
            vault_specs.push(v);
        }
        for (i, spec) in vault_specs.iter().enumerate() {
            let everyone = self.spec.legacy_everyone_vault && i == 0;
            let creator = match &spec.creator {
                Some(email) => account
                    .find_user(email)
                    .ok_or_else(|| BuildError::UnknownPerson(email.clone()))?
                    .uuid
                    .clone(),
                None => owner_uuid.clone(),
            };
            let mut grants: Vec<(bool, String, Acl)> =
                vec![(false, creator, acl::RWE | acl::MANAGE)];
            grants.push((true, owners_id.clone(), acl::MANAGE));
            if !spec.exclude_admins {
                grants.push((true, admins_id.clone(), acl::MANAGE));
            }
            grants.push((true, recovery_id.clone(), acl::RECOVER));
            for (email, a) in &spec.users {
                let u = account
                    .find_user(email)
                    .ok_or_else(|| BuildError::UnknownPerson(email.clone()))?
                    .uuid
                    .clone();
                grants.push((false, u, *a));
            }
            for (sa, id) in sa_specs.iter().zip(&sa_ids) {
                for (_, a) in sa.vaults.iter().filter(|(v, _)| *v == spec.name) {
                    grants.push((false, id.clone(), *a));
                }
            }
            for (name, a) in &spec.groups {
                let g = group_names
                    .get(name)
                    .ok_or_else(|| BuildError::UnknownGroup(name.clone()))?
                    .clone();
                grants.push((true, g, *a));
            }
            if everyone {
                let members: Vec<String> = account
                    .users
                    .values()
                    .filter(|u| u.user_type == 'R' && u.state != 'P')
                    .map(|u| u.uuid.clone())
                    .collect();
                grants.extend(members.into_iter().map(|u| (false, u, acl::RWE)));
            }
            let vault = self.vault(
                &account,
                &spec.name,
                &spec.desc,
                if everyone { 'E' } else { 'U' },
                &grants,
            )?;
            account.vaults.insert(vault.uuid.clone(), vault);
        }
        Ok((account, credentials))
    }

    fn vault(
        &mut self,
        account: &Account,
        name: &str,
        desc: &str,
        vault_type: char,
        grants: &[(bool, String, Acl)],
    ) -> Result<Vault, BuildError> {
        let uuid = self.entropy.uuid(UuidCase::Lower);
        let key = self
            .entropy
            .symmetric_key(self.entropy.uuid(UuidCase::Lower));
        let attrs = serde_json::json!({"name": name, "desc": desc, "avatar": "", "color": "", "type": vault_type.to_string(), "version": 1});
        let enc_attrs = key.encrypt_json(&attrs);
        let mut vault = Vault {
            uuid,
            // The first grant is always the creator's (see `build`).
            creator: grants.first().map(|g| g.1.clone()).unwrap_or_default(),
            name: name.to_owned(),
            vault_type,
            key,
            enc_attrs,
            created_at: self.now.clone(),
            updated_at: self.now.clone(),
            attr_version: 1,
            content_version: 1,
            access_version: 1,
            items: 0,
            users: BTreeMap::new(),
            groups: BTreeMap::new(),
        };
        for (is_group, id, a) in grants {
            let (public, map) = if *is_group {
                (account.groups[id].keyset.public_key(), &mut vault.groups)
            } else {
                (&account.users[id].public, &mut vault.users)
            };
            let enc_vault_key = public.wrap_key(&vault.key)?;
            let entry = map.entry(id.clone()).or_insert(Access {
                acl: Acl::NONE,
                encrypted_by: public.kid().to_owned(),
                enc_vault_key,
            });
            entry.acl |= *a;
        }
        Ok(vault)
    }
}

/// Adds a member to a group, wrapping the group keyset to the member's public key.
pub(crate) fn add_member(
    account: &mut Account,
    group: &str,
    user: &str,
    role: MemberRole,
    now: &str,
) -> Result<(), BuildError> {
    let public = account
        .users
        .get(user)
        .ok_or_else(|| BuildError::UnknownPerson(user.to_owned()))?
        .public
        .clone();
    let g = account
        .groups
        .get_mut(group)
        .ok_or_else(|| BuildError::UnknownGroup(group.to_owned()))?;
    let keyset = g.keyset.encrypt_for_member(&public, 1)?;
    g.members.insert(
        user.to_owned(),
        Member {
            role,
            keyset,
            created_at: now.to_owned(),
        },
    );
    Ok(())
}

/// Whether the wrapped key opens to `expected` with `private`: how the emulator checks what a
/// client wrapped for someone whose private key it holds.
pub(crate) fn opens_to(
    private: &RsaPrivateKey,
    wrapped: &opadmin_crypto::envelope::Envelope,
    expected: &SymmetricKey,
) -> bool {
    private.unwrap_key(wrapped).is_ok_and(|k| &k == expected)
}

//! The in-memory account: users, groups, vaults, invitations, sessions, modelled on the real
//! shapes of `fixtures/b5/get-account-info-response.json`. The emulator keeps every key in the
//! clear (vault keys, group keysets, users' private keys) so that it can check what clients send.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

use opadmin_crypto::envelope::{Envelope, SymmetricKey};
use opadmin_crypto::jwk::Jwk;
use opadmin_crypto::kdf::KdfParams;
use opadmin_crypto::keyset::{Keyset, KeysetCiphertext};
use opadmin_crypto::rsa::{RsaPrivateKey, RsaPublicKey};
use opadmin_crypto::secret::SecretBytes32;

/// A vault access control list: the `acl` bits of an access record (docs/protocol.md 4.2). The
/// named bits the emulator's rules use are in [`acl`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize)]
#[serde(transparent)]
pub struct Acl(u32);

impl Acl {
    /// No bit at all.
    pub const NONE: Acl = Acl(0);

    /// The acl with exactly these bits.
    pub const fn from_bits(bits: u32) -> Self {
        Self(bits)
    }

    /// The bits, as they go on the wire.
    pub const fn bits(self) -> u32 {
        self.0
    }

    /// Whether every bit of `other` is set here.
    pub const fn contains(self, other: Acl) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether any bit of `other` is set here.
    pub const fn intersects(self, other: Acl) -> bool {
        self.0 & other.0 != 0
    }

    /// Whether no bit is set.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl std::ops::BitOr for Acl {
    type Output = Acl;
    fn bitor(self, rhs: Acl) -> Acl {
        Acl(self.0 | rhs.0)
    }
}

impl std::ops::BitOrAssign for Acl {
    fn bitor_assign(&mut self, rhs: Acl) {
        self.0 |= rhs.0;
    }
}

impl std::ops::BitAnd for Acl {
    type Output = Acl;
    fn bitand(self, rhs: Acl) -> Acl {
        Acl(self.0 & rhs.0)
    }
}

impl From<u32> for Acl {
    fn from(bits: u32) -> Self {
        Self(bits)
    }
}

impl From<Acl> for u32 {
    fn from(acl: Acl) -> Self {
        acl.0
    }
}

impl From<Acl> for u64 {
    fn from(acl: Acl) -> Self {
        u64::from(acl.0)
    }
}

/// The named vault acl bits the emulator's rules use (docs/protocol.md 4.2), as [`Acl`] values
/// (combine them with `|`: `acl::RWE | acl::MANAGE`).
pub mod acl {
    use super::Acl;

    /// Recover.
    pub const RECOVER: Acl = Acl::from_bits(1);
    /// Manage (grant and revoke access).
    pub const MANAGE: Acl = Acl::from_bits(2);
    /// Read, write and export (the default grant).
    pub const RWE: Acl = Acl::from_bits(15_730_672);
    /// Everything.
    pub const ALL: Acl = Acl::from_bits(2_147_483_646);
}

/// A person's state, with its one-letter wire form (the `state` of a b5 person object, as
/// 1Password's web client models it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PersonState {
    /// `R`: registered, not yet verified.
    Registered,
    /// `V`: verified, sign-up not finished.
    VerifiedIncomplete,
    /// `P`: accepted an invitation, awaiting confirmation by an administrator.
    Pending,
    /// `A`: active.
    Active,
    /// `S`: suspended.
    Suspended,
    /// `D`: deleted.
    Deleted,
    /// `1`: account recovery started.
    RecoveryStarted,
    /// `2`: account recovery accepted.
    RecoveryAccepted,
    /// `T`: provisioned (for example over SCIM), has not set up the account yet.
    ProvisionPending,
    /// `3`: provisioning started.
    ProvisionStarted,
    /// `4`: provisioning accepted.
    ProvisionAccepted,
}

impl PersonState {
    /// Every state.
    pub const ALL: [PersonState; 11] = [
        Self::Registered,
        Self::VerifiedIncomplete,
        Self::Pending,
        Self::Active,
        Self::Suspended,
        Self::Deleted,
        Self::RecoveryStarted,
        Self::RecoveryAccepted,
        Self::ProvisionPending,
        Self::ProvisionStarted,
        Self::ProvisionAccepted,
    ];

    /// The wire letter.
    pub const fn letter(self) -> char {
        match self {
            Self::Registered => 'R',
            Self::VerifiedIncomplete => 'V',
            Self::Pending => 'P',
            Self::Active => 'A',
            Self::Suspended => 'S',
            Self::Deleted => 'D',
            Self::RecoveryStarted => '1',
            Self::RecoveryAccepted => '2',
            Self::ProvisionPending => 'T',
            Self::ProvisionStarted => '3',
            Self::ProvisionAccepted => '4',
        }
    }

    /// The state a wire letter names, if any.
    pub fn from_letter(letter: char) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.letter() == letter)
    }
}

/// A person's role in a group, with its one-letter wire form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MemberRole {
    /// `A`: a group manager, who may change the group's members.
    Manager,
    /// `R`: a member.
    Member,
}

impl MemberRole {
    /// The wire letter.
    pub const fn letter(self) -> char {
        match self {
            Self::Manager => 'A',
            Self::Member => 'R',
        }
    }

    /// The role a wire letter names, if any.
    pub fn from_letter(letter: char) -> Option<Self> {
        match letter {
            'A' => Some(Self::Manager),
            'R' => Some(Self::Member),
            _ => None,
        }
    }
}

/// Account permission bits (`combinedPermissions`, group `permissions`; docs/protocol.md 4.3).
pub mod perm {
    /// Member of Team Members.
    pub const TEAM_MEMBERS: u64 = 0x1;
    /// Member of Owners.
    pub const OWNERS: u64 = 0x2;
    /// Member of Administrators.
    pub const ADMINS: u64 = 0x4;
    /// Member of Recovery.
    pub const RECOVERY: u64 = 0x8;
    /// Member of a user-defined group.
    pub const USER_DEFINED: u64 = 0x10;
    /// See every person.
    pub const VIEW_PEOPLE: u64 = 0x1000;
    /// Invite and confirm people.
    pub const ADD_PERSON: u64 = 0x2000;
    /// Suspend and reactivate people.
    pub const SUSPEND_PERSON: u64 = 0x8000;
    /// Delete people.
    pub const DELETE_PERSON: u64 = 0x10000;
    /// Create shared vaults.
    pub const CREATE_VAULT: u64 = 0x8_0000;
    /// See every group.
    pub const VIEW_GROUPS: u64 = 0x40_0000;
    /// Change every group.
    pub const MANAGE_GROUPS: u64 = 0x80_0000;
    /// Owners: every permission bit from 0x100 to 0x800000000 (fixture: 68719476482).
    pub const OWNERS_GROUP: u64 = 0xF_FFFF_FF02;
    /// Administrators: as Owners but without billing, suspending and deleting the account.
    pub const ADMINS_GROUP: u64 = (0xF_FFFF_FF00 & !0x8000_0000 & !0x3000_0000) | ADMINS;
    /// Team Members: use a personal vault, create vaults.
    pub const TEAM_MEMBERS_GROUP: u64 = TEAM_MEMBERS | 0x4_0000 | CREATE_VAULT;
    /// Recovery group.
    pub const RECOVERY_GROUP: u64 = RECOVERY | 0x100;
    /// A user-defined group.
    pub const USER_DEFINED_GROUP: u64 = USER_DEFINED;
}

/// The plan of an account. Both are account type `B`; the tier name tells them apart
/// (docs/decisions.md, decision 9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Plan {
    /// 1Password Business: invitations allowed.
    #[default]
    Business,
    /// 1Password Teams: no invitations over this API.
    Teams,
}

impl Plan {
    /// The tier name the emulator reports.
    pub fn tier_name(self) -> &'static str {
        match self {
            Self::Business => "business",
            Self::Teams => "teams",
        }
    }
}

/// What a person needs to sign in to the emulated account. `Debug` shows only the email.
#[derive(Clone)]
pub struct Credentials {
    /// Sign-in email.
    pub email: String,
    /// Account password.
    pub password: String,
    /// Secret Key, readable form.
    pub secret_key: String,
    /// TOTP secret (base32) when this person has a second factor.
    pub totp_secret: Option<String>,
    /// The user's uuid.
    pub user_uuid: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("email", &self.email)
            .finish_non_exhaustive()
    }
}

/// What the server stores to check a sign-in: SRP parameters and verifier, the Secret Key id.
#[derive(Clone)]
pub(crate) struct SignIn {
    pub kdf: KdfParams,
    pub verifier: Vec<u8>,
    pub sk_format: String,
    pub sk_id: String,
}

#[derive(Clone)]
pub(crate) struct User {
    pub uuid: String,
    pub email: String,
    pub name: String,
    pub state: char,
    pub user_type: char,
    pub created_at: String,
    pub updated_at: String,
    pub last_auth_at: Option<String>,
    pub keyset: KeysetCiphertext,
    pub public: RsaPublicKey,
    pub pub_jwk: Jwk,
    pub private: RsaPrivateKey,
    pub sign_in: Option<SignIn>,
    pub totp_secret: Option<String>,
    pub dsecrets: BTreeSet<String>,
    pub devices: BTreeSet<String>,
}

#[derive(Clone)]
pub(crate) struct Member {
    pub role: MemberRole,
    pub keyset: KeysetCiphertext,
    pub created_at: String,
}

#[derive(Clone)]
pub(crate) struct Group {
    pub uuid: String,
    pub name: String,
    pub desc: String,
    pub group_type: char,
    pub permissions: u64,
    pub keyset: Keyset,
    pub pub_jwk: Jwk,
    pub created_at: String,
    pub updated_at: String,
    pub attr_version: u64,
    pub members: BTreeMap<String, Member>,
    /// This group's keyset wrapped to the Recovery group's keyset, so that members of Recovery
    /// (owners) can open any group's keys.
    pub recovery_keyset: Option<KeysetCiphertext>,
}

#[derive(Clone)]
pub(crate) struct Access {
    pub acl: Acl,
    pub enc_vault_key: Envelope,
    pub encrypted_by: String,
}

#[derive(Clone)]
pub(crate) struct Vault {
    pub uuid: String,
    /// The user who created it (a service account may delete only the vaults it created).
    pub creator: String,
    pub name: String,
    pub vault_type: char,
    pub key: SymmetricKey,
    pub enc_attrs: Envelope,
    pub created_at: String,
    pub updated_at: String,
    pub attr_version: u64,
    pub content_version: u64,
    pub access_version: u64,
    pub items: u64,
    pub users: BTreeMap<String, Access>,
    pub groups: BTreeMap<String, Access>,
}

#[derive(Clone)]
pub(crate) struct Invitation {
    pub uuid: String,
    pub email: String,
    pub invite_type: char,
    pub state: char,
    pub vaults: Vec<(String, Acl)>,
    pub sent_at: String,
    pub token: String,
    /// The person who accepted it.
    pub user: Option<String>,
    /// How many times it was resent.
    pub resent: u32,
}

/// What the server keeps about a service account (a user of type `S`) beyond its [`User`]
/// record: the material its `ops_` token carries, and what it may see. `Debug` is not derived:
/// everything here but the lists is secret.
///
/// Decision (one place, see `crate::service_account`): the emulator stores the SRP `x` and the
/// AUK themselves, random, instead of deriving them from a password: a service account has no
/// password anyone knows, and its token carries exactly these two values (docs/protocol.md 3.8).
/// The verifier in the user's [`SignIn`] is `g^x`, and the keyset is encrypted with the AUK, as
/// for people.
#[derive(Clone)]
pub(crate) struct ServiceAccount {
    /// SRP `x` (the token's `srpX`).
    pub srp_x: SecretBytes32,
    /// The Account Unlock Key, kid `mp` (the token's `muk`).
    pub auk: SymmetricKey,
    /// The Secret Key, readable form (the token's `secretKey`).
    pub secret_key: String,
    /// `throttleSecret.seed`.
    pub throttle_seed: [u8; 32],
    /// `throttleSecret.uuid`.
    pub throttle_uuid: String,
    /// The registered device the token names (`deviceUuid`).
    pub device: String,
    /// Account permission bits held directly (service accounts are in no group).
    pub permissions: u64,
    /// Groups it may see (to grant them access to vaults it manages), by uuid.
    pub groups: BTreeSet<String>,
}

/// The emulated account.
#[derive(Clone)]
pub(crate) struct Account {
    pub uuid: String,
    pub name: String,
    pub domain: String,
    pub plan: Plan,
    pub created_at: String,
    pub mfa_enforced: bool,
    pub users: BTreeMap<String, User>,
    pub emails: HashMap<String, String>,
    pub groups: BTreeMap<String, Group>,
    pub vaults: BTreeMap<String, Vault>,
    pub invitations: Vec<Invitation>,
    pub key_pool: Vec<RsaPrivateKey>,
    /// Service accounts by user uuid (their `User` records are in `users`, type `S`).
    pub service_accounts: BTreeMap<String, ServiceAccount>,
    /// Test hook: vaults deleted right after the next vault listing is answered (a vault that
    /// disappears between a client's listing and its read).
    pub vanish_after_listing: BTreeSet<String>,
}

impl Account {
    /// A user by uuid or (case-insensitive) email.
    pub fn find_user(&self, id: &str) -> Option<&User> {
        self.users.get(id).or_else(|| {
            self.emails
                .get(&id.trim().to_lowercase())
                .and_then(|u| self.users.get(u))
        })
    }

    /// The uuids of the groups a user is an active member of.
    pub fn groups_of(&self, user: &str) -> Vec<&Group> {
        self.groups
            .values()
            .filter(|g| g.members.contains_key(user))
            .collect()
    }

    /// The account permissions of a user (the union over its groups, and a service account's
    /// own bits).
    pub fn permissions_of(&self, user: &str) -> u64 {
        let own = self.service_accounts.get(user).map_or(0, |s| s.permissions);
        self.groups_of(user)
            .iter()
            .fold(own, |acc, g| acc | g.permissions)
    }

    /// Whether a user is a service account (type `S`).
    pub fn is_service_account(&self, user: &str) -> bool {
        self.users.get(user).is_some_and(|u| u.user_type == 'S')
    }

    /// Every member's account permissions, computed in one pass over the groups.
    pub fn permission_map(&self) -> HashMap<&str, u64> {
        let mut map: HashMap<&str, u64> = HashMap::new();
        for g in self.groups.values() {
            for u in g.members.keys() {
                *map.entry(u.as_str()).or_default() |= g.permissions;
            }
        }
        for (u, sa) in &self.service_accounts {
            *map.entry(u.as_str()).or_default() |= sa.permissions;
        }
        map
    }

    /// Whether a user holds an account permission.
    pub fn may(&self, user: &str, bit: u64) -> bool {
        self.permissions_of(user) & bit == bit
    }

    /// A user's effective acl on a vault: the union of the direct grant and its groups' grants.
    pub fn effective_acl(&self, vault: &Vault, user: &str) -> Acl {
        let direct = vault.users.get(user).map_or(Acl::NONE, |a| a.acl);
        vault
            .groups
            .iter()
            .filter(|(g, _)| {
                self.groups
                    .get(*g)
                    .is_some_and(|g| g.members.contains_key(user))
            })
            .fold(direct, |acc, (_, a)| acc | a.acl)
    }

    /// Whether a user has any access to a vault (and so sees it).
    pub fn sees_vault(&self, vault: &Vault, user: &str) -> bool {
        vault.users.contains_key(user)
            || vault.groups.keys().any(|g| {
                self.groups
                    .get(g)
                    .is_some_and(|g| g.members.contains_key(user))
            })
    }

    /// Whether a user sees a group: members, holders of View/Manage Groups (docs/protocol.md
    /// docs/decisions.md, decision 7), and a service account the group was shown to (see
    /// `crate::service_account` for that decision).
    pub fn sees_group(&self, group: &Group, user: &str) -> bool {
        group.members.contains_key(user)
            || self.permissions_of(user) & (perm::MANAGE_GROUPS | perm::VIEW_GROUPS) != 0
            || self
                .service_accounts
                .get(user)
                .is_some_and(|s| s.groups.contains(&group.uuid))
    }

    /// The Team Members group, if the account has one (older accounts use an Everyone vault).
    pub fn team_members_group(&self) -> Option<&Group> {
        self.groups.values().find(|g| g.group_type == 'M')
    }
}

/// Current time as RFC 3339, seconds precision.
pub(crate) fn now_rfc3339() -> String {
    let now = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or_else(|_| time::OffsetDateTime::now_utc());
    now.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_and_role_letters_round_trip_and_are_distinct() {
        let letters: BTreeSet<char> = PersonState::ALL.iter().map(|s| s.letter()).collect();
        assert_eq!(letters.len(), PersonState::ALL.len());
        for state in PersonState::ALL {
            assert_eq!(PersonState::from_letter(state.letter()), Some(state));
        }
        assert_eq!(PersonState::from_letter('x'), None);
        for role in [MemberRole::Manager, MemberRole::Member] {
            assert_eq!(MemberRole::from_letter(role.letter()), Some(role));
        }
        assert_eq!(MemberRole::from_letter('P'), None);
    }

    #[test]
    fn acl_bit_operations() {
        let granted = acl::RWE | acl::MANAGE;
        assert_eq!(granted.bits(), 15_730_674);
        assert!(granted.contains(acl::MANAGE) && granted.contains(acl::RWE));
        assert!(!granted.contains(acl::RECOVER));
        assert!(!granted.contains(acl::ALL));
        assert!(granted.intersects(acl::MANAGE | acl::RECOVER));
        assert!(!acl::RWE.intersects(acl::MANAGE | acl::RECOVER));
        assert_eq!(granted & acl::MANAGE, acl::MANAGE);
        assert!((acl::RWE & acl::MANAGE).is_empty());
        let mut grown = Acl::NONE;
        grown |= acl::RECOVER;
        assert_eq!(u32::from(grown), 1);
        assert_eq!(serde_json::to_value(granted).unwrap(), 15_730_674);
    }
}

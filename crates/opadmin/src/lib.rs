//! # opadmin
//!
//! Administer 1Password accounts from Rust, speaking 1Password's own protocol: sign in as an
//! administrator (email, account password, Secret Key; TOTP if the account asks), or as a
//! service account with its `ops_` token ([`AdminBuilder::service_account_token`]), then
//!
//! * [`Admin::sync`]: every person with state and last sign-in, every group with members, every
//!   vault with its name and who has access, directly or through which groups;
//! * people: [`Admin::invite`] (Business only), [`Admin::confirm`],
//!   [`Admin::confirm_all_pending`], [`Admin::suspend`], [`Admin::reactivate`], [`Admin::remove`];
//! * vault access with the group-aware rules: [`Admin::grant_vault_access`] answers
//!   [`GrantOutcome::Granted`], [`GrantOutcome::AlreadyDirect`] or
//!   [`GrantOutcome::CoveredByGroups`]; [`Admin::revoke_vault_access`] answers
//!   [`RevokeOutcome::Revoked`] (with the access that remains through groups) or
//!   [`RevokeOutcome::NoDirectAccess`]; without Manage Vault, [`Error::NoManageVaultPermission`];
//! * groups: [`Admin::add_to_group`], [`Admin::remove_from_group`], [`Admin::set_group_role`];
//! * without a full sync: [`Admin::vaults`], [`Admin::vault_accessors`], [`Admin::group`];
//! * a service account may list vaults, read their accessors, read the groups it sees and grant
//!   or revoke groups' access to vaults it manages; everything about people and group membership
//!   is [`Error::NotPermittedForServiceAccount`] before anything is sent;
//! * [`Admin::bulk`] for many targets with bounded concurrency;
//! * plans ([`plan`]): [`Admin::plan`] shows what changes would do without sending anything,
//!   [`Admin::reconcile`] plans the way to a [`plan::DesiredState`] (TOML or JSON), and
//!   [`Admin::apply`] carries a plan out, refusing or re-planning when the account changed;
//! * the [`Directory`] trait for connectors that want to swap backends or test doubles; with the
//!   default feature `scim`, [`ScimDirectory`] is the second backend (1Password's SCIM bridge).
//!
//! ```
//! # #[tokio::main(flavor = "multi_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let emulator = opadmin_emulator::Emulator::start(Default::default(),
//! #     opadmin_emulator::demo_account().iterations(100_000)).await?;
//! # let (address, owner) = (emulator.address(), emulator.owner().clone());
//! # let (email, password, secret_key) = (owner.email, owner.password, owner.secret_key);
//! use opadmin::{Admin, GrantOutcome, VaultPermissions};
//!
//! let admin = Admin::builder()
//!     .address(address) // "my.1password.com" for a real account
//!     .credentials(email, password, secret_key)
//!     .build()
//!     .await?;
//!
//! let snapshot = admin.sync().await?;
//! for user in &snapshot.users {
//!     println!("{:<28} {:<10} {:?}", user.email, user.state, user.last_sign_in);
//! }
//!
//! let vault = snapshot.vault_by_name("Engineering").expect("vault").id.clone();
//! let outcome = admin.grant_vault_access(&vault, "alice@acme.example", VaultPermissions::RWE).await?;
//! assert!(matches!(outcome, GrantOutcome::CoveredByGroups { .. })); // Alice is in Engineering
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod admin;
mod directory;
mod keys;
pub mod plan;

// The shared vocabulary, under the paths the facade's modules use.
use opadmin_directory as error;
use opadmin_directory as model;

pub use admin::{Admin, AdminBuilder, DEFAULT_CONCURRENCY};
/// A remember-this-device token: zeroized on drop, redacted in `Debug`
/// ([`Admin::remember_token`], [`AdminBuilder::remember_token`]).
pub use opadmin_api::auth::DeviceSecret as RememberToken;
/// The exact message of [`Error::NoManageVaultPermission`], as integrators already document it.
pub use opadmin_api::error::NO_MANAGE_VAULT_MESSAGE;
/// The second-factor challenge an [`AdminBuilder::mfa_callback`] receives.
pub use opadmin_api::models::MfaChallenge;
/// Transport settings for [`AdminBuilder::transport`] (timeouts, retries, answer size cap).
pub use opadmin_api::transport::{RetryPolicy, TransportConfig};
pub use opadmin_api::types::{
    GroupId, GroupRole, GroupType, Plan, UserId, UserState, UserType, VaultId, VaultPermissions,
    VaultType,
};
pub use opadmin_directory::{
    Accessor, AccountInfo, BulkResult, Capabilities, Changes, Directory, Error, GrantOutcome,
    Group, GroupGrant, GroupMember, GroupPermissionUpdate, GroupPermissionsOutcome, Invitation,
    ItemChanges, MembershipOutcome, PendingInvitation, PermissionChange, Result, RevokeOutcome,
    SkipReason, SkippedItem, SkippedKind, Snapshot, User, UserAccess, UserRef, Vault, VaultOutcome,
    VaultSummary, VaultUpdate,
};
/// The SCIM bridge backend (crate `opadmin-scim`, feature `scim`, on by default): its client, wire
/// models and [`ScimDirectory`].
#[cfg(feature = "scim")]
pub use opadmin_scim as scim;
#[cfg(feature = "scim")]
pub use opadmin_scim::{ScimClient, ScimDirectory};

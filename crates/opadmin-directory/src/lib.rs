//! # opadmin-directory
//!
//! The backend-neutral vocabulary of opadmin: what any backend reports (people, groups, vaults,
//! who has access and why, a whole-account [`Snapshot`]), the typed outcomes of every action
//! ([`GrantOutcome`], [`RevokeOutcome`], [`MembershipOutcome`], [`BulkResult`]), the one
//! [`Error`] type with its causes, and the [`Directory`] trait that both backends implement:
//! the b5 protocol (`opadmin::Admin`) and 1Password's SCIM bridge
//! (`opadmin_scim::ScimDirectory`).
//!
//! Applications normally depend on `opadmin`, which re-exports everything here. This crate exists
//! so that the SCIM backend can live in its own crate without depending on the b5 facade.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod directory;
mod error;
mod model;

pub use directory::{Capabilities, Directory};
pub use error::{Error, Result};
pub use model::{
    Accessor, AccountInfo, BulkResult, Changes, GrantOutcome, Group, GroupGrant, GroupMember,
    GroupPermissionUpdate, GroupPermissionsOutcome, Invitation, ItemChanges, MembershipOutcome,
    PendingInvitation, PermissionChange, RevokeOutcome, SkipReason, SkippedItem, SkippedKind,
    Snapshot, User, UserAccess, UserRef, Vault, VaultOutcome, VaultSummary, VaultUpdate,
};
pub use opadmin_api::types::{
    GroupId, GroupRole, GroupType, Plan, UserId, UserState, UserType, VaultId, VaultPermissions,
    VaultType,
};

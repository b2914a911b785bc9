//! `opadmin-api`: the typed 1Password b5 API.
//!
//! This crate holds the parts of the API that need no network:
//!
//! * [`models`]: serde wire models of every object a client sends or reads (PROTOCOL.md
//!   sections 3 and 4), one module per area (`auth`, `account`, `user`, `group`, `vault`,
//!   `invite`, `common`). Encrypted values are [`opadmin_crypto::envelope::Envelope`]s.
//! * [`types`]: domain types with meaning instead of wire letters ([`types::UserState`],
//!   [`types::GroupType`], ...), typed ids ([`types::UserId`], [`types::GroupId`],
//!   [`types::VaultId`]) and [`types::VaultPermissions`] with both permission vocabularies and
//!   their dependency rules.
//! * [`access`]: the group-aware grant and revoke rules as pure functions
//!   ([`access::plan_grant`], [`access::plan_revoke`], [`access::can_manage_vault`]).
//! * [`error`]: the error taxonomy ([`ApiError`]) and the mapping of server error answers to it
//!   ([`ApiError::from_response`]).
//!
//! The transport (HTTP, session encryption, MAC, retries), sign-in and one module per resource
//! are added beside these as further modules.
//!
//! ```
//! use opadmin_api::access::{plan_grant, Accessor, GrantPlan};
//! use opadmin_api::types::{GroupId, UserId, VaultPermissions};
//!
//! // A vault shared with the "eng" group; Alice is in "eng".
//! let accessors = [Accessor::Group(GroupId::new("eng"), VaultPermissions::RWE)];
//! let alice = UserId::new("ALICE");
//! let requested: VaultPermissions = "edit_items".parse()?;
//! let plan = plan_grant(&accessors, &alice, &[GroupId::new("eng")], requested)?;
//! assert!(matches!(plan, GrantPlan::CoveredByGroups { .. }));
//!
//! // Bob is in no group: he gets edit_items and what it needs.
//! let plan = plan_grant(&accessors, &UserId::new("BOB"), &[], requested)?;
//! assert_eq!(plan.permissions_to_grant().map(|p| p.to_string()).as_deref(),
//!            Some("view_items,edit_items,view_and_copy_passwords"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod access;
pub mod error;
pub mod models;
pub mod types;

pub use error::{ApiError, Result};

//! `opadmin-api`: the typed 1Password b5 API.
//!
//! Signing in and calling the account:
//!
//! * [`auth`]: [`auth::Credentials`], [`auth::SignInOptions`] (SRP v1/v2, device uuid, TOTP
//!   secret, code callback, remember-this-device token) and [`auth::sign_in`] (or
//!   [`auth::sign_in_service_account`] with a [`service_account::ServiceAccountToken`]), which
//!   returns a
//!   [`auth::SignedIn`]: the signed-in [`Client`], the user's
//!   [`Keyring`](opadmin_crypto::keyset::Keyring), account, user and device uuids, and any new
//!   remember-this-device token.
//! * [`Client`] methods, one module per resource: [`account`], [`users`], [`groups`],
//!   [`vaults`], [`invites`], [`people`], [`reports`]; session upkeep in [`client`].
//!   Listings return lazy [`Pages`].
//! * [`transport`]: the one HTTP client factory, headers, session encryption and request MAC,
//!   bounded retries with jitter, and the transparent sign-in again on session expiry;
//!   [`endpoints`]: every endpoint, and which calls are idempotent.
//!
//! And the parts that need no network:
//!
//! * [`models`]: serde wire models of every object a client sends or reads (docs/protocol.md
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
//! ```no_run
//! use opadmin_api::auth::{sign_in, Credentials, SignInOptions};
//! use opadmin_api::users::UserFilter;
//! use opadmin_api::types::UserState;
//!
//! # async fn demo() -> opadmin_api::Result<()> {
//! let credentials = Credentials::parse(
//!     "my.1password.com", "admin@example.com", "account password",
//!     "A3-ASWWYB-798JRY-LJVD4-23DC2-86TVM-H43EB",
//! )?;
//! let signed_in = sign_in(credentials, SignInOptions::default()).await?;
//! let client = &signed_in.client;
//! let suspended = client
//!     .users(&UserFilter::new().states([UserState::Suspended]))
//!     .collect_all()
//!     .await?;
//! client.reactivate_people(&suspended.iter().map(|u| u.uuid.clone()).collect::<Vec<_>>()).await?;
//! for vault in client.vaults().collect_all().await? {
//!     println!("{} {:?}", vault.uuid, vault.combined_access.map(|a| a.acl));
//! }
//! client.sign_out().await?;
//! # Ok(()) }
//! ```
//!
//! The access rules alone:
//!
//! ```
//! use opadmin_api::access::{plan_grant, Accessor, GrantPlan};
//! use opadmin_api::types::{GroupId, UserId, VaultPermissions};
//!
//! // A vault shared with the "eng" group; Alice is in "eng".
//! let accessors = [Accessor::group(GroupId::new("eng"), VaultPermissions::RWE)];
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
pub mod account;
mod answer;
pub mod auth;
pub mod client;
pub mod concurrency;
pub mod endpoints;
pub mod error;
pub mod groups;
pub mod http;
pub mod invites;
pub mod models;
pub mod pages;
pub mod people;
pub mod reports;
pub mod service_account;
pub mod transport;
pub mod types;
pub mod users;
pub mod vaults;

pub use client::Client;
pub use error::{ApiError, Result};
pub use pages::Pages;

//! Wire models: the JSON objects a client sends and reads (docs/protocol.md sections 3 and 4),
//! serde-ready with the server's field names.
//!
//! Conventions:
//! * field names are camelCase on the wire, with the server's own exceptions spelled out
//!   (`sessionID`, `vaultKeySN`, `userUUIDs`, `hasMFAEnabled`, `vaultaccess`, ...);
//! * unknown fields are ignored when reading; optional fields are `Option` and left out when
//!   writing, except where the official client requires the key (documented on the field);
//! * every encrypted value is an [`Envelope`](opadmin_crypto::envelope::Envelope), public keys
//!   are [`Jwk`](opadmin_crypto::jwk::Jwk)s, keysets are
//!   [`KeysetCiphertext`](opadmin_crypto::keyset::KeysetCiphertext)s;
//! * timestamps stay `String` (RFC 3339 as sent, including the server's `0001-01-01T00:00:00Z`);
//!   read them with [`parse_timestamp`](crate::types::parse_timestamp);
//! * letters become types from [`crate::types`], ids become [`UserId`](crate::types::UserId),
//!   [`GroupId`](crate::types::GroupId), [`VaultId`](crate::types::VaultId), acls become
//!   [`VaultPermissions`](crate::types::VaultPermissions).

pub mod account;
pub mod auth;
pub mod common;
pub mod group;
pub mod invite;
pub mod user;
pub mod vault;

pub use account::{Account, Counts, KeysetsResponse, Tier};
pub use auth::{
    CodeChallenge, CompleteRequest, CompleteResponse, ConfirmKeyRequest, ConfirmKeyResponse,
    Device, DuoChallenge, MfaChallenge, MfaCode, MfaDsecret, MfaDsecretProxy, MfaDuo, MfaEnabled,
    MfaSubmitRequest, MfaSubmitResponse, MfaWebAuthn, MustEnableChallenge, SrpV1Request,
    SrpV1Response, SrpV2Request, SrpV2Response, StartAuthRequest, StartAuthResponse,
    StartAuthStatus, TotpChallenge, UserAuth, VerifyRequest, VerifyResponse, WebAuthnChallenge,
};
pub use common::{PublicKeyEntry, ServerErrorBody, SuccessResponse, UuidsBody};
pub use group::{
    Group, GroupAddition, GroupMembership, GroupMembershipPatch, MemberAddition,
    UserMembershipPatch,
};
pub use invite::{InvitationDetails, Invite, InviteRequest, InviteVault};
pub use user::{
    ConfirmPeopleRequest, DeletePersonRequest, Person, RenamePersonRequest, UserList, UserReport,
    UserReportOverview,
};
pub use vault::{
    AccessorType, CreateVaultPreflight, CreateVaultRequest, DeleteVaultPreflight, GroupVaultAcl,
    UpdateVaultAttrsRequest, Vault, VaultAccess, VaultAccessBody, VaultAttributes,
};

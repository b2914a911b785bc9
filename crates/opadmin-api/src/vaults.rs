//! Vaults: listing, one vault with its accessors, and the access changes (grant, revoke,
//! change permissions).
//!
//! Access changes answer plain `{"success": 1}`. A refusal for lack of the Manage Vault
//! permission (HTTP 403, error 101; docs/decisions.md, decision 8) is
//! [`ApiError::NoManageVaultPermission`].

use futures::FutureExt;

use crate::client::Client;
use crate::endpoints::{
    VAULT, VAULT_ACCESS_GRANT, VAULT_ACL_GROUP, VAULT_ACL_USER, VAULT_REVOKE_GROUP,
    VAULT_REVOKE_USER, VAULTS,
};
use crate::error::{ApiError, Result};
use crate::models::{Vault, VaultAccess, VaultAccessBody};
use crate::pages::Pages;
use crate::transport::Request;
use crate::types::{GroupId, UserId, VaultId, VaultPermissions};

/// The `attrs` [`Client::vault`] asks for.
pub const VAULT_ATTRS: &str = "accessors,combined-access";

/// Maps the errors of a vault-access change.
fn access_error(vault: &VaultId, error: ApiError) -> ApiError {
    match error {
        ApiError::PermissionDenied {
            code: Some(101), ..
        } => ApiError::NoManageVaultPermission,
        other => other.with_subject(format!("vault {vault}")),
    }
}

impl Client {
    /// The vaults the signed-in user has any access to, each with its `combinedAccess` (the
    /// user's effective access record), from `GET /api/v1/vaults?attrs=combined-access`. One
    /// page: the server answers every vault at once.
    pub fn vaults(&self) -> Pages<Vault> {
        let client = self.clone();
        Pages::single(Box::new(move || {
            async move {
                client
                    .fetch(Request::new(VAULTS, &[]).query("attrs", "combined-access"))
                    .await
            }
            .boxed()
        }))
    }

    /// `GET /api/v3/vault/{uuid}?attrs=accessors,combined-access`: the vault with every
    /// accessor's record in `access`.
    pub async fn vault(&self, uuid: &VaultId) -> Result<Vault> {
        self.fetch(Request::new(VAULT, &[uuid.as_str()]).query("attrs", VAULT_ATTRS))
            .await
            .map_err(|e| e.with_subject(format!("vault {uuid}")))
    }

    /// `PATCH /api/v2/vault/{uuid}/vaultaccess {"vaultaccess": […]}`: gives users or groups
    /// access, each record carrying the vault key wrapped to the accessor's public key. Not
    /// retried once sent.
    pub async fn grant_vault_access(&self, vault: &VaultId, records: &[VaultAccess]) -> Result<()> {
        let body = VaultAccessBody {
            vault_access: records.to_vec(),
        };
        self.write(Request::new(VAULT_ACCESS_GRANT, &[vault.as_str()]).body(&body)?)
            .await
            .map_err(|e| access_error(vault, e))
    }

    /// `DELETE /api/v1/vault/{vault}/person/{user}`: removes a user's direct access.
    pub async fn revoke_user_vault_access(&self, vault: &VaultId, user: &UserId) -> Result<()> {
        self.write(Request::new(
            VAULT_REVOKE_USER,
            &[vault.as_str(), user.as_str()],
        ))
        .await
        .map_err(|e| access_error(vault, e))
    }

    /// `DELETE /api/v1/vault/{vault}/group/{group}`: removes a group's access.
    pub async fn revoke_group_vault_access(&self, vault: &VaultId, group: &GroupId) -> Result<()> {
        self.write(Request::new(
            VAULT_REVOKE_GROUP,
            &[vault.as_str(), group.as_str()],
        ))
        .await
        .map_err(|e| access_error(vault, e))
    }

    /// `PATCH /api/v1/acl/person/{vault}/{user}/{acl}`: sets a user's permissions on a vault
    /// (exactly `acl`; add dependent permissions beforehand with
    /// [`VaultPermissions::with_dependencies`]).
    pub async fn set_user_vault_permissions(
        &self,
        vault: &VaultId,
        user: &UserId,
        acl: VaultPermissions,
    ) -> Result<()> {
        let acl = acl.bits().to_string();
        self.write(Request::new(
            VAULT_ACL_USER,
            &[vault.as_str(), user.as_str(), &acl],
        ))
        .await
        .map_err(|e| access_error(vault, e))
    }

    /// `PATCH /api/v1/acl/group/{vault}/{group}/{acl}`: sets a group's permissions on a vault.
    pub async fn set_group_vault_permissions(
        &self,
        vault: &VaultId,
        group: &GroupId,
        acl: VaultPermissions,
    ) -> Result<()> {
        let acl = acl.bits().to_string();
        self.write(Request::new(
            VAULT_ACL_GROUP,
            &[vault.as_str(), group.as_str(), &acl],
        ))
        .await
        .map_err(|e| access_error(vault, e))
    }
}

//! Vaults: listing, one vault with its accessors, the access changes (grant, revoke, change
//! permissions, many groups' permissions at once) and the vault lifecycle (creation preflight,
//! create, new attributes, delete).
//!
//! Access changes answer plain `{"success": 1}`. A refusal for lack of the Manage Vault
//! permission (HTTP 403, error 101; docs/decisions.md, decision 8) is
//! [`ApiError::NoManageVaultPermission`].

use futures::FutureExt;

use crate::client::Client;
use crate::endpoints::{
    GROUP_VAULT_ACLS, VAULT, VAULT_ACCESS_GRANT, VAULT_ACL_GROUP, VAULT_ACL_USER, VAULT_CREATE,
    VAULT_CREATE_PREFLIGHT, VAULT_DELETE, VAULT_DELETE_PREFLIGHT, VAULT_REVOKE_GROUP,
    VAULT_REVOKE_USER, VAULT_UPDATE_ATTRS, VAULTS,
};
use crate::error::{ApiError, Result};
use crate::models::{
    CreateVaultPreflight, CreateVaultRequest, DeleteVaultPreflight, GroupVaultAcl,
    UpdateVaultAttrsRequest, Vault, VaultAccess, VaultAccessBody,
};
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

    /// `PATCH /api/v2/acl/groups`: sets many groups' permissions on vaults they already have
    /// access to, all at once (the server applies all or none). Needs Manage on every vault
    /// named.
    pub async fn set_group_vault_permissions_bulk(&self, entries: &[GroupVaultAcl]) -> Result<()> {
        self.write(Request::new(GROUP_VAULT_ACLS, &[]).body(entries)?)
            .await
            .map_err(|e| match e {
                ApiError::PermissionDenied {
                    code: Some(101), ..
                } => ApiError::NoManageVaultPermission,
                other => other,
            })
    }

    /// `GET /api/v1/vault/preflight/create?type=U`: the groups a new vault must be shared with
    /// and the administrator groups it is shared with by default. Refused (403) to whoever may
    /// not create vaults.
    pub async fn create_vault_preflight(&self) -> Result<CreateVaultPreflight> {
        self.fetch(Request::new(VAULT_CREATE_PREFLIGHT, &[]).query("type", "U"))
            .await
    }

    /// `POST /api/v2/vault`: creates a vault whose key and attributes the caller made (see
    /// [`CreateVaultRequest`]).
    pub async fn create_vault(&self, request: &CreateVaultRequest) -> Result<()> {
        self.write(Request::new(VAULT_CREATE, &[]).body(request)?)
            .await
            .map_err(|e| e.with_subject(format!("new vault {}", request.uuid)))
    }

    /// `PUT /api/v3/vault/{uuid}/attrs`: new attributes (name, description) for a vault. Needs
    /// Manage on it; refused (409) when `attr_version` is no longer the vault's.
    pub async fn update_vault_attrs(&self, request: &UpdateVaultAttrsRequest) -> Result<()> {
        let vault = &request.uuid;
        self.write(Request::new(VAULT_UPDATE_ATTRS, &[vault.as_str()]).body(request)?)
            .await
            .map_err(|e| access_error(vault, e))
    }

    /// `GET /api/v1/vault/preflight/delete/{uuid}`: what deleting the vault takes with it.
    pub async fn delete_vault_preflight(&self, vault: &VaultId) -> Result<DeleteVaultPreflight> {
        self.fetch(Request::new(VAULT_DELETE_PREFLIGHT, &[vault.as_str()]))
            .await
            .map_err(|e| access_error(vault, e))
    }

    /// `DELETE /api/v4/vault/{uuid}`: deletes a vault. Needs Manage on it.
    pub async fn delete_vault(&self, vault: &VaultId) -> Result<()> {
        self.write(Request::new(VAULT_DELETE, &[vault.as_str()]))
            .await
            .map_err(|e| access_error(vault, e))
    }
}

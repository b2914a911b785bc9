//! Groups: listing (from the account object), one group, public keys, membership and roles.

use futures::FutureExt;

use crate::client::{BATCH_SIZE, Client, join_ids};
use crate::endpoints::{
    GROUP, GROUP_MEMBERSHIP, GROUP_PUBKEYS, GROUP_REMOVE_MEMBER, GROUP_SET_ROLE,
};
use crate::error::Result;
use crate::models::{Group, GroupMembershipPatch, PublicKeyEntry};
use crate::pages::Pages;
use crate::transport::Request;
use crate::types::{GroupId, GroupRole, UserId};

/// The `attrs` [`Client::group`] asks for.
pub const GROUP_ATTRS: &str = "pubkey,memberships,vault-access";

impl Client {
    /// The groups the signed-in user may see (docs/decisions.md, decisions 6 and 7), from
    /// `GET /api/v1/account?attrs=groups`; b5 has no group listing of its own. One page.
    pub fn groups(&self) -> Pages<Group> {
        let client = self.clone();
        Pages::single(Box::new(move || {
            async move {
                let account = client.account_with_attrs(&["groups"]).await?;
                Ok(account.groups.unwrap_or_default())
            }
            .boxed()
        }))
    }

    /// `GET /api/v2/group/{uuid}?attrs=pubkey,memberships,vault-access`.
    pub async fn group(&self, uuid: &GroupId) -> Result<Group> {
        self.fetch(Request::new(GROUP, &[uuid.as_str()]).query("attrs", GROUP_ATTRS))
            .await
            .map_err(|e| e.with_subject(format!("group {uuid}")))
    }

    /// `GET /api/v1/group/pubkeys?uuids=…`: the groups' public keys (what vault keys are
    /// wrapped to when a group is granted access). Sent in batches of [`BATCH_SIZE`].
    pub async fn group_public_keys(&self, uuids: &[GroupId]) -> Result<Vec<PublicKeyEntry>> {
        let mut all = Vec::with_capacity(uuids.len());
        for batch in uuids.chunks(BATCH_SIZE) {
            let request = Request::new(GROUP_PUBKEYS, &[])
                .query("uuids", &join_ids(batch.iter().map(GroupId::as_str)));
            let keys: Vec<PublicKeyEntry> = self.fetch(request).await?;
            all.extend(keys);
        }
        Ok(all)
    }

    /// `PATCH /api/v3/group/{uuid}/membership {add, remove}`: adds members (each with the group
    /// keyset wrapped to their public key) and removes others. Not retried once sent.
    pub async fn update_group_membership(
        &self,
        group: &GroupId,
        patch: &GroupMembershipPatch,
    ) -> Result<()> {
        self.write(Request::new(GROUP_MEMBERSHIP, &[group.as_str()]).body(patch)?)
            .await
            .map_err(|e| e.with_subject(format!("group {group}")))
    }

    /// `DELETE /api/v1/group/{group}/person/{user}`: removes one member.
    pub async fn remove_group_member(&self, group: &GroupId, user: &UserId) -> Result<()> {
        self.write(Request::new(
            GROUP_REMOVE_MEMBER,
            &[group.as_str(), user.as_str()],
        ))
        .await
        .map_err(|e| e.with_subject(format!("member {user} of group {group}")))
    }

    /// `PATCH /api/v1/group/{group}/person/{user}/role/{A|R}`: makes a member a manager (`A`)
    /// or a plain member (`R`).
    pub async fn set_group_role(
        &self,
        group: &GroupId,
        user: &UserId,
        role: GroupRole,
    ) -> Result<()> {
        let letter = role.letter().to_string();
        self.write(Request::new(
            GROUP_SET_ROLE,
            &[group.as_str(), user.as_str(), &letter],
        ))
        .await
        .map_err(|e| e.with_subject(format!("member {user} of group {group}")))
    }
}

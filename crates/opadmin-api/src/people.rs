//! The people lifecycle: confirm, suspend, reactivate, delete. Every call names people by uuid,
//! [`BATCH_SIZE`] per request (as the web client does); on an error, earlier batches stay
//! applied and calling again is safe (all of these are idempotent).

use std::collections::HashSet;

use crate::client::{BATCH_SIZE, Client, join_ids};
use crate::endpoints::{
    Endpoint, PEOPLE_CONFIRM, PEOPLE_DELETE, PEOPLE_REACTIVATE, PEOPLE_SUSPEND,
};
use crate::error::Result;
use crate::models::ConfirmPeopleRequest;
use crate::transport::Request;
use crate::types::UserId;

impl Client {
    /// `PUT /api/v2/people/confirm`: confirms people who accepted an invitation, with their
    /// group memberships and vault access. Split into batches of [`BATCH_SIZE`] people, each
    /// carrying its people's memberships and access records.
    pub async fn confirm_people(&self, request: &ConfirmPeopleRequest) -> Result<()> {
        for batch in request.people_uuids.chunks(BATCH_SIZE) {
            let in_batch: HashSet<&str> = batch.iter().map(UserId::as_str).collect();
            let body = ConfirmPeopleRequest {
                people_uuids: batch.to_vec(),
                group_memberships: request.group_memberships.as_ref().map(|all| {
                    all.iter()
                        .filter(|m| in_batch.contains(m.member_uuid.as_str()))
                        .cloned()
                        .collect()
                }),
                vault_access: request.vault_access.as_ref().map(|all| {
                    all.iter()
                        .filter(|a| in_batch.contains(a.accessor_uuid.as_str()))
                        .cloned()
                        .collect()
                }),
            };
            self.write(Request::new(PEOPLE_CONFIRM, &[]).body(&body)?)
                .await?;
        }
        Ok(())
    }

    /// `PUT /api/v1/people/suspend/{uuids}`.
    pub async fn suspend_people(&self, uuids: &[UserId]) -> Result<()> {
        self.people_batches(PEOPLE_SUSPEND, uuids).await
    }

    /// `PUT /api/v1/people/reactivate/{uuids}`.
    pub async fn reactivate_people(&self, uuids: &[UserId]) -> Result<()> {
        self.people_batches(PEOPLE_REACTIVATE, uuids).await
    }

    /// `DELETE /api/v1/people/{uuids}`.
    pub async fn delete_people(&self, uuids: &[UserId]) -> Result<()> {
        self.people_batches(PEOPLE_DELETE, uuids).await
    }

    async fn people_batches(&self, endpoint: Endpoint, uuids: &[UserId]) -> Result<()> {
        for batch in uuids.chunks(BATCH_SIZE) {
            let joined = join_ids(batch.iter().map(UserId::as_str));
            self.write(Request::new(endpoint, &[&joined])).await?;
        }
        Ok(())
    }
}

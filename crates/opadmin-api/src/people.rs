//! The people lifecycle: confirm, suspend, reactivate, delete. Every call names people by uuid,
//! [`BATCH_SIZE`] per request (as the web client does); on an error, earlier batches stay
//! applied and calling again is safe (all of these are idempotent).

use std::collections::HashSet;

use crate::client::{BATCH_SIZE, Client, join_ids};
use crate::endpoints::{
    Endpoint, PEOPLE_CONFIRM, PEOPLE_DELETE, PEOPLE_REACTIVATE, PEOPLE_SUSPEND,
};
use crate::error::{ApiError, Result};
use crate::models::ConfirmPeopleRequest;
use crate::transport::Request;
use crate::types::UserId;

impl Client {
    /// `PUT /api/v2/people/confirm`: confirms people who accepted an invitation, with their
    /// group memberships and vault access. Split into batches of [`BATCH_SIZE`] people, each
    /// carrying its people's memberships and access records.
    ///
    /// Returns one [`ConfirmBatch`] per batch, in order, so that a caller can say what happened
    /// to every person. A batch the server refuses for its own content (a 4xx answer: someone
    /// no longer awaiting confirmation, a key that does not match) is [`BatchStatus::Failed`]
    /// and later batches are still sent; an error that concerns the whole session (transport
    /// or timeout after retries, rate limiting, an expired session, tampering, a 5xx answer)
    /// fails that batch and leaves the later ones [`BatchStatus::NotSent`].
    pub async fn confirm_people(&self, request: &ConfirmPeopleRequest) -> Vec<ConfirmBatch> {
        let mut out = Vec::with_capacity(request.people_uuids.len().div_ceil(BATCH_SIZE));
        let mut stopped = false;
        for batch in request.people_uuids.chunks(BATCH_SIZE) {
            let people = batch.to_vec();
            if stopped {
                out.push(ConfirmBatch {
                    people,
                    status: BatchStatus::NotSent,
                });
                continue;
            }
            let in_batch: HashSet<&str> = batch.iter().map(UserId::as_str).collect();
            let body = ConfirmPeopleRequest {
                people_uuids: people.clone(),
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
            let sent = match Request::new(PEOPLE_CONFIRM, &[]).body(&body) {
                Ok(req) => self.write(req).await,
                Err(e) => Err(e),
            };
            let status = match sent {
                Ok(()) => BatchStatus::Applied,
                Err(e) => {
                    stopped = !concerns_this_batch_only(&e);
                    BatchStatus::Failed(e)
                }
            };
            out.push(ConfirmBatch { people, status });
        }
        out
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

/// What happened to one batch of a [`Client::confirm_people`] call.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ConfirmBatch {
    /// The people the batch named.
    pub people: Vec<UserId>,
    /// Whether it was applied.
    pub status: BatchStatus,
}

/// The fate of one batch of a people call.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum BatchStatus {
    /// The server accepted the batch: everyone in it is confirmed.
    Applied,
    /// The server refused the batch, or it could not be sent; nobody in it was confirmed
    /// (with a 5xx answer the server may nonetheless have applied it: check before retrying).
    Failed(ApiError),
    /// Not sent, because an earlier batch failed with an error that concerns the whole
    /// session.
    NotSent,
}

impl ConfirmBatch {
    /// The batch's error, if it failed.
    pub fn error(&self) -> Option<&ApiError> {
        match &self.status {
            BatchStatus::Failed(e) => Some(e),
            _ => None,
        }
    }
}

/// Whether an error concerns only the request that drew it (the server refused its content),
/// so that the next batch may still succeed. Everything else (the network, the session,
/// tampering, rate limits, server faults) would fail the next batch too.
fn concerns_this_batch_only(e: &ApiError) -> bool {
    match e {
        ApiError::NotFound { .. }
        | ApiError::PermissionDenied { .. }
        | ApiError::InvalidInput(_) => true,
        ApiError::Server { status, .. } => (400..500).contains(status) && *status != 429,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_refusals_of_the_batch_itself_let_later_batches_go() {
        let invalid = ApiError::Server {
            status: 400,
            endpoint: None,
            error_code: Some(103),
            error_message: None,
            reason: None,
        };
        let fault = ApiError::Server {
            status: 503,
            endpoint: None,
            error_code: None,
            error_message: None,
            reason: None,
        };
        assert!(concerns_this_batch_only(&invalid));
        assert!(concerns_this_batch_only(&ApiError::not_found("person")));
        assert!(!concerns_this_batch_only(&fault));
        assert!(!concerns_this_batch_only(&ApiError::SessionExpired));
        assert!(!concerns_this_batch_only(&ApiError::Timeout));
        assert!(!concerns_this_batch_only(&ApiError::Tampered("x".into())));
    }
}

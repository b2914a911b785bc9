//! Invitations (a Business account is needed to send them; the server answers
//! `{"reason": "account_policy"}` otherwise, which is [`ApiError::BusinessPlanRequired`](crate::ApiError::BusinessPlanRequired)).

use futures::FutureExt;

use crate::client::{BATCH_SIZE, Client, join_ids};
use crate::endpoints::{INVITE, INVITE_RESEND, INVITE_REVOKE, INVITES};
use crate::error::Result;
use crate::models::{InvitationDetails, InviteRequest};
use crate::pages::Pages;
use crate::transport::Request;

impl Client {
    /// `POST /api/v1/invite {invites, type}`: sends invitation emails. Never retried once sent
    /// (a timeout leaves it unknown whether the emails went out: list the invitations to see).
    pub async fn invite(&self, request: &InviteRequest) -> Result<Vec<InvitationDetails>> {
        self.fetch(Request::new(INVITE, &[]).body(request)?).await
    }

    /// `GET /api/v1/invites`: the account's invitations. One page.
    pub fn invitations(&self) -> Pages<InvitationDetails> {
        let client = self.clone();
        Pages::single(Box::new(move || {
            async move { client.fetch(Request::new(INVITES, &[])).await }.boxed()
        }))
    }

    /// `DELETE /api/v1/invite/{uuids}`: revokes invitations, [`BATCH_SIZE`] per call. On an
    /// error, earlier batches stay revoked; calling again is safe.
    pub async fn revoke_invitations(&self, uuids: &[String]) -> Result<()> {
        for batch in uuids.chunks(BATCH_SIZE) {
            self.write(Request::new(INVITE_REVOKE, &[&join_ids(batch)]))
                .await?;
        }
        Ok(())
    }

    /// `GET /api/v1/invite/resend/{uuids}`: sends the invitation emails again,
    /// [`BATCH_SIZE`] per call. Not repeated after a failure that may have come after the emails
    /// went out.
    pub async fn resend_invitations(&self, uuids: &[String]) -> Result<()> {
        for batch in uuids.chunks(BATCH_SIZE) {
            self.write(Request::new(INVITE_RESEND, &[&join_ids(batch)]))
                .await?;
        }
        Ok(())
    }
}

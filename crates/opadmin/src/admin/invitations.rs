//! Invitations after they are sent: list the pending ones, resend, revoke. (Sending is
//! [`Admin::invite`], with the people.)

use opadmin_api::models::InvitationDetails;
use opadmin_api::types::{InvitationState, Plan};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::Admin;
use super::converge::Converged;
use crate::error::{Error, Result};
use crate::model::{PendingInvitation, SkipReason, SkippedItem, SkippedKind};

fn pending_from(i: &InvitationDetails) -> PendingInvitation {
    let mut p =
        PendingInvitation::new(i.uuid.clone(), i.email.trim().to_lowercase(), i.invite_type);
    p.sent_at = i
        .sent_at
        .as_deref()
        .and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok());
    p
}

/// The pending invitation with this uuid, or for this email (case-insensitive): the rule that
/// resending and revoking, directly or in a plan, find an invitation by.
pub(crate) fn find_pending<'a>(
    list: &'a [PendingInvitation],
    invitation: &str,
) -> Option<&'a PendingInvitation> {
    let wanted = invitation.trim();
    list.iter()
        .find(|i| i.id == wanted || i.email.eq_ignore_ascii_case(wanted))
}

impl Admin {
    /// Every invitation sent and not yet accepted or revoked (one request).
    pub async fn invitations(&self) -> Result<Vec<PendingInvitation>> {
        self.deny_service_account("listing invitations")?;
        let all = self.client().invitations().collect_all().await?;
        Ok(all
            .iter()
            .filter(|i| i.state == InvitationState::Pending)
            .map(pending_from)
            .collect())
    }

    /// The pending invitation with this uuid, or for this email (case-insensitive).
    async fn pending_invitation(&self, invitation: &str) -> Result<PendingInvitation> {
        let list = self.invitations().await?;
        find_pending(&list, invitation)
            .cloned()
            .ok_or_else(|| Error::NotFound {
                what: format!("pending invitation {}", invitation.trim()),
            })
    }

    /// Sends a pending invitation's email again; `invitation` is its uuid or the invitee's
    /// email. Returns the invitation as it was before. A failure that may have come after the
    /// email went out is returned as it is: nothing on the server shows whether it did, and a
    /// second email is not sent blindly.
    pub async fn resend_invitation(&self, invitation: &str) -> Result<PendingInvitation> {
        self.deny_service_account("resending an invitation")?;
        let found = self.pending_invitation(invitation).await?;
        self.client()
            .resend_invitations(std::slice::from_ref(&found.id))
            .await?;
        Ok(found)
    }

    /// Revokes a pending invitation (its link stops working); `invitation` is its uuid or the
    /// invitee's email. Returns the invitation that was revoked. After a failure that may have
    /// come after the server applied it, the pending list settles it (decision 20).
    pub async fn revoke_invitation(&self, invitation: &str) -> Result<PendingInvitation> {
        self.deny_service_account("revoking an invitation")?;
        let found = self.pending_invitation(invitation).await?;
        let ids = std::slice::from_ref(&found.id);
        let outcome = self
            .converge(
                "revoke invitation",
                || async { Ok(self.client().revoke_invitations(ids).await?) },
                || async {
                    let still = self.invitations().await?;
                    Ok(!still.iter().any(|i| i.id == found.id))
                },
            )
            .await?;
        if outcome == Converged::DespiteFailure {
            tracing::warn!("revoking an invitation failed after it was applied; reported as done");
        }
        Ok(found)
    }

    /// The pending invitations for a snapshot. An account without invitations (not on
    /// Business) has none; an administrator who may not list them gets none, and a skipped item
    /// that says why.
    pub(super) async fn invitations_for_sync(
        &self,
        plan: &Plan,
        skipped: &mut Vec<SkippedItem>,
    ) -> Result<Vec<PendingInvitation>> {
        if !plan.allows_invitations() {
            return Ok(Vec::new());
        }
        match self.invitations().await {
            Ok(list) => Ok(list),
            Err(e @ Error::PermissionDenied { .. }) => {
                skipped.push(SkippedItem::new(
                    SkippedKind::Invitations,
                    "",
                    None,
                    SkipReason::NotPermitted,
                    &e,
                ));
                Ok(Vec::new())
            }
            Err(Error::BusinessPlanRequired) => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }
}

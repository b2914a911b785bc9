//! People: listing, lookup, invitation, confirmation, suspension, removal, bulk actions.

use futures::StreamExt;
use opadmin_api::account::AccountAttr;
use opadmin_api::models::{
    AccessorType, ConfirmPeopleRequest, GroupMembership, InvitationDetails, Invite, InviteRequest,
    InviteVault, Person,
};
use opadmin_api::types::{
    GroupRole, GroupState, GroupType, UserId, UserState, UserType, VaultId, VaultPermissions,
    VaultType,
};
use opadmin_crypto::rsa::RsaPublicKey;

use super::converge::Converged;
use super::{Admin, named_not_found};
use crate::error::{Error, Result};
use crate::model::{BulkResult, Invitation, User, UserRef};

pub(super) fn user_from(person: &Person) -> User {
    User {
        id: person.uuid.clone(),
        email: person.email.trim().to_lowercase(),
        name: person.display_name(),
        state: person.state,
        user_type: person.user_type,
        created_at: person.created_at(),
        last_sign_in: person.last_auth_at(),
    }
}

/// A change to a person's standing in the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lifecycle {
    /// They can no longer sign in; nothing is deleted.
    Suspend,
    /// A suspended person may sign in again.
    Reactivate,
    /// They leave the account, with their access and memberships.
    Remove,
}

impl Lifecycle {
    /// What a service account is refused, in its error.
    fn operation(self) -> &'static str {
        match self {
            Lifecycle::Suspend => "suspending a person",
            Lifecycle::Reactivate => "reactivating a person",
            Lifecycle::Remove => "removing a person",
        }
    }

    /// The verb, for the refusal to act on oneself.
    fn verb(self) -> &'static str {
        match self {
            Lifecycle::Suspend => "suspend",
            Lifecycle::Reactivate => "reactivate",
            Lifecycle::Remove => "remove",
        }
    }

    /// The person's state once the server has accepted the change.
    fn resulting_state(self) -> UserState {
        match self {
            Lifecycle::Suspend => UserState::Suspended,
            Lifecycle::Reactivate => UserState::Active,
            Lifecycle::Remove => UserState::Deleted,
        }
    }
}

impl Admin {
    /// Every person the administrator can see, with state and last sign-in.
    pub async fn users(&self) -> Result<Vec<User>> {
        self.deny_service_account("listing people")?;
        let account = self.client().account_with(&[AccountAttr::Users]).await?;
        Ok(account
            .users
            .unwrap_or_default()
            .iter()
            .map(user_from)
            .collect())
    }

    /// A person by email, if the administrator can see one (`None` rather than
    /// [`Error::NotFound`](crate::Error::NotFound)).
    pub async fn find_user(&self, email: &str) -> Result<Option<User>> {
        match self
            .resolve_user(UserRef::Email(email.trim().to_lowercase()))
            .await
        {
            Ok(u) => Ok(Some(u)),
            Err(crate::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Resolves a person by uuid or email.
    pub async fn resolve_user(&self, user: impl Into<UserRef>) -> Result<User> {
        self.deny_service_account("looking up a person")?;
        let user = user.into();
        let what = || format!("person {user}");
        match &user {
            UserRef::Id(id) => Ok(user_from(&named_not_found(
                self.client().user(id).await,
                what,
            )?)),
            UserRef::Email(email) => {
                let filter = opadmin_api::users::UserFilter::new().emails([email.clone()]);
                let list = self.client().user_list(&filter).await?;
                let partial = list
                    .users
                    .into_iter()
                    .find(|p| p.email.eq_ignore_ascii_case(email))
                    .ok_or_else(|| Error::NotFound { what: what() })?;
                Ok(user_from(&self.client().user(&partial.uuid).await?))
            }
        }
    }

    /// A person's uuid: as given, or looked up by email (one request).
    pub(super) async fn id_of(&self, user: impl Into<UserRef>) -> Result<UserId> {
        match user.into() {
            UserRef::Id(id) => Ok(id),
            email => Ok(self.resolve_user(email).await?.id),
        }
    }

    /// Invites a person (1Password Business only: checked before anything is sent), optionally
    /// with vaults to give them once confirmed. `name` is not part of a b5 invitation (the
    /// invitee enters it when accepting); it is taken for symmetry with other backends.
    pub async fn invite(
        &self,
        email: &str,
        name: &str,
        user_type: UserType,
        vaults: &[(VaultId, VaultPermissions)],
    ) -> Result<Invitation> {
        self.deny_service_account("inviting a person")?;
        let email = email.trim().to_lowercase();
        if !email.contains('@') {
            return Err(Error::InvalidInput(format!(
                "{email:?} is not an email address"
            )));
        }
        let account = self.client().account_with(&[AccountAttr::Tier]).await?;
        if !account.plan().allows_invitations() {
            return Err(Error::BusinessPlanRequired);
        }
        let _unused_by_b5 = name;
        let invite = Invite {
            email: email.clone(),
            language: "en".into(),
            vaults: (!vaults.is_empty()).then(|| {
                vaults
                    .iter()
                    .map(|(v, p)| InviteVault {
                        uuid: v.clone(),
                        acl: p.with_dependencies(),
                    })
                    .collect()
            }),
        };
        let request = InviteRequest {
            invites: vec![invite],
            invite_type: user_type,
        };
        // An invitation is not idempotent (each sends an email): after a failure that may have
        // come after the server accepted it, the pending invitations say whether it did.
        let sent = self
            .converge(
                "invite",
                || async { Ok(self.client().invite(&request).await?) },
                || async { Ok(self.pending_invitation(&email).await?.is_some()) },
            )
            .await?;
        match sent {
            Converged::Sent(details) => {
                let d = details
                    .into_iter()
                    .next()
                    .ok_or_else(|| Error::Protocol("the server confirmed no invitation".into()))?;
                Ok(Invitation {
                    id: d.uuid,
                    email: d.email,
                    despite_failure: false,
                })
            }
            Converged::DespiteFailure => {
                let d = self.pending_invitation(&email).await?.ok_or_else(|| {
                    Error::Protocol(
                        "the pending invitation seen a moment ago is no longer listed".into(),
                    )
                })?;
                Ok(Invitation {
                    id: d.uuid,
                    email: d.email,
                    despite_failure: true,
                })
            }
        }
    }

    /// The account's pending invitation for `email` (lower case), if there is one.
    async fn pending_invitation(&self, email: &str) -> Result<Option<InvitationDetails>> {
        let all = self.client().invitations().collect_all().await?;
        Ok(all
            .into_iter()
            .find(|i| i.email.trim().eq_ignore_ascii_case(email)))
    }

    /// Whether a person is in `state`; a person no longer found counts as deleted.
    async fn user_is(&self, user: &UserId, state: UserState) -> Result<bool> {
        match self.client().user(user).await {
            Ok(person) => Ok(person.state == state),
            Err(opadmin_api::ApiError::NotFound { .. }) => Ok(state == UserState::Deleted),
            Err(other) => Err(other.into()),
        }
    }

    /// Confirms a person who accepted an invitation (state "awaiting confirmation"): members
    /// receive the Team Members keyset (or, on older accounts, the Everyone vault key) wrapped to
    /// their public key.
    pub async fn confirm(&self, user: impl Into<UserRef>) -> Result<()> {
        self.deny_service_account("confirming a person")?;
        let user = self.resolve_user(user).await?;
        let people = std::slice::from_ref(&user);
        self.converge(
            "confirm",
            || self.confirm_people(people),
            || self.user_is(&user.id, UserState::Active),
        )
        .await?;
        Ok(())
    }

    /// Confirms everyone awaiting confirmation; returns who was confirmed.
    pub async fn confirm_all_pending(&self) -> Result<Vec<User>> {
        self.deny_service_account("confirming people")?;
        let pending: Vec<User> = self
            .users()
            .await?
            .into_iter()
            .filter(|u| u.state == UserState::Pending)
            .collect();
        for chunk in pending.chunks(opadmin_api::client::BATCH_SIZE) {
            self.confirm_people(chunk).await?;
        }
        Ok(pending)
    }

    async fn confirm_people(&self, people: &[User]) -> Result<()> {
        if people.is_empty() {
            return Ok(());
        }
        if let Some(u) = people.iter().find(|u| u.state != UserState::Pending) {
            return Err(Error::InvalidState(format!(
                "{} is {}, not awaiting confirmation",
                u.email, u.state
            )));
        }
        let account = self
            .client()
            .account_with(&[AccountAttr::Groups, AccountAttr::Vaults])
            .await?;
        let team = account
            .groups
            .as_deref()
            .unwrap_or_default()
            .iter()
            .find(|g| g.group_type == GroupType::TeamMembers)
            .cloned();
        let ids: Vec<UserId> = people.iter().map(|u| u.id.clone()).collect();
        let keys = self.client().user_public_keys(&ids).await?;
        let mut memberships = Vec::new();
        let mut vault_access = Vec::new();
        let everyone = if team.is_none() {
            let all = self.client().vaults().collect_all().await?;
            all.into_iter()
                .find(|v| v.vault_type == VaultType::Everyone)
        } else {
            None
        };
        let team_keyset = match &team {
            Some(g) => Some(
                self.inner
                    .keys
                    .group_keyset(&self.client().group(&g.uuid).await?)?,
            ),
            None => None,
        };
        for person in people.iter().filter(|p| p.user_type == UserType::Member) {
            let entry = keys
                .iter()
                .find(|k| k.uuid == person.id.as_str())
                .ok_or_else(|| Error::NotFound {
                    what: format!("public key of {}", person.email),
                })?;
            let public = RsaPublicKey::from_jwk(&entry.pub_key)?;
            if let (Some(g), Some(ks)) = (&team, &team_keyset) {
                memberships.push(GroupMembership {
                    group_uuid: g.uuid.clone(),
                    member_uuid: person.id.clone(),
                    role: GroupRole::Member,
                    state: GroupState::Active,
                    version: None,
                    keyset: Some(ks.encrypt_for_member(&public, 1)?),
                    created_at: None,
                    updated_at: None,
                });
            } else if let Some(v) = &everyone {
                vault_access.push(self.record(
                    v,
                    AccessorType::User,
                    person.id.as_str(),
                    &public,
                    VaultPermissions::RWE,
                )?);
            }
        }
        let request = ConfirmPeopleRequest {
            people_uuids: ids,
            group_memberships: (!memberships.is_empty()).then_some(memberships),
            vault_access: (!vault_access.is_empty()).then_some(vault_access),
        };
        self.client().confirm_people(&request).await?;
        Ok(())
    }

    async fn lifecycle(&self, user: UserRef, action: Lifecycle) -> Result<User> {
        self.deny_service_account(action.operation())?;
        let user = self.resolve_user(user).await?;
        if &user.id == self.user_id() {
            return Err(Error::InvalidInput(format!(
                "the integration user cannot {} itself",
                action.verb()
            )));
        }
        let mut user = user;
        let ids = std::slice::from_ref(&user.id);
        let target = action.resulting_state();
        self.converge(
            action.operation(),
            || async {
                match action {
                    Lifecycle::Suspend => self.client().suspend_people(ids).await?,
                    Lifecycle::Reactivate => self.client().reactivate_people(ids).await?,
                    Lifecycle::Remove => self.client().delete_people(ids).await?,
                }
                Ok(())
            },
            || self.user_is(&ids[0], target),
        )
        .await?;
        user.state = target;
        Ok(user)
    }

    /// Suspends a person (they can no longer sign in; nothing is deleted). Returns the person
    /// as they now are.
    pub async fn suspend(&self, user: impl Into<UserRef>) -> Result<User> {
        self.lifecycle(user.into(), Lifecycle::Suspend).await
    }

    /// Reactivates a suspended person. Returns the person as they now are.
    pub async fn reactivate(&self, user: impl Into<UserRef>) -> Result<User> {
        self.lifecycle(user.into(), Lifecycle::Reactivate).await
    }

    /// Removes a person from the account (their access and memberships go with them). Returns
    /// the person as last seen, with the state [`UserState::Deleted`].
    pub async fn remove(&self, user: impl Into<UserRef>) -> Result<User> {
        self.lifecycle(user.into(), Lifecycle::Remove).await
    }

    /// Runs one action over many targets with bounded concurrency. Each target's outcome is
    /// reported; a failure neither stops nor undoes the others.
    pub async fn bulk<T, O, F, Fut>(
        &self,
        targets: impl IntoIterator<Item = T>,
        action: F,
    ) -> Vec<BulkResult<T, O>>
    where
        T: Clone,
        F: Fn(Admin, T) -> Fut,
        Fut: std::future::Future<Output = Result<O>>,
    {
        futures::stream::iter(targets.into_iter().map(|t| {
            let fut = action(self.clone(), t.clone());
            async move {
                BulkResult {
                    target: t,
                    outcome: fut.await,
                }
            }
        }))
        .buffered(self.inner.concurrency)
        .collect()
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_lifecycle_action_names_itself_and_lands_in_its_own_state() {
        let all = [Lifecycle::Suspend, Lifecycle::Reactivate, Lifecycle::Remove];
        let seen: Vec<_> = all
            .iter()
            .map(|a| (a.verb(), a.operation(), a.resulting_state()))
            .collect();
        assert_eq!(
            seen,
            [
                ("suspend", "suspending a person", UserState::Suspended),
                ("reactivate", "reactivating a person", UserState::Active),
                ("remove", "removing a person", UserState::Deleted),
            ]
        );
    }
}

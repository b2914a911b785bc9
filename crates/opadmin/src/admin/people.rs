//! People: listing, lookup, invitation, confirmation, suspension, removal, bulk actions.

use std::panic::AssertUnwindSafe;

use futures::{FutureExt, StreamExt};
use opadmin_api::account::AccountAttr;
use opadmin_api::models::{
    self, AccessorType, ConfirmPeopleRequest, GroupMembership, InvitationDetails, Invite,
    InviteRequest, InviteVault, Person, PublicKeyEntry, VaultAccess,
};
use opadmin_api::people::BatchStatus;
use opadmin_api::types::{
    GroupRole, GroupState, GroupType, UserId, UserState, UserType, VaultId, VaultPermissions,
    VaultType,
};
use opadmin_crypto::keyset::Keyset;
use opadmin_crypto::rsa::RsaPublicKey;

use super::converge::Converged;
use super::{Admin, named_not_found};
use crate::error::{Error, Result};
use crate::model::{BulkResult, Invitation, User, UserRef};

pub(crate) fn user_from(person: &Person) -> User {
    let mut user = User::new(
        person.uuid.clone(),
        person.email.trim().to_lowercase(),
        person.display_name(),
        person.state,
        person.user_type,
    );
    user.created_at = person.created_at();
    user.last_sign_in = person.last_auth_at();
    user
}

/// A change to a person's standing in the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lifecycle {
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
    pub(crate) fn resulting_state(self) -> UserState {
        match self {
            Lifecycle::Suspend => UserState::Suspended,
            Lifecycle::Reactivate => UserState::Active,
            Lifecycle::Remove => UserState::Deleted,
        }
    }
}

/// The lifecycle rule, shared by the direct methods and by plans: the signed-in administrator
/// (`me`) never acts on itself.
pub(crate) fn lifecycle_rule(me: &UserId, user: &UserId, action: Lifecycle) -> Result<()> {
    if user == me {
        return Err(Error::InvalidInput(format!(
            "the integration user cannot {} itself",
            action.verb()
        )));
    }
    Ok(())
}

/// The confirmation rule, shared by the direct methods and by plans: only a person awaiting
/// confirmation can be confirmed.
pub(crate) fn confirm_rule(user: &User) -> Result<()> {
    if user.state == UserState::Pending {
        Ok(())
    } else {
        Err(Error::InvalidState(format!(
            "{} is {}, not awaiting confirmation",
            user.email, user.state
        )))
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
    pub(crate) async fn id_of(&self, user: impl Into<UserRef>) -> Result<UserId> {
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
        // come after the server accepted it, the pending invitations say whether it did. Those
        // already pending for this email are noted first, so that only a new one counts.
        let earlier: Vec<String> = self
            .pending_invitations_for(&email)
            .await?
            .into_iter()
            .map(|i| i.uuid)
            .collect();
        let new_one = || async {
            let pending = self.pending_invitations_for(&email).await?;
            Ok::<_, Error>(pending.into_iter().find(|i| !earlier.contains(&i.uuid)))
        };
        let sent = self
            .converge(
                "invite",
                || async { Ok(self.client().invite(&request).await?) },
                || async { Ok(new_one().await?.is_some()) },
            )
            .await?;
        match sent {
            Converged::Sent(details) => {
                let d = details
                    .into_iter()
                    .next()
                    .ok_or_else(|| Error::Protocol("the server confirmed no invitation".into()))?;
                Ok(Invitation::new(d.uuid, d.email))
            }
            Converged::DespiteFailure => {
                let d = new_one().await?.ok_or_else(|| {
                    Error::Protocol(
                        "the pending invitation seen a moment ago is no longer listed".into(),
                    )
                })?;
                let mut invitation = Invitation::new(d.uuid, d.email);
                invitation.despite_failure = true;
                Ok(invitation)
            }
        }
    }

    /// The account's pending invitations for `email` (lower case).
    async fn pending_invitations_for(&self, email: &str) -> Result<Vec<InvitationDetails>> {
        let all = self.client().invitations().collect_all().await?;
        Ok(all
            .into_iter()
            .filter(|i| i.email.trim().eq_ignore_ascii_case(email))
            .collect())
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
        // confirm_people settles a failure that may have come after the server applied it.
        self.confirm_people(std::slice::from_ref(&user)).await
    }

    /// Confirms everyone awaiting confirmation, [`BATCH_SIZE`](opadmin_api::client::BATCH_SIZE)
    /// people per request, and reports every one of them: `Ok(())` once the server accepted
    /// their batch, or the typed error that kept them unconfirmed. A batch the server refuses
    /// (or a person whose public key cannot be used) does not stop the later batches; an error
    /// that concerns the whole session (the network or a timeout after retries, rate limiting,
    /// an expired session, tampering, a server fault) leaves the remaining people
    /// [`Error::NotAttempted`]. Fails as a whole only when the people cannot be listed.
    pub async fn confirm_all_pending(&self) -> Result<Vec<BulkResult<User, ()>>> {
        self.deny_service_account("confirming people")?;
        let pending: Vec<User> = self
            .users()
            .await?
            .into_iter()
            .filter(|u| u.state == UserState::Pending)
            .collect();
        Ok(self.confirm_each(pending).await)
    }

    /// Confirms people, as [`confirm`](Self::confirm) does: the first failure is the error.
    async fn confirm_people(&self, people: &[User]) -> Result<()> {
        self.confirm_each(people.to_vec())
            .await
            .into_iter()
            .try_for_each(|r| r.outcome)
    }

    /// Confirms people batch by batch and reports each person's outcome, in the order given.
    async fn confirm_each(&self, people: Vec<User>) -> Vec<BulkResult<User, ()>> {
        let order: Vec<UserId> = people.iter().map(|u| u.id.clone()).collect();
        let mut out = self.confirm_unordered(people).await;
        out.sort_by_key(|r| order.iter().position(|id| id == &r.target.id));
        out
    }

    /// [`confirm_each`](Self::confirm_each), with the outcomes in the order they were decided.
    async fn confirm_unordered(&self, people: Vec<User>) -> Vec<BulkResult<User, ()>> {
        let mut out: Vec<BulkResult<User, ()>> = Vec::with_capacity(people.len());
        let mut ready = Vec::with_capacity(people.len());
        // Someone no longer awaiting confirmation fails alone, before anything is sent.
        for u in people {
            match confirm_rule(&u) {
                Ok(()) => ready.push(u),
                Err(e) => out.push(BulkResult {
                    target: u,
                    outcome: Err(e),
                }),
            }
        }
        if ready.is_empty() {
            return out;
        }
        let shared = match self.confirmation_keys().await {
            Ok(shared) => shared,
            Err(e) => {
                out.extend(ready.into_iter().map(|u| BulkResult {
                    target: u,
                    outcome: Err(e.clone()),
                }));
                return out;
            }
        };
        let mut stop: Option<Error> = None;
        for chunk in ready.chunks(opadmin_api::client::BATCH_SIZE) {
            if let Some(reason) = &stop {
                out.extend(chunk.iter().map(|u| BulkResult {
                    target: u.clone(),
                    outcome: Err(Error::NotAttempted {
                        reason: reason.to_string(),
                    }),
                }));
                continue;
            }
            let (results, fatal) = self.confirm_batch(chunk, &shared).await;
            out.extend(results);
            stop = fatal;
        }
        out
    }

    /// What every confirmation needs, read once: the Team Members group and its open keyset,
    /// or (on older accounts without it) the Everyone vault.
    async fn confirmation_keys(&self) -> Result<ConfirmationKeys> {
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
        let everyone = if team.is_none() {
            let all = self.client().vaults().collect_all().await?;
            all.into_iter()
                .find(|v| v.vault_type == VaultType::Everyone)
        } else {
            None
        };
        let team = match team {
            Some(g) => {
                let keyset = self
                    .inner
                    .keys
                    .group_keyset(&self.client().group(&g.uuid).await?)?;
                Some((g, keyset))
            }
            None => None,
        };
        Ok(ConfirmationKeys { team, everyone })
    }

    /// Confirms one batch (at most `BATCH_SIZE` people awaiting confirmation). A person whose
    /// public key is missing or unusable fails alone and is left out of the request. Returns
    /// every person's outcome, and the error when it concerns the whole session (so that the
    /// caller sends nothing more).
    async fn confirm_batch(
        &self,
        people: &[User],
        shared: &ConfirmationKeys,
    ) -> (Vec<BulkResult<User, ()>>, Option<Error>) {
        let mut out = Vec::with_capacity(people.len());
        let members: Vec<UserId> = people
            .iter()
            .filter(|p| p.user_type == UserType::Member)
            .map(|p| p.id.clone())
            .collect();
        let keys = if members.is_empty() {
            Vec::new()
        } else {
            match self.client().user_public_keys(&members).await {
                Ok(keys) => keys,
                Err(e) => {
                    let e = Error::from(e);
                    let fatal = stops_the_run(&e).then(|| e.clone());
                    out.extend(people.iter().map(|u| BulkResult {
                        target: u.clone(),
                        outcome: Err(e.clone()),
                    }));
                    return (out, fatal);
                }
            }
        };
        let mut memberships = Vec::new();
        let mut vault_access = Vec::new();
        let mut sending: Vec<&User> = Vec::with_capacity(people.len());
        for person in people {
            if person.user_type != UserType::Member {
                sending.push(person);
                continue;
            }
            match self.member_grants(person, &keys, shared) {
                Ok((membership, access)) => {
                    memberships.extend(membership);
                    vault_access.extend(access);
                    sending.push(person);
                }
                Err(e) => out.push(BulkResult {
                    target: person.clone(),
                    outcome: Err(e),
                }),
            }
        }
        if sending.is_empty() {
            return (out, None);
        }
        let request = ConfirmPeopleRequest {
            people_uuids: sending.iter().map(|u| u.id.clone()).collect(),
            group_memberships: (!memberships.is_empty()).then_some(memberships),
            vault_access: (!vault_access.is_empty()).then_some(vault_access),
        };
        // A confirmation that fails after it may have been applied is settled by reading the
        // people's states (decision 20), not by its repeat's answer.
        let ids: Vec<UserId> = sending.iter().map(|u| u.id.clone()).collect();
        let sent = self
            .converge(
                "confirm",
                || async {
                    let batches = self.client().confirm_people(&request).await;
                    match batches.iter().find_map(|b| b.error()) {
                        Some(e) => Err(Error::from(e.clone())),
                        None if batches
                            .iter()
                            .all(|b| matches!(b.status, BatchStatus::Applied)) =>
                        {
                            Ok(())
                        }
                        None => Err(Error::NotAttempted {
                            reason: "the server did not take the batch".into(),
                        }),
                    }
                },
                || self.all_are(&ids, UserState::Active),
            )
            .await;
        let mut fatal = None;
        let outcome = match sent {
            Ok(_) => Ok(()),
            Err(e) => {
                if stops_the_run(&e) {
                    fatal = Some(e.clone());
                }
                Err(e)
            }
        };
        out.extend(sending.into_iter().map(|person| BulkResult {
            target: person.clone(),
            outcome: outcome.clone(),
        }));
        (out, fatal)
    }

    /// Whether every one of these people is in `state`.
    async fn all_are(&self, people: &[UserId], state: UserState) -> Result<bool> {
        for id in people {
            if !self.user_is(id, state).await? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// A new member's Team Members membership (the group keyset wrapped to their public key)
    /// or, on older accounts, their Everyone vault access record.
    fn member_grants(
        &self,
        person: &User,
        keys: &[PublicKeyEntry],
        shared: &ConfirmationKeys,
    ) -> Result<(Option<GroupMembership>, Option<VaultAccess>)> {
        let entry = keys
            .iter()
            .find(|k| k.uuid == person.id.as_str())
            .ok_or_else(|| Error::NotFound {
                what: format!("public key of {}", person.email),
            })?;
        let public = RsaPublicKey::from_jwk(&entry.pub_key)?;
        if let Some((g, ks)) = &shared.team {
            return Ok((
                Some(GroupMembership {
                    group_uuid: g.uuid.clone(),
                    member_uuid: person.id.clone(),
                    role: GroupRole::Member,
                    state: GroupState::Active,
                    version: None,
                    keyset: Some(ks.encrypt_for_member(&public, 1)?),
                    created_at: None,
                    updated_at: None,
                }),
                None,
            ));
        }
        if let Some(v) = &shared.everyone {
            return Ok((
                None,
                Some(self.record(
                    v,
                    AccessorType::User,
                    person.id.as_str(),
                    &public,
                    VaultPermissions::RWE,
                )?),
            ));
        }
        Ok((None, None))
    }

    async fn lifecycle(&self, user: UserRef, action: Lifecycle) -> Result<User> {
        self.deny_service_account(action.operation())?;
        let user = self.resolve_user(user).await?;
        lifecycle_rule(self.user_id(), &user.id, action)?;
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
            // A panicking action becomes that target's error; the others go on.
            let fut =
                std::panic::catch_unwind(AssertUnwindSafe(|| action(self.clone(), t.clone())));
            async move {
                let outcome = match fut {
                    Ok(fut) => AssertUnwindSafe(fut)
                        .catch_unwind()
                        .await
                        .unwrap_or_else(|_| Err(panicked())),
                    Err(_) => Err(panicked()),
                };
                BulkResult { target: t, outcome }
            }
        }))
        .buffered(self.inner.concurrency)
        .collect()
        .await
    }
}

/// The error of a bulk target whose action panicked (the panic's message is not repeated: it
/// could quote anything).
fn panicked() -> Error {
    Error::Internal("running the action for this target (it crashed)".into())
}

/// What a confirmation reads once for every batch.
struct ConfirmationKeys {
    /// The Team Members group and its opened keyset.
    team: Option<(models::Group, Keyset)>,
    /// The Everyone vault, on accounts without Team Members.
    everyone: Option<models::Vault>,
}

/// Whether an error concerns the whole session, so that sending more would fail the same way
/// (or make things worse): the network or a timeout after retries, rate limiting, an expired
/// session or a refused administrator, tampering, a server fault.
fn stops_the_run(e: &Error) -> bool {
    match e {
        Error::Transport { .. }
        | Error::Timeout
        | Error::RateLimited { .. }
        | Error::SessionExpired
        | Error::BadCredentials
        | Error::AdminDisabled(_)
        | Error::Tampered(_)
        | Error::MaybeApplied { .. } => true,
        Error::Server { status, .. } => *status >= 500,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_session_wide_errors_stop_a_confirmation_run() {
        assert!(stops_the_run(&Error::SessionExpired));
        assert!(stops_the_run(&Error::Timeout));
        assert!(stops_the_run(&Error::Tampered("x".into())));
        assert!(stops_the_run(&Error::transport("down")));
        assert!(!stops_the_run(&Error::NotFound {
            what: "person x".into()
        }));
        assert!(!stops_the_run(&Error::InvalidState("x".into())));
        assert!(!stops_the_run(&panicked()));
    }

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

//! One conformance suite for every [`Directory`] backend: what the trait promises, checked for
//! what [`Directory::capabilities`] says the backend supports, and, for what it does not, that
//! the call answers [`Error::NotSupported`] and changes nothing.
//!
//! Answers that legitimately differ between backends are accepted both ways and then checked
//! for consistency: `remove` erases (b5, strict RFC 7644 servers) or suspends (1Password's SCIM
//! bridge); a SCIM server may or may not list group members.
#![allow(dead_code)]

use opadmin::{
    Directory, Error, GrantOutcome, GroupId, GroupRole, MembershipOutcome, RevokeOutcome, User,
    UserId, UserRef, UserState, UserType, VaultId, VaultPermissions,
};

/// Plays an invitee accepting an invitation: (email, name).
pub type Accept<'a> = dyn Fn(&str, &str) + Sync + 'a;

/// A backend under test and what the suite needs to address it.
pub struct Backend<'a> {
    /// The backend.
    pub dir: &'a dyn Directory,
    /// The same backend listing in pages of two, when it pages.
    pub paged: Option<&'a dyn Directory>,
    /// Keeps names unique when one server serves several runs.
    pub tag: &'a str,
    /// An existing group with no members, to add people to.
    pub group: GroupId,
    /// For backends that need confirmation: plays the invitee accepting (email, name).
    pub accept: Option<&'a Accept<'a>>,
    /// For backends with vault access: a vault the backend may manage.
    pub vault: Option<VaultId>,
}

/// What the suite created, for backend-specific checks afterwards.
pub struct Outcome {
    /// Alice, Bob, Carol, Dave (active at the end) and Erin (removed), in that order.
    pub people: Vec<UserId>,
    /// The emails of `people`.
    pub emails: Vec<String>,
}

fn email(who: &str, tag: &str) -> String {
    format!("{who}.{tag}@conf.example")
}

fn not_supported<T: std::fmt::Debug>(what: &str, r: Result<T, Error>) {
    assert!(
        matches!(r, Err(Error::NotSupported { .. })),
        "{what}: expected NotSupported, got {r:?}"
    );
}

/// Invites someone and, where the backend needs it, has them accept and confirms them.
async fn onboard(b: &Backend<'_>, address: &str, name: &str, kind: UserType) -> User {
    let caps = b.dir.capabilities();
    let inv = b
        .dir
        .invite(address, name, kind)
        .await
        .unwrap_or_else(|e| panic!("invite {address}: {e}"));
    assert!(!inv.id.is_empty());
    assert_eq!(inv.email, address.to_lowercase());
    if caps.confirmation {
        let accept = b
            .accept
            .expect("a backend with confirmation needs an accept hook");
        accept(address, name);
        let pending = b.dir.find_user(address).await.unwrap().expect("accepted");
        assert_eq!(pending.state, UserState::Pending, "{pending:?}");
        b.dir
            .confirm(UserRef::Email(address.to_owned()))
            .await
            .unwrap_or_else(|e| panic!("confirm {address}: {e}"));
    }
    let user = b
        .dir
        .find_user(address)
        .await
        .expect("find")
        .unwrap_or_else(|| panic!("{address} is listed after the invitation"));
    if !caps.confirmation {
        assert_eq!(
            inv.id,
            user.id.as_str(),
            "without confirmation the invitation is the user"
        );
    }
    user
}

/// Runs the suite.
pub async fn run(b: &Backend<'_>) -> Outcome {
    let dir = b.dir;
    let tag = b.tag;
    let caps = dir.capabilities();

    // Onboarding.
    let names = ["alice", "bob", "carol", "dave", "erin"];
    let mut ids = Vec::new();
    for p in names {
        let u = onboard(b, &email(p, tag), &format!("{p} Tester"), UserType::Member).await;
        assert_eq!(u.state, UserState::Active, "{u:?}");
        assert_eq!(u.name, format!("{p} Tester"));
        ids.push(u.id);
    }
    // A userName that needs escaping in a filter.
    let tricky = format!("o\"brien\\{tag}@conf.example");
    let tricky_id = onboard(b, &tricky, "Quote Tester", UserType::Member)
        .await
        .id;
    let duplicate = dir
        .invite(&email("alice", tag), "Again", UserType::Member)
        .await;
    assert!(
        duplicate.is_err(),
        "a duplicate email must be refused: {duplicate:?}"
    );

    // Listing, and paging in small pages gives the same set.
    let all = dir.users().await.expect("list users");
    for id in ids.iter().chain([&tricky_id]) {
        let u = all
            .iter()
            .find(|u| &u.id == id)
            .expect("created user listed");
        assert_eq!(u.state, UserState::Active);
        assert_eq!(u.user_type, UserType::Member);
        assert_eq!(u.last_sign_in, None, "nobody new has signed in");
    }
    let alice = all.iter().find(|u| u.id == ids[0]).unwrap();
    assert_eq!(alice.email, email("alice", tag));
    assert_eq!(alice.name, "alice Tester");
    if let Some(paged) = b.paged {
        let mut x: Vec<_> = all.iter().map(|u| u.id.clone()).collect();
        let mut y: Vec<_> = paged
            .users()
            .await
            .expect("list in pages")
            .into_iter()
            .map(|u| u.id)
            .collect();
        x.sort();
        y.sort();
        assert_eq!(x, y, "paging in pages of 2 lists the same users");
    }

    // Finding by email: case-insensitive, escaped, absent.
    let found = dir
        .find_user(&email("CAROL", tag))
        .await
        .expect("find")
        .expect("carol found, case-insensitively");
    assert_eq!(found.id, ids[2]);
    let found = dir.find_user(&tricky).await.expect("find").expect("found");
    assert_eq!(found.id, tricky_id);
    assert!(
        dir.find_user("nobody@conf.example")
            .await
            .expect("find")
            .is_none()
    );

    // Suspend and reactivate, by email and by id; the answer is the person as they now are.
    let dave = UserRef::Email(email("dave", tag));
    let s = dir.suspend(dave.clone()).await.expect("suspend");
    assert_eq!(
        (s.id.clone(), s.state),
        (ids[3].clone(), UserState::Suspended)
    );
    let again = dir.find_user(&email("dave", tag)).await.unwrap().unwrap();
    assert_eq!(again.state, UserState::Suspended);
    let back = dir
        .reactivate(ids[3].clone().into())
        .await
        .expect("reactivate");
    assert_eq!(back.state, UserState::Active);
    let again = dir.find_user(&email("dave", tag)).await.unwrap().unwrap();
    assert_eq!(again.state, UserState::Active);
    let unknown = dir.suspend(UserId::new("0000nonexistent0000").into()).await;
    assert!(
        matches!(unknown, Err(Error::NotFound { .. })),
        "{unknown:?}"
    );

    // Groups and membership.
    if caps.groups {
        membership(b, &ids).await;
    } else {
        not_supported(
            "groups",
            dir.add_to_group(&b.group, ids[0].clone().into(), GroupRole::Member)
                .await,
        );
    }

    // Removal: erased or suspended, and the answer says which.
    let gone = dir
        .remove(ids[4].clone().into())
        .await
        .expect("remove user");
    assert_eq!(gone.id, ids[4]);
    let after = dir.find_user(&email("erin", tag)).await.expect("find");
    match gone.state {
        UserState::Deleted => assert!(after.is_none(), "{after:?}"),
        UserState::Suspended => {
            assert_eq!(after.expect("still listed").state, UserState::Suspended)
        }
        other => panic!("remove answered {other}"),
    }

    // Vault access.
    let before = dir.users().await.expect("list");
    match (&b.vault, caps.vault_access) {
        (Some(vault), true) => {
            let granted = dir
                .grant_vault_access(vault, ids[1].clone().into(), VaultPermissions::RWE)
                .await
                .expect("grant");
            assert!(
                matches!(granted, GrantOutcome::Granted { .. }),
                "{granted:?}"
            );
            let revoked = dir
                .revoke_vault_access(vault, ids[1].clone().into())
                .await
                .expect("revoke");
            assert!(
                matches!(revoked, RevokeOutcome::Revoked { .. }),
                "{revoked:?}"
            );
        }
        (_, true) => panic!("a backend with vault access needs a vault to test"),
        (_, false) => {
            let vault = VaultId::new("v");
            not_supported(
                "grant",
                dir.grant_vault_access(&vault, ids[1].clone().into(), VaultPermissions::RWE)
                    .await,
            );
            not_supported(
                "revoke",
                dir.revoke_vault_access(&vault, ids[1].clone().into()).await,
            );
        }
    }

    // Guests.
    let guest = email("guest", tag);
    if caps.guests {
        let g = onboard(b, &guest, "Gus Guest", UserType::Guest).await;
        assert_eq!(g.user_type, UserType::Guest);
    } else {
        not_supported(
            "inviting a guest",
            dir.invite(&guest, "G", UserType::Guest).await,
        );
        assert!(dir.find_user(&guest).await.expect("find").is_none());
    }

    // Confirmation.
    if !caps.confirmation {
        not_supported("confirm", dir.confirm(ids[1].clone().into()).await);
    }
    if !caps.vault_access {
        let after = dir.users().await.expect("list");
        assert_eq!(before, after, "refused calls change nothing");
    }

    Outcome {
        people: ids,
        emails: names.iter().map(|n| email(n, tag)).collect(),
    }
}

fn members_of(groups: &[opadmin::Group], group: &GroupId) -> Vec<(UserId, GroupRole)> {
    let g = groups
        .iter()
        .find(|g| &g.id == group)
        .expect("group listed");
    g.members.iter().map(|m| (m.user.clone(), m.role)).collect()
}

async fn membership(b: &Backend<'_>, ids: &[UserId]) {
    let dir = b.dir;
    let group = &b.group;
    let listed = dir.groups().await.expect("list groups");
    assert!(
        members_of(&listed, group).is_empty(),
        "the test group starts empty"
    );
    let added = dir
        .add_to_group(group, ids[0].clone().into(), GroupRole::Member)
        .await
        .expect("add member");
    assert_eq!(
        added,
        MembershipOutcome::Added {
            role: GroupRole::Member
        }
    );
    dir.add_to_group(
        group,
        UserRef::Email(email("bob", b.tag)),
        GroupRole::Member,
    )
    .await
    .expect("add second member by email");
    let members = members_of(&dir.groups().await.expect("list groups"), group);
    // 1Password's recorded groups carry no members; a server that lists them must be right.
    if !members.is_empty() {
        assert!(
            members.contains(&(ids[0].clone(), GroupRole::Member)),
            "{members:?}"
        );
        assert!(
            members.contains(&(ids[1].clone(), GroupRole::Member)),
            "{members:?}"
        );
        assert_eq!(members.len(), 2, "{members:?}");
    }
    let twice = dir
        .add_to_group(group, ids[0].clone().into(), GroupRole::Member)
        .await
        .expect("add again");
    assert!(
        matches!(
            twice,
            MembershipOutcome::AlreadyMember { .. } | MembershipOutcome::Added { .. }
        ),
        "{twice:?}"
    );
    let removed = dir
        .remove_from_group(group, ids[0].clone().into())
        .await
        .expect("remove member");
    assert_eq!(removed, MembershipOutcome::Removed);
    let members = members_of(&dir.groups().await.expect("list groups"), group);
    assert!(!members.iter().any(|(u, _)| u == &ids[0]), "{members:?}");
    if !members.is_empty() {
        assert!(members.iter().any(|(u, _)| u == &ids[1]));
    }
    let not = dir
        .remove_from_group(group, ids[0].clone().into())
        .await
        .expect("remove again");
    assert!(
        matches!(
            not,
            MembershipOutcome::NotMember | MembershipOutcome::Removed
        ),
        "{not:?}"
    );

    // Group managers: supported (and then visible), or refused without a change.
    match dir
        .add_to_group(group, ids[2].clone().into(), GroupRole::Manager)
        .await
    {
        Ok(outcome) => {
            assert_eq!(
                outcome,
                MembershipOutcome::Added {
                    role: GroupRole::Manager
                }
            );
            let members = members_of(&dir.groups().await.expect("list"), group);
            assert!(
                members.contains(&(ids[2].clone(), GroupRole::Manager)),
                "{members:?}"
            );
            dir.remove_from_group(group, ids[2].clone().into())
                .await
                .expect("remove manager");
        }
        Err(e) => {
            assert!(matches!(e, Error::NotSupported { .. }), "{e:?}");
            let members = members_of(&dir.groups().await.expect("list"), group);
            assert!(!members.iter().any(|(u, _)| u == &ids[2]), "{members:?}");
        }
    }
    dir.remove_from_group(group, ids[1].clone().into())
        .await
        .expect("empty the group");
}

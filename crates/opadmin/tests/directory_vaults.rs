//! A connector that syncs vaults can program against `Directory` alone: vaults, their accessors,
//! group grants and permission changes through the trait object, on the b5 backend; the SCIM
//! backend refuses each before sending anything.

mod support;

use opadmin::{Accessor, Directory, Error, GrantOutcome, RevokeOutcome, ScimDirectory};
use opadmin::{UserRef, VaultPermissions};

#[tokio::test(flavor = "multi_thread")]
async fn vault_work_through_the_directory_trait() {
    let (emu, admin) = support::demo_owner().await;
    let dir: &dyn Directory = &admin;

    let vaults = dir.vaults().await.expect("vaults");
    let shared = vaults
        .iter()
        .find(|v| v.name == "Shared Logins")
        .expect("the demo vault")
        .id
        .clone();
    let marketing = dir
        .groups()
        .await
        .expect("groups")
        .into_iter()
        .find(|g| g.name == "Marketing")
        .expect("the demo group")
        .id;
    let has_marketing = |accessors: &[Accessor]| {
        accessors
            .iter()
            .any(|a| matches!(a, Accessor::Group { id, .. } if *id == marketing))
    };
    assert!(!has_marketing(&dir.vault_accessors(&shared).await.unwrap()));

    let granted = dir
        .grant_group_vault_access(&shared, &marketing, VaultPermissions::RWE)
        .await
        .expect("grant");
    assert!(
        matches!(granted, GrantOutcome::Granted { .. }),
        "{granted:?}"
    );
    assert!(has_marketing(&dir.vault_accessors(&shared).await.unwrap()));
    assert_eq!(
        emu.vault_access(shared.as_str(), marketing.as_str())
            .map(|a| a.bits()),
        Some(VaultPermissions::RWE.bits())
    );

    let revoked = dir
        .revoke_group_vault_access(&shared, &marketing)
        .await
        .expect("revoke");
    assert!(
        matches!(revoked, RevokeOutcome::Revoked { .. }),
        "{revoked:?}"
    );
    assert!(!has_marketing(&dir.vault_accessors(&shared).await.unwrap()));

    // Alice has direct access to Shared Logins in the demo account.
    let set = dir
        .set_vault_permissions(
            &shared,
            UserRef::from("alice@acme.example"),
            VaultPermissions::RWE,
        )
        .await
        .expect("set permissions");
    assert!(set.contains(VaultPermissions::RWE), "{set}");
}

#[tokio::test(flavor = "multi_thread")]
async fn scim_refuses_vault_work_before_sending_anything() {
    let (emu, _admin) = support::demo_owner().await;
    let scim = ScimDirectory::new(&emu.scim_url(), emu.scim_token()).expect("scim");
    let dir: &dyn Directory = &scim;
    let vault = emu.vault_uuid("Shared Logins").unwrap().into();
    let group = emu.group_uuid("Marketing").unwrap().into();
    let before = emu.requests_served();
    let refused = [
        dir.vaults().await.map(|_| ()).unwrap_err(),
        dir.vault_accessors(&vault).await.map(|_| ()).unwrap_err(),
        dir.grant_group_vault_access(&vault, &group, VaultPermissions::RWE)
            .await
            .map(|_| ())
            .unwrap_err(),
        dir.revoke_group_vault_access(&vault, &group)
            .await
            .map(|_| ())
            .unwrap_err(),
        dir.set_vault_permissions(
            &vault,
            UserRef::from("alice@acme.example"),
            VaultPermissions::RWE,
        )
        .await
        .map(|_| ())
        .unwrap_err(),
    ];
    for e in &refused {
        assert!(matches!(e, Error::NotSupported { .. }), "{e:?}");
    }
    assert_eq!(emu.requests_served(), before, "nothing was sent");
}

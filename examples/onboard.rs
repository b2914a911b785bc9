//! Onboarding: invite, confirm, add to groups, grant vaults.
//!
//! `cargo run --example onboard [EMAIL] [GROUP_NAME] [VAULT_NAME]`. With the embedded emulator the
//! invitee's acceptance is played by the emulator; with a real account, confirmation happens once
//! the person has accepted the emailed invitation (run again then).

mod common;

use opadmin::{GroupRole, UserState, UserType, VaultPermissions};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let email = args
        .next()
        .unwrap_or_else(|| "new.hire@acme.example".into());
    let group_name = args.next().unwrap_or_else(|| "Engineering".into());
    let vault_name = args.next().unwrap_or_else(|| "Shared Logins".into());
    let conn = common::connect().await?;
    let admin = &conn.admin;

    let existing = admin
        .users()
        .await?
        .into_iter()
        .find(|u| u.email == email.to_lowercase());
    if existing.is_none() {
        let inv = admin
            .invite(&email, "New Hire", UserType::Member, &[])
            .await?;
        println!("invited {} (invitation {})", inv.email, inv.id);
        match &conn.emulator {
            Some(emu) => {
                emu.accept_invitation(&email, "New Hire")?;
                println!("(emulator) {email} accepted the invitation");
            }
            None => {
                println!(
                    "{email} must accept the emailed invitation; run this again afterwards to confirm them."
                );
                return Ok(());
            }
        }
    }
    let user = admin.resolve_user(email.as_str()).await?;
    if user.state == UserState::Pending {
        admin.confirm(&user.id).await?;
        println!("confirmed {}", user.email);
    }
    let snap = admin.sync().await?;
    if let Some(g) = snap.group_by_name(&group_name) {
        println!(
            "add to group {}: {:?}",
            g.name,
            admin
                .add_to_group(&g.id, &user.id, GroupRole::Member)
                .await?
        );
    }
    if let Some(v) = snap.vault_by_name(&vault_name) {
        println!(
            "grant vault {}: {:?}",
            v.name,
            admin
                .grant_vault_access(&v.id, &user.id, VaultPermissions::RWE)
                .await?
        );
    }
    Ok(())
}

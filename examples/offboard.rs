//! Offboarding: suspend (or `--remove`) a person, revoke their direct vault access, and report
//! the access that remains through groups (remove them from those groups to end it).
//!
//! `cargo run --example offboard [EMAIL] [--remove]`.

mod common;

use opadmin::{RevokeOutcome, UserState};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let remove = args.iter().any(|a| a == "--remove");
    let email = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .cloned()
        .unwrap_or_else(|| "alice@acme.example".into());
    let conn = common::connect().await?;
    let admin = &conn.admin;
    let snap = admin.sync().await?;
    let user = snap
        .user_by_email(&email)
        .ok_or_else(|| format!("no user {email} visible to this administrator"))?
        .clone();

    for vault in snap
        .vaults
        .iter()
        .filter(|v| v.user_access.iter().any(|a| a.user == user.id))
    {
        match admin.revoke_vault_access(&vault.id, &user.id).await {
            Ok(RevokeOutcome::Revoked { still_via_groups }) if still_via_groups.is_empty() => {
                println!("{:<20} direct access revoked", vault.name)
            }
            Ok(RevokeOutcome::Revoked { still_via_groups })
            | Ok(RevokeOutcome::NoDirectAccess {
                via_groups: still_via_groups,
            }) => {
                let names: Vec<String> = still_via_groups
                    .iter()
                    .map(|g| {
                        snap.groups
                            .iter()
                            .find(|x| x.id == g.group)
                            .map_or(g.group.to_string(), |x| x.name.clone())
                    })
                    .collect();
                println!(
                    "{:<20} access remains through groups: {}",
                    vault.name,
                    names.join(", ")
                );
            }
            Ok(other) => println!("{:<20} {other:?}", vault.name),
            Err(e) => println!("{:<20} {e}", vault.name),
        }
    }
    if remove {
        admin.remove(&user.id).await?;
        println!("removed {}", user.email);
    } else if user.state != UserState::Suspended {
        admin.suspend(&user.id).await?;
        println!("suspended {}", user.email);
    }
    Ok(())
}

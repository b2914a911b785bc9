//! The table a SaaS-management tool shows: every user with status and last sign-in.
//!
//! `cargo run --example sync_users` (embedded emulator), or with `OPADMIN_*` set for a real account.

mod common;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let conn = common::connect().await?;
    let snapshot = conn.admin.sync().await?;
    println!(
        "{} ({}, {} users, {} groups, {} vaults)",
        snapshot.account.name,
        snapshot.account.plan,
        snapshot.users.len(),
        snapshot.groups.len(),
        snapshot.vaults.len()
    );
    println!();
    println!(
        "{:<30} {:<24} {:<24} {:<8} LAST SIGN-IN",
        "EMAIL", "NAME", "STATUS", "TYPE"
    );
    let mut users = snapshot.users.clone();
    users.sort_by(|a, b| a.email.cmp(&b.email));
    for u in &users {
        println!(
            "{:<30} {:<24} {:<24} {:<8} {}",
            u.email,
            u.name,
            u.state.to_string(),
            u.user_type.to_string(),
            common::when(u.last_sign_in)
        );
    }
    Ok(())
}

//! The grant and revoke rules, each outcome shown on the demo account:
//! already direct, covered by a group, granted; revoked with group access remaining, nothing
//! direct to revoke; and the Manage Vault error.
//!
//! Against a real account pass `VAULT_UUID EMAIL` to grant and then revoke one person.

mod common;

use opadmin::{Admin, VaultId, VaultPermissions};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let conn = common::connect().await?;
    let admin = &conn.admin;
    let args: Vec<String> = std::env::args().skip(1).collect();
    if conn.emulator.is_none() {
        let [vault, email] = &args[..] else {
            return Err("against a real account, pass VAULT_UUID EMAIL".into());
        };
        let vault = VaultId::new(vault);
        println!(
            "grant  -> {:?}",
            admin
                .grant_vault_access(&vault, email.as_str(), VaultPermissions::RWE)
                .await?
        );
        println!(
            "revoke -> {:?}",
            admin.revoke_vault_access(&vault, email.as_str()).await?
        );
        return Ok(());
    }
    let snap = admin.sync().await?;
    let id = |name: &str| {
        snap.vault_by_name(name)
            .map(|v| v.id.clone())
            .ok_or("demo vault missing")
    };
    let rwe = VaultPermissions::RWE;
    println!(
        "grant Alice Shared Logins (she has it directly): {:?}",
        admin
            .grant_vault_access(&id("Shared Logins")?, "alice@acme.example", rwe)
            .await?
    );
    println!(
        "grant Alice Engineering (through her group):     {:?}",
        admin
            .grant_vault_access(&id("Engineering")?, "alice@acme.example", rwe)
            .await?
    );
    let edit: VaultPermissions = "edit_items".parse()?;
    println!(
        "grant Bob Engineering edit_items:                {:?}",
        admin
            .grant_vault_access(&id("Engineering")?, "bob@acme.example", edit)
            .await?
    );
    println!("  (edit_items brought {})", edit.with_dependencies());
    println!(
        "revoke Bob Engineering:                          {:?}",
        admin
            .revoke_vault_access(&id("Engineering")?, "bob@acme.example")
            .await?
    );
    println!(
        "revoke Alice Engineering (group only):           {:?}",
        admin
            .revoke_vault_access(&id("Engineering")?, "alice@acme.example")
            .await?
    );

    // An administrator whom the Finance vault's creator excluded.
    let emu = conn.emulator.as_ref().ok_or("emulator")?;
    let it = emu
        .credentials("it-admin@acme.example")
        .ok_or("demo admin")?;
    let it_admin = Admin::builder()
        .address(emu.address())
        .credentials(&it.email, &it.password, &it.secret_key)
        .build()
        .await?;
    match it_admin
        .grant_vault_access(&id("Finance")?, "bob@acme.example", rwe)
        .await
    {
        Err(e) => println!("IT admin grants Bob Finance:                      error: {e}"),
        Ok(o) => println!("IT admin grants Bob Finance:                      {o:?}"),
    }
    Ok(())
}

//! Shared by the examples: sign in to a real account when `OPADMIN_ADDRESS`, `OPADMIN_EMAIL`,
//! `OPADMIN_PASSWORD` and `OPADMIN_SECRET_KEY` are set (and `OPADMIN_TOTP_SECRET` if the account
//! asks for a second factor), otherwise to an embedded emulator serving the demo account.
#![allow(dead_code)]

use opadmin::Admin;
use opadmin_emulator::{Emulator, EmulatorConfig, RunningEmulator, demo_account};

/// A signed-in administrator, and the emulator behind it when there is one.
pub struct Connection {
    pub admin: Admin,
    pub emulator: Option<RunningEmulator>,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

pub async fn connect() -> Result<Connection, Box<dyn std::error::Error>> {
    if let (Some(address), Some(email), Some(password), Some(secret_key)) = (
        env("OPADMIN_ADDRESS"),
        env("OPADMIN_EMAIL"),
        env("OPADMIN_PASSWORD"),
        env("OPADMIN_SECRET_KEY"),
    ) {
        let mut builder = Admin::builder()
            .address(address)
            .credentials(email, password, secret_key);
        if let Some(totp) = env("OPADMIN_TOTP_SECRET") {
            builder = builder.totp_secret(totp);
        }
        return Ok(Connection {
            admin: builder.build().await?,
            emulator: None,
        });
    }
    eprintln!(
        "(no OPADMIN_* credentials set: using an embedded emulator with the demo account \"Acme Corp\")"
    );
    let emulator = Emulator::start(EmulatorConfig::default(), demo_account()).await?;
    let owner = emulator.owner().clone();
    let admin = Admin::builder()
        .address(emulator.address())
        .credentials(owner.email, owner.password, owner.secret_key)
        .build()
        .await?;
    Ok(Connection {
        admin,
        emulator: Some(emulator),
    })
}

/// A timestamp for people: `2026-11-20 08:15`, or `never`.
pub fn when(t: Option<time::OffsetDateTime>) -> String {
    match t {
        Some(t) => format!(
            "{:04}-{:02}-{:02} {:02}:{:02}",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute()
        ),
        None => "never".into(),
    }
}

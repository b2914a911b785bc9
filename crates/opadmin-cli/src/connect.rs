//! Signing in: credentials from flags, environment, stdin or a prompt; or a fresh embedded
//! emulator with the demo account.

use std::io::{IsTerminal, Read};

use opadmin::Admin;
use opadmin_emulator::{Emulator, EmulatorConfig, RunningEmulator, demo_account};

use crate::cli::ConnectionArgs;
use crate::exit::CliError;
use crate::progress;

/// The demo people who can sign in to the emulator.
pub const DEMO_SIGN_INS: &[&str] = &["admin@acme.example", "it-admin@acme.example"];

/// How this run signs in, gathered before anything is sent. `Debug` shows no secret.
#[derive(Debug)]
pub enum Login {
    /// A fresh embedded emulator, signed in as this demo person (the owner if `None`).
    Emulator(Option<String>),
    /// A real account.
    Account(Box<AccountLogin>),
}

/// Credentials of a real account. `Debug` shows the address and email only.
pub struct AccountLogin {
    /// Sign-in address.
    pub address: String,
    /// Email.
    pub email: String,
    /// Account password.
    pub password: String,
    /// Secret Key.
    pub secret_key: String,
    /// TOTP secret, if any.
    pub totp_secret: Option<String>,
}

impl std::fmt::Debug for AccountLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountLogin")
            .field("address", &self.address)
            .field("email", &self.email)
            .field("password", &"<redacted>")
            .field("secret_key", &"<redacted>")
            .field("totp_secret", &crate::cli::redacted(&self.totp_secret))
            .finish()
    }
}

/// A signed-in administrator, and the emulator behind it when there is one.
pub struct Session {
    /// The administrator.
    pub admin: Admin,
    /// The emulator, kept alive for the command's lifetime.
    pub emulator: Option<RunningEmulator>,
}

fn nonempty(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

/// Reads one secret from a prompt without echo, when stdin is a terminal.
fn prompt(what: &str) -> Result<Option<String>, CliError> {
    if !std::io::stdin().is_terminal() {
        return Ok(None);
    }
    let answer = rpassword::prompt_password(format!("{what}: ")).map_err(|e| {
        CliError::Usage(format!("could not read the {what} from the terminal: {e}"))
    })?;
    Ok(Some(answer.trim_end_matches(['\r', '\n']).to_owned()).filter(|s| !s.is_empty()))
}

/// Works out how to sign in, reading stdin or prompting where asked or needed. Nothing is
/// sent yet.
pub fn gather(args: &ConnectionArgs) -> Result<Login, CliError> {
    if args.emulator || args.emulator_as.is_some() {
        return Ok(Login::Emulator(nonempty(&args.emulator_as)));
    }
    let address = nonempty(&args.address).ok_or_else(|| {
        CliError::Usage(
            "no sign-in address: pass --address or set OPADMIN_ADDRESS (or try the demo account with --emulator)".into(),
        )
    })?;
    let email = nonempty(&args.email)
        .ok_or_else(|| CliError::Usage("no email: pass --email or set OPADMIN_EMAIL".into()))?;
    let mut from_stdin = Vec::new();
    if args.password_stdin {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| CliError::Usage(format!("could not read stdin: {e}")))?;
        from_stdin = text
            .lines()
            .map(|l| l.trim_end_matches('\r').to_owned())
            .collect();
    }
    let mut lines = from_stdin.into_iter();
    let password = if args.password_stdin {
        lines.next().filter(|p| !p.is_empty())
    } else {
        args.password.clone().filter(|p| !p.is_empty())
    };
    let password = match password {
        Some(p) => p,
        None => prompt("Account password")?.ok_or_else(|| {
            CliError::Usage(
                "no account password: set OPADMIN_PASSWORD, pass --password-stdin, or run in a terminal to be prompted".into(),
            )
        })?,
    };
    let secret_key = match nonempty(&args.secret_key).or_else(|| {
        lines
            .next()
            .map(|l| l.trim().to_owned())
            .filter(|l| !l.is_empty())
    }) {
        Some(k) => k,
        None => prompt("Secret Key")?.ok_or_else(|| {
            CliError::Usage(
                "no Secret Key: set OPADMIN_SECRET_KEY, pass it on the second line of --password-stdin, or run in a terminal to be prompted".into(),
            )
        })?,
    };
    Ok(Login::Account(Box::new(AccountLogin {
        address,
        email,
        password,
        secret_key,
        totp_secret: nonempty(&args.totp_secret),
    })))
}

/// Starts a fresh emulator serving the demo account.
pub async fn start_emulator() -> Result<RunningEmulator, CliError> {
    let pb = progress::spinner("Starting the embedded emulator (demo account \"Acme Corp\")");
    let emulator = Emulator::start(EmulatorConfig::default(), demo_account())
        .await
        .map_err(|e| CliError::Other(format!("could not start the embedded emulator: {e}")));
    pb.finish_and_clear();
    emulator
}

/// Signs a demo person in to a running emulator.
pub async fn sign_in_to_emulator(
    emulator: &RunningEmulator,
    email: &str,
    concurrency: usize,
) -> Result<Admin, CliError> {
    let creds = emulator.credentials(email).ok_or_else(|| {
        CliError::Usage(format!(
            "{email} cannot sign in to the demo account; use one of {}",
            DEMO_SIGN_INS.join(", ")
        ))
    })?;
    let pb = progress::spinner(format!("Signing in to the emulator as {}", creds.email));
    let admin = Admin::builder()
        .address(emulator.address())
        .credentials(&creds.email, &creds.password, &creds.secret_key)
        .concurrency(concurrency)
        .build()
        .await;
    pb.finish_and_clear();
    Ok(admin?)
}

/// Signs in as gathered.
pub async fn sign_in(login: Login, concurrency: usize) -> Result<Session, CliError> {
    match login {
        Login::Emulator(who) => {
            let emulator = start_emulator().await?;
            let email = who.unwrap_or_else(|| emulator.owner().email.clone());
            eprintln!(
                "Using an embedded emulator with the demo account \"Acme Corp\", signed in as {email}; its changes end with this command."
            );
            let admin = sign_in_to_emulator(&emulator, &email, concurrency).await?;
            Ok(Session {
                admin,
                emulator: Some(emulator),
            })
        }
        Login::Account(login) => {
            let AccountLogin {
                address,
                email,
                password,
                secret_key,
                totp_secret,
            } = *login;
            let pb = progress::spinner(format!("Signing in to {address} as {email}"));
            let mut builder = Admin::builder()
                .address(address)
                .credentials(email, password, secret_key)
                .concurrency(concurrency);
            match totp_secret {
                Some(totp) => builder = builder.totp_secret(totp),
                None if std::io::stdin().is_terminal() => {
                    let pb = pb.clone();
                    builder = builder.mfa_callback(move |_challenge| {
                        pb.suspend(|| prompt("One-time password (6 digits)"))
                            .ok()
                            .flatten()
                    });
                }
                None => {}
            }
            let admin = builder.build().await;
            pb.finish_and_clear();
            Ok(Session {
                admin: admin?,
                emulator: None,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_of_a_login_shows_no_secret() {
        let login = Login::Account(Box::new(AccountLogin {
            address: "acme.1password.com".into(),
            email: "ops@acme.example".into(),
            password: "correct-horse-battery-staple".into(),
            secret_key: "A3-K7PQ2M-XW94HT-8FJ3N-ZR6VB-C5LY2-QH7TD".into(),
            totp_secret: Some("JBSWY3DPEHPK3PXPJBSWY3DP".into()),
        }));
        for shown in [format!("{login:?}"), format!("{login:#?}")] {
            for secret in ["horse", "K7PQ2M", "XW94HT", "QH7TD", "JBSWY3"] {
                assert!(!shown.contains(secret), "{secret} in {shown}");
            }
            assert!(shown.contains("ops@acme.example"), "{shown}");
        }
        let emulator = Login::Emulator(Some("admin@acme.example".into()));
        assert!(format!("{emulator:?}").contains("admin@acme.example"));
    }
}

//! Signing in: credentials from flags, environment, stdin or a prompt, as the device kept in
//! the device file; or a fresh embedded emulator with the demo account.

use std::io::{IsTerminal, Read};
use std::path::PathBuf;

use opadmin::{Admin, RememberToken};
#[cfg(feature = "emulator")]
use opadmin_emulator::{Emulator, EmulatorConfig, RunningEmulator, demo_account};

use crate::cli::ConnectionArgs;
use crate::device_file::{self, DeviceEntry};
use crate::exit::CliError;
use crate::progress;

/// The demo people who can sign in to the emulator.
#[cfg(feature = "emulator")]
pub const DEMO_SIGN_INS: &[&str] = &["admin@acme.example", "it-admin@acme.example"];

/// What `--emulator` and `demo` say in a build without the embedded emulator.
#[cfg(not(feature = "emulator"))]
pub const NO_EMULATOR: &str = "this opadmin was built without the `emulator` cargo feature, so \
     --emulator, --emulator-as and demo are not available; rebuild with the feature (it is on by \
     default: drop --no-default-features, or add --features emulator)";

/// How this run signs in, gathered before anything is sent. `Debug` shows no secret.
#[derive(Debug)]
pub enum Login {
    /// A fresh embedded emulator, signed in as this demo person (the owner if `None`).
    #[cfg(feature = "emulator")]
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
    /// Where the device identity is kept, unless `--no-device-file`.
    pub device: Option<DeviceChoice>,
}

/// The device file in use for this sign-in, and what it held. `Debug` redacts the token.
#[derive(Debug)]
pub struct DeviceChoice {
    /// The file.
    pub path: PathBuf,
    /// Whether to offer and keep the remember-this-device token (`--remember-device`).
    pub remember: bool,
    /// The entry stored for this address and email, if any.
    pub stored: Option<DeviceEntry>,
}

impl std::fmt::Debug for AccountLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountLogin")
            .field("address", &self.address)
            .field("email", &self.email)
            .field("password", &"<redacted>")
            .field("secret_key", &"<redacted>")
            .field("totp_secret", &crate::cli::redacted(&self.totp_secret))
            .field("device", &self.device)
            .finish()
    }
}

/// A signed-in administrator, and the emulator behind it when there is one.
pub struct Session {
    /// The administrator.
    pub admin: Admin,
    /// The emulator, kept alive for the command's lifetime.
    #[cfg(feature = "emulator")]
    pub emulator: Option<RunningEmulator>,
}

impl Session {
    /// True when the session is on the embedded emulator (nothing to sign out of).
    pub fn is_emulated(&self) -> bool {
        #[cfg(feature = "emulator")]
        {
            self.emulator.is_some()
        }
        #[cfg(not(feature = "emulator"))]
        {
            false
        }
    }
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
        #[cfg(feature = "emulator")]
        return Ok(Login::Emulator(nonempty(&args.emulator_as)));
        #[cfg(not(feature = "emulator"))]
        return Err(CliError::Usage(NO_EMULATOR.into()));
    }
    let address = nonempty(&args.address).ok_or_else(|| {
        CliError::Usage(
            "no sign-in address: pass --address or set OPADMIN_ADDRESS (or try the demo account with --emulator)".into(),
        )
    })?;
    let email = nonempty(&args.email)
        .ok_or_else(|| CliError::Usage("no email: pass --email or set OPADMIN_EMAIL".into()))?;
    // The device file is read before any secret is asked for: a corrupt one stops here.
    let device = device_choice(args, &address, &email)?;
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
        device,
    })))
}

/// Which device file this run uses, and what it holds for this address and email.
fn device_choice(
    args: &ConnectionArgs,
    address: &str,
    email: &str,
) -> Result<Option<DeviceChoice>, CliError> {
    if args.no_device_file {
        if args.remember_device {
            return Err(CliError::Usage(
                "--remember-device keeps the token in the device file, and --no-device-file (or OPADMIN_NO_DEVICE_FILE) turns the file off; drop one of them".into(),
            ));
        }
        return Ok(None);
    }
    let chosen = args
        .device_file
        .clone()
        .filter(|p| !p.as_os_str().is_empty());
    let Some(path) = chosen.or_else(device_file::default_path) else {
        eprintln!(
            "warning: no configuration directory (neither XDG_CONFIG_HOME nor HOME is set), so no device file is kept and this run registers a new device; pass --device-file PATH."
        );
        return Ok(None);
    };
    let stored = device_file::load(&path, address, email)?;
    if args.remember_device
        && stored.as_ref().is_some_and(|s| s.remember_token.is_some())
        && device_file::readable_by_others(&path)
    {
        eprintln!(
            "warning: the device file {} holds a remember-this-device token and can be read by other users; make it readable by its owner only (chmod 600).",
            path.display()
        );
    }
    Ok(Some(DeviceChoice {
        path,
        remember: args.remember_device,
        stored,
    }))
}

/// Starts a fresh emulator serving the demo account.
#[cfg(feature = "emulator")]
pub async fn start_emulator() -> Result<RunningEmulator, CliError> {
    let pb = progress::spinner("Starting the embedded emulator (demo account \"Acme Corp\")");
    let emulator = Emulator::start(EmulatorConfig::default(), demo_account())
        .await
        .map_err(|e| CliError::Other(format!("could not start the embedded emulator: {e}")));
    pb.finish_and_clear();
    emulator
}

/// Signs a demo person in to a running emulator.
#[cfg(feature = "emulator")]
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
        #[cfg(feature = "emulator")]
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
        Login::Account(login) => Ok(Session {
            admin: sign_in_to_account(*login, concurrency).await?,
            #[cfg(feature = "emulator")]
            emulator: None,
        }),
    }
}

/// Signs in to a real account as the stored device (offering the stored remember token with
/// `--remember-device`), then keeps the device in the device file.
async fn sign_in_to_account(login: AccountLogin, concurrency: usize) -> Result<Admin, CliError> {
    let pb = progress::spinner(format!(
        "Signing in to {} as {}",
        login.address, login.email
    ));
    let device = login.device.as_ref();
    let stored = device.and_then(|d| d.stored.as_ref());
    let offered = device
        .filter(|d| d.remember)
        .and(stored)
        .and_then(|s| s.remember_token.clone());
    let can_answer = login.totp_secret.is_some() || std::io::stdin().is_terminal();
    let mut result = attempt(&login, offered.clone(), concurrency, &pb).await;
    let mut rejected = false;
    if offered.is_some() && matches!(result, Err(opadmin::Error::BadCredentials)) {
        if can_answer {
            // A 401 at sign-in does not tell a wrong password from a refused token: try once
            // more without the token, answering the second factor with a code instead.
            pb.suspend(|| {
                eprintln!(
                    "note: signing in with the stored remember-this-device token failed; trying once more with a one-time code instead."
                )
            });
            rejected = true;
            result = attempt(&login, None, concurrency, &pb).await;
        } else {
            pb.suspend(|| {
                eprintln!(
                    "note: a stored remember-this-device token was offered; if the server no longer accepts it, sign in once with a one-time code (OPADMIN_TOTP_SECRET, or in a terminal) and --remember-device to store a new one."
                )
            });
        }
    }
    pb.finish_and_clear();
    let admin = result?;
    if let Some(device) = login.device {
        let previous = device.stored.and_then(|s| s.remember_token);
        let remember_token = if device.remember {
            admin
                .remember_token()
                .cloned()
                .or(if rejected { None } else { previous })
        } else {
            previous
        };
        let entry = DeviceEntry {
            address: login.address,
            email: login.email,
            device_uuid: admin.device_uuid().to_owned(),
            remember_token,
        };
        if let Err(e) = device_file::store(&device.path, entry) {
            eprintln!(
                "warning: {}; the next run registers a new device.",
                crate::exit::sentence(&e.to_string()).trim_end_matches('.')
            );
        }
    }
    Ok(admin)
}

/// One sign-in, as the stored device when there is one.
async fn attempt(
    login: &AccountLogin,
    offered: Option<RememberToken>,
    concurrency: usize,
    pb: &indicatif::ProgressBar,
) -> opadmin::Result<Admin> {
    let mut builder = Admin::builder()
        .address(login.address.as_str())
        .credentials(
            login.email.as_str(),
            login.password.as_str(),
            login.secret_key.as_str(),
        )
        .concurrency(concurrency);
    if let Some(stored) = login.device.as_ref().and_then(|d| d.stored.as_ref()) {
        builder = builder.device_uuid(stored.device_uuid.as_str());
    }
    if let Some(token) = offered {
        builder = builder.remember_token(token);
    }
    match &login.totp_secret {
        Some(totp) => builder = builder.totp_secret(totp.as_str()),
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
    builder.build().await
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
            device: Some(DeviceChoice {
                path: "/tmp/devices.json".into(),
                remember: true,
                stored: Some(DeviceEntry {
                    address: "acme.1password.com".into(),
                    email: "ops@acme.example".into(),
                    device_uuid: "rz64r4uhyvgew672nm4ncaqonq".into(),
                    remember_token: Some("gUhBItRHUI7vAc04TJNUkA".into()),
                }),
            }),
        }));
        for shown in [format!("{login:?}"), format!("{login:#?}")] {
            for secret in [
                "horse",
                "K7PQ2M",
                "XW94HT",
                "QH7TD",
                "JBSWY3",
                "gUhBItRHUI7",
            ] {
                assert!(!shown.contains(secret), "{secret} in {shown}");
            }
            assert!(shown.contains("ops@acme.example"), "{shown}");
            assert!(shown.contains("rz64r4uhyvgew672nm4ncaqonq"), "{shown}");
        }
        #[cfg(feature = "emulator")]
        {
            let emulator = Login::Emulator(Some("admin@acme.example".into()));
            assert!(format!("{emulator:?}").contains("admin@acme.example"));
        }
    }

    /// Without the `emulator` feature, the emulator flags are a usage error naming it.
    #[cfg(not(feature = "emulator"))]
    #[test]
    fn without_the_feature_the_emulator_flags_name_it() {
        use clap::Parser;
        for args in [
            &["opadmin", "--emulator", "users", "list"][..],
            &[
                "opadmin",
                "--emulator-as",
                "admin@acme.example",
                "groups",
                "list",
            ][..],
        ] {
            let cli = crate::cli::Cli::try_parse_from(args).expect("parses");
            let err = gather(&cli.connection).expect_err("refused");
            assert!(
                err.to_string().contains("`emulator` cargo feature"),
                "{err}"
            );
            assert_eq!(err.kind().code(), 2);
        }
    }
}

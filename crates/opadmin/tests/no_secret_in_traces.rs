//! No secret in any `tracing` event or span, at TRACE, over a whole flow: a password sign-in
//! with a second factor and a remembered device, sync, grant and revoke, people and groups, a
//! service-account sign-in, the SCIM backend, a session that expires and signs in again, and
//! failures (wrong password, wrong code, a refused token, a SCIM call with a wrong token).
//!
//! A subscriber of this test's own records every span's and event's fields as text (their
//! `Debug` forms, as any formatter would print them) and the test searches that text, and every
//! error's `Display` and `Debug`, for each secret.

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

use opadmin::{Admin, Directory, Error, ScimDirectory, VaultPermissions};
use opadmin_emulator::{
    AccountBuilder, Emulator, EmulatorConfig, PersonSpec, Role, RunningEmulator,
    ServiceAccountSpec, VaultSpec, acl,
};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// Records the text of every span and event.
struct Recorder {
    text: Arc<Mutex<String>>,
    next_id: std::sync::atomic::AtomicU64,
}

struct Fields<'a>(&'a mut String);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, " {}={:?}", field.name(), value);
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        let _ = write!(self.0, " {}={}", field.name(), value);
    }
}

impl Recorder {
    fn push(&self, f: impl FnOnce(&mut String)) {
        let mut text = self.text.lock().unwrap();
        f(&mut text);
        text.push('\n');
    }
}

impl Subscriber for Recorder {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        Some(tracing::level_filters::LevelFilter::TRACE)
    }
    fn new_span(&self, span: &Attributes<'_>) -> Id {
        self.push(|t| {
            let _ = write!(t, "span {}", span.metadata().name());
            span.record(&mut Fields(t));
        });
        Id::from_u64(
            self.next_id
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
                .max(1),
        )
    }
    fn record(&self, _: &Id, values: &Record<'_>) {
        self.push(|t| values.record(&mut Fields(t)));
    }
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        self.push(|t| {
            let _ = write!(t, "event {}", event.metadata().target());
            event.record(&mut Fields(t));
        });
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

fn account() -> AccountBuilder {
    AccountBuilder::new("Traced")
        .iterations(100_000)
        .enforce_mfa()
        .owner("boss@traced.example", "Boss", "pw-boss-Owner-1")
        .person(
            PersonSpec::new("ops@traced.example", "Ops")
                .role(Role::Administrator)
                .password("pw-ops-Very-Secret-2")
                .totp(),
        )
        .person(PersonSpec::new("alice@traced.example", "Alice").password("pw-alice-3"))
        .vault(VaultSpec::new("Shared").user("ops@traced.example", acl::RWE | acl::MANAGE))
        .service_account(ServiceAccountSpec::new("Robot").vault("Shared", acl::RWE))
}

#[tokio::test(flavor = "multi_thread")]
async fn no_secret_appears_in_any_trace_event_span_or_error() {
    let text = Arc::new(Mutex::new(String::new()));
    tracing::subscriber::set_global_default(Recorder {
        text: text.clone(),
        next_id: std::sync::atomic::AtomicU64::new(1),
    })
    .expect("the only subscriber of this test binary");

    let emu: RunningEmulator = Emulator::start(EmulatorConfig::default(), account())
        .await
        .expect("emulator starts");
    let ops = emu.credentials("ops@traced.example").unwrap().clone();
    let totp = ops.totp_secret.clone().expect("ops has a TOTP secret");
    let mut errors = String::new();
    let mut note = |e: &Error| {
        let _ = writeln!(errors, "{e} {e:?}");
    };

    // Password sign-in with a second factor; the remember token it hands out.
    let admin = Admin::builder()
        .address(emu.address())
        .credentials(&ops.email, &ops.password, &ops.secret_key)
        .totp_secret(&totp)
        .build()
        .await
        .expect("sign-in with TOTP");
    let remember = admin
        .remember_token()
        .expect("a remember token after a second factor")
        .expose_secret()
        .to_owned();
    let again = Admin::builder()
        .address(emu.address())
        .credentials(&ops.email, &ops.password, &ops.secret_key)
        .device_uuid(admin.device_uuid())
        .remember_token(remember.as_str())
        .build()
        .await
        .expect("sign-in with the remembered device");

    // Reads and writes.
    let snapshot = again.sync().await.expect("sync");
    let shared = snapshot.vault_by_name("Shared").unwrap().id.clone();
    again
        .grant_vault_access(&shared, "alice@traced.example", VaultPermissions::RWE)
        .await
        .expect("grant");
    again
        .revoke_vault_access(&shared, "alice@traced.example")
        .await
        .expect("revoke");
    again
        .suspend("alice@traced.example")
        .await
        .expect("suspend");
    again
        .reactivate("alice@traced.example")
        .await
        .expect("reactivate");

    // The session expires on the server: the next call signs in again (with the remembered
    // device) without the caller seeing it.
    emu.expire_sessions();
    again.users().await.expect("users after a sign-in again");

    // Failures: wrong password, wrong second factor, a refused service-account token.
    let wrong_password = Admin::builder()
        .address(emu.address())
        .credentials(&ops.email, "not-the-password-XYZ", &ops.secret_key)
        .totp_secret(&totp)
        .build()
        .await
        .unwrap_err();
    note(&wrong_password);
    let no_code = Admin::builder()
        .address(emu.address())
        .credentials(&ops.email, &ops.password, &ops.secret_key)
        .mfa_callback(|_| Some("000000".to_owned()))
        .build()
        .await
        .unwrap_err();
    note(&no_code);

    // A service account.
    let token = emu.service_account_token().expect("a service account");
    let robot = Admin::builder()
        .address(emu.address())
        .service_account_token(token.as_str())
        .build()
        .await
        .expect("service-account sign-in");
    robot.vaults().await.expect("service-account vaults");
    let refused = robot.users().await.unwrap_err();
    note(&refused);

    // SCIM, with the right and a wrong bearer token.
    let scim = ScimDirectory::new(&emu.scim_url(), emu.scim_token()).expect("scim");
    scim.users().await.expect("scim users");
    let wrong_scim = ScimDirectory::new(&emu.scim_url(), "wrong-bearer-token-QQQ")
        .expect("scim")
        .users()
        .await
        .unwrap_err();
    note(&wrong_scim);

    let owner = emu.owner().clone();
    let secrets: Vec<(&str, String)> = vec![
        ("ops password", ops.password.clone()),
        ("ops Secret Key", ops.secret_key.clone()),
        (
            "ops Secret Key without dashes",
            ops.secret_key.replace('-', ""),
        ),
        ("TOTP secret", totp.clone()),
        ("remember token", remember.clone()),
        ("owner password", owner.password.clone()),
        ("owner Secret Key", owner.secret_key.clone()),
        ("service-account token", token.clone()),
        // The part of the token after `ops_` carries the keys.
        ("service-account token body", token[4..].to_owned()),
        ("SCIM bearer token", emu.scim_token().to_owned()),
        ("wrong password", "not-the-password-XYZ".to_owned()),
        ("wrong SCIM token", "wrong-bearer-token-QQQ".to_owned()),
    ];

    let recorded = text.lock().unwrap().clone();
    assert!(
        recorded.contains("b5.request"),
        "the recorder saw the SDK's request spans"
    );
    assert!(
        recorded.lines().count() > 100,
        "the flow recorded {} lines only",
        recorded.lines().count()
    );
    for (what, secret) in &secrets {
        assert!(secret.len() >= 8, "{what} is long enough to search for");
        assert!(
            !recorded.contains(secret.as_str()),
            "the {what} appears in a trace"
        );
        assert!(
            !errors.contains(secret.as_str()),
            "the {what} appears in an error: {errors}"
        );
    }
    // Debug of the signed-in handles shows nothing secret either.
    let handles = format!("{admin:?} {again:?} {robot:?} {scim:?}");
    for (what, secret) in &secrets {
        assert!(!handles.contains(secret.as_str()), "the {what} in Debug");
    }
}

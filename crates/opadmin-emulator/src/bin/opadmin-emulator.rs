//! `opadmin-emulator`: serves the demo account (or a synthetic one) on loopback until Ctrl-C, and
//! prints how to sign in (b5) and the SCIM bridge URL and bearer token.
//!
//! ```text
//! opadmin-emulator [--port N] [--iterations N] [--seed N] [--synthetic USERS,GROUPS,VAULTS]
//!                  [--srp v1|v2|both] [--teams] [--enforce-mfa] [--break omit-new-email]
//!                  [--fault KIND:WHEN]... [--latency-ms N]
//!                  [--rate-limit in-flight=N,per-second=N]
//! ```
//!
//! `--latency-ms N` holds every answer N milliseconds (a network's round trip, to measure sync
//! at real-world latency). `--rate-limit` answers HTTP 429 with `X-Rate-Limit-Retry-In: 1` to a
//! request that arrives while N are in flight and/or beyond N in the current second
//! ([`opadmin_emulator::RateLimit`]).
//!
//! `--fault KIND:WHEN` (repeatable) injects a fault into every state-changing signed request
//! ([`opadmin_emulator::FaultTarget::StateChanging`]): `WHEN` is a whole number N (every N-th
//! such request) or a probability with a decimal point (`0.2`: each with that chance). `KIND`
//! is one of `apply-then-500`, `apply-then-drop`, `apply-then-hang` (60 s), `fail-before-apply`
//! (503), `rate-limit` (429) or `expire-session` ([`opadmin_emulator::FaultKind`]).
//!
//! Besides the administrators' sign-in details it prints the demo service account's token and
//! the uuid of the group that service account may grant access for, one per line:
//!
//! ```text
//!   service-account token: ops_…
//!   service-account group: <group uuid> (Marketing)
//! ```
//!
//! `--break omit-new-email` is a test aid: `auth/start` answers without `newEmail`
//! ([`opadmin_emulator::Faults::omit_auth_start_new_email`]; the official 1Password SDK 0.5.0
//! still signs in without it).

use std::process::ExitCode;

use opadmin_emulator::{
    DEMO_SERVICE_ACCOUNT_GROUP, Emulator, EmulatorConfig, FaultKind, FaultRule, FaultTarget,
    FaultTiming, Plan, RateLimit, SrpFlavours, demo_account,
};

const USAGE: &str = "usage: opadmin-emulator [--port N] [--iterations N] [--seed N] [--synthetic USERS,GROUPS,VAULTS] [--srp v1|v2|both] [--teams] [--enforce-mfa] [--break omit-new-email] [--fault KIND:WHEN]... [--latency-ms N] [--rate-limit in-flight=N,per-second=N]
  --fault KIND:WHEN  KIND: apply-then-500, apply-then-drop, apply-then-hang, fail-before-apply, rate-limit, expire-session;
                     WHEN: N (every N-th state-changing request) or a probability such as 0.2";

/// Parses `--fault KIND:WHEN` (see the module documentation).
fn parse_fault(text: &str) -> Result<FaultRule, String> {
    let bad = || format!("--fault takes KIND:WHEN, not {text:?}\n{USAGE}");
    let (kind, when) = text.split_once(':').ok_or_else(bad)?;
    let kind = match kind {
        "apply-then-500" => FaultKind::ApplyThenServerError,
        "apply-then-drop" => FaultKind::ApplyThenDrop,
        "apply-then-hang" => FaultKind::ApplyThenHang(std::time::Duration::from_secs(60)),
        "fail-before-apply" => FaultKind::FailBeforeApply,
        "rate-limit" => FaultKind::RateLimitBeforeApply,
        "expire-session" => FaultKind::ExpireSessionBeforeApply,
        _ => return Err(bad()),
    };
    let timing = if when.contains('.') {
        let p: f64 = when.parse().map_err(|_| bad())?;
        if !(0.0..=1.0).contains(&p) {
            return Err(bad());
        }
        FaultTiming::Rate(p)
    } else {
        match when.parse::<u64>() {
            Ok(n) if n > 0 => FaultTiming::EveryNth(n),
            _ => return Err(bad()),
        }
    };
    Ok(FaultRule::new(FaultTarget::StateChanging, timing, kind))
}

/// `in-flight=N`, `per-second=N` or both, comma-separated.
fn parse_rate_limit(text: &str) -> Result<RateLimit, String> {
    let bad = || format!("--rate-limit takes in-flight=N and/or per-second=N, not {text:?}");
    let mut limit: Option<RateLimit> = None;
    for part in text.split(',') {
        let (key, n) = part.trim().split_once('=').ok_or_else(bad)?;
        let n: u32 = n.trim().parse().map_err(|_| bad())?;
        if n == 0 {
            return Err(bad());
        }
        limit = Some(match (key.trim(), limit) {
            ("in-flight", None) => RateLimit::in_flight(n as usize),
            ("in-flight", Some(l)) => l.and_in_flight(n as usize),
            ("per-second", None) => RateLimit::per_second(n),
            ("per-second", Some(mut l)) => {
                l.per_second = Some(n);
                l
            }
            _ => return Err(bad()),
        });
    }
    limit.ok_or_else(bad)
}

fn parse() -> Result<(EmulatorConfig, opadmin_emulator::AccountBuilder), String> {
    let mut config = EmulatorConfig {
        port: 8787,
        ..EmulatorConfig::default()
    };
    let mut account = demo_account();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--port" => {
                config.port = value("--port")?
                    .parse()
                    .map_err(|_| "--port takes a number")?
            }
            "--iterations" => {
                account = account.iterations(
                    value("--iterations")?
                        .parse()
                        .map_err(|_| "--iterations takes a number")?,
                )
            }
            "--seed" => {
                account = account.seed(
                    value("--seed")?
                        .parse()
                        .map_err(|_| "--seed takes a number")?,
                )
            }
            "--synthetic" => {
                let v = value("--synthetic")?;
                let n: Vec<usize> = v
                    .split(',')
                    .map(|x| x.trim().parse())
                    .collect::<Result<_, _>>()
                    .map_err(|_| "--synthetic takes USERS,GROUPS,VAULTS")?;
                let [u, g, vlt] = n[..] else {
                    return Err("--synthetic takes USERS,GROUPS,VAULTS".into());
                };
                account = account.synthetic(u, g, vlt);
            }
            "--srp" => {
                config.srp = match value("--srp")?.as_str() {
                    "v1" => SrpFlavours::V1Only,
                    "v2" => SrpFlavours::V2Only,
                    "both" => SrpFlavours::Both,
                    _ => return Err("--srp takes v1, v2 or both".into()),
                }
            }
            "--teams" => account = account.plan(Plan::Teams),
            "--enforce-mfa" => account = account.enforce_mfa(),
            "--break" => match value("--break")?.as_str() {
                "omit-new-email" => config.faults.omit_auth_start_new_email = true,
                _ => return Err("--break takes omit-new-email".into()),
            },
            "--fault" => config.faults.rules.push(parse_fault(&value("--fault")?)?),
            "--latency-ms" => {
                let ms: u64 = value("--latency-ms")?
                    .parse()
                    .map_err(|_| "--latency-ms takes a number of milliseconds")?;
                config.faults.latency = (ms > 0).then(|| std::time::Duration::from_millis(ms));
            }
            "--rate-limit" => {
                config.faults.rate_limit = Some(parse_rate_limit(&value("--rate-limit")?)?);
            }
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    Ok((config, account))
}

#[tokio::main]
async fn main() -> ExitCode {
    let (config, account) = match parse() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let emulator = match Emulator::start(config, account).await {
        Ok(e) => e,
        Err(e) => {
            eprintln!("opadmin-emulator: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "opadmin-emulator serving a 1Password b5 account at {}",
        emulator.address()
    );
    println!();
    for who in ["admin@acme.example", "it-admin@acme.example"] {
        if let Some(c) = emulator.credentials(who) {
            println!("  email:      {}", c.email);
            println!("  password:   {}", c.password);
            println!("  Secret Key: {}", c.secret_key);
            println!();
        }
    }
    if let Some(sa) = emulator.service_accounts().into_iter().next() {
        println!("  service account:       {} ({})", sa.name, sa.email);
        println!("  service-account token: {}", sa.token);
        if let Some(group) = emulator.group_uuid(DEMO_SERVICE_ACCOUNT_GROUP) {
            println!("  service-account group: {group} ({DEMO_SERVICE_ACCOUNT_GROUP})");
        }
        println!();
    }
    println!(
        "  e.g. OPADMIN_ADDRESS={} OPADMIN_EMAIL=admin@acme.example OPADMIN_PASSWORD=... OPADMIN_SECRET_KEY=...",
        emulator.address()
    );
    println!();
    println!("  SCIM bridge: {}", emulator.scim_url());
    println!("  SCIM token:  {}", emulator.scim_token());
    println!(
        "  e.g. curl -H \"Authorization: Bearer $TOKEN\" {}/Users",
        emulator.scim_url()
    );
    println!("Press Ctrl-C to stop.");
    let _ = tokio::signal::ctrl_c().await;
    println!("stopping");
    emulator.shutdown().await;
    ExitCode::SUCCESS
}

//! # opadmin
//!
//! The command line of the `opadmin` SDK: administer a 1Password account (people, groups and
//! vault access) by speaking 1Password's own protocol.
//!
//! ```text
//! opadmin demo
//! opadmin users list|get|invite|confirm|suspend|reactivate|remove|invitations|resend|revoke-invitation
//! opadmin groups list|members|add|remove|role
//! opadmin vaults list|access|grant|revoke|add-permissions|remove-permissions|create|rename|delete
//! opadmin sync [--state FILE]
//! opadmin plan FILE
//! opadmin apply FILE [--replan]
//! ```
//!
//! Every state-changing command takes `--dry-run` (print the plan, send nothing); destructive
//! ones ask first on a terminal (see `confirm`) and need `--yes` without one.
//!
//! Credentials come from flags or `OPADMIN_*` variables (the password and Secret Key also from
//! stdin or a prompt without echo); `--emulator` points any command at a fresh embedded
//! emulator with the demo account (in builds with the default `emulator` feature). The device
//! uuid is kept per address and email in a device file (see [`device_file`]), with
//! `--remember-device` also the remember-this-device token. Output is a table, JSON or CSV on stdout, with the field
//! names listed in `--help` and the README; progress and messages go to stderr; the exit code
//! tells what went wrong (see [`exit`]).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod cli;
mod commands;
mod confirm;
mod connect;
mod device_file;
mod exit;
mod files;
mod output;
mod progress;
mod records;
mod targets;

use std::process::ExitCode;

use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory, FromArgMatches};

use crate::cli::{Cli, Command, LONG_HELP};
use crate::exit::{CliError, EXIT_CODES_HELP, sentence};
use crate::output::Output;

/// True when the argument was typed on the command line (at any subcommand level).
fn on_command_line(matches: &ArgMatches, id: &str) -> bool {
    let mut m = matches;
    loop {
        if m.value_source(id) == Some(ValueSource::CommandLine) {
            return true;
        }
        match m.subcommand() {
            Some((_, sub)) => m = sub,
            None => return false,
        }
    }
}

fn main() -> ExitCode {
    let command = Cli::command().after_long_help(format!("{LONG_HELP}\n{EXIT_CODES_HELP}"));
    let parsed = command
        .try_get_matches()
        .and_then(|m| Cli::from_arg_matches(&m).map(|cli| (cli, m)));
    let (cli, matches) = match parsed {
        Ok(parsed) => parsed,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
        }
    };
    let flagged: Vec<&str> = [
        ("password", "--password"),
        ("secret_key", "--secret-key"),
        ("totp_secret", "--totp-secret"),
    ]
    .into_iter()
    .filter(|(id, _)| on_command_line(&matches, id))
    .map(|(_, flag)| flag)
    .collect();
    if !flagged.is_empty() {
        eprintln!(
            "warning: {} on the command line can be seen by other users of this computer (process list, shell history); prefer the OPADMIN_* variables, --password-stdin or the prompt.",
            flagged.join(" and ")
        );
    }
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", sentence(&e.to_string()));
            e.exit_code()
        }
    }
}

fn run(cli: Cli) -> Result<(), CliError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Other(format!("could not start the async runtime: {e}")))?;
    let mut out = Output::stdout(cli.format);
    let concurrency = cli.connection.concurrency.max(1);
    if let Command::Demo = cli.command {
        #[cfg(feature = "emulator")]
        return runtime.block_on(commands::demo::run(concurrency, &mut out));
        #[cfg(not(feature = "emulator"))]
        return Err(CliError::Usage(connect::NO_EMULATOR.into()));
    }
    let mut command = cli.command;
    commands::prepare(&mut command, cli.connection.password_stdin)?;
    // A dry run sends nothing, so asks nothing.
    if !cli.dry_run
        && let Some(question) = confirm::question(&command)
    {
        confirm::ask(&question, cli.yes)?;
    }
    let flags = commands::ChangeFlags {
        yes: cli.yes,
        dry_run: cli.dry_run,
    };
    let login = connect::gather(&cli.connection)?;
    runtime.block_on(async {
        let session = connect::sign_in(login, concurrency).await?;
        let result = commands::run(command, &session, flags, &mut out).await;
        if !session.is_emulated() {
            // End the session on the server; a failure here changes nothing for the caller.
            let _ = session.admin.sign_out().await;
        }
        result
    })
}

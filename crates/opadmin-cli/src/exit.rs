//! Errors of the command line and the exit code of each: the one place where an
//! [`opadmin::Error`] becomes a process exit status.

use std::process::ExitCode;

/// The documented exit codes (README and `--help`).
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  success
  1  other error (network, server, a change that does not apply to the person's state)
  2  usage error (bad arguments or input file, a device file that cannot be read, missing
     credentials)
  3  sign-in refused: wrong email, account password or Secret Key, or the signed-in user is suspended
  4  a second factor is required (set OPADMIN_TOTP_SECRET), or only unsupported ones are offered
  5  permission denied, including a vault without the Manage Vault permission (and
     invitations on a plan other than Business)
  6  not found: no such person, group or vault (or not visible to the signed-in user)
  7  still rate limited after retries
  8  partial failure: some targets of a bulk action (a --file command, several targets,
     users confirm --all) failed, each target's outcome is printed; or sync could not read
     some items, which are listed as skipped after everything that was read
  9  not confirmed: a destructive change was declined at its confirmation question (nothing
     was sent)";

/// What kind of failure ended the command; each kind has its own exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Anything else (1).
    Other,
    /// Bad arguments, input or missing credentials (2).
    Usage,
    /// Sign-in refused (3).
    BadCredentials,
    /// A second factor is needed (4).
    MfaRequired,
    /// Not permitted, including the Manage Vault error (5).
    PermissionDenied,
    /// No such person, group or vault (6).
    NotFound,
    /// Rate limited after the retries (7).
    RateLimited,
    /// Some targets of a bulk action failed (8).
    PartialFailure,
    /// A destructive change was declined at its confirmation question (9).
    Declined,
}

impl Kind {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            Kind::Other => 1,
            Kind::Usage => 2,
            Kind::BadCredentials => 3,
            Kind::MfaRequired => 4,
            Kind::PermissionDenied => 5,
            Kind::NotFound => 6,
            Kind::RateLimited => 7,
            Kind::PartialFailure => 8,
            Kind::Declined => 9,
        }
    }

    /// The stable name used in the `error` field of outcome records.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Other => "other",
            Kind::Usage => "usage",
            Kind::BadCredentials => "bad_credentials",
            Kind::MfaRequired => "mfa_required",
            Kind::PermissionDenied => "permission_denied",
            Kind::NotFound => "not_found",
            Kind::RateLimited => "rate_limited",
            Kind::PartialFailure => "partial_failure",
            Kind::Declined => "declined",
        }
    }
}

/// The kind of a facade error.
pub fn kind_of(error: &opadmin::Error) -> Kind {
    use opadmin::Error as E;
    match error {
        E::BadCredentials | E::AdminDisabled(_) => Kind::BadCredentials,
        E::MfaRequired { .. } | E::MfaUnsupported { .. } => Kind::MfaRequired,
        E::NoManageVaultPermission
        | E::NoCreateVaultPermission
        | E::SpecialVault { .. }
        | E::PermissionDenied { .. }
        | E::BusinessPlanRequired => Kind::PermissionDenied,
        E::NotFound { .. } => Kind::NotFound,
        E::RateLimited { .. } => Kind::RateLimited,
        E::InvalidInput(_) => Kind::Usage,
        _ => Kind::Other,
    }
}

/// Everything that ends a command with a failure.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Bad arguments or input.
    #[error("{0}")]
    Usage(String),
    /// The facade refused or failed.
    #[error(transparent)]
    Admin(#[from] opadmin::Error),
    /// A vault name that the signed-in user cannot see, named in an access change.
    #[error(
        "no vault named {0:?} is visible to the signed-in user. {msg}",
        msg = opadmin::NO_MANAGE_VAULT_MESSAGE
    )]
    VaultNotVisible(String),
    /// The device file cannot be used (exit code 2, like another bad input file).
    #[error(transparent)]
    DeviceFile(#[from] crate::device_file::DeviceFileError),
    /// Some targets of a bulk action failed.
    #[error("{failed} of {total} targets failed; each target's outcome is listed on stdout")]
    Partial {
        /// How many failed.
        failed: usize,
        /// How many there were.
        total: usize,
    },
    /// `sync` could not read some items; everything else was printed.
    #[error(
        "the snapshot is incomplete: {skipped} item(s) could not be read and are listed as skipped"
    )]
    Incomplete {
        /// How many items were skipped.
        skipped: usize,
    },
    /// The user answered no to a confirmation question; nothing was sent.
    #[error("not confirmed: nothing was changed")]
    Declined,
    /// Anything else, in plain words.
    #[error("{0}")]
    Other(String),
}

impl CliError {
    /// The kind, hence the exit code.
    pub fn kind(&self) -> Kind {
        match self {
            CliError::Usage(_) | CliError::DeviceFile(_) => Kind::Usage,
            CliError::Admin(e) => kind_of(e),
            CliError::VaultNotVisible(_) => Kind::PermissionDenied,
            CliError::Partial { .. } | CliError::Incomplete { .. } => Kind::PartialFailure,
            CliError::Other(_) => Kind::Other,
            CliError::Declined => Kind::Declined,
        }
    }

    /// The process exit code.
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(self.kind().code())
    }
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        CliError::Other(format!("could not write the output: {e}"))
    }
}

/// A message as one sentence: trimmed, first letter kept, ending with a full stop.
pub fn sentence(message: &str) -> String {
    let text = message.trim();
    if text.ends_with(['.', '!', '?']) {
        text.to_owned()
    } else {
        format!("{text}.")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_distinct_code() {
        let kinds = [
            Kind::Other,
            Kind::Usage,
            Kind::BadCredentials,
            Kind::MfaRequired,
            Kind::PermissionDenied,
            Kind::NotFound,
            Kind::RateLimited,
            Kind::PartialFailure,
            Kind::Declined,
        ];
        let mut codes: Vec<u8> = kinds.iter().map(|k| k.code()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), kinds.len());
        assert!(!codes.contains(&0));
    }

    #[test]
    fn facade_errors_map_to_their_codes() {
        assert_eq!(kind_of(&opadmin::Error::BadCredentials).code(), 3);
        assert_eq!(
            kind_of(&opadmin::Error::MfaRequired {
                methods: vec!["totp".into()]
            })
            .code(),
            4
        );
        assert_eq!(kind_of(&opadmin::Error::NoManageVaultPermission).code(), 5);
        assert_eq!(
            kind_of(&opadmin::Error::NotFound {
                what: "person x".into()
            })
            .code(),
            6
        );
        assert_eq!(
            kind_of(&opadmin::Error::RateLimited { retry_after: None }).code(),
            7
        );
        assert_eq!(kind_of(&opadmin::Error::transport("x")).code(), 1);
    }

    #[test]
    fn sentences_end_with_a_full_stop() {
        assert_eq!(sentence("not found "), "not found.");
        assert_eq!(sentence("done."), "done.");
    }
}

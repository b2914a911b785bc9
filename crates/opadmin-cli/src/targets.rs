//! Targets of an action: named on the command line, and/or read from a file or stdin (one
//! email per line, or a CSV with an `email` column).

use std::io::Read;
use std::path::Path;

use crate::cli::Targets;
use crate::exit::CliError;

/// Reads the file named with `--file` (if any) into the targets, before anything is sent, so
/// that a missing file or a bad list is reported without signing in.
pub fn load(targets: &mut Targets) -> Result<(), CliError> {
    if let Some(path) = targets.file.take() {
        targets.users.extend(parse(&read(&path)?)?);
        targets.from_file = true;
    }
    Ok(())
}

/// The people to act on, in order, without duplicates, and whether this is a bulk action
/// (a file, or more than one person). With `allow_empty` false, no people is a usage error.
pub fn collect(targets: &Targets, allow_empty: bool) -> Result<(Vec<String>, bool), CliError> {
    let mut all: Vec<String> = targets
        .users
        .iter()
        .map(|u| u.trim().to_owned())
        .filter(|u| !u.is_empty())
        .collect();
    let mut seen = std::collections::HashSet::new();
    all.retain(|u| seen.insert(u.to_lowercase()));
    if all.is_empty() && !allow_empty {
        return Err(CliError::Usage(if targets.from_file {
            "the target list names nobody".into()
        } else {
            "no people given: name them as arguments or list them in --file".into()
        }));
    }
    let bulk = targets.from_file || targets.file.is_some() || all.len() > 1;
    Ok((all, bulk))
}

fn read(path: &Path) -> Result<String, CliError> {
    let mut text = String::new();
    if path.as_os_str() == "-" {
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| CliError::Usage(format!("could not read the targets from stdin: {e}")))?;
    } else {
        text = std::fs::read_to_string(path)
            .map_err(|e| CliError::Usage(format!("could not read {}: {e}", path.display())))?;
    }
    Ok(text)
}

/// Parses a target list: a CSV whose header has an `email` column (when the first line holds
/// a comma or is just `email`), else one entry per line; blank lines and `#` comments are
/// skipped.
pub fn parse(text: &str) -> Result<Vec<String>, CliError> {
    let text = text.trim_start_matches('\u{feff}');
    let first = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'));
    let Some(first) = first else {
        return Ok(Vec::new());
    };
    let is_csv = first.contains(',') || first.trim_matches('"').eq_ignore_ascii_case("email");
    if !is_csv {
        return Ok(text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(str::to_owned)
            .collect());
    }
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| CliError::Usage(format!("the target list is not valid CSV: {e}")))?
        .clone();
    let column = headers
        .iter()
        .position(|h| h.eq_ignore_ascii_case("email"))
        .ok_or_else(|| {
            CliError::Usage(
                "the target list looks like CSV but has no `email` column in its header".into(),
            )
        })?;
    let mut out = Vec::new();
    for (i, row) in reader.records().enumerate() {
        let row =
            row.map_err(|e| CliError::Usage(format!("line {} of the target list: {e}", i + 2)))?;
        if let Some(email) = row.get(column).filter(|e| !e.is_empty()) {
            out.push(email.to_owned());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_per_line() {
        let list = parse("alice@acme.example\n\n# comment\n bob@acme.example \n").ok();
        assert_eq!(
            list,
            Some(vec!["alice@acme.example".into(), "bob@acme.example".into()])
        );
    }

    #[test]
    fn csv_with_an_email_column() {
        let list = parse("name,Email\nAlice,alice@acme.example\nBob,bob@acme.example\n").ok();
        assert_eq!(
            list,
            Some(vec!["alice@acme.example".into(), "bob@acme.example".into()])
        );
        assert!(parse("name,team\nAlice,x\n").is_err());
        assert_eq!(
            parse("email\nalice@acme.example\n").ok(),
            Some(vec!["alice@acme.example".into()])
        );
    }
}

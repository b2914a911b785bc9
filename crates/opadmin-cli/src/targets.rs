//! Targets of an action: named on the command line, and/or read from a file or stdin (one
//! email per line, or a CSV with an `email` column).

use std::io::Read;
use std::path::Path;

use crate::cli::Targets;
use crate::exit::CliError;

/// The longest line (and entry) a target list may have, in bytes: far more than an email
/// (at most 254) or a person's CSV row needs. A longer one is refused, not kept.
pub const MAX_LINE: usize = 4096;

/// The largest target list read, in bytes (some 100,000 people with a few columns each).
pub const MAX_FILE: u64 = 16 << 20;

/// Reads the file named with `--file` (if any) into the targets, before anything is sent, so
/// that a missing file or a bad list is reported without signing in.
pub fn load(targets: &mut Targets) -> Result<(), CliError> {
    if let Some(path) = targets.file.take() {
        for (email, name) in parse_rows(&read(&path)?)? {
            if let Some(name) = name {
                targets.names.insert(email.to_lowercase(), name);
            }
            targets.users.push(email);
        }
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

/// Reads at most [`MAX_FILE`] bytes of UTF-8 text from the file, or from stdin for `-`.
fn read(path: &Path) -> Result<String, CliError> {
    let (source, name): (Box<dyn Read>, String) = if path.as_os_str() == "-" {
        (
            Box::new(std::io::stdin()),
            "the targets from stdin".to_owned(),
        )
    } else {
        let file = std::fs::File::open(path)
            .map_err(|e| CliError::Usage(format!("could not read {}: {e}", path.display())))?;
        (Box::new(file), path.display().to_string())
    };
    let Some(bytes) = crate::files::read_capped(source, MAX_FILE)
        .map_err(|e| CliError::Usage(format!("could not read {name}: {e}")))?
    else {
        return Err(CliError::Usage(format!(
            "could not read {name}: a target list may hold at most {} MiB; split it",
            MAX_FILE >> 20
        )));
    };
    String::from_utf8(bytes)
        .map_err(|_| CliError::Usage(format!("could not read {name}: it is not UTF-8 text")))
}

fn too_long(line: usize) -> CliError {
    CliError::Usage(format!(
        "line {line} of the target list is longer than {MAX_LINE} bytes, too long to name a person"
    ))
}

/// Parses a target list: a CSV whose header has an `email` column (when the first line holds
/// a comma or is just `email`), else one entry per line; blank lines and `#` comments are
/// skipped. A line or entry longer than [`MAX_LINE`] bytes is an error.
#[cfg(test)]
pub fn parse(text: &str) -> Result<Vec<String>, CliError> {
    Ok(parse_rows(text)?
        .into_iter()
        .map(|(email, _)| email)
        .collect())
}

/// As [`parse`], with each entry's name when the list is a CSV with a `name` column (an empty
/// name is none).
pub fn parse_rows(text: &str) -> Result<Vec<(String, Option<String>)>, CliError> {
    let text = text.trim_start_matches('\u{feff}');
    if let Some(at) = text.lines().position(|l| l.len() > MAX_LINE) {
        return Err(too_long(at + 1));
    }
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
            .map(|l| (l.to_owned(), None))
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
    let name_column = headers.iter().position(|h| h.eq_ignore_ascii_case("name"));
    let mut out = Vec::new();
    for (i, row) in reader.records().enumerate() {
        let row =
            row.map_err(|e| CliError::Usage(format!("line {} of the target list: {e}", i + 2)))?;
        if let Some(email) = row.get(column).filter(|e| !e.is_empty()) {
            if email.len() > MAX_LINE {
                // A quoted field can run over many short lines.
                return Err(too_long(
                    row.position().map_or(i + 2, |p| p.line() as usize),
                ));
            }
            let name = name_column
                .and_then(|c| row.get(c))
                .filter(|n| !n.is_empty())
                .map(str::to_owned);
            out.push((email.to_owned(), name));
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
            parse_rows("Name,email\nAlice Liddell,alice@acme.example\n,bob@acme.example\n").ok(),
            Some(vec![
                ("alice@acme.example".into(), Some("Alice Liddell".into())),
                ("bob@acme.example".into(), None)
            ])
        );
        assert_eq!(
            parse("email\nalice@acme.example\n").ok(),
            Some(vec!["alice@acme.example".into()])
        );
    }

    mod properties {
        //! Property tests: any text gives a list or a usage error, never a panic; lists written
        //! one per line or as CSV read back exactly. `PROPTEST_CASES=100000 cargo test -p
        //! opadmin-cli --bin opadmin targets` runs them longer.

        use super::super::*;
        use proptest::prelude::*;

        fn config() -> ProptestConfig {
            let cases = std::env::var("PROPTEST_CASES")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(256);
            ProptestConfig {
                cases,
                ..ProptestConfig::default()
            }
        }

        fn email() -> impl Strategy<Value = String> {
            "[a-z0-9][a-z0-9._+-]{0,20}@[a-z0-9-]{1,12}\\.[a-z]{2,6}"
        }

        fn check(result: &Result<Vec<String>, CliError>) -> Result<(), TestCaseError> {
            match result {
                Ok(list) => {
                    for entry in list {
                        prop_assert!(!entry.is_empty() && entry.len() <= MAX_LINE);
                        prop_assert_eq!(entry.trim(), entry.as_str());
                    }
                }
                Err(e) => prop_assert!(matches!(e, CliError::Usage(_)), "{e:?}"),
            }
            Ok(())
        }

        proptest! {
            #![proptest_config(config())]

            #[test]
            fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
                check(&parse(&String::from_utf8_lossy(&bytes)))?;
            }

            /// Text made of the characters that matter to the two formats.
            #[test]
            fn csv_like_text_never_panics(text in "[a-zA-Z@.,\"# \t\r\n\u{feff}]{0,400}") {
                check(&parse(&text))?;
                check(&parse(&format!("email\n{text}")))?;
                check(&parse(&format!("name,email\n{text}")))?;
            }

            #[test]
            fn one_per_line_reads_back(
                emails in proptest::collection::vec(email(), 1..20),
                noise in proptest::collection::vec(0u8..6, 20),
            ) {
                let mut text = String::from("\u{feff}");
                for (email, n) in emails.iter().zip(noise.iter().cycle()) {
                    match n {
                        0 => text.push_str("\n\n"),
                        1 => text.push_str("# a comment, with a comma\n"),
                        2 => text.push_str("   \t\n"),
                        _ => {}
                    }
                    let end = if n % 2 == 0 { "\r\n" } else { "\n" };
                    text.push_str(&format!("  {email}\t{end}"));
                }
                prop_assert_eq!(parse(&text).unwrap(), emails);
            }

            #[test]
            fn csv_reads_back(
                rows in proptest::collection::vec(
                    (proptest::option::of(email()), "[A-Za-z ,;'\"]{0,20}", "[a-z0-9]{0,8}"),
                    0..20,
                ),
                email_column in 0usize..3,
                header in prop::sample::select(vec!["email", "Email", "EMAIL", " email "]),
            ) {
                let mut writer = csv::Writer::from_writer(Vec::new());
                let mut names = vec!["name".to_owned(), "team".to_owned()];
                names.insert(email_column, header.to_owned());
                writer.write_record(&names).unwrap();
                for (email, name, team) in &rows {
                    let mut record = vec![name.clone(), team.clone()];
                    record.insert(email_column, email.clone().unwrap_or_default());
                    writer.write_record(&record).unwrap();
                }
                let text = String::from_utf8(writer.into_inner().unwrap()).unwrap();
                let expected: Vec<String> = rows.iter().filter_map(|r| r.0.clone()).collect();
                prop_assert_eq!(parse(&text).unwrap(), expected);
            }

            /// Whatever the list, the people acted on are its non-empty entries, trimmed, first
            /// occurrence first, without a second entry differing only in case.
            #[test]
            fn collect_keeps_first_occurrences(
                users in proptest::collection::vec(prop_oneof![email(), Just(String::new()), Just("  A@B.CO ".to_owned()), Just("a@b.co".to_owned())], 0..12),
            ) {
                let targets = Targets { users: users.clone(), file: None, from_file: true, ..Targets::default() };
                let (all, bulk) = collect(&targets, true).unwrap();
                prop_assert!(bulk);
                let mut expected: Vec<String> = Vec::new();
                for u in users.iter().map(|u| u.trim()).filter(|u| !u.is_empty()) {
                    if !expected.iter().any(|e| e.to_lowercase() == u.to_lowercase()) {
                        expected.push(u.to_owned());
                    }
                }
                prop_assert_eq!(all, expected);
            }
        }

        /// Regression: a line of a megabyte (one per line or in a CSV, or a quoted CSV field
        /// running over many lines) is refused, not kept as a target.
        #[test]
        fn huge_lines_are_refused() {
            let huge = "a".repeat(1 << 20);
            for text in [
                format!("{huge}@acme.example\n"),
                format!("alice@acme.example\n{huge}\n"),
                format!("name,email\nAlice,{huge}@acme.example\n"),
                format!("email,name\n\"{}\",x\n", "a\n".repeat(4000)),
            ] {
                let err = parse(&text).unwrap_err();
                assert!(err.to_string().contains("too long"), "{err}");
                assert!(err.to_string().len() < 200);
            }
            let longest = format!("{}@acme.example", "a".repeat(MAX_LINE - 13));
            assert_eq!(longest.len(), MAX_LINE);
            assert_eq!(parse(&longest).unwrap(), vec![longest]);
        }
    }
}

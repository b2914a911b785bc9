//! `sync`: the whole snapshot, or one section of it.

use std::path::Path;

use opadmin::{Admin, Snapshot};

use crate::cli::Part;
use crate::exit::CliError;
use crate::output::{Format, JsonRecord, JsonRecords, Output};
use crate::records::{
    AccessRecord, AccountRecord, GrantRecord, GroupRecord, MemberRecord, SkippedRecord, UserRecord,
    VaultRecord,
};
use crate::records::{SnapshotRecords, change_records};

use super::{synced, synced_since};

/// Reads the snapshot stored at `path`; `None` when there is no file yet. Bounded; a file that
/// is not a snapshot opadmin wrote is an error naming the file (never quoting it), because
/// continuing from it could report changes that did not happen.
fn read_state(path: &Path) -> Result<Option<Snapshot>, CliError> {
    let shown = path.display();
    let unusable = |why: String| {
        CliError::Usage(format!(
            "the --state file {shown} {why}; move it away to start again with a full sync"
        ))
    };
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(unusable(format!("could not be read ({e})"))),
    };
    if !meta.is_file() {
        return Err(unusable("is not a regular file".into()));
    }
    if meta.len() > MAX_STATE_BYTES {
        return Err(unusable(format!(
            "is larger than {} MiB, more than a snapshot",
            MAX_STATE_BYTES >> 20
        )));
    }
    let file =
        std::fs::File::open(path).map_err(|e| unusable(format!("could not be read ({e})")))?;
    let bytes = crate::files::read_capped(file, MAX_STATE_BYTES)
        .map_err(|e| unusable(format!("could not be read ({e})")))?
        .ok_or_else(|| unusable(format!("is larger than {} MiB", MAX_STATE_BYTES >> 20)))?;
    serde_json::from_slice(&bytes).map(Some).map_err(|e| {
        use serde_json::error::Category;
        let what = match e.classify() {
            Category::Syntax | Category::Io => "is not JSON",
            Category::Eof => "is cut short",
            Category::Data => "is not a snapshot opadmin wrote",
        };
        unusable(format!("{what} (line {} column {})", e.line(), e.column()))
    })
}

/// The largest snapshot file `sync --state` reads (256 MiB; the snapshot of 10,000 people, 1,000
/// groups and 2,000 vaults is about 8 MB). A larger one is refused unread.
pub const MAX_STATE_BYTES: u64 = 256 << 20;

/// Runs `sync`: continuing from the snapshot stored in `state` when there is one, and storing
/// the new one there.
pub async fn run(
    admin: &Admin,
    part: Part,
    state: Option<&Path>,
    out: &mut Output,
) -> Result<(), CliError> {
    if part == Part::Changes && state.is_none() {
        return Err(CliError::Usage(
            "--part changes lists what changed since a stored snapshot: add --state FILE".into(),
        ));
    }
    let previous = state.map(read_state).transpose()?.flatten();
    let snapshot = match &previous {
        Some(previous) => synced_since(admin, previous).await?,
        None => synced(admin).await?,
    };
    if let Some(path) = state {
        let text = serde_json::to_vec(&snapshot).map_err(|e| {
            CliError::Usage(format!(
                "could not write the snapshot to {}: {e}",
                path.display()
            ))
        })?;
        crate::files::write_atomically(path, &text).map_err(|e| {
            CliError::Usage(format!(
                "could not write the snapshot to {}: {e}",
                path.display()
            ))
        })?;
    }
    let r = SnapshotRecords::from_snapshot(&snapshot);
    match part {
        Part::All => all(&r, out),
        Part::Account => out.record(&r.account),
        Part::Users => out.records(&r.users),
        Part::Groups => out.records(&r.groups),
        Part::Members => out.records(&r.members),
        Part::Vaults => out.records(&r.vaults),
        Part::Access => out.records(&r.access),
        Part::Grants => out.records(&r.grants),
        Part::Changes => {
            // Without a stored snapshot (the first run) everything is new: no changes to list.
            let records = match (&snapshot.changes, &previous) {
                (Some(changes), Some(previous)) => change_records(changes, &snapshot, previous),
                _ => Vec::new(),
            };
            out.records(&records)
        }
    }?;
    // Decision: an incomplete snapshot is printed in full (everything that could be read)
    // and then ends with the partial-failure code, 8, each skipped item named on stderr, so
    // that an unattended run never takes it for the whole account.
    if r.skipped.is_empty() {
        return Ok(());
    }
    for s in &snapshot.skipped {
        eprintln!(
            "warning: skipped {} {}{}: {}",
            s.kind.as_str(),
            s.id,
            s.name
                .as_deref()
                .map(|n| format!(" ({n})"))
                .unwrap_or_default(),
            crate::exit::sentence(&s.message)
        );
    }
    Err(CliError::Incomplete {
        skipped: r.skipped.len(),
    })
}

/// The snapshot as one JSON object, sections in a fixed order.
#[derive(serde::Serialize)]
struct SnapshotJson<'a> {
    account: JsonRecord<'a, AccountRecord>,
    users: JsonRecords<'a, UserRecord>,
    groups: JsonRecords<'a, GroupRecord>,
    members: JsonRecords<'a, MemberRecord>,
    vaults: JsonRecords<'a, VaultRecord>,
    access: JsonRecords<'a, AccessRecord>,
    grants: JsonRecords<'a, GrantRecord>,
    skipped: JsonRecords<'a, SkippedRecord>,
}

fn all(r: &SnapshotRecords, out: &mut Output) -> Result<(), CliError> {
    match out.format {
        Format::Json => out.json(&SnapshotJson {
            account: JsonRecord(&r.account),
            users: JsonRecords(&r.users),
            groups: JsonRecords(&r.groups),
            members: JsonRecords(&r.members),
            vaults: JsonRecords(&r.vaults),
            access: JsonRecords(&r.access),
            grants: JsonRecords(&r.grants),
            skipped: JsonRecords(&r.skipped),
        }),
        Format::Csv => {
            // One table after another, each with its header, separated by a blank line.
            out.csv(std::slice::from_ref(&r.account))?;
            out.line("")?;
            out.csv(&r.users)?;
            out.line("")?;
            out.csv(&r.groups)?;
            out.line("")?;
            out.csv(&r.members)?;
            out.line("")?;
            out.csv(&r.vaults)?;
            out.line("")?;
            out.csv(&r.access)?;
            out.line("")?;
            out.csv(&r.grants)?;
            out.line("")?;
            out.csv(&r.skipped)
        }
        Format::Table => {
            let a = &r.account.0;
            out.line(&format!(
                "{} ({}, account {}): {} people, {} groups, {} vaults",
                a.name,
                a.plan,
                a.id,
                r.users.len(),
                r.groups.len(),
                r.vaults.len()
            ))?;
            section(out, "People", |o| o.table(&r.users))?;
            section(out, "Groups", |o| o.table(&r.groups))?;
            section(out, "Group members", |o| o.table(&r.members))?;
            section(out, "Vaults", |o| o.table(&r.vaults))?;
            section(out, "Access to vaults", |o| o.table(&r.access))?;
            section(out, "Groups' grants on vaults", |o| o.table(&r.grants))?;
            if r.skipped.is_empty() {
                return Ok(());
            }
            section(out, "Skipped (could not be read)", |o| o.table(&r.skipped))
        }
    }
}

fn section(
    out: &mut Output,
    title: &str,
    body: impl FnOnce(&mut Output) -> Result<(), CliError>,
) -> Result<(), CliError> {
    out.line("")?;
    out.line(&format!("{title}:"))?;
    body(out)
}

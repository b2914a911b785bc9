//! `sync`: the whole snapshot, or one section of it.

use opadmin::Admin;

use crate::cli::Part;
use crate::exit::CliError;
use crate::output::{Format, JsonRecord, JsonRecords, Output};
use crate::records::SnapshotRecords;
use crate::records::{
    AccessRecord, AccountRecord, GrantRecord, GroupRecord, MemberRecord, SkippedRecord, UserRecord,
    VaultRecord,
};

use super::synced;

/// Runs `sync`.
pub async fn run(admin: &Admin, part: Part, out: &mut Output) -> Result<(), CliError> {
    let snapshot = synced(admin).await?;
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

//! Records and how they are written: a readable table, JSON or CSV, always to stdout and
//! nothing else there. Every record type lists its field names once; JSON keys, the CSV
//! header and the table's columns all come from that list.

use std::io::Write;

use opadmin::VaultPermissions;
use time::OffsetDateTime;

use crate::exit::CliError;

/// Output format, chosen with `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns for people.
    #[default]
    Table,
    /// JSON: an array of objects (one object for `users get`; an object of arrays for `sync`).
    Json,
    /// CSV with a header line; list fields are joined with `;`.
    Csv,
}

/// One field's value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Text.
    Text(String),
    /// A list of words (JSON array; `;`-joined in CSV; `, `-joined in tables).
    List(Vec<String>),
    /// Vault permissions: Business names (JSON array, `;`-joined in CSV); tables show the
    /// shorter Teams bundle names when the set is exactly a union of bundles.
    Perms(VaultPermissions),
    /// True or false.
    Bool(bool),
    /// A count.
    Int(u64),
    /// A moment: RFC 3339 in JSON and CSV, `YYYY-MM-DD HH:MM` (UTC) in tables.
    Time(OffsetDateTime),
    /// Nothing (JSON `null`, empty in CSV, `-` in tables).
    Null,
}

impl Value {
    /// Text, or null when empty.
    pub fn text_or_null(s: impl Into<String>) -> Self {
        let s = s.into();
        if s.is_empty() {
            Value::Null
        } else {
            Value::Text(s)
        }
    }

    fn csv(&self) -> String {
        match self {
            Value::Text(s) => s.clone(),
            Value::List(items) => items.join(";"),
            Value::Perms(p) => p.names().join(";"),
            Value::Bool(b) => b.to_string(),
            Value::Int(n) => n.to_string(),
            Value::Time(t) => rfc3339(*t),
            Value::Null => String::new(),
        }
    }

    /// The text a table shows.
    pub fn table(&self) -> String {
        match self {
            Value::Text(s) => s.clone(),
            Value::List(items) if items.is_empty() => "-".into(),
            Value::List(items) => items.join(", "),
            Value::Perms(p) if p.is_empty() => "none".into(),
            Value::Perms(p) => {
                let base = p.difference(VaultPermissions::RECOVER);
                let mut names = base.teams_names().unwrap_or_else(|| base.names());
                if p.contains(VaultPermissions::RECOVER) {
                    names.push("recover_vault");
                }
                names.join(", ")
            }
            Value::Bool(true) => "yes".into(),
            Value::Bool(false) => "no".into(),
            Value::Int(n) => n.to_string(),
            Value::Time(t) => {
                let t = t.to_offset(time::UtcOffset::UTC);
                format!(
                    "{:04}-{:02}-{:02} {:02}:{:02}",
                    t.year(),
                    u8::from(t.month()),
                    t.day(),
                    t.hour(),
                    t.minute()
                )
            }
            Value::Null => "-".into(),
        }
    }
}

impl serde::Serialize for Value {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Text(t) => s.serialize_str(t),
            Value::List(items) => s.collect_seq(items),
            Value::Perms(p) => s.collect_seq(p.names()),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Int(n) => s.serialize_u64(*n),
            Value::Time(t) => s.serialize_str(&rfc3339(*t)),
            Value::Null => s.serialize_none(),
        }
    }
}

/// A record as a JSON object whose keys keep the order of [`Record::FIELDS`].
pub struct JsonRecord<'a, R>(pub &'a R);

impl<R: Record> serde::Serialize for JsonRecord<'_, R> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let values = self.0.values();
        let mut map = s.serialize_map(Some(R::FIELDS.len()))?;
        for (k, v) in R::FIELDS.iter().zip(&values) {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// Records as a JSON array of objects.
pub struct JsonRecords<'a, R>(pub &'a [R]);

impl<R: Record> serde::Serialize for JsonRecords<'_, R> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(JsonRecord))
    }
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.unix_timestamp().to_string())
}

/// A kind of record: its field names, which of them a table shows, and each record's values
/// in field order.
pub trait Record {
    /// Field names, in order: JSON keys and the CSV header.
    const FIELDS: &'static [&'static str];
    /// The fields a table shows, in order (a subset of [`Record::FIELDS`]).
    const TABLE: &'static [&'static str];
    /// The values, in the order of [`Record::FIELDS`].
    fn values(&self) -> Vec<Value>;
}

/// Where data goes: stdout, in one format.
pub struct Output {
    /// The format.
    pub format: Format,
    out: Box<dyn Write>,
}

impl Output {
    /// Writes to stdout.
    pub fn stdout(format: Format) -> Self {
        Self {
            format,
            out: Box::new(std::io::stdout()),
        }
    }

    /// Writes a list of records.
    pub fn records<R: Record>(&mut self, records: &[R]) -> Result<(), CliError> {
        match self.format {
            Format::Json => self.json(&JsonRecords(records)),
            Format::Csv => self.csv(records),
            Format::Table => self.table(records),
        }
    }

    /// Writes one record: a JSON object, a CSV header and row, or a two-column table.
    pub fn record<R: Record>(&mut self, record: &R) -> Result<(), CliError> {
        match self.format {
            Format::Json => self.json(&JsonRecord(record)),
            Format::Csv => self.csv(std::slice::from_ref(record)),
            Format::Table => {
                let width = R::FIELDS.iter().map(|f| f.len()).max().unwrap_or(0);
                for (field, value) in R::FIELDS.iter().zip(record.values()) {
                    writeln!(
                        self.out,
                        "{:<width$}  {}",
                        field.to_uppercase(),
                        value.table()
                    )?;
                }
                self.out.flush()?;
                Ok(())
            }
        }
    }

    /// Writes a JSON value, pretty-printed.
    pub fn json(&mut self, value: &impl serde::Serialize) -> Result<(), CliError> {
        let text = serde_json::to_string_pretty(value)
            .map_err(|e| CliError::Other(format!("could not write JSON: {e}")))?;
        writeln!(self.out, "{text}")?;
        self.out.flush()?;
        Ok(())
    }

    /// Writes records as CSV with a header line.
    pub fn csv<R: Record>(&mut self, records: &[R]) -> Result<(), CliError> {
        let mut writer = csv::Writer::from_writer(&mut self.out);
        let csv_error = |e: csv::Error| CliError::Other(format!("could not write CSV: {e}"));
        writer.write_record(R::FIELDS).map_err(csv_error)?;
        for r in records {
            writer
                .write_record(r.values().iter().map(Value::csv))
                .map_err(csv_error)?;
        }
        writer.flush()?;
        Ok(())
    }

    /// Writes records as an aligned table with an upper-case header.
    pub fn table<R: Record>(&mut self, records: &[R]) -> Result<(), CliError> {
        if records.is_empty() {
            return Ok(());
        }
        let columns: Vec<usize> = R::TABLE
            .iter()
            .filter_map(|c| R::FIELDS.iter().position(|f| f == c))
            .collect();
        let header: Vec<String> = columns
            .iter()
            .map(|&i| R::FIELDS[i].to_uppercase())
            .collect();
        let rows: Vec<Vec<String>> = records
            .iter()
            .map(|r| {
                let values = r.values();
                columns
                    .iter()
                    .map(|&i| values.get(i).map(Value::table).unwrap_or_default())
                    .collect()
            })
            .collect();
        let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        for line in std::iter::once(&header).chain(rows.iter()) {
            let mut text = String::new();
            for (i, (cell, w)) in line.iter().zip(&widths).enumerate() {
                if i + 1 == line.len() {
                    text.push_str(cell);
                } else {
                    text.push_str(cell);
                    let pad = w.saturating_sub(cell.chars().count()) + 2;
                    text.extend(std::iter::repeat_n(' ', pad));
                }
            }
            writeln!(self.out, "{}", text.trim_end())?;
        }
        self.out.flush()?;
        Ok(())
    }

    /// Writes a line of plain text (table format titles, the demo's narration).
    pub fn line(&mut self, text: &str) -> Result<(), CliError> {
        writeln!(self.out, "{text}")?;
        self.out.flush()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Row(&'static str, Vec<String>);

    impl Record for Row {
        const FIELDS: &'static [&'static str] = &["name", "tags", "hidden"];
        const TABLE: &'static [&'static str] = &["name", "tags"];
        fn values(&self) -> Vec<Value> {
            vec![
                Value::Text(self.0.into()),
                Value::List(self.1.clone()),
                Value::Null,
            ]
        }
    }

    #[test]
    fn json_uses_the_field_names() {
        let row = Row("a", vec!["x".into(), "y".into()]);
        let text = serde_json::to_string(&JsonRecord(&row)).unwrap_or_default();
        assert!(text.starts_with(r#"{"name":"a","tags""#), "{text}");
        let json: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        assert_eq!(json["name"], "a");
        assert_eq!(json["tags"], serde_json::json!(["x", "y"]));
        assert!(json["hidden"].is_null());
    }

    #[test]
    fn csv_and_table_cells() {
        assert_eq!(Value::List(vec!["a".into(), "b".into()]).csv(), "a;b");
        assert_eq!(Value::Null.table(), "-");
        assert_eq!(
            Value::Perms(VaultPermissions::RWE).table(),
            "allow_viewing, allow_editing"
        );
        assert!(
            Value::Perms(VaultPermissions::RWE)
                .csv()
                .contains("view_items;")
        );
    }
}

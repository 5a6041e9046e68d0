//! CSV sources: a header row, then one user per row. The generic layout
//! (`--from csv`) names its columns `id`, `email`, `password_hash` (PHC or
//! bcrypt), `verified`, `created`, `updated`; every other column becomes a
//! profile field (JSON objects and arrays are parsed, other values kept as text).
use std::path::Path;

use anyhow::Context;
use serde_json::{Map, Value};

use super::{Candidate, ImportRow, parse_time};

/// One map per data row (column → text), or why a row cannot be read.
pub fn records(path: &Path) -> anyhow::Result<Vec<Result<Map<String, Value>, String>>> {
    let mut reader =
        ::csv::Reader::from_path(path).with_context(|| format!("opening {}", path.display()))?;
    let header: Vec<String> = reader
        .headers()
        .with_context(|| format!("reading the header of {}", path.display()))?
        .iter()
        .map(|h| h.trim().to_owned())
        .collect();
    Ok(reader
        .records()
        .map(|record| {
            let record = record.map_err(|_| "malformed CSV row".to_owned())?;
            Ok(header
                .iter()
                .zip(record.iter())
                .map(|(k, v)| (k.clone(), Value::String(v.to_owned())))
                .collect())
        })
        .collect())
}

/// Removes the first of `names` present in `row`; its text (empty when absent).
pub(super) fn take(row: &mut Map<String, Value>, names: &[&str]) -> Option<Value> {
    names
        .iter()
        .find_map(|n| row.remove(*n))
        .filter(|v| !v.is_null() && v.as_str() != Some(""))
}

pub(super) fn text(value: Option<Value>) -> String {
    match value {
        Some(Value::String(s)) => s,
        Some(other) => other.to_string(),
        None => String::new(),
    }
}

pub(super) fn truthy(value: Option<Value>) -> bool {
    match value {
        Some(Value::Bool(b)) => b,
        Some(Value::Number(n)) => n.as_f64().is_some_and(|n| n != 0.0),
        Some(Value::String(s)) => matches!(
            s.trim().to_ascii_lowercase().as_str(),
            "true" | "t" | "1" | "yes"
        ),
        _ => false,
    }
}

/// A text cell holding a JSON object or array is read as JSON.
pub(super) fn cell(value: Value) -> Value {
    match &value {
        Value::String(s) if s.starts_with('{') || s.starts_with('[') => {
            serde_json::from_str(s).unwrap_or(value)
        }
        _ => value,
    }
}

/// The generic layout's row.
fn generic(mut row: Map<String, Value>) -> Candidate {
    let id = take(&mut row, &["id"]).map(|v| text(Some(v)));
    let email = text(take(&mut row, &["email"]));
    let password_hash = text(take(&mut row, &["password_hash", "passwordHash", "hash"]));
    let verified = truthy(take(
        &mut row,
        &["verified", "email_verified", "emailVerified"],
    ));
    let created = text(take(&mut row, &["created", "created_at", "createdAt"]));
    let updated = text(take(&mut row, &["updated", "updated_at", "updatedAt"]));
    let data = row
        .into_iter()
        .filter(|(_, v)| v.as_str() != Some(""))
        .map(|(k, v)| (k, cell(v)))
        .collect();
    Ok(ImportRow {
        id,
        email,
        password_hash,
        verified,
        disabled: false,
        data,
        created_at: parse_time(&created),
        updated_at: parse_time(&updated),
        ..ImportRow::default()
    })
}

/// Reads a CSV file of the generic layout.
pub fn read(path: &Path) -> anyhow::Result<Vec<Candidate>> {
    Ok(records(path)?
        .into_iter()
        .map(|r| r.and_then(generic))
        .collect())
}

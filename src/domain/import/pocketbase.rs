//! PocketBase (0.23 and later): an auth collection read straight from its
//! `pb_data/data.db`, opened read-only. Its bcrypt hashes, `verified`,
//! `created` and `updated` are kept, and every other field becomes a profile
//! field (booleans as booleans, JSON, multiple selects and relations as JSON).
use std::path::Path;

use anyhow::Context;
use sea_orm::{ConnectionTrait, Database, DbBackend, Statement, Value as SqlValue};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::csv::{cell, take, text, truthy};
use super::{Candidate, ImportRow, parse_time};

/// Fields of PocketBase's auth collections that are not profile fields.
const ACCOUNT_FIELDS: &[&str] = &["password", "tokenKey", "emailVisibility"];

#[derive(Deserialize)]
struct Field {
    name: String,
    #[serde(rename = "type")]
    kind: String,
}

/// SQLite's json_object takes at most 127 arguments by default (two per field).
const MAX_FIELDS: usize = 60;

fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Reads the auth collection `collection` of the database at `path`.
pub async fn read(path: &Path, collection: &str) -> anyhow::Result<Vec<Candidate>> {
    anyhow::ensure!(
        path.is_file(),
        "{} is not a file (expected pb_data/data.db)",
        path.display()
    );
    let url = format!("sqlite://{}?mode=ro", path.display());
    let db = Database::connect(&url)
        .await
        .with_context(|| format!("opening {}", path.display()))?;
    let found = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Sqlite,
            "SELECT type, fields FROM _collections WHERE name = ?",
            [SqlValue::from(collection)],
        ))
        .await
        .context("reading _collections (is this a PocketBase 0.23+ data.db?)")?
        .with_context(|| format!("no collection `{collection}` in {}", path.display()))?;
    let kind: String = found.try_get("", "type")?;
    anyhow::ensure!(
        kind == "auth",
        "`{collection}` is a {kind} collection, not an auth collection"
    );
    let fields: Vec<Field> = serde_json::from_str(&found.try_get::<String>("", "fields")?)
        .context("reading the collection's fields")?;
    let wanted: Vec<&Field> = fields
        .iter()
        .filter(|f| !ACCOUNT_FIELDS.contains(&f.name.as_str()))
        .collect();
    anyhow::ensure!(
        wanted.len() <= MAX_FIELDS,
        "`{collection}` has more than {MAX_FIELDS} fields"
    );
    let pairs: Vec<String> = wanted
        .iter()
        .map(|f| format!("'{}', {}", f.name.replace('\'', "''"), quoted(&f.name)))
        .collect();
    let sql = format!(
        "SELECT json_object({}, '__password', \"password\") AS row FROM {} ORDER BY rowid",
        pairs.join(", "),
        quoted(collection)
    );
    let rows = db
        .query_all_raw(Statement::from_string(DbBackend::Sqlite, sql))
        .await
        .with_context(|| format!("reading the records of `{collection}`"))?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let text: String = r.try_get("", "row")?;
        out.push(match serde_json::from_str(&text) {
            Ok(Value::Object(map)) => Ok(row(map, &wanted)),
            _ => Err("unreadable record".into()),
        });
    }
    Ok(out)
}

fn row(mut r: Map<String, Value>, fields: &[&Field]) -> ImportRow {
    let created = text(take(&mut r, &["created"]));
    let updated = text(take(&mut r, &["updated"]));
    let mut out = ImportRow {
        id: take(&mut r, &["id"]).map(|v| text(Some(v))),
        email: text(take(&mut r, &["email"])),
        password_hash: text(take(&mut r, &["__password"])),
        verified: truthy(take(&mut r, &["verified"])),
        disabled: false,
        data: Map::new(),
        created_at: parse_time(&created),
        updated_at: parse_time(&updated),
        ..ImportRow::default()
    };
    for field in fields {
        let Some(value) = r.remove(&field.name) else {
            continue;
        };
        let value = match field.kind.as_str() {
            "bool" => Value::Bool(truthy(Some(value))),
            "json" | "select" | "relation" | "file" => cell(value),
            _ => value,
        };
        // PocketBase stores empty text as '' and empty lists as '[]'.
        if value.as_str() != Some("") && value != Value::Array(vec![]) && !value.is_null() {
            out.data.insert(field.name.clone(), value);
        }
    }
    out
}

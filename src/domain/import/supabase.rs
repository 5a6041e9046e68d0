//! Supabase: the `auth.users` table (bcrypt in `encrypted_password`), from a
//! CSV export of it or read from the database at a `postgres://` URL.
use std::path::Path;

use anyhow::Context;
use chrono::Utc;
use sea_orm::Database;
use serde_json::{Map, Value};

use super::csv::{cell, records, take, text, truthy};
use super::{Candidate, ImportRow, parse_time};
use crate::store::raw;

/// One row of `auth.users` (CSV text or the database's JSON).
fn row(mut r: Map<String, Value>) -> Candidate {
    if take(&mut r, &["deleted_at"]).is_some() {
        return Err("deleted in the source".into());
    }
    if truthy(take(&mut r, &["is_anonymous"])) {
        return Err("anonymous user (no email)".into());
    }
    let banned_until = parse_time(&text(take(&mut r, &["banned_until"])));
    let data = match take(&mut r, &["raw_user_meta_data"]).map(cell) {
        Some(Value::Object(map)) => map,
        _ => Map::new(),
    };
    let created = text(take(&mut r, &["created_at"]));
    let updated = text(take(&mut r, &["updated_at"]));
    Ok(ImportRow {
        id: take(&mut r, &["id"]).map(|v| text(Some(v))),
        email: text(take(&mut r, &["email"])),
        password_hash: text(take(&mut r, &["encrypted_password"])),
        verified: take(&mut r, &["email_confirmed_at", "confirmed_at"]).is_some(),
        disabled: banned_until.is_some_and(|t| t > Utc::now()),
        data,
        created_at: parse_time(&created),
        updated_at: parse_time(&updated),
        ..ImportRow::default()
    })
}

/// Reads `auth.users` from a CSV file or a `postgres://` URL.
pub async fn read(source: &str) -> anyhow::Result<Vec<Candidate>> {
    if !(source.starts_with("postgres://") || source.starts_with("postgresql://")) {
        return Ok(records(Path::new(source))?
            .into_iter()
            .map(|r| r.and_then(row))
            .collect());
    }
    let db = Database::connect(source)
        .await
        .context("connecting to the Supabase database")?;
    // One JSON object per row: whatever columns this Supabase version has.
    let rows = raw::query_all(
        &db,
        "SELECT to_jsonb(u)::text AS row FROM auth.users u ORDER BY created_at, id",
        vec![],
    )
    .await
    .map_err(|e| anyhow::anyhow!("reading auth.users: {e:?}"))?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let text: String = r.try_get("", "row")?;
        out.push(match serde_json::from_str(&text) {
            Ok(Value::Object(map)) => row(map),
            _ => Err("unreadable row".into()),
        });
    }
    Ok(out)
}

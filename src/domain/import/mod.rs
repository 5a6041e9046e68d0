//! Importing users from other systems (`authgraph import`): every source is
//! read into [`Candidate`]s, then written in batches, one transaction each.
//! Rows whose email (or kept id) is already in the collection are skipped, so
//! an interrupted import resumes where it stopped when run again.
pub mod csv;
pub mod firebase;
pub mod identities;
pub mod pocketbase;
pub mod supabase;

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};

use super::collections::Collection;
use super::services::Services;
use super::users::normalize_email;
use crate::auth::{keys, legacy};
use crate::error::AppResult;
use crate::store;
use entity::user;

/// One user as a source gave it, before the checks.
#[derive(Clone, Debug, Default)]
pub struct ImportRow {
    /// The source's id; kept when it fits authgraph's ids, else kept in `data.import_id`.
    pub id: Option<String>,
    pub email: String,
    /// A hash authgraph verifies (argon2 PHC, bcrypt, `$firebase-scrypt$`), or
    /// empty for a user without a password (OAuth only).
    pub password_hash: String,
    pub verified: bool,
    pub disabled: bool,
    pub data: Map<String, Value>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    /// Provider accounts to link as OAuth identities.
    pub identities: Vec<identities::SourceIdentity>,
    /// Provider accounts that cannot be linked, each as the reason.
    pub identities_skipped: Vec<String>,
}

/// A row of the source, or why it cannot be imported.
pub type Candidate = Result<ImportRow, String>;

/// What to import into.
pub struct ImportRequest<'a> {
    pub project_slug: &'a str,
    pub collection: &'a str,
    /// Check everything, write nothing.
    pub dry_run: bool,
    /// Rows per transaction.
    pub batch_size: usize,
}

/// What an import did: rows imported, rows skipped by reason.
#[derive(Debug, Default, Serialize)]
pub struct Summary {
    pub imported: u64,
    pub skipped: BTreeMap<String, u64>,
    /// Provider identities linked to imported users (OAuth sign-in).
    pub identities: u64,
    /// Provider identities not linked, by reason.
    pub identities_skipped: BTreeMap<String, u64>,
    pub dry_run: bool,
    /// Stopped before the end (the rows so far are committed; run it again).
    pub interrupted: bool,
}

impl Summary {
    fn skip(&mut self, reason: impl Into<String>) {
        *self.skipped.entry(reason.into()).or_default() += 1;
    }
}

/// Whether a source's id can be kept: authgraph's ids are URL-safe text.
pub fn fits_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Whether authgraph can verify a stored hash (or there is none).
fn verifiable(hash: &str) -> bool {
    hash.is_empty()
        || legacy::scheme(hash).is_some()
        || argon2::password_hash::phc::PasswordHash::new(hash)
            .is_ok_and(|p| p.algorithm.as_str().starts_with("argon2"))
}

/// Checks one row against the source's earlier rows; the user to insert or why not.
fn check(
    row: ImportRow,
    collection: &Collection,
    seen: &mut HashSet<String>,
    now: DateTime<Utc>,
) -> Result<Checked, String> {
    let (email, email_normalized) =
        normalize_email(&row.email).map_err(|_| "invalid or missing email".to_owned())?;
    if !verifiable(&row.password_hash) {
        return Err("unsupported password hash".into());
    }
    let mut data = row.data;
    let id = match row.id {
        Some(id) if fits_id(&id) => id,
        Some(other) => {
            data.insert("import_id".into(), Value::String(other));
            keys::new_id()
        }
        None => keys::new_id(),
    };
    if !seen.insert(email_normalized.clone()) || !seen.insert(format!("id:{id}")) {
        return Err("duplicate in the source".into());
    }
    let created_at = row.created_at.unwrap_or(now);
    let user = user::Model {
        id,
        project_id: collection.project_id.clone(),
        collection_id: collection.id.clone(),
        email,
        email_normalized,
        password_hash: row.password_hash,
        data: Value::Object(data),
        roles: serde_json::json!(["user"]),
        verified: row.verified,
        disabled: row.disabled,
        token_version: 0,
        created_at,
        updated_at: row.updated_at.unwrap_or(created_at),
    };
    Ok((user, row.identities, row.identities_skipped))
}

/// A user to insert, its provider identities and those it cannot have.
type Checked = (user::Model, Vec<identities::SourceIdentity>, Vec<String>);

/// Imports `rows` into the collection; `progress` hears how many rows each
/// batch handled and stops the import (after that batch) by returning false.
pub async fn run(
    svc: &Services,
    req: &ImportRequest<'_>,
    rows: Vec<Candidate>,
    progress: &mut (dyn FnMut(u64) -> bool + Send),
) -> AppResult<Summary> {
    let project = svc
        .catalog
        .project_by_slug(&svc.db, req.project_slug)
        .await?;
    let collection: Collection = svc
        .catalog
        .collection_by_name(&svc.db, &project.id, req.collection)
        .await?;
    let mut summary = Summary {
        dry_run: req.dry_run,
        ..Summary::default()
    };
    let mut seen = HashSet::new();
    let now = Utc::now();
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let batch: Vec<Candidate> = rows.by_ref().take(req.batch_size.max(1)).collect();
        let handled = batch.len() as u64;
        let mut users = Vec::with_capacity(batch.len());
        for candidate in batch {
            match candidate.and_then(|row| check(row, &collection, &mut seen, now)) {
                Ok(user) => users.push(user),
                Err(reason) => summary.skip(reason),
            }
        }
        let models: Vec<user::Model> = users.iter().map(|(u, _, _)| u.clone()).collect();
        let existing = store::import::existing(&svc.db, &collection.id, &models).await?;
        users.retain(|(u, _, _)| {
            let reason = if existing.emails.contains(&u.email_normalized) {
                "already imported (email exists)"
            } else if existing.ids.contains(&u.id) {
                "id taken by another user"
            } else {
                return true;
            };
            summary.skip(reason);
            false
        });
        summary.imported += users.len() as u64;
        let mut links = identities::Links::default();
        let mut models = Vec::with_capacity(users.len());
        for (user, found, skipped) in users {
            links.add(&collection, &user.id, found);
            for reason in skipped {
                identities::skip(&mut summary.identities_skipped, reason);
            }
            models.push(user);
        }
        let wanted = links.len();
        let linked = if req.dry_run {
            wanted
        } else {
            let rows = links.rows(&collection.id, now.timestamp());
            store::import::insert(&svc.db, models, rows).await?
        };
        summary.identities += linked;
        for _ in linked..wanted {
            identities::skip(
                &mut summary.identities_skipped,
                "already linked to another user",
            );
        }
        if !progress(handled) {
            summary.interrupted = rows.peek().is_some();
            break;
        }
    }
    tracing::info!(event = "import", project = %project.slug, imported = summary.imported, dry_run = req.dry_run);
    Ok(summary)
}

/// A time as sources write it: RFC 3339, PocketBase's `2024-01-02 10:00:00.123Z`,
/// PostgreSQL's text `2024-01-02 10:00:00.123456+00`, or milliseconds since 1970.
pub fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%d %H:%M:%S%.fZ", "%Y-%m-%d %H:%M:%S%.f%#z"] {
        if let Ok(t) = DateTime::parse_from_str(text, format) {
            return Some(t.with_timezone(&Utc));
        }
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(text, format) {
            return Some(t.and_utc());
        }
    }
    text.parse::<i64>()
        .ok()
        .and_then(DateTime::<Utc>::from_timestamp_millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_of_every_source_parse() {
        let expected = DateTime::parse_from_rfc3339("2024-01-02T10:00:00.123Z").unwrap();
        for text in [
            "2024-01-02T10:00:00.123Z",
            "2024-01-02 10:00:00.123Z",
            "2024-01-02 10:00:00.123+00",
            "1704189600123",
        ] {
            assert_eq!(
                parse_time(text),
                Some(expected.with_timezone(&Utc)),
                "{text}"
            );
        }
        assert_eq!(parse_time("yesterday"), None);
    }

    #[test]
    fn ids_are_kept_when_they_fit_and_hashes_must_be_verifiable() {
        assert!(fits_id("abc123def456ghi"));
        assert!(fits_id("5c6a7b0e-0c43-4d6e-8f1a-1b2c3d4e5f60"));
        assert!(!fits_id("has space"));
        assert!(!fits_id(""));
        assert!(verifiable("$2a$10$abcdefghijklmnopqrstuu"));
        assert!(verifiable(""));
        assert!(!verifiable("$pbkdf2-sha256$29000$abc$def"));
        assert!(!verifiable("plaintext"));
    }
}

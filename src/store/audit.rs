//! The audit trail (`audit_events`): one insert per event, pages newest first,
//! and deletes by age in batches.
use chrono::{DateTime, TimeZone, Utc};
use sea_orm::{ConnectionTrait, FromQueryResult, Value};

use super::raw::{execute, query_all};
use crate::error::AppResult;

/// An audit event as stored.
#[derive(Clone, Debug, FromQueryResult)]
pub struct AuditRow {
    pub id: String,
    /// Unix milliseconds.
    pub at: i64,
    pub project_id: Option<String>,
    pub kind: String,
    pub user_id: Option<String>,
    pub outcome: String,
    pub collection_id: Option<String>,
    /// A JSON object.
    pub detail: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl AuditRow {
    /// When it happened.
    pub fn time(&self) -> DateTime<Utc> {
        Utc.timestamp_millis_opt(self.at)
            .single()
            .unwrap_or_default()
    }

    /// The detail as JSON.
    pub fn detail_json(&self) -> serde_json::Value {
        serde_json::from_str(&self.detail).unwrap_or_default()
    }
}

const COLUMNS: &str =
    "id, kind, outcome, detail, project_id, collection_id, user_id, ip, user_agent, at";

pub async fn insert(db: &impl ConnectionTrait, e: &AuditRow) -> AppResult<()> {
    let text = format!(
        "INSERT INTO audit_events ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
    );
    // In the order of COLUMNS.
    let texts = [&e.id, &e.kind, &e.outcome, &e.detail].map(|s| Value::from(s.as_str()));
    let optional = [
        &e.project_id,
        &e.collection_id,
        &e.user_id,
        &e.ip,
        &e.user_agent,
    ];
    let mut values: Vec<Value> = texts.into_iter().collect();
    values.extend(optional.map(|s| Value::from(s.clone())));
    values.push(e.at.into());
    execute(db, &text, values).await?;
    Ok(())
}

/// Which events of a project to list; every condition given must hold.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    pub user_id: Option<String>,
    /// Any of these kinds; every kind when empty.
    pub kinds: Vec<String>,
    pub outcome: Option<String>,
    /// From this time on (inclusive) and before this time (exclusive), in
    /// Unix milliseconds.
    pub between: (Option<i64>, Option<i64>),
}

/// Up to `limit` events of a project, newest first (time, then id), strictly
/// older than `before` (an event's time and id: keyset paging) when given.
pub async fn page(
    db: &impl ConnectionTrait,
    project_id: &str,
    f: &AuditFilter,
    before: Option<(i64, String)>,
    limit: u64,
) -> AppResult<Vec<AuditRow>> {
    let mut values: Vec<Value> = vec![project_id.into()];
    let mut bind = |v: Value| {
        values.push(v);
        format!("${}", values.len())
    };
    let mut conds = vec!["project_id = $1".to_owned()];
    if let Some(u) = &f.user_id {
        conds.push(format!("user_id = {}", bind(u.as_str().into())));
    }
    if !f.kinds.is_empty() {
        let ps: Vec<String> = f.kinds.iter().map(|k| bind(k.as_str().into())).collect();
        conds.push(format!("kind IN ({})", ps.join(", ")));
    }
    if let Some(o) = &f.outcome {
        conds.push(format!("outcome = {}", bind(o.as_str().into())));
    }
    let (from, to) = f.between;
    if let Some(from) = from {
        conds.push(format!("at >= {}", bind(from.into())));
    }
    if let Some(to) = to {
        conds.push(format!("at < {}", bind(to.into())));
    }
    if let Some((at, id)) = before {
        let (a, i) = (bind(at.into()), bind(id.into()));
        conds.push(format!("(at < {a} OR (at = {a} AND id < {i}))"));
    }
    // The limit is an integer: a literal keeps SQLite's statement cache warm.
    let text = format!(
        "SELECT {COLUMNS} FROM audit_events WHERE {} ORDER BY at DESC, id DESC LIMIT {limit}",
        conds.join(" AND "),
    );
    let rows = query_all(db, &text, values).await?;
    rows.iter()
        .map(|r| Ok(AuditRow::from_query_result(r, "")?))
        .collect()
}

/// Deletes up to `batch` events older than `before` (Unix milliseconds);
/// how many went.
pub async fn delete_older(db: &impl ConnectionTrait, before: i64, batch: u64) -> AppResult<u64> {
    // A subquery by id works on both backends (Postgres has no DELETE … LIMIT).
    let text = format!(
        "DELETE FROM audit_events WHERE id IN \
         (SELECT id FROM audit_events WHERE at < $1 LIMIT {batch})"
    );
    execute(db, &text, vec![before.into()]).await
}

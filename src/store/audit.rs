//! The audit trail (`audit_events`): one insert per event, pages newest first,
//! and deletes by age in batches.
use sea_orm::{ConnectionTrait, FromQueryResult, Value};

use super::raw::{execute, query_all};
use crate::error::AppResult;

/// An audit event as stored.
#[derive(Clone, Debug, FromQueryResult)]
pub struct AuditRow {
    pub id: String,
    pub project_id: Option<String>,
    pub collection_id: Option<String>,
    pub user_id: Option<String>,
    pub kind: String,
    pub outcome: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// Unix milliseconds.
    pub at: i64,
    /// A JSON object.
    pub detail: String,
}

const COLUMNS: &str =
    "id, project_id, collection_id, user_id, kind, outcome, ip, user_agent, at, detail";

pub async fn insert(db: &impl ConnectionTrait, e: &AuditRow) -> AppResult<()> {
    let text = format!(
        "INSERT INTO audit_events ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
    );
    let values = vec![
        e.id.as_str().into(),
        e.project_id.clone().into(),
        e.collection_id.clone().into(),
        e.user_id.clone().into(),
        e.kind.as_str().into(),
        e.outcome.as_str().into(),
        e.ip.clone().into(),
        e.user_agent.clone().into(),
        e.at.into(),
        e.detail.as_str().into(),
    ];
    execute(db, &text, values).await?;
    Ok(())
}

/// Which events of one project a page holds.
#[derive(Clone, Debug, Default)]
pub struct AuditSelection {
    pub project_id: String,
    pub user_id: Option<String>,
    /// Any of these kinds; every kind when empty.
    pub kinds: Vec<String>,
    pub outcome: Option<String>,
    /// From this time on (Unix milliseconds, inclusive).
    pub from: Option<i64>,
    /// Before this time (Unix milliseconds, exclusive).
    pub to: Option<i64>,
    /// Strictly older than this event (its time and id): keyset paging.
    pub before: Option<(i64, String)>,
    pub limit: u64,
}

/// A page of events, newest first (time, then id).
pub async fn page(db: &impl ConnectionTrait, s: &AuditSelection) -> AppResult<Vec<AuditRow>> {
    let mut conds = vec!["project_id = $1".to_owned()];
    let mut values: Vec<Value> = vec![s.project_id.as_str().into()];
    let bind = |values: &mut Vec<Value>, v: Value| {
        values.push(v);
        format!("${}", values.len())
    };
    if let Some(u) = &s.user_id {
        let p = bind(&mut values, u.as_str().into());
        conds.push(format!("user_id = {p}"));
    }
    if !s.kinds.is_empty() {
        let ps: Vec<String> = s
            .kinds
            .iter()
            .map(|k| bind(&mut values, k.as_str().into()))
            .collect();
        conds.push(format!("kind IN ({})", ps.join(", ")));
    }
    if let Some(o) = &s.outcome {
        let p = bind(&mut values, o.as_str().into());
        conds.push(format!("outcome = {p}"));
    }
    if let Some(from) = s.from {
        let p = bind(&mut values, from.into());
        conds.push(format!("at >= {p}"));
    }
    if let Some(to) = s.to {
        let p = bind(&mut values, to.into());
        conds.push(format!("at < {p}"));
    }
    if let Some((at, id)) = &s.before {
        let a = bind(&mut values, (*at).into());
        let i = bind(&mut values, id.as_str().into());
        conds.push(format!("(at < {a} OR (at = {a} AND id < {i}))"));
    }
    // The limit is an integer: a literal keeps SQLite's statement cache warm.
    let text = format!(
        "SELECT {COLUMNS} FROM audit_events WHERE {} ORDER BY at DESC, id DESC LIMIT {}",
        conds.join(" AND "),
        s.limit
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

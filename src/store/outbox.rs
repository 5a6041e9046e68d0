//! The mail outbox's SQL: rows enqueued, claimed under a lease, marked done.
//! Times are Unix milliseconds except `expires_at` (seconds, like codes').
use sea_orm::{ConnectionTrait, DbBackend, FromQueryResult};

use super::raw::{execute, query_all, query_one};
use crate::error::AppResult;

/// A row waiting to be sent: `sealed` under `id`, due at once, worth
/// sending until `expires_at` (when set).
pub struct NewMail<'a>(pub &'a str, pub &'a str, pub i64, pub Option<i64>);

/// A row an instance claimed, with the attempts that failed so far
/// (`sealed` is null only if another instance finished it meanwhile).
#[derive(FromQueryResult)]
pub struct Claimed {
    pub id: String,
    pub sealed: Option<String>,
    pub attempts: i32,
}

/// How a row ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Done {
    Sent,
    Failed,
    Expired,
}

impl Done {
    fn key(self) -> &'static str {
        match self {
            Done::Sent => "sent",
            Done::Failed => "failed",
            Done::Expired => "expired",
        }
    }
}

pub async fn insert(db: &impl ConnectionTrait, row: NewMail<'_>) -> AppResult<()> {
    execute(
        db,
        "INSERT INTO mail_outbox (id, status, sealed, attempts, due_at, expires_at, created_at) \
         VALUES ($1, 'pending', $2, 0, $3, $4, $3)",
        vec![row.0.into(), row.1.into(), row.2.into(), row.3.into()],
    )
    .await?;
    Ok(())
}

/// Claims up to `limit` due rows for `by` until `lease_until`. On Postgres a
/// row another instance is claiming at the same moment is skipped (`SKIP
/// LOCKED`); SQLite has one writer, so the statement is atomic there.
pub async fn claim(
    db: &impl ConnectionTrait,
    by: &str,
    now_ms: i64,
    lease_until: i64,
    limit: u64,
) -> AppResult<Vec<Claimed>> {
    let lock = match db.get_database_backend() {
        DbBackend::Postgres => "FOR UPDATE SKIP LOCKED",
        _ => "",
    };
    let free =
        "status = 'pending' AND due_at <= $3 AND (claimed_until IS NULL OR claimed_until < $3)";
    let text = format!(
        "UPDATE mail_outbox SET claimed_until = $1, claimed_by = $2 \
         WHERE {free} AND id IN (SELECT id FROM mail_outbox WHERE {free} \
         ORDER BY due_at LIMIT $4 {lock}) \
         RETURNING id, sealed, attempts"
    );
    let values = vec![
        lease_until.into(),
        by.into(),
        now_ms.into(),
        (limit as i64).into(),
    ];
    let rows = query_all(db, &text, values).await?;
    let claimed = rows.iter().map(|r| Claimed::from_query_result(r, ""));
    Ok(claimed.collect::<Result<_, _>>()?)
}

/// Ends a row: the message is erased, the metadata kept until `purge`.
pub async fn finish(db: &impl ConnectionTrait, id: &str, done: Done, now_ms: i64) -> AppResult<()> {
    execute(
        db,
        "UPDATE mail_outbox SET status = $2, sealed = NULL, done_at = $3, \
         claimed_until = NULL, claimed_by = NULL WHERE id = $1 AND status = 'pending'",
        vec![id.into(), done.key().into(), now_ms.into()],
    )
    .await?;
    Ok(())
}

/// Ends the pending rows whose code expired before they could be sent, and
/// those enqueued before `give_up_before` that failed at least once; returns
/// how many of each.
pub async fn sweep(
    db: &impl ConnectionTrait,
    now_ms: i64,
    give_up_before: i64,
) -> AppResult<(u64, u64)> {
    let end = "UPDATE mail_outbox SET status = $2, sealed = NULL, done_at = $1, \
               claimed_until = NULL, claimed_by = NULL WHERE status = 'pending' AND ";
    let expired = execute(
        db,
        &format!("{end}expires_at IS NOT NULL AND expires_at * 1000 <= $1"),
        vec![now_ms.into(), Done::Expired.key().into()],
    )
    .await?;
    let failed = execute(
        db,
        &format!("{end}attempts > 0 AND created_at < $3 AND (claimed_until IS NULL OR claimed_until < $1)"),
        vec![now_ms.into(), Done::Failed.key().into(), give_up_before.into()],
    )
    .await?;
    Ok((expired, failed))
}

/// Frees a row `by` claimed for another attempt at `due_at`.
pub async fn retry(db: &impl ConnectionTrait, id: &str, by: &str, due_at: i64) -> AppResult<()> {
    execute(
        db,
        "UPDATE mail_outbox SET attempts = attempts + 1, due_at = $3, \
         claimed_until = NULL, claimed_by = NULL \
         WHERE id = $1 AND claimed_by = $2 AND status = 'pending'",
        vec![id.into(), by.into(), due_at.into()],
    )
    .await?;
    Ok(())
}

/// Frees every row `by` still holds (at shutdown); returns how many.
pub async fn release(db: &impl ConnectionTrait, by: &str) -> AppResult<u64> {
    execute(
        db,
        "UPDATE mail_outbox SET claimed_until = NULL, claimed_by = NULL \
         WHERE claimed_by = $1 AND status = 'pending'",
        vec![by.into()],
    )
    .await
}

/// Pending rows and the creation time of the oldest.
pub async fn pending(db: &impl ConnectionTrait) -> AppResult<(i64, Option<i64>)> {
    let row = query_one(
        db,
        "SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM mail_outbox WHERE status = 'pending'",
        vec![],
    )
    .await?;
    match row {
        Some(r) => Ok((r.try_get("", "n")?, r.try_get("", "oldest")?)),
        None => Ok((0, None)),
    }
}

/// When the next pending row can be claimed, if any: when it is due, or for
/// a row another instance holds, when its lease ends.
pub async fn next_due(db: &impl ConnectionTrait) -> AppResult<Option<i64>> {
    let row = query_one(
        db,
        "SELECT MIN(CASE WHEN claimed_until > due_at THEN claimed_until ELSE due_at END) AS due \
         FROM mail_outbox WHERE status = 'pending'",
        vec![],
    )
    .await?;
    Ok(match row {
        Some(r) => r.try_get("", "due")?,
        None => None,
    })
}

/// Deletes rows that ended before `before_ms`.
pub async fn purge(db: &impl ConnectionTrait, before_ms: i64) -> AppResult<u64> {
    execute(
        db,
        "DELETE FROM mail_outbox WHERE status <> 'pending' AND done_at < $1",
        vec![before_ms.into()],
    )
    .await
}

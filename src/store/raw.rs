//! Hand-written statements in `$N` placeholder style (see [`sql`]), run on
//! either backend.
use sea_orm::{ConnectionTrait, QueryResult, Value};

use super::sql;
use crate::error::AppResult;

/// Runs a statement; the number of rows it changed.
pub async fn execute(db: &impl ConnectionTrait, text: &str, values: Vec<Value>) -> AppResult<u64> {
    Ok(db.execute_raw(sql(db, text, values)).await?.rows_affected())
}

/// Runs a statement meant for one row; true when it changed exactly one
/// (false when there was none, or a racing statement changed it first).
pub async fn execute_one(
    db: &impl ConnectionTrait,
    text: &str,
    values: Vec<Value>,
) -> AppResult<bool> {
    Ok(execute(db, text, values).await? == 1)
}

/// The queries: each builds its statement with [`sql`] and hands it to one
/// of the connection's raw query methods.
macro_rules! queries {
    ($($(#[$doc:meta])* $name:ident => $method:ident -> $rows:ty;)+) => {$(
        $(#[$doc])*
        pub async fn $name(db: &impl ConnectionTrait, text: &str, values: Vec<Value>) -> AppResult<$rows> {
            Ok(db.$method(sql(db, text, values)).await?)
        }
    )+};
}

queries! {
    /// Runs a query; its first row, if any.
    query_one => query_one_raw -> Option<QueryResult>;
    /// Runs a query; all its rows.
    query_all => query_all_raw -> Vec<QueryResult>;
}

/// Counts a wrong answer to the row `id` of `table` (one-time codes and
/// log-in challenges count their `attempts`); `drop` deletes the row instead
/// (its last answer).
pub async fn count_wrong(
    db: &impl ConnectionTrait,
    table: &'static str,
    id: &str,
    drop: bool,
) -> AppResult<()> {
    let text = if drop {
        format!("DELETE FROM {table} WHERE id = $1")
    } else {
        format!("UPDATE {table} SET attempts = attempts + 1 WHERE id = $1")
    };
    execute(db, &text, vec![id.into()]).await?;
    Ok(())
}

/// Deletes the rows of `table` that expired by `now` (its `expires_at`).
pub async fn forget_expired(
    db: &impl ConnectionTrait,
    table: &'static str,
    now: i64,
) -> AppResult<u64> {
    let text = format!("DELETE FROM {table} WHERE expires_at <= $1");
    execute(db, &text, vec![now.into()]).await
}

/// Deletes the rows of `table` whose `column` is `value`; how many went.
pub async fn delete_where(
    db: &impl ConnectionTrait,
    table: &'static str,
    column: &'static str,
    value: impl Into<Value>,
) -> AppResult<u64> {
    let text = format!("DELETE FROM {table} WHERE {column} = $1");
    execute(db, &text, vec![value.into()]).await
}

/// Deletes the row `id` of `table`; true when this call took it (one of two
/// racing ones does).
pub async fn take(db: &impl ConnectionTrait, table: &'static str, id: &str) -> AppResult<bool> {
    Ok(delete_where(db, table, "id", id).await? == 1)
}

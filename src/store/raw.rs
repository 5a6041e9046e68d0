//! Hand-written statements in `$N` placeholder style (see [`sql`]), run on
//! either backend.
use sea_orm::{ConnectionTrait, QueryResult, Value};

use super::sql;
use crate::error::AppResult;

/// Runs a statement; the number of rows it changed.
pub async fn execute(db: &impl ConnectionTrait, text: &str, values: Vec<Value>) -> AppResult<u64> {
    Ok(db.execute_raw(sql(db, text, values)).await?.rows_affected())
}

/// Runs a query; its first row, if any.
pub async fn query_one(
    db: &impl ConnectionTrait,
    text: &str,
    values: Vec<Value>,
) -> AppResult<Option<QueryResult>> {
    Ok(db.query_one_raw(sql(db, text, values)).await?)
}

/// Runs a query; all its rows.
pub async fn query_all(
    db: &impl ConnectionTrait,
    text: &str,
    values: Vec<Value>,
) -> AppResult<Vec<QueryResult>> {
    Ok(db.query_all_raw(sql(db, text, values)).await?)
}

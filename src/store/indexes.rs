//! Expression indexes on declared profile fields, kept in step with the
//! declarations. Index names encode collection and field, both validated
//! identifiers, so they are safe in DDL; values are never spliced.
use sea_orm::{ConnectionTrait, DbBackend, Statement};

use crate::domain::collections::{Collection, FieldDecl, FieldType};
use crate::error::{AppError, AppResult};

/// `ux`/`ix` (unique or not), `n`/`t` (numeric or text expression), then the
/// collection and field: a change of any of these replaces the index.
fn index_name(decl: &FieldDecl, collection_id: &str) -> String {
    let kind = if decl.unique { "ux" } else { "ix" };
    let expr = if decl.field_type == FieldType::Number {
        "n"
    } else {
        "t"
    };
    format!("{kind}{expr}2_uf_{collection_id}_{}", decl.name)
}

/// Whether a database error is a unique violation of `field`'s index.
pub fn is_unique_violation_of(err: &sea_orm::DbErr, collection_id: &str, field: &str) -> bool {
    let name = format!("_uf_{collection_id}_{field}");
    match super::unique_violation(err) {
        // Postgres names the index: `uxt2_uf_{collection}_{field}`.
        Some(super::Violated::Constraint(index)) => index.ends_with(&name),
        // SQLite names no constraint, only says `index '…'` in its message
        // (for an index on expressions); the quote ends the name.
        Some(super::Violated::Message(text)) => text.contains(&format!("{name}'")),
        None => false,
    }
}

async fn existing(db: &impl ConnectionTrait, collection_id: &str) -> AppResult<Vec<String>> {
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => "SELECT indexname AS name FROM pg_indexes WHERE tablename = 'users'",
        _ => "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'users'",
    };
    let rows = db
        .query_all_raw(Statement::from_string(backend, sql))
        .await?;
    let suffix = format!("_uf_{collection_id}_");
    let mut names = Vec::new();
    for row in rows {
        let name: String = row.try_get("", "name")?;
        if name.contains(&suffix) {
            names.push(name);
        }
    }
    Ok(names)
}

/// Creates indexes for indexed/unique declared fields and drops stale ones.
pub async fn sync(db: &impl ConnectionTrait, collection: &Collection) -> AppResult<()> {
    let backend = db.get_database_backend();
    let mut wanted = Vec::new();
    for field in collection.fields.iter().filter(|f| f.indexed || f.unique) {
        wanted.push((index_name(field, &collection.id), field));
    }
    let have = existing(db, &collection.id).await?;
    let stale: Vec<&String> = have
        .iter()
        .filter(|n| !wanted.iter().any(|(w, _)| w == *n))
        .collect();
    let missing = wanted.iter().filter(|(n, _)| !have.contains(n)).count();
    for name in &stale {
        db.execute_unprepared(&format!("DROP INDEX IF EXISTS {name}"))
            .await?;
    }
    for (name, field) in wanted.iter().filter(|(n, _)| !have.contains(n)) {
        // The same expressions `store::filter` compares, so the planner matches them.
        let key = &field.name;
        let expr = match (backend, field.field_type) {
            (DbBackend::Postgres, FieldType::Number) => format!(
                "(CASE WHEN jsonb_typeof((data -> '{key}')) = 'number' THEN ((data ->> '{key}'))::double precision END)"
            ),
            (DbBackend::Postgres, _) => format!("((data ->> '{key}'))"),
            _ => format!("json_extract(data, '$.\"{key}\"')"),
        };
        let unique = if field.unique { "UNIQUE " } else { "" };
        // A plain index also carries the list order (newest first, id breaking
        // ties), so an equality filter reads its first page without sorting.
        let order = if field.unique { "" } else { ", created_at, id" };
        let sql = format!(
            "CREATE {unique}INDEX IF NOT EXISTS {name} ON users (collection_id, {expr}{order})"
        );
        db.execute_raw(Statement::from_string(backend, sql))
            .await
            .map_err(|e| {
                // Postgres's "could not create unique index" is SQLSTATE 23505 too.
                if crate::store::is_unique_violation(&e, "") {
                    AppError::validation(
                        field.name.clone(),
                        format!(
                            "existing users share values of `{}`; it cannot be made unique",
                            field.name
                        ),
                    )
                } else {
                    AppError::from(e)
                }
            })?;
    }
    if missing > 0 || !stale.is_empty() {
        refresh_statistics(db).await?;
    }
    Ok(())
}

/// Gives the planner fresh statistics of `users`. Without them SQLite picks
/// an index by rules of thumb, and for a filter on two indexed fields it
/// picked the range's index and sorted tens of thousands of rows (40× slower
/// than with no index at all; BENCHMARKS.md). SQLite samples a bounded number
/// of rows per index (`analysis_limit`), so this stays cheap on large tables.
pub async fn refresh_statistics(db: &impl ConnectionTrait) -> AppResult<()> {
    let sql = match db.get_database_backend() {
        DbBackend::Postgres => "ANALYZE users",
        _ => "PRAGMA analysis_limit = 1000; ANALYZE users",
    };
    db.execute_unprepared(sql).await?;
    Ok(())
}

//! SQL that SeaORM's query builder cannot express portably, per backend.
pub mod codes;
pub mod filter;
pub mod indexes;
pub mod users;

use sea_orm::DbErr;

/// Whether a database error is a unique violation of a constraint or index whose
/// name (or, on SQLite, column list) contains `needle`.
pub fn is_unique_violation(err: &DbErr, needle: &str) -> bool {
    let text = err.to_string();
    let unique = text.contains("UNIQUE constraint failed") || text.contains("duplicate key value");
    unique && text.contains(needle)
}

/// One page of a selection, with `LIMIT`/`OFFSET` written as literals: bound
/// as parameters (as SeaORM's `limit()` does) they make SQLite re-prepare the
/// statement on every execution. Both are integers, so nothing is spliced in.
pub async fn page<E: sea_orm::EntityTrait>(
    select: sea_orm::Select<E>,
    limit: u64,
    offset: u64,
    db: &impl sea_orm::ConnectionTrait,
) -> Result<Vec<E::Model>, DbErr> {
    use sea_orm::QueryTrait;
    let mut stmt = select.build(db.get_database_backend());
    stmt.sql
        .push_str(&format!(" LIMIT {limit} OFFSET {offset}"));
    E::find().from_raw_sql(stmt).all(db).await
}

/// A row selected by a unique key, without the bound `LIMIT ?` that SeaORM's
/// `one()` appends: on SQLite that parameter makes every execution re-prepare
/// the statement (37 µs instead of 3 µs per lookup; see BENCHMARKS.md). These
/// lookups run on every authenticated request.
pub async fn unique<E: sea_orm::EntityTrait>(
    select: sea_orm::Select<E>,
    db: &impl sea_orm::ConnectionTrait,
) -> Result<Option<E::Model>, DbErr> {
    Ok(select.all(db).await?.into_iter().next())
}

/// A statement in `$N` placeholder style for either backend (SQLite numbers
/// its parameters `?N`).
pub fn sql(
    db: &impl sea_orm::ConnectionTrait,
    text: &str,
    values: Vec<sea_orm::Value>,
) -> sea_orm::Statement {
    let backend = db.get_database_backend();
    let text = match backend {
        sea_orm::DbBackend::Sqlite => text.replace('$', "?"),
        _ => text.to_owned(),
    };
    sea_orm::Statement::from_sql_and_values(backend, text, values)
}

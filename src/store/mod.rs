//! SQL that SeaORM's query builder cannot express portably, per backend.
pub mod audit;
pub mod codes;
pub mod factors;
pub mod filter;
pub mod import;
pub mod indexes;
pub mod keyset;
pub mod oauth;
pub mod outbox;
pub mod passkeys;
pub mod raw;
pub mod steer;
pub mod users;
pub mod writer;

use std::borrow::Cow;

use sea_orm::{
    DatabaseConnection, DatabaseTransaction, DbErr, RuntimeErr, SqlErr, SqliteTransactionMode,
    TransactionOptions, TransactionTrait,
};

/// Starts a transaction that will write. On SQLite it takes the write lock at
/// `BEGIN` (IMMEDIATE), waiting its turn under the busy timeout: a deferred
/// transaction that reads first fails at its first write with
/// `SQLITE_BUSY_SNAPSHOT` (517, which the busy timeout does not retry) when
/// another connection wrote in between, e.g. the mail outbox's worker.
/// PostgreSQL ignores the mode.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    let options = TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    };
    db.begin_with_options(options).await
}

/// Whether a database error is a unique violation of a constraint or index whose
/// name (or, on SQLite, column list) contains `needle`.
pub fn is_unique_violation(err: &DbErr, needle: &str) -> bool {
    match unique_violation(err) {
        Some(Violated::Constraint(name)) => name.contains(needle),
        Some(Violated::Message(text)) => text.contains(needle),
        None => false,
    }
}

/// What a unique violation says it is about.
pub(crate) enum Violated<'a> {
    /// The violated constraint's or unique index's name (Postgres).
    Constraint(&'a str),
    /// The driver's message, when it names no constraint (SQLite).
    Message(Cow<'a, str>),
}

/// The unique violation `err` is, if it is one.
///
/// *Whether* it is one comes from the database's error code, through
/// SeaORM's `sql_err()`: SQLite's extended result codes 2067
/// (`SQLITE_CONSTRAINT_UNIQUE`) and 1555 (`SQLITE_CONSTRAINT_PRIMARYKEY`),
/// Postgres's SQLSTATE 23505 (`unique_violation`, also raised by a
/// `CREATE UNIQUE INDEX` over duplicate rows). Messages are English text for
/// people, not an interface.
///
/// *Which* constraint: Postgres reports the constraint (for a unique index,
/// the index) name in a field of its own. SQLite reports none, so sqlx's
/// `constraint()` is always `None` there and its message is all there is to
/// go by: `UNIQUE constraint failed: users.collection_id,
/// users.email_normalized` (the columns) or, for an index on expressions,
/// `UNIQUE constraint failed: index 'uxt2_uf_…'`.
pub(crate) fn unique_violation(err: &DbErr) -> Option<Violated<'_>> {
    let Some(SqlErr::UniqueConstraintViolation(message)) = err.sql_err() else {
        return None;
    };
    let database_error = match err {
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => {
            e.as_database_error()
        }
        _ => None,
    };
    Some(match database_error {
        Some(db) => match db.constraint() {
            Some(name) => Violated::Constraint(name),
            None => Violated::Message(Cow::Borrowed(db.message())),
        },
        None => Violated::Message(Cow::Owned(message)),
    })
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

#[cfg(test)]
mod tests {
    use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbErr};

    use super::indexes::is_unique_violation_of;
    use super::is_unique_violation;

    /// A table with a unique column, a unique index on an expression (named as
    /// `indexes` names them) and a check whose name mimics a unique message.
    async fn setup(db: &DatabaseConnection, json: &str) {
        for sql in [
            format!(
                "CREATE TEMPORARY TABLE uv (id INTEGER PRIMARY KEY, email TEXT, data TEXT, \
                 n INTEGER CONSTRAINT \"UNIQUE constraint failed duplicate key value n\" CHECK (n > 0))"
            ),
            "CREATE UNIQUE INDEX ux_uv_email ON uv (email)".to_string(),
            format!("CREATE UNIQUE INDEX uxt2_uf_c_f ON uv ({json})"),
            "INSERT INTO uv (id, email, data, n) VALUES (1, 'a@x', '{\"f\": \"v\"}', 1)"
                .to_string(),
        ] {
            db.execute_unprepared(&sql).await.expect(&sql);
        }
    }

    async fn insert(db: &DatabaseConnection, id: i32, email: &str, f: &str, n: i32) -> DbErr {
        let sql = format!(
            "INSERT INTO uv (id, email, data, n) VALUES ({id}, '{email}', '{{\"f\": \"{f}\"}}', {n})"
        );
        db.execute_unprepared(&sql).await.expect_err(&sql)
    }

    async fn check(db: &DatabaseConnection, email_needle: &str) {
        let dup_email = insert(db, 2, "a@x", "w", 1).await;
        assert!(is_unique_violation(&dup_email, email_needle), "{dup_email}");
        assert!(
            !is_unique_violation(&dup_email, "no_such_index"),
            "{dup_email}"
        );
        assert!(!is_unique_violation_of(&dup_email, "c", "f"), "{dup_email}");

        let dup_field = insert(db, 3, "b@x", "v", 1).await;
        assert!(is_unique_violation_of(&dup_field, "c", "f"), "{dup_field}");
        assert!(!is_unique_violation_of(&dup_field, "c", "g"), "{dup_field}");
        assert!(!is_unique_violation_of(&dup_field, "x", "f"), "{dup_field}");
        assert!(
            !is_unique_violation(&dup_field, email_needle),
            "{dup_field}"
        );

        let dup_key = insert(db, 1, "c@x", "u", 1).await;
        assert!(is_unique_violation(&dup_key, ""), "{dup_key}");

        // A check whose text reads like a unique violation is not one.
        let check = insert(db, 4, "d@x", "t", 0).await;
        assert!(!is_unique_violation(&check, "n"), "{check}");
        assert!(!is_unique_violation(&check, ""), "{check}");

        // Making a column with duplicates unique is one, on either database.
        db.execute_unprepared(
            "INSERT INTO uv (id, email, data, n) VALUES (5, 'e@x', '{}', 7), (6, 'f@x', '{}', 7)",
        )
        .await
        .unwrap();
        let index = db
            .execute_unprepared("CREATE UNIQUE INDEX ux_uv_n ON uv (n)")
            .await
            .expect_err("duplicates");
        assert!(is_unique_violation(&index, ""), "{index}");
    }

    #[tokio::test]
    async fn sqlite_unique_violations_by_code_and_columns() {
        let db = Database::connect("sqlite::memory:").await.unwrap();
        setup(&db, "json_extract(data, '$.\"f\"')").await;
        // SQLite names the columns, not the index.
        check(&db, "uv.email").await;
    }

    /// Runs when `AUTHGRAPH_TEST_DATABASE_URL` names a Postgres server.
    #[tokio::test]
    async fn postgres_unique_violations_by_code_and_constraint() {
        let Some(url) = std::env::var("AUTHGRAPH_TEST_DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty())
        else {
            return;
        };
        // One connection, so the temporary table stays visible.
        let mut options = sea_orm::ConnectOptions::new(url);
        options.max_connections(1).min_connections(1);
        let db = Database::connect(options).await.unwrap();
        setup(&db, "(data::jsonb ->> 'f')").await;
        // Postgres names the index.
        check(&db, "ux_uv_email").await;
    }
}

/// The row of a selection by a unique key as a domain value, or `NotFound(what)`.
pub async fn found<E, T>(
    select: sea_orm::Select<E>,
    db: &impl sea_orm::ConnectionTrait,
    what: &'static str,
) -> crate::error::AppResult<T>
where
    E: sea_orm::EntityTrait,
    E::Model: Into<T>,
{
    unique(select, db)
        .await?
        .map(Into::into)
        .ok_or(crate::error::AppError::NotFound(what))
}

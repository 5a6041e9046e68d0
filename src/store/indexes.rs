//! Expression indexes on declared profile fields, kept in step with the
//! declarations. Index names encode collection and field, both validated
//! identifiers, so they are safe in DDL; values are never spliced.
use sea_orm::{ConnectionTrait, DbBackend, Statement};

use crate::domain::collections::{Collection, FieldDecl, FieldType};
use crate::error::{AppError, AppResult};

/// An index `sync` keeps: its name and its key.
struct Wanted {
    name: String,
    /// The declared fields it covers, in order.
    fields: Vec<FieldDecl>,
    unique: bool,
}

impl Wanted {
    /// `ux`/`ix` (unique or not), `n`/`t` per field (numeric or text
    /// expression), then the collection and the fields (`a__b` for several): a
    /// change of any of these replaces the index.
    fn new(pg: bool, collection_id: &str, fields: Vec<FieldDecl>, unique: bool) -> Wanted {
        let kind = if unique { "ux" } else { "ix" };
        let exprs: String = fields
            .iter()
            .map(|f| {
                // `v`: a number field's typed value (`n` was its bare text
                // on SQLite, which needed the row to check the type).
                if f.field_type == FieldType::Number {
                    'v'
                } else {
                    't'
                }
            })
            .collect();
        let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
        // `3`: ends in the id, not in the creation time (see `order`); `4`
        // on Postgres: and its values hold NULL first, as the list orders.
        let version = match (order_by_value(&fields, unique), pg) {
            (true, true) => 4,
            (true, false) => 3,
            (false, _) => 2,
        };
        let name = format!(
            "{kind}{exprs}{version}_uf_{collection_id}_{}",
            names.join("__")
        );
        Wanted {
            name,
            fields,
            unique,
        }
    }

    /// What a unique violation of this index is about.
    fn label(&self) -> String {
        let names: Vec<&str> = self.fields.iter().map(|f| f.name.as_str()).collect();
        names.join(", ")
    }
}

/// The indexes a collection's declarations ask for: one per indexed or
/// unique field, one per `[[collections.indexes]]` entry.
fn wanted(pg: bool, collection: &Collection) -> Vec<Wanted> {
    let id = &collection.id;
    let single = collection
        .fields
        .iter()
        .filter(|f| f.indexed || f.unique)
        .map(|f| Wanted::new(pg, id, vec![f.clone()], f.unique));
    let composite = collection.settings.indexes.iter().filter_map(|index| {
        let fields: Option<Vec<FieldDecl>> = index
            .fields
            .iter()
            .map(|n| collection.field(n).cloned())
            .collect();
        Some(Wanted::new(pg, id, fields?, index.unique))
    });
    single.chain(composite).collect()
}

/// The profile fields of each index the declarations ask for, in key order
/// (after the collection): what `steer` chooses among.
pub(super) fn declared_keys(collection: &Collection) -> Vec<Vec<String>> {
    wanted(false, collection)
        .into_iter()
        .map(|w| w.fields.into_iter().map(|f| f.name).collect())
        .collect()
}

/// Whether an index's key after its fields is the id alone: a plain index
/// on one number field, which is ranged over and sorted by, so a list ordered
/// by it (value, then newest id first: `domain::users::query`) reads its
/// first page from the index without sorting the equal values by id (at 100k
/// users 1,700 rows of an age were read and sorted for every page).
fn order_by_value(fields: &[FieldDecl], unique: bool) -> bool {
    !unique && fields.len() == 1 && fields[0].field_type == FieldType::Number
}

/// The key after an index's fields. Other plain indexes carry the list order
/// (newest first, id breaking ties), so equalities on their fields read a
/// first page without sorting; a unique one needs none.
fn order(fields: &[FieldDecl], unique: bool) -> &'static str {
    if order_by_value(fields, unique) {
        ", id DESC"
    } else if unique {
        ""
    } else {
        ", created_at, id"
    }
}

/// The expression of a field, as `store::filter` compares it (so the planner
/// matches the two).
fn expr(backend: DbBackend, field: &FieldDecl) -> String {
    let key = &field.name;
    let pg = backend == DbBackend::Postgres;
    let text = if pg {
        format!("((data ->> '{key}'))")
    } else {
        format!("json_extract(data, '$.\"{key}\"')")
    };
    if field.field_type != FieldType::Number {
        return text;
    }
    let type_of = if pg {
        format!("jsonb_typeof((data -> '{key}'))")
    } else {
        format!("json_type(data, '$.\"{key}\"')")
    };
    super::filter::typed_number(pg, &type_of, &text)
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

/// Creates the indexes the declarations ask for and drops stale ones.
pub async fn sync(db: &impl ConnectionTrait, collection: &Collection) -> AppResult<()> {
    let backend = db.get_database_backend();
    let pg = backend == DbBackend::Postgres;
    let wanted = wanted(pg, collection);
    let have = existing(db, &collection.id).await?;
    let stale: Vec<&String> = have
        .iter()
        .filter(|n| !wanted.iter().any(|w| &w.name == *n))
        .collect();
    let missing: Vec<&Wanted> = wanted.iter().filter(|w| !have.contains(&w.name)).collect();
    for name in &stale {
        db.execute_unprepared(&format!("DROP INDEX IF EXISTS {name}"))
            .await?;
    }
    for index in &missing {
        let mut exprs: Vec<String> = index.fields.iter().map(|f| expr(backend, f)).collect();
        if pg && order_by_value(&index.fields, index.unique) {
            // Postgres puts NULL last ascending by default; the list puts the
            // users without a number first, as SQLite does (`keyset`), and an
            // index serves an order only when the two agree.
            exprs[0].push_str(" NULLS FIRST");
        }
        let unique = if index.unique { "UNIQUE " } else { "" };
        let order = order(&index.fields, index.unique);
        let sql = format!(
            "CREATE {unique}INDEX IF NOT EXISTS {} ON users (collection_id, {}{order})",
            index.name,
            exprs.join(", ")
        );
        db.execute_raw(Statement::from_string(backend, sql))
            .await
            .map_err(|e| {
                // Postgres's "could not create unique index" is SQLSTATE 23505 too.
                if crate::store::is_unique_violation(&e, "") {
                    let label = index.label();
                    AppError::validation(
                        index.fields[0].name.clone(),
                        format!(
                            "existing users share values of `{label}`; it cannot be made unique"
                        ),
                    )
                } else {
                    AppError::from(e)
                }
            })?;
    }
    if !missing.is_empty() || !stale.is_empty() {
        refresh_statistics(db).await?;
    }
    Ok(())
}

/// The unique composite index a violation is about, as its fields (`a, b`).
pub fn composite_violated(err: &sea_orm::DbErr, collection: &Collection) -> Option<String> {
    wanted(false, collection)
        .into_iter()
        .filter(|w| w.unique && w.fields.len() > 1)
        .find(|w| {
            let names: Vec<&str> = w.fields.iter().map(|f| f.name.as_str()).collect();
            is_unique_violation_of(err, &collection.id, &names.join("__"))
        })
        .map(|w| w.label())
}

/// Gives the planner fresh statistics of `users`. Without them SQLite picks
/// an index by rules of thumb, and for a filter on two indexed fields it
/// picked the range's index and sorted tens of thousands of rows (40× slower
/// than with no index at all; BENCHMARKS.md). SQLite samples a bounded number
/// of rows per index (`analysis_limit`), so this stays cheap on large tables.
///
/// SQLite loads statistics when a connection reads the schema, so the other
/// connections of the pool would keep planning with none (seen in
/// tests/api/planner.rs): a table created and dropped at once changes the
/// schema's version, and each connection reloads schema and statistics (and
/// re-prepares its cached statements) before its next statement.
pub async fn refresh_statistics(db: &impl ConnectionTrait) -> AppResult<()> {
    let statements: &[&str] = match db.get_database_backend() {
        DbBackend::Postgres => &["ANALYZE users"],
        _ => &[ANALYSIS_LIMIT, "ANALYZE users"],
    };
    for sql in statements {
        db.execute_unprepared(sql).await?;
    }
    replan(db).await
}

/// Rows SQLite's `ANALYZE` samples per index: bounded work on any size.
const ANALYSIS_LIMIT: &str = "PRAGMA analysis_limit = 1000";

/// Makes every SQLite connection reload statistics before its next statement
/// (see `refresh_statistics`).
async fn replan(db: &impl ConnectionTrait) -> AppResult<()> {
    if db.get_database_backend() != DbBackend::Postgres {
        db.execute_unprepared("CREATE TABLE IF NOT EXISTS authgraph_replan (x)")
            .await?;
        db.execute_unprepared("DROP TABLE authgraph_replan").await?;
    }
    Ok(())
}

/// At start-up: statistics where they are missing or stale, so the first
/// list after an import or a restart is planned with them (without, a filter
/// on two indexed fields took 316 ms against 1.8 ms at 100k users).
///
/// SQLite: `PRAGMA optimize` over every table (`0x10000`) analyzes a table
/// one of whose indexes has no statistics or whose size changed tenfold
/// since, with `analysis_limit` rows per index (`0x10`), so its time is
/// bounded whatever the size. Postgres: `ANALYZE users` (a sample of at most
/// 300 × `default_statistics_target` rows) when it was never analyzed or has
/// more than doubled in pages since; autovacuum keeps it fresh after that.
pub async fn refresh_stale_statistics(db: &impl ConnectionTrait) -> AppResult<()> {
    let backend = db.get_database_backend();
    if backend == DbBackend::Postgres {
        let sql = "SELECT (c.reltuples < 0 OR pg_relation_size(c.oid) / current_setting('block_size')::bigint \
                   > 2 * c.relpages + 1) AS stale FROM pg_class c \
                   WHERE c.oid = to_regclass('users')";
        let row = db
            .query_one_raw(Statement::from_string(backend, sql))
            .await?;
        let stale = match row {
            Some(row) => row.try_get::<bool>("", "stale")?,
            None => false,
        };
        if stale {
            db.execute_unprepared("ANALYZE users").await?;
        }
        return Ok(());
    }
    let before = sqlite_statistics(db).await?;
    db.execute_unprepared(ANALYSIS_LIMIT).await?;
    db.execute_unprepared("PRAGMA optimize = 0x10012").await?;
    if sqlite_statistics(db).await? != before {
        replan(db).await?;
    }
    Ok(())
}

/// SQLite's statistics as one text, to tell whether `optimize` changed them.
async fn sqlite_statistics(db: &impl ConnectionTrait) -> AppResult<String> {
    let backend = db.get_database_backend();
    let exists = "SELECT count(*) AS n FROM sqlite_master WHERE name = 'sqlite_stat1'";
    let row = db
        .query_one_raw(Statement::from_string(backend, exists))
        .await?;
    if row.map(|r| r.try_get::<i64>("", "n")).transpose()? != Some(1) {
        return Ok(String::new());
    }
    let sql = "SELECT coalesce(group_concat(tbl || ' ' || coalesce(idx, '') || ' ' || stat, ';'), '') AS s \
               FROM sqlite_stat1";
    let row = db
        .query_one_raw(Statement::from_string(backend, sql))
        .await?;
    Ok(match row {
        Some(row) => row.try_get("", "s")?,
        None => String::new(),
    })
}

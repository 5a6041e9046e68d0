//! Atomic profile updates inside the database: the server never reads, modifies
//! and writes back, so concurrent `$append`s both land.
use chrono::{DateTime, Utc};
use entity::user;
use sea_orm::{ConnectionTrait, DbBackend, FromQueryResult, Statement, Value};
use serde_json::Value as Json;

use crate::error::AppResult;

/// `$."key"`: keys are validated identifiers (letters, digits, `_`, `-`).
fn sqlite_path(key: &str) -> String {
    format!("$.\"{key}\"")
}

fn json_text(value: &Json) -> String {
    value.to_string()
}

/// Runs the `UPDATE` that `build` writes for the connection's backend (the
/// SQL and its values) with `RETURNING *`: the row as it is now, `None` when
/// no row matched.
async fn update(
    db: &impl ConnectionTrait,
    build: impl FnOnce(DbBackend) -> (String, Vec<Value>),
) -> AppResult<Option<user::Model>> {
    let backend = db.get_database_backend();
    let (mut sql, values) = build(backend);
    sql.push_str(" RETURNING *");
    let stmt = Statement::from_sql_and_values(backend, sql, values);
    Ok(user::Model::find_by_statement(stmt).one(db).await?)
}

/// A profile edit: the `UPDATE` of `build`, skipped when it has `nothing` to
/// apply (no keys or values); the row after it, `None` when skipped or when
/// no row matched.
async fn edit(
    db: &impl ConnectionTrait,
    nothing: bool,
    build: impl FnOnce(DbBackend) -> (String, Vec<Value>),
) -> AppResult<Option<user::Model>> {
    if nothing {
        return Ok(None);
    }
    update(db, build).await
}

/// SQLite: sets `data` of row `id` to `head` (a JSON1 call whose first
/// argument is the document, left open) with one `, path, json(value)` pair
/// per edit, after `params` (those of `head`); `set` comes first in the
/// `SET` list, its parameters in front of `params`.
fn sqlite_edits<'a>(
    set: &str,
    head: &str,
    mut params: Vec<Value>,
    edits: impl IntoIterator<Item = (String, &'a Json)>,
    id: &str,
) -> (String, Vec<Value>) {
    let mut sql = format!("UPDATE users SET {set}data = {head}");
    for (path, value) in edits {
        sql.push_str(", ?, json(?)");
        params.push(path.into());
        params.push(json_text(value).into());
    }
    sql.push_str(") WHERE id = ?");
    params.push(id.into());
    (sql, params)
}

/// Stamps `updated_at` and sets top-level profile keys (a shallow merge) in
/// one statement; the row after it, `None` when there is no such user. It
/// also takes the row's lock (Postgres) for the rest of the transaction.
pub async fn merge(
    db: &impl ConnectionTrait,
    id: &str,
    now: DateTime<Utc>,
    values: &serde_json::Map<String, Json>,
) -> AppResult<Option<user::Model>> {
    update(db, |backend| match backend {
        DbBackend::Postgres => (
            "UPDATE users SET updated_at = $1, data = data || $2::jsonb WHERE id = $3".into(),
            vec![
                now.into(),
                json_text(&Json::Object(values.clone())).into(),
                id.into(),
            ],
        ),
        _ => sqlite_edits(
            "updated_at = ?, ",
            "json_set(data",
            vec![now.into()],
            values.iter().map(|(key, value)| (sqlite_path(key), value)),
            id,
        ),
    })
    .await
}

/// Appends values to an array field, creating it when missing or not an
/// array; the row after it (`None`: nothing to append, or no such user).
pub async fn append(
    db: &impl ConnectionTrait,
    id: &str,
    key: &str,
    values: &[Json],
) -> AppResult<Option<user::Model>> {
    edit(db, values.is_empty(), |backend| match backend {
        DbBackend::Postgres => (
            "UPDATE users SET data = jsonb_set(data, ARRAY[$1::text], \
             (CASE WHEN jsonb_typeof(data -> $1::text) = 'array' THEN data -> $1::text ELSE '[]'::jsonb END) \
             || $2::jsonb) WHERE id = $3"
                .into(),
            vec![
                key.into(),
                json_text(&Json::Array(values.to_vec())).into(),
                id.into(),
            ],
        ),
        _ => {
            let path = sqlite_path(key);
            sqlite_edits(
                "",
                "json_insert(CASE WHEN json_type(data, ?) = 'array' THEN data \
                 ELSE json_set(data, ?, json('[]')) END",
                vec![path.clone().into(), path.clone().into()],
                values.iter().map(|value| (format!("{path}[#]"), value)),
                id,
            )
        }
    })
    .await
}

/// Removes every element equal to one of `values` from an array field; a
/// missing or non-array field is left alone. The row after it, `None` when
/// nothing changed.
pub async fn remove(
    db: &impl ConnectionTrait,
    id: &str,
    key: &str,
    values: &[Json],
) -> AppResult<Option<user::Model>> {
    edit(db, values.is_empty(), |backend| {
        let removed = json_text(&Json::Array(values.to_vec()));
        match backend {
            DbBackend::Postgres => (
                "UPDATE users SET data = jsonb_set(data, ARRAY[$1::text], COALESCE(( \
                   SELECT jsonb_agg(t.e ORDER BY t.i) FROM jsonb_array_elements(data -> $1::text) WITH ORDINALITY AS t(e, i) \
                   WHERE NOT EXISTS (SELECT 1 FROM jsonb_array_elements($2::jsonb) r WHERE r = t.e)), '[]'::jsonb)) \
                 WHERE id = $3 AND jsonb_typeof(data -> $1::text) = 'array'"
                    .into(),
                vec![key.into(), removed.into(), id.into()],
            ),
            _ => {
                // json_each yields SQL values; this CASE turns each back into canonical
                // JSON text on both sides so strings, numbers, booleans and objects
                // compare as JSON values.
                const CANON: &str = "(CASE {t}.type WHEN 'text' THEN json_quote({t}.value) WHEN 'true' THEN 'true' \
                     WHEN 'false' THEN 'false' WHEN 'null' THEN 'null' ELSE CAST({t}.value AS TEXT) END)";
                let canon_j = CANON.replace("{t}", "j");
                let canon_r = CANON.replace("{t}", "r");
                let path = sqlite_path(key);
                let sql = format!(
                    "UPDATE users SET data = json_set(data, ?, (SELECT json_group_array(json({canon_j})) \
                     FROM json_each(users.data, ?) j WHERE {canon_j} NOT IN (SELECT {canon_r} FROM json_each(?) r))) \
                     WHERE id = ? AND json_type(data, ?) = 'array'"
                );
                let params = vec![
                    path.clone().into(),
                    path.clone().into(),
                    removed.into(),
                    id.into(),
                    path.into(),
                ];
                (sql, params)
            }
        }
    })
    .await
}

/// The user of a collection whose profile field `key` equals `value` (as text).
pub async fn find_by_text_field(
    db: &impl ConnectionTrait,
    collection_id: &str,
    key: &str,
    value: &str,
) -> AppResult<Option<user::Model>> {
    let backend = db.get_database_backend();
    let stmt = match backend {
        DbBackend::Postgres => Statement::from_sql_and_values(
            backend,
            "SELECT * FROM users WHERE collection_id = $1 AND data ->> $2 = $3 LIMIT 1",
            [collection_id.into(), key.into(), value.into()],
        ),
        _ => Statement::from_sql_and_values(
            backend,
            "SELECT * FROM users WHERE collection_id = ? AND json_extract(data, ?) = ? LIMIT 1",
            [collection_id.into(), sqlite_path(key).into(), value.into()],
        ),
    };
    Ok(user::Model::find_by_statement(stmt).one(db).await?)
}

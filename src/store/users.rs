//! Atomic profile updates inside the database: the server never reads, modifies
//! and writes back, so concurrent `$append`s both land.
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};
use serde_json::Value as Json;

use crate::error::AppResult;

/// `$."key"`: keys are validated identifiers (letters, digits, `_`, `-`).
fn sqlite_path(key: &str) -> String {
    format!("$.\"{key}\"")
}

fn json_text(value: &Json) -> String {
    value.to_string()
}

/// Locks the row for this transaction and stamps `updated_at`.
pub async fn touch(db: &impl ConnectionTrait, id: &str, now: DateTime<Utc>) -> AppResult<u64> {
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => "UPDATE users SET updated_at = $1 WHERE id = $2",
        _ => "UPDATE users SET updated_at = ? WHERE id = ?",
    };
    let res = db
        .execute_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [now.into(), id.into()],
        ))
        .await?;
    Ok(res.rows_affected())
}

/// Sets top-level profile keys (a shallow merge).
pub async fn merge(
    db: &impl ConnectionTrait,
    id: &str,
    values: &serde_json::Map<String, Json>,
) -> AppResult<()> {
    if values.is_empty() {
        return Ok(());
    }
    let backend = db.get_database_backend();
    let stmt = match backend {
        DbBackend::Postgres => Statement::from_sql_and_values(
            backend,
            "UPDATE users SET data = data || $1::jsonb WHERE id = $2",
            [json_text(&Json::Object(values.clone())).into(), id.into()],
        ),
        _ => {
            let mut sql = String::from("UPDATE users SET data = json_set(data");
            let mut params: Vec<Value> = Vec::new();
            for (key, value) in values {
                sql.push_str(", ?, json(?)");
                params.push(sqlite_path(key).into());
                params.push(json_text(value).into());
            }
            sql.push_str(") WHERE id = ?");
            params.push(id.into());
            Statement::from_sql_and_values(backend, sql, params)
        }
    };
    db.execute_raw(stmt).await?;
    Ok(())
}

/// Appends values to an array field, creating it when missing or not an array.
pub async fn append(
    db: &impl ConnectionTrait,
    id: &str,
    key: &str,
    values: &[Json],
) -> AppResult<()> {
    if values.is_empty() {
        return Ok(());
    }
    let backend = db.get_database_backend();
    let stmt = match backend {
        DbBackend::Postgres => Statement::from_sql_and_values(
            backend,
            "UPDATE users SET data = jsonb_set(data, ARRAY[$1::text], \
             (CASE WHEN jsonb_typeof(data -> $1::text) = 'array' THEN data -> $1::text ELSE '[]'::jsonb END) \
             || $2::jsonb) WHERE id = $3",
            [
                key.into(),
                json_text(&Json::Array(values.to_vec())).into(),
                id.into(),
            ],
        ),
        _ => {
            let path = sqlite_path(key);
            let mut sql = String::from(
                "UPDATE users SET data = json_insert(CASE WHEN json_type(data, ?) = 'array' THEN data \
                 ELSE json_set(data, ?, json('[]')) END",
            );
            let mut params: Vec<Value> = vec![path.clone().into(), path.clone().into()];
            for value in values {
                sql.push_str(", ?, json(?)");
                params.push(format!("{path}[#]").into());
                params.push(json_text(value).into());
            }
            sql.push_str(") WHERE id = ?");
            params.push(id.into());
            Statement::from_sql_and_values(backend, sql, params)
        }
    };
    db.execute_raw(stmt).await?;
    Ok(())
}

/// Removes every element equal to one of `values` from an array field; a
/// missing or non-array field is left alone.
pub async fn remove(
    db: &impl ConnectionTrait,
    id: &str,
    key: &str,
    values: &[Json],
) -> AppResult<()> {
    if values.is_empty() {
        return Ok(());
    }
    let backend = db.get_database_backend();
    let removed = json_text(&Json::Array(values.to_vec()));
    let stmt = match backend {
        DbBackend::Postgres => Statement::from_sql_and_values(
            backend,
            "UPDATE users SET data = jsonb_set(data, ARRAY[$1::text], COALESCE(( \
               SELECT jsonb_agg(t.e ORDER BY t.i) FROM jsonb_array_elements(data -> $1::text) WITH ORDINALITY AS t(e, i) \
               WHERE NOT EXISTS (SELECT 1 FROM jsonb_array_elements($2::jsonb) r WHERE r = t.e)), '[]'::jsonb)) \
             WHERE id = $3 AND jsonb_typeof(data -> $1::text) = 'array'",
            [key.into(), removed.into(), id.into()],
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
            Statement::from_sql_and_values(
                backend,
                sql,
                [
                    path.clone().into(),
                    path.clone().into(),
                    removed.into(),
                    id.into(),
                    path.into(),
                ],
            )
        }
    };
    db.execute_raw(stmt).await?;
    Ok(())
}

/// The user of a collection whose profile field `key` equals `value` (as text).
pub async fn find_by_text_field(
    db: &impl ConnectionTrait,
    collection_id: &str,
    key: &str,
    value: &str,
) -> AppResult<Option<entity::user::Model>> {
    use sea_orm::{EntityTrait, FromQueryResult};
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
    let _ = entity::user::Entity::find();
    Ok(entity::user::Model::find_by_statement(stmt).one(db).await?)
}

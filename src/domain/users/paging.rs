//! Paging a user list by cursor. A cursor names where the next page starts:
//! after the row whose order keys had the values it carries (a keyset seek,
//! which the index serving the order answers without reading the rows before),
//! then past a number of rows. It is bound to the list's `orderBy`.
//!
//! A row whose keys cannot all be bound exactly (see `OrderKey::value_of`)
//! gets the cursor of the last row before it that can, plus the rows between;
//! with no such row, the page's own start plus its position: an offset, as
//! every cursor was before keysets (those still parse, as offsets).
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sea_orm::DatabaseConnection;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::model::{User, UserQuery, normalize_email};
use super::query::{plan_after, query_after};
use crate::domain::catalog::Catalog;
use crate::domain::filter::{Field, Sort};
use crate::error::{AppError, AppResult};
use crate::store::keyset::{KeyValue, Row};

/// The version tag of keyset cursors.
const VERSION: &str = "k1";

/// Where a page starts: after the row whose order keys have `anchor`'s
/// values (the list's start without one), past `skip` more rows.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Start {
    #[serde(rename = "k")]
    pub anchor: Option<Vec<KeyValue>>,
    #[serde(rename = "s")]
    pub skip: u64,
}

/// What a keyset cursor carries: the order it belongs to, and its start.
#[derive(Serialize, Deserialize)]
struct Payload {
    #[serde(rename = "o")]
    order: String,
    #[serde(flatten)]
    start: Start,
}

/// A page of users with the cursor after each, and whether more follow.
pub struct CursorPage {
    pub items: Vec<User>,
    /// The cursor after each item, for `after`.
    pub cursors: Vec<String>,
    pub has_next: bool,
    /// Whether the page starts after some row (a cursor or an offset).
    pub has_previous: bool,
}

/// The start of a page asked for by cursor (`after`) or by `offset`.
pub fn start(after: Option<&str>, offset: Option<i64>, sort: &[Sort]) -> AppResult<Start> {
    match (after, offset) {
        (Some(_), Some(_)) => Err(AppError::validation(
            "after",
            "use `after` or `offset`, not both",
        )),
        (Some(c), None) => parse(c, sort),
        (None, Some(o)) if o < 0 => Err(AppError::validation(
            "offset",
            "offset must not be negative",
        )),
        (None, Some(o)) => Ok(Start {
            anchor: None,
            skip: o as u64,
        }),
        (None, None) => Ok(Start::default()),
    }
}

/// The page of `q.limit` users of `q` from `start`, with their cursors.
pub async fn list(
    db: &DatabaseConnection,
    catalog: &Catalog,
    project_id: &str,
    q: &UserQuery,
    start: &Start,
) -> AppResult<CursorPage> {
    let backend = db.get_database_backend();
    // One more row tells whether there is a next page.
    let probe = UserQuery {
        limit: q.limit + 1,
        offset: start.skip,
        ..q.clone()
    };
    let seek = start.anchor.as_deref();
    let (page, keys) = query_after(db, catalog, project_id, &probe, seek).await?;
    let mut items = page.items;
    let has_next = items.len() as u64 > q.limit;
    items.truncate(q.limit as usize);
    let order = order_of(&q.sort);
    let mut last: Option<(usize, Vec<KeyValue>)> = None;
    let mut cursors = Vec::with_capacity(items.len());
    for (i, row) in items.iter().enumerate() {
        // The column holds what `normalize_email` made of the address.
        let email = normalize_email(&row.email).ok().map(|(_, n)| n);
        let row = Row {
            id: &row.id,
            email_normalized: email.as_deref(),
            verified: row.verified,
            created_at: row.created_at,
            updated_at: row.updated_at,
            data: &row.data,
        };
        let values: Option<Vec<KeyValue>> =
            keys.iter().map(|k| k.value_of(backend, &row)).collect();
        if let Some(values) = values {
            last = Some((i, values));
        }
        let after = match &last {
            Some((j, values)) => Start {
                anchor: Some(values.clone()),
                skip: (i - j) as u64,
            },
            None => Start {
                anchor: start.anchor.clone(),
                skip: start.skip + i as u64 + 1,
            },
        };
        cursors.push(encode(&order, after));
    }
    Ok(CursorPage {
        items,
        cursors,
        has_next,
        has_previous: start.anchor.is_some() || start.skip > 0,
    })
}

/// The database's plan for the page of `q` from `start` (see `users::plan`).
pub async fn plan(
    db: &DatabaseConnection,
    catalog: &Catalog,
    project_id: &str,
    q: &UserQuery,
    start: &Start,
) -> AppResult<Vec<String>> {
    let q = UserQuery {
        offset: start.skip,
        ..q.clone()
    };
    plan_after(db, catalog, project_id, &q, start.anchor.as_deref()).await
}

/// The order a cursor is bound to, as text: each key and its direction.
fn order_of(sort: &[Sort]) -> String {
    let keys: Vec<String> = sort
        .iter()
        .map(|s| {
            let name = match &s.field {
                Field::Id => "id".to_owned(),
                Field::Email => "email".to_owned(),
                Field::Roles => "roles".to_owned(),
                Field::Verified => "verified".to_owned(),
                Field::CreatedAt => "created_at".to_owned(),
                Field::UpdatedAt => "updated_at".to_owned(),
                Field::Data(path) => format!("data.{}", path.join(".")),
            };
            format!("{name}:{}", if s.descending { "desc" } else { "asc" })
        })
        .collect();
    keys.join(",")
}

/// A checksum that tells a cursor as this server made it from a garbled or
/// edited one (not a secret: a well-formed cursor only names a position).
fn checksum(body: &str) -> String {
    let digest = Sha256::digest([b"authgraph users cursor\0", body.as_bytes()].concat());
    hex::encode(&digest[..8])
}

fn encode(order: &str, start: Start) -> String {
    let payload = Payload {
        order: order.to_owned(),
        start,
    };
    let body = serde_json::to_string(&payload).expect("a cursor serializes");
    URL_SAFE_NO_PAD.encode(format!("{VERSION}:{}:{body}", checksum(&body)))
}

fn parse(cursor: &str, sort: &[Sort]) -> AppResult<Start> {
    let bad = || AppError::validation("after", "not a cursor of this connection");
    let raw = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    let text = String::from_utf8(raw).map_err(|_| bad())?;
    // A cursor from before keysets: the offset of the last row seen.
    if let Some(n) = text.strip_prefix("o:") {
        let n: u64 = n.parse().map_err(|_| bad())?;
        return Ok(Start {
            anchor: None,
            skip: checked_skip(n.checked_add(1).ok_or_else(bad)?)?,
        });
    }
    let rest = text.strip_prefix(VERSION).and_then(|t| t.strip_prefix(':'));
    let (sum, body) = rest.and_then(|t| t.split_once(':')).ok_or_else(bad)?;
    if checksum(body) != sum {
        return Err(bad());
    }
    let payload: Payload = serde_json::from_str(body).map_err(|_| bad())?;
    if payload.order != order_of(sort) {
        return Err(AppError::validation(
            "after",
            "this cursor belongs to another `orderBy`: page with the order it came from",
        ));
    }
    if let Some(values) = &payload.start.anchor {
        // The keys: the sort keys (or newest first), then the id.
        let fields: Vec<&Field> = match sort.is_empty() {
            true => vec![&Field::CreatedAt],
            false => sort.iter().map(|s| &s.field).collect(),
        };
        let fits = values.len() == fields.len() + 1
            && values
                .last()
                .is_some_and(|v| matches!(v, KeyValue::Text(_)))
            && fields.iter().zip(values).all(|(f, v)| accepts(f, v));
        if !fits {
            return Err(bad());
        }
    }
    checked_skip(payload.start.skip)?;
    Ok(payload.start)
}

/// Whether `value` is of the kind the values of `field` are.
fn accepts(field: &Field, value: &KeyValue) -> bool {
    matches!(
        (field, value),
        (Field::Id | Field::Email, KeyValue::Text(_))
            | (Field::Verified, KeyValue::Bool(_))
            | (Field::CreatedAt | Field::UpdatedAt, KeyValue::Time(_))
            | (Field::Data(_), KeyValue::Null | KeyValue::Json(_))
    )
}

/// A skip the databases take as an `OFFSET` (a signed 64-bit integer).
fn checked_skip(skip: u64) -> AppResult<u64> {
    match i64::try_from(skip) {
        Ok(_) => Ok(skip),
        Err(_) => Err(AppError::validation(
            "after",
            "not a cursor of this connection",
        )),
    }
}

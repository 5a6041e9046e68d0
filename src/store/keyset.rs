//! Keyset seeks: the condition "after this row" in a list's order, built from
//! the expressions `filter::order_expr` orders by, so that the index serving
//! the order serves the seek; and the values a row has for those expressions.
//!
//! Both mirror the SQL of the order exactly, NULLs included: SQLite sorts
//! NULL first ascending and last descending, PostgreSQL the other way round;
//! a declared number's key says `NULLS FIRST`/`LAST` on PostgreSQL so that
//! it orders as SQLite does (and as its index holds it), the others leave it
//! to each database, and the seek places NULLs as the order does.
use chrono::{DateTime, Utc};
use sea_orm::DbBackend;
use sea_orm::sea_query::{Expr, ExprTrait, NullOrdering};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::domain::filter::{Field, Sort};

/// One key of a list's order: the sort key, and whether it is a declared
/// number field (ordered by the typed expression of its index).
#[derive(Clone, Debug)]
pub struct OrderKey {
    pub sort: Sort,
    pub declared_number: bool,
}

/// What the order keys read of a row.
pub struct Row<'a> {
    pub id: &'a str,
    /// The address as the column holds it (`None` when it cannot be known).
    pub email_normalized: Option<&'a str>,
    pub verified: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub data: &'a Json,
}

/// The value of an order key at a row, as the seek binds it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum KeyValue {
    /// SQL NULL: a profile path that is absent (or, on SQLite, JSON null, which
    /// `json_extract` reads as NULL; or not a number under a number's index).
    #[serde(rename = "n")]
    Null,
    #[serde(rename = "s")]
    Text(String),
    #[serde(rename = "b")]
    Bool(bool),
    #[serde(rename = "t")]
    Time(DateTime<Utc>),
    /// A profile value, bound as JSON: `jsonb` on PostgreSQL, and on SQLite
    /// through `json_extract` so that it converts exactly as the stored
    /// document's value does (the same number parser, booleans as 0/1).
    #[serde(rename = "j")]
    Json(Json),
}

impl OrderKey {
    /// The key's SQL expression (the one `ORDER BY` uses).
    pub fn expr(&self, backend: DbBackend) -> Expr {
        super::filter::order_expr(backend, &self.sort, self.declared_number)
    }

    /// Whether the expression can be NULL (profile paths; columns are NOT NULL).
    fn nullable(&self) -> bool {
        matches!(self.sort.field, Field::Data(_))
    }

    /// Where `ORDER BY` must say NULLs go, when not where this database puts
    /// them: a declared number on PostgreSQL, placed as SQLite places them.
    pub fn nulls(&self, backend: DbBackend) -> Option<NullOrdering> {
        if backend != DbBackend::Postgres || !self.declared_number {
            return None;
        }
        Some(match self.sort.descending {
            false => NullOrdering::First,
            true => NullOrdering::Last,
        })
    }

    /// Whether the order puts NULL before every value in this direction.
    fn nulls_first(&self, backend: DbBackend) -> bool {
        match self.nulls(backend) {
            Some(at) => matches!(at, NullOrdering::First),
            None => (backend == DbBackend::Postgres) == self.sort.descending,
        }
    }

    /// The value `row` has for this key, or `None` when it cannot be bound so
    /// that it compares exactly as the stored value does (the caller then
    /// pages by offset from the last row that can).
    pub fn value_of(&self, backend: DbBackend, row: &Row) -> Option<KeyValue> {
        let pg = backend == DbBackend::Postgres;
        Some(match &self.sort.field {
            Field::Id => KeyValue::Text(row.id.to_owned()),
            Field::Email => KeyValue::Text(row.email_normalized?.to_owned()),
            Field::Verified => KeyValue::Bool(row.verified),
            Field::CreatedAt => KeyValue::Time(row.created_at),
            Field::UpdatedAt => KeyValue::Time(row.updated_at),
            // Compared as the stored JSON text (SQLite) or jsonb: a list rebuilt
            // here need not be that text byte for byte.
            Field::Roles => return None,
            Field::Data(path) => match lookup(row.data, path)? {
                None => KeyValue::Null,
                Some(v) if self.declared_number => match v.is_number() {
                    true => KeyValue::Json(v.clone()),
                    false => KeyValue::Null,
                },
                Some(Json::Null) if !pg => KeyValue::Null,
                // SQLite extracts objects and arrays as its own rendering of
                // their JSON text, which serde's need not equal; jsonb compares
                // them as values.
                Some(Json::Object(_) | Json::Array(_)) if !pg => return None,
                Some(v) => KeyValue::Json(v.clone()),
            },
        })
    }

    fn bound(&self, backend: DbBackend, value: &KeyValue) -> Expr {
        match value {
            KeyValue::Null => Expr::cust("NULL"),
            KeyValue::Text(s) => Expr::val(s.clone()),
            KeyValue::Bool(b) => Expr::val(*b),
            KeyValue::Time(t) => Expr::val(*t),
            // The typed expression of a declared number is a double; a cursor
            // from before it was (a jsonb value) that is no number seeks none.
            KeyValue::Json(v) if backend == DbBackend::Postgres && self.declared_number => {
                match v.is_number() {
                    true => Expr::cust_with_values("CAST($1 AS double precision)", [v.to_string()]),
                    false => Expr::cust("NULL"),
                }
            }
            KeyValue::Json(v) if backend == DbBackend::Postgres => {
                Expr::cust_with_values("CAST($1 AS jsonb)", [v.to_string()])
            }
            KeyValue::Json(v) => Expr::cust_with_values("json_extract(?, '$')", [v.to_string()]),
        }
    }

    /// Rows whose key equals `value`.
    fn equal(&self, backend: DbBackend, value: &KeyValue) -> Expr {
        match value {
            KeyValue::Null => self.expr(backend).is_null(),
            v => self.expr(backend).eq(self.bound(backend, v)),
        }
    }

    /// Rows whose key comes strictly after `value` in this key's order (with
    /// `or_equal`, also those equal to it). `None`: no row (strictly), or no
    /// bound at all (with `or_equal`: every row is at or after a NULL that
    /// sorts first).
    fn after(&self, backend: DbBackend, value: &KeyValue, or_equal: bool) -> Option<Expr> {
        let nulls_first = self.nulls_first(backend);
        if *value == KeyValue::Null {
            return match (nulls_first, or_equal) {
                (true, false) => Some(self.expr(backend).is_not_null()),
                (false, true) => Some(self.expr(backend).is_null()),
                (true, true) | (false, false) => None,
            };
        }
        let (e, v) = (self.expr(backend), self.bound(backend, value));
        let past = match (self.sort.descending, or_equal) {
            (false, false) => e.gt(v),
            (false, true) => e.gte(v),
            (true, false) => e.lt(v),
            (true, true) => e.lte(v),
        };
        Some(match !nulls_first && self.nullable() {
            true => past.or(self.expr(backend).is_null()),
            false => past,
        })
    }
}

/// The value at a profile path as the order expressions read it: `Some(None)`
/// when absent, `None` when the path goes through an array (PostgreSQL's `#>`
/// indexes arrays by a numeric segment, SQLite's quoted path does not).
fn lookup<'a>(data: &'a Json, path: &[String]) -> Option<Option<&'a Json>> {
    let mut at = data;
    for segment in path {
        at = match at {
            Json::Object(map) => match map.get(segment) {
                Some(v) => v,
                None => return Some(None),
            },
            Json::Array(_) => return None,
            _ => return Some(None),
        };
    }
    Some(Some(at))
}

/// The rows after the row whose keys have `values`, in the order of `keys`
/// (the last key being unique): lexicographically, each key in its direction.
/// A leading bound on the first key alone (implied by the rest) lets the
/// planner seek the index that serves the order instead of filtering it.
pub fn seek(backend: DbBackend, keys: &[OrderKey], values: &[KeyValue]) -> Expr {
    let mut any: Option<Expr> = None;
    let mut prefix: Option<Expr> = None;
    for (key, value) in keys.iter().zip(values) {
        if let Some(after) = key.after(backend, value, false) {
            let term = match prefix.clone() {
                Some(p) => p.and(after),
                None => after,
            };
            any = Some(match any {
                Some(a) => a.or(term),
                None => term,
            });
        }
        let eq = key.equal(backend, value);
        prefix = Some(match prefix {
            Some(p) => p.and(eq),
            None => eq,
        });
    }
    let Some(any) = any else {
        return Expr::cust("1 = 0");
    };
    match keys.first().zip(values.first()) {
        Some((k, v)) => match k.after(backend, v, true) {
            Some(bound) => bound.and(any),
            None => any,
        },
        None => any,
    }
}

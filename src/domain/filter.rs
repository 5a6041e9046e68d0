//! One filter for every front door: a tree of conditions on user attributes and
//! profile paths, built by GraphQL and each REST dialect, turned into SQL once
//! (`store::filter`), with every value bound.
use serde_json::Value;

use super::collections::{Collection, FieldType};
use crate::error::{AppError, AppResult};

/// What a condition looks at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Field {
    Id,
    Email,
    Roles,
    Verified,
    CreatedAt,
    UpdatedAt,
    /// A path into the profile data (`address.city` → `["address", "city"]`).
    Data(Vec<String>),
}

/// Comparison operators (the Cocobase set).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Gt,
    Gte,
    Lt,
    Lte,
    Contains,
    IContains,
    StartsWith,
    EndsWith,
    In,
    NotIn,
    IsNull,
}

impl Op {
    /// Parses an operator name (`eq`, `icontains`, …).
    pub fn parse(name: &str) -> Option<Op> {
        Some(match name {
            "eq" => Op::Eq,
            "ne" => Op::Ne,
            "gt" => Op::Gt,
            "gte" => Op::Gte,
            "lt" => Op::Lt,
            "lte" => Op::Lte,
            "contains" => Op::Contains,
            "icontains" => Op::IContains,
            "startswith" => Op::StartsWith,
            "endswith" => Op::EndsWith,
            "in" => Op::In,
            "notin" => Op::NotIn,
            "isnull" => Op::IsNull,
            _ => return None,
        })
    }

    /// Every operator's name.
    pub const NAMES: [&'static str; 13] = [
        "eq",
        "ne",
        "gt",
        "gte",
        "lt",
        "lte",
        "contains",
        "icontains",
        "startswith",
        "endswith",
        "in",
        "notin",
        "isnull",
    ];
}

/// A filter tree.
#[derive(Clone, Debug, PartialEq)]
pub enum Filter {
    And(Vec<Filter>),
    Or(Vec<Filter>),
    Not(Box<Filter>),
    Cond {
        field: Field,
        op: Op,
        value: Value,
    },
    /// True when a user that the profile path `via` points to (an id, or an
    /// array of ids) matches `filter`; related users are of the same project.
    Related {
        via: Vec<String>,
        filter: Box<Filter>,
        /// The project when the query's collection is known: the related
        /// users are then found once, through the inner filter's indexes,
        /// instead of once per row (`store::filter`).
        project: Option<String>,
    },
}

/// A sort key.
#[derive(Clone, Debug, PartialEq)]
pub struct Sort {
    pub field: Field,
    pub descending: bool,
}

/// Limits that keep a filter cheap to plan and run.
pub const MAX_DEPTH: usize = 8;
pub const MAX_CONDITIONS: usize = 64;
pub const MAX_LIST_VALUES: usize = 100;
pub const MAX_VALUE_LEN: usize = 1024;
pub const MAX_PATH_SEGMENTS: usize = 5;

impl Field {
    /// Parses a field name: account attributes by their names in any of the
    /// dialects, otherwise a dotted profile path.
    pub fn parse(name: &str) -> AppResult<Field> {
        Ok(match name {
            "id" | "_id" => Field::Id,
            "email" => Field::Email,
            "role" | "roles" => Field::Roles,
            "verified" => Field::Verified,
            "created_at" | "created" | "createdAt" => Field::CreatedAt,
            "updated_at" | "updated" | "updatedAt" => Field::UpdatedAt,
            path => {
                let path = path.strip_prefix("data.").unwrap_or(path);
                let segments: Vec<String> = path.split('.').map(str::to_owned).collect();
                if segments.len() > MAX_PATH_SEGMENTS {
                    return Err(AppError::validation(
                        "filter",
                        format!("field path `{name}` is too deep"),
                    ));
                }
                for s in &segments {
                    let ok = !s.is_empty()
                        && s.len() <= 64
                        && s.chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
                    if !ok {
                        return Err(AppError::validation(
                            "filter",
                            format!("`{name}` is not a valid field path"),
                        ));
                    }
                }
                Field::Data(segments)
            }
        })
    }
}

impl Filter {
    /// A condition.
    pub fn cond(field: Field, op: Op, value: Value) -> Filter {
        Filter::Cond { field, op, value }
    }

    /// Checks size limits and value shapes.
    pub fn validate(&self) -> AppResult<()> {
        let mut count = 0;
        self.walk(1, &mut count)
    }

    fn walk(&self, depth: usize, count: &mut usize) -> AppResult<()> {
        if depth > MAX_DEPTH {
            return Err(AppError::validation(
                "filter",
                format!("filter is nested deeper than {MAX_DEPTH}"),
            ));
        }
        match self {
            Filter::And(items) | Filter::Or(items) => {
                items.iter().try_for_each(|f| f.walk(depth + 1, count))
            }
            Filter::Not(inner) | Filter::Related { filter: inner, .. } => {
                inner.walk(depth + 1, count)
            }
            Filter::Cond { field, op, value } => {
                *count += 1;
                if *count > MAX_CONDITIONS {
                    return Err(AppError::validation(
                        "filter",
                        format!("filter has more than {MAX_CONDITIONS} conditions"),
                    ));
                }
                check_value(field, *op, value)
            }
        }
    }
}

fn check_value(field: &Field, op: Op, value: &Value) -> AppResult<()> {
    let too_long = |v: &Value| v.as_str().is_some_and(|s| s.len() > MAX_VALUE_LEN);
    match op {
        Op::In | Op::NotIn => {
            let Some(items) = value.as_array() else {
                return Err(AppError::validation(
                    "filter",
                    "`in`/`notin` take a list of values",
                ));
            };
            if items.len() > MAX_LIST_VALUES {
                return Err(AppError::validation(
                    "filter",
                    format!("at most {MAX_LIST_VALUES} values in a list"),
                ));
            }
            if items
                .iter()
                .any(|v| too_long(v) || v.is_array() || v.is_object())
            {
                return Err(AppError::validation(
                    "filter",
                    "list values must be short scalars",
                ));
            }
        }
        Op::IsNull => {
            if !value.is_boolean() {
                return Err(AppError::validation(
                    "filter",
                    "`isnull` takes true or false",
                ));
            }
        }
        Op::Contains | Op::IContains | Op::StartsWith | Op::EndsWith => {
            if !value.is_string()
                && !(op == Op::Contains && (value.is_number() || value.is_boolean()))
            {
                return Err(AppError::validation(
                    "filter",
                    "text operators take a string",
                ));
            }
        }
        _ => {
            if value.is_array() || value.is_object() {
                return Err(AppError::validation(
                    "filter",
                    "comparisons take a scalar value",
                ));
            }
        }
    }
    if too_long(value) {
        return Err(AppError::validation(
            "filter",
            format!("filter values are limited to {MAX_VALUE_LEN} bytes"),
        ));
    }
    match (field, op) {
        (Field::Verified, Op::Eq | Op::Ne | Op::In | Op::NotIn | Op::IsNull) => Ok(()),
        (Field::Verified, _) => Err(AppError::validation(
            "filter",
            "`verified` compares only with eq/ne",
        )),
        (
            Field::CreatedAt | Field::UpdatedAt,
            Op::Contains | Op::IContains | Op::StartsWith | Op::EndsWith,
        ) => Err(AppError::validation(
            "filter",
            "dates compare with eq/ne/gt/gte/lt/lte",
        )),
        (Field::CreatedAt | Field::UpdatedAt, Op::In | Op::NotIn) => Err(AppError::validation(
            "filter",
            "dates compare with eq/ne/gt/gte/lt/lte",
        )),
        (Field::CreatedAt | Field::UpdatedAt, Op::IsNull) => Ok(()),
        (Field::CreatedAt | Field::UpdatedAt, _) => parse_date(value).map(|_| ()),
        _ => Ok(()),
    }
}

impl Filter {
    /// Turns dotted paths that go through a relation into relation conditions:
    /// `referred_by.email` where `referred_by` is a declared relation, and, by
    /// Cocobase's convention, through `referred_by_id` when `referred_by` is not
    /// declared (then the nested profile path also matches).
    pub fn resolve_relations(self, collection: Option<&Collection>) -> Filter {
        match self {
            Filter::And(items) => Filter::And(
                items
                    .into_iter()
                    .map(|f| f.resolve_relations(collection))
                    .collect(),
            ),
            Filter::Or(items) => Filter::Or(
                items
                    .into_iter()
                    .map(|f| f.resolve_relations(collection))
                    .collect(),
            ),
            Filter::Not(inner) => Filter::Not(Box::new(inner.resolve_relations(collection))),
            Filter::Cond {
                field: Field::Data(path),
                op,
                value,
            } if path.len() >= 2 => {
                let rest = path[1..].join(".");
                let Ok(inner_field) = Field::parse(&rest) else {
                    return Filter::Cond {
                        field: Field::Data(path),
                        op,
                        value,
                    };
                };
                let inner = Box::new(Filter::Cond {
                    field: inner_field,
                    op,
                    value: value.clone(),
                });
                let related = |via: String| Filter::Related {
                    via: vec![via],
                    filter: inner.clone(),
                    project: collection.map(|c| c.project_id.clone()),
                };
                match collection.and_then(|c| c.field(&path[0])) {
                    Some(decl) if decl.field_type == FieldType::Relation => {
                        related(path[0].clone())
                    }
                    Some(_) => Filter::Cond {
                        field: Field::Data(path),
                        op,
                        value,
                    },
                    // Undeclared: the nested profile path, or a relation by
                    // Cocobase's `<name>_id` convention (or, across collections,
                    // a relation named by the path itself).
                    None => {
                        let mut any = vec![related(format!("{}_id", path[0]))];
                        if collection.is_none() {
                            any.push(related(path[0].clone()));
                        }
                        any.insert(
                            0,
                            Filter::Cond {
                                field: Field::Data(path),
                                op,
                                value,
                            },
                        );
                        Filter::Or(any)
                    }
                }
            }
            other => other,
        }
    }
}

/// Parses a date value: RFC 3339, PocketBase's `YYYY-MM-DD HH:MM:SS.sssZ`, a bare
/// date, or a Unix timestamp in seconds.
pub fn parse_date(value: &Value) -> AppResult<chrono::DateTime<chrono::Utc>> {
    use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
    let bad = || AppError::validation("filter", format!("`{value}` is not a date"));
    match value {
        Value::Number(n) => n
            .as_i64()
            .and_then(|s| Utc.timestamp_opt(s, 0).single())
            .ok_or_else(bad),
        Value::String(s) => {
            if let Ok(d) = DateTime::parse_from_rfc3339(s) {
                return Ok(d.with_timezone(&Utc));
            }
            let trimmed = s.trim_end_matches('Z');
            for fmt in [
                "%Y-%m-%d %H:%M:%S%.f",
                "%Y-%m-%d %H:%M:%S",
                "%Y-%m-%dT%H:%M:%S%.f",
            ] {
                if let Ok(d) = NaiveDateTime::parse_from_str(trimmed, fmt) {
                    return Ok(Utc.from_utc_datetime(&d));
                }
            }
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map(|d| Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight exists")))
                .map_err(|_| bad())
        }
        _ => Err(bad()),
    }
}

/// Reads a query-string value as the JSON value it most likely means: numbers,
/// booleans and `null` as such, anything else as a string.
pub fn guess_value(raw: &str) -> Value {
    match raw {
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        "null" => Value::Null,
        _ => {
            let numeric = !raw.is_empty()
                && raw.len() <= 32
                && raw
                    .chars()
                    .all(|c| c.is_ascii_digit() || matches!(c, '-' | '.' | 'e' | 'E' | '+'))
                && raw.chars().any(|c| c.is_ascii_digit());
            if numeric {
                if let Ok(i) = raw.parse::<i64>() {
                    return Value::from(i);
                }
                if let Some(n) = raw
                    .parse::<f64>()
                    .ok()
                    .and_then(serde_json::Number::from_f64)
                {
                    return Value::Number(n);
                }
            }
            Value::String(raw.to_owned())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields_parse_attributes_and_paths() {
        assert_eq!(Field::parse("created").unwrap(), Field::CreatedAt);
        assert_eq!(
            Field::parse("address.city").unwrap(),
            Field::Data(vec!["address".into(), "city".into()])
        );
        assert!(Field::parse("a..b").is_err());
        assert!(Field::parse("a'; drop table users; --").is_err());
        assert!(Field::parse("a.b.c.d.e.f").is_err());
    }

    #[test]
    fn limits_and_shapes_are_enforced() {
        let c = |op, v| Filter::cond(Field::parse("x").unwrap(), op, v);
        assert!(c(Op::In, json!("a")).validate().is_err());
        assert!(c(Op::IsNull, json!("yes")).validate().is_err());
        assert!(c(Op::Eq, json!({"a": 1})).validate().is_err());
        assert!(c(Op::Eq, json!("x".repeat(2000))).validate().is_err());
        let mut deep = c(Op::Eq, json!(1));
        for _ in 0..10 {
            deep = Filter::Not(Box::new(deep));
        }
        assert!(deep.validate().is_err());
        let wide = Filter::And((0..100).map(|_| c(Op::Eq, json!(1))).collect());
        assert!(wide.validate().is_err());
        assert!(
            Filter::cond(Field::CreatedAt, Op::Gt, json!("yesterday"))
                .validate()
                .is_err()
        );
        assert!(
            Filter::cond(Field::CreatedAt, Op::Gt, json!("2026-01-01"))
                .validate()
                .is_ok()
        );
    }

    #[test]
    fn query_values_are_typed_by_their_look() {
        assert_eq!(guess_value("25"), json!(25));
        assert_eq!(guess_value("2.5"), json!(2.5));
        assert_eq!(guess_value("true"), json!(true));
        assert_eq!(guess_value("San Francisco"), json!("San Francisco"));
        assert_eq!(guess_value("2026-01-01"), json!("2026-01-01"));
        assert_eq!(guess_value("-"), json!("-"));
    }
}

//! `domain::filter::Filter` → SQL, once, for SQLite (JSON1) and Postgres (jsonb).
//! Field paths are validated identifiers and are written into the SQL so that
//! expression indexes match; every value is bound.
use std::collections::BTreeSet;

use sea_orm::sea_query::Expr;
use sea_orm::{DbBackend, Value};
use serde_json::Value as Json;

use crate::domain::filter::{Field, Filter, Op, Sort, parse_date};
use crate::error::AppResult;

struct Sql {
    pg: bool,
    values: Vec<Value>,
    /// The table alias columns are qualified with (`users`, or a relation's alias).
    table: String,
    /// Relation nesting, for fresh aliases.
    depth: usize,
    /// Profile fields whose index must not serve this list (`steer`).
    demoted: BTreeSet<String>,
}

impl Sql {
    fn col(&self, name: &str) -> String {
        format!("{}.{name}", self.table)
    }

    /// A unary `+` before the expression of a demoted field of this table,
    /// which keeps the planner from searching its index (`steer`).
    fn demote(&self, path: &[String]) -> &'static str {
        let on = self.table == "users" && path.len() == 1 && self.demoted.contains(&path[0]);
        ["", "+"][usize::from(on)]
    }

    fn bind(&mut self, v: impl Into<Value>) -> String {
        self.values.push(v.into());
        if self.pg {
            format!("${}", self.values.len())
        } else {
            "?".to_owned()
        }
    }

    /// SQL of the JSON value at a profile path, of its text, and of its JSON
    /// type (SQLite's json_type takes (data, path); Postgres's jsonb_typeof
    /// takes the value).
    fn json_at(&self, path: &[String]) -> (String, String, String) {
        let data = self.col("data");
        if self.pg {
            if path.len() == 1 {
                let key = &path[0];
                let json = format!("({data} -> '{key}')");
                let type_of = format!("jsonb_typeof({json})");
                (json, format!("({data} ->> '{key}')"), type_of)
            } else {
                let p = path.join(",");
                let json = format!("({data} #> '{{{p}}}')");
                let type_of = format!("jsonb_typeof({json})");
                (json, format!("({data} #>> '{{{p}}}')"), type_of)
            }
        } else {
            let p: String = path.iter().map(|s| format!(".\"{s}\"")).collect();
            (
                format!("'${p}'"),
                format!("json_extract({data}, '${p}')"),
                format!("json_type({data}, '${p}')"),
            )
        }
    }
}

/// The SQL condition of a filter; the `demoted` fields' indexes kept from the planner.
pub fn condition(
    backend: DbBackend,
    filter: &Filter,
    demoted: &BTreeSet<String>,
) -> AppResult<Expr> {
    filter.validate()?;
    let mut sql = Sql {
        pg: backend == DbBackend::Postgres,
        values: Vec::new(),
        table: "users".into(),
        depth: 0,
        demoted: demoted.clone(),
    };
    let text = node(&mut sql, filter)?;
    Ok(Expr::cust_with_values(text, sql.values))
}

fn node(sql: &mut Sql, f: &Filter) -> AppResult<String> {
    Ok(match f {
        Filter::And(items) if items.is_empty() => "(1 = 1)".into(),
        Filter::Or(items) if items.is_empty() => "(1 = 0)".into(),
        Filter::And(items) => {
            let parts: AppResult<Vec<String>> = items.iter().map(|i| node(sql, i)).collect();
            format!("({})", parts?.join(" AND "))
        }
        Filter::Or(items) => {
            let parts: AppResult<Vec<String>> = items.iter().map(|i| node(sql, i)).collect();
            format!("({})", parts?.join(" OR "))
        }
        Filter::Not(inner) => format!("(NOT COALESCE({}, {}))", node(sql, inner)?, falsy(sql)),
        Filter::Cond { field, op, value } => cond(sql, field, *op, value)?,
        Filter::Related {
            via,
            filter,
            project,
        } => related(sql, via, filter, project.as_deref())?,
    })
}

fn falsy(sql: &Sql) -> &'static str {
    if sql.pg { "FALSE" } else { "0" }
}

fn cond(sql: &mut Sql, field: &Field, op: Op, value: &Json) -> AppResult<String> {
    match op {
        Op::Ne => {
            let eq = cond(sql, field, Op::Eq, value)?;
            return Ok(format!("(NOT COALESCE({eq}, {}))", falsy(sql)));
        }
        Op::In | Op::NotIn => {
            let items = value.as_array().cloned().unwrap_or_default();
            let parts: AppResult<Vec<String>> =
                items.iter().map(|v| cond(sql, field, Op::Eq, v)).collect();
            let any = if items.is_empty() {
                "(1 = 0)".to_owned()
            } else {
                format!("({})", parts?.join(" OR "))
            };
            return Ok(if op == Op::In {
                any
            } else {
                format!("(NOT COALESCE({any}, {}))", falsy(sql))
            });
        }
        Op::Eq if value.is_null() => return cond(sql, field, Op::IsNull, &Json::Bool(true)),
        _ => {}
    }
    match field {
        Field::Id => {
            let col = sql.col("id");
            text_column(sql, &col, op, value, false)
        }
        Field::Email => {
            let col = sql.col("email_normalized");
            text_column(sql, &col, op, value, true)
        }
        Field::Verified => Ok(match op {
            Op::IsNull => {
                if value == &Json::Bool(true) {
                    "(1 = 0)".into()
                } else {
                    "(1 = 1)".into()
                }
            }
            _ => {
                let b = value
                    .as_bool()
                    .or_else(|| value.as_str().map(|s| s == "true"))
                    .unwrap_or(false);
                let col = sql.col("verified");
                format!("({col} = {})", sql.bind(b))
            }
        }),
        Field::CreatedAt | Field::UpdatedAt => {
            let col = if *field == Field::CreatedAt {
                "created_at"
            } else {
                "updated_at"
            };
            if op == Op::IsNull {
                return Ok(if value == &Json::Bool(true) {
                    "(1 = 0)".into()
                } else {
                    "(1 = 1)".into()
                });
            }
            let at = parse_date(value)?;
            Ok(format!("({col} {} {})", cmp(op), sql.bind(at)))
        }
        Field::Roles => roles(sql, op, value),
        Field::Data(path) => data(sql, path, op, value),
    }
}

fn cmp(op: Op) -> &'static str {
    match op {
        Op::Gt => ">",
        Op::Gte => ">=",
        Op::Lt => "<",
        Op::Lte => "<=",
        _ => "=",
    }
}

fn scalar_text(value: &Json) -> String {
    match value {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn text_ops(sql: &mut Sql, col: &str, op: Op, v: String) -> String {
    let pg = sql.pg;
    match op {
        Op::Contains | Op::IContains => {
            let (haystack, needle) = if op == Op::IContains {
                (format!("lower({col})"), v.to_lowercase())
            } else {
                (col.to_owned(), v)
            };
            let p = sql.bind(needle);
            // Postgres has no `instr`, SQLite no `strpos`.
            let find = if pg { "strpos" } else { "instr" };
            format!("({find}({haystack}, {p}) > 0)")
        }
        Op::StartsWith | Op::EndsWith => {
            let (p1, p2) = (sql.bind(v.clone()), sql.bind(v));
            // The start or end of `col` as long as the value; SQLite has no `left`/`right`.
            let end = match (op == Op::StartsWith, pg) {
                (true, true) => format!("left({col}, length({p1}))"),
                (true, false) => format!("substr({col}, 1, length({p1}))"),
                (false, true) => format!("right({col}, length({p1}))"),
                (false, false) => format!("substr({col}, -length({p1}))"),
            };
            format!("({end} = {p2})")
        }
        _ => {
            let p = sql.bind(v);
            format!("({col} {} {p})", cmp(op))
        }
    }
}

fn text_column(
    sql: &mut Sql,
    col: &str,
    op: Op,
    value: &Json,
    lowercase: bool,
) -> AppResult<String> {
    if op == Op::IsNull {
        return Ok(if value == &Json::Bool(true) {
            "(1 = 0)".into()
        } else {
            "(1 = 1)".into()
        });
    }
    let mut v = scalar_text(value);
    if lowercase {
        v = v.to_lowercase();
    }
    Ok(text_ops(sql, col, op, v))
}

fn roles(sql: &mut Sql, op: Op, value: &Json) -> AppResult<String> {
    let roles = sql.col("roles");
    let member = |sql: &mut Sql, v: String| {
        let p = sql.bind(v);
        if sql.pg {
            format!("({roles} @> jsonb_build_array({p}::text))")
        } else {
            format!("(EXISTS (SELECT 1 FROM json_each({roles}) rr WHERE rr.value = {p}))")
        }
    };
    Ok(match op {
        Op::Eq | Op::Contains => member(sql, scalar_text(value)),
        Op::IsNull => {
            let empty = if sql.pg {
                "(jsonb_array_length(roles) = 0)"
            } else {
                "(json_array_length(roles) = 0)"
            };
            if value == &Json::Bool(true) {
                empty.into()
            } else {
                format!("(NOT {empty})")
            }
        }
        _ => {
            let v = scalar_text(value);
            let inner = text_ops(sql, "rv", op, v);
            if sql.pg {
                format!(
                    "(EXISTS (SELECT 1 FROM jsonb_array_elements_text(roles) rv WHERE {inner}))"
                )
            } else {
                format!(
                    "(EXISTS (SELECT 1 FROM (SELECT value AS rv FROM json_each(users.roles)) WHERE {inner}))"
                )
            }
        }
    })
}

fn data(sql: &mut Sql, path: &[String], op: Op, value: &Json) -> AppResult<String> {
    let (json, text, type_of) = sql.json_at(path);
    let plus = sql.demote(path);
    let pg = sql.pg;
    let data_col = sql.col("data");
    let is_null = format!("({type_of} IS NULL OR {type_of} = 'null')");
    match op {
        Op::IsNull => {
            return Ok(if value == &Json::Bool(true) {
                is_null
            } else {
                format!("(NOT {is_null})")
            });
        }
        Op::Contains => {
            // Arrays: membership; strings: substring.
            // Bound in the order the placeholders appear (SQLite's are positional).
            let first = verbatim_first(sql, value, false);
            let p = sql.bind(scalar_text(value));
            let substring = text_ops(sql, &text, Op::Contains, scalar_text(value));
            return Ok(if pg {
                format!(
                    "(CASE jsonb_typeof({json}) WHEN 'array' THEN EXISTS (SELECT 1 FROM jsonb_array_elements_text({json}) e WHERE e = {p}) \
                     WHEN 'string' THEN {substring} ELSE FALSE END)"
                )
            } else {
                format!(
                    "({first}CASE {type_of} WHEN 'array' THEN EXISTS (SELECT 1 FROM json_each({data_col}, {json}) e WHERE CAST(e.value AS TEXT) = {p}) \
                     WHEN 'text' THEN {substring} ELSE 0 END)"
                )
            });
        }
        Op::IContains | Op::StartsWith | Op::EndsWith => {
            let string_type = if pg { "'string'" } else { "'text'" };
            let first = verbatim_first(sql, value, op == Op::IContains);
            let inner = text_ops(sql, &text, op, scalar_text(value));
            return Ok(format!("({first}{type_of} = {string_type} AND {inner})"));
        }
        _ => {}
    }
    // Eq and ordering comparisons: numbers as numbers, strings as strings,
    // booleans by JSON type.
    Ok(match value {
        Json::Bool(b) => {
            let t = if *b { "'true'" } else { "'false'" };
            if pg {
                format!("({type_of} = 'boolean' AND {json} = {t}::jsonb)")
            } else {
                format!("({type_of} = {t})")
            }
        }
        Json::Number(n) => {
            let f = n.as_f64().unwrap_or(0.0);
            let p = sql.bind(f);
            let n = typed_number(pg, &type_of, &text);
            format!("({plus}{n} {} {p})", cmp(op))
        }
        // On SQLite a bound text equals only a JSON string (numbers and
        // booleans extract as numbers, which never equal text), so an equality
        // needs no type check and can be answered from the index alone.
        other if !pg && op == Op::Eq => {
            let p = sql.bind(scalar_text(other));
            format!("({plus}{text} = {p})")
        }
        other => {
            let s = scalar_text(other);
            let p = sql.bind(s);
            let string_type = if pg { "'string'" } else { "'text'" };
            let c = cmp(op);
            format!("({type_of} = {string_type} AND {plus}{text} {c} {p})")
        }
    })
}

/// On SQLite, a test of the row's JSON text for the value before the JSON is
/// parsed (`instr(data, ?) > 0 AND `; `data LIKE '%…%'` when letter case is
/// ignored, as ASCII `lower()` ignores it), or nothing: a value that a
/// profile string contains, or that an array holds, is in the row's text as
/// it is when no JSON writer escapes any of its characters (letters, digits,
/// space and `_-.@+:#,`; Go's escapes `<>&` too) and it cannot be a number's
/// or a boolean's text (it has a letter other than `e`). Parsing each row's
/// JSON was most of the time of a `contains` scan (100k rows: 96 ms against
/// 34 ms with this test first; case ignored, 293 against 89 ms).
fn verbatim_first(sql: &mut Sql, value: &Json, any_case: bool) -> String {
    let Json::String(needle) = value else {
        return String::new();
    };
    let plain = |c: char| c.is_ascii_alphanumeric() || " _-.@+:#,".contains(c);
    let letter = |c: char| c.is_ascii_alphabetic() && !"eE".contains(c);
    if sql.pg || !needle.chars().all(plain) || !needle.chars().any(letter) {
        return String::new();
    }
    let data = sql.col("data");
    if any_case {
        // `_` matches any one character: still every row that holds the value.
        let p = sql.bind(format!("%{needle}%"));
        format!("{data} LIKE {p} AND ")
    } else {
        let p = sql.bind(needle.clone());
        format!("instr({data}, {p}) > 0 AND ")
    }
}

/// A profile value as a number, NULL when it is not one: the expression of a
/// number field's index, so that a comparison, and a total over it, is
/// answered from the index without reading each row's type from the row.
pub(crate) fn typed_number(pg: bool, type_of: &str, text: &str) -> String {
    if pg {
        format!("(CASE WHEN {type_of} = 'number' THEN ({text})::double precision END)")
    } else {
        format!("(CASE WHEN {type_of} IN ('integer', 'real') THEN {text} END)")
    }
}

/// A condition on the users a profile field points to (one id, or an array of
/// ids): true when any of them matches `inner`, in the same project.
///
/// With the project known, a semi-join: the related users matching `inner`
/// are found once (not correlated, so by the inner filter's indexes) and each
/// row's ids are looked up among them; a correlated `EXISTS` read one related
/// user per row (750–1,500 ms for a total at 100k users, BENCHMARKS.md).
fn related(
    sql: &mut Sql,
    via: &[String],
    inner: &Filter,
    project: Option<&str>,
) -> AppResult<String> {
    let outer = sql.table.clone();
    let (json, _, type_of) = sql.json_at(via);
    // The row's ids, parsed once (a single id is a one-element list).
    let (ids, id) = if sql.pg {
        let list =
            format!("CASE WHEN {type_of} = 'array' THEN {json} ELSE jsonb_build_array({json}) END");
        (format!("jsonb_array_elements_text({list})"), "ids")
    } else {
        (format!("json_each({outer}.data, {json})"), "ids.value")
    };
    let Some(project) = project else {
        let (alias, inner_sql) = nested(sql, inner)?;
        return Ok(format!(
            "(EXISTS (SELECT 1 FROM {ids} ids JOIN users {alias} ON {alias}.id = {id} \
             WHERE {alias}.project_id = {outer}.project_id AND {inner_sql}))"
        ));
    };
    let p = sql.bind(project.to_owned());
    let (alias, inner_sql) = nested(sql, inner)?;
    // Every collection of the project, as a list found once: the inner
    // filter's indexes start with the collection.
    let collections = format!("SELECT c.id FROM collections c WHERE c.project_id = {p}");
    let scope = if sql.pg {
        format!("= ANY (ARRAY({collections}))")
    } else {
        format!("IN ({collections})")
    };
    Ok(format!(
        "(EXISTS (SELECT 1 FROM {ids} ids WHERE {id} IN (SELECT {alias}.id FROM users {alias} \
         WHERE {alias}.collection_id {scope} AND {inner_sql})))"
    ))
}

/// The SQL of `inner` on a fresh alias of `users`, and that alias.
fn nested(sql: &mut Sql, inner: &Filter) -> AppResult<(String, String)> {
    sql.depth += 1;
    let alias = format!("rel{}", sql.depth);
    let saved = std::mem::replace(&mut sql.table, alias.clone());
    let inner_sql = node(sql, inner);
    sql.table = saved;
    sql.depth -= 1;
    Ok((alias, inner_sql?))
}

/// The SQL expression a sort key orders by. A declared number field orders
/// by its index's typed expression (on both databases), so the index serves
/// the order; NULL (absent or not a number) first ascending (`keyset`).
pub fn order_expr(backend: DbBackend, sort: &Sort, declared_number: bool) -> Expr {
    let pg = backend == DbBackend::Postgres;
    let text = match &sort.field {
        Field::Id => "users.id".to_owned(),
        Field::Email => "users.email_normalized".to_owned(),
        Field::Verified => "users.verified".to_owned(),
        Field::CreatedAt => "users.created_at".to_owned(),
        Field::UpdatedAt => "users.updated_at".to_owned(),
        Field::Roles => "users.roles".to_owned(),
        Field::Data(path) => {
            let sql = Sql {
                pg,
                values: vec![],
                table: "users".into(),
                depth: 0,
                demoted: BTreeSet::new(),
            };
            let (json, text, type_of) = sql.json_at(path);
            if declared_number {
                typed_number(pg, &type_of, &text)
            } else if pg {
                json
            } else {
                text
            }
        }
    };
    Expr::cust(text)
}

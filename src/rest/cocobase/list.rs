//! `GET /auth-collections/users`: Cocobase's list parameters (`<field>_<op>`
//! filters, `[or]` groups, sort, page, count) and `populate`.
use axum::Json;
use axum::extract::RawQuery;
use serde_json::{Value, json};

use super::call::{Coco, Result, user_json};
use super::doc::Errors;
use crate::domain::collections::{Collection, DEFAULT_COLLECTION};
use crate::domain::files::urls;
use crate::domain::filter::{Field, Filter, Op, Sort, guess_value};
use crate::domain::users::{self, User, UserQuery};
use crate::error::AppError;
use crate::http::query::QueryParams;

/// Query parameters that are not filters.
const LIST_KEYS: &[&str] = &[
    "limit",
    "offset",
    "sort",
    "order",
    "sort_by",
    "sort_order",
    "populate",
    "select",
    "count",
];

/// Splits `field_op` into its field and operator (longest operator suffix wins).
fn split_op(key: &str) -> (String, Op) {
    let mut best: Option<(usize, Op)> = None;
    for name in Op::NAMES {
        let suffix = format!("_{name}");
        if key.len() > suffix.len()
            && key.ends_with(&suffix)
            && best.is_none_or(|(l, _)| suffix.len() > l)
        {
            best = Some((suffix.len(), Op::parse(name).expect("listed operator")));
        }
    }
    match best {
        Some((len, op)) => (key[..key.len() - len].to_owned(), op),
        None => (key.to_owned(), Op::Eq),
    }
}

fn filter_value(op: Op, raw: &str) -> Value {
    match op {
        Op::In | Op::NotIn => Value::Array(raw.split(',').map(|v| guess_value(v.trim())).collect()),
        Op::IsNull => Value::Bool(matches!(raw, "true" | "1" | "yes")),
        Op::Contains | Op::IContains | Op::StartsWith | Op::EndsWith => {
            Value::String(raw.to_owned())
        }
        _ => guess_value(raw),
    }
}

fn condition(key: &str, raw: &str) -> Result<Filter> {
    // `a__or__b_contains=v`: any of several fields.
    let (fields, op) = split_op(key);
    let value = filter_value(op, raw);
    let mut any = Vec::new();
    for f in fields.split("__or__") {
        any.push(Filter::cond(Field::parse(f)?, op, value.clone()));
    }
    Ok(if any.len() == 1 {
        any.pop().expect("one")
    } else {
        Filter::Or(any)
    })
}

/// Builds the list query from Cocobase's parameters.
pub fn list_query(raw: Option<&str>) -> Result<UserQuery> {
    let params = QueryParams::parse(raw);
    let get = |k: &str| params.last(k);
    let number = |k: &str, default: u64| -> Result<u64> {
        match get(k) {
            None | Some("") => Ok(default),
            Some(v) => v.parse().map_err(|_| {
                AppError::validation(k, format!("`{k}` must be a non-negative integer")).into()
            }),
        }
    };
    let limit = number("limit", 50)?;
    if limit == 0 || limit > users::MAX_PAGE_SIZE {
        return Err(AppError::validation(
            "limit",
            format!("`limit` must be between 1 and {}", users::MAX_PAGE_SIZE),
        )
        .into());
    }
    let offset = number("offset", 0)?;
    let mut all = Vec::new();
    let mut groups: Vec<(String, Vec<Filter>)> = Vec::new();
    for (key, value) in params.pairs() {
        if LIST_KEYS.contains(&key.as_str()) {
            continue;
        }
        // `[or]key=v` / `[or:group]key=v`: conditions of one OR group.
        if let Some(rest) = key.strip_prefix("[or") {
            let (group, field) = rest
                .split_once(']')
                .ok_or_else(|| AppError::validation(key.clone(), "unbalanced `[or` prefix"))?;
            let cond = condition(field, value)?;
            match groups.iter_mut().find(|(g, _)| g == group) {
                Some((_, list)) => list.push(cond),
                None => groups.push((group.to_owned(), vec![cond])),
            }
            continue;
        }
        all.push(condition(key, value)?);
    }
    all.extend(groups.into_iter().map(|(_, list)| Filter::Or(list)));
    let sort_field = get("sort_by").or(get("sort"));
    let order = get("sort_order").or(get("order")).unwrap_or("desc");
    let descending = match order.to_ascii_lowercase().as_str() {
        "desc" => true,
        "asc" => false,
        _ => return Err(AppError::validation("order", "`order` must be asc or desc").into()),
    };
    let sort = match sort_field {
        Some(f) if !f.is_empty() => vec![Sort {
            field: Field::parse(f)?,
            descending,
        }],
        _ => vec![],
    };
    let filter = if all.is_empty() {
        None
    } else {
        Some(Filter::And(all))
    };
    if let Some(f) = &filter {
        f.validate()?;
    }
    Ok(UserQuery {
        collection: Some(DEFAULT_COLLECTION.into()),
        filter,
        sort,
        limit,
        offset,
        with_total: get("count") != Some("false"),
    })
}

/// `GET /auth-collections/users`: the secret key lists the project's users.
#[utoipa::path(get, path = "/auth-collections/users", security(("bearer" = [])),
    summary = "List users: `<field>_<op>` filters, `[or]` groups, sort/order, limit/offset, count",
    responses((status = 200, description = "`{data, users, total, limit, offset, has_more}`", body = Object), Errors<401, 403, 422>))]
pub async fn list_users(call: Coco, RawQuery(raw): RawQuery) -> Result<Json<Value>> {
    let svc = call.services();
    let project = call.caller.require_admin()?;
    let mut q = list_query(raw.as_deref())?;
    let limit = q.limit;
    // One more row tells whether there is a next page without a count.
    q.limit += 1;
    let mut page = users::query(&svc.db, &svc.catalog, &project.id, &q).await?;
    let has_more = page.items.len() as u64 > limit;
    page.items.truncate(limit as usize);
    let populate = populate_params(raw.as_deref());
    let mut items: Vec<Value> = if populate.is_empty() {
        page.items.iter().map(user_json).collect()
    } else {
        let coll = svc
            .catalog
            .collection_by_name(&svc.db, &project.id, DEFAULT_COLLECTION)
            .await?;
        populated(&call, &coll, &page.items, &populate).await?
    };
    urls::link_page(svc, &page.items, &mut items).await?;
    Ok(Json(json!({
        "data": items,
        "users": items,
        "total": page.total,
        "limit": limit,
        "offset": q.offset,
        "has_more": has_more,
    })))
}

/// The relations named by `populate` (repeatable, comma-separated, `*` for all).
fn populate_params(raw: Option<&str>) -> Vec<String> {
    QueryParams::parse(raw)
        .all("populate")
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Relation fields of a user that `populate` names (`*`: all of them).
fn populate_fields(coll: &Collection, user: &User, populate: &[String]) -> Vec<String> {
    if populate.iter().any(|p| p == "*") {
        users::relation_fields(coll, &user.data)
    } else {
        populate.to_vec()
    }
}

/// Users with their relations embedded under `data.<relation>`, loaded in one query.
async fn populated(
    call: &Coco,
    coll: &Collection,
    page: &[User],
    populate: &[String],
) -> Result<Vec<Value>> {
    let fields: Vec<Vec<String>> = page
        .iter()
        .map(|u| populate_fields(coll, u, populate))
        .collect();
    let mut profiles: Vec<(&Value, &str)> = Vec::new();
    for (u, fs) in page.iter().zip(&fields) {
        profiles.extend(fs.iter().map(|f| (&u.data, f.as_str())));
    }
    let (db, project_id) = (&call.services().db, &call.caller.project()?.id);
    // An administrator's list: every related user may be shown.
    let found = users::load_related(db, project_id, profiles, |_| true).await?;
    let embed = |id: &String| {
        found
            .get(id)
            .map(|r| json!({"id": r.id, "email": r.email, "data": r.data}))
    };
    Ok(page
        .iter()
        .zip(&fields)
        .map(|(u, fs)| {
            let mut v = user_json(u);
            for f in fs {
                let ids = users::relation_ids(&u.data, f);
                let value = if users::relation_is_many(&u.data, f) {
                    Value::Array(ids.iter().filter_map(embed).collect())
                } else {
                    ids.first().and_then(embed).unwrap_or(Value::Null)
                };
                if !ids.is_empty() {
                    v["data"][f.as_str()] = value;
                }
            }
            v
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operator_suffixes_take_the_longest_match() {
        assert_eq!(split_op("age_gte"), ("age".into(), Op::Gte));
        assert_eq!(split_op("email_icontains"), ("email".into(), Op::IContains));
        assert_eq!(split_op("city_notin"), ("city".into(), Op::NotIn));
        assert_eq!(
            split_op("referred_by_id_isnull"),
            ("referred_by_id".into(), Op::IsNull)
        );
        assert_eq!(split_op("city"), ("city".into(), Op::Eq));
    }

    #[test]
    fn list_parameters_become_one_filter() {
        let q = list_query(Some("city_in=NYC,LA&age_gte=25&[or]name_contains=Jo&[or]name_contains=An&sort_by=age&sort_order=asc&count=false")).unwrap();
        assert!(!q.with_total);
        assert_eq!(
            q.sort,
            vec![Sort {
                field: Field::Data(vec!["age".into()]),
                descending: false
            }]
        );
        let Some(Filter::And(parts)) = q.filter else {
            panic!("and")
        };
        assert_eq!(parts.len(), 3);
        assert_eq!(
            parts[0],
            Filter::cond(
                Field::Data(vec!["city".into()]),
                Op::In,
                json!(["NYC", "LA"])
            )
        );
        assert!(matches!(&parts[2], Filter::Or(v) if v.len() == 2));
        assert!(list_query(Some("limit=0")).is_err());
        assert!(list_query(Some("x_gt=1&order=sideways&sort=x")).is_err());
        assert!(list_query(Some("bad..path=1")).is_err());
    }
}

//! Reading users: by id, by field, by email, and filtered lists.
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
};

use entity::user;

use super::model::*;
use crate::domain::catalog::Catalog;
use crate::domain::collections::{Collection, FieldType};
use crate::domain::filter::{Field, Sort};
use crate::error::AppResult;
use crate::store;
use crate::store::keyset::{KeyValue, OrderKey};

/// The user's row, read after writing it inside `txn`: two changes to one
/// user's ways to sign in serialize there (a row lock on PostgreSQL, the
/// write lock on SQLite), so both cannot pass a count and leave no way in.
pub async fn lock_row(txn: &impl ConnectionTrait, user_id: &str) -> AppResult<user::Model> {
    let touched = user::Entity::update_many()
        .col_expr(
            user::Column::UpdatedAt,
            sea_orm::sea_query::Expr::col(user::Column::UpdatedAt).into(),
        )
        .filter(user::Column::Id.eq(user_id))
        .exec(txn)
        .await?;
    user::Entity::find_by_id(user_id)
        .one(txn)
        .await?
        .filter(|_| touched.rows_affected == 1)
        .ok_or(crate::error::AppError::NotFound("user"))
}

/// Loads a user of a project.
pub async fn get(db: &impl ConnectionTrait, project_id: &str, id: &str) -> AppResult<User> {
    let select = user::Entity::find_by_id(id).filter(user::Column::ProjectId.eq(project_id));
    store::found(select, db, "user").await
}

/// Loads users of a project by id, in one query.
pub async fn get_many(
    db: &impl ConnectionTrait,
    project_id: &str,
    ids: &[String],
) -> AppResult<std::collections::HashMap<String, User>> {
    if ids.is_empty() {
        return Ok(Default::default());
    }
    Ok(user::Entity::find()
        .filter(user::Column::ProjectId.eq(project_id))
        .filter(user::Column::Id.is_in(ids.iter().cloned()))
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.id.clone(), User::from(m)))
        .collect())
}

/// Counts the users a query matches (whatever its page).
pub async fn count_query(
    db: &DatabaseConnection,
    catalog: &Catalog,
    project_id: &str,
    q: &UserQuery,
) -> AppResult<u64> {
    let collection = collection_of(db, catalog, project_id, q).await?;
    let select = select(
        db.get_database_backend(),
        project_id,
        q,
        collection.as_ref(),
        None,
    )?;
    total(db, select).await
}

/// The total of a selection: `COUNT(*)` over a subquery that reads no
/// column, so an index that answers the conditions answers the count alone.
fn count_statement(
    select: sea_orm::Select<user::Entity>,
    backend: sea_orm::DbBackend,
) -> sea_orm::Statement {
    use sea_orm::{QuerySelect, QueryTrait, sea_query::Expr};
    let mut stmt = select
        .select_only()
        .column_as(Expr::cust("1"), "one")
        .build(backend);
    stmt.sql = format!(
        "SELECT COUNT(*) AS num_items FROM ({}) AS sub_query",
        stmt.sql
    );
    stmt
}

async fn total(db: &DatabaseConnection, select: sea_orm::Select<user::Entity>) -> AppResult<u64> {
    let stmt = count_statement(select, db.get_database_backend());
    let row = db.query_one_raw(stmt).await?;
    let n: i64 = match row {
        Some(row) => row.try_get("", "num_items")?,
        None => 0,
    };
    Ok(n.max(0) as u64)
}

/// The filtered selection of a query, without order or page, for a total or
/// for a page in the order of `keys` (`store::steer` writes the SQL for
/// each); `collection` is the query's, from [`collection_of`].
fn select(
    backend: sea_orm::DbBackend,
    project_id: &str,
    q: &UserQuery,
    collection: Option<&Collection>,
    page: Option<&[OrderKey]>,
) -> AppResult<sea_orm::Select<user::Entity>> {
    let select = user::Entity::find();
    let Some(c) = collection else {
        let select = select.filter(user::Column::ProjectId.eq(project_id));
        return Ok(match &q.filter {
            Some(f) => {
                let f = f.clone().resolve_relations(None);
                select.filter(store::filter::condition(backend, &f, &Default::default())?)
            }
            None => select,
        });
    };
    // A collection belongs to one project, so its id alone scopes the query
    // (and keeps counts inside the collection's indexes).
    let filter = q.filter.clone().map(|f| f.resolve_relations(Some(c)));
    let purpose = match page {
        Some(keys) => store::steer::Purpose::Page(keys.first().map(|k| &k.sort)),
        None => store::steer::Purpose::Count,
    };
    let condition = store::steer::in_collection(backend, c, filter.as_ref(), purpose)?;
    Ok(select.filter(condition))
}

/// The collection a query is limited to, if any.
async fn collection_of(
    db: &DatabaseConnection,
    catalog: &Catalog,
    project_id: &str,
    q: &UserQuery,
) -> AppResult<Option<Collection>> {
    match &q.collection {
        Some(name) => Ok(Some(
            catalog.collection_by_name(db, project_id, name).await?,
        )),
        None => Ok(None),
    }
}

/// Lists users of a project.
pub async fn query(
    db: &DatabaseConnection,
    catalog: &Catalog,
    project_id: &str,
    q: &UserQuery,
) -> AppResult<UserPage> {
    query_after(db, catalog, project_id, q, None)
        .await
        .map(|(page, _)| page)
}

/// Lists users of a project after the row whose order keys have `seek`'s
/// values (skipping `q.offset` more); with the keys of the list's order.
pub(super) async fn query_after(
    db: &DatabaseConnection,
    catalog: &Catalog,
    project_id: &str,
    q: &UserQuery,
    seek: Option<&[KeyValue]>,
) -> AppResult<(UserPage, Vec<OrderKey>)> {
    let backend = db.get_database_backend();
    let collection = collection_of(db, catalog, project_id, q).await?;
    let total = if q.with_total {
        let counted = select(backend, project_id, q, collection.as_ref(), None)?;
        Some(total(db, counted).await?)
    } else {
        None
    };
    let keys = order_keys(q, collection.as_ref());
    let select = select(backend, project_id, q, collection.as_ref(), Some(&keys))?;
    let select = ordered(select, backend, &keys, seek);
    let items = store::page(select, q.limit.min(MAX_PAGE_SIZE), q.offset, db)
        .await?
        .into_iter()
        .map(User::from)
        .collect();
    Ok((UserPage { items, total }, keys))
}

/// Finds a user of a collection by a profile field's string value.
pub async fn find_by_field(
    db: &impl ConnectionTrait,
    collection: &Collection,
    field: &str,
    value: &str,
) -> AppResult<Option<User>> {
    Ok(
        store::users::find_by_text_field(db, &collection.id, field, value)
            .await?
            .map(User::from),
    )
}

/// Finds a user of a collection by email.
pub async fn find_by_email(
    db: &impl ConnectionTrait,
    collection: &Collection,
    email: &str,
) -> AppResult<Option<User>> {
    let Ok((_, normalized)) = normalize_email(email) else {
        return Ok(None);
    };
    Ok(user::Entity::find()
        .filter(user::Column::CollectionId.eq(&collection.id))
        .filter(user::Column::EmailNormalized.eq(normalized))
        .one(db)
        .await?
        .map(User::from))
}

/// The keys of a query's order: its sort keys (newest first without any),
/// the id breaking ties.
pub(super) fn order_keys(q: &UserQuery, collection: Option<&Collection>) -> Vec<OrderKey> {
    let newest = [Sort {
        field: Field::CreatedAt,
        descending: true,
    }];
    let sort = if q.sort.is_empty() {
        &newest[..]
    } else {
        &q.sort
    };
    let id = Sort {
        field: Field::Id,
        descending: true,
    };
    sort.iter()
        .chain([&id])
        .map(|s| OrderKey {
            declared_number: match (&s.field, collection) {
                (Field::Data(path), Some(c)) if path.len() == 1 => c
                    .field(&path[0])
                    .is_some_and(|f| f.field_type == FieldType::Number),
                _ => false,
            },
            sort: s.clone(),
        })
        .collect()
}

/// A selection in the order of `keys`, after the row whose keys have the
/// values `seek` when given.
fn ordered(
    mut select: sea_orm::Select<user::Entity>,
    backend: sea_orm::DbBackend,
    keys: &[OrderKey],
    seek: Option<&[KeyValue]>,
) -> sea_orm::Select<user::Entity> {
    if let Some(values) = seek {
        select = select.filter(store::keyset::seek(backend, keys, values));
    }
    for k in keys {
        let order = if k.sort.descending {
            sea_orm::Order::Desc
        } else {
            sea_orm::Order::Asc
        };
        select = match k.nulls(backend) {
            Some(nulls) => select.order_by_with_nulls(k.expr(backend), order, nulls),
            None => select.order_by(k.expr(backend), order),
        };
    }
    select
}

/// The database's plan for a query's page, one line per step (`EXPLAIN QUERY
/// PLAN` on SQLite, `EXPLAIN` on PostgreSQL): for benchmarks and for tests
/// that an index is used.
pub async fn plan(
    db: &DatabaseConnection,
    catalog: &Catalog,
    project_id: &str,
    q: &UserQuery,
) -> AppResult<Vec<String>> {
    plan_after(db, catalog, project_id, q, None).await
}

/// The plan of a query's page after the row with the keys `seek`, as `plan`.
pub(super) async fn plan_after(
    db: &DatabaseConnection,
    catalog: &Catalog,
    project_id: &str,
    q: &UserQuery,
    seek: Option<&[KeyValue]>,
) -> AppResult<Vec<String>> {
    use sea_orm::QueryTrait;
    let backend = db.get_database_backend();
    let collection = collection_of(db, catalog, project_id, q).await?;
    let keys = order_keys(q, collection.as_ref());
    let select = select(backend, project_id, q, collection.as_ref(), Some(&keys))?;
    let select = ordered(select, backend, &keys, seek);
    let mut stmt = select.build(backend);
    stmt.sql = format!(
        "{} LIMIT {} OFFSET {}",
        stmt.sql,
        q.limit.min(MAX_PAGE_SIZE),
        q.offset
    );
    explain(db, stmt).await
}

/// The database's plan for a query's total, as `plan` shows a page's.
pub async fn count_plan(
    db: &DatabaseConnection,
    catalog: &Catalog,
    project_id: &str,
    q: &UserQuery,
) -> AppResult<Vec<String>> {
    let collection = collection_of(db, catalog, project_id, q).await?;
    let select = select(
        db.get_database_backend(),
        project_id,
        q,
        collection.as_ref(),
        None,
    )?;
    explain(db, count_statement(select, db.get_database_backend())).await
}

async fn explain(db: &DatabaseConnection, mut stmt: sea_orm::Statement) -> AppResult<Vec<String>> {
    let backend = db.get_database_backend();
    let (prefix, column) = match backend {
        sea_orm::DbBackend::Postgres => ("EXPLAIN ", "QUERY PLAN"),
        _ => ("EXPLAIN QUERY PLAN ", "detail"),
    };
    // A text of its own each time: a cached EXPLAIN would show the plan of
    // when it was first prepared.
    let nonce = crate::auth::keys::random_token(12);
    stmt.sql = format!("{prefix}{} /* {nonce} */", stmt.sql);
    // An EXPLAIN runs none of its statement, so it never notices that the
    // schema (or its statistics) changed since this connection read it; a read
    // first, in the same transaction, makes the connection catch up.
    let txn = sea_orm::TransactionTrait::begin(db).await?;
    let probe = sea_orm::Statement::from_string(backend, "SELECT 1 FROM users LIMIT 1".to_owned());
    txn.query_all_raw(probe).await?;
    let rows = txn.query_all_raw(stmt).await?;
    txn.commit().await?;
    rows.iter()
        .map(|r| r.try_get::<String>("", column).map_err(Into::into))
        .collect()
}

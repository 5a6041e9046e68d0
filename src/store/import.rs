//! Batched writes of imported users.
use std::collections::HashSet;

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, Set,
    TransactionTrait,
};
use serde_json::Value;

use entity::user;

use crate::error::AppResult;

/// A checked row, ready to insert (the import checks it).
pub struct NewUser {
    pub id: String,
    pub email: String,
    pub email_normalized: String,
    pub password_hash: String,
    pub verified: bool,
    pub disabled: bool,
    pub data: Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Which of a batch's emails and ids the collection already has.
#[derive(Default)]
pub struct Existing {
    pub emails: HashSet<String>,
    pub ids: HashSet<String>,
}

/// Looks a batch up in two queries (emails in the collection, ids anywhere).
pub async fn existing(
    db: &impl ConnectionTrait,
    collection_id: &str,
    users: &[NewUser],
) -> AppResult<Existing> {
    if users.is_empty() {
        return Ok(Existing::default());
    }
    let emails: Vec<String> = user::Entity::find()
        .select_only()
        .column(user::Column::EmailNormalized)
        .filter(user::Column::CollectionId.eq(collection_id))
        .filter(
            user::Column::EmailNormalized.is_in(users.iter().map(|u| u.email_normalized.as_str())),
        )
        .into_tuple()
        .all(db)
        .await?;
    let ids: Vec<String> = user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .filter(user::Column::Id.is_in(users.iter().map(|u| u.id.as_str())))
        .into_tuple()
        .all(db)
        .await?;
    Ok(Existing {
        emails: emails.into_iter().collect(),
        ids: ids.into_iter().collect(),
    })
}

/// Inserts a batch in one transaction: all of it or none.
pub async fn insert(
    db: &DatabaseConnection,
    project_id: &str,
    collection_id: &str,
    users: Vec<NewUser>,
) -> AppResult<()> {
    if users.is_empty() {
        return Ok(());
    }
    let rows = users.into_iter().map(|u| user::ActiveModel {
        id: Set(u.id),
        project_id: Set(project_id.to_owned()),
        collection_id: Set(collection_id.to_owned()),
        email: Set(u.email),
        email_normalized: Set(u.email_normalized),
        password_hash: Set(u.password_hash),
        data: Set(u.data),
        roles: Set(serde_json::json!(["user"])),
        verified: Set(u.verified),
        disabled: Set(u.disabled),
        token_version: Set(0),
        created_at: Set(u.created_at),
        updated_at: Set(u.updated_at),
    });
    let txn = db.begin().await?;
    user::Entity::insert_many(rows).exec(&txn).await?;
    txn.commit().await?;
    Ok(())
}

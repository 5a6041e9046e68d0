//! Batched writes of imported users.
use std::collections::HashSet;

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QuerySelect,
};

use entity::user;

use super::oauth::{NewIdentity, insert_identity_if_new};
use crate::error::AppResult;

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
    users: &[user::Model],
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

/// Inserts a batch and the users' provider identities in one transaction:
/// all of it or none. An identity already linked (to anyone) is left as it
/// is; returns how many identities were linked.
pub async fn insert(
    db: &DatabaseConnection,
    users: Vec<user::Model>,
    identities: Vec<NewIdentity<'_>>,
) -> AppResult<u64> {
    if users.is_empty() {
        return Ok(0);
    }
    let rows = users
        .into_iter()
        .map(|u| user::ActiveModel::from(u).reset_all());
    let txn = crate::store::begin_write(db).await?;
    user::Entity::insert_many(rows).exec(&txn).await?;
    let mut linked = 0;
    for identity in identities {
        linked += u64::from(insert_identity_if_new(&txn, identity).await?);
    }
    txn.commit().await?;
    Ok(linked)
}

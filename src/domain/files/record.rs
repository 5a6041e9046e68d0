//! The rows of stored files, written in the transaction that changes the
//! profile: the new files' rows go in, and the rows of names the profile no
//! longer holds go out; their objects are deleted once that commits.
use std::collections::HashMap;

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde_json::Value;

use entity::file;

use super::changes::names_in;
use super::staging::NewFile;
use crate::error::AppResult;

/// Whose files: the user, its project and collection.
pub struct Owner<'a> {
    pub user_id: &'a str,
    pub project_id: &'a str,
    pub collection_id: &'a str,
}

/// Inserts the rows of `files` and removes those the profile `data_after`
/// no longer names; returns the storage keys to delete after the commit.
pub async fn record_in(
    txn: &impl ConnectionTrait,
    owner: &Owner<'_>,
    files: &[NewFile],
    data_after: &Value,
) -> AppResult<Vec<String>> {
    let now = Utc::now();
    for f in files {
        file::ActiveModel {
            id: Set(f.id.clone()),
            project_id: Set(owner.project_id.to_owned()),
            collection_id: Set(owner.collection_id.to_owned()),
            user_id: Set(owner.user_id.to_owned()),
            field: Set(f.field.clone()),
            name: Set(f.name.clone()),
            storage_key: Set(f.storage_key.clone()),
            original_name: Set(f.original_name.clone()),
            size: Set(f.size as i64),
            content_type: Set(f.content_type.clone()),
            created_at: Set(now),
        }
        .insert(txn)
        .await?;
    }
    let rows = file::Entity::find()
        .filter(file::Column::UserId.eq(owner.user_id))
        .all(txn)
        .await?;
    let mut obsolete = vec![];
    for row in rows {
        if !names_in(data_after.get(&row.field)).contains(&row.name) {
            obsolete.push(row.storage_key.clone());
            file::Entity::delete_by_id(row.id).exec(txn).await?;
        }
    }
    Ok(obsolete)
}

/// Removes every file row of a user; returns their storage keys.
pub async fn remove_all(txn: &impl ConnectionTrait, user_id: &str) -> AppResult<Vec<String>> {
    let rows = file::Entity::find()
        .filter(file::Column::UserId.eq(user_id))
        .all(txn)
        .await?;
    file::Entity::delete_many()
        .filter(file::Column::UserId.eq(user_id))
        .exec(txn)
        .await?;
    Ok(rows.into_iter().map(|r| r.storage_key).collect())
}

/// One file of a record, by its name.
pub async fn find(
    db: &impl ConnectionTrait,
    project_id: &str,
    user_id: &str,
    name: &str,
) -> AppResult<Option<file::Model>> {
    Ok(file::Entity::find()
        .filter(file::Column::ProjectId.eq(project_id))
        .filter(file::Column::UserId.eq(user_id))
        .filter(file::Column::Name.eq(name))
        .one(db)
        .await?)
}

/// The fields that hold files of a user (declared or not).
pub async fn fields_of(db: &impl ConnectionTrait, user_id: &str) -> AppResult<Vec<String>> {
    let rows = file::Entity::find()
        .filter(file::Column::UserId.eq(user_id))
        .all(db)
        .await?;
    let mut fields: Vec<String> = rows.into_iter().map(|r| r.field).collect();
    fields.sort();
    fields.dedup();
    Ok(fields)
}

/// A stored file of a user, as loaded for many users at once.
#[derive(Clone, Debug)]
pub struct StoredFile {
    pub field: String,
    pub name: String,
    pub size: u64,
    pub content_type: String,
}

/// The stored files of users, by user id, in one query.
pub async fn by_user(
    db: &impl ConnectionTrait,
    user_ids: Vec<String>,
) -> AppResult<HashMap<String, Vec<StoredFile>>> {
    let mut out: HashMap<String, Vec<StoredFile>> = HashMap::new();
    if user_ids.is_empty() {
        return Ok(out);
    }
    let rows = file::Entity::find()
        .filter(file::Column::UserId.is_in(user_ids))
        .all(db)
        .await?;
    for r in rows {
        out.entry(r.user_id).or_default().push(StoredFile {
            field: r.field,
            name: r.name,
            size: r.size.max(0) as u64,
            content_type: r.content_type,
        });
    }
    Ok(out)
}

/// `fields_of` for many users in one query: user id to the fields of its files.
pub async fn fields_by_user(
    db: &impl ConnectionTrait,
    user_ids: Vec<String>,
) -> AppResult<HashMap<String, Vec<String>>> {
    let files = by_user(db, user_ids).await?;
    Ok(files
        .into_iter()
        .map(|(user, files)| {
            let mut fields: Vec<String> = vec![];
            for f in files {
                if !fields.contains(&f.field) {
                    fields.push(f.field);
                }
            }
            (user, fields)
        })
        .collect())
}

//! Per-request dataloaders: relations resolve in one query per batch, whatever
//! the page size. Created for each request, so their caches die with it.
use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::Data;
use async_graphql::dataloader::{DataLoader, Loader};
use sea_orm::DatabaseConnection;

use crate::domain::catalog::Catalog;
use crate::domain::collections::Collection;
use crate::domain::files::record::{self as file_rows, StoredFile};
use crate::domain::filter::{Field, Filter, Op};
use crate::domain::users::{self, User, UserQuery};
use crate::error::AppError;

/// What the loaders of one request read from: the database, the catalog, and
/// the project of the caller's key (empty without one).
#[derive(Clone)]
pub struct Scope {
    pub db: DatabaseConnection,
    pub catalog: Catalog,
    pub project_id: String,
}

impl Scope {
    /// Puts fresh loaders for one request into its data.
    pub fn insert_loaders(self, data: &mut Data) {
        data.insert(DataLoader::new(UserLoader(self.clone()), tokio::spawn));
        data.insert(DataLoader::new(ReverseLoader(self.clone()), tokio::spawn));
        data.insert(DataLoader::new(FileLoader(self.clone()), tokio::spawn));
        data.insert(DataLoader::new(CollectionLoader(self), tokio::spawn));
    }
}

/// Users by id, within the project.
pub struct UserLoader(Scope);

impl Loader<String> for UserLoader {
    type Value = User;
    type Error = Arc<AppError>;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, User>, Self::Error> {
        // The same batched load every door's relation expansion uses.
        users::get_many(&self.0.db, &self.0.project_id, keys)
            .await
            .map_err(Arc::new)
    }
}

/// The stored files of users, by user id, in one query per batch.
pub struct FileLoader(Scope);

impl Loader<String> for FileLoader {
    type Value = Vec<StoredFile>;
    type Error = Arc<AppError>;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Vec<StoredFile>>, Self::Error> {
        file_rows::by_user(&self.0.db, keys.to_vec())
            .await
            .map_err(Arc::new)
    }
}

/// Collections by id (for declared fields and public flags), through the catalog cache.
pub struct CollectionLoader(Scope);

impl Loader<String> for CollectionLoader {
    type Value = Collection;
    type Error = Arc<AppError>;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Collection>, Self::Error> {
        // A request touches one or two collections; each is usually cached.
        let mut out = HashMap::new();
        for id in keys {
            match self.0.catalog.collection(&self.0.db, id).await {
                Ok(c) => {
                    out.insert(id.clone(), c);
                }
                Err(AppError::NotFound(_)) => {}
                Err(e) => return Err(Arc::new(e)),
            }
        }
        Ok(out)
    }
}

/// Key of a reverse relation: the users whose profile field `field` (or
/// `field_id`) holds `target`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ReverseKey {
    pub field: String,
    pub target: String,
}

/// Reverse relations, one query per field for a whole batch of targets.
pub struct ReverseLoader(Scope);

/// Cap on the users returned per reverse relation.
pub const MAX_REVERSE: u64 = 500;

impl Loader<ReverseKey> for ReverseLoader {
    type Value = Vec<User>;
    type Error = Arc<AppError>;

    async fn load(
        &self,
        keys: &[ReverseKey],
    ) -> Result<HashMap<ReverseKey, Vec<User>>, Self::Error> {
        let Scope {
            db,
            catalog,
            project_id,
        } = &self.0;
        let mut by_field: HashMap<&str, Vec<&str>> = HashMap::new();
        for k in keys {
            by_field
                .entry(k.field.as_str())
                .or_default()
                .push(k.target.as_str());
        }
        let mut out: HashMap<ReverseKey, Vec<User>> =
            keys.iter().map(|k| (k.clone(), Vec::new())).collect();
        for (field, targets) in by_field {
            let id_field = format!("{field}_id");
            let ids = serde_json::Value::from(targets.clone());
            let filter = Filter::Or(vec![
                Filter::cond(Field::Data(vec![field.to_owned()]), Op::In, ids.clone()),
                Filter::cond(Field::Data(vec![id_field.clone()]), Op::In, ids),
            ]);
            let q = UserQuery {
                filter: Some(filter),
                limit: users::MAX_PAGE_SIZE,
                ..Default::default()
            };
            let page = users::query(db, catalog, project_id, &q)
                .await
                .map_err(Arc::new)?;
            for u in page.items {
                let points_to = u
                    .data
                    .get(field)
                    .or_else(|| u.data.get(&id_field))
                    .and_then(|v| v.as_str())
                    .map(str::to_owned);
                if let Some(target) = points_to {
                    let key = ReverseKey {
                        field: field.to_owned(),
                        target,
                    };
                    if let Some(list) = out.get_mut(&key) {
                        if (list.len() as u64) < MAX_REVERSE {
                            list.push(u);
                        }
                    }
                }
            }
        }
        Ok(out)
    }
}

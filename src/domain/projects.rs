//! Projects (tenants) and their API keys.
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, Set,
};
use serde::Serialize;

use entity::{collection, project};

use super::collections::{CollectionSettings, DEFAULT_COLLECTION};
use crate::auth::keys::{self, KeyKind};
use crate::error::{AppError, AppResult};

/// A project as the domain shows it (never with key hashes).
#[derive(Clone, Debug, Serialize)]
pub struct Project {
    pub id: String,
    pub slug: String,
    pub name: String,
    /// Browser origins allowed to call with credentials (see `domain::cors`).
    pub cors_origins: Vec<String>,
    pub created_at: chrono::DateTime<Utc>,
}

impl From<project::Model> for Project {
    fn from(m: project::Model) -> Self {
        Self {
            id: m.id,
            slug: m.slug,
            name: m.name,
            cors_origins: super::cors::stored(m.cors_origins.as_deref()),
            created_at: m.created_at,
        }
    }
}

impl Project {
    /// Whether `origin` (the request's `Origin` header) may send credentials.
    pub fn allows_credentials(&self, origin: &str) -> bool {
        super::cors::listed(&self.cors_origins, origin)
    }
}

/// A created project with its keys, which are shown only this once.
#[derive(Clone, Debug, Serialize)]
pub struct CreatedProject {
    pub project: Project,
    pub publishable_key: String,
    pub secret_key: String,
}

/// A slug from a name: lowercase letters, digits and `-`.
pub fn slugify(name: &str) -> String {
    let mut out = String::new();
    for c in name.trim().chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').chars().take(48).collect()
}

/// Creates a project with a `users` collection and fresh keys.
pub async fn create(
    db: &DatabaseConnection,
    name: &str,
    slug: Option<&str>,
) -> AppResult<CreatedProject> {
    let name = name.trim();
    if name.is_empty() || name.len() > 100 {
        return Err(AppError::validation(
            "name",
            "project name must be 1-100 characters",
        ));
    }
    let slug = slug.map(str::to_owned).unwrap_or_else(|| slugify(name));
    if slug.is_empty() || slug != slugify(&slug) {
        return Err(AppError::validation(
            "slug",
            "slug must be lowercase letters, digits and single dashes",
        ));
    }
    let publishable_key = keys::generate(KeyKind::Publishable);
    let secret_key = keys::generate(KeyKind::Secret);
    let now = Utc::now();
    let txn = crate::store::begin_write(db).await?;
    if project::Entity::find()
        .filter(project::Column::Slug.eq(&slug))
        .count(&txn)
        .await?
        > 0
    {
        return Err(AppError::Conflict("slug".into()));
    }
    let model = project::ActiveModel {
        id: Set(keys::new_id()),
        slug: Set(slug),
        name: Set(name.to_owned()),
        publishable_key_hash: Set(keys::hash(&publishable_key)),
        secret_key_hash: Set(keys::hash(&secret_key)),
        cors_origins: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    collection::ActiveModel {
        id: Set(keys::new_id()),
        project_id: Set(model.id.clone()),
        name: Set(DEFAULT_COLLECTION.into()),
        settings: Set(
            serde_json::to_value(CollectionSettings::default()).map_err(AppError::internal)?
        ),
        fields: Set(serde_json::json!([])),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(CreatedProject {
        project: model.into(),
        publishable_key,
        secret_key,
    })
}

/// Replaces both keys of a project; the old ones stop working at once.
pub async fn rotate_keys(db: &impl ConnectionTrait, slug: &str) -> AppResult<CreatedProject> {
    let model = find_model_by_slug(db, slug).await?;
    let publishable_key = keys::generate(KeyKind::Publishable);
    let secret_key = keys::generate(KeyKind::Secret);
    let mut active: project::ActiveModel = model.into();
    active.publishable_key_hash = Set(keys::hash(&publishable_key));
    active.secret_key_hash = Set(keys::hash(&secret_key));
    active.updated_at = Set(Utc::now());
    let model = active.update(db).await?;
    Ok(CreatedProject {
        project: model.into(),
        publishable_key,
        secret_key,
    })
}

async fn find_model_by_slug(db: &impl ConnectionTrait, slug: &str) -> AppResult<project::Model> {
    crate::store::unique(
        project::Entity::find().filter(project::Column::Slug.eq(slug)),
        db,
    )
    .await?
    .ok_or(AppError::NotFound("project"))
}

/// Finds a project by slug.
pub async fn find_by_slug(db: &impl ConnectionTrait, slug: &str) -> AppResult<Project> {
    find_model_by_slug(db, slug).await.map(Into::into)
}

/// Finds a project by id.
pub async fn get(db: &impl ConnectionTrait, id: &str) -> AppResult<Project> {
    crate::store::found(project::Entity::find_by_id(id), db, "project").await
}

/// Resolves an API key to its project and kind. Unknown keys are `Unauthenticated`.
pub async fn authenticate_key(
    db: &impl ConnectionTrait,
    key: &str,
) -> AppResult<(Project, KeyKind)> {
    let kind = KeyKind::of(key).ok_or(AppError::Unauthenticated)?;
    let digest = keys::hash(key);
    let column = match kind {
        KeyKind::Publishable => project::Column::PublishableKeyHash,
        KeyKind::Secret => project::Column::SecretKeyHash,
    };
    let model = crate::store::unique(project::Entity::find().filter(column.eq(&digest)), db)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    let stored = match kind {
        KeyKind::Publishable => &model.publishable_key_hash,
        KeyKind::Secret => &model.secret_key_hash,
    };
    // The lookup is by digest; compare again in constant time so that a collation
    // quirk of the database can never let a different key through.
    if !keys::ct_eq(stored, &digest) {
        return Err(AppError::Unauthenticated);
    }
    Ok((model.into(), kind))
}

/// On first start with an empty database, creates the `default` project.
pub async fn ensure_default(db: &DatabaseConnection) -> AppResult<Option<CreatedProject>> {
    if project::Entity::find().count(db).await? > 0 {
        return Ok(None);
    }
    match create(db, "Default", Some("default")).await {
        Ok(created) => Ok(Some(created)),
        // Another instance created it at the same moment.
        Err(AppError::Conflict(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::slugify;

    #[test]
    fn slugs_are_lowercase_and_dashed() {
        assert_eq!(slugify("  My Cool App! "), "my-cool-app");
        assert_eq!(slugify("default"), "default");
        assert_eq!(slugify("!!!"), "");
    }
}

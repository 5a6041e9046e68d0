//! `authgraph apply FILE`: a declarative project file, applied idempotently.
//!
//! ```toml
//! [project]
//! slug = "shop"
//! name = "Shop"
//! cors_origins = ["https://app.example.com"]  # browser origins sent credentials
//!
//! [[collections]]
//! name = "users"
//! min_password_length = 10
//! access_token_ttl_secs = 3600
//! allow_undeclared_fields = false
//! second_factor = "optional"        # or "required" (everyone)
//! second_factor_roles = ["admin"]   # required for these roles
//! mfa = false                       # PocketBase MFA: two different methods
//! mfa_duration_secs = 1800
//!
//! oauth2_link_by_email = false      # join an account with the same, verified email
//! oauth2_site_url = "https://app.example.com"  # where server-side callbacks end (urBackend)
//!
//! [[collections.oauth2]]            # sign-in providers (see domain::oauth::config)
//! name = "google"
//! provider = "google"               # google | apple | github | oidc
//! client_id = "…"
//! client_secret_env = "GOOGLE_CLIENT_SECRET"
//! redirect_urls = ["https://app.example.com/callback"]
//!
//! [[collections.fields]]
//! name = "username"
//! type = "text"
//! unique = true
//! public = true
//! ```
use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};

use entity::collection;

use super::collections::{self, Collection, CollectionSettings, FieldDecl, FieldType};
use super::projects::{self, CreatedProject};
use crate::auth::keys;
use crate::error::{AppError, AppResult};
use crate::store;

/// The whole file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectFile {
    pub project: ProjectSection,
    #[serde(default)]
    pub collections: Vec<CollectionSection>,
}

/// `[project]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectSection {
    pub slug: String,
    pub name: Option<String>,
    /// Browser origins allowed to call with credentials; absent: unchanged.
    pub cors_origins: Option<Vec<String>>,
}

/// `CollectionSection` and its `resolve`, from one list of the settings a
/// section may give (each optional there, of its [`CollectionSettings`] type).
macro_rules! collection_section {
    ($($(#[$doc:meta])* $field:ident: $ty:ty,)+) => {
        /// One `[[collections]]` entry: its name, settings (missing ones take
        /// the defaults) and fields.
        #[derive(Clone, Debug, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct CollectionSection {
            pub name: String,
            $($(#[$doc])* pub $field: Option<$ty>,)+
            #[serde(default)]
            pub fields: Vec<FieldDecl>,
        }

        impl CollectionSection {
            /// Each setting the section gives, else the default.
            fn resolve(&self) -> CollectionSettings {
                let d = CollectionSettings::default();
                CollectionSettings { $($field: self.$field.clone().unwrap_or(d.$field)),+ }
            }
        }
    };
}

collection_section! {
    min_password_length: usize,
    access_token_ttl_secs: i64,
    refresh_token_ttl_secs: i64,
    long_lived_access_token_ttl_secs: i64,
    allow_undeclared_fields: bool,
    second_factor: collections::SecondFactorPolicy,
    second_factor_roles: Vec<String>,
    mfa: bool,
    mfa_duration_secs: i64,
    indexes: Vec<collections::IndexDecl>,
    oauth2: Vec<super::oauth::config::OAuth2Decl>,
    oauth2_link_by_email: bool,
    /// Doubly optional like the other settings (absent: the default, `None`).
    oauth2_site_url: Option<String>,
}

/// What `apply` did.
#[derive(Clone, Debug, Serialize)]
pub struct ApplyReport {
    /// Keys of a project the file created (shown only this once).
    pub created_project: Option<CreatedProject>,
    pub created_collections: Vec<String>,
    pub updated_collections: Vec<String>,
    pub unchanged_collections: Vec<String>,
}

/// Parses a project file.
pub fn parse(text: &str) -> AppResult<ProjectFile> {
    let file: ProjectFile =
        toml::from_str(text).map_err(|e| AppError::validation("file", e.message()))?;
    validate(&file)?;
    Ok(file)
}

fn validate(file: &ProjectFile) -> AppResult<()> {
    for origin in file.project.cors_origins.iter().flatten() {
        super::cors::parse_origin(origin)?;
    }
    let mut names = std::collections::HashSet::new();
    for c in &file.collections {
        collections::check_name("collection", &c.name)?;
        if !names.insert(&c.name) {
            return Err(AppError::validation(
                "collections",
                format!("collection `{}` is declared twice", c.name),
            ));
        }
        let s = c.resolve();
        if !(1..=1024).contains(&s.min_password_length) {
            return Err(AppError::validation(
                "min_password_length",
                "must be between 1 and 1024",
            ));
        }
        for (name, v) in [
            ("access_token_ttl_secs", s.access_token_ttl_secs),
            ("refresh_token_ttl_secs", s.refresh_token_ttl_secs),
            (
                "long_lived_access_token_ttl_secs",
                s.long_lived_access_token_ttl_secs,
            ),
        ] {
            if !(60..=400 * 24 * 3600).contains(&v) {
                return Err(AppError::validation(
                    name,
                    format!("{name} must be between 60 s and 400 days"),
                ));
            }
        }
        let mut fields = std::collections::HashSet::new();
        for f in &c.fields {
            super::profile::check_key(&f.name)?;
            collections::check_name("field", &f.name)?;
            super::files::rules::check_decl(f)?;
            if !fields.insert(&f.name) {
                return Err(AppError::validation(
                    f.name.clone(),
                    format!("field `{}` is declared twice", f.name),
                ));
            }
            match (f.field_type, &f.collection) {
                (FieldType::Relation, None) => {
                    return Err(AppError::validation(
                        f.name.clone(),
                        "a relation names its target `collection`",
                    ));
                }
                (FieldType::Relation, Some(target)) => {
                    collections::check_name("collection", target)?
                }
                (_, Some(_)) => {
                    return Err(AppError::validation(
                        f.name.clone(),
                        "only relations name a `collection`",
                    ));
                }
                _ => {}
            }
            if f.many && !matches!(f.field_type, FieldType::Relation | FieldType::File) {
                return Err(AppError::validation(
                    f.name.clone(),
                    "only relations and files can be `many`",
                ));
            }
        }
        for index in c.indexes.iter().flatten() {
            check_index(c, index)?;
        }
        if let Some(Some(url)) = &c.oauth2_site_url {
            super::oauth::config::check_url("oauth2_site_url", url)?;
        }
        let mut providers = std::collections::HashSet::new();
        for p in c.oauth2.iter().flatten() {
            p.check()?;
            if !providers.insert(&p.name) {
                return Err(AppError::validation(
                    "oauth2",
                    format!("provider `{}` is declared twice", p.name),
                ));
            }
        }
    }
    Ok(())
}

/// A composite index names 2 to 4 different declared fields of scalar types.
fn check_index(c: &CollectionSection, index: &collections::IndexDecl) -> AppResult<()> {
    let what = format!("index ({})", index.fields.join(", "));
    if !(2..=4).contains(&index.fields.len()) {
        return Err(AppError::validation(
            "indexes",
            format!("{what}: an index names 2 to 4 fields (one field: `indexed = true`)"),
        ));
    }
    for (i, name) in index.fields.iter().enumerate() {
        if index.fields[..i].contains(name) {
            return Err(AppError::validation(
                "indexes",
                format!("{what}: `{name}` is named twice"),
            ));
        }
        let scalar = c.fields.iter().find(|f| &f.name == name).is_some_and(|f| {
            matches!(
                f.field_type,
                FieldType::Text | FieldType::Number | FieldType::Bool
            ) || (f.field_type == FieldType::Relation && !f.many)
        });
        if !scalar {
            return Err(AppError::validation(
                "indexes",
                format!(
                    "{what}: `{name}` is not a declared text, number, bool or single relation field"
                ),
            ));
        }
    }
    Ok(())
}

/// Applies the file: creates the project if missing, creates or updates the
/// named collections and their indexes. Collections not named are left alone.
/// Applies a project file through this process's services: the catalog cache
/// forgets what it held, so the change takes effect here at once.
pub async fn apply_with(
    svc: &super::services::Services,
    file: &ProjectFile,
) -> AppResult<ApplyReport> {
    let report = apply(&svc.db, file).await;
    svc.catalog.clear();
    report
}

/// Applies a project file to a database (`authgraph apply`); running servers
/// see the change within their catalog TTL.
pub async fn apply(db: &DatabaseConnection, file: &ProjectFile) -> AppResult<ApplyReport> {
    let mut report = ApplyReport {
        created_project: None,
        created_collections: vec![],
        updated_collections: vec![],
        unchanged_collections: vec![],
    };
    let project = match projects::find_by_slug(db, &file.project.slug).await {
        Ok(p) => p,
        Err(AppError::NotFound(_)) => {
            let name = file
                .project
                .name
                .clone()
                .unwrap_or_else(|| file.project.slug.clone());
            let created = projects::create(db, &name, Some(&file.project.slug)).await?;
            let p = created.project.clone();
            report.created_project = Some(created);
            p
        }
        Err(e) => return Err(e),
    };
    if let Some(origins) = &file.project.cors_origins {
        super::cors::set_origins(db, &project.id, origins).await?;
    }
    for section in &file.collections {
        if let Some(target) = section
            .fields
            .iter()
            .filter_map(|f| f.collection.as_ref())
            .find(|t| !file.collections.iter().any(|c| &c.name == *t) && *t != &section.name)
        {
            if collections::find(db, &project.id, target).await.is_err() {
                return Err(AppError::validation(
                    target.clone(),
                    format!("relation target `{target}` does not exist"),
                ));
            }
        }
        let settings = section.resolve();
        let settings_json = serde_json::to_value(&settings).map_err(AppError::internal)?;
        let fields_json = serde_json::to_value(&section.fields).map_err(AppError::internal)?;
        let now = Utc::now();
        let existing = collection::Entity::find()
            .filter(collection::Column::ProjectId.eq(&project.id))
            .filter(collection::Column::Name.eq(&section.name))
            .one(db)
            .await?;
        let model = match existing {
            Some(m) if m.settings == settings_json && m.fields == fields_json => {
                report.unchanged_collections.push(section.name.clone());
                m
            }
            Some(m) => {
                let mut active: collection::ActiveModel = m.into();
                active.settings = Set(settings_json);
                active.fields = Set(fields_json);
                active.updated_at = Set(now);
                report.updated_collections.push(section.name.clone());
                active.update(db).await?
            }
            None => {
                report.created_collections.push(section.name.clone());
                collection::ActiveModel {
                    id: Set(keys::new_id()),
                    project_id: Set(project.id.clone()),
                    name: Set(section.name.clone()),
                    settings: Set(settings_json),
                    fields: Set(fields_json),
                    created_at: Set(now),
                    updated_at: Set(now),
                }
                .insert(db)
                .await?
            }
        };
        let collection = Collection::from_model(model)?;
        store::indexes::sync(db, &collection).await?;
    }
    Ok(report)
}

/// Brings every collection's indexes in step with its declarations: after
/// migrations, so that an index whose expression changed between versions
/// (its name says how it is built) is rebuilt before the first query needs it.
/// Nothing is written when all are current. Then the planner's statistics
/// are brought up to date where they are missing or stale (after an import,
/// or growth while the server was down).
pub async fn sync_all_indexes(db: &DatabaseConnection) -> AppResult<()> {
    for model in collection::Entity::find().all(db).await? {
        store::indexes::sync(db, &Collection::from_model(model)?).await?;
    }
    store::indexes::refresh_stale_statistics(db).await
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn files_parse_and_bad_ones_name_the_problem() {
        let ok = parse(
            r#"
            [project]
            slug = "shop"
            [[collections]]
            name = "users"
            min_password_length = 10
            [[collections.fields]]
            name = "username"
            type = "text"
            unique = true
            "#,
        )
        .unwrap();
        assert_eq!(ok.collections[0].fields[0].name, "username");
        let err = parse("[project]\nslug='x'\n[[collections]]\nname='users'\n[[collections.fields]]\nname='r'\ntype='relation'\n")
            .unwrap_err();
        assert_eq!(err.field(), Some("r"));
        assert!(parse("[project]\nslug='x'\nbogus=1\n").is_err());
    }

    #[test]
    fn oauth2_providers_are_checked_and_their_secret_never_prints() {
        let base = "[project]\nslug='x'\n[[collections]]\nname='users'\n[[collections.oauth2]]\nname='p'\nclient_id='c'\n";
        let with = |rest: &str| parse(&format!("{base}{rest}"));
        let ok = with("provider='google'\nclient_secret='hunter2-hunter2'\nredirect_urls=['https://a.test/cb']\n")
            .unwrap();
        assert!(!format!("{ok:?}").contains("hunter2"));
        for bad in [
            "provider='oidc'\nclient_secret='s'\nredirect_urls=['https://a.test/cb']\n",
            "provider='github'\nredirect_urls=['https://a.test/cb']\n",
            "provider='github'\nclient_secret='s'\nclient_secret_env='S'\nredirect_urls=['https://a.test/cb']\n",
            "provider='github'\nclient_secret='s'\n",
            "provider='github'\nclient_secret='s'\nredirect_urls=['not a url']\n",
            "provider='facebook'\nclient_secret='s'\nredirect_urls=['https://a.test/cb']\n",
        ] {
            assert!(with(bad).is_err(), "{bad}");
        }
    }
}

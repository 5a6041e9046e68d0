//! Auth collections: settings and declared profile fields.
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};

use entity::collection;

use crate::error::{AppError, AppResult};

/// Per-collection settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CollectionSettings {
    /// Minimum password length in characters.
    pub min_password_length: usize,
    /// Lifetime of access tokens in seconds (clients that refresh).
    pub access_token_ttl_secs: i64,
    /// Absolute lifetime of a session's refresh tokens in seconds.
    pub refresh_token_ttl_secs: i64,
    /// Lifetime of access tokens for clients without refresh tokens (Cocobase,
    /// PocketBase); still revocable at once through their session.
    pub long_lived_access_token_ttl_secs: i64,
    /// Whether profile keys that are not declared are accepted.
    pub allow_undeclared_fields: bool,
    /// Who must have a second factor: `optional` (default) or `required`
    /// (everyone; users without one are asked to enrol after the first factor).
    pub second_factor: SecondFactorPolicy,
    /// Roles whose users must have a second factor even when it is optional.
    pub second_factor_roles: Vec<String>,
    /// PocketBase's MFA: a log-in takes two different methods (password and
    /// a mailed code, or a second factor).
    pub mfa: bool,
    /// How long the first method of an MFA log-in waits for the second, in seconds.
    pub mfa_duration_secs: i64,
    /// Indexes over several declared fields (`[[collections.indexes]]`).
    pub indexes: Vec<IndexDecl>,
    /// Sign-in providers (`[[collections.oauth2]]`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub oauth2: Vec<super::oauth::config::OAuth2Decl>,
    /// Whether a first OAuth2 sign-in joins an existing account with the same
    /// email (only when the provider says it verified the address).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub oauth2_link_by_email: bool,
    /// The app's URL, where sign-ins whose callback is this server's own URL
    /// send the browser at the end (urBackend's `<site>/auth/callback`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oauth2_site_url: Option<String>,
}

/// An index over several declared fields, in order: equalities on its
/// leading fields and a range or the list order on the next one use it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexDecl {
    pub fields: Vec<String>,
    #[serde(default)]
    pub unique: bool,
}

/// Whether users of a collection must have a second factor.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecondFactorPolicy {
    #[default]
    Optional,
    Required,
}

impl CollectionSettings {
    /// Whether `roles` must have a second factor in this collection.
    pub fn second_factor_required(&self, roles: &[String]) -> bool {
        self.second_factor == SecondFactorPolicy::Required
            || roles.iter().any(|r| self.second_factor_roles.contains(r))
    }
}

impl Default for CollectionSettings {
    fn default() -> Self {
        Self {
            min_password_length: 8,
            access_token_ttl_secs: 15 * 60,
            refresh_token_ttl_secs: 7 * 24 * 3600,
            long_lived_access_token_ttl_secs: 30 * 24 * 3600,
            allow_undeclared_fields: true,
            second_factor: SecondFactorPolicy::Optional,
            second_factor_roles: vec![],
            mfa: false,
            // PocketBase's default.
            mfa_duration_secs: 1800,
            indexes: vec![],
            oauth2: vec![],
            oauth2_link_by_email: false,
            oauth2_site_url: None,
        }
    }
}

/// The type of a declared profile field.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    #[default]
    Text,
    Number,
    Bool,
    Json,
    Relation,
    File,
}

/// A declared profile field. Absent options are left out when it is written
/// back.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldDecl {
    pub name: String,
    #[serde(rename = "type")]
    pub field_type: FieldType,
    /// Target collection name of a relation.
    pub collection: Option<String>,
    /// A relation to many users (an array of ids) rather than one.
    #[serde(default)]
    pub many: bool,
    #[serde(default)]
    pub indexed: bool,
    #[serde(default)]
    pub unique: bool,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub public: bool,
    /// File fields: the largest file in bytes (default 5 MiB, at most 50 MiB).
    pub max_size: Option<u64>,
    /// File fields: accepted media types, `image/*` patterns allowed
    /// (default: images, PDF, Word). Checked against the file's bytes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mime_types: Vec<String>,
    /// File fields with `many = true`: the most files (default 99).
    pub max_select: Option<u32>,
    /// File fields: readable only with a file token of someone who may view the record.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub protected: bool,
    /// File fields: thumbnail sizes served besides `100x100` (e.g. `0x50`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub thumbs: Vec<String>,
}

impl FieldDecl {
    /// Whether values of this field are arrays (`$append`/`$remove` apply).
    pub fn is_array(&self) -> bool {
        matches!(self.field_type, FieldType::Json)
            || (matches!(self.field_type, FieldType::Relation | FieldType::File) && self.many)
    }

    /// Checks one value against the declared type; `null` is always well-typed.
    pub fn check_value(&self, value: &serde_json::Value) -> AppResult<()> {
        use serde_json::Value as V;
        let ok = match (self.field_type, value) {
            (_, V::Null) => true,
            (FieldType::Text, V::String(_)) => true,
            (FieldType::File, V::String(_)) if !self.many => true,
            (FieldType::File, V::Array(items)) if self.many => items.iter().all(V::is_string),
            (FieldType::Number, V::Number(_)) => true,
            (FieldType::Bool, V::Bool(_)) => true,
            (FieldType::Json, _) => true,
            (FieldType::Relation, V::String(_)) if !self.many => true,
            (FieldType::Relation, V::Array(items)) if self.many => items.iter().all(V::is_string),
            _ => false,
        };
        if ok {
            Ok(())
        } else {
            Err(AppError::validation(
                self.name.clone(),
                format!("`{}` must be {}", self.name, self.type_description()),
            ))
        }
    }

    fn type_description(&self) -> &'static str {
        match (self.field_type, self.many) {
            (FieldType::Text, _) => "a string",
            (FieldType::File, false) => "a file name",
            (FieldType::File, true) => "an array of file names",
            (FieldType::Number, _) => "a number",
            (FieldType::Bool, _) => "a boolean",
            (FieldType::Json, _) => "JSON",
            (FieldType::Relation, false) => "a user id",
            (FieldType::Relation, true) => "an array of user ids",
        }
    }
}

/// An auth collection as the domain sees it.
#[derive(Clone, Debug)]
pub struct Collection {
    pub id: String,
    pub project_id: String,
    pub name: String,
    pub settings: CollectionSettings,
    pub fields: Vec<FieldDecl>,
}

impl Collection {
    pub fn field(&self, name: &str) -> Option<&FieldDecl> {
        self.fields.iter().find(|f| f.name == name)
    }

    pub(crate) fn from_model(m: collection::Model) -> AppResult<Self> {
        let settings = serde_json::from_value(m.settings).map_err(AppError::internal)?;
        let fields = serde_json::from_value(m.fields).map_err(AppError::internal)?;
        Ok(Self {
            id: m.id,
            project_id: m.project_id,
            name: m.name,
            settings,
            fields,
        })
    }
}

/// The default collection name when a request names none.
pub const DEFAULT_COLLECTION: &str = "users";

/// Finds a collection of a project by name.
pub async fn find(
    db: &impl ConnectionTrait,
    project_id: &str,
    name: &str,
) -> AppResult<Collection> {
    let model = crate::store::unique(
        collection::Entity::find()
            .filter(collection::Column::ProjectId.eq(project_id))
            .filter(collection::Column::Name.eq(name)),
        db,
    )
    .await?
    .ok_or(AppError::NotFound("collection"))?;
    Collection::from_model(model)
}

/// The collections of a project.
pub async fn of_project(db: &impl ConnectionTrait, project_id: &str) -> AppResult<Vec<Collection>> {
    collection::Entity::find()
        .filter(collection::Column::ProjectId.eq(project_id))
        .all(db)
        .await?
        .into_iter()
        .map(Collection::from_model)
        .collect()
}

/// Finds a collection by id.
pub async fn get(db: &impl ConnectionTrait, id: &str) -> AppResult<Collection> {
    let model = crate::store::unique(collection::Entity::find_by_id(id), db)
        .await?
        .ok_or(AppError::NotFound("collection"))?;
    Collection::from_model(model)
}

/// Checks that a collection or field name is a plain identifier.
pub fn check_name(kind: &str, name: &str) -> AppResult<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(AppError::validation(
            kind,
            format!(
                "{kind} `{name}` must be 1-64 letters, digits or underscores, starting with a letter or underscore"
            ),
        ))
    }
}

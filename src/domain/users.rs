//! Users of auth collections: sign-up, log-in, profile, password.
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, Set, TransactionTrait,
};
use serde_json::{Map, Value};

use entity::user;

use super::Services;
use super::catalog::Catalog;
use super::collections::{Collection, DEFAULT_COLLECTION, FieldType};
use super::email_codes;
use super::events::{UserEvent, UserEventKind};
use super::filter::{Filter, Sort};
use super::limits::{self, LoginGuard};
use super::profile;
use super::projects::Project;
use super::sessions::{self, ClientInfo};
use crate::auth::keys;
use crate::auth::password::check_policy;
use crate::auth::tokens::{TokenKind, TokenSubject};
use crate::error::{AppError, AppResult};
use crate::store;

/// A user as the domain shows it; the password hash never leaves the domain.
#[derive(Clone, Debug)]
pub struct User {
    pub id: String,
    pub project_id: String,
    pub collection_id: String,
    pub email: String,
    pub data: Value,
    pub roles: Vec<String>,
    pub verified: bool,
    pub disabled: bool,
    pub token_version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<user::Model> for User {
    fn from(m: user::Model) -> Self {
        let roles = serde_json::from_value(m.roles).unwrap_or_default();
        Self {
            id: m.id,
            project_id: m.project_id,
            collection_id: m.collection_id,
            email: m.email,
            data: m.data,
            roles,
            verified: m.verified,
            disabled: m.disabled,
            token_version: m.token_version,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

impl User {
    /// What is left of a deleted user in an event from another instance.
    pub fn deleted(id: String, project_id: String, collection_id: String, email: String) -> User {
        let now = Utc::now();
        User {
            id,
            project_id,
            collection_id,
            email,
            data: Value::Object(Map::new()),
            roles: vec![],
            verified: false,
            disabled: false,
            token_version: -1,
            created_at: now,
            updated_at: now,
        }
    }
}

/// A token and the user it was issued to.
#[derive(Clone, Debug)]
pub struct AuthResult {
    /// The access token.
    pub token: String,
    /// The session's current refresh token (absent where none was issued).
    pub refresh_token: Option<String>,
    /// The session the tokens belong to.
    pub session_id: String,
    /// Lifetime of the access token in seconds.
    pub expires_in: i64,
    pub user: User,
}

/// Which access-token lifetime a front door wants.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TokenLifetime {
    /// Short-lived, renewed with the refresh token.
    #[default]
    Short,
    /// For clients that never refresh (Cocobase, PocketBase).
    LongLived,
}

/// `signUp`.
#[derive(Clone, Debug, Default)]
pub struct SignUpRequest {
    pub email: String,
    pub password: String,
    pub data: Map<String, Value>,
    pub collection: Option<String>,
    pub client: ClientInfo,
    pub lifetime: TokenLifetime,
}

/// `logIn`.
#[derive(Clone, Debug, Default)]
pub struct LogInRequest {
    /// The email address, or the value of `identity_field`.
    pub email: String,
    /// Log in by a declared unique text field (e.g. `username`) instead of email.
    pub identity_field: Option<String>,
    pub password: String,
    pub collection: Option<String>,
    pub client: ClientInfo,
    pub lifetime: TokenLifetime,
}

/// `updateMe`: merge `data`, then `$append`, then `$remove`.
#[derive(Clone, Debug, Default)]
pub struct UpdateProfileRequest {
    pub data: Map<String, Value>,
    pub append: Map<String, Value>,
    pub remove: Map<String, Value>,
}

/// `changePassword`. Without `current_password` the caller must be trusted to
/// skip the check (a dialect whose documented API has no old password).
#[derive(Clone, Debug, Default)]
pub struct ChangePasswordRequest {
    pub current_password: Option<String>,
    pub new_password: String,
    pub lifetime: TokenLifetime,
    /// Also revoke the caller's own earlier access tokens (a new one is returned).
    /// Dialects that cannot hand the client a new token keep them valid; every
    /// other session ends either way.
    pub revoke_current_tokens: bool,
}

/// A page of users.
#[derive(Clone, Debug)]
pub struct UserPage {
    pub items: Vec<User>,
    pub total: Option<u64>,
}

/// Largest page a list returns.
pub const MAX_PAGE_SIZE: u64 = 500;

/// Trims and checks an email address; returns (as typed, normalized).
pub fn normalize_email(raw: &str) -> AppResult<(String, String)> {
    let email = raw.trim();
    let valid = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && local.len() <= 64
                && !domain.contains('@')
                && local.chars().all(|c| c.is_ascii_graphic() || !c.is_ascii())
                && !local.starts_with('.')
                && !local.ends_with('.')
                && !local.contains("..")
                && domain.contains('.')
                && domain.split('.').all(|label| {
                    !label.is_empty()
                        && label.len() <= 63
                        && !label.starts_with('-')
                        && !label.ends_with('-')
                        && label.chars().all(|c| c.is_alphanumeric() || c == '-')
                })
        });
    if !valid {
        return Err(AppError::InvalidEmail);
    }
    Ok((email.to_owned(), email.to_lowercase()))
}

fn ttl(collection: &Collection, lifetime: TokenLifetime) -> i64 {
    match lifetime {
        TokenLifetime::Short => collection.settings.access_token_ttl_secs,
        TokenLifetime::LongLived => collection.settings.long_lived_access_token_ttl_secs,
    }
}

/// Signs an access token for a user within a session.
fn access_token(
    svc: &Services,
    collection: &Collection,
    user: &User,
    session_id: &str,
    lifetime: TokenLifetime,
) -> AppResult<(String, i64)> {
    let ttl_secs = ttl(collection, lifetime);
    let token = svc.tokens.issue(&TokenSubject {
        kind: TokenKind::Access,
        user_id: &user.id,
        project_id: &user.project_id,
        collection_id: &user.collection_id,
        token_version: user.token_version,
        session_id,
        ttl_secs,
    })?;
    Ok((token, ttl_secs))
}

/// Opens a new session (a new id at every authentication: no fixation) and
/// signs its first tokens.
async fn start_session(
    svc: &Services,
    collection: &Collection,
    user: User,
    client: &ClientInfo,
    lifetime: TokenLifetime,
) -> AppResult<AuthResult> {
    let (session, refresh_token) = sessions::open(
        svc,
        &user.id,
        &user.project_id,
        &user.collection_id,
        collection.settings.refresh_token_ttl_secs,
        client,
    )
    .await?;
    let (token, expires_in) = access_token(svc, collection, &user, &session.id, lifetime)?;
    Ok(AuthResult {
        token,
        refresh_token: Some(refresh_token),
        session_id: session.id,
        expires_in,
        user,
    })
}

fn collection_name(requested: &Option<String>) -> &str {
    requested.as_deref().unwrap_or(DEFAULT_COLLECTION)
}

/// Maps a unique violation on insert/update to the field it is about.
fn conflict(err: sea_orm::DbErr, collection: &Collection) -> AppError {
    if store::is_unique_violation(&err, "email_normalized")
        || store::is_unique_violation(&err, "ux_users_collection_email")
    {
        return AppError::EmailExists;
    }
    for field in collection.fields.iter().filter(|f| f.unique) {
        if store::indexes::is_unique_violation_of(&err, &collection.id, &field.name) {
            return AppError::Conflict(field.name.clone());
        }
    }
    err.into()
}

/// Creates a user, opens its first session and returns its tokens.
pub async fn sign_up(
    svc: &Services,
    project: &Project,
    req: SignUpRequest,
) -> AppResult<AuthResult> {
    let (client, lifetime) = (req.client.clone(), req.lifetime);
    let (collection, user) = create(svc, project, req).await?;
    start_session(svc, &collection, user, &client, lifetime).await
}

/// Creates a user without logging it in (PocketBase's record create).
pub async fn create(
    svc: &Services,
    project: &Project,
    req: SignUpRequest,
) -> AppResult<(Collection, User)> {
    let collection = svc
        .catalog
        .collection_by_name(&svc.db, &project.id, collection_name(&req.collection))
        .await?;
    limits::sign_up(svc, &req.client).await?;
    let (email, email_normalized) = normalize_email(&req.email)?;
    check_policy(&req.password, collection.settings.min_password_length)?;
    profile::check_new_profile(&collection, &req.data)?;
    let hash = svc.passwords.hash(&req.password).await?;
    let now = Utc::now();
    let model = user::ActiveModel {
        id: Set(keys::new_id()),
        project_id: Set(project.id.clone()),
        collection_id: Set(collection.id.clone()),
        email: Set(email),
        email_normalized: Set(email_normalized),
        password_hash: Set(hash),
        data: Set(Value::Object(req.data)),
        roles: Set(serde_json::json!(["user"])),
        verified: Set(false),
        disabled: Set(false),
        token_version: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&svc.db)
    .await
    .map_err(|e| conflict(e, &collection))?;
    let user = User::from(model);
    svc.events.publish(UserEvent {
        kind: UserEventKind::Created,
        user: user.clone(),
        changed: vec![],
    });
    tracing::info!(event = "sign_up", user_id = %user.id);
    Ok((collection, user))
}

/// Checks credentials. Unknown emails cost the same as wrong passwords and get
/// the same answer.
pub async fn log_in(svc: &Services, project: &Project, req: LogInRequest) -> AppResult<AuthResult> {
    let collection = svc
        .catalog
        .collection_by_name(&svc.db, &project.id, collection_name(&req.collection))
        .await?;
    if req.password.len() > crate::auth::password::MAX_PASSWORD_BYTES {
        return Err(AppError::InvalidCredentials);
    }
    let by_field = req.identity_field.as_deref().filter(|f| *f != "email");
    if let Some(f) = by_field {
        // Only a declared unique text field identifies a user.
        let declared = collection
            .field(f)
            .is_some_and(|d| d.unique && d.field_type == FieldType::Text);
        if !declared {
            return Err(AppError::validation(
                "identityField",
                format!("`{f}` is not a unique text field"),
            ));
        }
    }
    let guard = LoginGuard::enter(svc, &collection.id, &req.email, &req.client).await?;
    let normalized = normalize_email(&req.email).map(|(_, n)| n).ok();
    let found = match (&normalized, by_field) {
        (_, Some(f)) => {
            store::users::find_by_text_field(&svc.db, &collection.id, f, req.email.trim()).await?
        }
        (Some(n), None) => {
            user::Entity::find()
                .filter(user::Column::CollectionId.eq(&collection.id))
                .filter(user::Column::EmailNormalized.eq(n))
                .one(&svc.db)
                .await?
        }
        (None, None) => None,
    };
    let ok = svc
        .passwords
        .verify(
            &req.password,
            found.as_ref().map(|m| m.password_hash.as_str()),
        )
        .await?;
    let Some(model) = found.filter(|_| ok) else {
        tracing::info!(event = "login_failed", collection = %collection.name);
        guard.failed(svc).await?;
        return Err(AppError::InvalidCredentials);
    };
    guard.succeeded(svc).await?;
    let user = User::from(model);
    if user.disabled {
        return Err(AppError::AccountDisabled);
    }
    tracing::info!(event = "login", user_id = %user.id);
    start_session(svc, &collection, user, &req.client, req.lifetime).await
}

/// Loads a user of a project.
pub async fn get(db: &impl ConnectionTrait, project_id: &str, id: &str) -> AppResult<User> {
    crate::store::unique(
        user::Entity::find_by_id(id).filter(user::Column::ProjectId.eq(project_id)),
        db,
    )
    .await?
    .map(User::from)
    .ok_or(AppError::NotFound("user"))
}

/// A list request: filter, order and page.
#[derive(Clone, Debug, Default)]
pub struct UserQuery {
    /// Only this collection; every collection of the project when `None`.
    pub collection: Option<String>,
    pub filter: Option<Filter>,
    /// Sort keys; newest first when empty. The id always breaks ties.
    pub sort: Vec<Sort>,
    pub limit: u64,
    pub offset: u64,
    /// Count every match (costs a second query).
    pub with_total: bool,
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

/// The ids a relation field of a profile holds: one id or an array of ids,
/// or by Cocobase's convention in `<field>_id`.
pub fn relation_ids(data: &Value, field: &str) -> Vec<String> {
    let v = data
        .get(field)
        .filter(|v| !v.is_null() && !v.is_object())
        .or_else(|| data.get(format!("{field}_id")));
    match v {
        Some(Value::String(s)) if !s.is_empty() => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_owned))
            .collect(),
        _ => vec![],
    }
}

/// Counts the users a query matches (whatever its page).
pub async fn count_query(
    db: &DatabaseConnection,
    catalog: &Catalog,
    project_id: &str,
    q: &UserQuery,
) -> AppResult<u64> {
    Ok(select(db, catalog, project_id, q).await?.count(db).await?)
}

/// The filtered selection of a query, without order or page.
async fn select(
    db: &DatabaseConnection,
    catalog: &Catalog,
    project_id: &str,
    q: &UserQuery,
) -> AppResult<sea_orm::Select<user::Entity>> {
    let backend = db.get_database_backend();
    let mut select = user::Entity::find();
    let mut collection = None;
    if let Some(name) = &q.collection {
        // A collection belongs to one project, so its id alone scopes the query
        // (and keeps counts inside the collection's indexes).
        let c = catalog.collection_by_name(db, project_id, name).await?;
        select = select.filter(user::Column::CollectionId.eq(c.id.clone()));
        collection = Some(c);
    } else {
        select = select.filter(user::Column::ProjectId.eq(project_id));
    }
    if let Some(filter) = &q.filter {
        let filter = filter.clone().resolve_relations(collection.as_ref());
        select = select.filter(store::filter::condition(backend, &filter)?);
    }
    Ok(select)
}

/// Lists users of a project.
pub async fn query(
    db: &DatabaseConnection,
    catalog: &Catalog,
    project_id: &str,
    q: &UserQuery,
) -> AppResult<UserPage> {
    let backend = db.get_database_backend();
    let mut select = select(db, catalog, project_id, q).await?;
    let total = if q.with_total {
        Some(select.clone().count(db).await?)
    } else {
        None
    };
    if q.sort.is_empty() {
        select = select.order_by_desc(user::Column::CreatedAt);
    }
    for s in &q.sort {
        let order = if s.descending {
            sea_orm::Order::Desc
        } else {
            sea_orm::Order::Asc
        };
        select = select.order_by(store::filter::order_expr(backend, s), order);
    }
    let select = select.order_by_desc(user::Column::Id);
    let items = store::page(select, q.limit.min(MAX_PAGE_SIZE), q.offset, db)
        .await?
        .into_iter()
        .map(User::from)
        .collect();
    Ok(UserPage { items, total })
}

/// Merges profile data and applies `$append`/`$remove` atomically in the database.
pub async fn update_profile(
    svc: &Services,
    user: &User,
    req: UpdateProfileRequest,
) -> AppResult<User> {
    let collection = svc.catalog.collection(&svc.db, &user.collection_id).await?;
    profile::check_values(&collection, &req.data)?;
    profile::check_array_ops(&collection, &req.append, "$append")?;
    profile::check_array_ops(&collection, &req.remove, "$remove")?;
    for key in req.append.keys().chain(req.remove.keys()) {
        if req.data.contains_key(key) {
            return Err(AppError::validation(
                key.clone(),
                format!("`{key}` is both set and changed by $append/$remove"),
            ));
        }
    }
    let txn = svc.db.begin().await?;
    if store::users::touch(&txn, &user.id, Utc::now()).await? == 0 {
        return Err(AppError::NotFound("user"));
    }
    store::users::merge(&txn, &user.id, &req.data)
        .await
        .map_err(|e| remap(e, &collection))?;
    for (key, value) in &req.append {
        store::users::append(&txn, &user.id, key, &profile::values_of(value))
            .await
            .map_err(|e| remap(e, &collection))?;
    }
    for (key, value) in &req.remove {
        store::users::remove(&txn, &user.id, key, &profile::values_of(value)).await?;
    }
    let updated = user::Entity::find_by_id(&user.id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound("user"))?;
    // Checked after the change, inside the transaction: a too-large result rolls back.
    profile::check_size(&updated.data)?;
    txn.commit().await?;
    let updated = User::from(updated);
    let changed = req
        .data
        .keys()
        .chain(req.append.keys())
        .chain(req.remove.keys())
        .cloned()
        .collect();
    svc.events.publish(UserEvent {
        kind: UserEventKind::Updated,
        user: updated.clone(),
        changed,
    });
    Ok(updated)
}

fn remap(err: AppError, collection: &Collection) -> AppError {
    match err {
        AppError::Internal(e) => match e.downcast::<sea_orm::DbErr>() {
            Ok(db) => conflict(db, collection),
            Err(e) => AppError::Internal(e),
        },
        other => other,
    }
}

/// Verifies the current password (when given), stores the new one, bumps the
/// token version so every earlier access token stops working, ends every other
/// session, and returns a fresh token for the caller's session.
pub async fn change_password(
    svc: &Services,
    user: &User,
    session_id: &str,
    req: ChangePasswordRequest,
) -> AppResult<AuthResult> {
    let collection = svc.catalog.collection(&svc.db, &user.collection_id).await?;
    let stored = user::Entity::find_by_id(&user.id)
        .one(&svc.db)
        .await?
        .ok_or(AppError::NotFound("user"))?;
    if let Some(current) = &req.current_password {
        if !svc
            .passwords
            .verify(current, Some(&stored.password_hash))
            .await?
        {
            return Err(AppError::InvalidCredentials);
        }
    }
    check_policy(&req.new_password, collection.settings.min_password_length)?;
    let hash = svc.passwords.hash(&req.new_password).await?;
    let updated = set_password(&svc.db, stored, hash, req.revoke_current_tokens).await?;
    // A new password ends a lockout (an administrator's way out of one).
    limits::unlock(svc, &collection.id, &updated.email).await?;
    sessions::revoke_all(svc, &user.id, Some(session_id), "password changed").await?;
    let (token, expires_in) = access_token(svc, &collection, &updated, session_id, req.lifetime)?;
    svc.events.publish(UserEvent {
        kind: UserEventKind::Updated,
        user: updated.clone(),
        changed: vec!["password".into()],
    });
    tracing::info!(event = "password_changed", user_id = %user.id);
    email_codes::notify_password_changed(svc, &updated);
    Ok(AuthResult {
        token,
        refresh_token: None,
        session_id: session_id.to_owned(),
        expires_in,
        user: updated,
    })
}

/// Sets a new password for a user who proved control of the account's email
/// (a reset code): every session and token ends, a lockout is lifted, and the
/// email counts as verified.
pub async fn reset_password(svc: &Services, user_id: &str, new_password: &str) -> AppResult<User> {
    let stored = user::Entity::find_by_id(user_id)
        .one(&svc.db)
        .await?
        .ok_or(AppError::NotFound("user"))?;
    let collection = svc
        .catalog
        .collection(&svc.db, &stored.collection_id)
        .await?;
    check_policy(new_password, collection.settings.min_password_length)?;
    let hash = svc.passwords.hash(new_password).await?;
    let version = stored.token_version + 1;
    let mut active: user::ActiveModel = stored.into();
    active.password_hash = Set(hash);
    active.token_version = Set(version);
    active.verified = Set(true);
    active.updated_at = Set(Utc::now());
    let updated: User = active.update(&svc.db).await?.into();
    sessions::revoke_all(svc, &updated.id, None, "password reset").await?;
    limits::unlock(svc, &collection.id, &updated.email).await?;
    svc.events.publish(UserEvent {
        kind: UserEventKind::Updated,
        user: updated.clone(),
        changed: vec!["password".into()],
    });
    tracing::info!(event = "password_reset", user_id = %updated.id);
    email_codes::notify_password_changed(svc, &updated);
    Ok(updated)
}

async fn set_password(
    db: &DatabaseConnection,
    stored: user::Model,
    hash: String,
    bump_version: bool,
) -> AppResult<User> {
    let version = stored.token_version + i64::from(bump_version);
    let mut active: user::ActiveModel = stored.into();
    active.password_hash = Set(hash);
    active.token_version = Set(version);
    active.updated_at = Set(Utc::now());
    Ok(active.update(db).await?.into())
}

/// Checks a user's password (PocketBase's `oldPassword`).
pub async fn verify_password(svc: &Services, user: &User, password: &str) -> AppResult<bool> {
    let stored = user::Entity::find_by_id(&user.id)
        .one(&svc.db)
        .await?
        .ok_or(AppError::NotFound("user"))?;
    svc.passwords
        .verify(password, Some(&stored.password_hash))
        .await
}

/// Disables or enables a user; disabling ends every session and token at once.
pub async fn set_disabled(
    svc: &Services,
    project_id: &str,
    id: &str,
    disabled: bool,
) -> AppResult<User> {
    let stored = user::Entity::find_by_id(id)
        .filter(user::Column::ProjectId.eq(project_id))
        .one(&svc.db)
        .await?
        .ok_or(AppError::NotFound("user"))?;
    let version = stored.token_version + 1;
    let mut active: user::ActiveModel = stored.into();
    active.disabled = Set(disabled);
    active.token_version = Set(version);
    active.updated_at = Set(Utc::now());
    let user: User = active.update(&svc.db).await?.into();
    if disabled {
        sessions::revoke_all(svc, &user.id, None, "user disabled").await?;
    }
    svc.events.publish(UserEvent {
        kind: UserEventKind::Updated,
        user: user.clone(),
        changed: vec!["disabled".into()],
    });
    Ok(user)
}

/// Moves a user to a new, proven email address: the address counts as
/// verified, and every session and token ends (they were issued to the old one).
pub async fn change_email(svc: &Services, user_id: &str, new_email: &str) -> AppResult<User> {
    let (email, normalized) = normalize_email(new_email)?;
    let stored = user::Entity::find_by_id(user_id)
        .one(&svc.db)
        .await?
        .ok_or(AppError::NotFound("user"))?;
    let collection = svc
        .catalog
        .collection(&svc.db, &stored.collection_id)
        .await?;
    let version = stored.token_version + 1;
    let mut active: user::ActiveModel = stored.into();
    active.email = Set(email);
    active.email_normalized = Set(normalized);
    active.verified = Set(true);
    active.token_version = Set(version);
    active.updated_at = Set(Utc::now());
    let user: User = active
        .update(&svc.db)
        .await
        .map_err(|e| conflict(e, &collection))?
        .into();
    sessions::revoke_all(svc, &user.id, None, "email changed").await?;
    svc.events.publish(UserEvent {
        kind: UserEventKind::Updated,
        user: user.clone(),
        changed: vec!["email".into(), "verified".into()],
    });
    tracing::info!(event = "email_changed", user_id = %user.id);
    Ok(user)
}

/// Opens a session for a user who proved control of its email (a one-time
/// code): the email counts as verified.
pub async fn log_in_proven(
    svc: &Services,
    user_id: &str,
    client: &ClientInfo,
    lifetime: TokenLifetime,
) -> AppResult<AuthResult> {
    let user = mark_verified(svc, user_id).await?;
    if user.disabled {
        return Err(AppError::AccountDisabled);
    }
    let collection = svc.catalog.collection(&svc.db, &user.collection_id).await?;
    tracing::info!(event = "login", method = "otp", user_id = %user.id);
    start_session(svc, &collection, user, client, lifetime).await
}

/// Marks a user's email verified (it proved it receives mail there).
pub async fn mark_verified(svc: &Services, user_id: &str) -> AppResult<User> {
    let stored = user::Entity::find_by_id(user_id)
        .one(&svc.db)
        .await?
        .ok_or(AppError::NotFound("user"))?;
    if stored.verified {
        return Ok(stored.into());
    }
    let mut active: user::ActiveModel = stored.into();
    active.verified = Set(true);
    active.updated_at = Set(Utc::now());
    let user: User = active.update(&svc.db).await?.into();
    svc.events.publish(UserEvent {
        kind: UserEventKind::Updated,
        user: user.clone(),
        changed: vec!["verified".into()],
    });
    tracing::info!(event = "email_verified", user_id = %user.id);
    Ok(user)
}

/// Exchanges a refresh token for new tokens (rotation with reuse detection).
/// `project_id`, when the caller named a project, must be the session's.
pub async fn refresh(
    svc: &Services,
    refresh_token: &str,
    project_id: Option<&str>,
    lifetime: TokenLifetime,
) -> AppResult<AuthResult> {
    let rotated = sessions::rotate(svc, refresh_token, svc.refresh_grace_secs, project_id).await?;
    let session = rotated.session;
    if project_id.is_some_and(|p| p != session.project_id) {
        return Err(AppError::InvalidToken);
    }
    let user = get(&svc.db, &session.project_id, &session.user_id)
        .await
        .map_err(|_| AppError::InvalidToken)?;
    if user.disabled {
        return Err(AppError::AccountDisabled);
    }
    let collection = svc.catalog.collection(&svc.db, &user.collection_id).await?;
    let (token, expires_in) = access_token(svc, &collection, &user, &session.id, lifetime)?;
    Ok(AuthResult {
        token,
        refresh_token: Some(rotated.refresh_token),
        session_id: session.id,
        expires_in,
        user,
    })
}

/// A new access token for the caller's live session (PocketBase's `auth-refresh`).
pub async fn reissue(
    svc: &Services,
    user: &User,
    session_id: &str,
    lifetime: TokenLifetime,
) -> AppResult<AuthResult> {
    let collection = svc.catalog.collection(&svc.db, &user.collection_id).await?;
    let (token, expires_in) = access_token(svc, &collection, user, session_id, lifetime)?;
    Ok(AuthResult {
        token,
        refresh_token: None,
        session_id: session_id.to_owned(),
        expires_in,
        user: user.clone(),
    })
}

/// Ends the caller's session, or all of the user's sessions.
pub async fn log_out(svc: &Services, user: &User, session_id: &str, all: bool) -> AppResult<u64> {
    let n = if all {
        sessions::revoke_all(svc, &user.id, None, "logged out everywhere").await?
    } else {
        u64::from(sessions::revoke(svc, session_id, "logged out").await?)
    };
    tracing::info!(event = "logout", user_id = %user.id, all);
    Ok(n)
}

/// Deletes a user (its sessions go with it).
pub async fn delete(svc: &Services, user: &User) -> AppResult<()> {
    let res = user::Entity::delete_by_id(&user.id).exec(&svc.db).await?;
    if res.rows_affected == 0 {
        return Err(AppError::NotFound("user"));
    }
    svc.events.publish(UserEvent {
        kind: UserEventKind::Deleted,
        user: user.clone(),
        changed: vec![],
    });
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::normalize_email;

    #[test]
    fn emails_are_trimmed_lowercased_and_checked() {
        assert_eq!(
            normalize_email("  Ann@Example.COM ").unwrap(),
            ("Ann@Example.COM".into(), "ann@example.com".into())
        );
        for bad in [
            "",
            "ann",
            "ann@",
            "@example.com",
            "ann@example",
            "a b@example.com",
            "ann@@example.com",
            "ann@-x.com",
            "a..b@x.com",
        ] {
            assert!(normalize_email(bad).is_err(), "{bad}");
        }
    }
}

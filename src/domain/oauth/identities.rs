//! Who signs in as whom: a provider's account (collection, provider,
//! subject) belongs to one user. The first sign-in creates the user, or —
//! only when the provider verified the email and the collection allows it
//! (`oauth2_link_by_email`) — joins the account that has that email. A
//! provider's email change is recorded on the identity, never a new user.
use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::{Map, Value};

use entity::user;

use crate::auth::keys;
use crate::auth::oauth::types::Profile;
use crate::domain::audit::{self, Kind};
use crate::domain::collections::{Collection, FieldType};
use crate::domain::events::{UserEvent, UserEventKind};
use crate::domain::profile;
use crate::domain::projects::Project;
use crate::domain::services::Services;
use crate::domain::users::model::{User, normalize_email};
use crate::domain::users::query::get;
use crate::error::{AppError, AppResult};
use crate::store::oauth::{self as store, IdentityKey};

/// The user a sign-in is for, and whether it was just created.
pub struct SignIn {
    pub user: User,
    pub is_new: bool,
    /// Whether this sign-in joined an existing account by its email.
    pub linked_by_email: bool,
}

/// A provider's account linked to a user.
#[derive(Clone, Debug)]
pub struct Identity {
    pub provider: String,
    pub email: Option<String>,
    pub email_verified: bool,
}

/// The user's linked provider accounts.
pub async fn list(svc: &Services, user_id: &str) -> AppResult<Vec<Identity>> {
    Ok(store::identities_of(&svc.db, user_id)
        .await?
        .into_iter()
        .map(|r| Identity {
            provider: r.provider,
            email: r.email,
            email_verified: r.email_verified,
        })
        .collect())
}

/// Records what the provider now says of the account's email, when it changed.
async fn refresh_email(
    svc: &Services,
    key: IdentityKey<'_>,
    row: &store::IdentityRow,
    p: &Profile,
    now: i64,
) -> AppResult<()> {
    let email = p.email.as_deref();
    if row.email.as_deref() == email && row.email_verified == p.email_verified {
        return Ok(());
    }
    store::update_identity_email(&svc.db, key, email, p.email_verified, now).await
}

/// The key of a provider's account in a collection.
fn key_of<'a>(collection_id: &'a str, provider: &'a str, p: &'a Profile) -> IdentityKey<'a> {
    IdentityKey {
        collection_id,
        provider,
        subject: &p.subject,
    }
}

/// Finds or creates the user a provider's account signs in as.
pub async fn sign_in(
    svc: &Services,
    project: &Project,
    collection: &Collection,
    provider: &str,
    p: &Profile,
) -> AppResult<SignIn> {
    let now = Utc::now().timestamp();
    if p.subject.is_empty() {
        return Err(AppError::OAuthRejected(
            "the provider did not identify the account".into(),
        ));
    }
    let email = p.email.as_deref();
    let key = key_of(&collection.id, provider, p);
    if let Some(row) = store::find_identity(&svc.db, key).await? {
        refresh_email(svc, key, &row, p, now).await?;
        let user = get(&svc.db, &project.id, &row.user_id).await?;
        return Ok(SignIn {
            user,
            is_new: false,
            linked_by_email: false,
        });
    }
    let Some(raw_email) = email else {
        return Err(AppError::OAuthRejected(
            "the provider shares no email address for this account".into(),
        ));
    };
    let (email, normalized) = normalize_email(raw_email)?;
    let existing = user::Entity::find()
        .filter(user::Column::CollectionId.eq(&collection.id))
        .filter(user::Column::EmailNormalized.eq(&normalized))
        .one(&svc.db)
        .await?;
    if let Some(m) = existing {
        if !(p.email_verified && collection.settings.oauth2_link_by_email) {
            return Err(AppError::Forbidden(
                "an account with this email already exists and is not linked to this provider; \
                 log in to it another way (linking by email needs an address the provider \
                 verified and a collection with oauth2_link_by_email)"
                    .into(),
            ));
        }
        store::insert_identity(
            &svc.db,
            &keys::new_id(),
            key,
            &m.id,
            Some(&email),
            true,
            now,
        )
        .await?;
        let linked = audit::in_collection(&m.project_id, &m.collection_id, Kind::OauthLinked);
        linked
            .user(&m.id)
            .with("provider", provider)
            .save(svc)
            .await?;
        return Ok(SignIn {
            user: User::from(m),
            is_new: false,
            linked_by_email: true,
        });
    }
    let data = initial_profile(collection, p);
    let at = Utc::now();
    let txn = crate::store::begin_write(&svc.db).await?;
    let model = user::ActiveModel {
        id: Set(keys::new_id()),
        project_id: Set(project.id.clone()),
        collection_id: Set(collection.id.clone()),
        email: Set(email.clone()),
        email_normalized: Set(normalized),
        // No password: an empty hash never verifies.
        password_hash: Set(String::new()),
        data: Set(Value::Object(data)),
        roles: Set(serde_json::json!(["user"])),
        verified: Set(p.email_verified),
        disabled: Set(false),
        token_version: Set(0),
        created_at: Set(at),
        updated_at: Set(at),
    }
    .insert(&txn)
    .await
    .map_err(|e| {
        if crate::store::is_unique_violation(&e, "email") {
            AppError::EmailExists
        } else {
            e.into()
        }
    })?;
    store::insert_identity(
        &txn,
        &keys::new_id(),
        key_of(&collection.id, provider, p),
        &model.id,
        Some(&email),
        p.email_verified,
        now,
    )
    .await?;
    txn.commit().await?;
    let user = User::from(model);
    svc.events.publish(UserEvent {
        kind: UserEventKind::Created,
        user: user.clone(),
        changed: vec![],
    });
    let signed_up = audit::of(&user, Kind::SignUp).with("method", "oauth2");
    signed_up.with("provider", provider).save(svc).await?;
    Ok(SignIn {
        user,
        is_new: true,
        linked_by_email: false,
    })
}

/// `name` and `avatar_url` from the provider, where the collection takes them.
fn initial_profile(collection: &Collection, p: &Profile) -> Map<String, Value> {
    let mut data = Map::new();
    for (key, value) in [("name", &p.name), ("avatar_url", &p.avatar_url)] {
        let Some(v) = value else { continue };
        let takes = match collection.field(key) {
            Some(f) => f.field_type == FieldType::Text,
            None => collection.settings.allow_undeclared_fields,
        };
        if takes {
            data.insert(key.to_owned(), Value::String(v.clone()));
        }
    }
    if profile::check_new_profile(collection, &data).is_err() {
        // A collection with required fields of its own: the user fills them in later.
        data.clear();
    }
    data
}

/// Links a provider's account to a signed-in user (the end of a flow
/// started for linking). An account that belongs to another user is not
/// moved; one identity per provider and user.
pub async fn link(
    svc: &Services,
    user: &User,
    provider: &str,
    p: &Profile,
) -> AppResult<Vec<Identity>> {
    if p.subject.is_empty() {
        return Err(AppError::OAuthRejected(
            "the provider did not identify the account".into(),
        ));
    }
    let collection = &user.collection_id;
    let now = Utc::now().timestamp();
    let key = key_of(collection, provider, p);
    match store::find_identity(&svc.db, key).await? {
        Some(row) if row.user_id == user.id => {
            refresh_email(svc, key, &row, p, now).await?;
        }
        Some(_) => {
            return Err(AppError::Forbidden(
                "this provider account is linked to another user".into(),
            ));
        }
        None => {
            let own = store::identities_of(&svc.db, &user.id).await?;
            if own.iter().any(|i| i.provider == provider) {
                return Err(AppError::Forbidden(format!(
                    "another `{provider}` account is linked to this user; unlink it first"
                )));
            }
            store::insert_identity(
                &svc.db,
                &keys::new_id(),
                key,
                &user.id,
                p.email.as_deref(),
                p.email_verified,
                now,
            )
            .await?;
            let linked = audit::of(user, Kind::OauthLinked).with("provider", provider);
            linked.save(svc).await?;
        }
    }
    list(svc, &user.id).await
}

/// Unlinks the user's identity with `provider`. The last way to sign in
/// stays: a user without a password (created by a provider) keeps its only
/// identity until it sets a password (through the password reset).
pub async fn unlink(svc: &Services, user: &User, provider: &str) -> AppResult<Vec<Identity>> {
    let txn = crate::store::begin_write(&svc.db).await?;
    let model = crate::domain::users::query::lock_row(&txn, &user.id).await?;
    let own = store::identities_of(&txn, &user.id).await?;
    if !own.iter().any(|i| i.provider == provider) {
        return Err(AppError::NotFound("identity"));
    }
    let passkeys = crate::store::passkeys::of_user(&txn, &user.id).await?;
    if model.password_hash.is_empty() && own.len() == 1 && passkeys.is_empty() {
        return Err(AppError::Forbidden(
            "the last way to sign in cannot be removed: set a password first (request a password reset)"
                .into(),
        ));
    }
    store::delete_identity(&txn, &user.id, provider).await?;
    let unlinked = audit::of(user, Kind::OauthUnlinked).with("provider", provider);
    unlinked.save_in(&txn).await?;
    txn.commit().await?;
    list(svc, &user.id).await
}

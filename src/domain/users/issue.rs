//! Sessions and tokens issued to users, and storage conflicts named by field.

use super::model::*;
use crate::auth::tokens::{TokenKind, TokenSubject};
use crate::domain::collections::{Collection, DEFAULT_COLLECTION};
use crate::domain::services::Services;
use crate::domain::sessions::{self, ClientInfo};
use crate::error::{AppError, AppResult};
use crate::store;

pub(super) fn ttl(collection: &Collection, lifetime: TokenLifetime) -> i64 {
    match lifetime {
        TokenLifetime::Short => collection.settings.access_token_ttl_secs,
        TokenLifetime::LongLived => collection.settings.long_lived_access_token_ttl_secs,
    }
}

/// Signs an access token for a user within a session.
pub(super) fn access_token(
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
pub(crate) async fn start_session(
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

pub(super) fn collection_name(requested: &Option<String>) -> &str {
    requested.as_deref().unwrap_or(DEFAULT_COLLECTION)
}

/// Maps a unique violation on insert/update to the field it is about.
pub(super) fn conflict(err: sea_orm::DbErr, collection: &Collection) -> AppError {
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
    if let Some(fields) = store::indexes::composite_violated(&err, collection) {
        return AppError::Conflict(fields);
    }
    err.into()
}

pub(super) fn remap(err: AppError, collection: &Collection) -> AppError {
    match err {
        AppError::Internal(e) => match e.downcast::<sea_orm::DbErr>() {
            Ok(db) => conflict(db, collection),
            Err(e) => AppError::Internal(e),
        },
        other => other,
    }
}

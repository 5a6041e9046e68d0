//! Log-in, token refresh and log-out.
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use entity::user;

use super::account::mark_verified;
use super::issue::*;
use super::model::*;
use super::query::get;
use crate::domain::audit::{self, Kind, Outcome};
use crate::domain::collections::{Collection, FieldType};
use crate::domain::limits::LoginGuard;
use crate::domain::projects::Project;
use crate::domain::second_factor::challenge::{LogInOutcome, Method, after_first_factor};
use crate::domain::services::Services;
use crate::domain::sessions::{self, ClientInfo};
use crate::error::{AppError, AppResult};
use crate::metrics::AuthMethod;
use crate::store;

/// Checks credentials. Unknown emails cost the same as wrong passwords and get
/// the same answer. A user with a second factor gets a challenge, not tokens.
pub async fn log_in(
    svc: &Services,
    project: &Project,
    req: LogInRequest,
) -> AppResult<LogInOutcome> {
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
    let attempt = audit::in_collection(&project.id, &collection.id, Kind::LogIn)
        .client(&req.context.client)
        .with("method", "password");
    let entered = LoginGuard::enter(
        svc,
        AuthMethod::Password,
        &collection.id,
        &req.email,
        &req.context.client,
    )
    .await;
    let guard = match entered {
        Ok(guard) => guard,
        Err(e) => return Err(attempt.outcome(Outcome::Locked).refuse(svc, e).await),
    };
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
    let known = found.as_ref().map(|m| m.id.clone());
    let ok = svc
        .passwords
        .verify(
            &req.password,
            found.as_ref().map(|m| m.password_hash.as_str()),
        )
        .await?;
    let Some(model) = found.filter(|_| ok) else {
        guard.failed(svc).await?;
        let attempt = attempt.user_or(svc, known.as_deref(), &req.email).failed();
        return Err(attempt.refuse(svc, AppError::InvalidCredentials).await);
    };
    guard.succeeded(svc).await?;
    let model = rehash_if_outdated(svc, model, &req.password).await?;
    let user = User::from(model);
    let attempt = attempt.user(&user.id);
    let first = Method::Password;
    admit(svc, &collection, user, first, attempt, &req.context).await
}

/// The end of a first factor that found `user`: a disabled account is
/// refused, and the refusal recorded as `attempt`'s outcome; else the
/// attempt is recorded and the account's second factors apply.
async fn admit(
    svc: &Services,
    collection: &Collection,
    user: User,
    first: Method,
    attempt: audit::Event,
    sign_in: &SignInContext,
) -> AppResult<LogInOutcome> {
    if user.disabled {
        let refused = attempt.failed().with("reason", "disabled");
        return Err(refused.refuse(svc, AppError::AccountDisabled).await);
    }
    attempt.save(svc).await?;
    after_first_factor(svc, collection, user, first, sign_in).await
}

/// Replaces an imported hash (bcrypt, Firebase scrypt) or one with older
/// parameters by today's argon2id, now that the password is known to be right.
/// The password did not change: the token version stays.
async fn rehash_if_outdated(
    svc: &Services,
    model: user::Model,
    password: &str,
) -> AppResult<user::Model> {
    if crate::auth::password::is_current(&model.password_hash) {
        return Ok(model);
    }
    let hash = svc.passwords.hash(password).await?;
    user::Entity::update_many()
        .col_expr(user::Column::PasswordHash, Expr::value(hash.clone()))
        .filter(user::Column::Id.eq(&model.id))
        .filter(user::Column::PasswordHash.eq(&model.password_hash))
        .exec(&svc.db)
        .await?;
    tracing::info!(event = "password_rehashed", user_id = %model.id);
    Ok(user::Model {
        password_hash: hash,
        ..model
    })
}

/// Opens a session for a user who proved control of its email (a one-time
/// code): the email counts as verified. Second factors apply as to a password.
pub async fn log_in_proven(
    svc: &Services,
    user_id: &str,
    sign_in: &SignInContext,
) -> AppResult<LogInOutcome> {
    let user = mark_verified(svc, user_id).await?;
    let attempt = audit::of(&user, Kind::LogIn)
        .client(&sign_in.client)
        .with("method", "otp");
    let collection = svc.catalog.collection(&svc.db, &user.collection_id).await?;
    admit(svc, &collection, user, Method::LoginCode, attempt, sign_in).await
}

/// Exchanges a refresh token for new tokens (rotation with reuse detection).
/// `project_id`, when the caller named a project, must be the session's.
pub async fn refresh(
    svc: &Services,
    refresh_token: &str,
    project_id: Option<&str>,
    lifetime: TokenLifetime,
    client: &ClientInfo,
) -> AppResult<AuthResult> {
    crate::domain::limits::refresh(svc, client).await?;
    let rotated = sessions::rotate(svc, refresh_token, project_id).await;
    let rotated = svc.metrics.counted(AuthMethod::Refresh, rotated)?;
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
    audit::of(user, Kind::LogOut)
        .with("all", all)
        .save(svc)
        .await?;
    Ok(n)
}

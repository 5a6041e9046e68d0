//! Server administrators (PocketBase's `_superusers`).
use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use entity::superuser;

use super::client::ClientInfo;
use super::limits::{self, LoginGuard};
use super::services::Services;
use super::users::model::normalize_email;
use crate::auth::keys;
use crate::auth::tokens::{TokenKind, TokenSubject};
use crate::domain::passwords::check_policy;
use crate::error::{AppError, AppResult};
use crate::metrics::AuthMethod;

/// Superuser passwords are held to a higher minimum than users'.
pub const MIN_PASSWORD_LENGTH: usize = 10;
/// Superuser tokens live one day.
pub const TOKEN_TTL_SECS: i64 = 24 * 3600;

/// A superuser as the domain shows it.
#[derive(Clone, Debug)]
pub struct Superuser {
    pub id: String,
    pub email: String,
    pub token_version: i64,
    pub created_at: chrono::DateTime<Utc>,
    pub updated_at: chrono::DateTime<Utc>,
}

impl From<superuser::Model> for Superuser {
    /// Everything but the password hash (and the lookup form of the email).
    fn from(m: superuser::Model) -> Self {
        let superuser::Model {
            id,
            email,
            token_version,
            created_at,
            updated_at,
            password_hash: _,
            email_normalized: _,
        } = m;
        Self {
            id,
            email,
            token_version,
            created_at,
            updated_at,
        }
    }
}

/// The lockout scope of superuser log-ins.
const SCOPE: &str = "_superusers";

/// Creates the superuser, or sets its password (revoking its tokens).
pub async fn upsert(svc: &Services, email: &str, password: &str) -> AppResult<(Superuser, bool)> {
    let (email, normalized) = normalize_email(email)?;
    check_policy(password, MIN_PASSWORD_LENGTH)?;
    let hash = svc.passwords.hash(password).await?;
    let now = Utc::now();
    let existing = superuser::Entity::find()
        .filter(superuser::Column::EmailNormalized.eq(&normalized))
        .one(&svc.db)
        .await?;
    match existing {
        Some(model) => {
            let version = model.token_version + 1;
            let mut active: superuser::ActiveModel = model.into();
            active.password_hash = Set(hash);
            active.token_version = Set(version);
            active.updated_at = Set(now);
            let updated = active.update(&svc.db).await?;
            // A new password ends a lockout.
            limits::unlock(svc, SCOPE, &updated.email).await?;
            Ok((updated.into(), false))
        }
        None => {
            let model = superuser::ActiveModel {
                id: Set(keys::new_id()),
                email: Set(email),
                email_normalized: Set(normalized),
                password_hash: Set(hash),
                token_version: Set(0),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(&svc.db)
            .await?;
            Ok((model.into(), true))
        }
    }
}

/// Loads a superuser by id.
pub async fn get(db: &impl ConnectionTrait, id: &str) -> AppResult<Superuser> {
    crate::store::found(superuser::Entity::find_by_id(id), db, "superuser").await
}

/// Checks a superuser's credentials (constant cost for unknown emails) and
/// returns a superuser token.
pub async fn log_in(
    svc: &Services,
    email: &str,
    password: &str,
    client: &ClientInfo,
) -> AppResult<(String, Superuser)> {
    let guard = LoginGuard::enter(svc, AuthMethod::Superuser, SCOPE, email, client).await?;
    let normalized = normalize_email(email).map(|(_, n)| n).ok();
    let found = match normalized {
        Some(n) => {
            superuser::Entity::find()
                .filter(superuser::Column::EmailNormalized.eq(n))
                .one(&svc.db)
                .await?
        }
        None => None,
    };
    let ok = svc
        .passwords
        .verify(password, found.as_ref().map(|m| m.password_hash.as_str()))
        .await?;
    let Some(model) = found.filter(|_| ok) else {
        guard.failed(svc).await?;
        return Err(AppError::InvalidCredentials);
    };
    guard.succeeded(svc).await?;
    let su = Superuser::from(model);
    let token = issue_token(svc, &su)?;
    Ok((token, su))
}

/// A new superuser token (log-in and PocketBase's `auth-refresh`).
pub fn issue_token(svc: &Services, su: &Superuser) -> AppResult<String> {
    svc.tokens.issue(&TokenSubject {
        kind: TokenKind::Superuser,
        user_id: &su.id,
        project_id: "",
        collection_id: "_superusers",
        token_version: su.token_version,
        session_id: "",
        ttl_secs: TOKEN_TTL_SECS,
    })
}

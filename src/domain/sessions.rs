//! Sessions: opened at every log-in and sign-up, rotated by refresh, ended by
//! log-out, password change, disabling or revocation. Access tokens carry their
//! session id and are refused as soon as the session ends.
use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
    sea_query::Expr,
};

use entity::session;

use super::audit::{self, Kind};
use super::services::Services;
use crate::auth::keys;
use crate::auth::refresh;
use crate::error::{AppError, AppResult};

pub use super::client::ClientInfo;
use super::client::clip;

/// A live session as its owner sees it (its owner's [`list`]).
#[derive(Clone, Debug)]
pub struct Session {
    pub id: String,
    /// Where it was opened from.
    pub client: ClientInfo,
    pub created_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl From<session::Model> for Session {
    fn from(m: session::Model) -> Self {
        let client = ClientInfo {
            ip: m.ip,
            user_agent: m.user_agent,
            origin: None,
        };
        Self {
            id: m.id,
            client,
            created_at: m.created_at,
            last_used_at: m.last_used_at,
            expires_at: m.expires_at,
        }
    }
}

/// Inside this window after a rotation, the previous refresh token still yields
/// the current successor (two tabs refreshing at once both stay logged in).
pub const DEFAULT_GRACE_SECS: i64 = 10;

/// Opens a session and returns it with its first refresh token.
pub async fn open(
    svc: &Services,
    user_id: &str,
    project_id: &str,
    collection_id: &str,
    refresh_ttl_secs: i64,
    client: &ClientInfo,
) -> AppResult<(session::Model, String)> {
    let now = Utc::now();
    let model = session::ActiveModel {
        id: Set(keys::new_id()),
        user_id: Set(user_id.to_owned()),
        project_id: Set(project_id.to_owned()),
        collection_id: Set(collection_id.to_owned()),
        nonce: Set(keys::random_token(32)),
        counter: Set(0),
        rotated_at: Set(None),
        created_at: Set(now),
        last_used_at: Set(now),
        expires_at: Set(now + Duration::seconds(refresh_ttl_secs)),
        ip: Set(clip(client.ip.clone(), 64)),
        user_agent: Set(clip(client.user_agent.clone(), 256)),
        revoked_at: Set(None),
        revoked_reason: Set(None),
    }
    .insert(&svc.db)
    .await?;
    let token = svc.refresh.token(&model.id, 0, &model.nonce);
    Ok((model, token))
}

/// A session and its user in one query (the lookup behind every user-token
/// request); `None` when either is gone.
pub async fn with_user(
    db: &impl ConnectionTrait,
    session_id: &str,
) -> AppResult<Option<(session::Model, entity::user::Model)>> {
    if session_id.is_empty() {
        return Ok(None);
    }
    let rows = session::Entity::find_by_id(session_id)
        .find_also_related(entity::user::Entity)
        .all(db)
        .await?;
    Ok(rows.into_iter().next().and_then(|(s, u)| u.map(|u| (s, u))))
}

/// Whether a session still accepts its tokens: not revoked, not expired.
pub fn is_live(s: &session::Model) -> bool {
    s.revoked_at.is_none() && s.expires_at > Utc::now()
}

/// Outcome of presenting a refresh token.
pub struct Rotated {
    pub session: session::Model,
    pub refresh_token: String,
}

/// Rotates a refresh token. A token that was already rotated is accepted only
/// within the grace window (and yields the same successor); later, its reuse
/// revokes the whole session and is reported as `TokenReused`.
pub async fn rotate(svc: &Services, token: &str, project_id: Option<&str>) -> AppResult<Rotated> {
    let grace_secs = svc.refresh_grace_secs;
    let parts = refresh::parse(token).ok_or(AppError::InvalidToken)?;
    let s = session::Entity::find_by_id(parts.session_id)
        .one(&svc.db)
        .await?
        .ok_or(AppError::InvalidToken)?;
    if !svc.refresh.verify(&parts, &s.nonce) {
        return Err(AppError::InvalidToken);
    }
    // A token presented for another project changes nothing.
    if project_id.is_some_and(|p| p != s.project_id) {
        return Err(AppError::InvalidToken);
    }
    let rule = svc.limits.refresh_per_account;
    super::limits::per_account(svc, "refresh", &s.user_id, rule).await?;
    let now = Utc::now();
    if s.revoked_at.is_some() {
        // A revoked session's tokens are dead; a rotated one replayed is reuse.
        return Err(
            if s.revoked_reason.as_deref() == Some("refresh token reused") {
                AppError::TokenReused
            } else {
                AppError::InvalidToken
            },
        );
    }
    if s.expires_at <= now {
        return Err(AppError::InvalidToken);
    }
    if parts.counter == s.counter {
        let next = s.counter + 1;
        let res = session::Entity::update_many()
            .col_expr(session::Column::Counter, Expr::value(next))
            .col_expr(session::Column::RotatedAt, Expr::value(now))
            .col_expr(session::Column::LastUsedAt, Expr::value(now))
            .filter(session::Column::Id.eq(&s.id))
            .filter(session::Column::Counter.eq(s.counter))
            .filter(session::Column::RevokedAt.is_null())
            .exec(&svc.db)
            .await?;
        if res.rows_affected == 1 {
            let mut s = s;
            s.counter = next;
            s.rotated_at = Some(now);
            let refresh_token = svc.refresh.token(&s.id, next, &s.nonce);
            return Ok(Rotated {
                session: s,
                refresh_token,
            });
        }
        // Lost a race with a concurrent refresh of the same token: fall through
        // to the grace rule against the row as it is now.
        let s = session::Entity::find_by_id(parts.session_id)
            .one(&svc.db)
            .await?
            .ok_or(AppError::InvalidToken)?;
        return successor_in_grace(svc, s, parts.counter, grace_secs, now).await;
    }
    successor_in_grace(svc, s, parts.counter, grace_secs, now).await
}

async fn successor_in_grace(
    svc: &Services,
    s: session::Model,
    counter: i64,
    grace_secs: i64,
    now: DateTime<Utc>,
) -> AppResult<Rotated> {
    let in_grace = counter == s.counter - 1
        && s.revoked_at.is_none()
        && s.rotated_at
            .is_some_and(|at| now - at <= Duration::seconds(grace_secs));
    if in_grace {
        let refresh_token = svc.refresh.token(&s.id, s.counter, &s.nonce);
        return Ok(Rotated {
            session: s,
            refresh_token,
        });
    }
    if counter < s.counter {
        revoke(svc, &s.id, "refresh token reused").await?;
        audit::of_session(&s, Kind::RefreshTokenReused)
            .save(svc)
            .await?;
        return Err(AppError::TokenReused);
    }
    Err(AppError::InvalidToken)
}

/// Ends one session at once (here, and on other instances through the event bus).
pub async fn revoke(svc: &Services, session_id: &str, reason: &str) -> AppResult<bool> {
    let db = &svc.db;
    let res = session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(Utc::now()))
        .col_expr(
            session::Column::RevokedReason,
            Expr::value(reason.to_owned()),
        )
        .filter(session::Column::Id.eq(session_id))
        .filter(session::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    svc.events.sessions_revoked(None, Some(session_id));
    Ok(res.rows_affected > 0)
}

/// Ends every session of a user, except `keep` when given.
pub async fn revoke_all(
    svc: &Services,
    user_id: &str,
    keep: Option<&str>,
    reason: &str,
) -> AppResult<u64> {
    let n = revoke_all_in(&svc.db, user_id, keep, reason).await?;
    svc.events.sessions_revoked(Some(user_id), None);
    Ok(n)
}

/// `revoke_all` within a transaction; the caller tells the event bus
/// (`EventBus::sessions_revoked`) once it has committed.
pub async fn revoke_all_in(
    db: &impl ConnectionTrait,
    user_id: &str,
    keep: Option<&str>,
    reason: &str,
) -> AppResult<u64> {
    let mut q = session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(Utc::now()))
        .col_expr(
            session::Column::RevokedReason,
            Expr::value(reason.to_owned()),
        )
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::RevokedAt.is_null());
    if let Some(keep) = keep {
        q = q.filter(session::Column::Id.ne(keep));
    }
    Ok(q.exec(db).await?.rows_affected)
}

/// A user's live sessions, newest first.
pub async fn list(db: &impl ConnectionTrait, user_id: &str) -> AppResult<Vec<Session>> {
    Ok(session::Entity::find()
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::RevokedAt.is_null())
        .filter(session::Column::ExpiresAt.gt(Utc::now()))
        .order_by_desc(session::Column::CreatedAt)
        .all(db)
        .await?
        .into_iter()
        .map(Session::from)
        .collect())
}

/// Revokes one of the user's own sessions.
pub async fn revoke_own(svc: &Services, user_id: &str, session_id: &str) -> AppResult<()> {
    let s = session::Entity::find_by_id(session_id).one(&svc.db).await?;
    match s {
        Some(s) if s.user_id == user_id => {
            revoke(svc, session_id, "revoked by user").await?;
            audit::of_session(&s, Kind::SessionRevoked)
                .save(svc)
                .await?;
            Ok(())
        }
        _ => Err(AppError::NotFound("session")),
    }
}

/// Ends the session a refresh token belongs to (log-out without an access
/// token). The token must be genuine; a stale one still names its session.
pub async fn revoke_by_refresh(svc: &Services, token: &str, project_id: &str) -> AppResult<()> {
    let parts = refresh::parse(token).ok_or(AppError::InvalidToken)?;
    let s = session::Entity::find_by_id(parts.session_id)
        .one(&svc.db)
        .await?
        .ok_or(AppError::InvalidToken)?;
    if !svc.refresh.verify(&parts, &s.nonce) || s.project_id != project_id {
        return Err(AppError::InvalidToken);
    }
    revoke(svc, &s.id, "logged out").await?;
    audit::of_session(&s, Kind::LogOut).save(svc).await
}

/// An administrator's revocation of every session of `user`; how many ended.
pub async fn revoke_all_of(svc: &Services, user: &super::users::model::User) -> AppResult<u64> {
    let n = revoke_all(svc, &user.id, None, "revoked by admin").await?;
    let revoked = audit::of(user, Kind::SessionRevoked).with("all", true);
    revoked.with("sessions", n).save(svc).await?;
    Ok(n)
}

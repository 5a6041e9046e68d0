//! Changes to an account: profile, password, email, state, deletion.
use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

use entity::user;

use super::change::{Change, Changed, PasswordWrite};
use super::issue::*;
use super::model::*;
use crate::domain::access::Caller;
use crate::domain::audit::{self, Event, Kind};
use crate::domain::client::ClientInfo;
use crate::domain::collections::Collection;
use crate::domain::events::{UserEvent, UserEventKind};
use crate::domain::files::changes as file_changes;
use crate::domain::files::record::{self as file_rows};
use crate::domain::files::staging::NewFile;
use crate::domain::limits::{self};
use crate::domain::notices;
use crate::domain::passwords::check_policy;
use crate::domain::profile;
use crate::domain::services::Services;
use crate::domain::sessions::{self};
use crate::error::{AppError, AppResult};
use crate::store;

/// What an account update may carry: profile changes and a new password,
/// applied in one transaction (a refused part changes nothing).
#[derive(Clone, Debug, Default)]
pub struct AccountUpdate {
    pub profile: UpdateProfileRequest,
    pub password: Option<NewPassword>,
    /// Files stored for this change (their names join the profile).
    pub files: Vec<NewFile>,
}

impl AccountUpdate {
    /// Profile changes and maybe a new password (files join where they are
    /// stored, in `files::update`).
    pub fn new(profile: UpdateProfileRequest, password: Option<NewPassword>) -> Self {
        AccountUpdate {
            profile,
            password,
            files: vec![],
        }
    }
}

/// A new password within an account update; built by [`NewPassword::by`],
/// which holds the rule on the current password.
#[derive(Clone, Debug, Default)]
pub struct NewPassword {
    pub password: String,
    /// The current password, checked when given. `None` only where
    /// [`NewPassword::by`] allowed it.
    pub current: Option<String>,
    /// The session that stays signed in (the caller's); every other ends.
    pub keep_session: Option<String>,
    /// Also void the kept session's earlier access tokens (the door hands the
    /// client a new one).
    pub revoke_current_tokens: bool,
    /// Where the change comes from (attempts are limited per address).
    pub client: ClientInfo,
}

/// What a door's account update says of the current password.
#[derive(Clone, Debug)]
pub enum CurrentPassword {
    /// The update has a field for it (PocketBase's `oldPassword`), given or not.
    Asked(Option<String>),
    /// The dialect's documented update has none (Cocobase's `password`).
    NotAsked,
}

impl NewPassword {
    /// `password` set by `caller`, its current password as the door's update
    /// carries it: checked when given. Where the update asks for it, only an
    /// administrator (the secret key or a superuser) may leave it out; anyone
    /// else gets `InvalidCredentials`, as for a wrong one. The new password
    /// ends every session and earlier token unless the door says otherwise.
    pub fn by(caller: &Caller, password: String, current: CurrentPassword) -> AppResult<Self> {
        let current = match current {
            CurrentPassword::Asked(None) if !caller.is_admin() => {
                return Err(AppError::InvalidCredentials);
            }
            CurrentPassword::Asked(current) => current,
            CurrentPassword::NotAsked => None,
        };
        Ok(NewPassword {
            password,
            current,
            keep_session: None,
            revoke_current_tokens: true,
            client: caller.client.clone(),
        })
    }
}

/// Merges profile data and applies `$append`/`$remove` atomically in the database.
pub async fn update_profile(
    svc: &Services,
    user: &User,
    req: UpdateProfileRequest,
) -> AppResult<User> {
    update_account(svc, user, AccountUpdate::new(req, None)).await
}

/// Applies an account update: profile data merged, then `$append`, then
/// `$remove`, and a new password (checked against the policy, the current
/// one verified when given), all in one transaction. A new password bumps the
/// token version when asked, ends the other sessions, lifts a lockout and is
/// mailed to the user.
pub async fn update_account(svc: &Services, user: &User, req: AccountUpdate) -> AppResult<User> {
    let p = &req.profile;
    if p.data.is_empty()
        && p.append.is_empty()
        && p.remove.is_empty()
        && req.password.is_none()
        && req.files.is_empty()
    {
        // Nothing to change: nothing is written and nobody is notified.
        return Ok(user.clone());
    }
    let collection = svc.catalog.collection(&svc.db, &user.collection_id).await?;
    let mut folded = req.profile.clone();
    file_changes::fold(&collection, &user.data, &req.files, &mut folded)?;
    let p = &folded;
    profile::check_values(&collection, &p.data)?;
    profile::check_array_ops(&collection, &p.append, "$append")?;
    profile::check_array_ops(&collection, &p.remove, "$remove")?;
    for key in p.append.keys().chain(p.remove.keys()) {
        if p.data.contains_key(key) {
            return Err(AppError::validation(
                key.clone(),
                format!("`{key}` is both set and changed by $append/$remove"),
            ));
        }
    }
    // Checked and hashed before anything changes: a wrong current password
    // or a weak new one leaves the profile as it was too.
    let hash = match &req.password {
        Some(np) => {
            if let Some(current) = &np.current {
                // Every attempt counts: a stolen token must not guess the password.
                limits::password_change(svc, &np.client, &user.id).await?;
                if !verify_password(svc, user, current).await? {
                    return Err(AppError::InvalidCredentials);
                }
            }
            check_policy(&np.password, collection.settings.min_password_length)?;
            Some(svc.passwords.hash(&np.password).await?)
        }
        None => None,
    };
    let mut changed: Vec<String> = p
        .data
        .keys()
        .chain(p.append.keys())
        .chain(p.remove.keys())
        .cloned()
        .collect();
    let events = audit::account_update(user, !changed.is_empty(), req.password.is_some());
    let np = req.password.as_ref();
    let change = Change {
        user: user.clone(),
        collection,
        profile: folded,
        files: req.files,
        password: hash.map(|hash| PasswordWrite {
            hash,
            keep_session: np.and_then(|np| np.keep_session.clone()),
            revoke_current_tokens: np.is_some_and(|np| np.revoke_current_tokens),
        }),
        // Stamped here: on SQLite the writer task saves them.
        audit: events.into_iter().map(Event::stamped).collect(),
        now: Utc::now(),
    };
    let collection_id = change.collection.id.clone();
    // On SQLite, committed in one transaction with the other writes queued
    // at that moment; answered after that commit.
    let Changed { row, obsolete } = svc.writes.run(&svc.db, change).await?;
    // Replaced and dropped files go once the change that drops them is in.
    svc.files.delete(&obsolete).await;
    let updated = User::from(row);
    if req.password.is_some() {
        svc.events.sessions_revoked(Some(&user.id), None);
        // A new password ends a lockout (an administrator's way out of one).
        limits::unlock(svc, &collection_id, &updated.email).await?;
        changed.push("password".into());
        notices::password_changed(svc, &updated).await;
    }
    svc.events.publish(UserEvent {
        kind: UserEventKind::Updated,
        user: updated.clone(),
        changed,
    });
    Ok(updated)
}

/// Verifies the current password, stores the new one, bumps the
/// token version when asked, ends every other session, and returns a fresh
/// token for the caller's session.
pub async fn change_password(
    svc: &Services,
    user: &User,
    session_id: &str,
    req: ChangePasswordRequest,
) -> AppResult<AuthResult> {
    let password = NewPassword {
        password: req.new_password,
        current: Some(req.current_password),
        keep_session: Some(session_id.to_owned()),
        revoke_current_tokens: req.revoke_current_tokens,
        client: req.client,
    };
    let update = AccountUpdate::new(UpdateProfileRequest::default(), Some(password));
    let updated = update_account(svc, user, update).await?;
    let collection = svc.catalog.collection(&svc.db, &user.collection_id).await?;
    let (token, expires_in) = access_token(svc, &collection, &updated, session_id, req.lifetime)?;
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
    let (stored, collection) = stored_in_collection(svc, user_id).await?;
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
    audit::of(&updated, Kind::PasswordReset).save(svc).await?;
    notices::password_changed(svc, &updated).await;
    Ok(updated)
}

/// Checks a user's password (PocketBase's `oldPassword`).
pub async fn verify_password(svc: &Services, user: &User, password: &str) -> AppResult<bool> {
    let stored = stored(svc, &user.id).await?;
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
    let kind = if disabled {
        Kind::UserDisabled
    } else {
        Kind::UserEnabled
    };
    audit::of(&user, kind).save(svc).await?;
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
    let (stored, collection) = stored_in_collection(svc, user_id).await?;
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
    audit::of(&user, Kind::EmailChanged).save(svc).await?;
    Ok(user)
}

/// Marks a user's email verified (it proved it receives mail there).
pub async fn mark_verified(svc: &Services, user_id: &str) -> AppResult<User> {
    let stored = stored(svc, user_id).await?;
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
    audit::of(&user, Kind::EmailVerified).save(svc).await?;
    Ok(user)
}

/// Deletes a user (its sessions go with it, its files once that commits).
pub async fn delete(svc: &Services, user: &User) -> AppResult<()> {
    let txn = crate::store::begin_write(&svc.db).await?;
    let keys = file_rows::remove_all(&txn, &user.id).await?;
    let res = user::Entity::delete_by_id(&user.id).exec(&txn).await?;
    if res.rows_affected == 0 {
        return Err(AppError::NotFound("user"));
    }
    audit::of(user, Kind::UserDeleted).save_in(&txn).await?;
    txn.commit().await?;
    svc.files.delete(&keys).await;
    svc.events.publish(UserEvent {
        kind: UserEventKind::Deleted,
        user: user.clone(),
        changed: vec![],
    });
    Ok(())
}

/// A user's stored row (with its password hash, which never leaves the domain).
async fn stored(svc: &Services, user_id: &str) -> AppResult<user::Model> {
    store::found(user::Entity::find_by_id(user_id), &svc.db, "user").await
}

/// A user's stored row and its collection.
async fn stored_in_collection(
    svc: &Services,
    user_id: &str,
) -> AppResult<(user::Model, Collection)> {
    let stored = stored(svc, user_id).await?;
    let collection = svc
        .catalog
        .collection(&svc.db, &stored.collection_id)
        .await?;
    Ok((stored, collection))
}

#[cfg(test)]
mod tests {
    use super::{CurrentPassword, NewPassword};
    use crate::auth::keys::KeyKind;
    use crate::domain::access::Caller;
    use crate::error::AppError;

    fn by(caller: &Caller, current: CurrentPassword) -> Result<Option<String>, AppError> {
        NewPassword::by(caller, "new passphrase".into(), current).map(|np| np.current)
    }

    #[test]
    fn only_an_administrator_leaves_out_a_current_password_the_door_asks_for() {
        let user = Caller::default();
        let publishable = Caller {
            key: Some(KeyKind::Publishable),
            ..Caller::default()
        };
        let secret = Caller {
            key: Some(KeyKind::Secret),
            ..Caller::default()
        };
        let superuser = Caller {
            superuser: Some("root".into()),
            ..Caller::default()
        };
        for caller in [&user, &publishable] {
            let refused = by(caller, CurrentPassword::Asked(None));
            assert!(matches!(refused, Err(AppError::InvalidCredentials)));
        }
        for caller in [&secret, &superuser] {
            assert_eq!(by(caller, CurrentPassword::Asked(None)).unwrap(), None);
        }
        let given = CurrentPassword::Asked(Some("old".into()));
        assert_eq!(by(&user, given).unwrap().as_deref(), Some("old"));
        assert_eq!(by(&user, CurrentPassword::NotAsked).unwrap(), None);
    }
}

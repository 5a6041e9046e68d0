//! A user's passkeys: listed, renamed and deleted (never the last way in).
use chrono::{DateTime, Utc};

use crate::domain::audit::{self, Kind};
use crate::domain::notices;
use crate::domain::services::Services;
use crate::domain::users::model::User;
use crate::domain::users::query::lock_row;
use crate::error::{AppError, AppResult};
use crate::store::passkeys::{self as store, PasskeyRow};

/// Longest passkey name, in characters.
pub const MAX_NAME_CHARS: usize = 64;

/// A passkey as its owner sees it (never its key).
#[derive(Clone, Debug)]
pub struct Passkey {
    pub id: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

pub(super) fn passkey_of(r: &PasskeyRow) -> Passkey {
    let at = |t: i64| DateTime::from_timestamp(t, 0).unwrap_or_default();
    Passkey {
        id: r.id.clone(),
        name: r.name.clone(),
        created_at: at(r.created_at),
        last_used_at: r.last_used_at.map(at),
    }
}

/// A name of 1 to 64 characters, without control characters, trimmed.
pub(super) fn valid_name(name: &str) -> AppResult<String> {
    let name = name.trim();
    if name.is_empty()
        || name.chars().count() > MAX_NAME_CHARS
        || name.chars().any(char::is_control)
    {
        return Err(AppError::validation(
            "name",
            format!("a passkey's name is 1 to {MAX_NAME_CHARS} characters"),
        ));
    }
    Ok(name.to_owned())
}

pub async fn list(svc: &Services, user: &User) -> AppResult<Vec<Passkey>> {
    let rows = store::of_user(&svc.db, &user.id).await?;
    Ok(rows.iter().map(passkey_of).collect())
}

pub async fn rename(svc: &Services, user: &User, id: &str, name: &str) -> AppResult<Passkey> {
    let name = valid_name(name)?;
    if !store::rename(&svc.db, &user.id, id, &name).await? {
        return Err(AppError::NotFound("passkey"));
    }
    audit::of(user, Kind::PasskeyRenamed)
        .with("passkey", id)
        .save(svc)
        .await?;
    list(svc, user)
        .await?
        .into_iter()
        .find(|p| p.id == id)
        .ok_or(AppError::NotFound("passkey"))
}

/// Deletes one of the user's passkeys, unless it is the account's last way
/// to sign in (no password, no OAuth2 identity, no other passkey).
pub async fn delete(svc: &Services, user: &User, id: &str) -> AppResult<()> {
    let txn = crate::store::begin_write(&svc.db).await?;
    let model = lock_row(&txn, &user.id).await?;
    let own = store::of_user(&txn, &user.id).await?;
    let Some(gone) = own.iter().find(|p| p.id == id) else {
        return Err(AppError::NotFound("passkey"));
    };
    let others = own.len() - 1;
    if model.password_hash.is_empty()
        && others == 0
        && store::identities(&txn, &user.id).await? == 0
    {
        return Err(AppError::Forbidden(
            "the last way to sign in cannot be removed: set a password or add another passkey first"
                .into(),
        ));
    }
    store::delete(&txn, &user.id, id).await?;
    audit::of(user, Kind::PasskeyRemoved)
        .with("passkey", id)
        .save_in(&txn)
        .await?;
    txn.commit().await?;
    notices::second_factor_changed(
        svc,
        user,
        &format!(
            "The passkey named \"{}\" was removed from your account.",
            gone.name
        ),
    )
    .await;
    Ok(())
}

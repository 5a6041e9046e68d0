//! A user's factors: TOTP enrolment and confirmation, email codes on and
//! off, recovery codes, and removal (by the user with its password or a
//! recovery code, or by a secret key).
use chrono::{DateTime, Utc};

use crate::auth::{keys, totp};
use crate::domain::audit::{self, Kind};
use crate::domain::email_codes::purpose::{Purpose, enabled};
use crate::domain::notices;
use crate::domain::services::Services;
use crate::domain::sessions;
use crate::domain::users::account::verify_password;
use crate::domain::users::model::User;
use crate::error::{AppError, AppResult};
use crate::store::factors as store;

pub const TOTP: &str = "totp";
pub const EMAIL: &str = "email";
/// Recovery codes handed out at enrolment (and at each regeneration).
pub const RECOVERY_CODES: usize = 10;

/// What an authenticator app needs, shown once at enrolment.
pub struct TotpEnrolment {
    /// The secret in base32, for typing it in.
    pub secret: String,
    /// The `otpauth://` URI.
    pub uri: String,
    /// The URI as a QR code (SVG).
    pub qr_svg: String,
}

/// A user's second factors as others may see them (never a secret).
pub struct Factors {
    pub totp: bool,
    pub email: bool,
    pub recovery_codes_left: usize,
    pub enabled_at: Option<DateTime<Utc>>,
}

/// The kinds of the user's confirmed factors.
pub async fn active(svc: &Services, user_id: &str) -> AppResult<Vec<String>> {
    Ok(store::factors(&svc.db, user_id)
        .await?
        .into_iter()
        .filter(|f| f.confirmed)
        .map(|f| f.kind)
        .collect())
}

pub async fn summary(svc: &Services, user: &User) -> AppResult<Factors> {
    let rows = store::factors(&svc.db, &user.id).await?;
    let on = |k: &str| rows.iter().any(|f| f.kind == k && f.confirmed);
    let enabled_at = rows
        .iter()
        .filter(|f| f.confirmed)
        .map(|f| f.created_at)
        .min()
        .and_then(|t| DateTime::from_timestamp(t, 0));
    Ok(Factors {
        totp: on(TOTP),
        email: on(EMAIL),
        recovery_codes_left: store::unused_recovery(&svc.db, &user.id).await?.len(),
        enabled_at,
    })
}

/// Starts TOTP enrolment: a new secret, stored sealed and inactive until
/// `confirm_totp`. A user whose app is already active must disable it first.
pub async fn enroll_totp(svc: &Services, user: &User, issuer: &str) -> AppResult<TotpEnrolment> {
    if active(svc, &user.id).await?.iter().any(|k| k == TOTP) {
        return Err(AppError::Conflict("totp".into()));
    }
    let secret = totp::new_secret();
    let sealed = svc.seal.seal(&user.id, &secret);
    let now = Utc::now().timestamp();
    store::put(
        &svc.db,
        &keys::new_id(),
        &user.id,
        TOTP,
        Some(sealed),
        false,
        now,
    )
    .await?;
    let uri = totp::otpauth_uri(issuer, &user.email, &secret);
    Ok(TotpEnrolment {
        secret: totp::base32(&secret),
        qr_svg: totp::qr_svg(&uri),
        uri,
    })
}

/// Whether `code` is the user's current TOTP code (of an active app, or with
/// `pending`, of one being enrolled); a code is accepted once.
pub async fn check_totp(
    svc: &Services,
    user_id: &str,
    code: &str,
    pending: bool,
) -> AppResult<bool> {
    let rows = store::factors(&svc.db, user_id).await?;
    let Some(f) = rows
        .iter()
        .find(|f| f.kind == TOTP && f.confirmed != pending)
    else {
        return Ok(false);
    };
    let Some(secret) = f.secret.as_deref().and_then(|s| svc.seal.open(user_id, s)) else {
        return Ok(false);
    };
    let now = totp::step_of(Utc::now().timestamp());
    match totp::matching_step(&secret, code, now, f.last_step) {
        Some(step) => store::use_step(&svc.db, user_id, TOTP, step).await,
        None => Ok(false),
    }
}

/// Activates the app being enrolled with one of its codes; returns the new
/// recovery codes (shown once). The user's other sessions end.
pub async fn confirm_totp(
    svc: &Services,
    user: &User,
    code: &str,
    keep_session: Option<&str>,
) -> AppResult<Vec<String>> {
    if !check_totp(svc, &user.id, code, true).await? {
        return Err(AppError::InvalidSecondFactor);
    }
    let codes = new_recovery_codes(svc, user).await?;
    sessions::revoke_all(svc, &user.id, keep_session, "second factor enabled").await?;
    notices::second_factor_changed(svc, user, "An authenticator app was added to your account.")
        .await;
    audit::of(user, Kind::FactorAdded)
        .with("factor", TOTP)
        .save(svc)
        .await?;
    Ok(codes)
}

/// Cocobase's `2fa/enable`: codes by mail as the second factor.
pub async fn enable_email(
    svc: &Services,
    user: &User,
    keep_session: Option<&str>,
) -> AppResult<()> {
    enabled(svc, Purpose::SecondFactor)?;
    let now = Utc::now().timestamp();
    store::put(&svc.db, &keys::new_id(), &user.id, EMAIL, None, true, now).await?;
    sessions::revoke_all(svc, &user.id, keep_session, "second factor enabled").await?;
    notices::second_factor_changed(
        svc,
        user,
        "Sign-in codes by email were turned on for your account.",
    )
    .await;
    audit::of(user, Kind::FactorAdded)
        .with("factor", EMAIL)
        .save(svc)
        .await?;
    Ok(())
}

/// What proves a user may remove its factors.
pub enum Reauth<'a> {
    Password(&'a str),
    RecoveryCode(&'a str),
}

impl<'a> Reauth<'a> {
    /// The password when one is given, else the recovery code; `None` without either.
    pub fn of(password: Option<&'a str>, recovery_code: Option<&'a str>) -> Option<Self> {
        match (password, recovery_code) {
            (Some(p), _) => Some(Reauth::Password(p)),
            (None, r) => r.map(Reauth::RecoveryCode),
        }
    }
}

async fn reauthenticate(svc: &Services, user: &User, proof: Reauth<'_>) -> AppResult<()> {
    let ok = match proof {
        Reauth::Password(p) => verify_password(svc, user, p).await?,
        Reauth::RecoveryCode(c) => use_recovery_code(svc, user, c).await?.is_some(),
    };
    if ok {
        Ok(())
    } else {
        Err(AppError::InvalidCredentials)
    }
}

/// Which factors `disable` turns off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FactorScope {
    /// Every factor and the recovery codes.
    All,
    /// Codes by mail only (Cocobase's `2fa/disable`).
    EmailCodes,
}

/// Removes the factors of `scope` (for `All`, with the recovery codes), with
/// the password or a recovery code; ends the user's other sessions.
pub async fn disable(
    svc: &Services,
    user: &User,
    proof: Reauth<'_>,
    keep_session: Option<&str>,
    scope: FactorScope,
) -> AppResult<()> {
    reauthenticate(svc, user, proof).await?;
    let (kind, text) = match scope {
        FactorScope::All => (None, "Two-step sign-in was turned off for your account."),
        FactorScope::EmailCodes => (
            Some(EMAIL),
            "Sign-in codes by email were turned off for your account.",
        ),
    };
    let reason = "second factor disabled";
    remove(svc, user, kind, keep_session, reason, text).await?;
    let factor = kind.unwrap_or("all");
    audit::of(user, Kind::FactorRemoved)
        .with("factor", factor)
        .save(svc)
        .await?;
    Ok(())
}

/// A secret key's reset: every factor, recovery code, challenge and session gone.
pub async fn reset(svc: &Services, user: &User) -> AppResult<()> {
    let text = "The two-step sign-in of your account was reset by an administrator.";
    remove(svc, user, None, None, "second factors reset", text).await?;
    audit::of(user, Kind::FactorRemoved)
        .with("factor", "all")
        .save(svc)
        .await?;
    Ok(())
}

/// Removes one kind of factor (all of them, with the recovery codes, for
/// `None`), ends the other sessions and tells the user by mail.
async fn remove(
    svc: &Services,
    user: &User,
    kind: Option<&str>,
    keep_session: Option<&str>,
    reason: &str,
    notice: &str,
) -> AppResult<()> {
    store::delete(&svc.db, &user.id, kind).await?;
    if kind.is_none() {
        store::delete_recovery(&svc.db, &user.id).await?;
    }
    sessions::revoke_all(svc, &user.id, keep_session, reason).await?;
    notices::second_factor_changed(svc, user, notice).await;
    Ok(())
}

/// New recovery codes (the old set void), with the password.
pub async fn regenerate_recovery_codes(
    svc: &Services,
    user: &User,
    password: &str,
) -> AppResult<Vec<String>> {
    reauthenticate(svc, user, Reauth::Password(password)).await?;
    if active(svc, &user.id).await?.is_empty() {
        return Err(AppError::validation(
            "secondFactor",
            "No second factor is enabled.",
        ));
    }
    let codes = new_recovery_codes(svc, user).await?;
    audit::of(user, Kind::RecoveryCodesRegenerated)
        .save(svc)
        .await?;
    Ok(codes)
}

fn recovery_scope(user_id: &str) -> String {
    format!("recovery:{user_id}")
}

/// Codes are typed loosely: case, spaces and dashes do not matter.
fn normalize(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

async fn new_recovery_codes(svc: &Services, user: &User) -> AppResult<Vec<String>> {
    let scope = recovery_scope(&user.id);
    let codes: Vec<String> = (0..RECOVERY_CODES)
        .map(|_| {
            let raw = keys::random_token(10).to_ascii_lowercase();
            format!("{}-{}", &raw[..5], &raw[5..])
        })
        .collect();
    let hashes: Vec<(String, String)> = codes
        .iter()
        .map(|c| (keys::new_id(), svc.codes.hash(&scope, &normalize(c))))
        .collect();
    store::replace_recovery(&svc.db, &user.id, &hashes).await?;
    Ok(codes)
}

/// Spends a recovery code; the number left, or `None` when it is not one of
/// the user's unused codes. The user is told by mail.
pub async fn use_recovery_code(
    svc: &Services,
    user: &User,
    code: &str,
) -> AppResult<Option<usize>> {
    let hash = svc.codes.hash(&recovery_scope(&user.id), &normalize(code));
    let unused = store::unused_recovery(&svc.db, &user.id).await?;
    // Every stored hash is compared, in constant time.
    let mut found = None;
    for (id, stored) in &unused {
        if keys::ct_eq(stored, &hash) && found.is_none() {
            found = Some(id.clone());
        }
    }
    let Some(id) = found else {
        return Ok(None);
    };
    if !store::spend_recovery(&svc.db, &id, Utc::now().timestamp()).await? {
        return Ok(None);
    }
    let left = unused.len() - 1;
    notices::second_factor_changed(
        svc,
        user,
        &format!("A recovery code of your account was used; {left} are left."),
    )
    .await;
    tracing::info!(event = "recovery_code_used", user_id = %user.id, left);
    Ok(Some(left))
}

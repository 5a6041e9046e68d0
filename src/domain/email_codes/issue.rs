//! Requests: a code stored (as keyed hashes) and mailed.
use chrono::Utc;

use super::purpose::*;
use crate::auth::codes::new_otp;
use crate::auth::keys;
use crate::domain::client::ClientInfo;
use crate::domain::limits::{self};
use crate::domain::notices;
use crate::domain::outbox;
use crate::domain::projects::Project;
use crate::domain::services::Services;
use crate::domain::users::model::User;
use crate::domain::users::query;
use crate::error::{AppError, AppResult};
use crate::store::codes::{self, NewCode};

/// Mails a code for `purpose` to `email` if it has an account in the
/// collection (for verification: an unverified one); answers the same either
/// way: the code's id (a sign-in code's is what `log_in_with_code` takes), a
/// random one when nothing was sent.
pub async fn request(
    svc: &Services,
    project: &Project,
    collection_name: Option<&str>,
    email: &str,
    client: &ClientInfo,
    purpose: Purpose,
) -> AppResult<String> {
    enabled(svc, purpose)?;
    let collection = collection(svc, project, collection_name).await?;
    count_address(svc, client).await?;
    let sent = match query::find_by_email(&svc.db, &collection, email).await? {
        Some(user) => send_later(svc, &user, purpose),
        None => None,
    };
    Ok(sent.unwrap_or_else(keys::new_id))
}

/// Mails a code for `purpose` to a user (a disabled user, or for verification
/// an already verified one, gets nothing).
pub async fn send_code(svc: &Services, user: &User, purpose: Purpose) -> AppResult<()> {
    enabled(svc, purpose)?;
    send_later(svc, user, purpose);
    Ok(())
}

/// `issue_later`, unless the user gets nothing (`send_code`); the code's id
/// when one is issued.
fn send_later(svc: &Services, user: &User, purpose: Purpose) -> Option<String> {
    let nothing = user.disabled || (purpose == Purpose::Verification && user.verified);
    (!nothing).then(|| issue_later(svc, user, purpose))
}

/// Mails a signed-in user's requested new address a code that moves the
/// account there (with the account's password). The caller is the account,
/// so its limit answers openly.
pub async fn request_email_change(
    svc: &Services,
    user: &User,
    new_email: &str,
    client: &ClientInfo,
) -> AppResult<()> {
    let purpose = Purpose::EmailChange;
    enabled(svc, purpose)?;
    count_address(svc, client).await?;
    let (email, normalized) = crate::domain::users::model::normalize_email(new_email)
        .map_err(|_| AppError::validation("newEmail", "Must be a valid email address."))?;
    if crate::domain::users::model::normalize_email(&user.email)
        .is_ok_and(|(_, current)| current == normalized)
    {
        return Err(AppError::validation(
            "newEmail",
            "The new email is the current one.",
        ));
    }
    issue(svc, user, purpose, &email, Some(&email), keys::new_id()).await
}

/// `issue` in the background, under a new code id (returned): a request for
/// an existing account answers as fast as one for an unknown email, whose
/// caller gets an id too.
pub fn issue_later(svc: &Services, user: &User, purpose: Purpose) -> String {
    let id = keys::new_id();
    let (svc, user, code_id) = (svc.clone(), user.clone(), id.clone());
    tokio::spawn(crate::domain::audit::inherit(async move {
        let to = user.email.clone();
        match issue(&svc, &user, purpose, &to, None, code_id).await {
            // The account's limit: nothing is sent, and the caller is not told.
            Ok(()) | Err(AppError::RateLimited { .. }) => {}
            Err(e) => {
                tracing::error!(error = ?e, purpose = purpose.key(), "could not issue an email code")
            }
        }
    }));
    id
}

/// Stores a new code under `id` (replacing the user's older one of that
/// purpose) and mails it to `to`.
pub(super) async fn issue(
    svc: &Services,
    user: &User,
    purpose: Purpose,
    to: &str,
    payload: Option<&str>,
    id: String,
) -> AppResult<()> {
    // A flood of requests for one account does not flood its mailbox.
    let per_account = format!(
        "mail:{}:{}",
        purpose.key(),
        limits::identity_bucket(&user.collection_id, &user.id)
    );
    limits::hit(svc, &per_account, svc.limits.mail_code_per_account).await?;
    let token = keys::random_token(43);
    let code = new_otp();
    let now = Utc::now().timestamp();
    let row = NewCode {
        id: &id,
        user_id: &user.id,
        purpose: purpose.key(),
        token_hash: svc.codes.hash("token", &token),
        otp_hash: svc.codes.hash(&user.id, &code),
        expires_at: now + purpose.ttl_secs(),
        created_at: now,
        payload,
    };
    let expires_at = row.expires_at;
    codes::upsert(&svc.db, row).await?;
    if let Some(kind) = purpose.audit_kind() {
        crate::domain::audit::of(user, kind).save(svc).await?;
    }
    // Not sent once the code expired (an outage outlived it).
    let mail = notices::code(&svc.public_url, to, &token, &code, purpose);
    outbox::enqueue(svc, mail, Some(expires_at)).await?;
    Ok(())
}

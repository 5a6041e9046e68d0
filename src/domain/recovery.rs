//! Password reset by email (security checklist items 7 and 8).
//!
//! A request mails the account a long token (for a link) and a six-digit code
//! (to type); both are single-use, expire after `RESET_TTL_SECS`, and are
//! stored only as keyed hashes (`auth::codes`). A newer request replaces the
//! older code; a code guessed wrong `MAX_CODE_ATTEMPTS` times is dropped. The
//! answer to a request is the same whether or not the email has an account,
//! and the mail is sent in the background so the timing does not tell either.
//! Using a code sets the password, ends every session, lifts a lockout and
//! marks the email verified.
use chrono::Utc;
use sea_orm::ConnectionTrait;

use super::Services;
use super::limits::{self, Rule};
use super::projects::Project;
use super::sessions::ClientInfo;
use super::users::{self, User};
use crate::auth::codes::new_otp;
use crate::auth::keys;
use crate::auth::password::check_policy;
use crate::error::{AppError, AppResult};
use crate::mail::Mail;
use crate::store::sql;

pub const RESET_TTL_SECS: i64 = 30 * 60;
pub const MAX_CODE_ATTEMPTS: i64 = 5;
const PURPOSE: &str = "password_reset";
/// Reset mails per account per hour.
const MAILS_PER_ACCOUNT: Rule = Rule {
    max: 5,
    window_secs: 3600,
};

/// What proves the reset.
pub enum Proof<'a> {
    /// The token from the mail's link.
    Token(&'a str),
    /// The six-digit code, with the account's email.
    Code { email: &'a str, code: &'a str },
}

fn invalid() -> AppError {
    AppError::validation(
        "token",
        "The reset token or code is invalid or has expired.",
    )
}

/// Whether this server can send mail at all.
pub fn enabled(svc: &Services) -> AppResult<()> {
    if svc.mailer.enabled() {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "password reset by email is not enabled on this server (AUTHGRAPH_SMTP_URL)".into(),
        ))
    }
}

/// Mails a reset token and code to `email` if it has an account in the
/// collection; answers the same either way.
pub async fn request(
    svc: &Services,
    project: &Project,
    collection: Option<&str>,
    email: &str,
    client: &ClientInfo,
) -> AppResult<()> {
    enabled(svc)?;
    let name = users::collection_name(&collection.map(str::to_owned)).to_owned();
    let collection = svc
        .catalog
        .collection_by_name(&svc.db, &project.id, &name)
        .await?;
    if let Some(bucket) = client
        .ip
        .as_deref()
        .and_then(|ip| limits::ip_bucket("reset", ip))
    {
        limits::hit(&svc.db, &bucket, svc.limits.login_per_ip).await?;
    }
    let Some(user) = users::find_by_email(&svc.db, &collection, email).await? else {
        return Ok(());
    };
    if user.disabled {
        return Ok(());
    }
    // A flood of requests for one account does not flood its mailbox; the
    // caller is not told (that would reveal the account).
    let per_account = format!("mail:{}", limits::identity_bucket(&collection.id, &user.id));
    if limits::hit(&svc.db, &per_account, MAILS_PER_ACCOUNT)
        .await
        .is_err()
    {
        return Ok(());
    }
    let token = keys::random_token(43);
    let code = new_otp();
    let now = Utc::now().timestamp();
    svc.db
        .execute_raw(sql(
            &svc.db,
            "DELETE FROM one_time_codes WHERE user_id = $1 AND purpose = $2",
            vec![user.id.clone().into(), PURPOSE.into()],
        ))
        .await?;
    svc.db
        .execute_raw(sql(
            &svc.db,
            "INSERT INTO one_time_codes (id, user_id, purpose, token_hash, otp_hash, attempts, expires_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, 0, $6, $7)",
            vec![
                keys::new_id().into(),
                user.id.clone().into(),
                PURPOSE.into(),
                svc.codes.hash("token", &token).into(),
                svc.codes.hash(&user.id, &code).into(),
                (now + RESET_TTL_SECS).into(),
                now.into(),
            ],
        ))
        .await?;
    svc.mailer.send_later(reset_mail(svc, &user, &token, &code));
    tracing::info!(event = "password_reset_requested", user_id = %user.id);
    Ok(())
}

fn reset_mail(svc: &Services, user: &User, token: &str, code: &str) -> Mail {
    let minutes = RESET_TTL_SECS / 60;
    let link = match svc.public_url.trim_end_matches('/') {
        "" => String::new(),
        base => format!("Choose a new password here:\n{base}/reset-password?token={token}\n\n"),
    };
    // Short lines: the message stays plain 7-bit text.
    Mail {
        to: user.email.clone(),
        subject: "Reset your password".into(),
        body: format!(
            "Someone (hopefully you) asked to reset the password of this account.\n\n\
             {link}Your code: {code}\n\n\
             Reset token, for apps that ask for it:\n{token}\n\n\
             Both work once, within {minutes} minutes. If you did not ask for this,\n\
             ignore this message: your password stays as it is.\n"
        ),
    }
}

/// Sets a new password with a token or code from a reset mail.
pub async fn confirm(
    svc: &Services,
    project: &Project,
    collection: Option<&str>,
    proof: Proof<'_>,
    new_password: &str,
    client: &ClientInfo,
) -> AppResult<User> {
    enabled(svc)?;
    if let Some(bucket) = client
        .ip
        .as_deref()
        .and_then(|ip| limits::ip_bucket("reset", ip))
    {
        limits::hit(&svc.db, &bucket, svc.limits.login_per_ip).await?;
    }
    let now = Utc::now().timestamp();
    let (code_id, user_id) = match proof {
        Proof::Token(token) => {
            let row = svc
                .db
                .query_one_raw(sql(
                    &svc.db,
                    "SELECT id, user_id FROM one_time_codes WHERE token_hash = $1 AND purpose = $2 AND expires_at > $3",
                    vec![svc.codes.hash("token", token).into(), PURPOSE.into(), now.into()],
                ))
                .await?
                .ok_or_else(invalid)?;
            (
                row.try_get::<String>("", "id")?,
                row.try_get::<String>("", "user_id")?,
            )
        }
        Proof::Code { email, code } => {
            let name = users::collection_name(&collection.map(str::to_owned)).to_owned();
            let collection = svc
                .catalog
                .collection_by_name(&svc.db, &project.id, &name)
                .await?;
            let user = users::find_by_email(&svc.db, &collection, email)
                .await?
                .ok_or_else(invalid)?;
            let row = svc
                .db
                .query_one_raw(sql(
                    &svc.db,
                    "SELECT id, otp_hash, attempts FROM one_time_codes WHERE user_id = $1 AND purpose = $2 AND expires_at > $3",
                    vec![user.id.clone().into(), PURPOSE.into(), now.into()],
                ))
                .await?
                .ok_or_else(invalid)?;
            let id: String = row.try_get("", "id")?;
            let stored: String = row.try_get("", "otp_hash")?;
            let attempts: i32 = row.try_get("", "attempts")?;
            let attempts = i64::from(attempts);
            if !keys::ct_eq(&svc.codes.hash(&user.id, code), &stored) {
                // Six digits are guessable: a few wrong tries and the code is gone.
                let text = if attempts + 1 >= MAX_CODE_ATTEMPTS {
                    "DELETE FROM one_time_codes WHERE id = $1"
                } else {
                    "UPDATE one_time_codes SET attempts = attempts + 1 WHERE id = $1"
                };
                svc.db
                    .execute_raw(sql(&svc.db, text, vec![id.into()]))
                    .await?;
                return Err(invalid());
            }
            (id, user.id)
        }
    };
    // Checked before the code is spent: a token of another project is not
    // ours, and a password the policy refuses can be retried.
    let user = users::get(&svc.db, &project.id, &user_id)
        .await
        .map_err(|_| invalid())?;
    let collection = svc.catalog.collection(&svc.db, &user.collection_id).await?;
    check_policy(new_password, collection.settings.min_password_length)?;
    // Single use, even when two confirmations race: only one deletes the row.
    let taken = svc
        .db
        .execute_raw(sql(
            &svc.db,
            "DELETE FROM one_time_codes WHERE id = $1",
            vec![code_id.into()],
        ))
        .await?;
    if taken.rows_affected() != 1 {
        return Err(invalid());
    }
    users::reset_password(svc, &user.id, new_password).await
}

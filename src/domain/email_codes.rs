//! Codes sent by email: password reset and email verification (security
//! checklist items 7 and 8).
//!
//! A request mails the account a long token (for a link) and a six-digit code
//! (to type); both are single-use, expire after `CODE_TTL_SECS`, and are
//! stored only as keyed hashes (`auth::codes`). A newer request replaces the
//! older code of the same purpose; a code guessed wrong `MAX_CODE_ATTEMPTS`
//! times is dropped; an account gets at most `MAILS_PER_ACCOUNT` mails an
//! hour. The answer to a request is the same whether or not the email has an
//! account, and the code is stored and mailed in the background, so the
//! timing does not tell either.
//!
//! Using a reset code sets the password, ends every session, lifts a lockout
//! and marks the email verified; using a verification code marks it verified.
use chrono::Utc;
use sea_orm::ConnectionTrait;

use super::Services;
use super::collections::{Collection, DEFAULT_COLLECTION};
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

pub const CODE_TTL_SECS: i64 = 30 * 60;
pub const MAX_CODE_ATTEMPTS: i64 = 5;
/// Mails per account and purpose per hour.
const MAILS_PER_ACCOUNT: Rule = Rule {
    max: 5,
    window_secs: 3600,
};

/// What a code is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    PasswordReset,
    Verification,
    EmailChange,
    /// Log-in with a code instead of the password.
    LogIn,
}

impl Purpose {
    fn key(self) -> &'static str {
        match self {
            Purpose::PasswordReset => "password_reset",
            Purpose::Verification => "verify_email",
            Purpose::EmailChange => "email_change",
            Purpose::LogIn => "login",
        }
    }

    fn what(self) -> &'static str {
        match self {
            Purpose::PasswordReset => "password reset by email",
            Purpose::Verification => "email verification",
            Purpose::EmailChange => "email change",
            Purpose::LogIn => "OTP authentication",
        }
    }
}

/// What proves control of the mailbox.
pub enum Proof<'a> {
    /// The token from the mail's link.
    Token(&'a str),
    /// The six-digit code, with the account's email.
    Code { email: &'a str, code: &'a str },
}

fn invalid() -> AppError {
    AppError::validation("token", "The token or code is invalid or has expired.")
}

/// Whether this server can send mail for `purpose`.
pub fn enabled(svc: &Services, purpose: Purpose) -> AppResult<()> {
    if svc.mailer.enabled() {
        Ok(())
    } else {
        Err(AppError::Forbidden(format!(
            "{} is not enabled on this server (AUTHGRAPH_SMTP_URL)",
            purpose.what()
        )))
    }
}

async fn collection(
    svc: &Services,
    project: &Project,
    name: Option<&str>,
) -> AppResult<Collection> {
    let name = name.unwrap_or(DEFAULT_COLLECTION);
    svc.catalog
        .collection_by_name(&svc.db, &project.id, name)
        .await
}

/// Requests and confirmations count against the client's address like
/// log-ins do (in a bucket of their own).
async fn count_address(svc: &Services, client: &ClientInfo) -> AppResult<()> {
    match client
        .ip
        .as_deref()
        .and_then(|ip| limits::ip_bucket("mailcode", ip))
    {
        Some(bucket) => limits::hit(&svc.db, &bucket, svc.limits.login_per_ip).await,
        None => Ok(()),
    }
}

/// Mails a code for `purpose` to `email` if it has an account in the
/// collection (for verification: an unverified one); answers the same either way.
pub async fn request(
    svc: &Services,
    project: &Project,
    collection_name: Option<&str>,
    email: &str,
    client: &ClientInfo,
    purpose: Purpose,
) -> AppResult<()> {
    enabled(svc, purpose)?;
    let collection = collection(svc, project, collection_name).await?;
    count_address(svc, client).await?;
    match users::find_by_email(&svc.db, &collection, email).await? {
        Some(user) => send_code(svc, &user, purpose).await,
        None => Ok(()),
    }
}

/// Mails a code for `purpose` to a user (a disabled user, or for verification
/// an already verified one, gets nothing).
pub async fn send_code(svc: &Services, user: &User, purpose: Purpose) -> AppResult<()> {
    enabled(svc, purpose)?;
    if user.disabled || (purpose == Purpose::Verification && user.verified) {
        return Ok(());
    }
    issue_later(svc, user, purpose);
    Ok(())
}

/// Mails a signed-in user's requested new address a code that moves the
/// account there (with the account's password).
pub async fn request_email_change(svc: &Services, user: &User, new_email: &str) -> AppResult<()> {
    let purpose = Purpose::EmailChange;
    enabled(svc, purpose)?;
    let (email, normalized) = users::normalize_email(new_email)
        .map_err(|_| AppError::validation("newEmail", "Must be a valid email address."))?;
    if users::normalize_email(&user.email).is_ok_and(|(_, current)| current == normalized) {
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
fn issue_later(svc: &Services, user: &User, purpose: Purpose) -> String {
    let id = keys::new_id();
    let (svc, user, code_id) = (svc.clone(), user.clone(), id.clone());
    tokio::spawn(async move {
        let to = user.email.clone();
        if let Err(e) = issue(&svc, &user, purpose, &to, None, code_id).await {
            tracing::error!(error = ?e, purpose = purpose.key(), "could not issue an email code");
        }
    });
    id
}

/// Stores a new code under `id` (replacing the user's older one of that
/// purpose) and mails it to `to`.
async fn issue(
    svc: &Services,
    user: &User,
    purpose: Purpose,
    to: &str,
    payload: Option<&str>,
    id: String,
) -> AppResult<()> {
    // A flood of requests for one account does not flood its mailbox; the
    // caller is not told (that would reveal the account).
    let per_account = format!(
        "mail:{}:{}",
        purpose.key(),
        limits::identity_bucket(&user.collection_id, &user.id)
    );
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
            "INSERT INTO one_time_codes (id, user_id, purpose, token_hash, otp_hash, attempts, expires_at, created_at, payload) \
             VALUES ($1, $2, $3, $4, $5, 0, $6, $7, $8) \
             ON CONFLICT (user_id, purpose) DO UPDATE SET id = excluded.id, \
             token_hash = excluded.token_hash, otp_hash = excluded.otp_hash, attempts = 0, \
             expires_at = excluded.expires_at, created_at = excluded.created_at, \
             payload = excluded.payload",
            vec![
                id.into(),
                user.id.clone().into(),
                purpose.key().into(),
                svc.codes.hash("token", &token).into(),
                svc.codes.hash(&user.id, &code).into(),
                (now + CODE_TTL_SECS).into(),
                now.into(),
                payload.map(str::to_owned).into(),
            ],
        ))
        .await?;
    svc.mailer.send_later(mail(svc, to, &token, &code, purpose));
    tracing::info!(event = "email_code_sent", purpose = purpose.key(), user_id = %user.id);
    Ok(())
}

fn mail(svc: &Services, to: &str, token: &str, code: &str, purpose: Purpose) -> Mail {
    let minutes = CODE_TTL_SECS / 60;
    let (subject, why, path, action, otherwise) = match purpose {
        Purpose::PasswordReset => (
            "Reset your password",
            "Someone (hopefully you) asked to reset the password of this account.",
            "reset-password",
            "Choose a new password here:",
            "ignore this message: your password stays as it is.",
        ),
        Purpose::Verification => (
            "Confirm your email address",
            "Please confirm that this address belongs to your account.",
            "verify-email",
            "Confirm it here:",
            "ignore this message.",
        ),
        Purpose::LogIn => (
            "Your sign-in code",
            "Someone (hopefully you) asked to sign in to this account with a code.",
            "sign-in",
            "Sign in here:",
            "ignore this message: nobody can sign in without the code.",
        ),
        Purpose::EmailChange => (
            "Confirm your new email address",
            "Someone (hopefully you) asked to move an account to this address.",
            "confirm-email-change",
            "Confirm it here:",
            "ignore this message: nothing changes.",
        ),
    };
    let link = match svc.public_url.trim_end_matches('/') {
        "" => String::new(),
        base => format!("{action}\n{base}/{path}?token={token}\n\n"),
    };
    // Short lines: the message stays plain 7-bit text.
    Mail {
        to: to.to_owned(),
        subject: subject.into(),
        body: format!(
            "{why}\n\n\
             {link}Your code: {code}\n\n\
             Token, for apps that ask for it:\n{token}\n\n\
             Both work once, within {minutes} minutes. If you did not ask for this,\n\
             {otherwise}\n"
        ),
    }
}

/// A live code, checked, not yet spent.
struct Found {
    id: String,
    user: User,
    payload: Option<String>,
}

/// Finds the live code a proof names and checks it (counting a wrong
/// six-digit code), without spending it.
async fn find(
    svc: &Services,
    project: &Project,
    collection_name: Option<&str>,
    proof: Proof<'_>,
    purpose: Purpose,
) -> AppResult<Found> {
    let now = Utc::now().timestamp();
    let (code_id, user_id, payload) = match proof {
        Proof::Token(token) => {
            let row = svc
                .db
                .query_one_raw(sql(
                    &svc.db,
                    "SELECT id, user_id, payload FROM one_time_codes WHERE token_hash = $1 AND purpose = $2 AND expires_at > $3",
                    vec![svc.codes.hash("token", token).into(), purpose.key().into(), now.into()],
                ))
                .await?
                .ok_or_else(invalid)?;
            (
                row.try_get::<String>("", "id")?,
                row.try_get::<String>("", "user_id")?,
                row.try_get::<Option<String>>("", "payload")?,
            )
        }
        Proof::Code { email, code } => {
            let collection = collection(svc, project, collection_name).await?;
            let user = users::find_by_email(&svc.db, &collection, email)
                .await?
                .ok_or_else(invalid)?;
            let row = svc
                .db
                .query_one_raw(sql(
                    &svc.db,
                    "SELECT id, otp_hash, attempts, payload FROM one_time_codes WHERE user_id = $1 AND purpose = $2 AND expires_at > $3",
                    vec![user.id.clone().into(), purpose.key().into(), now.into()],
                ))
                .await?
                .ok_or_else(invalid)?;
            let id: String = row.try_get("", "id")?;
            let stored: String = row.try_get("", "otp_hash")?;
            let attempts: i32 = row.try_get("", "attempts")?;
            if !guess(svc, &id, &user.id, &stored, attempts, code).await? {
                return Err(invalid());
            }
            let payload: Option<String> = row.try_get("", "payload")?;
            (id, user.id, payload)
        }
    };
    // A token of another project is not ours.
    let user = users::get(&svc.db, &project.id, &user_id)
        .await
        .map_err(|_| invalid())?;
    Ok(Found {
        id: code_id,
        user,
        payload,
    })
}

/// Compares a typed six-digit code with the stored hash in constant time. Six
/// digits are guessable: a wrong guess is counted, and after a few the code
/// is gone.
async fn guess(
    svc: &Services,
    id: &str,
    user_id: &str,
    stored: &str,
    attempts: i32,
    code: &str,
) -> AppResult<bool> {
    if keys::ct_eq(&svc.codes.hash(user_id, code), stored) {
        return Ok(true);
    }
    let text = if i64::from(attempts) + 1 >= MAX_CODE_ATTEMPTS {
        "DELETE FROM one_time_codes WHERE id = $1"
    } else {
        "UPDATE one_time_codes SET attempts = attempts + 1 WHERE id = $1"
    };
    svc.db
        .execute_raw(sql(&svc.db, text, vec![id.into()]))
        .await?;
    Ok(false)
}

/// Spends a code: only one of two racing confirmations gets it.
async fn spend(svc: &Services, code_id: String) -> AppResult<()> {
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
    Ok(())
}

/// Sets a new password with a token or code from a reset mail.
pub async fn reset_password(
    svc: &Services,
    project: &Project,
    collection_name: Option<&str>,
    proof: Proof<'_>,
    new_password: &str,
    client: &ClientInfo,
) -> AppResult<User> {
    let purpose = Purpose::PasswordReset;
    enabled(svc, purpose)?;
    count_address(svc, client).await?;
    let found = find(svc, project, collection_name, proof, purpose).await?;
    // Checked before the code is spent: a password the policy refuses can be retried.
    let collection = svc
        .catalog
        .collection(&svc.db, &found.user.collection_id)
        .await?;
    check_policy(new_password, collection.settings.min_password_length)?;
    spend(svc, found.id).await?;
    users::reset_password(svc, &found.user.id, new_password).await
}

/// Marks the email verified with a token or code from a verification mail.
pub async fn verify_email(
    svc: &Services,
    project: &Project,
    collection_name: Option<&str>,
    proof: Proof<'_>,
    client: &ClientInfo,
) -> AppResult<User> {
    let purpose = Purpose::Verification;
    enabled(svc, purpose)?;
    count_address(svc, client).await?;
    let found = find(svc, project, collection_name, proof, purpose).await?;
    spend(svc, found.id).await?;
    users::mark_verified(svc, &found.user.id).await
}

/// Moves the account to the address an email-change mail went to, with the
/// token from it and the account's password. The old address is told.
pub async fn confirm_email_change(
    svc: &Services,
    project: &Project,
    token: &str,
    password: &str,
    client: &ClientInfo,
) -> AppResult<User> {
    let purpose = Purpose::EmailChange;
    enabled(svc, purpose)?;
    count_address(svc, client).await?;
    let found = find(svc, project, None, Proof::Token(token), purpose).await?;
    let new_email = found.payload.clone().ok_or_else(invalid)?;
    if !users::verify_password(svc, &found.user, password).await? {
        return Err(AppError::validation(
            "password",
            "The password is not the account's.",
        ));
    }
    // A taken address fails before the token is spent (the unique index
    // still decides a race).
    let collection = svc
        .catalog
        .collection(&svc.db, &found.user.collection_id)
        .await?;
    if users::find_by_email(&svc.db, &collection, &new_email)
        .await?
        .is_some()
    {
        return Err(AppError::EmailExists);
    }
    spend(svc, found.id).await?;
    let old = found.user.email.clone();
    let user = users::change_email(svc, &found.user.id, &new_email).await?;
    svc.mailer.send_later(Mail {
        to: old,
        subject: "Your email address was changed".into(),
        body: format!(
            "The email address of your account was changed to {}.\n\n\
             If you did not do this, contact the service's support at once.\n",
            user.email
        ),
    });
    Ok(user)
}

/// Mails a sign-in code to `email` if it has an account; returns the id to
/// sign in with, a random one when nothing was sent (the answer does not tell).
pub async fn request_login_code(
    svc: &Services,
    project: &Project,
    collection_name: Option<&str>,
    email: &str,
    client: &ClientInfo,
) -> AppResult<String> {
    let purpose = Purpose::LogIn;
    enabled(svc, purpose)?;
    let collection = collection(svc, project, collection_name).await?;
    count_address(svc, client).await?;
    Ok(
        match users::find_by_email(&svc.db, &collection, email).await? {
            Some(user) if !user.disabled => issue_later(svc, &user, purpose),
            _ => keys::new_id(),
        },
    )
}

/// Signs in with the id from `request_login_code` and the mailed code.
pub async fn log_in_with_code(
    svc: &Services,
    project: &Project,
    code_id: &str,
    code: &str,
    client: &ClientInfo,
    lifetime: users::TokenLifetime,
) -> AppResult<users::AuthResult> {
    let purpose = Purpose::LogIn;
    enabled(svc, purpose)?;
    count_address(svc, client).await?;
    let refused = || AppError::InvalidCredentials;
    let now = Utc::now().timestamp();
    let row = svc
        .db
        .query_one_raw(sql(
            &svc.db,
            "SELECT user_id, otp_hash, attempts FROM one_time_codes WHERE id = $1 AND purpose = $2 AND expires_at > $3",
            vec![code_id.into(), purpose.key().into(), now.into()],
        ))
        .await?
        .ok_or_else(refused)?;
    let user_id: String = row.try_get("", "user_id")?;
    let stored: String = row.try_get("", "otp_hash")?;
    let attempts: i32 = row.try_get("", "attempts")?;
    if !guess(svc, code_id, &user_id, &stored, attempts, code).await? {
        return Err(refused());
    }
    let user = users::get(&svc.db, &project.id, &user_id)
        .await
        .map_err(|_| refused())?;
    spend(svc, code_id.to_owned())
        .await
        .map_err(|_| refused())?;
    users::log_in_proven(svc, &user.id, client, lifetime).await
}

/// Tells a user that its password changed (when the server sends mail), so
/// a change it did not make does not go unnoticed.
pub fn notify_password_changed(svc: &Services, user: &User) {
    if !svc.mailer.enabled() {
        return;
    }
    svc.mailer.send_later(Mail {
        to: user.email.clone(),
        subject: "Your password was changed".into(),
        body: "The password of your account was just changed, and the sessions\n\
               signed in with the old one were ended.\n\n\
               If you did not do this, reset your password now and contact the\n\
               service's support.\n"
            .into(),
    });
}

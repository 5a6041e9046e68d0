//! What a code is for, what proves it, and the limits on codes.

use crate::auth::keys;
use crate::domain::client::ClientInfo;
use crate::domain::collections::{Collection, DEFAULT_COLLECTION};
use crate::domain::limits::{self};
use crate::domain::projects::Project;
use crate::domain::services::Services;
use crate::error::{AppError, AppResult};
use crate::store::codes;

pub const CODE_TTL_SECS: i64 = 30 * 60;

/// How long a log-in waits for its second factor, and so how long a code
/// mailed as that second factor lives.
pub const SECOND_FACTOR_TTL_SECS: i64 = 5 * 60;

pub const MAX_CODE_ATTEMPTS: i64 = 5;

/// What a code is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    PasswordReset,
    Verification,
    EmailChange,
    /// Log-in with a code instead of the password.
    LogIn,
    /// A code by mail as the second factor of a log-in.
    SecondFactor,
}

impl Purpose {
    /// The audit event of mailing a code for this purpose, if any.
    pub fn audit_kind(self) -> Option<crate::domain::audit::Kind> {
        use crate::domain::audit::Kind;
        match self {
            Purpose::PasswordReset => Some(Kind::PasswordResetRequested),
            Purpose::Verification => Some(Kind::VerificationRequested),
            Purpose::EmailChange => Some(Kind::EmailChangeRequested),
            Purpose::LogIn | Purpose::SecondFactor => None,
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Purpose::PasswordReset => "password_reset",
            Purpose::Verification => "verify_email",
            Purpose::EmailChange => "email_change",
            Purpose::LogIn => "login",
            Purpose::SecondFactor => "second_factor",
        }
    }

    /// How long a code of this purpose stays valid (the mail says so).
    pub const fn ttl_secs(self) -> i64 {
        match self {
            Purpose::SecondFactor => SECOND_FACTOR_TTL_SECS,
            _ => CODE_TTL_SECS,
        }
    }

    fn what(self) -> &'static str {
        match self {
            Purpose::PasswordReset => "password reset by email",
            Purpose::Verification => "email verification",
            Purpose::EmailChange => "email change",
            Purpose::LogIn => "OTP authentication",
            Purpose::SecondFactor => "two-factor authentication by email",
        }
    }
}

/// What proves control of the mailbox.
pub enum Proof<'a> {
    /// The token from the mail's link: it names its account. `collection`:
    /// the id of the collection the caller's URL names (PocketBase), which
    /// that account must be in; `None`: any collection of the project.
    Token {
        token: &'a str,
        collection: Option<&'a str>,
    },
    /// The six-digit code, with the account's email and the collection it
    /// is in (`None`: the default one).
    Code {
        collection: Option<&'a str>,
        email: &'a str,
        code: &'a str,
    },
}

impl<'a> Proof<'a> {
    /// A token of any collection of the project.
    pub fn token(token: &'a str) -> Self {
        Proof::Token {
            token,
            collection: None,
        }
    }
}

pub(super) fn invalid() -> AppError {
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

pub(super) async fn collection(
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
pub(super) async fn count_address(svc: &Services, client: &ClientInfo) -> AppResult<()> {
    match client
        .ip
        .as_deref()
        .and_then(|ip| limits::ip_bucket("mailcode", ip))
    {
        Some(bucket) => limits::hit(svc, &bucket, svc.limits.mail_code_per_ip).await,
        None => Ok(()),
    }
}

/// Compares a typed six-digit code with the stored hash in constant time. Six
/// digits are guessable: a wrong guess is counted, and after a few the code
/// is gone.
pub(super) async fn guess(svc: &Services, live: &codes::LiveCode, code: &str) -> AppResult<bool> {
    if keys::ct_eq(&svc.codes.hash(&live.user_id, code), &live.otp_hash) {
        return Ok(true);
    }
    let last = i64::from(live.attempts) + 1 >= MAX_CODE_ATTEMPTS;
    codes::count_wrong(&svc.db, &live.id, last).await?;
    Ok(false)
}

//! One error type with stable codes, rendered by each front door.
use std::fmt;

/// Every failure the domain reports. `code()` is stable and part of the API.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("an account with this email already exists")]
    EmailExists,
    #[error("the email address is not valid")]
    InvalidEmail,
    #[error("{0}")]
    WeakPassword(String),
    #[error("invalid email or password")]
    InvalidCredentials,
    #[error("authentication required")]
    Unauthenticated,
    #[error("the token is invalid or expired")]
    InvalidToken,
    #[error("the refresh token was already used; the session is revoked")]
    TokenReused,
    #[error("this account is disabled")]
    AccountDisabled,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{message}")]
    Validation {
        field: Option<String>,
        message: String,
        /// The value is missing (rather than wrong): PocketBase's `validation_required`.
        required: bool,
    },
    #[error("the value of `{0}` is already taken")]
    Conflict(String),
    #[error("profile data exceeds the limit of {0} bytes")]
    PayloadTooLarge(usize),
    #[error("the request body exceeds the limit of {0} bytes")]
    BodyTooLarge(usize),
    /// A request the framework refuses before any rule applies: an unknown
    /// route or method, an unsupported content type (status 404, 405, 415…).
    #[error("{message}")]
    Rejected { status: u16, message: String },
    #[error("the second-factor challenge is invalid or has expired; log in again")]
    ChallengeInvalid,
    #[error("the second-factor code is not valid")]
    InvalidSecondFactor,
    #[error("`{field}` exceeds the limit of {limit} bytes")]
    FileTooLarge { field: String, limit: u64 },
    #[error("too many attempts; try again later")]
    RateLimited { retry_after: u64 },
    /// A sign-in provider could not be reached, timed out or answered nonsense.
    #[error("{0}")]
    ProviderUnavailable(String),
    /// A provider's answer does not prove the sign-in (a refused code, a bad ID token).
    #[error("{0}")]
    OAuthRejected(String),
    /// The database cannot serve the request now (unreachable, restarting,
    /// read-only or out of space): 503, worth retrying. The cause is logged.
    #[error("the service is temporarily unavailable; try again shortly")]
    Unavailable(#[source] anyhow::Error),
    /// The password hasher's queue is full: the request was refused before
    /// any hashing (and changed nothing): 503, worth retrying after a pause.
    #[error("the server is busy; try again shortly")]
    Overloaded,
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl AppError {
    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::EmailExists => "EMAIL_EXISTS",
            AppError::InvalidEmail => "INVALID_EMAIL",
            AppError::WeakPassword(_) => "WEAK_PASSWORD",
            AppError::InvalidCredentials => "INVALID_CREDENTIALS",
            AppError::Unauthenticated => "UNAUTHENTICATED",
            AppError::InvalidToken => "INVALID_TOKEN",
            AppError::TokenReused => "TOKEN_REUSED",
            AppError::AccountDisabled => "ACCOUNT_DISABLED",
            AppError::Forbidden(_) => "FORBIDDEN",
            AppError::NotFound(_) => "NOT_FOUND",
            AppError::Validation { .. } => "VALIDATION",
            AppError::Conflict(_) => "CONFLICT",
            AppError::PayloadTooLarge(_) | AppError::BodyTooLarge(_) => "PAYLOAD_TOO_LARGE",
            AppError::Rejected { status, .. } => match status {
                404 => "NOT_FOUND",
                405 => "METHOD_NOT_ALLOWED",
                415 => "UNSUPPORTED_MEDIA_TYPE",
                _ => "BAD_REQUEST",
            },
            AppError::ChallengeInvalid => "CHALLENGE_INVALID",
            AppError::InvalidSecondFactor => "INVALID_SECOND_FACTOR",
            AppError::FileTooLarge { .. } => "FILE_TOO_LARGE",
            AppError::RateLimited { .. } => "RATE_LIMITED",
            AppError::ProviderUnavailable(_) => "OAUTH_PROVIDER_UNAVAILABLE",
            AppError::OAuthRejected(_) => "OAUTH_REJECTED",
            AppError::Unavailable(_) => "UNAVAILABLE",
            AppError::Overloaded => "OVERLOADED",
            AppError::Internal(_) => "INTERNAL",
        }
    }

    /// The HTTP status a plain JSON rendering uses.
    pub fn status(&self) -> u16 {
        match self {
            AppError::EmailExists | AppError::Conflict(_) => 409,
            AppError::InvalidEmail | AppError::WeakPassword(_) | AppError::Validation { .. } => 400,
            AppError::InvalidCredentials
            | AppError::Unauthenticated
            | AppError::InvalidToken
            | AppError::ChallengeInvalid
            | AppError::InvalidSecondFactor
            | AppError::OAuthRejected(_) => 401,
            AppError::AccountDisabled | AppError::Forbidden(_) | AppError::TokenReused => 403,
            AppError::NotFound(_) => 404,
            AppError::PayloadTooLarge(_)
            | AppError::BodyTooLarge(_)
            | AppError::FileTooLarge { .. } => 413,
            AppError::Rejected { status, .. } => *status,
            AppError::RateLimited { .. } => 429,
            AppError::ProviderUnavailable(_) => 502,
            AppError::Unavailable(_) | AppError::Overloaded => 503,
            AppError::Internal(_) => 500,
        }
    }

    /// The field a validation error is about, when there is one.
    pub fn field(&self) -> Option<&str> {
        match self {
            AppError::Validation { field, .. } => field.as_deref(),
            AppError::InvalidEmail | AppError::EmailExists => Some("email"),
            AppError::WeakPassword(_) => Some("password"),
            AppError::Conflict(f) => Some(f),
            AppError::FileTooLarge { field, .. } => Some(field),
            _ => None,
        }
    }

    /// The message safe to show a client: internal details are never included.
    pub fn public_message(&self) -> String {
        self.to_string()
    }

    /// Seconds to wait before trying again, for a refusal by a rate limit, a
    /// database outage or a full hashing queue.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            AppError::RateLimited { retry_after } => Some(*retry_after),
            AppError::Unavailable(_) | AppError::Overloaded => Some(1),
            _ => None,
        }
    }

    pub fn validation(field: impl Into<String>, message: impl fmt::Display) -> Self {
        AppError::Validation {
            field: Some(field.into()),
            message: message.to_string(),
            required: false,
        }
    }

    /// A required value that is missing.
    pub fn required(field: impl Into<String>, message: impl fmt::Display) -> Self {
        AppError::Validation {
            field: Some(field.into()),
            message: message.to_string(),
            required: true,
        }
    }

    pub fn internal(err: impl Into<anyhow::Error>) -> Self {
        AppError::Internal(err.into())
    }
}

impl From<sea_orm::DbErr> for AppError {
    fn from(err: sea_orm::DbErr) -> Self {
        if db_unavailable(&err) {
            AppError::Unavailable(err.into())
        } else {
            AppError::Internal(err.into())
        }
    }
}

/// A database error that says nothing about the request: no connection
/// (refused, dropped, the pool timed out), PostgreSQL shutting down or
/// starting (SQLSTATE class 08, 57P01–57P03), SQLite read-only (8), out of
/// space (13) or unable to open its file (14). Retrying later can succeed.
fn db_unavailable(err: &sea_orm::DbErr) -> bool {
    use sea_orm::sqlx::Error as Sqlx;
    use sea_orm::{DbErr, RuntimeErr};
    let sqlx = match err {
        DbErr::ConnectionAcquire(_) => return true,
        DbErr::Conn(RuntimeErr::SqlxError(e))
        | DbErr::Exec(RuntimeErr::SqlxError(e))
        | DbErr::Query(RuntimeErr::SqlxError(e)) => e,
        DbErr::Conn(_) => return true,
        _ => return false,
    };
    match sqlx.as_ref() {
        Sqlx::Io(_)
        | Sqlx::Tls(_)
        | Sqlx::PoolTimedOut
        | Sqlx::PoolClosed
        | Sqlx::WorkerCrashed => true,
        Sqlx::Database(db) => {
            let code = db.code().unwrap_or_default();
            // SQLite's codes are numbers of at most four digits (an extended
            // code keeps the primary one in its low byte); SQLSTATEs have five.
            let sqlite = (code.len() < 5)
                .then(|| code.parse::<u32>().ok())
                .flatten()
                .map(|c| c & 0xff);
            code.starts_with("08")
                || matches!(code.as_ref(), "57P01" | "57P02" | "57P03")
                || matches!(sqlite, Some(8 | 13 | 14))
        }
        _ => false,
    }
}

pub type AppResult<T> = Result<T, AppError>;

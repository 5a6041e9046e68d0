//! What the authentication counter's labels say: how a caller proved who it
//! is, and what became of it.
use crate::error::AppError;

/// How a caller proved who it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthMethod {
    Password,
    OAuth,
    Passkey,
    /// A one-time code by mail.
    Otp,
    /// A second factor answering a log-in challenge.
    SecondFactor,
    Refresh,
    /// A superuser's password (PocketBase `_superusers`).
    Superuser,
}

impl AuthMethod {
    pub(super) fn label(self) -> &'static str {
        match self {
            AuthMethod::Password => "password",
            AuthMethod::OAuth => "oauth",
            AuthMethod::Passkey => "passkey",
            AuthMethod::Otp => "otp",
            AuthMethod::SecondFactor => "second_factor",
            AuthMethod::Refresh => "refresh",
            AuthMethod::Superuser => "superuser",
        }
    }
}

/// What became of an authentication attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthOutcome {
    /// The credential was right (a second factor may still be asked for).
    Success,
    /// Wrong or unknown credential.
    Failure,
    /// Refused unchecked: the identifier is locked after too many failures.
    Locked,
    /// Refused unchecked: the client's address is over its rate limit.
    Limited,
    /// The credential was right but the account is disabled.
    Disabled,
    /// Not decided: a provider or the server failed, or was too busy to check.
    Error,
}

impl AuthOutcome {
    pub(super) fn label(self) -> &'static str {
        match self {
            AuthOutcome::Success => "success",
            AuthOutcome::Failure => "failure",
            AuthOutcome::Locked => "locked",
            AuthOutcome::Limited => "limited",
            AuthOutcome::Disabled => "disabled",
            AuthOutcome::Error => "error",
        }
    }

    /// The outcome an error of an attempt stands for.
    pub fn of_error(error: &AppError) -> AuthOutcome {
        match error {
            AppError::RateLimited { .. } => AuthOutcome::Limited,
            AppError::AccountDisabled => AuthOutcome::Disabled,
            AppError::Internal(_) | AppError::ProviderUnavailable(_) | AppError::Overloaded => {
                AuthOutcome::Error
            }
            _ => AuthOutcome::Failure,
        }
    }
}

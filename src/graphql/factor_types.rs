//! GraphQL types of log-in outcomes and second factors.
use async_graphql::{Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::types::{AuthPayload, UserObject};
use crate::domain::second_factor::{Challenge, LogInOutcome, TotpEnrolment};

/// The outcome of a log-in: tokens, or `secondFactorRequired` (and no token)
/// when the account has a second factor; answer it with `verifySecondFactor`.
pub struct LogInPayload(pub LogInOutcome);

impl LogInPayload {
    fn auth(&self) -> Option<AuthPayload> {
        match &self.0 {
            LogInOutcome::Complete(a) => Some(AuthPayload(a.clone())),
            LogInOutcome::SecondFactorRequired(_) => None,
        }
    }
}

#[Object]
impl LogInPayload {
    /// Access token; null while a second factor is required.
    async fn token(&self) -> Option<String> {
        self.auth().map(|a| a.0.token)
    }
    /// Refresh token for `refreshToken`; null while a second factor is required.
    async fn refresh_token(&self) -> Option<String> {
        self.auth().and_then(|a| a.0.refresh_token)
    }
    /// Seconds until the access token expires.
    async fn expires_in(&self) -> Option<i64> {
        self.auth().map(|a| a.0.expires_in)
    }
    /// The session the tokens belong to.
    async fn session_id(&self) -> Option<String> {
        self.auth().map(|a| a.0.session_id)
    }
    /// The authenticated user; null while a second factor is required.
    async fn user(&self) -> Option<UserObject> {
        self.auth().map(|a| UserObject::full(a.0.user))
    }
    /// Set instead of the tokens when the log-in needs a second factor.
    async fn second_factor_required(&self) -> Option<SecondFactorChallenge> {
        match &self.0 {
            LogInOutcome::SecondFactorRequired(c) => Some(SecondFactorChallenge::from(c)),
            LogInOutcome::Complete(_) => None,
        }
    }
}

/// A log-in waiting for its second factor.
#[derive(SimpleObject)]
pub struct SecondFactorChallenge {
    /// Pass it to `verifySecondFactor` (or, for `enrol_totp`, to `enrollTotp`
    /// and `confirmTotp`).
    pub challenge_id: String,
    /// What can answer it: `totp`, `recovery_code`, `email` (a code sent by
    /// mail), `otp`, `password`, `passkey` (see `passkeyLoginOptions`), or
    /// `enrol_totp` (the collection requires a second factor and the user
    /// has none yet).
    pub methods: Vec<String>,
    /// When it expires; log in again after.
    pub expires_at: DateTime<Utc>,
}

impl From<&Challenge> for SecondFactorChallenge {
    fn from(c: &Challenge) -> Self {
        Self {
            challenge_id: c.id.clone(),
            methods: c.methods.iter().map(|m| m.key().to_owned()).collect(),
            expires_at: c.expires_at,
        }
    }
}

/// An authenticator app being enrolled: show it once, then `confirmTotp`.
#[derive(SimpleObject)]
pub struct TotpEnrolmentObject {
    /// The secret in base32, to type into the app.
    pub secret: String,
    /// The `otpauth://` URI.
    pub uri: String,
    /// The URI as a QR code, an SVG image.
    pub qr_code_svg: String,
}

impl From<TotpEnrolment> for TotpEnrolmentObject {
    fn from(e: TotpEnrolment) -> Self {
        Self {
            secret: e.secret,
            uri: e.uri,
            qr_code_svg: e.qr_svg,
        }
    }
}

/// A confirmed authenticator app: recovery codes (shown once) and, when it
/// answered a log-in's enrolment challenge, the tokens.
#[derive(SimpleObject)]
pub struct TotpConfirmation {
    /// Ten single-use codes that stand in for the app; keep them safe.
    pub recovery_codes: Vec<String>,
    /// Tokens of the log-in that asked for the enrolment, if one did.
    pub auth: Option<AuthPayload>,
}

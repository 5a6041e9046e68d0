//! The one outcome of a first factor: tokens, or a challenge that a second
//! method must answer before any token is issued.
use chrono::{DateTime, Utc};

use super::factors::{self, EMAIL, TOTP, TotpEnrolment};
use crate::auth::keys;
use crate::domain::audit::{self, Kind};
use crate::domain::client::ClientInfo;
use crate::domain::collections::Collection;
use crate::domain::email_codes::factor::second_factor_code;
use crate::domain::email_codes::issue::issue_later;
use crate::domain::email_codes::purpose::{Purpose, SECOND_FACTOR_TTL_SECS};
use crate::domain::limits::{self, LoginGuard};
use crate::domain::projects::Project;
use crate::domain::services::Services;
use crate::domain::users::issue::start_session;
use crate::domain::users::model::{AuthResult, SignInContext, TokenLifetime, User};
use crate::domain::users::query;
use crate::error::{AppError, AppResult};
use crate::metrics::AuthMethod;
use crate::store::factors::{self as store, ChallengeKey, ChallengeRow};

/// How long a challenge waits for its second factor (a code mailed for it
/// lives as long, and its mail says so).
pub const CHALLENGE_TTL_SECS: i64 = SECOND_FACTOR_TTL_SECS;
/// Wrong answers a challenge takes before it is void.
pub const MAX_CHALLENGE_ATTEMPTS: i32 = 5;

/// A way to authenticate, first or second.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Password,
    /// A sign-in code by mail (PocketBase's OTP, GraphQL's `logInWithCode`).
    LoginCode,
    Totp,
    RecoveryCode,
    /// A code mailed after the password (Cocobase's two-factor log-in).
    EmailCode,
    /// No factor yet, but the collection requires one: enrol a TOTP app.
    Enrol,
    /// A sign-in with an OAuth2 / OpenID Connect provider.
    OAuth2,
    /// A passkey (WebAuthn).
    Passkey,
}

impl Method {
    pub fn key(self) -> &'static str {
        match self {
            Method::Password => "password",
            Method::LoginCode => "otp",
            Method::Totp => "totp",
            Method::RecoveryCode => "recovery_code",
            Method::EmailCode => "email",
            Method::Enrol => "enrol_totp",
            Method::OAuth2 => "oauth2",
            Method::Passkey => "passkey",
        }
    }

    fn of(key: &str) -> Option<Method> {
        [
            Method::Password,
            Method::LoginCode,
            Method::Totp,
            Method::RecoveryCode,
            Method::EmailCode,
            Method::Enrol,
            Method::OAuth2,
            Method::Passkey,
        ]
        .into_iter()
        .find(|m| m.key() == key)
    }
}

/// A log-in waiting for its second factor.
#[derive(Clone, Debug)]
pub struct Challenge {
    pub id: String,
    pub user_id: String,
    /// The methods that can answer it.
    pub methods: Vec<Method>,
    pub expires_at: DateTime<Utc>,
}

/// What a first factor leads to.
#[derive(Clone, Debug)]
pub enum LogInOutcome {
    Complete(AuthResult),
    SecondFactorRequired(Challenge),
}

/// The end of every first factor: tokens when nothing more is needed, else
/// a challenge. `sign_in.mfa_id` names a challenge this factor answers (PocketBase's
/// second method of an MFA log-in); it must be the same user's, in the same
/// project, and a method it lists other than its first.
pub async fn after_first_factor(
    svc: &Services,
    collection: &Collection,
    user: User,
    first: Method,
    sign_in: &SignInContext,
) -> AppResult<LogInOutcome> {
    let (client, lifetime) = (&sign_in.client, sign_in.lifetime);
    let now = Utc::now().timestamp();
    if let Some(id) = sign_in.mfa_id.as_deref().filter(|id| !id.is_empty()) {
        let c = store::live_challenge(&svc.db, ChallengeKey::Id(id), now)
            .await?
            .filter(|c| c.user_id == user.id && c.project_id == user.project_id)
            .ok_or(AppError::ChallengeInvalid)?;
        if c.first_method == first.key() || !methods_of(&c).contains(&first) {
            return Err(AppError::ChallengeInvalid);
        }
        if !store::take_challenge(&svc.db, &c.id).await? {
            return Err(AppError::ChallengeInvalid);
        }
        let passed = audit::of(&user, Kind::SecondFactor).client(client);
        passed.with("method", first.key()).save(svc).await?;
        let auth = start_session(svc, collection, user, client, lifetime).await?;
        return Ok(LogInOutcome::Complete(auth));
    }
    let kinds = factors::active(svc, &user.id).await?;
    let mut methods = vec![];
    if kinds.iter().any(|k| k == TOTP) {
        methods.push(Method::Totp);
    }
    if kinds.iter().any(|k| k == EMAIL) {
        if svc.mailer.enabled() {
            methods.push(Method::EmailCode);
        } else if methods.is_empty() {
            // Fail closed: a factor this server cannot send is still the
            // account's factor, never a reason to let the password alone in.
            return Err(AppError::Forbidden(
                "this account's second factor is a code by mail, and this server sends no mail (AUTHGRAPH_SMTP_URL)".into(),
            ));
        }
    }
    if !methods.is_empty() {
        methods.push(Method::RecoveryCode);
    }
    let settings = &collection.settings;
    // A passkey answers a challenge the account has anyway, and stands for
    // the second factor a collection requires (no enrolment then).
    if first != Method::Passkey
        && (!methods.is_empty() || settings.mfa || settings.second_factor_required(&user.roles))
        && !crate::store::passkeys::of_user(&svc.db, &user.id)
            .await?
            .is_empty()
    {
        methods.push(Method::Passkey);
    }
    if settings.mfa {
        for m in [Method::Password, Method::LoginCode] {
            if m != first && (m != Method::LoginCode || svc.mailer.enabled()) {
                methods.push(m);
            }
        }
    }
    if methods.is_empty() && settings.second_factor_required(&user.roles) {
        methods.push(Method::Enrol);
    }
    if methods.is_empty() && settings.mfa {
        // MFA asks for two different methods; without mail and without an
        // app this user has only one. Refuse rather than let one suffice.
        tracing::warn!(event = "mfa_unavailable", collection = %collection.name, user_id = %user.id);
        return Err(mfa_unavailable(&collection.name));
    }
    if methods.is_empty() {
        let auth = start_session(svc, collection, user, client, lifetime).await?;
        return Ok(LogInOutcome::Complete(auth));
    }
    let ttl = if settings.mfa {
        settings.mfa_duration_secs
    } else {
        CHALLENGE_TTL_SECS
    };
    let row = ChallengeRow {
        id: keys::random_token(32),
        user_id: user.id.clone(),
        project_id: user.project_id.clone(),
        collection_id: collection.id.clone(),
        first_method: first.key().to_owned(),
        methods: methods
            .iter()
            .map(|m| m.key())
            .collect::<Vec<_>>()
            .join(","),
        attempts: 0,
        long_lived: lifetime == TokenLifetime::LongLived,
        expires_at: now + ttl,
    };
    store::insert_challenge(&svc.db, &row, now).await?;
    if methods.contains(&Method::EmailCode) {
        issue_later(svc, &user, Purpose::SecondFactor);
    }
    tracing::info!(event = "second_factor_required", first = first.key(), user_id = %user.id);
    Ok(LogInOutcome::SecondFactorRequired(challenge_of(&row)))
}

/// Refuses, before an account is created, a sign-up that could never log
/// in: PocketBase's MFA on, no mail for one-time codes and no enrolment asked
/// of `roles` (a new account has no authenticator app yet).
pub fn refuse_unreachable_mfa(
    svc: &Services,
    collection: &Collection,
    roles: &[String],
) -> AppResult<()> {
    let settings = &collection.settings;
    if settings.mfa && !svc.mailer.enabled() && !settings.second_factor_required(roles) {
        return Err(mfa_unavailable(&collection.name));
    }
    Ok(())
}

/// The refusal of an MFA log-in that has no second method to offer.
fn mfa_unavailable(collection: &str) -> AppError {
    AppError::Forbidden(format!(
        "MFA is on for collection `{collection}` but this account has no second method: \
         the server sends no mail (set AUTHGRAPH_SMTP_URL for one-time codes) and the \
         account has no authenticator app"
    ))
}

fn methods_of(c: &ChallengeRow) -> Vec<Method> {
    c.methods.split(',').filter_map(Method::of).collect()
}

fn challenge_of(c: &ChallengeRow) -> Challenge {
    Challenge {
        id: c.id.clone(),
        user_id: c.user_id.clone(),
        methods: methods_of(c),
        expires_at: DateTime::from_timestamp(c.expires_at, 0).unwrap_or_default(),
    }
}

fn lifetime_of(c: &ChallengeRow) -> TokenLifetime {
    if c.long_lived {
        TokenLifetime::LongLived
    } else {
        TokenLifetime::Short
    }
}

/// A second factor's answer to a challenge.
pub enum SecondProof<'a> {
    /// A TOTP code or a mailed code, whichever the challenge takes.
    Code(&'a str),
    RecoveryCode(&'a str),
    /// A passkey of `user_id`, its assertion already verified; another
    /// user's, or a challenge a passkey may not answer, is refused as an
    /// invalid challenge (not counted as a wrong answer).
    Passkey {
        user_id: &'a str,
    },
}

/// The live challenge `id` of the project, with its user and a guard that
/// counts wrong answers against the account.
async fn open(
    svc: &Services,
    project: &Project,
    id: &str,
    client: &ClientInfo,
) -> AppResult<(ChallengeRow, User, LoginGuard)> {
    let now = Utc::now().timestamp();
    let c = store::live_challenge(&svc.db, ChallengeKey::Id(id), now)
        .await?
        // A challenge of another project is void here.
        .filter(|c| c.project_id == project.id)
        .ok_or(AppError::ChallengeInvalid)?;
    // Every answer counts, right or wrong: six digits must not be guessable.
    limits::second_factor(svc, client, &c.user_id).await?;
    let scope = format!("2fa:{}", c.collection_id);
    let guard =
        LoginGuard::enter(svc, AuthMethod::SecondFactor, &scope, &c.user_id, client).await?;
    let user = query::get(&svc.db, &project.id, &c.user_id)
        .await
        .map_err(|_| AppError::ChallengeInvalid)?;
    if user.disabled {
        return Err(AppError::AccountDisabled);
    }
    Ok((c, user, guard))
}

/// `open`, for a challenge that `method` answers.
async fn open_for(
    svc: &Services,
    project: &Project,
    id: &str,
    client: &ClientInfo,
    method: Method,
) -> AppResult<(ChallengeRow, User, LoginGuard)> {
    let opened = open(svc, project, id, client).await?;
    if !methods_of(&opened.0).contains(&method) {
        return Err(AppError::ChallengeInvalid);
    }
    Ok(opened)
}

/// A wrong answer: counted on the challenge (void after a few) and the account.
async fn wrong(svc: &Services, c: &ChallengeRow, guard: LoginGuard) -> AppError {
    let last = c.attempts + 1 >= MAX_CHALLENGE_ATTEMPTS;
    if let Err(e) = store::count_wrong(&svc.db, &c.id, last).await {
        return e;
    }
    if let Err(e) = guard.failed(svc).await {
        return e;
    }
    let failed = audit::in_collection(&c.project_id, &c.collection_id, Kind::SecondFactor);
    failed
        .user(&c.user_id)
        .failed()
        .refuse(svc, AppError::InvalidSecondFactor)
        .await
}

/// Answers a challenge with a second factor; tokens when it is right.
pub async fn verify(
    svc: &Services,
    project: &Project,
    id: &str,
    proof: SecondProof<'_>,
    client: &ClientInfo,
) -> AppResult<AuthResult> {
    let (c, user, guard) = open(svc, project, id, client).await?;
    let methods = methods_of(&c);
    let ok = match proof {
        SecondProof::Code(code) => {
            (methods.contains(&Method::Totp)
                && factors::check_totp(svc, &user.id, code, false).await?)
                || (methods.contains(&Method::EmailCode)
                    && second_factor_code(svc, &user.id, code).await?)
        }
        SecondProof::RecoveryCode(code) => {
            methods.contains(&Method::RecoveryCode)
                && factors::use_recovery_code(svc, &user, code)
                    .await?
                    .is_some()
        }
        SecondProof::Passkey { user_id } => {
            if !methods.contains(&Method::Passkey) || c.user_id != user_id {
                return Err(AppError::ChallengeInvalid);
            }
            true
        }
    };
    if !ok {
        return Err(wrong(svc, &c, guard).await);
    }
    complete(svc, &c, user, guard, client).await
}

async fn complete(
    svc: &Services,
    c: &ChallengeRow,
    user: User,
    guard: LoginGuard,
    client: &ClientInfo,
) -> AppResult<AuthResult> {
    if !store::take_challenge(&svc.db, &c.id).await? {
        return Err(AppError::ChallengeInvalid);
    }
    guard.succeeded(svc).await?;
    let collection = svc.catalog.collection(&svc.db, &c.collection_id).await?;
    audit::of(&user, Kind::SecondFactor)
        .client(client)
        .save(svc)
        .await?;
    start_session(svc, &collection, user, client, lifetime_of(c)).await
}

/// The user's newest live challenge in a collection, named by email
/// (Cocobase's `2fa/verify` and `2fa/send-code` send no challenge id).
async fn by_email(
    svc: &Services,
    collection: &Collection,
    email: &str,
) -> AppResult<Option<ChallengeRow>> {
    let Some(user) = query::find_by_email(&svc.db, collection, email).await? else {
        return Ok(None);
    };
    let key = ChallengeKey::NewestOf(&user.id);
    store::live_challenge(&svc.db, key, Utc::now().timestamp()).await
}

/// Cocobase's `2fa/verify {email, code}`.
pub async fn verify_by_email(
    svc: &Services,
    project: &Project,
    collection: &Collection,
    email: &str,
    code: &str,
    client: &ClientInfo,
) -> AppResult<AuthResult> {
    let c = by_email(svc, collection, email)
        .await?
        .ok_or(AppError::ChallengeInvalid)?;
    verify(svc, project, &c.id, SecondProof::Code(code), client).await
}

/// Cocobase's `2fa/send-code {email}`: a new code by mail for a pending
/// log-in (nothing is sent without one; the answer is the same).
pub async fn resend_email_code(
    svc: &Services,
    collection: &Collection,
    email: &str,
) -> AppResult<()> {
    crate::domain::email_codes::purpose::enabled(svc, Purpose::SecondFactor)?;
    if let Some(c) = by_email(svc, collection, email).await?
        && methods_of(&c).contains(&Method::EmailCode)
        && let Ok(user) = query::get(&svc.db, &c.project_id, &c.user_id).await
    {
        issue_later(svc, &user, Purpose::SecondFactor);
    }
    Ok(())
}

/// Enrolment asked for after the first factor (a collection requiring a
/// second factor, a user without one).
pub async fn enrol_in_challenge(
    svc: &Services,
    project: &Project,
    id: &str,
    client: &ClientInfo,
) -> AppResult<TotpEnrolment> {
    let (_, user, _) = open_for(svc, project, id, client, Method::Enrol).await?;
    factors::enroll_totp(svc, &user, &project.name).await
}

/// Confirms the enrolment of `enrol_in_challenge`: recovery codes and tokens.
pub async fn confirm_enrolment(
    svc: &Services,
    project: &Project,
    id: &str,
    code: &str,
    client: &ClientInfo,
) -> AppResult<(Vec<String>, AuthResult)> {
    let (c, user, guard) = open_for(svc, project, id, client, Method::Enrol).await?;
    let codes = match factors::confirm_totp(svc, &user, code, None).await {
        Ok(codes) => codes,
        Err(AppError::InvalidSecondFactor) => return Err(wrong(svc, &c, guard).await),
        Err(e) => return Err(e),
    };
    let auth = complete(svc, &c, user, guard, client).await?;
    Ok((codes, auth))
}

/// The user of a live challenge of the project that a passkey may answer.
pub async fn passkey_challenge_user(
    svc: &Services,
    project: &Project,
    id: &str,
) -> AppResult<String> {
    let now = Utc::now().timestamp();
    store::live_challenge(&svc.db, ChallengeKey::Id(id), now)
        .await?
        .filter(|c| c.project_id == project.id && methods_of(c).contains(&Method::Passkey))
        .map(|c| c.user_id)
        .ok_or(AppError::ChallengeInvalid)
}

//! Confirmations: a code found, checked and spent, and what it proves done.
use chrono::Utc;

use super::purpose::*;
use crate::domain::audit::{self, Kind};
use crate::domain::client::ClientInfo;
use crate::domain::collections::Collection;
use crate::domain::notices;
use crate::domain::passwords::check_policy;
use crate::domain::projects::Project;
use crate::domain::second_factor::challenge::LogInOutcome;
use crate::domain::services::Services;
use crate::domain::users::model::{SignInContext, User};
use crate::domain::users::{account, log_in, query};
use crate::error::{AppError, AppResult};
use crate::metrics::{AuthMethod, AuthOutcome};
use crate::store::codes::{self, Key};

/// A live code, checked, not yet spent.
struct Found {
    id: String,
    user: User,
    /// The user's collection.
    collection: Collection,
    payload: Option<String>,
}

/// The start of every confirmation: mail is on, the address is counted, and
/// the live code a proof names is found and checked (a wrong six-digit code
/// counted), without spending it.
async fn redeem(
    svc: &Services,
    project: &Project,
    proof: Proof<'_>,
    purpose: Purpose,
    client: &ClientInfo,
) -> AppResult<Found> {
    enabled(svc, purpose)?;
    count_address(svc, client).await?;
    let now = Utc::now().timestamp();
    let (code_id, user_id, payload, in_collection) = match proof {
        Proof::Token {
            token,
            collection: in_url,
        } => {
            let hash = svc.codes.hash("token", token);
            let live = codes::live(&svc.db, Key::TokenHash(&hash), purpose.key(), now)
                .await?
                .ok_or_else(invalid)?;
            (live.id, live.user_id, live.payload, in_url)
        }
        Proof::Code {
            collection: name,
            email,
            code,
        } => {
            let collection = collection(svc, project, name).await?;
            let user = query::find_by_email(&svc.db, &collection, email)
                .await?
                .ok_or_else(invalid)?;
            let live = codes::live(&svc.db, Key::User(&user.id), purpose.key(), now)
                .await?
                .ok_or_else(invalid)?;
            if !guess(svc, &live, code).await? {
                return Err(invalid());
            }
            (live.id, user.id, live.payload, None)
        }
    };
    // A token of another project is not ours.
    let user = query::get(&svc.db, &project.id, &user_id)
        .await
        .map_err(|_| invalid())?;
    if in_collection.is_some_and(|id| id != user.collection_id) {
        return Err(AppError::validation(
            "token",
            "The provided token is for different auth collection.",
        ));
    }
    let collection = svc.catalog.collection(&svc.db, &user.collection_id).await?;
    Ok(Found {
        id: code_id,
        user,
        collection,
        payload,
    })
}

/// Spends a code: only one of two racing confirmations gets it.
async fn spend(svc: &Services, code_id: &str) -> AppResult<()> {
    if !codes::take(&svc.db, code_id).await? {
        return Err(invalid());
    }
    Ok(())
}

/// What a mailed token or code confirms, done once it is found and checked.
pub enum Confirmation<'a> {
    /// Sets a new password (from a reset mail).
    ResetPassword { new_password: &'a str },
    /// Marks the email verified (from a verification mail).
    VerifyEmail,
    /// Moves the account to the address an email-change mail went to; needs
    /// the account's `password`. The old address is told.
    ChangeEmail { password: &'a str },
}

impl Confirmation<'_> {
    fn purpose(&self) -> Purpose {
        match self {
            Confirmation::ResetPassword { .. } => Purpose::PasswordReset,
            Confirmation::VerifyEmail => Purpose::Verification,
            Confirmation::ChangeEmail { .. } => Purpose::EmailChange,
        }
    }
}

/// Confirms `what` with a token or code from its mail: the code is found,
/// checked and spent (once: a refused password or a taken address leaves it
/// to retry), then what it was for is done.
pub async fn confirm(
    svc: &Services,
    project: &Project,
    proof: Proof<'_>,
    what: Confirmation<'_>,
    client: &ClientInfo,
) -> AppResult<User> {
    let found = redeem(svc, project, proof, what.purpose(), client).await?;
    match what {
        Confirmation::ResetPassword { new_password } => {
            check_policy(new_password, found.collection.settings.min_password_length)?;
            spend(svc, &found.id).await?;
            account::reset_password(svc, &found.user.id, new_password).await
        }
        Confirmation::VerifyEmail => {
            spend(svc, &found.id).await?;
            account::mark_verified(svc, &found.user.id).await
        }
        Confirmation::ChangeEmail { password } => change_email(svc, found, password).await,
    }
}

async fn change_email(svc: &Services, found: Found, password: &str) -> AppResult<User> {
    let new_email = found.payload.clone().ok_or_else(invalid)?;
    if !account::verify_password(svc, &found.user, password).await? {
        return Err(AppError::validation(
            "password",
            "The password is not the account's.",
        ));
    }
    // A taken address fails before the token is spent (the unique index
    // still decides a race).
    if query::find_by_email(&svc.db, &found.collection, &new_email)
        .await?
        .is_some()
    {
        return Err(AppError::EmailExists);
    }
    spend(svc, &found.id).await?;
    let old = found.user.email.clone();
    let user = account::change_email(svc, &found.user.id, &new_email).await?;
    notices::email_changed(svc, &old, &user).await;
    Ok(user)
}

/// Signs in with the id from `request` (`Purpose::LogIn`) and the mailed code.
pub async fn log_in_with_code(
    svc: &Services,
    project: &Project,
    code_id: &str,
    code: &str,
    sign_in: &SignInContext,
) -> AppResult<LogInOutcome> {
    let client = &sign_in.client;
    let purpose = Purpose::LogIn;
    enabled(svc, purpose)?;
    count_address(svc, client).await?;
    let refused = || {
        svc.metrics.auth(AuthMethod::Otp, AuthOutcome::Failure);
        AppError::InvalidCredentials
    };
    let now = Utc::now().timestamp();
    let live = codes::live(&svc.db, Key::Id(code_id), purpose.key(), now).await?;
    // Counted against the account, or for an id that names none against the
    // id: a made-up id is refused after as many tries as a real one.
    let account = match &live {
        Some(l) => l.user_id.clone(),
        None => format!("code:{code_id}"),
    };
    crate::domain::limits::second_factor(svc, client, &account).await?;
    let live = live.ok_or_else(refused)?;
    if !guess(svc, &live, code).await? {
        let wrong = audit::in_project(&project.id, Kind::LogIn).user(&live.user_id);
        let wrong = wrong.client(client).with("method", "otp").failed();
        return Err(wrong.refuse(svc, refused()).await);
    }
    let user_id = live.user_id;
    let user = query::get(&svc.db, &project.id, &user_id)
        .await
        .map_err(|_| refused())?;
    spend(svc, code_id).await.map_err(|_| refused())?;
    svc.metrics.auth(AuthMethod::Otp, AuthOutcome::Success);
    log_in::log_in_proven(svc, &user.id, sign_in).await
}

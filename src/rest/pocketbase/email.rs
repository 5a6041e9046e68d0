//! Codes sent by email: OTP sign-in, password reset, verification, email change.
use axum::Json;
use axum::http::StatusCode;
use serde_json::{Value, json};

use super::call::CollPath;
use super::call::{PbBody, PbColl, Reply, Result, blank, confirm_password, required};
use super::doc::Errors;
use super::mfa::{outcome_reply, sign_in};
use crate::domain::collections::Collection;
use crate::domain::email_codes::{self, Confirmation, Proof, Purpose};
use crate::error::AppError;

/// The collection a code URL names, after checking that this server sends
/// mail: one without it answers "not enabled" before anything else.
async fn collection(call: &PbColl, purpose: Purpose) -> Result<Collection> {
    email_codes::enabled(call.services(), purpose)?;
    call.collection().await
}

/// The `{token}` of a confirmation at the URL of `coll`: its account must be
/// in that collection (PocketBase refuses a token of another one).
fn token_in<'a>(body: &'a PbBody, coll: &'a Collection) -> Result<Proof<'a>> {
    Ok(Proof::Token {
        token: required(body, "token")?,
        collection: Some(&coll.id),
    })
}

/// Confirms `what` with `proof` → `204`.
async fn confirmed(call: &PbColl, proof: Proof<'_>, what: Confirmation<'_>) -> Result<StatusCode> {
    let (svc, caller) = (call.services(), &call.caller);
    email_codes::confirm(svc, caller.project()?, proof, what, &caller.client).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `{email}` → `{otpId}`, an id whether or not a code was sent.
#[utoipa::path(post, path = "/api/collections/{collection}/request-otp", params(CollPath), request_body = Object,
    summary = "Sign-in code by email: `{email}` → `{otpId}` (an id for unknown emails too); 403 without an SMTP server",
    responses((status = 200, description = "`{otpId}`", body = Object), Errors<400, 403, 429>))]
pub async fn request_otp(call: PbColl, body: PbBody) -> Result<Json<Value>> {
    let coll = collection(&call, Purpose::LogIn).await?;
    let email = required(&body, "email")?;
    let id = mail_code(&call, &coll, email, Purpose::LogIn).await?;
    Ok(Json(json!({ "otpId": id })))
}

/// `{otpId, password}` (the mailed code) → `{token, record}`.
#[utoipa::path(post, path = "/api/collections/{collection}/auth-with-otp", params(CollPath), request_body = Object,
    summary = "Signs in with `{otpId, password}` (the mailed code), once",
    responses((status = 200, description = "`{token, record}`", body = Object), (status = 401, description = "`{mfaId}`: MFA, send another method with it", body = Object), Errors<400, 403, 429>))]
pub async fn auth_with_otp(call: PbColl, body: PbBody) -> Result<Reply> {
    let coll = collection(&call, Purpose::LogIn).await?;
    let (otp_id, code) = (required(&body, "otpId")?, required(&body, "password")?);
    let (svc, caller) = (call.services(), &call.caller);
    let context = sign_in(&call, &body);
    let project = caller.project()?;
    let outcome = email_codes::log_in_with_code(svc, project, otp_id, code, &context).await?;
    // The record as its own collection describes it (the code names the user).
    outcome_reply(svc, coll, outcome).await
}

/// `{email}` → `204`, whether or not the email has an account (for
/// verification: an unverified one).
async fn request_code(call: PbColl, body: PbBody, purpose: Purpose) -> Result<StatusCode> {
    let coll = collection(&call, purpose).await?;
    let email = required(&body, "email")?;
    mail_code(&call, &coll, email, purpose).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Mails a code for `purpose` to `email` if it has an account in `coll`; the
/// code's id, a random one when nothing was sent.
async fn mail_code(
    call: &PbColl,
    coll: &Collection,
    email: &str,
    purpose: Purpose,
) -> Result<String> {
    let (svc, caller) = (call.services(), &call.caller);
    let (name, client) = (Some(coll.name.as_str()), &caller.client);
    Ok(email_codes::request(svc, caller.project()?, name, email, client, purpose).await?)
}

#[utoipa::path(post, path = "/api/collections/{collection}/request-password-reset", params(CollPath), request_body = Object,
    summary = "Password reset by email: `{email}`; 204 for unknown emails too; 403 without an SMTP server",
    responses((status = 204, description = "Mail sent if the account exists", body = Object), Errors<400, 403, 429>))]
pub async fn request_password_reset(call: PbColl, body: PbBody) -> Result<StatusCode> {
    request_code(call, body, Purpose::PasswordReset).await
}

#[utoipa::path(post, path = "/api/collections/{collection}/request-verification", params(CollPath), request_body = Object,
    summary = "Email verification: `{email}`; 204 for unknown or verified emails too; 403 without an SMTP server",
    responses((status = 204, description = "Mail sent if the account needs it", body = Object), Errors<400, 403, 429>))]
pub async fn request_verification(call: PbColl, body: PbBody) -> Result<StatusCode> {
    request_code(call, body, Purpose::Verification).await
}

/// `{token}` → `204`.
#[utoipa::path(post, path = "/api/collections/{collection}/confirm-verification", params(CollPath), request_body = Object,
    summary = "Marks the email verified: `{token}`",
    responses((status = 204, description = "Verified", body = Object), Errors<400, 403, 429>))]
pub async fn confirm_verification(call: PbColl, body: PbBody) -> Result<StatusCode> {
    let coll = collection(&call, Purpose::Verification).await?;
    confirmed(&call, token_in(&body, &coll)?, Confirmation::VerifyEmail).await
}

/// The signed-in user's `{newEmail}` → `204`; the new address gets the token.
#[utoipa::path(post, path = "/api/collections/{collection}/request-email-change", params(CollPath), security(("bearer" = [])), request_body = Object,
    summary = "Email change: the signed-in user's `{newEmail}` gets a token; 403 without an SMTP server",
    responses((status = 204, description = "Mail sent to the new address", body = Object), Errors<400, 401, 403, 429>))]
pub async fn request_email_change(call: PbColl, body: PbBody) -> Result<StatusCode> {
    let coll = collection(&call, Purpose::EmailChange).await?;
    let me = call.caller.user()?;
    if me.collection_id != coll.id {
        return Err(AppError::Forbidden("the token is not of this collection".into()).into());
    }
    let new_email = required(&body, "newEmail")?;
    let client = &call.caller.client;
    email_codes::request_email_change(call.services(), me, new_email, client).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `{token, password}` → `204`: the account moves to the new address.
#[utoipa::path(post, path = "/api/collections/{collection}/confirm-email-change", params(CollPath), request_body = Object,
    summary = "Moves the account to the new address: `{token, password}`; ends every session",
    responses((status = 204, description = "Email changed", body = Object), Errors<400, 403, 429>))]
pub async fn confirm_email_change(call: PbColl, body: PbBody) -> Result<StatusCode> {
    let coll = collection(&call, Purpose::EmailChange).await?;
    let (proof, password) = (token_in(&body, &coll)?, required(&body, "password")?);
    confirmed(&call, proof, Confirmation::ChangeEmail { password }).await
}

/// `{token, password, passwordConfirm}` → `204`.
#[utoipa::path(post, path = "/api/collections/{collection}/confirm-password-reset", params(CollPath), request_body = Object,
    summary = "Sets a new password: `{token, password, passwordConfirm}`; ends every session",
    responses((status = 204, description = "Password set", body = Object), Errors<400, 403, 429>))]
pub async fn confirm_password_reset(call: PbColl, body: PbBody) -> Result<StatusCode> {
    let coll = collection(&call, Purpose::PasswordReset).await?;
    let proof = token_in(&body, &coll)?;
    let password = confirm_password(&body)?.ok_or_else(|| blank("password"))?;
    let what = Confirmation::ResetPassword {
        new_password: &password,
    };
    confirmed(&call, proof, what).await
}

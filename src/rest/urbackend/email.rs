//! Password reset and email verification by mailed code or token.
use axum::Json;
use serde_json::{Map, Value, json};

use super::call::{Result, Ub, UbBody};
use super::doc::{Errors, Message};
use crate::domain::email_codes::{self, Confirmation, Proof, Purpose};
use crate::http::body::{mail_code, string_field};

/// What proves a mailbox: `{email, otp}` (the SDK) or `{token}` (the docs).
enum ProofBody {
    Token(String),
    Code { email: String, otp: String },
}

impl ProofBody {
    fn read(body: &Map<String, Value>) -> Result<Self> {
        Ok(if body.contains_key("token") {
            ProofBody::Token(string_field(body, "token")?)
        } else {
            ProofBody::Code {
                email: string_field(body, "email")?,
                otp: string_field(body, "otp")?,
            }
        })
    }

    fn proof(&self) -> Proof<'_> {
        match self {
            ProofBody::Token(token) => Proof::token(token),
            ProofBody::Code { email, otp } => Proof::Code {
                collection: None,
                email,
                code: otp,
            },
        }
    }
}

/// `{email}`: mails a code for `purpose`; the same `{message}` for any email.
async fn mail(call: Ub, body: UbBody, purpose: Purpose, message: &str) -> Result<Json<Value>> {
    mail_code(call.services(), &call.caller, &body, purpose).await?;
    Ok(Json(json!({ "message": message })))
}

#[utoipa::path(post, path = "/api/userAuth/resend-verification-otp", security(("apiKey" = [])), request_body = Object,
    summary = "Email verification: mails a six-digit code, `{email}`; the same answer for any email",
    responses(Message<Errors<400, 403, 429>>))]
pub async fn resend_verification_otp(call: Ub, body: UbBody) -> Result<Json<Value>> {
    let message = "If that email needs verifying, a verification code has been sent.";
    mail(call, body, Purpose::Verification, message).await
}

#[utoipa::path(post, path = "/api/userAuth/request-password-reset", security(("apiKey" = [])), request_body = Object,
    summary = "Password reset by email: `{email}`; the same answer for unknown emails; 403 without an SMTP server",
    responses(Message<Errors<400, 403, 429>>))]
pub async fn request_password_reset(call: Ub, body: UbBody) -> Result<Json<Value>> {
    let message = "If that email exists, a password reset code has been sent.";
    mail(call, body, Purpose::PasswordReset, message).await
}

/// `{email, otp}` (the SDK) or `{token}` (the docs).
#[utoipa::path(post, path = "/api/userAuth/verify-email", security(("apiKey" = [])), request_body = Object,
    summary = "Marks the email verified: `{email, otp}` or `{token}`",
    responses(Message<Errors<400, 403, 429>>))]
pub async fn verify_email(call: Ub, body: UbBody) -> Result<Json<Value>> {
    let (svc, caller) = (call.services(), &call.caller);
    email_codes::enabled(svc, Purpose::Verification)?;
    let proof = ProofBody::read(&body)?;
    let project = caller.project()?;
    let what = Confirmation::VerifyEmail;
    email_codes::confirm(svc, project, proof.proof(), what, &caller.client).await?;
    Ok(Json(json!({"message": "Email verified successfully"})))
}

/// `{email, otp, newPassword}` (the SDK) or `{token, newPassword}` (the docs).
#[utoipa::path(post, path = "/api/userAuth/reset-password", security(("apiKey" = [])), request_body = Object,
    summary = "Sets a new password: `{email, otp, newPassword}` or `{token, newPassword}`; ends every session",
    responses(Message<Errors<400, 403, 429>>))]
pub async fn reset_password(call: Ub, body: UbBody) -> Result<Json<Value>> {
    let (svc, caller) = (call.services(), &call.caller);
    email_codes::enabled(svc, Purpose::PasswordReset)?;
    let new_password = string_field(&body, "newPassword")?;
    let proof = ProofBody::read(&body)?;
    let (project, client) = (caller.project()?, &caller.client);
    let what = Confirmation::ResetPassword {
        new_password: &new_password,
    };
    email_codes::confirm(svc, project, proof.proof(), what, client).await?;
    Ok(Json(json!({"message": "Password reset successfully"})))
}

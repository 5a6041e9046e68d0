//! Password reset and email verification mails.
use axum::Json;
use axum::extract::Path;
use serde_json::{Value, json};

use super::call::{Coco, CocoBody, Result};
use super::doc::{Errors, Message};
use crate::domain::email_codes::{self, Confirmation, Proof, Purpose};
use crate::error::AppError;
use crate::http::body::{mail_code, string_field};

/// `{email}`: the same answer whether or not the email has an account. The
/// mail's token and code are confirmed through GraphQL `resetPassword` (or the
/// PocketBase and urBackend URLs): Cocobase documents no confirmation URL.
#[utoipa::path(post, path = "/auth-collections/forgot-password", security(("apiKey" = [])), request_body = Object,
    summary = "Password reset by email: `{email}`; the same answer for unknown emails; 403 without an SMTP server",
    responses(Message<Errors<403, 422, 429>>))]
pub async fn forgot_password(call: Coco, body: CocoBody) -> Result<Json<Value>> {
    mail_code(call.services(), &call.caller, &body, Purpose::PasswordReset).await?;
    Ok(Json(
        json!({"message": "If that email is registered, a password reset email has been sent."}),
    ))
}

/// Path parameters by name: under `/p/{project}` there is one more.
#[derive(serde::Deserialize)]
pub struct ActionPath {
    action: String,
}

/// `send` and `resend` mail the signed-in user a verification link and code;
/// `verify` takes `{token}`.
#[utoipa::path(post, path = "/auth-collections/verify-email/{action}", params(("action" = String, Path)), security(("apiKey" = [])), request_body = Object,
    summary = "Email verification: `send`/`resend` mail the signed-in user; `verify` takes `{token}`",
    responses(Message<Errors<401, 403, 404, 422, 429>>))]
pub async fn verify_email(
    call: Coco,
    Path(ActionPath { action }): Path<ActionPath>,
    body: CocoBody,
) -> Result<Json<Value>> {
    let (svc, caller) = (call.services(), &call.caller);
    let purpose = Purpose::Verification;
    email_codes::enabled(svc, purpose)?;
    match action.as_str() {
        "send" | "resend" => {
            email_codes::send_code(svc, caller.user()?, purpose).await?;
            Ok(Json(json!({"message": "Verification email sent"})))
        }
        "verify" => {
            let token = string_field(&body, "token")?;
            let project = caller.project()?;
            let (proof, what) = (Proof::token(&token), Confirmation::VerifyEmail);
            email_codes::confirm(svc, project, proof, what, &caller.client).await?;
            Ok(Json(json!({"message": "Email verified successfully"})))
        }
        _ => Err(AppError::NotFound("action").into()),
    }
}

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

/// The `{email}` operations: each mails a code for its purpose and answers
/// its `{message}` for any email (it does not tell).
macro_rules! mail_code_operations {
    ($($name:ident, $path:tt, $summary:tt, $purpose:expr, $message:tt;)+) => {$(
        #[utoipa::path(post, path = $path, security(("apiKey" = [])), request_body = Object,
            summary = $summary, responses(Message<Errors<400, 403, 429>>))]
        pub async fn $name(call: Ub, body: UbBody) -> Result<Json<Value>> {
            mail_code(call.services(), &call.caller, &body, $purpose).await?;
            Ok(Json(json!({ "message": $message })))
        }
    )+};
}

mail_code_operations! {
    resend_verification_otp, "/api/userAuth/resend-verification-otp",
    "Email verification: mails a six-digit code, `{email}`; the same answer for any email",
    Purpose::Verification, "If that email needs verifying, a verification code has been sent.";

    request_password_reset, "/api/userAuth/request-password-reset",
    "Password reset by email: `{email}`; the same answer for unknown emails; 403 without an SMTP server",
    Purpose::PasswordReset, "If that email exists, a password reset code has been sent.";
}

/// `{email, otp}` (the SDK) or `{token}` (the docs).
#[utoipa::path(post, path = "/api/userAuth/verify-email", security(("apiKey" = [])), request_body = Object,
    summary = "Marks the email verified: `{email, otp}` or `{token}`",
    responses(Message<Errors<400, 403, 429>>))]
pub async fn verify_email(call: Ub, body: UbBody) -> Result<Json<Value>> {
    email_codes::enabled(call.services(), Purpose::Verification)?;
    let proof = ProofBody::read(&body)?;
    let message = "Email verified successfully";
    confirm(&call, &proof, Confirmation::VerifyEmail, message).await
}

/// `{email, otp, newPassword}` (the SDK) or `{token, newPassword}` (the docs).
#[utoipa::path(post, path = "/api/userAuth/reset-password", security(("apiKey" = [])), request_body = Object,
    summary = "Sets a new password: `{email, otp, newPassword}` or `{token, newPassword}`; ends every session",
    responses(Message<Errors<400, 403, 429>>))]
pub async fn reset_password(call: Ub, body: UbBody) -> Result<Json<Value>> {
    email_codes::enabled(call.services(), Purpose::PasswordReset)?;
    let new_password = string_field(&body, "newPassword")?;
    let proof = ProofBody::read(&body)?;
    let what = Confirmation::ResetPassword {
        new_password: &new_password,
    };
    confirm(&call, &proof, what, "Password reset successfully").await
}

/// Confirms `what` with the body's proof; `{message}` when it is done.
async fn confirm(
    call: &Ub,
    proof: &ProofBody,
    what: Confirmation<'_>,
    message: &str,
) -> Result<Json<Value>> {
    let (svc, caller) = (call.services(), &call.caller);
    let project = caller.project()?;
    email_codes::confirm(svc, project, proof.proof(), what, &caller.client).await?;
    Ok(Json(json!({ "message": message })))
}

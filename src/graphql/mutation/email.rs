//! Mailed codes and tokens: password resets, sign-in codes, email verification.
use async_graphql::{Context, Object, Result};

use super::EmailMutation;
use super::call::{done, in_project, log_in_outcome, signing_in};
use crate::domain::email_codes::{self, Confirmation, Proof, Purpose};
use crate::error::{AppError, AppResult};
use crate::graphql::errors::GqlResult;
use crate::graphql::factor_types::LogInPayload;
use crate::graphql::types::{MailProofInput, ResetPasswordInput, VerifyEmailInput};

/// A token, or an email address (in `collection`) and a six-digit code.
fn proof<'a>(input: &'a MailProofInput, collection: &'a Option<String>) -> AppResult<Proof<'a>> {
    match (&input.token, &input.email, &input.code) {
        (Some(token), None, None) => Ok(Proof::token(token)),
        (None, Some(email), Some(code)) => Ok(Proof::Code {
            collection: collection.as_deref(),
            email,
            code,
        }),
        _ => Err(AppError::validation(
            "token",
            "give either `token`, or `email` and `code`",
        )),
    }
}

/// Mails a code for `purpose` to `email` if it has an account; the code's
/// id either way (a random one when nothing was sent).
async fn mail_code(
    ctx: &Context<'_>,
    email: &str,
    collection: Option<String>,
    purpose: Purpose,
) -> Result<String> {
    let (svc, project, client) = in_project(ctx)?;
    let collection = collection.as_deref();
    email_codes::request(svc, project, collection, email, client, purpose)
        .await
        .gql()
}

/// Confirms `what` with the proof of `input` (mailed to `collection`'s account).
async fn confirm(
    ctx: &Context<'_>,
    input: &MailProofInput,
    collection: &Option<String>,
    what: Confirmation<'_>,
) -> Result<bool> {
    let (svc, project, client) = in_project(ctx)?;
    let proof = proof(input, collection).gql()?;
    done(email_codes::confirm(svc, project, proof, what, client)).await
}

#[Object]
impl EmailMutation {
    /// Emails a password-reset token and six-digit code to `email` if it has
    /// an account; the answer is `true` either way (it does not tell).
    async fn request_password_reset(
        &self,
        ctx: &Context<'_>,
        email: String,
        collection: Option<String>,
    ) -> Result<bool> {
        let sent = mail_code(ctx, &email, collection, Purpose::PasswordReset).await;
        sent.map(|_| true)
    }

    /// Emails a six-digit sign-in code to `email` if it has an account;
    /// returns the id to pass to `logInWithCode` (an id either way: it does not tell).
    async fn request_login_code(
        &self,
        ctx: &Context<'_>,
        email: String,
        collection: Option<String>,
    ) -> Result<String> {
        mail_code(ctx, &email, collection, Purpose::LogIn).await
    }

    /// Signs in with the id from `requestLoginCode` and the mailed code; the
    /// email counts as verified. An account with a second factor gets
    /// `secondFactorRequired` instead of tokens.
    async fn log_in_with_code(
        &self,
        ctx: &Context<'_>,
        code_id: String,
        #[graphql(secret)] code: String,
    ) -> Result<LogInPayload> {
        let (svc, project, sign_in) = signing_in(ctx)?;
        let outcome = email_codes::log_in_with_code(svc, project, &code_id, &code, &sign_in);
        log_in_outcome(outcome).await
    }

    /// Emails a verification token and six-digit code to `email` if it has an
    /// unverified account; the answer is `true` either way.
    async fn request_email_verification(
        &self,
        ctx: &Context<'_>,
        email: String,
        collection: Option<String>,
    ) -> Result<bool> {
        let sent = mail_code(ctx, &email, collection, Purpose::Verification).await;
        sent.map(|_| true)
    }

    /// Marks the email verified with the token from a verification email, or
    /// with the email address and the six-digit code.
    async fn verify_email(&self, ctx: &Context<'_>, input: VerifyEmailInput) -> Result<bool> {
        confirm(
            ctx,
            &input.proof,
            &input.collection,
            Confirmation::VerifyEmail,
        )
        .await
    }

    /// Sets a new password with the token from a reset email, or with the
    /// email address and the six-digit code. Ends every session of the user.
    async fn reset_password(&self, ctx: &Context<'_>, input: ResetPasswordInput) -> Result<bool> {
        let new_password = &input.new_password;
        let what = Confirmation::ResetPassword { new_password };
        confirm(ctx, &input.proof, &input.collection, what).await
    }
}

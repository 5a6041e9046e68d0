//! Mutations.
use async_graphql::{Context, Object};

use super::errors::GqlResult;
use super::types::{
    AuthPayload, ChangePasswordInput, LogInInput, ResetPasswordInput, SignUpInput, UpdateMeInput,
    UserObject, VerifyEmailInput, object_arg,
};
use crate::domain::Services;
use crate::domain::access::Caller;
use crate::domain::users::{
    self, ChangePasswordRequest, LogInRequest, SignUpRequest, TokenLifetime, UpdateProfileRequest,
};
use crate::domain::{email_codes, sessions};

#[derive(Default)]
pub struct Mutation;

fn parts<'a>(ctx: &'a Context<'_>) -> async_graphql::Result<(&'a Services, &'a Caller)> {
    Ok((ctx.data::<Services>()?, ctx.data::<Caller>()?))
}

/// A token, or an email address and a six-digit code.
fn proof<'a>(
    token: &'a Option<String>,
    email: &'a Option<String>,
    code: &'a Option<String>,
) -> crate::error::AppResult<email_codes::Proof<'a>> {
    match (token, email, code) {
        (Some(token), None, None) => Ok(email_codes::Proof::Token(token)),
        (None, Some(email), Some(code)) => Ok(email_codes::Proof::Code { email, code }),
        _ => Err(crate::error::AppError::validation(
            "token",
            "give either `token`, or `email` and `code`",
        )),
    }
}

/// Mails a code for `purpose` to `email` if it has an account; `true` either way.
async fn mail_code(
    ctx: &Context<'_>,
    email: &str,
    collection: Option<String>,
    purpose: email_codes::Purpose,
) -> async_graphql::Result<bool> {
    let (svc, caller) = parts(ctx)?;
    let project = caller.project().gql()?;
    let client = &caller.client;
    email_codes::request(svc, project, collection.as_deref(), email, client, purpose)
        .await
        .gql()?;
    Ok(true)
}

#[Object]
impl Mutation {
    /// Emails a password-reset token and six-digit code to `email` if it has
    /// an account; the answer is `true` either way (it does not tell).
    async fn request_password_reset(
        &self,
        ctx: &Context<'_>,
        email: String,
        collection: Option<String>,
    ) -> async_graphql::Result<bool> {
        mail_code(ctx, &email, collection, email_codes::Purpose::PasswordReset).await
    }

    /// Emails a six-digit sign-in code to `email` if it has an account;
    /// returns the id to pass to `logInWithCode` (an id either way: it does not tell).
    async fn request_login_code(
        &self,
        ctx: &Context<'_>,
        email: String,
        collection: Option<String>,
    ) -> async_graphql::Result<String> {
        let (svc, caller) = parts(ctx)?;
        let project = caller.project().gql()?;
        email_codes::request_login_code(svc, project, collection.as_deref(), &email, &caller.client)
            .await
            .gql()
    }

    /// Signs in with the id from `requestLoginCode` and the mailed code; the
    /// email counts as verified.
    async fn log_in_with_code(
        &self,
        ctx: &Context<'_>,
        code_id: String,
        code: String,
    ) -> async_graphql::Result<AuthPayload> {
        let (svc, caller) = parts(ctx)?;
        let project = caller.project().gql()?;
        let lifetime = TokenLifetime::Short;
        email_codes::log_in_with_code(svc, project, &code_id, &code, &caller.client, lifetime)
            .await
            .map(AuthPayload)
            .gql()
    }

    /// Emails a verification token and six-digit code to `email` if it has an
    /// unverified account; the answer is `true` either way.
    async fn request_email_verification(
        &self,
        ctx: &Context<'_>,
        email: String,
        collection: Option<String>,
    ) -> async_graphql::Result<bool> {
        mail_code(ctx, &email, collection, email_codes::Purpose::Verification).await
    }

    /// Marks the email verified with the token from a verification email, or
    /// with the email address and the six-digit code.
    async fn verify_email(
        &self,
        ctx: &Context<'_>,
        input: VerifyEmailInput,
    ) -> async_graphql::Result<bool> {
        let (svc, caller) = parts(ctx)?;
        let project = caller.project().gql()?;
        let proof = proof(&input.token, &input.email, &input.code).gql()?;
        email_codes::verify_email(
            svc,
            project,
            input.collection.as_deref(),
            proof,
            &caller.client,
        )
        .await
        .gql()?;
        Ok(true)
    }

    /// Sets a new password with the token from a reset email, or with the
    /// email address and the six-digit code. Ends every session of the user.
    async fn reset_password(
        &self,
        ctx: &Context<'_>,
        input: ResetPasswordInput,
    ) -> async_graphql::Result<bool> {
        let (svc, caller) = parts(ctx)?;
        let project = caller.project().gql()?;
        let proof = proof(&input.token, &input.email, &input.code).gql()?;
        email_codes::reset_password(
            svc,
            project,
            input.collection.as_deref(),
            proof,
            &input.new_password,
            &caller.client,
        )
        .await
        .gql()?;
        Ok(true)
    }

    /// Creates a user in an auth collection, opens a session and returns its tokens.
    async fn sign_up(
        &self,
        ctx: &Context<'_>,
        input: SignUpInput,
    ) -> async_graphql::Result<AuthPayload> {
        let (svc, caller) = parts(ctx)?;
        let project = caller.project().gql()?;
        let req = SignUpRequest {
            email: input.email,
            password: input.password,
            data: object_arg("data", input.data).gql()?,
            collection: input.collection,
            client: caller.client.clone(),
            lifetime: TokenLifetime::Short,
        };
        users::sign_up(svc, project, req)
            .await
            .map(AuthPayload)
            .gql()
    }

    /// Checks email and password, opens a session and returns its tokens.
    async fn log_in(
        &self,
        ctx: &Context<'_>,
        input: LogInInput,
    ) -> async_graphql::Result<AuthPayload> {
        let (svc, caller) = parts(ctx)?;
        let project = caller.project().gql()?;
        let req = LogInRequest {
            email: input.email,
            identity_field: None,
            password: input.password,
            collection: input.collection,
            client: caller.client.clone(),
            lifetime: TokenLifetime::Short,
        };
        users::log_in(svc, project, req)
            .await
            .map(AuthPayload)
            .gql()
    }

    /// Exchanges a refresh token for a new access token and a new refresh token.
    /// A refresh token reused after its rotation window revokes its session.
    async fn refresh_token(
        &self,
        ctx: &Context<'_>,
        refresh_token: String,
    ) -> async_graphql::Result<AuthPayload> {
        let (svc, caller) = parts(ctx)?;
        let project = caller.project.as_ref().map(|p| p.id.as_str());
        users::refresh(svc, &refresh_token, project, TokenLifetime::Short)
            .await
            .map(AuthPayload)
            .gql()
    }

    /// Ends the current session (or, with `all`, every session of the user).
    /// Its tokens are refused from the next request on. Returns the number ended.
    async fn log_out(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = false)] all: bool,
    ) -> async_graphql::Result<u64> {
        let (svc, caller) = parts(ctx)?;
        let me = caller.user().gql()?;
        users::log_out(svc, me, caller.session_id().gql()?, all)
            .await
            .gql()
    }

    /// Ends one of your own sessions.
    async fn revoke_session(&self, ctx: &Context<'_>, id: String) -> async_graphql::Result<bool> {
        let (svc, caller) = parts(ctx)?;
        let me = caller.user().gql()?;
        sessions::revoke_own(&svc, &me.id, &id).await.gql()?;
        Ok(true)
    }

    /// Merges profile data and appends to / removes from array fields atomically.
    /// Email, password, id, roles and verified cannot be changed here.
    async fn update_me(
        &self,
        ctx: &Context<'_>,
        input: UpdateMeInput,
    ) -> async_graphql::Result<UserObject> {
        let (svc, caller) = parts(ctx)?;
        let me = caller.user().gql()?;
        let req = UpdateProfileRequest {
            data: object_arg("data", input.data).gql()?,
            append: object_arg("append", input.append).gql()?,
            remove: object_arg("remove", input.remove).gql()?,
        };
        users::update_profile(svc, me, req)
            .await
            .map(UserObject::full)
            .gql()
    }

    /// Mails `newEmail` a token that moves your account there (with
    /// `confirmEmailChange`). Needs your user token.
    async fn request_email_change(
        &self,
        ctx: &Context<'_>,
        new_email: String,
    ) -> async_graphql::Result<bool> {
        let (svc, caller) = parts(ctx)?;
        let me = caller.user().gql()?;
        email_codes::request_email_change(svc, me, &new_email)
            .await
            .gql()?;
        Ok(true)
    }

    /// Moves the account to the address the token was mailed to; needs the
    /// account's password. Every session ends; the address counts as verified.
    async fn confirm_email_change(
        &self,
        ctx: &Context<'_>,
        token: String,
        password: String,
    ) -> async_graphql::Result<bool> {
        let (svc, caller) = parts(ctx)?;
        let project = caller.project().gql()?;
        email_codes::confirm_email_change(svc, project, &token, &password, &caller.client)
            .await
            .gql()?;
        Ok(true)
    }

    /// Changes the password. Every earlier access token stops working and every
    /// other session ends; returns a new access token for this session.
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        input: ChangePasswordInput,
    ) -> async_graphql::Result<AuthPayload> {
        let (svc, caller) = parts(ctx)?;
        let me = caller.user().gql()?;
        let req = ChangePasswordRequest {
            current_password: Some(input.current_password),
            new_password: input.new_password,
            lifetime: TokenLifetime::Short,
            revoke_current_tokens: true,
        };
        users::change_password(svc, me, caller.session_id().gql()?, req)
            .await
            .map(AuthPayload)
            .gql()
    }

    /// Ends every session of a user (secret key only). Returns the number ended.
    async fn revoke_user_sessions(
        &self,
        ctx: &Context<'_>,
        user_id: String,
    ) -> async_graphql::Result<u64> {
        let (svc, caller) = parts(ctx)?;
        let project = caller.require_admin().gql()?;
        let user = users::get(&svc.db, &project.id, &user_id).await.gql()?;
        sessions::revoke_all(&svc, &user.id, None, "revoked by admin")
            .await
            .gql()
    }

    /// Disables a user and ends its sessions at once (secret key only).
    async fn disable_user(
        &self,
        ctx: &Context<'_>,
        id: String,
    ) -> async_graphql::Result<UserObject> {
        let (svc, caller) = parts(ctx)?;
        let project = caller.require_admin().gql()?;
        users::set_disabled(svc, &project.id, &id, true)
            .await
            .map(UserObject::full)
            .gql()
    }

    /// Enables a disabled user (secret key only).
    async fn enable_user(
        &self,
        ctx: &Context<'_>,
        id: String,
    ) -> async_graphql::Result<UserObject> {
        let (svc, caller) = parts(ctx)?;
        let project = caller.require_admin().gql()?;
        users::set_disabled(svc, &project.id, &id, false)
            .await
            .map(UserObject::full)
            .gql()
    }
}

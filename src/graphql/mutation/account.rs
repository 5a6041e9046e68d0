//! The caller's own account: profile, email address and password.
use async_graphql::{Context, Object, Result};

use super::AccountMutation;
use super::call::{as_user, done, in_project, tokens};
use crate::domain::email_codes::{self, Confirmation, Proof};
use crate::domain::users::{self, ChangePasswordRequest, TokenLifetime};
use crate::graphql::errors::GqlResult;
use crate::graphql::types::{AuthPayload, ChangePasswordInput, UpdateMeInput, UserObject};

#[Object]
impl AccountMutation {
    /// Merges profile data and appends to / removes from array fields atomically;
    /// `files` (a multipart request) replace or join file fields' files.
    /// Email, password, id, roles and verified cannot be changed here.
    async fn update_me(&self, ctx: &Context<'_>, input: UpdateMeInput) -> Result<UserObject> {
        let (svc, _, me) = as_user(ctx)?;
        super::files::update(ctx, svc, me, input).await
    }

    /// Mails `newEmail` a token that moves your account there (with
    /// `confirmEmailChange`). Needs your user token.
    async fn request_email_change(&self, ctx: &Context<'_>, new_email: String) -> Result<bool> {
        let (svc, caller, me) = as_user(ctx)?;
        let client = &caller.client;
        done(email_codes::request_email_change(
            svc, me, &new_email, client,
        ))
        .await
    }

    /// Moves the account to the address the token was mailed to; needs the
    /// account's password. Every session ends; the address counts as verified.
    async fn confirm_email_change(
        &self,
        ctx: &Context<'_>,
        #[graphql(secret)] token: String,
        #[graphql(secret)] password: String,
    ) -> Result<bool> {
        let (svc, project, client) = in_project(ctx)?;
        let proof = Proof::token(&token);
        let what = Confirmation::ChangeEmail {
            password: &password,
        };
        done(email_codes::confirm(svc, project, proof, what, client)).await
    }

    /// Changes the password. Every earlier access token stops working and every
    /// other session ends; returns a new access token for this session.
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        input: ChangePasswordInput,
    ) -> Result<AuthPayload> {
        let (svc, caller, me) = as_user(ctx)?;
        let session = caller.session_id().gql()?;
        let req = ChangePasswordRequest {
            current_password: input.current_password,
            new_password: input.new_password,
            lifetime: TokenLifetime::Short,
            revoke_current_tokens: true,
            client: caller.client.clone(),
        };
        tokens(users::change_password(svc, me, session, req)).await
    }
}

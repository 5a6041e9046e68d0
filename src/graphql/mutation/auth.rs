//! Signing up, logging in and out, and the caller's own sessions.
use async_graphql::{Context, Object, Result};

use super::AuthMutation;
use super::call::{as_user, done, log_in_outcome, parts, signing_in, tokens};
use crate::domain::sessions;
use crate::domain::users::{self, LogInRequest, SignUpRequest, TokenLifetime};
use crate::graphql::errors::GqlResult;
use crate::graphql::factor_types::LogInPayload;
use crate::graphql::types::{AuthPayload, LogInInput, SignUpInput, object_arg};

#[Object]
impl AuthMutation {
    /// Creates a user in an auth collection, opens a session and returns its tokens.
    /// Files for file fields come as `files` in a multipart request.
    async fn sign_up(&self, ctx: &Context<'_>, input: SignUpInput) -> Result<LogInPayload> {
        let (svc, project, context) = signing_in(ctx)?;
        let req = SignUpRequest {
            email: input.email,
            password: input.password,
            data: object_arg("data", input.data).gql()?,
            collection: input.collection,
            context,
            ..Default::default()
        };
        super::files::sign_up(ctx, svc, project, req, input.files).await
    }

    /// Checks email and password, opens a session and returns its tokens; for
    /// an account with a second factor, `secondFactorRequired` instead.
    async fn log_in(&self, ctx: &Context<'_>, input: LogInInput) -> Result<LogInPayload> {
        let (svc, project, context) = signing_in(ctx)?;
        let req = LogInRequest {
            email: input.email,
            identity_field: None,
            password: input.password,
            collection: input.collection,
            context,
        };
        log_in_outcome(users::log_in(svc, project, req)).await
    }

    /// Exchanges a refresh token for a new access token and a new refresh token.
    /// A refresh token reused after its rotation window revokes its session.
    async fn refresh_token(
        &self,
        ctx: &Context<'_>,
        #[graphql(secret)] refresh_token: String,
    ) -> Result<AuthPayload> {
        let (svc, caller) = parts(ctx)?;
        let project = caller.project.as_ref().map(|p| p.id.as_str());
        tokens(users::refresh(
            svc,
            &refresh_token,
            project,
            TokenLifetime::Short,
            &caller.client,
        ))
        .await
    }

    /// Ends the current session (or, with `all`, every session of the user).
    /// Its tokens are refused from the next request on. Returns the number ended.
    async fn log_out(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = false)] all: bool,
    ) -> Result<u64> {
        let (svc, caller, me) = as_user(ctx)?;
        users::log_out(svc, me, caller.session_id().gql()?, all)
            .await
            .gql()
    }

    /// Ends one of your own sessions.
    async fn revoke_session(&self, ctx: &Context<'_>, id: String) -> Result<bool> {
        let (svc, _, me) = as_user(ctx)?;
        done(sessions::revoke_own(svc, &me.id, &id)).await
    }
}

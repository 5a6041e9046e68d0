//! Signing in with an OAuth2 / OpenID Connect provider.
use async_graphql::{Context, Object, Result};

use super::OAuthMutation;
use super::call::{as_user, in_project, signing_in};
use crate::domain::oauth::flow::{self, FinishRequest, StartRequest};
use crate::domain::oauth::{identities, linking};
use crate::graphql::errors::GqlResult;
use crate::graphql::factor_types::LogInPayload;
use crate::graphql::oauth_types::{IdentityObject, OAuthStart};

#[Object]
impl OAuthMutation {
    /// Starts a sign-in with one of the collection's providers (`oauthProviders`).
    /// `redirectUrl` must be one the provider's configuration lists, exactly.
    /// With `link: true` (signed in) the flow links the provider's account
    /// to the caller instead, in the caller's collection: finish it with
    /// `linkIdentity`.
    #[graphql(name = "startOAuth")]
    async fn start_oauth(
        &self,
        ctx: &Context<'_>,
        provider: String,
        redirect_url: String,
        collection: Option<String>,
        #[graphql(default = false)] link: bool,
    ) -> Result<OAuthStart> {
        if link {
            let (svc, caller, me) = as_user(ctx)?;
            return linking::start_link(svc, me, provider, redirect_url, &caller.client)
                .await
                .map(Into::into)
                .gql();
        }
        let (svc, project, client) = in_project(ctx)?;
        let req = StartRequest {
            collection,
            provider,
            redirect_url,
            link_user: None,
            client: client.clone(),
        };
        flow::start(svc, project, req).await.map(Into::into).gql()
    }

    /// Finishes a flow started with `startOAuth(link: true)` by the same
    /// user: links the provider's account (one per provider; an account
    /// linked to another user stays there) and returns the user's identities.
    async fn link_identity(
        &self,
        ctx: &Context<'_>,
        state: String,
        #[graphql(secret)] code: String,
    ) -> Result<Vec<IdentityObject>> {
        let (svc, caller, me) = as_user(ctx)?;
        let list = linking::link_identity(svc, me, &state, &code, &caller.client)
            .await
            .gql()?;
        Ok(list.into_iter().map(Into::into).collect())
    }

    /// Unlinks the caller's identity with `provider`; the remaining ones.
    /// The last way to sign in stays: without a password, the only identity
    /// cannot be unlinked (set a password through `requestPasswordReset`).
    async fn unlink_identity(
        &self,
        ctx: &Context<'_>,
        provider: String,
    ) -> Result<Vec<IdentityObject>> {
        let (svc, _, me) = as_user(ctx)?;
        let list = identities::unlink(svc, me, &provider).await.gql()?;
        Ok(list.into_iter().map(Into::into).collect())
    }

    /// Finishes a sign-in with the `state` and `code` the provider's redirect
    /// brought back: the tokens, or `secondFactorRequired`. The first sign-in
    /// creates the user.
    #[graphql(name = "finishOAuth")]
    async fn finish_oauth(
        &self,
        ctx: &Context<'_>,
        state: String,
        #[graphql(secret)] code: String,
    ) -> Result<LogInPayload> {
        let (svc, project, context) = signing_in(ctx)?;
        let req = FinishRequest {
            state,
            code,
            context,
        };
        flow::finish(svc, project, req)
            .await
            .map(|f| LogInPayload(f.outcome))
            .gql()
    }
}

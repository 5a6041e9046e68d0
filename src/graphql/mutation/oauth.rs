//! Signing in with an OAuth2 / OpenID Connect provider.
use async_graphql::{Context, Object, Result};

use super::OAuthMutation;
use super::call::in_project;
use crate::domain::oauth::flow::{self, FinishRequest, StartRequest};
use crate::domain::users::TokenLifetime;
use crate::graphql::errors::GqlResult;
use crate::graphql::factor_types::LogInPayload;
use crate::graphql::oauth_types::OAuthStart;

#[Object]
impl OAuthMutation {
    /// Starts a sign-in with one of the collection's providers (`oauthProviders`).
    /// `redirectUrl` must be one the provider's configuration lists, exactly.
    #[graphql(name = "startOAuth")]
    async fn start_oauth(
        &self,
        ctx: &Context<'_>,
        provider: String,
        redirect_url: String,
        collection: Option<String>,
    ) -> Result<OAuthStart> {
        let (svc, project, _) = in_project(ctx)?;
        let req = StartRequest {
            collection,
            provider,
            redirect_url,
        };
        flow::start(svc, project, req).await.map(Into::into).gql()
    }

    /// Finishes a sign-in with the `state` and `code` the provider's redirect
    /// brought back: the tokens, or `secondFactorRequired`. The first sign-in
    /// creates the user.
    #[graphql(name = "finishOAuth")]
    async fn finish_oauth(
        &self,
        ctx: &Context<'_>,
        state: String,
        code: String,
    ) -> Result<LogInPayload> {
        let (svc, project, client) = in_project(ctx)?;
        let req = FinishRequest {
            state,
            code,
            client: client.clone(),
            lifetime: TokenLifetime::Short,
        };
        flow::finish(svc, project, req)
            .await
            .map(|f| LogInPayload(f.outcome))
            .gql()
    }
}

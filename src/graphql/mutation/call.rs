//! What every mutation takes from its request's context, and the answers
//! mutations share.
use std::future::Future;

use async_graphql::{Context, Result};

use crate::domain::Services;
use crate::domain::access::Caller;
use crate::domain::client::ClientInfo;
use crate::domain::projects::Project;
use crate::domain::second_factor::LogInOutcome;
use crate::domain::users::{self, AuthResult, SignInContext, TokenLifetime, User};
use crate::error::AppResult;
use crate::graphql::errors::GqlResult;
use crate::graphql::factor_types::LogInPayload;
use crate::graphql::types::{AuthPayload, UserObject};

/// The services, the project of the caller's key, and what a sign-in needs
/// besides its credential: GraphQL's tokens are short-lived (refreshed).
pub fn signing_in<'a>(ctx: &'a Context<'_>) -> Result<(&'a Services, &'a Project, SignInContext)> {
    let (svc, project, client) = in_project(ctx)?;
    Ok((
        svc,
        project,
        SignInContext::new(client, TokenLifetime::Short),
    ))
}

/// The services and the caller of the request.
pub fn parts<'a>(ctx: &'a Context<'_>) -> Result<(&'a Services, &'a Caller)> {
    Ok((ctx.data::<Services>()?, ctx.data::<Caller>()?))
}

/// The services, the project of the caller's key, and where the call comes from.
pub fn in_project<'a>(ctx: &'a Context<'_>) -> Result<(&'a Services, &'a Project, &'a ClientInfo)> {
    let (svc, caller) = parts(ctx)?;
    Ok((svc, caller.project().gql()?, &caller.client))
}

/// The services, the caller and the user whose token makes the request.
pub fn as_user<'a>(ctx: &'a Context<'_>) -> Result<(&'a Services, &'a Caller, &'a User)> {
    let (svc, caller) = parts(ctx)?;
    Ok((svc, caller, caller.user().gql()?))
}

/// The services and the project, for a secret key (or a superuser) only.
pub fn as_admin<'a>(ctx: &'a Context<'_>) -> Result<(&'a Services, &'a Project)> {
    let (svc, caller) = parts(ctx)?;
    Ok((svc, caller.require_admin().gql()?))
}

/// The services and the user `id` of the project, for a secret key (or a
/// superuser) only.
pub async fn as_admin_over<'a>(ctx: &'a Context<'_>, id: &str) -> Result<(&'a Services, User)> {
    let (svc, project) = as_admin(ctx)?;
    Ok((svc, users::get(&svc.db, &project.id, id).await.gql()?))
}

/// The tokens of the session a call opened or renewed.
pub async fn tokens(call: impl Future<Output = AppResult<AuthResult>>) -> Result<AuthPayload> {
    call.await.map(AuthPayload).gql()
}

/// The outcome of a log-in: tokens, or a second-factor challenge.
pub async fn log_in_outcome(
    call: impl Future<Output = AppResult<LogInOutcome>>,
) -> Result<LogInPayload> {
    call.await.map(LogInPayload).gql()
}

/// The user a call changed, in full (the caller's own record, or one an
/// administrator may see whole).
pub async fn full_user(call: impl Future<Output = AppResult<User>>) -> Result<UserObject> {
    call.await.map(UserObject::full).gql()
}

/// What a call returned, as its GraphQL type.
pub async fn answer<T, U: From<T>>(call: impl Future<Output = AppResult<T>>) -> Result<U> {
    call.await.map(U::from).gql()
}

/// `true` once a call with nothing else to tell has succeeded.
pub async fn done<T>(call: impl Future<Output = AppResult<T>>) -> Result<bool> {
    call.await.gql().map(|_| true)
}

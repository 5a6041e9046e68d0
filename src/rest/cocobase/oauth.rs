//! OAuth2 sign-in, Cocobase style. With the provider step done by the app:
//! `google-verify {id_token}` and `github-verify {code, redirect_uri}` (the
//! SDK's `login_with_google`/`login_with_github`). Server-kept flows (the
//! docs): `GET oauth/{provider}?redirect_uri=` or `GET login-google` give the
//! provider's `{url, state}`; the provider returns to the app's redirect URL,
//! which posts `{code, state}` to `verify-google-login` (for any provider the
//! flow was started with, Apple's included; `{id_token}` there is
//! `google-verify`). Each answers `{access_token, token_type, user}`.
use axum::Json;
use axum::extract::{Path, RawQuery};
use serde_json::{Value, json};

use super::call::{Coco, CocoBody, Result};
use super::doc::Errors;
use super::two_factor::outcome_json;
use crate::domain::access::Caller;
use crate::domain::oauth::direct::{self, Direct};
use crate::domain::oauth::flow::{self, FinishRequest, StartRequest};
use crate::domain::users::{SignInContext, TokenLifetime};
use crate::http::body::string_field;

/// Path parameters by name: under `/p/{project}` there is one more.
#[derive(serde::Deserialize)]
pub struct ProviderPath {
    provider: String,
}

/// `{url, state}` of a started flow (the `redirect_uri` query, or the
/// provider's only redirect URL).
async fn start(call: &Coco, provider: &str, query: Option<String>) -> Result<Json<Value>> {
    let q = query.unwrap_or_default();
    let redirect_url = form_urlencoded::parse(q.as_bytes())
        .find(|(k, _)| k == "redirect_uri")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    let caller = &call.caller;
    let req = StartRequest {
        collection: None,
        provider: provider.to_owned(),
        redirect_url,
        link_user: None,
        client: caller.client.clone(),
    };
    let started = flow::start(call.services(), caller.project()?, req).await?;
    Ok(Json(json!({"url": started.url, "state": started.state})))
}

#[utoipa::path(get, path = "/auth-collections/oauth/{provider}", params(("provider" = String, Path)), security(("apiKey" = [])),
    summary = "The provider's authorization URL (`?redirect_uri=`, one of the provider's `redirect_urls`): `{url, state}`",
    responses((status = 200, description = "`{url, state}`", body = Object), Errors<401, 404, 422, 429>))]
pub async fn oauth_url(
    call: Coco,
    Path(p): Path<ProviderPath>,
    RawQuery(q): RawQuery,
) -> Result<Json<Value>> {
    start(&call, &p.provider, q).await
}

#[utoipa::path(get, path = "/auth-collections/login-google", security(("apiKey" = [])),
    summary = "Google's authorization URL (`?redirect_uri=` optional when the provider lists one): `{url, state}`",
    responses((status = 200, description = "`{url, state}`", body = Object), Errors<401, 404, 422, 429>))]
pub async fn login_google(call: Coco, RawQuery(q): RawQuery) -> Result<Json<Value>> {
    start(&call, "google", q).await
}

#[utoipa::path(post, path = "/auth-collections/verify-google-login", security(("apiKey" = [])), request_body = Object,
    summary = "Finishes a flow from `oauth/{provider}` or `login-google` (`{code, state}`), or checks a Google `{id_token}`",
    responses((status = 200, description = "`{access_token, token_type, user}`, or `{requires_2fa, message}`", body = Object), Errors<401, 403, 422, 429>))]
pub async fn verify_google_login(call: Coco, body: CocoBody) -> Result<Json<Value>> {
    if body.contains_key("id_token") {
        return google_verify(call, body).await;
    }
    let caller = &call.caller;
    let req = FinishRequest {
        state: string_field(&body, "state")?,
        code: string_field(&body, "code")?,
        context: long_lived(caller),
    };
    let done = flow::finish(call.services(), caller.project()?, req).await?;
    Ok(Json(outcome_json(done.outcome)))
}

/// `{id_token}` from Google → `{access_token, user}` (the collection's `google` provider).
#[utoipa::path(post, path = "/auth-collections/google-verify", security(("apiKey" = [])), request_body = Object,
    summary = "Google sign-in with an ID token (`id_token`)",
    responses((status = 200, description = "`{access_token, token_type, user}`, or `{requires_2fa, message}`", body = Object), Errors<401, 403, 422, 429>))]
pub async fn google_verify(call: Coco, body: CocoBody) -> Result<Json<Value>> {
    let id_token = string_field(&body, "id_token")?;
    direct_sign_in(&call, Direct::GoogleIdToken(&id_token)).await
}

/// `{code, redirect_uri}` from GitHub → `{access_token, user}` (the collection's `github` provider).
#[utoipa::path(post, path = "/auth-collections/github-verify", security(("apiKey" = [])), request_body = Object,
    summary = "GitHub sign-in with an authorization code (`code`, `redirect_uri`)",
    responses((status = 200, description = "`{access_token, token_type, user}`, or `{requires_2fa, message}`", body = Object), Errors<400, 401, 403, 422, 429>))]
pub async fn github_verify(call: Coco, body: CocoBody) -> Result<Json<Value>> {
    let code = string_field(&body, "code")?;
    let redirect_url = string_field(&body, "redirect_uri")?;
    let step = Direct::GithubCode {
        code: &code,
        redirect_url: &redirect_url,
    };
    direct_sign_in(&call, step).await
}

/// A sign-in whose provider step the app did, answered as a log-in.
async fn direct_sign_in(call: &Coco, step: Direct<'_>) -> Result<Json<Value>> {
    let caller = &call.caller;
    let context = long_lived(caller);
    let done = direct::sign_in(call.services(), caller.project()?, step, &context).await?;
    Ok(Json(outcome_json(done.outcome)))
}

/// Cocobase's sign-ins: long-lived tokens (its SDK never refreshes).
fn long_lived(caller: &Caller) -> SignInContext {
    SignInContext::new(&caller.client, TokenLifetime::LongLived)
}

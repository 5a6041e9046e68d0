//! Social sign-in, urBackend style: the SDK's `social_start_url(provider)`
//! is a browser link, `GET social/{provider}/start?key=pk_live_…`, which
//! redirects to the provider; the provider returns to this server's
//! `social/{provider}/callback` (GET, or POST for a `form_post`), which sends
//! the browser to `<oauth2_site_url>/auth/callback?rtCode=…#token=…`; the app
//! then calls `social/exchange {rtCode, token}` for the refresh token.
use axum::Json;
use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, RawQuery};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::{Value, json};

use super::call::{Result, Ub, UbBody};
use super::cookies::{cookie_path, secure, set_cookie};
use super::doc::Errors;
use crate::domain::oauth::callback::Callback;
use crate::domain::oauth::social;
use crate::http::body::string_field;
use crate::http::dialect::{Call, Dialect};

/// The browser's requests: no `x-api-key` header (the start carries the key
/// in its query, the provider's callback carries none); errors in urBackend's shape.
pub struct Browser;

impl Dialect for Browser {
    const RENDER: fn(&crate::error::AppError) -> (u16, Value) = super::error::render;
}

type BrowserCall = Call<Browser>;
type BrowserResult<T> = std::result::Result<T, crate::http::dialect::Failure<Browser>>;

/// Path parameters by name: under `/p/{project}` there is one more.
#[derive(serde::Deserialize)]
pub struct ProviderPath {
    provider: String,
}

/// The server's callback path for a provider (what `redirect_urls` lists).
fn callback_path(provider: &str) -> String {
    format!("/api/userAuth/social/{provider}/callback")
}

#[utoipa::path(get, path = "/api/userAuth/social/{provider}/start", params(("provider" = String, Path)),
    summary = "Social sign-in: redirects the browser to the provider (`?key=pk_live_…`; secret keys refused)",
    responses((status = 303, description = "To the provider's authorization URL"), Errors<401, 403, 404, 429>))]
pub async fn social_start(
    call: BrowserCall,
    Path(p): Path<ProviderPath>,
    RawQuery(q): RawQuery,
) -> BrowserResult<Redirect> {
    let q = q.unwrap_or_default();
    let key = form_urlencoded::parse(q.as_bytes())
        .find(|(k, _)| k == "key")
        .map(|(_, v)| v.into_owned());
    let svc = call.services();
    let path = callback_path(&p.provider);
    let url = social::start(svc, &call.caller, key.as_deref(), &p.provider, &path).await?;
    Ok(Redirect::to(&url))
}

async fn finish(call: BrowserCall, provider: &str, encoded: &[u8]) -> BrowserResult<Response> {
    let cb = Callback::parse(encoded)?;
    let svc = call.services();
    let to = social::finish(svc, provider, cb, &call.caller.client).await?;
    // The location carries a one-time code and, in its fragment, the token.
    let headers = [(header::CACHE_CONTROL, "no-store")];
    Ok((headers, Redirect::to(&to)).into_response())
}

/// The provider's callback (register it at the provider and list it in the
/// provider's `redirect_urls`).
#[utoipa::path(get, path = "/api/userAuth/social/{provider}/callback", params(("provider" = String, Path)),
    summary = "Social sign-in callback (`?state=&code=`): redirects to `<oauth2_site_url>/auth/callback?rtCode=…#token=…`",
    responses((status = 303, description = "To the app's `/auth/callback`"), Errors<400, 401, 403>))]
pub async fn social_callback(
    call: BrowserCall,
    Path(p): Path<ProviderPath>,
    RawQuery(q): RawQuery,
) -> BrowserResult<Response> {
    finish(call, &p.provider, q.unwrap_or_default().as_bytes()).await
}

#[utoipa::path(post, path = "/api/userAuth/social/{provider}/callback", params(("provider" = String, Path)), request_body(content = String, content_type = "application/x-www-form-urlencoded", description = "`state`, `code` or `error`"),
    summary = "Social sign-in callback, `form_post` (Apple): the same as GET with the values in the body",
    responses((status = 303, description = "To the app's `/auth/callback`"), Errors<400, 401, 403>))]
pub async fn social_callback_post(
    call: BrowserCall,
    Path(p): Path<ProviderPath>,
    body: Bytes,
) -> BrowserResult<Response> {
    finish(call, &p.provider, &body).await
}

/// `{rtCode, token}` → `{success, data: {refreshToken}, message}` and the cookie.
#[utoipa::path(post, path = "/api/userAuth/social/exchange", security(("apiKey" = [])), request_body = Object,
    summary = "Social sign-in: trades the callback's one-time `rtCode` and its `token` for the refresh token (also set as the cookie)",
    responses((status = 200, description = "`{success, data: {refreshToken}, message}`", body = Object), Errors<400, 401, 429>))]
pub async fn social_exchange(
    call: Ub,
    headers: HeaderMap,
    uri: OriginalUri,
    body: UbBody,
) -> Result<Response> {
    let rt_code = string_field(&body, "rtCode")?;
    let token = string_field(&body, "token")?;
    let (svc, caller) = (call.services(), &call.caller);
    let done = social::exchange(svc, caller.project()?, &rt_code, &token, &caller.client).await?;
    let cookie = set_cookie(
        &done.refresh_token,
        done.refresh_ttl_secs,
        &cookie_path(&uri),
        secure(&call.app, &headers),
    );
    let body = json!({"success": true, "data": {"refreshToken": done.refresh_token},
                      "message": "Refresh token issued"});
    let mut res = Json(body).into_response();
    res.headers_mut().append(header::SET_COOKIE, cookie);
    Ok(res)
}

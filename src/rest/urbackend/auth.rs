//! Sign-up, log-in, refresh and log-out, with the refresh cookie.
use axum::Json;
use axum::extract::OriginalUri;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, json};

use super::call::{Result, Ub, UbBody};
use super::cookies::{cookie_path, presented_refresh, secure, set_cookie, token_response};
use super::doc::Errors;
use super::error::second_factor_required;
use crate::domain::second_factor::{Challenge, LogInOutcome};
use crate::domain::sessions;
use crate::domain::users::{self, TokenLifetime};
use crate::error::AppError;
use crate::http::body::PasswordBody;

#[utoipa::path(post, path = "/api/userAuth/signup", security(("apiKey" = [])), request_body = Object,
    summary = "Sign up (extra fields kept); sets the `refreshToken` cookie",
    responses((status = 201, description = "`{message, token, accessToken, expiresIn, userId}`", body = Object), Errors<400, 401>))]
pub async fn signup(
    call: Ub,
    headers: HeaderMap,
    uri: OriginalUri,
    body: UbBody,
) -> Result<Response> {
    let body = body.into_inner();
    let caller = &call.caller;
    let data = body
        .iter()
        .filter(|(k, _)| *k != "email" && *k != "password")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let req = PasswordBody::read(&body)?.sign_up(data, &caller.client, TokenLifetime::Short);
    let auth = match users::sign_up(call.services(), caller.project()?, req).await? {
        LogInOutcome::Complete(auth) => auth,
        LogInOutcome::SecondFactorRequired(c) => return Ok(challenge_response(&c)),
    };
    let mut out = Map::new();
    out.insert("message".into(), json!("User registered successfully"));
    out.insert("userId".into(), json!(auth.user.id));
    token_response(&call.app, &headers, &uri, StatusCode::CREATED, &auth, out).await
}

#[utoipa::path(post, path = "/api/userAuth/login", security(("apiKey" = [])), request_body = Object,
    summary = "Log in; sets the `refreshToken` cookie",
    responses((status = 200, description = "`{token, accessToken, expiresIn}` (+`refreshToken` in header mode)", body = Object), (status = 401, description = "`{errorCode: \"SECOND_FACTOR_REQUIRED\", challengeId, methods, expiresAt}`: answer it with GraphQL `verifySecondFactor`", body = Object), Errors<400, 401>))]
pub async fn login(
    call: Ub,
    headers: HeaderMap,
    uri: OriginalUri,
    body: UbBody,
) -> Result<Response> {
    let req = PasswordBody::read(&body)?.log_in(&call.caller.client, TokenLifetime::Short);
    let auth = match users::log_in(call.services(), call.caller.project()?, req).await? {
        LogInOutcome::Complete(auth) => auth,
        LogInOutcome::SecondFactorRequired(c) => return Ok(challenge_response(&c)),
    };
    token_response(&call.app, &headers, &uri, StatusCode::OK, &auth, Map::new()).await
}

/// 401 `{errorCode: "SECOND_FACTOR_REQUIRED", challengeId, …}`, no token.
fn challenge_response(c: &Challenge) -> Response {
    let (status, body) = second_factor_required(c);
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::UNAUTHORIZED);
    (status, Json(body)).into_response()
}

#[utoipa::path(post, path = "/api/userAuth/refresh-token", security(("apiKey" = [])),
    summary = "Rotate the refresh token (cookie, or `x-refresh-token` in header mode)",
    responses((status = 200, description = "`{token, accessToken, expiresIn}`", body = Object), Errors<401, 403>))]
pub async fn refresh_token(call: Ub, headers: HeaderMap, uri: OriginalUri) -> Result<Response> {
    let project = call.caller.project()?;
    let token = presented_refresh(&headers).ok_or(AppError::Unauthenticated)?;
    let lifetime = TokenLifetime::Short;
    let client = &call.caller.client;
    let auth = users::refresh(call.services(), &token, Some(&project.id), lifetime, client).await?;
    token_response(&call.app, &headers, &uri, StatusCode::OK, &auth, Map::new()).await
}

/// Ends the session of the bearer token (or of the refresh cookie) and clears the cookie.
#[utoipa::path(post, path = "/api/userAuth/logout", security(("bearer" = [])),
    summary = "End the session and clear the cookie",
    responses((status = 200, description = "`{success, message}`", body = Object), Errors<401>))]
pub async fn logout(call: Ub, headers: HeaderMap, uri: OriginalUri) -> Result<Response> {
    let (svc, caller) = (call.services(), &call.caller);
    match (&caller.user, &caller.session_id) {
        (Some(user), Some(sid)) => {
            users::log_out(svc, user, sid, false).await?;
        }
        _ => {
            let token = presented_refresh(&headers).ok_or(AppError::Unauthenticated)?;
            sessions::revoke_by_refresh(svc, &token, &caller.project()?.id).await?;
        }
    }
    let mut res =
        Json(json!({"success": true, "message": "Logged out successfully"})).into_response();
    let secure = secure(&call.app, &headers);
    res.headers_mut().append(
        header::SET_COOKIE,
        set_cookie("", 0, &cookie_path(&uri), secure),
    );
    Ok(res)
}

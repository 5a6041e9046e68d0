//! The refresh token's cookie (or header) and the token responses that set it.
use axum::Json;
use axum::extract::OriginalUri;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::call::Result;
use crate::domain::users::AuthResult;
use crate::error::AppError;
use crate::http::state::AppState;

const COOKIE: &str = "refreshToken";

fn header_mode(headers: &HeaderMap) -> bool {
    headers
        .get("x-refresh-token-mode")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("header"))
}

/// The cookie path: this route family's prefix, with any `/p/{project}` kept.
pub fn cookie_path(uri: &OriginalUri) -> String {
    let path = uri.0.path();
    match path.find("/api/userAuth") {
        Some(i) => format!("{}/api/userAuth", &path[..i]),
        None => "/api/userAuth".into(),
    }
}

pub fn secure(state: &AppState, headers: &HeaderMap) -> bool {
    match state.config.secure_cookies.as_str() {
        "always" => true,
        "never" => false,
        // `auto`: Secure only behind TLS, where the browser and `requests` send it back.
        _ => headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v == "https"),
    }
}

pub fn set_cookie(value: &str, max_age: i64, path: &str, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{COOKIE}={value}; Max-Age={max_age}; Path={path}; HttpOnly; SameSite=Lax{secure}"
    ))
    .expect("cookie characters are URL-safe")
}

fn expires_in(secs: i64) -> String {
    if secs % 3600 == 0 {
        format!("{}h", secs / 3600)
    } else if secs % 60 == 0 {
        format!("{}m", secs / 60)
    } else {
        format!("{secs}s")
    }
}

/// The tokens of a log-in, sign-up or refresh, with the cookie.
pub async fn token_response(
    state: &AppState,
    headers: &HeaderMap,
    uri: &OriginalUri,
    status: StatusCode,
    auth: &AuthResult,
    mut body: Map<String, Value>,
) -> Result<Response> {
    body.insert("token".into(), json!(auth.token));
    body.insert("accessToken".into(), json!(auth.token));
    body.insert("expiresIn".into(), json!(expires_in(auth.expires_in)));
    let refresh = auth
        .refresh_token
        .as_deref()
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("no refresh token")))?;
    // The body carries the refresh token in header mode, and whenever the
    // client sent its token in `x-refresh-token` (as urBackend does).
    if header_mode(headers) || headers.contains_key("x-refresh-token") {
        body.insert("refreshToken".into(), json!(refresh));
    }
    let collection = state
        .services
        .catalog
        .collection(&state.services.db, &auth.user.collection_id)
        .await?;
    let cookie = set_cookie(
        refresh,
        collection.settings.refresh_token_ttl_secs,
        &cookie_path(uri),
        secure(state, headers),
    );
    let mut res = (status, Json(Value::Object(body))).into_response();
    res.headers_mut().append(header::SET_COOKIE, cookie);
    Ok(res)
}

fn cookie_value(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (k, v) = pair.trim().split_once('=')?;
            (k == COOKIE && !v.is_empty()).then(|| v.to_owned())
        })
}

/// The refresh token: the cookie first, then `x-refresh-token`.
pub fn presented_refresh(headers: &HeaderMap) -> Option<String> {
    cookie_value(headers).or_else(|| {
        headers
            .get("x-refresh-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    })
}

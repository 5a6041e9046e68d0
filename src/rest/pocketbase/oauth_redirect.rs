//! `GET`/`POST /api/oauth2-redirect`: where the provider sends the browser
//! in the SDK's one-call `authWithOAuth2({provider})`. The SDK subscribed its
//! realtime client to `@oauth2` and used the client's id as the OAuth2
//! `state`; the `{state, code, error}` the provider brought back goes to that
//! client, which then calls `auth-with-oauth2`. The browser gets a page
//! saying it may close the window; nothing of the callback is logged or echoed.
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde_json::json;

use super::realtime::PbState;
use crate::domain::oauth::callback::Callback;

/// The realtime topic the SDK waits on.
const TOPIC: &str = "@oauth2";

fn page(status: StatusCode, text: &str) -> Response {
    let html = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Sign-in</title></head>\
         <body><p>{text}</p><script>window.close()</script></body></html>"
    );
    let headers = [
        (header::CACHE_CONTROL, "no-store"),
        // The URL holds the code: never send it on as a referrer.
        (header::REFERRER_POLICY, "no-referrer"),
    ];
    (status, headers, Html(html)).into_response()
}

/// Forwards a provider's callback to the realtime client its state names.
fn forward(state: &PbState, encoded: &[u8]) -> Response {
    let Ok(cb) = Callback::parse(encoded) else {
        return page(
            StatusCode::BAD_REQUEST,
            "The sign-in could not be completed: the provider's answer is incomplete.",
        );
    };
    let (code, error) = match &cb.result {
        Ok(code) => (code.as_str(), ""),
        Err(e) => ("", e.as_str()),
    };
    let message = json!({"state": cb.state, "code": code, "error": error}).to_string();
    if !state.realtime.send_to(&cb.state, TOPIC, message) {
        return page(
            StatusCode::NOT_FOUND,
            "The sign-in could not be completed: the app is no longer waiting for it. \
             Close this window and try again.",
        );
    }
    if cb.result.is_err() {
        return page(
            StatusCode::OK,
            "The sign-in was cancelled or refused. You can close this window.",
        );
    }
    page(
        StatusCode::OK,
        "Signed in. You can close this window and return to the app.",
    )
}

/// The provider's redirect (`?state=&code=` or `?state=&error=`).
#[utoipa::path(get, path = "/api/oauth2-redirect",
    summary = "OAuth2 redirect URL of `authWithOAuth2` (`?state=&code=` or `?state=&error=`): forwards `{state, code, error}` to the realtime client subscribed to `@oauth2` whose id is the state",
    responses((status = 200, description = "An HTML page: the window may be closed", content_type = "text/html", body = String), (status = 400, description = "No state, or neither code nor error (HTML)", content_type = "text/html", body = String), (status = 404, description = "No realtime client waits for this state (HTML)", content_type = "text/html", body = String)))]
pub async fn oauth2_redirect(State(state): State<PbState>, RawQuery(query): RawQuery) -> Response {
    forward(&state, query.unwrap_or_default().as_bytes())
}

/// The same, posted as a form (Apple's `response_mode=form_post`).
#[utoipa::path(post, path = "/api/oauth2-redirect", request_body(content = String, content_type = "application/x-www-form-urlencoded", description = "`state`, `code` or `error`"),
    summary = "OAuth2 redirect URL, `form_post` (Apple): the same as GET with the values in the body",
    responses((status = 200, description = "An HTML page: the window may be closed", content_type = "text/html", body = String), (status = 400, description = "No state, or neither code nor error (HTML)", content_type = "text/html", body = String), (status = 404, description = "No realtime client waits for this state (HTML)", content_type = "text/html", body = String)))]
pub async fn oauth2_redirect_post(State(state): State<PbState>, body: Bytes) -> Response {
    forward(&state, &body)
}

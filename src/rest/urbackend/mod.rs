//! urBackend: `/api/userAuth/*`, bodies `{success:false, error, code}`.
//! Refresh tokens travel in the `refreshToken` cookie, or in `x-refresh-token`
//! with `x-refresh-token-mode: header` (then the body carries the new one too).
mod account;
mod auth;
mod call;
mod cookies;
mod email;
mod error;

use axum::Router;
use axum::routing::{get, post, put};

pub use call::{Ub, UbBody, UbError, UrBackend};

use crate::http::state::AppState;

/// Every urBackend route.
pub fn routes() -> Router<AppState> {
    const A: &str = "/api/userAuth";
    Router::new()
        .route(&format!("{A}/signup"), post(auth::signup))
        .route(&format!("{A}/login"), post(auth::login))
        .route(&format!("{A}/me"), get(account::me))
        .route(&format!("{A}/update-profile"), put(account::update_profile))
        .route(
            &format!("{A}/change-password"),
            put(account::change_password),
        )
        .route(
            &format!("{A}/public/{{username}}"),
            get(account::public_profile),
        )
        .route(&format!("{A}/logout"), post(auth::logout))
        .route(&format!("{A}/refresh-token"), post(auth::refresh_token))
        .route(
            &format!("{A}/request-password-reset"),
            post(email::request_password_reset),
        )
        .route(&format!("{A}/reset-password"), post(email::reset_password))
        .route(&format!("{A}/verify-email"), post(email::verify_email))
        .route(
            &format!("{A}/resend-verification-otp"),
            post(email::resend_verification_otp),
        )
        .route(&format!("{A}/social/exchange"), post(auth::social_exchange))
        .route(
            &format!("{A}/social/{{provider}}/start"),
            get(auth::social_start),
        )
}

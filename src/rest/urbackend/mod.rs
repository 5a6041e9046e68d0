//! urBackend: `/api/userAuth/*`, bodies `{success:false, error, code}`.
//! Refresh tokens travel in the `refreshToken` cookie, or in `x-refresh-token`
//! with `x-refresh-token-mode: header` (then the body carries the new one too).
mod account;
mod auth;
mod call;
mod cookies;
pub mod doc;
mod email;
mod error;
mod social;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use call::{Ub, UbBody, UbError, UrBackend};

use crate::http::state::AppState;

/// Every urBackend route, each documented by its handler's `#[utoipa::path]`.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(auth::signup))
        .routes(routes!(auth::login))
        .routes(routes!(account::me))
        .routes(routes!(account::update_profile))
        .routes(routes!(account::change_password))
        .routes(routes!(account::public_profile))
        .routes(routes!(auth::logout))
        .routes(routes!(auth::refresh_token))
        .routes(routes!(email::request_password_reset))
        .routes(routes!(email::reset_password))
        .routes(routes!(email::verify_email))
        .routes(routes!(email::resend_verification_otp))
        .routes(routes!(social::social_exchange))
        .routes(routes!(social::social_start))
        .routes(routes!(
            social::social_callback,
            social::social_callback_post
        ))
}

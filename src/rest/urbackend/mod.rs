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

use super::route_list::api_routes;

pub use call::{Ub, UbBody, UbError, UrBackend};

use crate::http::state::AppState;

/// Every urBackend route, each documented by its handler's `#[utoipa::path]`.
pub fn routes() -> OpenApiRouter<AppState> {
    api_routes![
        auth::signup;
        auth::login;
        account::me;
        account::update_profile;
        account::change_password;
        account::public_profile;
        auth::logout;
        auth::refresh_token;
        email::request_password_reset;
        email::reset_password;
        email::verify_email;
        email::resend_verification_otp;
        social::social_exchange;
        social::social_start;
        social::social_callback, social::social_callback_post;
    ]
}

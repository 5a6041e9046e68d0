//! Cocobase: `/auth-collections/*` (and `/auth/register`), errors as FastAPI's
//! `{"detail": …}`. Profile fields live under `data`; tokens are long-lived
//! (Cocobase clients never refresh) but revocable like every other session.
mod account;
mod auth;
mod call;
mod email;
mod error;
mod list;

use axum::Router;
use axum::routing::{get, post};

pub use call::{Coco, CocoBody, CocoError, Cocobase};
pub use list::list_query;

use crate::http::state::AppState;

/// Every Cocobase route.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/auth-collections/signup", post(auth::signup))
        .route("/auth-collections/login", post(auth::login))
        .route(
            "/auth-collections/user",
            get(account::current_user)
                .put(account::update_user)
                .patch(account::update_user),
        )
        .route(
            "/auth-collections/change-password",
            post(account::change_password),
        )
        .route("/auth-collections/users", get(list::list_users))
        .route("/auth-collections/users/{id}", get(account::get_user))
        .route("/auth/register", post(auth::register))
        .route("/auth-collections/google-verify", post(auth::google_verify))
        .route("/auth-collections/github-verify", post(auth::github_verify))
        .route(
            "/auth-collections/verify-google-login",
            post(auth::verify_google_login),
        )
        .route("/auth-collections/oauth/google", get(auth::oauth_google))
        .route("/auth-collections/login-google", get(auth::login_google))
        .route("/auth-collections/2fa/{action}", post(auth::two_factor))
        .route(
            "/auth-collections/verify-email/{action}",
            post(email::verify_email),
        )
        .route(
            "/auth-collections/forgot-password",
            post(email::forgot_password),
        )
}

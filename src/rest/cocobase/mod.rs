//! Cocobase: `/auth-collections/*` (and `/auth/register`), errors as FastAPI's
//! `{"detail": …}`. Profile fields live under `data`; tokens are long-lived
//! (Cocobase clients never refresh) but revocable like every other session.
mod account;
mod auth;
mod call;
pub mod doc;
mod email;
mod error;
mod list;
mod oauth;
mod two_factor;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use call::{Coco, CocoBody, CocoError, Cocobase};
pub use list::list_query;

use crate::http::state::AppState;

/// Every Cocobase route, each documented by its handler's `#[utoipa::path]`.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(auth::signup))
        .routes(routes!(auth::login))
        .routes(routes!(account::current_user, account::update_user))
        .routes(routes!(account::change_password))
        .routes(routes!(list::list_users))
        .routes(routes!(account::get_user))
        .routes(routes!(auth::register))
        .routes(routes!(oauth::google_verify))
        .routes(routes!(oauth::github_verify))
        .routes(routes!(oauth::verify_google_login))
        .routes(routes!(oauth::oauth_url))
        .routes(routes!(oauth::login_google))
        .routes(routes!(two_factor::enable))
        .routes(routes!(two_factor::disable))
        .routes(routes!(two_factor::send_code))
        .routes(routes!(two_factor::verify))
        .routes(routes!(email::verify_email))
        .routes(routes!(email::forgot_password))
}

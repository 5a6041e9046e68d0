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

use super::route_list::api_routes;

pub use auth::Register;
pub use call::{Coco, CocoBody, CocoError, Cocobase};
pub use list::list_query;

use crate::http::state::AppState;

/// Every Cocobase route, each documented by its handler's `#[utoipa::path]`.
pub fn routes() -> OpenApiRouter<AppState> {
    api_routes![
        auth::signup;
        auth::login;
        account::current_user, account::update_user;
        account::change_password;
        list::list_users;
        account::get_user;
        auth::register;
        oauth::google_verify;
        oauth::github_verify;
        oauth::verify_google_login;
        oauth::oauth_url;
        oauth::login_google;
        two_factor::enable;
        two_factor::disable;
        two_factor::send_code;
        two_factor::verify;
        email::verify_email;
        email::forgot_password;
    ]
}

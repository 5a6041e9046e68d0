//! PocketBase: `/api/collections/{collection}/…` for auth collections and
//! `_superusers`, records with profile fields flat, errors
//! `{status, message, data: {field: {code, message}}}`. Default rules (the
//! domain's `access`): create is open; view, update and delete only the own
//! record; list only the own record unless superuser. No key: the project
//! comes from `/p/{project}` or is `default`.
mod auth;
mod call;
pub mod doc;
mod email;
mod error;
mod expand;
mod files;
pub mod filter;
mod mfa;
mod oauth;
mod oauth_redirect;
pub mod realtime;
pub mod record;
mod records;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use call::{CollPath, Pb, PbBody, PbError, PocketBase, RecordPath, SUPERUSERS};
pub use realtime::PbState;
pub use record::{pb_date, record_json};

/// Every PocketBase route, each documented by its handler's `#[utoipa::path]`.
pub fn routes() -> OpenApiRouter<PbState> {
    OpenApiRouter::new()
        .routes(routes!(auth::health))
        .routes(routes!(auth::auth_methods))
        .routes(routes!(auth::auth_with_password))
        .routes(routes!(auth::auth_refresh))
        .routes(routes!(mfa::auth_with_totp))
        .routes(routes!(records::list_records, records::create_record))
        .routes(routes!(
            records::view_record,
            records::update_record,
            records::delete_record
        ))
        .routes(routes!(email::request_otp))
        .routes(routes!(email::auth_with_otp))
        .routes(routes!(oauth::auth_with_oauth2))
        .routes(routes!(
            oauth_redirect::oauth2_redirect,
            oauth_redirect::oauth2_redirect_post
        ))
        .routes(routes!(email::request_password_reset))
        .routes(routes!(email::confirm_password_reset))
        .routes(routes!(email::request_verification))
        .routes(routes!(email::confirm_verification))
        .routes(routes!(email::request_email_change))
        .routes(routes!(email::confirm_email_change))
        .routes(routes!(auth::impersonate))
        .routes(routes!(realtime::connect, realtime::subscribe))
        .routes(routes!(files::file_token))
        .routes(routes!(files::download_file))
}

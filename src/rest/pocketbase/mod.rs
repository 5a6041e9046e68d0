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

use super::route_list::api_routes;

pub use call::{CollPath, Pb, PbBody, PbError, PocketBase, RecordPath, SUPERUSERS};
pub use realtime::PbState;
pub use record::{pb_date, record_json};

/// Every PocketBase route, each documented by its handler's `#[utoipa::path]`.
pub fn routes() -> OpenApiRouter<PbState> {
    api_routes![
        auth::health;
        auth::auth_methods;
        auth::auth_with_password;
        auth::auth_refresh;
        mfa::auth_with_totp;
        records::list_records, records::create_record;
        records::view_record, records::update_record, records::delete_record;
        email::request_otp;
        email::auth_with_otp;
        oauth::auth_with_oauth2;
        oauth_redirect::oauth2_redirect, oauth_redirect::oauth2_redirect_post;
        email::request_password_reset;
        email::confirm_password_reset;
        email::request_verification;
        email::confirm_verification;
        email::request_email_change;
        email::confirm_email_change;
        auth::impersonate;
        realtime::connect, realtime::subscribe;
        files::file_token;
        files::download_file;
    ]
}

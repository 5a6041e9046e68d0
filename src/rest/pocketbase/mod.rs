//! PocketBase: `/api/collections/{collection}/…` for auth collections and
//! `_superusers`, records with profile fields flat, errors
//! `{status, message, data: {field: {code, message}}}`. Default rules (the
//! domain's `access`): create is open; view, update and delete only the own
//! record; list only the own record unless superuser. No key: the project
//! comes from `/p/{project}` or is `default`.
mod auth;
mod call;
mod email;
mod error;
mod expand;
pub mod filter;
pub mod realtime;
pub mod record;
mod records;

use axum::Router;
use axum::routing::{get, post};

pub use call::{CollPath, Pb, PbBody, PbError, PocketBase, RecordPath, SUPERUSERS};
pub use realtime::PbState;
pub use record::{pb_date, record_json};

/// Every PocketBase route.
pub fn routes() -> Router<PbState> {
    const C: &str = "/api/collections/{collection}";
    Router::new()
        .route("/api/health", get(auth::health))
        .route(&format!("{C}/auth-methods"), get(auth::auth_methods))
        .route(
            &format!("{C}/auth-with-password"),
            post(auth::auth_with_password),
        )
        .route(&format!("{C}/auth-refresh"), post(auth::auth_refresh))
        .route(
            &format!("{C}/records"),
            get(records::list_records).post(records::create_record),
        )
        .route(
            &format!("{C}/records/{{id}}"),
            get(records::view_record)
                .patch(records::update_record)
                .delete(records::delete_record),
        )
        .route(&format!("{C}/request-otp"), post(email::request_otp))
        .route(&format!("{C}/auth-with-otp"), post(email::auth_with_otp))
        .route(
            &format!("{C}/auth-with-oauth2"),
            post(auth::auth_with_oauth2),
        )
        .route(
            &format!("{C}/request-password-reset"),
            post(email::request_password_reset),
        )
        .route(
            &format!("{C}/confirm-password-reset"),
            post(email::confirm_password_reset),
        )
        .route(
            &format!("{C}/request-verification"),
            post(email::request_verification),
        )
        .route(
            &format!("{C}/confirm-verification"),
            post(email::confirm_verification),
        )
        .route(
            &format!("{C}/request-email-change"),
            post(email::request_email_change),
        )
        .route(
            &format!("{C}/confirm-email-change"),
            post(email::confirm_email_change),
        )
        .route(&format!("{C}/impersonate/{{id}}"), post(auth::impersonate))
        .route(
            "/api/realtime",
            get(realtime::connect).post(realtime::subscribe),
        )
        .route("/api/files/token", post(records::file_token))
}

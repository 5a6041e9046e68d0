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
use axum::extract::FromRef;
use axum::routing::{get, post};

pub use call::{Pb, PbBody, PocketBase};
pub use error::PbError;
pub use record::{pb_date, record_json};

use crate::http::state::AppState;

/// The name and id PocketBase gives its superusers collection.
pub const SUPERUSERS: &str = "_superusers";
pub const SUPERUSERS_ID: &str = "pbc_3142635823";

/// PocketBase's routes need the realtime clients beside the shared state.
#[derive(Clone)]
pub struct PbState {
    pub app: AppState,
    pub realtime: realtime::Clients,
}

impl FromRef<PbState> for AppState {
    fn from_ref(s: &PbState) -> AppState {
        s.app.clone()
    }
}

/// Path parameters by name: under `/p/{project}` there is one more.
#[derive(serde::Deserialize)]
pub struct CollPath {
    pub collection: String,
}

#[derive(serde::Deserialize)]
pub struct RecordPath {
    pub collection: String,
    pub id: String,
}

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

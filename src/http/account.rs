//! `GET /account`: a page where a person signs in (password or passkey),
//! sees and ends its sessions, adds and removes passkeys and enrols an
//! authenticator app. Plain HTML and a small script shipped in the binary
//! (`assets/account/`), under the same strict CSP as GraphiQL; off when
//! GraphiQL is off, or with `AUTHGRAPH_ACCOUNT_PAGE=false`.
use std::sync::OnceLock;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;

use super::assets::{page_response, url};
use super::state::AppState;

/// `assets/account/account.html` with its assets' hashed URLs.
fn page() -> &'static str {
    static PAGE: OnceLock<String> = OnceLock::new();
    PAGE.get_or_init(|| {
        include_str!("../../assets/account/account.html")
            .replace("{{css}}", &url("account.css"))
            .replace("{{js}}", &url("account.js"))
    })
}

pub async fn account_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let enabled = state.config.graphiql && state.config.account_page;
    let what = "the account page (AUTHGRAPH_ACCOUNT_PAGE, AUTHGRAPH_GRAPHIQL)";
    page_response(enabled, what, page(), &headers)
}

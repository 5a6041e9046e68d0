//! REST front doors: one folder per product whose documented URLs authgraph
//! serves. Each handler only converts, calls `domain` and renders results and
//! errors in its product's shapes; the caller, project and body come from one
//! extractor per dialect (`http::dialect`).
//!
//! Tenancy: a request's project comes from its API key or token. Every route is
//! also served under `/p/{project}/`, which names the project for clients that
//! send no key (PocketBase); unprefixed keyless PocketBase routes serve the
//! `default` project. A key or token of one project never reaches another's users.
mod apidoc;
pub mod cocobase;
pub mod dates;
pub mod openapi;
pub mod pocketbase;
mod route_list;
pub mod urbackend;
pub mod wellknown;

pub use pocketbase::filter as pb_filter;

use axum::Router;
use axum::middleware;

use crate::http::state::AppState;
use crate::http::tenant::tenant_slug;

/// Every REST route, unprefixed and under `/p/{project}`.
pub fn router(app: AppState) -> Router {
    let pb = pocketbase::PbState {
        app: app.clone(),
        realtime: Default::default(),
    };
    // Not under /p/{project}: the keys are the server's, not a project's.
    let wellknown = wellknown::routes().with_state(app.clone());
    let routes = Router::new()
        .merge(cocobase::routes().with_state(app.clone()))
        .merge(urbackend::routes().with_state(app))
        .merge(pocketbase::routes().with_state(pb));
    Router::new()
        .merge(wellknown)
        .nest(
            "/p/{project}",
            routes.clone().layer(middleware::from_fn(tenant_slug)),
        )
        .merge(routes)
}

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

use crate::http::dialect::Dialect;
use crate::http::rejection::Family;
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

/// The REST door a path belongs to (after an optional `/p/{project}`), by
/// the URL prefixes each product documents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Door {
    UrBackend,
    PocketBase,
    Cocobase,
    /// Cocobase's `/auth/…` registration routes, with their own error shape.
    CocobaseRegister,
    WellKnown,
}

impl Door {
    /// The door's name in the metrics.
    pub fn name(self) -> &'static str {
        match self {
            Door::UrBackend => "urbackend",
            Door::PocketBase => "pocketbase",
            Door::Cocobase | Door::CocobaseRegister => "cocobase",
            Door::WellKnown => "well_known",
        }
    }
}

/// The REST family a path belongs to: its door's error shape.
pub fn family(path: &str) -> Option<Family> {
    Some(Family::Rest(match door(path)? {
        Door::UrBackend => urbackend::UrBackend::RENDER,
        Door::PocketBase => pocketbase::PocketBase::RENDER,
        Door::Cocobase => cocobase::Cocobase::RENDER,
        Door::CocobaseRegister => cocobase::Register::RENDER,
        Door::WellKnown => wellknown::render,
    }))
}

/// The REST door of a path (a route template or a request's path).
pub fn door(path: &str) -> Option<Door> {
    let path = match path.strip_prefix("/p/") {
        Some(rest) => rest.find('/').map_or("/", |i| &rest[i..]),
        None => path,
    };
    let under = |prefix: &str| {
        path.strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    };
    if under("/api/userAuth") {
        Some(Door::UrBackend)
    } else if under("/api") {
        Some(Door::PocketBase)
    } else if under("/auth-collections") {
        Some(Door::Cocobase)
    } else if under("/auth") {
        Some(Door::CocobaseRegister)
    } else if under("/.well-known") {
        Some(Door::WellKnown)
    } else {
        None
    }
}

//! REST front doors: one module per product whose documented URLs authgraph
//! serves. Each handler only authenticates, converts and calls `domain`, and
//! renders results and errors in its product's shapes.
//!
//! Tenancy: a request's project comes from its API key or token. Every route is
//! also served under `/p/{project}/`, which names the project for clients that
//! send no key (PocketBase); unprefixed keyless PocketBase routes serve the
//! `default` project. A key or token of one project never reaches another's users.
pub mod cocobase;
pub mod openapi;
pub mod pb_filter;
mod pb_realtime;
pub use pb_realtime::Clients as RealtimeClients;
pub mod pocketbase;
pub mod urbackend;

use axum::Router;
use axum::extract::{RawPathParams, Request};
use axum::middleware::{self, Next};
use axum::response::Response;
use serde_json::Value;

use crate::app::AppState;
use crate::domain::access::{Caller, Credentials};
use crate::error::{AppError, AppResult};

/// The project slug of a `/p/{project}/…` route.
#[derive(Clone, Debug)]
pub struct TenantSlug(pub String);

/// Every REST route, unprefixed and under `/p/{project}`.
pub fn router() -> Router<AppState> {
    let routes = Router::new()
        .merge(cocobase::routes())
        .merge(pocketbase::routes())
        .merge(urbackend::routes());
    Router::new()
        .nest(
            "/p/{project}",
            routes.clone().layer(middleware::from_fn(tenant_slug)),
        )
        .merge(routes)
}

async fn tenant_slug(params: RawPathParams, mut req: Request, next: Next) -> Response {
    if let Some((_, slug)) = params.iter().find(|(k, _)| *k == "project") {
        let slug = slug.to_owned();
        req.extensions_mut().insert(TenantSlug(slug));
    }
    next.run(req).await
}

/// Where a request's project may come from when no key or token names one.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Fallback {
    /// Keyless clients get the `default` project (PocketBase).
    DefaultProject,
    /// A key or token must name the project.
    None,
}

/// Resolves the caller and its project for a REST request.
pub async fn caller(
    state: &AppState,
    creds: &Credentials,
    slug: Option<&TenantSlug>,
    fallback: Fallback,
) -> AppResult<Caller> {
    let mut caller = Caller::resolve(&state.services, creds).await?;
    if let Some(TenantSlug(slug)) = slug {
        let project = state
            .services
            .catalog
            .project_by_slug(&state.services.db, slug)
            .await?;
        match &caller.project {
            // A key or token of another project on this project's URL.
            Some(p) if p.id != project.id => {
                return Err(AppError::Forbidden("credentials of another project".into()));
            }
            _ => caller.project = Some(project),
        }
    } else if caller.project.is_none() && fallback == Fallback::DefaultProject {
        caller.project = Some(
            state
                .services
                .catalog
                .project_by_slug(&state.services.db, "default")
                .await?,
        );
    }
    Ok(caller)
}

/// A request's query string as ordered pairs; repeated keys are kept.
pub struct QueryParams(Vec<(String, String)>);

impl QueryParams {
    pub fn parse(raw: Option<&str>) -> Self {
        QueryParams(
            form_urlencoded::parse(raw.unwrap_or("").as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// The last value of `key` (a later repetition overrides an earlier one).
    pub fn last(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a repeatable `key`, in order.
    pub fn all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Every pair, in order.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }
}

/// RFC 3339 with milliseconds and `Z`, as Cocobase and urBackend send dates.
pub fn iso_ts(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Parses a JSON object body; an empty body is an empty object.
pub fn json_object(body: &[u8]) -> AppResult<serde_json::Map<String, Value>> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(serde_json::Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(AppError::validation(
            "body",
            "the request body must be a JSON object",
        )),
        Err(e) => Err(AppError::validation(
            "body",
            format!("the request body is not valid JSON: {e}"),
        )),
    }
}

/// A required string field of a body.
pub fn string_field(body: &serde_json::Map<String, Value>, name: &str) -> AppResult<String> {
    match body.get(name) {
        Some(Value::String(s)) => Ok(s.clone()),
        None | Some(Value::Null) => {
            Err(AppError::validation(name, format!("`{name}` is required")))
        }
        Some(_) => Err(AppError::validation(
            name,
            format!("`{name}` must be a string"),
        )),
    }
}

/// An optional string field of a body.
pub fn opt_string(body: &serde_json::Map<String, Value>, name: &str) -> AppResult<Option<String>> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(AppError::validation(
            name,
            format!("`{name}` must be a string"),
        )),
    }
}

/// An optional object field of a body.
pub fn opt_object(
    body: &serde_json::Map<String, Value>,
    name: &str,
) -> AppResult<serde_json::Map<String, Value>> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(serde_json::Map::new()),
        Some(Value::Object(m)) => Ok(m.clone()),
        Some(_) => Err(AppError::validation(
            name,
            format!("`{name}` must be an object"),
        )),
    }
}

/// Whether a request body is multipart (file uploads are a later capability).
pub fn is_multipart(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/"))
}

/// The error of a capability this server does not offer yet.
pub fn not_enabled(what: &str) -> AppError {
    AppError::Forbidden(format!("{what} is not enabled on this server"))
}

/// Adds `Retry-After` (seconds) to a refusal by a rate limit.
pub fn with_retry_after(err: &AppError, mut res: Response) -> Response {
    if let Some(secs) = err.retry_after() {
        res.headers_mut()
            .insert(axum::http::header::RETRY_AFTER, secs.into());
    }
    res
}

/// Logs internal errors once, at the edge where they are rendered.
pub fn log_internal(err: &AppError) {
    if let AppError::Internal(source) = err {
        tracing::error!(error = ?source, "internal error in a REST handler");
    }
}

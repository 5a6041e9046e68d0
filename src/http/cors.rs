//! Cross-origin requests: any origin may call without credentials (the keys
//! and tokens these APIs take are sent explicitly); an origin the project
//! lists (`domain::cors`) is named in the answer and may send cookies.
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::state::AppState;
use crate::domain::cors;
use crate::domain::projects::Project;

/// The request headers a browser may send (the doors' credentials and body).
const ALLOWED_HEADERS: &str = "authorization, content-type, accept-language, x-api-key, \
                               x-refresh-token, x-refresh-token-mode";
const ALLOWED_METHODS: &str = "GET, POST, PUT, PATCH, DELETE, OPTIONS";
/// Seconds a browser may reuse a preflight's answer.
const PREFLIGHT_MAX_AGE: &str = "600";

/// Middleware: answers preflights and labels every answer to a cross-origin
/// request.
pub async fn cors(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let Some(origin) = req.headers().get(header::ORIGIN).cloned() else {
        return next.run(req).await;
    };
    let named = origin.to_str().unwrap_or_default().to_owned();
    let preflight = req.method() == Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    if preflight {
        let listed = cors::any_lists(&app.services.db, &named)
            .await
            .unwrap_or_else(|e| {
                tracing::warn!(error = ?e, "could not read the CORS origins");
                false
            });
        let mut res = StatusCode::NO_CONTENT.into_response();
        let h = res.headers_mut();
        label(h, &origin, listed);
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static(ALLOWED_METHODS),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static(ALLOWED_HEADERS),
        );
        h.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static(PREFLIGHT_MAX_AGE),
        );
        return res;
    }
    let key = req
        .headers()
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let credentials = project_of(&app, req.uri().path(), key.as_deref())
        .await
        .is_some_and(|p| p.allows_credentials(&named));
    let mut res = next.run(req).await;
    label(res.headers_mut(), &origin, credentials);
    res
}

/// The origin an answer allows: the caller's with credentials, else any.
fn label(h: &mut HeaderMap, origin: &HeaderValue, credentials: bool) {
    if credentials {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
        h.insert(
            header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
            HeaderValue::from_static("true"),
        );
    } else {
        h.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
    }
    h.append(header::VARY, HeaderValue::from_static("origin"));
}

/// The project a request is for: the one `/p/{project}` names, else the
/// one of its API key, else `default` (as the doors resolve it).
async fn project_of(app: &AppState, path: &str, key: Option<&str>) -> Option<Project> {
    let svc = &app.services;
    let slug = path
        .strip_prefix("/p/")
        .map(|rest| rest.split('/').next().unwrap_or_default());
    let found = match (slug, key) {
        (Some(slug), _) => svc.catalog.project_by_slug(&svc.db, slug).await,
        (None, Some(key)) => svc
            .catalog
            .authenticate_key(&svc.db, key)
            .await
            .map(|(p, _)| p),
        (None, None) => svc.catalog.project_by_slug(&svc.db, "default").await,
    };
    found.ok()
}

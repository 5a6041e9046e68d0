//! `/metrics` (Prometheus) and the middleware that counts every request.
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::extract::RequestCredentials;
use super::state::AppState;
use crate::metrics::{Metrics, Samples};

/// What the request-counting middleware needs: the metrics and the door a
/// path belongs to (the doors are above this module, so the router passes it).
#[derive(Clone)]
pub struct Counting {
    pub metrics: Metrics,
    pub door_of: fn(&str) -> &'static str,
}

/// Counts a request under its matched route template (never the raw path,
/// which holds ids and emails); requests no route matched count as `unmatched`.
pub async fn count_requests(
    State(counting): State<Counting>,
    req: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned());
    let door = (counting.door_of)(route.as_deref().unwrap_or(req.uri().path()));
    let method = req.method().clone();
    let response = next.run(req).await;
    let route = route.as_deref().unwrap_or("unmatched");
    let status = response.status().as_u16();
    counting
        .metrics
        .request(door, route, method.as_str(), status, started.elapsed());
    response
}

/// `GET /metrics`, for the main listener or a listener of its own.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(scrape))
        .with_state(state)
}

const OPENMETRICS: &str = "application/openmetrics-text";

async fn scrape(
    State(state): State<AppState>,
    RequestCredentials(creds): RequestCredentials,
    headers: HeaderMap,
) -> Response {
    let token = &state.config.metrics_token;
    // `Bearer <token>` only (compared in constant time).
    let given = creds.bearer_token();
    if !token.is_empty() && !given.is_some_and(|g| crate::auth::keys::ct_eq(g, token.expose())) {
        let body = serde_json::json!({
            "code": "UNAUTHENTICATED",
            "message": "the metrics need `Authorization: Bearer <AUTHGRAPH_METRICS_TOKEN>`",
        });
        let challenge = [(header::WWW_AUTHENTICATE, "Bearer")];
        return (StatusCode::UNAUTHORIZED, challenge, axum::Json(body)).into_response();
    }
    let services = &state.services;
    let (size, idle) = crate::db::pool_stats(&services.db);
    let samples = Samples {
        db_in_use: size.saturating_sub(idle),
        db_idle: idle,
        db_max: u64::from(state.config.db_max_connections),
        db_write_queue: services.writes.waiting(),
    };
    // The outbox's backlog is a count in the database, read when scraped; a
    // database that does not answer leaves the last figures in place.
    match crate::domain::outbox::backlog(services).await {
        Ok(b) => services.metrics.set_outbox_backlog(
            b.pending,
            std::time::Duration::from_secs(b.oldest_secs.unwrap_or(0)),
        ),
        Err(e) => tracing::warn!(error = %e, "metrics: could not read the mail outbox backlog"),
    }
    // Prometheus asks for OpenMetrics; anything else gets the classic text format.
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let openmetrics = accept.is_some_and(|a| a.contains(OPENMETRICS));
    let content_type = if openmetrics {
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    } else {
        "text/plain; version=0.0.4; charset=utf-8"
    };
    let text = services.metrics.render(samples, openmetrics);
    ([(header::CONTENT_TYPE, content_type)], text).into_response()
}

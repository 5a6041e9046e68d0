//! Refusals the framework answers before a handler does (axum's extractors,
//! the body limit, an unmatched route or method) rendered in the shape of the
//! family whose URL was called: a client reads every error the same way.
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::dialect::render_error;
use super::form::BodyLimits;
use crate::error::AppError;

/// How a family renders an error.
#[derive(Clone, Copy)]
pub enum Family {
    /// A REST dialect's status and body.
    Rest(fn(&AppError) -> (u16, Value)),
    /// GraphQL over HTTP: `{"errors": [...]}`.
    Graphql,
}

/// The state of `shape_rejections`: which family a path belongs to, and the
/// body limits (a 413 names its limit).
#[derive(Clone, Copy)]
pub struct Families {
    pub of_path: fn(&str) -> Option<Family>,
    pub limits: BodyLimits,
}

/// The most bytes of a framework refusal read to learn its reason.
const REASON_BYTES: usize = 4096;

/// Middleware: an error response that is not JSON (axum's rejections are
/// `text/plain`, an unmatched method has no body) becomes the family's
/// error. JSON errors, HTML pages and successes pass as they are.
pub async fn shape_rejections(State(f): State<Families>, req: Request, next: Next) -> Response {
    let Some(family) = (f.of_path)(req.uri().path()) else {
        return next.run(req).await;
    };
    let limit = f.limits.of(req.headers());
    let accept = req.headers().get(header::ACCEPT).cloned();
    let res = next.run(req).await;
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) || !is_plain(res.headers()) {
        return res;
    }
    let reason = axum::body::to_bytes(res.into_body(), REASON_BYTES)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
        .unwrap_or_default();
    let err = rejection_error(status, &reason, limit);
    match family {
        Family::Rest(render) => render_error(render, err),
        Family::Graphql => graphql_error(status, accept.as_ref(), &err),
    }
}

/// No content type, or plain text: what the framework answers with.
fn is_plain(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v.starts_with("text/plain"))
}

/// The error a framework refusal means. The reason texts are axum's own
/// (they name what was wrong, never a secret); a server error is not shown.
fn rejection_error(status: StatusCode, reason: &str, limit: usize) -> AppError {
    let message = |fallback: &str| {
        if reason.is_empty() {
            fallback.to_owned()
        } else {
            reason.to_owned()
        }
    };
    match status.as_u16() {
        413 => AppError::BodyTooLarge(limit),
        400 | 422 => {
            let field = if reason.starts_with("Invalid URL") || reason.contains("path argument") {
                "path"
            } else if reason.contains("query string") {
                "query"
            } else {
                "body"
            };
            AppError::validation(field, message("the request is malformed"))
        }
        404 => AppError::Rejected {
            status: 404,
            message: "no route matches this URL".into(),
        },
        405 => AppError::Rejected {
            status: 405,
            message: "this URL does not take this method".into(),
        },
        s if s >= 500 => AppError::internal(anyhow::anyhow!("status {s}: {reason}")),
        s => AppError::Rejected {
            status: s,
            message: message("the request was refused"),
        },
    }
}

/// The content type of a GraphQL answer: the GraphQL-over-HTTP type when the
/// client accepts it, else `application/json` (legacy clients, no `Accept`).
pub fn graphql_content_type(accept: Option<&HeaderValue>) -> HeaderValue {
    let wants_new = accept
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/graphql-response+json"));
    HeaderValue::from_static(if wants_new {
        "application/graphql-response+json"
    } else {
        "application/json"
    })
}

/// A GraphQL request refused before it ran: one error with its code and no
/// location (none applies), no `data` (GraphQL over HTTP: a request error).
pub fn graphql_error(status: StatusCode, accept: Option<&HeaderValue>, err: &AppError) -> Response {
    if let AppError::Internal(source) = err {
        tracing::error!(error = ?source, "internal error before a GraphQL request ran");
    }
    let body = json!({"errors": [{
        "message": err.public_message(),
        "extensions": {"code": err.code()},
    }]});
    let mut res = (status, Body::from(body.to_string())).into_response();
    res.headers_mut()
        .insert(header::CONTENT_TYPE, graphql_content_type(accept));
    if let Some(secs) = err.retry_after() {
        res.headers_mut().insert(header::RETRY_AFTER, secs.into());
    }
    res
}

//! A REST dialect is a way to render errors and to resolve the caller; the
//! extractors are written once, generic over it.
use std::marker::PhantomData;

use axum::Json;
use axum::extract::{FromRef, FromRequestParts};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::extract::credentials_from_parts;
use super::state::AppState;
use super::tenant::TenantSlug;
use crate::domain::Services;
use crate::domain::access::{Caller, Credentials, Fallback};
use crate::error::AppError;

/// What makes one product's REST API: its error bodies and how a request's
/// caller and project are found.
pub trait Dialect: Send + Sync + 'static {
    /// Where the project comes from when no key or token names one.
    const FALLBACK: Fallback = Fallback::None;

    /// The status and JSON body of an error.
    const RENDER: fn(&AppError) -> (u16, Value);

    /// A token that is invalid or outdated makes the request a guest's
    /// instead of an error (PocketBase: a client signed in again still sends
    /// its old token).
    const STALE_TOKEN_IS_GUEST: bool = false;

    /// Every request must carry the project's key or name it in the URL (urBackend).
    const KEY_REQUIRED: bool = false;
}

/// The caller of a request in dialect `D`.
async fn resolve<D: Dialect>(
    svc: &Services,
    creds: Credentials,
    tenant: Option<&str>,
) -> Result<Caller, AppError> {
    if D::KEY_REQUIRED && creds.api_key.is_none() && tenant.is_none() {
        return Err(AppError::Unauthenticated);
    }
    match Caller::resolve_in(svc, &creds, tenant, D::FALLBACK).await {
        Err(AppError::InvalidToken | AppError::AccountDisabled) if D::STALE_TOKEN_IS_GUEST => {
            let guest = Credentials {
                authorization: None,
                ..creds
            };
            Caller::resolve_in(svc, &guest, tenant, D::FALLBACK).await
        }
        other => other,
    }
}

/// An error rendered in dialect `D`'s shape (internal errors are logged here,
/// never sent; rate-limit refusals carry `Retry-After`).
pub struct Failure<D>(pub AppError, PhantomData<D>);

impl<D> Failure<D> {
    pub fn new(err: AppError) -> Self {
        Failure(err, PhantomData)
    }
}

impl<D> std::fmt::Debug for Failure<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl<D> From<AppError> for Failure<D> {
    fn from(e: AppError) -> Self {
        Failure::new(e)
    }
}

impl<D: Dialect> IntoResponse for Failure<D> {
    fn into_response(self) -> Response {
        render_error(D::RENDER, self.0)
    }
}

/// An error as a JSON response by a dialect's `render` (internal errors are
/// logged here, never sent; rate-limit refusals carry `Retry-After`).
pub fn render_error(render: fn(&AppError) -> (u16, Value), err: AppError) -> Response {
    if let AppError::Internal(source) | AppError::Unavailable(source) = &err {
        tracing::error!(error = ?source, "internal error in a REST handler");
    }
    let (status, body) = render(&err);
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut res = (status, Json(body)).into_response();
    if let Some(secs) = err.retry_after() {
        res.headers_mut()
            .insert(axum::http::header::RETRY_AFTER, secs.into());
    }
    res
}

/// A request of dialect `D`: the state and the resolved caller, read once.
pub struct Call<D> {
    pub app: AppState,
    pub caller: Caller,
    _dialect: PhantomData<D>,
}

impl<D> Call<D> {
    pub fn services(&self) -> &Services {
        &self.app.services
    }
}

impl<S, D> FromRequestParts<S> for Call<D>
where
    S: Send + Sync,
    D: Dialect,
    AppState: FromRef<S>,
{
    type Rejection = Failure<D>;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let app = AppState::from_ref(state);
        let creds = credentials_from_parts(parts);
        let tenant = parts.extensions.get::<TenantSlug>().map(|t| t.0.clone());
        let caller = resolve::<D>(&app.services, creds, tenant.as_deref()).await?;
        Ok(Call {
            app,
            caller,
            _dialect: PhantomData,
        })
    }
}

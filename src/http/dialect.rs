//! A REST dialect is a way to render errors and to resolve the caller; the
//! extractors are written once, generic over it.
use std::future::Future;
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
    fn render(err: &AppError) -> (u16, Value);

    /// The caller of a request. Dialects with rules of their own (PocketBase
    /// treats a stale token as a guest; urBackend needs a key) override this.
    fn resolve(
        svc: &Services,
        creds: Credentials,
        tenant: Option<String>,
    ) -> impl Future<Output = Result<Caller, AppError>> + Send {
        async move { Caller::resolve_in(svc, &creds, tenant.as_deref(), Self::FALLBACK).await }
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
        let err = self.0;
        if let AppError::Internal(source) = &err {
            tracing::error!(error = ?source, "internal error in a REST handler");
        }
        let (status, body) = D::render(&err);
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut res = (status, Json(body)).into_response();
        if let Some(secs) = err.retry_after() {
            res.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        res
    }
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
        let caller = D::resolve(&app.services, creds, tenant).await?;
        Ok(Call {
            app,
            caller,
            _dialect: PhantomData,
        })
    }
}

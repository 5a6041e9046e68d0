//! `/p/{project}/…`: a URL that names its project, for clients that send no key.
use axum::extract::{RawPathParams, Request};
use axum::middleware::Next;
use axum::response::Response;

/// The project slug of a `/p/{project}/…` route.
#[derive(Clone, Debug)]
pub struct TenantSlug(pub String);

/// Middleware on the `/p/{project}` nest: records the slug for the extractors.
pub async fn tenant_slug(params: RawPathParams, mut req: Request, next: Next) -> Response {
    if let Some((_, slug)) = params.iter().find(|(k, _)| *k == "project") {
        let slug = slug.to_owned();
        req.extensions_mut().insert(TenantSlug(slug));
    }
    next.run(req).await
}

//! `/.well-known/jwks.json` and `/.well-known/openid-configuration`: what
//! another service needs to verify authgraph's access tokens on its own.
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::IntoResponse;
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;

use super::route_list::api_routes;
use crate::auth::tokens::ISSUER;
use crate::error::AppError;
use crate::http::state::AppState;

/// The tag of these routes in `/openapi.json`.
pub const TAG: &str = "Token verification";

/// Both routes, each documented by its `#[utoipa::path]`.
pub fn routes() -> OpenApiRouter<AppState> {
    api_routes![jwks; openid_configuration]
}

/// How a refusal on these routes reads: the house's plain shape, the
/// stable code and a message (no dialect owns these URLs).
pub fn render(e: &AppError) -> (u16, Value) {
    (
        e.status(),
        json!({"code": e.code(), "message": e.public_message()}),
    )
}

/// Caches may keep the key set briefly: a new key signs only after a
/// rotation, and the old one stays listed until its tokens expire.
const CACHE: HeaderValue = HeaderValue::from_static("public, max-age=300");

/// `GET /.well-known/jwks.json`: the public keys that verify access tokens.
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = TAG,
    summary = "Public keys of the access tokens (JWK Set, Ed25519)",
    responses((status = 200, description = "`{keys: [{kty: OKP, crv: Ed25519, alg: EdDSA, kid, x}]}`", body = Object)))]
pub async fn jwks(State(app): State<AppState>) -> impl IntoResponse {
    (
        [(header::CACHE_CONTROL, CACHE)],
        Json(app.services.tokens.jwks()),
    )
}

/// The server's own base URL: the configured public URL, else the request's host.
fn base_url(app: &AppState, headers: &HeaderMap) -> String {
    let configured = app.config.public_url.trim_end_matches('/');
    if !configured.is_empty() {
        return configured.to_owned();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    format!("http://{host}")
}

/// `GET /.well-known/openid-configuration`: the issuer and where its keys are.
#[utoipa::path(get, path = "/.well-known/openid-configuration", tag = TAG,
    summary = "Discovery document: issuer, jwks_uri, signing algorithms",
    responses((status = 200, description = "`{issuer, jwks_uri, id_token_signing_alg_values_supported}`", body = Object)))]
pub async fn openid_configuration(State(app): State<AppState>, headers: HeaderMap) -> Json<Value> {
    let base = base_url(&app, &headers);
    Json(json!({
        // The `iss` claim of every token, so a verifier can pin it.
        "issuer": ISSUER,
        "jwks_uri": format!("{base}/.well-known/jwks.json"),
        "id_token_signing_alg_values_supported": ["EdDSA"],
        "token_endpoint_auth_signing_alg_values_supported": ["EdDSA"],
        "subject_types_supported": ["public"],
        "response_types_supported": ["token"],
        "claims_supported": ["iss", "sub", "iat", "exp", "pid", "sid", "kind"],
    }))
}

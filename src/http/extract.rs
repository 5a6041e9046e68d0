//! Reads credentials and client details from an HTTP request, for every front door.
use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header;
use axum::http::request::Parts;

use crate::domain::access::Credentials;
use crate::domain::sessions::ClientInfo;

/// `x-api-key`, `Authorization` (with or without `Bearer `), client address
/// and user agent. The client address is the socket's peer, or what a trusted
/// proxy forwarded (`ClientIp`, set by `client_ip`).
pub struct RequestCredentials(pub Credentials);

impl<S: Send + Sync> FromRequestParts<S> for RequestCredentials {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(RequestCredentials(credentials_from_parts(parts)))
    }
}

/// The credentials of a request's head.
pub fn credentials_from_parts(parts: &Parts) -> Credentials {
    let get = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let ip = match parts.extensions.get::<ClientIp>() {
        Some(ClientIp(ip)) => Some(ip.to_string()),
        None => parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip().to_string()),
    };
    Credentials {
        api_key: get("x-api-key"),
        authorization: get(header::AUTHORIZATION.as_str()),
        client: ClientInfo {
            ip,
            user_agent: get(header::USER_AGENT.as_str()),
            origin: get(header::ORIGIN.as_str()),
        },
    }
}

/// The client's address as far as the server can trust it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

/// Middleware: records the request's `ClientIp`.
pub async fn client_ip(
    axum::extract::State(proxies): axum::extract::State<
        std::sync::Arc<super::proxies::TrustedProxies>,
    >,
    mut req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    if let Some(peer) = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
    {
        let ip = proxies.client(peer, req.headers());
        req.extensions_mut().insert(ClientIp(ip));
    }
    // The audit trail of whatever this request does knows where it came from.
    let (parts, body) = req.into_parts();
    let client = credentials_from_parts(&parts).client;
    let req = axum::extract::Request::from_parts(parts, body);
    crate::domain::audit::scope(client, next.run(req)).await
}

//! Reads credentials and client details from an HTTP request, for every front door.
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header;
use axum::http::request::Parts;

use crate::domain::access::Credentials;
use crate::domain::sessions::ClientInfo;

/// `x-api-key`, `Authorization` (with or without `Bearer `), peer address and
/// user agent. The peer address is the socket's; forwarded headers are not
/// trusted.
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
    let ip = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string());
    Credentials {
        api_key: get("x-api-key"),
        authorization: get(header::AUTHORIZATION.as_str()),
        client: ClientInfo {
            ip,
            user_agent: get(header::USER_AGENT.as_str()),
        },
    }
}

//! Security headers on every answer: no content sniffing, no referrer, pages
//! not framed by other sites, and HSTS when the server is reached over https
//! (its public URL, or a trusted proxy's `X-Forwarded-Proto`).
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

use super::proxies::TrustedProxies;

/// What `security_headers` needs.
#[derive(Clone)]
pub struct Hardening {
    /// The public URL is https: every answer carries HSTS.
    pub https_public: bool,
    pub proxies: Arc<TrustedProxies>,
}

/// A year, the value HSTS preload lists ask for.
const HSTS: &str = "max-age=31536000";

/// Middleware: adds the headers an answer does not set itself.
pub async fn security_headers(State(h): State<Hardening>, req: Request, next: Next) -> Response {
    let https = h.https_public || forwarded_https(&h.proxies, &req);
    let mut res = next.run(req).await;
    let headers = res.headers_mut();
    let html = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let set = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff", true),
        (header::REFERRER_POLICY, "no-referrer", true),
        (header::X_FRAME_OPTIONS, "DENY", html),
        (
            header::CONTENT_SECURITY_POLICY,
            "frame-ancestors 'none'",
            html,
        ),
        (header::STRICT_TRANSPORT_SECURITY, HSTS, https),
    ];
    for (name, value, wanted) in set {
        if wanted {
            headers
                .entry(name)
                .or_insert(HeaderValue::from_static(value));
        }
    }
    res
}

/// A trusted proxy says the client connected over https.
fn forwarded_https(proxies: &TrustedProxies, req: &Request) -> bool {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let proto = req
        .headers()
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(str::trim);
    peer.is_some_and(|p| proxies.contains(p))
        && proto.is_some_and(|p| p.eq_ignore_ascii_case("https"))
}

//! The browser pages (GraphiQL on `GET /graphql`, the REST reference on
//! `/docs`) and the assets they load, shipped in the binary (`assets/`, see
//! `assets/fetch.sh`). Nothing is loaded from another host: the pages work
//! offline and behind strict proxies, and no third-party script runs on this
//! origin. Both pages and the assets are served only when GraphiQL is on.
use std::sync::OnceLock;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use super::state::AppState;

/// One file under `/assets/`.
struct Asset {
    /// Its path under `assets/`: `vendor/graphiql.min.js`.
    path: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

impl Asset {
    /// Its name without the content hash: `graphiql.min.js`.
    fn name(&self) -> &'static str {
        self.path.rsplit('/').next().unwrap_or(self.path)
    }
}

/// `asset!("vendor/graphiql.min.js", JS)`: the file under `assets/`.
macro_rules! asset {
    ($path:literal, $content_type:expr) => {
        Asset {
            path: $path,
            content_type: $content_type,
            body: include_bytes!(concat!("../../assets/", $path)),
        }
    };
}

const ASSETS: &[Asset] = &[
    asset!("vendor/react.production.min.js", JS),
    asset!("vendor/react-dom.production.min.js", JS),
    asset!("vendor/graphiql.min.js", JS),
    asset!("vendor/graphiql.min.css", CSS),
    asset!("graphiql-init.js", JS),
    asset!("vendor/scalar-api-reference.standalone.js", JS),
    asset!("docs-init.js", JS),
    asset!("account/account.js", JS),
    asset!("account/account.css", CSS),
];

/// Each asset's URL path segment, `graphiql.min-<12 hex of sha256>.js`: a
/// changed file gets a new URL, so the year-long immutable caching is safe.
fn hashed_names() -> &'static [String] {
    static NAMES: OnceLock<Vec<String>> = OnceLock::new();
    NAMES.get_or_init(|| {
        ASSETS
            .iter()
            .map(|a| {
                let hash = hex::encode(&Sha256::digest(a.body)[..6]);
                let (stem, ext) = a.name().rsplit_once('.').unwrap_or((a.name(), ""));
                format!("{stem}-{hash}.{ext}")
            })
            .collect()
    })
}

/// `/assets/<hashed name>` of the asset called `name`.
pub(super) fn url(name: &str) -> String {
    let i = ASSETS
        .iter()
        .position(|a| a.name() == name)
        .unwrap_or_else(|| panic!("no asset {name}"));
    format!("/assets/{}", hashed_names()[i])
}

/// `GET /assets/{name}`.
pub async fn asset(State(state): State<AppState>, Path(name): Path<String>) -> Response {
    let found = hashed_names().iter().position(|n| *n == name);
    let (Some(i), true) = (found, state.config.graphiql) else {
        return (StatusCode::NOT_FOUND, "no such asset").into_response();
    };
    let asset = &ASSETS[i];
    (
        [
            (header::CONTENT_TYPE, asset.content_type),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        asset.body,
    )
        .into_response()
}

/// The GraphiQL page, or 404 when GraphiQL is off.
pub fn graphiql_page(enabled: bool, headers: &HeaderMap) -> Response {
    static PAGE: OnceLock<String> = OnceLock::new();
    let page = PAGE.get_or_init(|| {
        format!(
            r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>authgraph GraphiQL</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="{css}">
<style>body{{margin:0}}#graphiql{{height:100vh}}</style>
</head><body>
<div id="graphiql">Loading…</div>
<script src="{react}"></script>
<script src="{react_dom}"></script>
<script src="{graphiql}"></script>
<script src="{init}"></script>
</body></html>"#,
            css = url("graphiql.min.css"),
            react = url("react.production.min.js"),
            react_dom = url("react-dom.production.min.js"),
            graphiql = url("graphiql.min.js"),
            init = url("graphiql-init.js"),
        )
    });
    page_response(enabled, "GraphiQL (AUTHGRAPH_GRAPHIQL)", page, headers)
}

/// `GET /docs`: the OpenAPI document rendered by Scalar.
pub async fn docs_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    static PAGE: OnceLock<String> = OnceLock::new();
    let page = PAGE.get_or_init(|| {
        format!(
            r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>authgraph REST API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
</head><body>
<div id="docs"></div>
<noscript>The OpenAPI document is at <a href="/openapi.json">/openapi.json</a>.</noscript>
<script src="{scalar}"></script>
<script src="{init}"></script>
</body></html>"#,
            scalar = url("scalar-api-reference.standalone.js"),
            init = url("docs-init.js"),
        )
    });
    let what = "the REST reference (AUTHGRAPH_GRAPHIQL)";
    page_response(state.config.graphiql, what, page, &headers)
}

/// A page with the headers that keep it to this origin; `what` names the
/// page and its setting for the answer when it is off.
pub(super) fn page_response(
    enabled: bool,
    what: &str,
    page: &'static str,
    headers: &HeaderMap,
) -> Response {
    if !enabled {
        let body = format!("{what} is disabled");
        return (StatusCode::NOT_FOUND, body).into_response();
    }
    let csp = HeaderValue::try_from(content_security_policy(headers))
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'"));
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (header::CONTENT_SECURITY_POLICY, csp),
            (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
            (
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        page,
    )
        .into_response()
}

/// Only this origin. Styles allow `'unsafe-inline'` because React and
/// CodeMirror set `style` attributes and Scalar injects its stylesheet;
/// fonts and icons come as `data:` URLs inside the CSS. The WebSocket for
/// subscriptions is named by host because older browsers do not let
/// `'self'` cover `ws:`/`wss:`.
fn content_security_policy(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        });
    let sockets = host
        .map(|h| format!(" ws://{h} wss://{h}"))
        .unwrap_or_default();
    format!(
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data:; font-src 'self' data:; connect-src 'self'{sockets}; \
         base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )
}

//! The OpenAPI 3.1 document of the REST layer (`/openapi.json`; the page
//! `/docs` that renders it is in `crate::http::assets`). Each dialect's
//! `routes()` registers its handlers through `utoipa_axum::routes!`, which
//! takes the method and path from the handler's `#[utoipa::path]` attribute:
//! serving a route and documenting it are one entry, so none is served
//! undocumented. This file adds what no handler says:
//! the info block, the security schemes, the tags (one a dialect) and the
//! operation ids.
use std::sync::OnceLock;

use axum::Json;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::tag::TagBuilder;
use utoipa::openapi::{ComponentsBuilder, InfoBuilder, OpenApi, OpenApiBuilder};

use super::apidoc::{ErrorShape, json_response};
use super::{cocobase, pocketbase, urbackend, wellknown};

/// The document, built once from the dialects' routers.
pub fn document() -> &'static OpenApi {
    static DOCUMENT: OnceLock<OpenApi> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        let mut doc = frame();
        doc.merge(dialect::<cocobase::doc::Shape>(
            cocobase::routes().into_openapi(),
            cocobase::doc::TAG,
        ));
        doc.merge(dialect::<pocketbase::doc::Shape>(
            pocketbase::routes().into_openapi(),
            pocketbase::doc::TAG,
        ));
        doc.merge(dialect::<urbackend::doc::Shape>(
            urbackend::routes().into_openapi(),
            urbackend::doc::TAG,
        ));
        doc.merge(tagged(wellknown::routes().into_openapi(), wellknown::TAG));
        name_operations(&mut doc);
        doc
    })
}

/// Everything but the paths: info, security schemes and tags.
fn frame() -> OpenApi {
    let components = ComponentsBuilder::new()
        .security_scheme(
            "apiKey",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("x-api-key"))),
        )
        .security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        )
        .build();
    let tags = [
        cocobase::doc::TAG,
        pocketbase::doc::TAG,
        urbackend::doc::TAG,
        wellknown::TAG,
    ];
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("authgraph REST compatibility")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "The documented URLs of Cocobase, PocketBase and urBackend, served by authgraph. \
                     Every path is also served under `/p/{project}/` for a named project.",
                ))
                .build(),
        )
        .components(Some(components))
        .tags(Some(tags.map(|t| TagBuilder::new().name(t).build())))
        .build()
}

/// The operations of a path, by method.
fn operations(item: &mut PathItem) -> [(&'static str, &mut Option<Operation>); 8] {
    [
        ("get", &mut item.get),
        ("put", &mut item.put),
        ("post", &mut item.post),
        ("delete", &mut item.delete),
        ("options", &mut item.options),
        ("head", &mut item.head),
        ("patch", &mut item.patch),
        ("trace", &mut item.trace),
    ]
}

/// A dialect's document with each operation under the dialect's tag (the
/// tag is the dialect's, so no handler names it).
fn tagged(mut doc: OpenApi, tag: &str) -> OpenApi {
    for item in doc.paths.paths.values_mut() {
        for (_, op) in operations(item) {
            if let Some(op) = op {
                op.tags = Some(vec![tag.to_owned()]);
            }
        }
    }
    doc
}

/// A dialect's document, tagged, with the refusals that come before its
/// handlers on every operation they apply to (the schemathesis run of
/// `clients/fuzz/` holds each response to the document): a missing or bad
/// credential (401) where the operation declares security, a body that does
/// not parse where it takes one, an unknown collection (404) where its
/// path names one, and 503 with `Retry-After` everywhere (the database is
/// unreachable, or the password hasher's queue is full: `OVERLOADED`).
fn dialect<S: ErrorShape>(doc: OpenApi, tag: &str) -> OpenApi {
    let mut doc = tagged(doc, tag);
    for (path, item) in doc.paths.paths.iter_mut() {
        for (_, op) in operations(item) {
            let Some(op) = op else { continue };
            let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
            let refusals = [
                (secured, 401),
                (op.request_body.is_some(), S::BAD_BODY),
                (path.contains("{collection}"), 404),
                (true, 503),
            ];
            for (applies, status) in refusals {
                if applies {
                    op.responses
                        .responses
                        .entry(status.to_string())
                        .or_insert_with(|| json_response(S::DESCRIPTION).into());
                }
            }
        }
    }
    doc
}

/// Operation ids `{tag}_{method}{path}` with `/`, `{`, `}` and `-` as `_`
/// (`PocketBase_get_api_collections__collection__records__id_`): unique, as
/// a method and path are, where handler names repeat across dialects.
fn name_operations(doc: &mut OpenApi) {
    for (path, item) in doc.paths.paths.iter_mut() {
        for (method, operation) in operations(item) {
            if let Some(op) = operation {
                let tag = op
                    .tags
                    .as_ref()
                    .and_then(|t| t.first())
                    .map_or("", String::as_str);
                let id = format!("{tag}_{method}{path}").replace(['/', '{', '}', '-'], "_");
                op.operation_id = Some(id);
            }
        }
    }
}

/// `GET /openapi.json`.
pub async fn openapi_json() -> Json<&'static OpenApi> {
    Json(document())
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use axum::Router;
    use serde_json::{Value, json};
    use utoipa_axum::router::OpenApiRouter;

    use super::{cocobase, document, pocketbase, urbackend, wellknown};

    type Routes = BTreeSet<(String, String)>;

    const METHODS: [&str; 9] = [
        "get", "put", "post", "delete", "options", "head", "patch", "trace", "connect",
    ];

    /// The (method, path) pairs a document lists.
    fn documented(doc: &Value) -> Routes {
        let mut out = Routes::new();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for method in item.as_object().expect("path item").keys() {
                out.insert((method.clone(), path.clone()));
            }
        }
        out
    }

    /// The (method, path) pairs an axum router serves, read from its `Debug`
    /// output, axum's only listing of them: `routes: {RouteId(0):
    /// MethodRouter(MethodRouter { get: BoxedHandler, head: None, … })}` gives
    /// each route's methods, `node: Node { paths: {RouteId(0): "/x"} }` its path.
    /// A route of another kind (a service) counts as method `*`.
    fn served<S>(router: &Router<S>) -> Routes {
        let debug = format!("{router:?}");
        let main = debug.split(", fallback_router:").next().unwrap_or_default();
        let (routes, paths) = main
            .split_once("node: Node { paths: {")
            .expect("axum's Debug layout: `node: Node { paths: {`");
        let paths: BTreeMap<&str, &str> = paths
            .split("RouteId(")
            .skip(1)
            .map(|entry| {
                let (id, rest) = entry.split_once(')').expect("RouteId(N)");
                (id, rest.split('"').nth(1).expect("a quoted path"))
            })
            .collect();
        let mut out = Routes::new();
        for entry in routes.split("RouteId(").skip(1) {
            let (id, rest) = entry.split_once(')').expect("RouteId(N)");
            let path = paths[id].to_owned();
            if !rest.starts_with(": MethodRouter(") {
                out.insert(("*".into(), path));
                continue;
            }
            for method in METHODS {
                let (_, endpoint) = rest
                    .split_once(&format!(" {method}: "))
                    .unwrap_or_else(|| panic!("no `{method}:` in {rest}"));
                if !endpoint.starts_with("None") {
                    out.insert((method.to_owned(), path.clone()));
                }
            }
        }
        out
    }

    /// What a dialect's router serves, and that its document lists the same.
    fn served_and_documented<S: Clone + Send + Sync + 'static>(routes: OpenApiRouter<S>) -> Routes {
        let (router, doc) = routes.split_for_parts();
        let served = served(&router);
        assert!(!served.is_empty(), "no route read from the router");
        let listed = documented(&serde_json::to_value(&doc).unwrap());
        assert_eq!(
            served, listed,
            "served (left) and documented (right) differ"
        );
        served
    }

    #[test]
    fn every_served_route_is_documented_and_every_documented_one_served() {
        let mut all = served_and_documented(cocobase::routes());
        all.extend(served_and_documented(pocketbase::routes()));
        all.extend(served_and_documented(urbackend::routes()));
        all.extend(served_and_documented(wellknown::routes()));
        let doc = serde_json::to_value(document()).unwrap();
        assert_eq!(documented(&doc), all);
        for known in [
            ("post", "/auth-collections/signup"),
            ("patch", "/auth-collections/user"),
            ("delete", "/api/collections/{collection}/records/{id}"),
            ("get", "/api/realtime"),
            ("get", "/api/userAuth/social/{provider}/start"),
        ] {
            let known = (known.0.to_owned(), known.1.to_owned());
            assert!(all.contains(&known), "{known:?} not served");
        }
    }

    /// The routes the document listed before it was built from the routers.
    const EARLIER: &[(&str, &str)] = &[
        ("post", "/auth-collections/signup"),
        ("post", "/auth-collections/login"),
        ("get", "/auth-collections/user"),
        ("put", "/auth-collections/user"),
        ("patch", "/auth-collections/user"),
        ("post", "/auth-collections/change-password"),
        ("get", "/auth-collections/users"),
        ("get", "/auth-collections/users/{id}"),
        ("post", "/auth/register"),
        ("post", "/auth-collections/verify-email/{action}"),
        ("post", "/auth-collections/forgot-password"),
        ("get", "/api/health"),
        ("get", "/api/collections/{collection}/auth-methods"),
        ("post", "/api/collections/{collection}/auth-with-password"),
        ("post", "/api/collections/{collection}/auth-refresh"),
        ("get", "/api/collections/{collection}/records"),
        ("post", "/api/collections/{collection}/records"),
        ("get", "/api/collections/{collection}/records/{id}"),
        ("patch", "/api/collections/{collection}/records/{id}"),
        ("delete", "/api/collections/{collection}/records/{id}"),
        ("get", "/api/realtime"),
        ("post", "/api/realtime"),
        (
            "post",
            "/api/collections/{collection}/request-password-reset",
        ),
        ("post", "/api/collections/{collection}/request-verification"),
        ("post", "/api/collections/{collection}/confirm-verification"),
        ("post", "/api/collections/{collection}/request-email-change"),
        ("post", "/api/collections/{collection}/confirm-email-change"),
        (
            "post",
            "/api/collections/{collection}/confirm-password-reset",
        ),
        ("post", "/api/collections/{collection}/request-otp"),
        ("post", "/api/collections/{collection}/auth-with-otp"),
        ("post", "/api/userAuth/signup"),
        ("post", "/api/userAuth/login"),
        ("get", "/api/userAuth/me"),
        ("put", "/api/userAuth/update-profile"),
        ("put", "/api/userAuth/change-password"),
        ("get", "/api/userAuth/public/{username}"),
        ("post", "/api/userAuth/refresh-token"),
        ("post", "/api/userAuth/logout"),
        ("post", "/api/userAuth/request-password-reset"),
        ("post", "/api/userAuth/resend-verification-otp"),
        ("post", "/api/userAuth/verify-email"),
        ("post", "/api/userAuth/reset-password"),
    ];

    #[test]
    fn the_earlier_routes_are_still_documented() {
        let doc = documented(&serde_json::to_value(document()).unwrap());
        for (method, path) in EARLIER {
            let route = (method.to_string(), path.to_string());
            assert!(doc.contains(&route), "{route:?} missing");
        }
    }

    #[test]
    fn every_operation_has_a_summary_a_tag_an_id_responses_and_its_path_parameters() {
        let doc = serde_json::to_value(document()).unwrap();
        let mut ids = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let at = format!("{method} {path}");
                let summary = op["summary"].as_str().unwrap_or_default();
                assert!(!summary.is_empty(), "{at}: no summary");
                let tags = op["tags"].as_array().map(Vec::as_slice).unwrap_or_default();
                assert!(
                    matches!(tags, [t] if ["Cocobase", "PocketBase", "urBackend", wellknown::TAG].contains(&t.as_str().unwrap())),
                    "{at}: tags {tags:?}"
                );
                let id = op["operationId"].as_str().expect("operationId");
                assert!(ids.insert(id.to_owned()), "{at}: operationId {id} repeated");
                assert!(
                    !op["responses"].as_object().unwrap().is_empty(),
                    "{at}: no responses"
                );
                for scheme in op["security"].as_array().into_iter().flatten() {
                    let name = scheme.as_object().unwrap().keys().next().unwrap();
                    assert!(
                        ["apiKey", "bearer"].contains(&name.as_str()),
                        "{at}: {name}"
                    );
                }
                let declared: Vec<&str> = path
                    .split('{')
                    .skip(1)
                    .map(|s| s.split('}').next().unwrap())
                    .collect();
                let params: Vec<&str> = op["parameters"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|p| {
                        assert_eq!(p["in"], "path", "{at}");
                        assert_eq!(p["required"], true, "{at}");
                        assert_eq!(p["schema"], json!({"type": "string"}), "{at}");
                        p["name"].as_str().unwrap()
                    })
                    .collect();
                assert_eq!(params, declared, "{at}: path parameters");
            }
        }
        assert_eq!(
            doc["paths"]["/api/collections/{collection}/records/{id}"]["get"]["operationId"],
            "PocketBase_get_api_collections__collection__records__id_"
        );
    }

    #[test]
    fn info_security_schemes_and_tags() {
        let doc = serde_json::to_value(document()).unwrap();
        assert_eq!(doc["openapi"], "3.1.0");
        assert_eq!(doc["info"]["title"], "authgraph REST compatibility");
        assert!(
            doc["info"]["description"]
                .as_str()
                .unwrap()
                .contains("/p/{project}/")
        );
        assert_eq!(
            doc["components"]["securitySchemes"],
            json!({
                "apiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"},
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
            })
        );
        assert_eq!(
            doc["tags"],
            json!([{"name": "Cocobase"}, {"name": "PocketBase"}, {"name": "urBackend"}, {"name": wellknown::TAG}])
        );
    }
}

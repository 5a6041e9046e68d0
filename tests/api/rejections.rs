//! Every refusal, including those the framework answers before a handler
//! (extractors, the body limit, unknown routes and methods), is JSON in the
//! shape of the family whose URL was called.
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::TestApp;

/// Which error shape a path's family documents.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Family {
    Cocobase,
    /// Cocobase's `/auth/register`: `{success: false, error: {code, message}}`.
    CocobaseRegister,
    PocketBase,
    UrBackend,
    Graphql,
    /// Routes no dialect owns (`/.well-known/…`): `{code, message}`.
    Plain,
}

fn family(path: &str) -> Family {
    if path.starts_with("/graphql") {
        Family::Graphql
    } else if path.starts_with("/api/userAuth") {
        Family::UrBackend
    } else if path.starts_with("/api") {
        Family::PocketBase
    } else if path.starts_with("/auth/") {
        Family::CocobaseRegister
    } else if path.starts_with("/.well-known/") {
        Family::Plain
    } else {
        Family::Cocobase
    }
}

/// The classes of bad body: (name, content type, bytes).
fn bad_bodies(limit: usize) -> Vec<(&'static str, &'static str, Vec<u8>)> {
    let deep = format!("{{\"a\":{}{}}}", "[".repeat(10_000), "]".repeat(10_000));
    let json = "application/json";
    vec![
        ("malformed JSON", json, b"{\"email\": ".to_vec()),
        (
            "trailing bytes",
            json,
            b"{\"email\":\"a@example.com\"} trailing".to_vec(),
        ),
        ("not an object", json, b"[1, 2, 3]".to_vec()),
        (
            "wrong JSON types",
            json,
            br#"{"email": 5, "password": [], "query": 7, "token": {}, "code": false}"#.to_vec(),
        ),
        (
            "oversize",
            json,
            format!("{{\"email\":\"{}\"}}", "z".repeat(limit + 1)).into_bytes(),
        ),
        ("10,000-deep nesting", json, deep.into_bytes()),
        (
            "wrong content type",
            "application/xml",
            b"<a>b</a>".to_vec(),
        ),
        (
            "invalid UTF-8",
            json,
            b"{\"email\":\"\xff\xfe@example.com\"}".to_vec(),
        ),
        (
            "lone surrogate",
            json,
            br#"{"email":"\ud800@example.com","password":"\udfff"}"#.to_vec(),
        ),
    ]
}

/// Asserts that a refusal is JSON, labelled so, in `family`'s shape.
fn assert_shape(
    family: Family,
    what: &str,
    status: u16,
    content_type: &str,
    bytes: &[u8],
) -> Value {
    let text = String::from_utf8_lossy(bytes);
    let json_type = if family == Family::Graphql {
        content_type.starts_with("application/json")
            || content_type.starts_with("application/graphql-response+json")
    } else {
        content_type.starts_with("application/json")
    };
    assert!(json_type, "{what}: {status} as {content_type:?}: {text}");
    let body: Value =
        serde_json::from_slice(bytes).unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {text}"));
    let ok = match family {
        Family::Cocobase => {
            body.as_object().is_some_and(|o| o.len() == 1)
                && (body["detail"].is_string() || body["detail"].is_array())
        }
        Family::CocobaseRegister => {
            body["success"] == json!(false)
                && body["error"]["code"].is_string()
                && body["error"]["message"].is_string()
        }
        Family::PocketBase => {
            body["status"] == json!(status)
                && body["message"].is_string()
                && body["data"].is_object()
        }
        Family::UrBackend => {
            body["success"] == json!(false)
                && body["error"].is_string()
                && body["code"] == json!(status)
        }
        Family::Plain => body["code"].is_string() && body["message"].is_string(),
        Family::Graphql => body["errors"].as_array().is_some_and(|errors| {
            !errors.is_empty()
                && errors.iter().all(|e| {
                    e["message"].is_string()
                        && e["extensions"]["code"].is_string()
                        && e.get("locations").is_none()
                })
        }),
    };
    assert!(ok, "{what}: {status} not in {family:?}'s shape: {body}");
    for leak in ["InvalidRequest", "Error(\"", "length limit exceeded"] {
        assert!(!text.contains(leak), "{what}: leaks {leak:?}: {text}");
    }
    body
}

/// Sends a request; its status, content type and body.
async fn answer(req: reqwest::RequestBuilder) -> (u16, String, Vec<u8>) {
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let ct = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    (status, ct, res.bytes().await.unwrap().to_vec())
}

/// Every documented route and method, path parameters filled in.
async fn routes(app: &TestApp) -> Vec<(Method, String)> {
    let (_, _, doc) = answer(app.http.get(format!("{}/openapi.json", app.base))).await;
    let doc: Value = serde_json::from_slice(&doc).unwrap();
    let mut out = vec![(Method::POST, "/graphql".to_owned())];
    for (path, ops) in doc["paths"].as_object().unwrap() {
        let filled = path
            .replace("{collection}", "users")
            .replace("{provider}", "google")
            .replace("{action}", "confirm")
            .replace("{username}", "someone")
            .replace("{filename}", "a.png")
            .replace("{record}", "x")
            .replace("{id}", "x");
        for method in ops.as_object().unwrap().keys() {
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            out.push((method, filled.clone()));
        }
    }
    assert!(out.len() > 50, "only {} routes documented", out.len());
    out
}

/// Streams answered by `GET` that never end on their own (not walked).
fn is_stream(method: &Method, path: &str) -> bool {
    method == Method::GET && path.ends_with("/api/realtime")
}

#[tokio::test]
async fn every_route_refuses_each_kind_of_bad_body_in_its_familys_shape() {
    let app = TestApp::spawn().await;
    let token = app
        .sign_up("walker@example.com", "correct horse 7", json!({}))
        .await["data"]["signUp"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let limit = 256 * 1024;
    let (mut refused, mut walked) = (0, 0);
    for (method, path) in routes(&app).await {
        if is_stream(&method, &path) {
            continue;
        }
        for prefix in ["", "/p/default"] {
            if prefix != "" && path == "/graphql" {
                continue;
            }
            let url = format!("{}{prefix}{path}", app.base);
            for (class, content_type, body) in bad_bodies(limit) {
                let what = format!("{method} {prefix}{path} with {class}");
                let (status, ct, bytes) = answer(
                    app.http
                        .request(method.clone(), &url)
                        .header("content-type", content_type)
                        .header("x-api-key", &app.pk)
                        .header("authorization", format!("Bearer {token}"))
                        .body(body),
                )
                .await;
                walked += 1;
                assert!(status < 500, "{what}: {status}");
                if class == "oversize" {
                    assert_eq!(status, 413, "{what}");
                }
                // The OAuth redirect page answers its refusals as HTML, as documented.
                if status >= 400 && !path.ends_with("/oauth2-redirect") {
                    refused += 1;
                    assert_shape(family(&path), &what, status, &ct, &bytes);
                }
            }
        }
    }
    // Most routes read a body; those that do not still answered in shape above.
    assert!(refused * 10 > walked * 7, "{refused} of {walked} refused");
}

/// Path segments that are not UTF-8 and queries of the wrong types.
const BAD_PATHS: [&str; 7] = [
    "/auth-collections/users/%FF%FE",
    "/auth-collections/users?limit=-1&offset=abc&sort=%FF",
    "/api/collections/%FF/records?page=abc&perPage=-5&filter=((((&sort=%FF",
    "/api/collections/users/records/%FF",
    "/api/files/%FF/%FE/%FD",
    "/api/userAuth/public/%FF%FE",
    "/api/userAuth/social/%FF/start?redirect=%FF",
];

#[tokio::test]
async fn bad_paths_and_queries_are_refused_in_the_familys_shape() {
    let app = TestApp::spawn().await;
    for path in BAD_PATHS {
        let (status, ct, bytes) = answer(
            app.http
                .get(format!("{}{path}", app.base))
                .header("x-api-key", &app.pk),
        )
        .await;
        assert!((400..500).contains(&status), "GET {path}: {status}");
        assert_shape(family(path), &format!("GET {path}"), status, &ct, &bytes);
    }
}

#[tokio::test]
async fn unknown_routes_and_methods_are_refused_in_the_familys_shape() {
    let app = TestApp::spawn().await;
    let cases = [
        (Method::GET, "/auth-collections/no-such-thing", 404),
        (Method::GET, "/api/no-such-thing", 404),
        (Method::GET, "/api/userAuth/no-such-thing", 404),
        (Method::GET, "/p/default/api/userAuth/no-such-thing", 404),
        (Method::DELETE, "/auth-collections/login", 405),
        (
            Method::PUT,
            "/api/collections/users/auth-with-password",
            405,
        ),
        (Method::DELETE, "/api/userAuth/login", 405),
        (Method::DELETE, "/graphql", 405),
    ];
    for (method, path, expected) in cases {
        let (status, ct, bytes) = answer(
            app.http
                .request(method.clone(), format!("{}{path}", app.base))
                .header("x-api-key", &app.pk),
        )
        .await;
        assert_eq!(status, expected, "{method} {path}");
        let family = family(path.trim_start_matches("/p/default"));
        assert_shape(family, &format!("{method} {path}"), status, &ct, &bytes);
    }
}

#[tokio::test]
async fn a_streamed_body_over_the_limit_is_a_413_in_the_familys_shape() {
    let app = TestApp::spawn().await;
    for path in [
        "/auth-collections/login",
        "/api/collections/users/auth-with-password",
        "/api/userAuth/login",
        "/graphql",
    ] {
        // No Content-Length: the body is cut at the limit while it is read.
        let chunks = (0..64).map(|_| Ok::<_, std::io::Error>(vec![b' '; 8 * 1024]));
        let stream = futures_util::stream::iter(
            std::iter::once(Ok(b"{\"email\":\"".to_vec())).chain(chunks),
        );
        let (status, ct, bytes) = answer(
            app.http
                .post(format!("{}{path}", app.base))
                .header("content-type", "application/json")
                .header("x-api-key", &app.pk)
                .body(reqwest::Body::wrap_stream(stream)),
        )
        .await;
        assert_eq!(status, 413, "{path}: {}", String::from_utf8_lossy(&bytes));
        let body = assert_shape(family(path), path, status, &ct, &bytes);
        assert!(body.to_string().contains("262144"), "{path}: {body}");
    }
}

#[tokio::test]
async fn graphql_answers_with_the_content_type_the_client_accepts() {
    let app = TestApp::spawn().await;
    let post = |accept: Option<&'static str>, body: &'static str| {
        let mut req = app
            .http
            .post(format!("{}/graphql", app.base))
            .header("content-type", "application/json")
            .header("x-api-key", &app.pk)
            .body(body);
        if let Some(accept) = accept {
            req = req.header("accept", accept);
        }
        answer(req)
    };
    let new = Some("application/graphql-response+json, application/json;q=0.9");
    let cases = [
        // (accept, body, status, content type)
        (None, "{\"query\": ", 400, "application/json"),
        (
            new,
            "{\"query\": ",
            400,
            "application/graphql-response+json",
        ),
        (None, "{\"query\": 5}", 400, "application/json"),
        (None, "{ nope }", 400, "application/json"),
        (None, "{\"query\": \"{ nope }\"}", 200, "application/json"),
        (
            new,
            "{\"query\": \"{ nope }\"}",
            400,
            "application/graphql-response+json",
        ),
        (
            new,
            "{\"query\": \"{ __typename }\"}",
            200,
            "application/graphql-response+json",
        ),
        (
            Some("application/json"),
            "{\"query\": \"{ __typename }\"}",
            200,
            "application/json",
        ),
    ];
    for (accept, body, status, content_type) in cases {
        let (got, ct, bytes) = post(accept, body).await;
        let what = format!("{body} accepting {accept:?}");
        assert_eq!(got, status, "{what}");
        assert_eq!(ct, content_type, "{what}");
        let reply: Value = serde_json::from_slice(&bytes).unwrap();
        if reply["data"]["__typename"].is_string() {
            continue;
        }
        let errors = reply["errors"].as_array().unwrap();
        assert!(!errors.is_empty(), "{what}: {reply}");
        if status == 400 && reply.get("data").is_none() {
            // Refused before parsing: no location applies, a stable code.
            assert_shape(Family::Graphql, &what, status, &ct, &bytes);
            assert_eq!(errors[0]["extensions"]["code"], "VALIDATION", "{what}");
        }
    }
}

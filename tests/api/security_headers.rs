//! Security headers on every answer, HSTS over https, and CORS: any origin
//! without credentials, a project's listed origins with them.
use authgraph::domain::apply;
use reqwest::Method;
use reqwest::header::HeaderMap;

use crate::helpers::TestApp;

async fn headers(app: &TestApp, method: Method, path: &str, extra: &[(&str, &str)]) -> HeaderMap {
    let mut req = app.rest(method, path);
    for (k, v) in extra {
        req = req.header(*k, *v);
    }
    req.send().await.unwrap().headers().clone()
}

fn get<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

#[tokio::test]
async fn every_answer_says_nosniff_and_sends_no_referrer() {
    let app = TestApp::spawn().await;
    for (method, path) in [
        (Method::GET, "/healthz"),
        (Method::GET, "/openapi.json"),
        (Method::POST, "/graphql"),
        (Method::POST, "/api/collections/users/auth-with-password"),
        (Method::GET, "/auth-collections/user"),
        (Method::GET, "/api/userAuth/me"),
        (Method::GET, "/no-such-page"),
    ] {
        let h = headers(&app, method.clone(), path, &[]).await;
        assert_eq!(
            get(&h, "x-content-type-options"),
            Some("nosniff"),
            "{method} {path}"
        );
        assert_eq!(
            get(&h, "referrer-policy"),
            Some("no-referrer"),
            "{method} {path}"
        );
        assert!(
            h.get("strict-transport-security").is_none(),
            "{method} {path}: HSTS over http"
        );
    }
}

#[tokio::test]
async fn pages_cannot_be_framed_by_other_sites() {
    let app = TestApp::spawn().await;
    for path in ["/docs", "/graphql", "/api/oauth2-redirect"] {
        let h = headers(&app, Method::GET, path, &[("accept", "text/html")]).await;
        assert!(
            get(&h, "content-type").is_some_and(|c| c.starts_with("text/html")),
            "{path}: {h:?}"
        );
        assert_eq!(get(&h, "x-frame-options"), Some("DENY"), "{path}");
        let csp = get(&h, "content-security-policy").unwrap_or_default();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
    }
}

#[tokio::test]
async fn hsts_is_sent_when_the_public_url_is_https() {
    let app =
        TestApp::spawn_custom(None, |c| c.public_url = "https://auth.example.com".into()).await;
    let h = headers(&app, Method::GET, "/healthz", &[]).await;
    assert_eq!(
        get(&h, "strict-transport-security"),
        Some("max-age=31536000")
    );
}

#[tokio::test]
async fn hsts_follows_x_forwarded_proto_only_from_a_trusted_proxy() {
    let https = [("x-forwarded-proto", "https")];
    let trusted =
        TestApp::spawn_custom(None, |c| c.trusted_proxies = "127.0.0.1/32, ::1".into()).await;
    let h = headers(&trusted, Method::GET, "/healthz", &https).await;
    assert_eq!(
        get(&h, "strict-transport-security"),
        Some("max-age=31536000")
    );
    let h = headers(
        &trusted,
        Method::GET,
        "/healthz",
        &[("x-forwarded-proto", "http")],
    )
    .await;
    assert!(h.get("strict-transport-security").is_none());
    // Without a trusted proxy anyone could write the header.
    let direct = TestApp::spawn().await;
    let h = headers(&direct, Method::GET, "/healthz", &https).await;
    assert!(h.get("strict-transport-security").is_none());
}

const DEFAULT_FILE: &str = r#"
[project]
slug = "default"
cors_origins = ["https://App.Example.com/"]
"#;

const SHOP_FILE: &str = r#"
[project]
slug = "shop"
cors_origins = ["https://shop.example.com"]
"#;

fn preflight(origin: &str) -> [(&str, &str); 3] {
    [
        ("origin", origin),
        ("access-control-request-method", "POST"),
        ("access-control-request-headers", "content-type, x-api-key"),
    ]
}

#[tokio::test]
async fn listed_origins_get_credentials_and_others_only_a_wildcard() {
    let app = TestApp::spawn().await;
    for file in [DEFAULT_FILE, SHOP_FILE] {
        apply::apply_with(&app.services, &apply::parse(file).unwrap())
            .await
            .unwrap();
    }
    let login = "/api/userAuth/login";
    // Preflights name no project: a listed origin is told credentials are fine.
    for origin in ["https://app.example.com", "https://shop.example.com"] {
        let h = headers(&app, Method::OPTIONS, login, &preflight(origin)).await;
        assert_eq!(get(&h, "access-control-allow-origin"), Some(origin));
        assert_eq!(get(&h, "access-control-allow-credentials"), Some("true"));
        let methods = get(&h, "access-control-allow-methods").unwrap_or_default();
        assert!(methods.contains("POST"), "{methods}");
        let allowed = get(&h, "access-control-allow-headers").unwrap_or_default();
        assert!(allowed.contains("x-api-key") && allowed.contains("content-type"));
    }
    let h = headers(
        &app,
        Method::OPTIONS,
        login,
        &preflight("https://evil.example"),
    )
    .await;
    assert_eq!(get(&h, "access-control-allow-origin"), Some("*"));
    assert!(h.get("access-control-allow-credentials").is_none());

    // The answer itself: credentials only for an origin of the called project.
    let key = app.pk.clone();
    let cases = [
        (
            "https://app.example.com",
            login.to_owned(),
            Some(key.as_str()),
            true,
        ),
        (
            "https://shop.example.com",
            login.to_owned(),
            Some(key.as_str()),
            false,
        ),
        (
            "https://shop.example.com",
            format!("/p/shop{login}"),
            None,
            true,
        ),
        (
            "https://app.example.com",
            format!("/p/shop{login}"),
            None,
            false,
        ),
        ("https://app.example.com", "/healthz".to_owned(), None, true),
        (
            "https://evil.example",
            login.to_owned(),
            Some(key.as_str()),
            false,
        ),
    ];
    for (origin, path, key, credentials) in cases {
        let mut extra = vec![("origin", origin), ("content-type", "application/json")];
        if let Some(k) = key {
            extra.push(("x-api-key", k));
        }
        let h = headers(&app, Method::POST, &path, &extra).await;
        let what = format!("{origin} to {path}");
        assert!(
            h.get_all("vary")
                .iter()
                .any(|v| v.to_str().unwrap().contains("origin")),
            "{what}"
        );
        if credentials {
            assert_eq!(
                get(&h, "access-control-allow-origin"),
                Some(origin),
                "{what}"
            );
            assert_eq!(
                get(&h, "access-control-allow-credentials"),
                Some("true"),
                "{what}"
            );
        } else {
            assert_eq!(get(&h, "access-control-allow-origin"), Some("*"), "{what}");
            assert!(
                h.get("access-control-allow-credentials").is_none(),
                "{what}"
            );
        }
    }
}

#[tokio::test]
async fn a_project_file_refuses_what_is_not_an_origin() {
    for bad in [
        "*",
        "null",
        "https://app.example.com/path",
        "app.example.com",
        "ftp://x.example",
    ] {
        let file = format!("[project]\nslug = \"default\"\ncors_origins = [\"{bad}\"]\n");
        let err = apply::parse(&file)
            .err()
            .unwrap_or_else(|| panic!("{bad} accepted"));
        assert_eq!(err.field(), Some("cors_origins"), "{bad}");
    }
}

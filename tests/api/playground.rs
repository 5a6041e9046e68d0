//! The browser pages (GraphiQL on `GET /graphql`, `/docs`, `/account`) and the assets
//! shipped in the binary: same-origin only, cached for good, off with
//! GraphiQL. `clients/browser` opens them in a real Chromium.
use crate::helpers::TestApp;

/// `GET path`, as a browser asks for a page.
async fn page(app: &TestApp, path: &str) -> reqwest::Response {
    app.http
        .get(format!("{}{path}", app.base))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap()
}

fn header<'a>(res: &'a reqwest::Response, name: &str) -> &'a str {
    res.headers()
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
}

/// The scripts' and stylesheets' URLs in `html` (`src="…"`, and `href="…"`
/// of `<link rel="stylesheet">`).
fn references(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for attr in ["src=\"", "<link rel=\"stylesheet\" href=\""] {
        for part in html.split(attr).skip(1) {
            out.push(part.split('"').next().unwrap().to_owned());
        }
    }
    out
}

#[tokio::test]
async fn the_pages_allow_only_this_origin_and_refuse_framing() {
    let app = TestApp::spawn().await;
    for path in ["/graphql", "/docs", "/account"] {
        let res = page(&app, path).await;
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(header(&res, "content-type"), "text/html; charset=utf-8");
        let csp = header(&res, "content-security-policy").to_owned();
        for directive in [
            "default-src 'none'",
            "script-src 'self';",
            "style-src 'self' 'unsafe-inline'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
        ] {
            assert!(
                csp.contains(directive),
                "{path}: {directive} missing in {csp}"
            );
        }
        // Subscriptions: the WebSocket to this very host, and nothing else.
        let connect = csp
            .split(';')
            .find(|d| d.trim().starts_with("connect-src"))
            .unwrap()
            .trim()
            .to_owned();
        assert_eq!(
            connect,
            format!("connect-src 'self' ws://{0} wss://{0}", app.addr),
            "{path}"
        );
        assert_eq!(header(&res, "x-frame-options"), "DENY");
        assert_eq!(header(&res, "referrer-policy"), "no-referrer");
        assert_eq!(header(&res, "x-content-type-options"), "nosniff");
    }
}

#[tokio::test]
async fn every_script_and_stylesheet_of_the_pages_is_served_by_the_binary_for_good() {
    let app = TestApp::spawn().await;
    let mut init_scripts = String::new();
    for path in ["/graphql", "/docs", "/account"] {
        let html = page(&app, path).await.text().await.unwrap();
        assert!(
            !html.contains("http://") && !html.contains("https://"),
            "{html}"
        );
        let refs = references(&html);
        assert!(refs.len() >= 2, "{path}: {refs:?}");
        for url in refs {
            assert!(url.starts_with("/assets/"), "{path} references {url}");
            let res = page(&app, &url).await;
            assert_eq!(res.status(), 200, "{url}");
            let expected = if url.ends_with(".css") {
                "text/css; charset=utf-8"
            } else {
                "text/javascript; charset=utf-8"
            };
            assert_eq!(header(&res, "content-type"), expected, "{url}");
            assert_eq!(
                header(&res, "cache-control"),
                "public, max-age=31536000, immutable"
            );
            assert_eq!(header(&res, "x-content-type-options"), "nosniff");
            let body = res.text().await.unwrap();
            assert!(body.len() > 100, "{url} is nearly empty");
            assert!(!body.contains("sourceMappingURL"), "{url} asks for a map");
            if url.contains("-init-") {
                init_scripts.push_str(&body);
            }
        }
    }
    // The pages' own scripts point GraphiQL at this server's endpoints.
    assert!(init_scripts.contains("\"/graphql\""), "{init_scripts}");
    assert!(init_scripts.contains("/graphql/ws"), "{init_scripts}");
    assert!(init_scripts.contains("/openapi.json"), "{init_scripts}");
}

#[tokio::test]
async fn unknown_assets_are_not_found() {
    let app = TestApp::spawn().await;
    let html = page(&app, "/graphql").await.text().await.unwrap();
    let real = references(&html).into_iter().next().unwrap();
    // A stale hash, no hash, a path outside the table.
    let stale = format!("{}0.css", real.rsplit_once('-').unwrap().0);
    for url in [
        stale.as_str(),
        "/assets/graphiql.min.css",
        "/assets/nope.js",
        "/assets/..%2FCargo.toml",
    ] {
        let res = page(&app, url).await;
        assert_eq!(res.status(), 404, "{url}");
    }
}

#[tokio::test]
async fn the_pages_and_their_assets_are_off_when_graphiql_is_off() {
    let on = TestApp::spawn().await;
    let html = page(&on, "/graphql").await.text().await.unwrap();
    let asset = references(&html).into_iter().next().unwrap();
    let off = TestApp::spawn_custom(None, |c| c.graphiql = false).await;
    for path in ["/graphql", "/docs", "/account", asset.as_str()] {
        let res = page(&off, path).await;
        assert_eq!(res.status(), 404, "{path}");
    }
    // The API itself still answers.
    let res = page(&off, "/openapi.json").await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn the_account_page_is_off_by_its_own_setting_while_graphiql_stays_on() {
    let off = TestApp::spawn_custom(None, |c| c.account_page = false).await;
    assert_eq!(page(&off, "/account").await.status(), 404);
    assert_eq!(page(&off, "/graphql").await.status(), 200);
    let on = TestApp::spawn().await;
    let html = page(&on, "/account").await.text().await.unwrap();
    for id in ["passkey-log-in", "add-passkey", "enrol-totp", "sessions"] {
        assert!(
            html.contains(&format!("id=\"{id}\"")),
            "{id} missing: {html}"
        );
    }
}

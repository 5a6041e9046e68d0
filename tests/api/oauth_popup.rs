//! PocketBase's one-call `authWithOAuth2({provider})`: the SDK subscribes a
//! realtime client to `@oauth2`, uses its id as the state, and waits for the
//! provider's redirect to `/api/oauth2-redirect` to reach it; then it calls
//! `auth-with-oauth2`. Against the in-process fake provider.
use std::time::Duration;

use authgraph::domain::apply;
use futures_util::StreamExt;
use serde_json::{Value, json};

use crate::fake_oidc::FakeOidc;
use crate::helpers::{TestApp, with_query};

const USERS: &str = "/api/collections/users";

/// A realtime client as the SDK holds it: the stream and its client id.
struct Realtime {
    body: std::pin::Pin<Box<dyn futures_util::Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>,
    buf: String,
    id: String,
}

impl Realtime {
    async fn connect(app: &TestApp, topics: &[&str]) -> Realtime {
        let res = app
            .http
            .get(format!("{}/api/realtime", app.base))
            .send()
            .await
            .unwrap();
        let mut rt = Realtime {
            body: Box::pin(res.bytes_stream()),
            buf: String::new(),
            id: String::new(),
        };
        let (_, data) = rt.next_event().await;
        rt.id = data["clientId"].as_str().unwrap().to_owned();
        let res = app
            .http
            .post(format!("{}/api/realtime", app.base))
            .json(&json!({"clientId": rt.id, "subscriptions": topics}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 204);
        rt
    }

    /// The next event: its name and JSON data.
    async fn next_event(&mut self) -> (String, Value) {
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let field = |name: &str| {
                    block.lines().find_map(|l| {
                        l.strip_prefix(name)
                            .map(|v| v.trim_start_matches(':').trim().to_owned())
                    })
                };
                let (Some(event), Some(data)) = (field("event"), field("data")) else {
                    continue;
                };
                return (event, serde_json::from_str(&data).unwrap());
            }
            let chunk = tokio::time::timeout(Duration::from_secs(5), self.body.next())
                .await
                .expect("an event within 5 s")
                .unwrap()
                .unwrap();
            self.buf.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
}

async fn world() -> (TestApp, FakeOidc, String) {
    let fake = FakeOidc::start().await;
    let app = TestApp::spawn().await;
    let redirect = format!("{}/api/oauth2-redirect", app.base);
    let toml = fake.collection_toml_redirects("", std::slice::from_ref(&redirect));
    let file = apply::parse(&toml).unwrap();
    apply::apply_with(&app.services, &file).await.unwrap();
    (app, fake, redirect)
}

/// The provider's authorization URL as the SDK opens it: `authURL` plus the
/// redirect URL, with the state replaced by the realtime client id.
async fn consent(app: &TestApp, fake: &FakeOidc, rt: &Realtime, redirect: &str) -> (Value, String) {
    let methods: Value = app
        .http
        .get(format!("{}{USERS}/auth-methods", app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let p = methods["oauth2"]["providers"][0].clone();
    let encoded: String = form_urlencoded::byte_serialize(redirect.as_bytes()).collect();
    let mut url =
        reqwest::Url::parse(&format!("{}{encoded}", p["authURL"].as_str().unwrap())).unwrap();
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .into_owned()
        .map(|(k, v)| {
            if k == "state" {
                (k, rt.id.clone())
            } else {
                (k, v)
            }
        })
        .collect();
    url.query_pairs_mut().clear().extend_pairs(pairs);
    assert_eq!(
        url.query_pairs()
            .find(|(k, _)| k == "redirect_uri")
            .unwrap()
            .1,
        redirect
    );
    let claims = json!({"sub": "pop-1", "email": "pop@example.com", "email_verified": true});
    (p, fake.authorize(url.as_str(), claims))
}

#[tokio::test]
async fn the_redirect_page_hands_the_code_to_the_waiting_realtime_client() {
    let (app, fake, redirect) = world().await;
    let mut rt = Realtime::connect(&app, &["@oauth2"]).await;
    let (p, code) = consent(&app, &fake, &rt, &redirect).await;
    // The provider sends the browser back.
    let page = app
        .http
        .get(with_query(&redirect, &[("state", &rt.id), ("code", &code)]))
        .send()
        .await
        .unwrap();
    let headers = page.headers();
    assert_eq!(headers["referrer-policy"], "no-referrer");
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("close this window"), "{html}");
    assert!(!html.contains(&code), "the page never echoes the code");
    let (event, data) = rt.next_event().await;
    assert_eq!(event, "@oauth2");
    assert_eq!(data, json!({"state": rt.id, "code": code, "error": ""}));
    // The SDK finishes with authWithOAuth2Code.
    let res = app
        .http
        .post(format!("{}{USERS}/auth-with-oauth2", app.base))
        .json(
            &json!({"provider": p["name"], "code": data["code"], "codeVerifier": p["codeVerifier"],
                      "redirectURL": redirect, "createData": {}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["record"]["email"], "pop@example.com");
    assert_eq!(body["meta"]["isNew"], true);
}

#[tokio::test]
async fn a_form_post_and_a_provider_error_reach_the_client_too() {
    let (app, _fake, redirect) = world().await;
    let topic = "@oauth2?options=%7B%7D";
    let mut rt = Realtime::connect(&app, &["users/*", topic]).await;
    let posted = app
        .http
        .post(&redirect)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(with_query("", &[("state", &rt.id), ("code", "posted-code")])[1..].to_owned())
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 200);
    // The event is named as the client subscribed.
    let (event, data) = rt.next_event().await;
    assert_eq!(event, topic);
    assert_eq!(data["code"], "posted-code");
    let denied = app
        .http
        .get(with_query(
            &redirect,
            &[("state", &rt.id), ("error", "access_denied")],
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(denied.status(), 200);
    let (_, data) = rt.next_event().await;
    assert_eq!(
        data,
        json!({"state": rt.id, "code": "", "error": "access_denied"})
    );
}

#[tokio::test]
async fn a_state_no_subscribed_client_waits_for_is_refused() {
    let (app, _fake, redirect) = world().await;
    let status = |q: &[(&str, &str)]| {
        let req = app.http.get(with_query(&redirect, q));
        async move { req.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(status(&[("state", "nobody"), ("code", "c")]).await, 404);
    // A client that did not subscribe to `@oauth2` gets nothing.
    let other = Realtime::connect(&app, &["users/*"]).await;
    assert_eq!(status(&[("state", &other.id), ("code", "c")]).await, 404);
    assert_eq!(status(&[("code", "c")]).await, 400);
    assert_eq!(status(&[("state", &other.id)]).await, 400);
}

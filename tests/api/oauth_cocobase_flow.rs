//! Cocobase's documented server-kept flow: `oauth/{provider}?redirect_uri=`
//! or `login-google` give `{url, state}`; the app posts the callback's
//! `{code, state}` to `verify-google-login`. Against the fake provider (as
//! `google`, its issuer overridden).
use authgraph::domain::apply;
use serde_json::{Value, json};

use crate::fake_oidc::{FakeOidc, REDIRECT};
use crate::helpers::{TestApp, with_query};

async fn world() -> (TestApp, FakeOidc) {
    let fake = FakeOidc::start().await;
    let app = TestApp::spawn().await;
    let file = apply::parse(&fake.collection_toml_as("google")).unwrap();
    apply::apply_with(&app.services, &file).await.unwrap();
    (app, fake)
}

async fn send(app: &TestApp, req: reqwest::RequestBuilder) -> (u16, Value) {
    let res = req.header("x-api-key", &app.pk).send().await.unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

async fn get(app: &TestApp, path: &str) -> (u16, Value) {
    send(app, app.http.get(format!("{}{path}", app.base))).await
}

async fn verify(app: &TestApp, body: Value) -> (u16, Value) {
    let url = format!("{}/auth-collections/verify-google-login", app.base);
    send(app, app.http.post(url).json(&body)).await
}

#[tokio::test]
async fn oauth_google_then_verify_google_login_signs_in_once() {
    let (app, fake) = world().await;
    let path = with_query(
        "/auth-collections/oauth/google",
        &[("redirect_uri", REDIRECT)],
    );
    let (status, started) = get(&app, &path).await;
    assert_eq!(status, 200, "{started}");
    let url = started["url"].as_str().unwrap();
    assert!(
        url.starts_with(&format!("{}/authorize?", fake.issuer)),
        "{url}"
    );
    let claims = json!({"sub": "g-7", "email": "gus@example.com", "email_verified": true});
    let code = fake.authorize(url, claims.clone());
    let (status, body) = verify(&app, json!({"code": code, "state": started["state"]})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "bearer");
    assert!(body["access_token"].is_string());
    assert_eq!(body["user"]["email"], "gus@example.com");
    // The state is single use.
    let (status, again) = verify(&app, json!({"code": code, "state": started["state"]})).await;
    assert_eq!(status, 401, "{again}");
    assert!(again["detail"].is_string());
    // login-google: the provider's only redirect URL when none is named.
    let (status, started) = get(&app, "/auth-collections/login-google").await;
    assert_eq!(status, 200, "{started}");
    let code = fake.authorize(started["url"].as_str().unwrap(), claims.clone());
    let (_, back) = verify(&app, json!({"code": code, "state": started["state"]})).await;
    assert_eq!(back["user"]["id"], body["user"]["id"]);
    // An ID token posted there is checked like google-verify's.
    let (status, by_token) = verify(&app, json!({"id_token": fake.id_token(claims)})).await;
    assert_eq!(status, 200, "{by_token}");
    assert_eq!(by_token["user"]["id"], body["user"]["id"]);
}

#[tokio::test]
async fn a_redirect_off_the_list_an_unknown_provider_and_a_missing_state_are_refused() {
    let (app, _fake) = world().await;
    let evil = with_query(
        "/auth-collections/oauth/google",
        &[("redirect_uri", "https://evil.test/cb")],
    );
    let (status, body) = get(&app, &evil).await;
    assert!(status == 400 || status == 422, "{status} {body}");
    assert!(
        body["detail"].is_string() || body["detail"].is_array(),
        "{body}"
    );
    let (status, _) = get(&app, "/auth-collections/oauth/nope").await;
    assert_eq!(status, 404);
    let (status, _) = verify(&app, json!({"code": "c"})).await;
    assert_eq!(status, 422);
}

//! PocketBase's OAuth2 sign-in (`auth-methods` providers, `auth-with-oauth2`)
//! against the in-process fake provider.
use authgraph::domain::apply;
use serde_json::{Value, json};

use crate::fake_oidc::{FakeOidc, REDIRECT};
use crate::helpers::TestApp;

const USERS: &str = "/api/collections/users";

async fn world() -> (TestApp, FakeOidc) {
    let fake = FakeOidc::start().await;
    let app = TestApp::spawn().await;
    let file = apply::parse(&fake.collection_toml("")).unwrap();
    apply::apply_with(&app.services, &file).await.unwrap();
    (app, fake)
}

async fn post(app: &TestApp, path: &str, body: Value) -> (u16, Value) {
    let res = app
        .http
        .post(format!("{}{path}", app.base))
        .json(&body)
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

/// The SDK's `authWithOAuth2Code` after the user consented.
async fn sign_in(app: &TestApp, fake: &FakeOidc, claims: Value) -> (u16, Value) {
    let methods = app.get_json(&format!("{USERS}/auth-methods")).await;
    let p = &methods["oauth2"]["providers"][0];
    let auth_url = p["authURL"].as_str().unwrap();
    assert!(auth_url.ends_with("redirect_uri="), "{auth_url}");
    let encoded: String = form_urlencoded::byte_serialize(REDIRECT.as_bytes()).collect();
    let code = fake.authorize(&format!("{auth_url}{encoded}"), claims);
    post(
        app,
        &format!("{USERS}/auth-with-oauth2"),
        json!({"provider": p["name"], "code": code, "codeVerifier": p["codeVerifier"],
               "redirectURL": REDIRECT, "createData": {}}),
    )
    .await
}

#[tokio::test]
async fn auth_methods_list_the_providers_and_auth_with_oauth2_signs_in() {
    let (app, fake) = world().await;
    let methods = app.get_json(&format!("{USERS}/auth-methods")).await;
    assert_eq!(methods["oauth2"]["enabled"], true);
    let p = &methods["oauth2"]["providers"][0];
    assert_eq!(p["name"], "fake");
    assert_eq!(p["codeChallengeMethod"], "S256");
    for k in ["displayName", "state", "codeVerifier", "codeChallenge"] {
        assert!(p[k].as_str().is_some_and(|v| !v.is_empty()), "{k}: {p}");
    }
    let claims =
        json!({"sub": "ann-1", "email": "ann@example.com", "email_verified": true, "name": "Ann"});
    let (status, body) = sign_in(&app, &fake, claims.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["token"].is_string());
    assert_eq!(body["record"]["email"], "ann@example.com");
    assert_eq!(body["meta"]["isNew"], true);
    assert_eq!(body["meta"]["email"], "ann@example.com");
    assert_eq!(body["meta"]["name"], "Ann");
    assert_eq!(body["meta"]["rawUser"]["sub"], "ann-1");
    let (status, again) = sign_in(&app, &fake, claims).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["meta"]["isNew"], false);
    assert_eq!(again["record"]["id"], body["record"]["id"]);
    // The token authenticates PocketBase calls.
    let res = app
        .http
        .post(format!("{}{USERS}/auth-refresh", app.base))
        .bearer_auth(again["token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn auth_with_oauth2_refuses_a_redirect_off_the_list_and_a_wrong_verifier() {
    let (app, fake) = world().await;
    let methods = app.get_json(&format!("{USERS}/auth-methods")).await;
    let p = &methods["oauth2"]["providers"][0];
    let auth_url = p["authURL"].as_str().unwrap();
    let code = fake.authorize(auth_url, json!({"sub": "x", "email": "x@example.com"}));
    let path = format!("{USERS}/auth-with-oauth2");
    let (status, body) = post(
        &app,
        &path,
        json!({"provider": "fake", "code": code, "codeVerifier": p["codeVerifier"],
               "redirectURL": "https://evil.test/cb"}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = post(
        &app,
        &path,
        json!({"provider": "fake", "code": code, "codeVerifier": "wrong-verifier",
               "redirectURL": REDIRECT}),
    )
    .await;
    assert_eq!(status, 401, "{body}");
    let (status, _) = post(&app, &path, json!({"provider": "fake"})).await;
    assert_eq!(status, 400);
}

//! Cocobase's Google (`google-verify {id_token}`) and GitHub
//! (`github-verify {code, redirect_uri}`) sign-in against the fake provider.
use authgraph::domain::apply;
use serde_json::{Value, json};

use crate::fake_oidc::{FakeOidc, REDIRECT};
use crate::helpers::TestApp;

async fn world(provider: &str) -> (TestApp, FakeOidc) {
    let fake = FakeOidc::start().await;
    let app = TestApp::spawn().await;
    let file = apply::parse(&fake.collection_toml_as(provider)).unwrap();
    apply::apply_with(&app.services, &file).await.unwrap();
    (app, fake)
}

async fn post(app: &TestApp, path: &str, body: Value) -> (u16, Value) {
    let res = app
        .http
        .post(format!("{}{path}", app.base))
        .header("x-api-key", &app.pk)
        .json(&body)
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

#[tokio::test]
async fn google_verify_signs_in_with_a_checked_id_token() {
    let (app, fake) = world("google").await;
    let claims = json!({"sub": "g-1", "email": "gina@example.com", "email_verified": true});
    let path = "/auth-collections/google-verify";
    let (status, body) = post(
        &app,
        path,
        json!({"id_token": fake.id_token(claims.clone()), "platform": "web"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["access_token"].is_string());
    assert_eq!(body["user"]["email"], "gina@example.com");
    let (_, again) = post(
        &app,
        path,
        json!({"id_token": fake.id_token(claims.clone())}),
    )
    .await;
    assert_eq!(again["user"]["id"], body["user"]["id"]);
    // Another client's token, or a forged signature, is refused.
    let mut other = claims.clone();
    other["aud"] = json!("another-client");
    let (status, _) = post(&app, path, json!({"id_token": fake.id_token(other)})).await;
    assert_eq!(status, 401);
    let token = fake.id_token(claims);
    let forged = format!("{}x", &token[..token.len() - 1]);
    let (status, _) = post(&app, path, json!({"id_token": forged})).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn github_verify_reads_the_primary_verified_email() {
    let (app, fake) = world("github").await;
    fake.set(|s| {
        s.github_user = json!({"id": 4242, "login": "octo", "name": "Octo Cat", "avatar_url": "https://img.test/o.png"});
        s.github_emails = json!([
            {"email": "old@example.com", "primary": false, "verified": true},
            {"email": "octo@example.com", "primary": true, "verified": true},
        ]);
    });
    let path = "/auth-collections/github-verify";
    let (status, body) = post(
        &app,
        path,
        json!({"code": "gh-code", "redirect_uri": REDIRECT}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["user"]["email"], "octo@example.com");
    assert_eq!(body["user"]["data"]["name"], "Octo Cat");
    let (status, body) = post(&app, path, json!({"code": "bad", "redirect_uri": REDIRECT})).await;
    assert_eq!(status, 401, "{body}");
    let (status, body) = post(
        &app,
        path,
        json!({"code": "gh-code", "redirect_uri": "https://evil.test/cb"}),
    )
    .await;
    assert!(status == 400 || status == 422, "{status} {body}");
}

#[tokio::test]
async fn without_a_configured_provider_the_verify_endpoints_are_not_enabled() {
    let app = TestApp::spawn().await;
    for (path, body) in [
        ("/auth-collections/google-verify", json!({"id_token": "x"})),
        (
            "/auth-collections/github-verify",
            json!({"code": "x", "redirect_uri": REDIRECT}),
        ),
    ] {
        let (status, body) = post(&app, path, body).await;
        assert_eq!(status, 403, "{path}: {body}");
        assert!(body["detail"].as_str().unwrap().contains("not enabled"));
    }
}

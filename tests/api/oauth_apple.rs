//! Sign in with Apple against Apple's double (`fake_oidc.rs` with
//! `apple_team` set): the client secret made from the key, the `form_post`
//! authorization, the name from the callback's `user` form field.
use authgraph::domain::apply;
use authgraph::domain::oauth::flow::{self, FinishRequest};
use authgraph::domain::projects::Project;
use authgraph::domain::second_factor::challenge::LogInOutcome;
use serde_json::{Value, json};

use crate::fake_oidc::{APPLE_KEY_FILE, FakeOidc, REDIRECT};
use crate::helpers::{TestApp, error_code};

const START: &str = "mutation($p: String!, $r: String!) { startOAuth(provider: $p, redirectUrl: $r) { url state } }";
const FINISH: &str = "mutation($s: String!, $c: String!) { finishOAuth(state: $s, code: $c) { token user { id email verified data } } }";

async fn apple_world() -> (TestApp, FakeOidc, Project) {
    let fake = FakeOidc::start().await;
    let app = TestApp::spawn().await;
    let file = apply::parse(&fake.apple_toml()).unwrap();
    apply::apply_with(&app.services, &file).await.unwrap();
    let project = app.default_project().await;
    (app, fake, project)
}

/// startOAuth with Apple, as answered.
async fn start_res(app: &TestApp) -> Value {
    app.gql(
        Some(&app.pk),
        None,
        START,
        json!({"p": "apple", "r": REDIRECT}),
    )
    .await
}

/// startOAuth with Apple: (url, state).
async fn start(app: &TestApp) -> (String, String) {
    let res = start_res(app).await;
    let s = &res["data"]["startOAuth"];
    assert!(s["url"].is_string(), "{res}");
    (
        s["url"].as_str().unwrap().into(),
        s["state"].as_str().unwrap().into(),
    )
}

/// An Apple account: Apple sends `email_verified` as a string.
fn apple_account() -> Value {
    json!({"sub": "001234.apple", "email": "ann@privaterelay.appleid.com",
           "email_verified": "true", "is_private_email": "true"})
}

#[tokio::test]
async fn apple_signs_in_with_a_client_secret_made_from_the_key_and_the_form_posts_name() {
    let (app, fake, project) = apple_world().await;
    let (url, state) = start(&app).await;
    let q: std::collections::HashMap<String, String> = reqwest::Url::parse(&url)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    assert_eq!(q["response_mode"], "form_post", "{url}");
    assert_eq!(q["scope"], "name email");
    assert!(q["nonce"].len() >= 32);

    // The first callback: Apple's form carries the name, once.
    let code = fake.authorize(&url, apple_account());
    let form_user =
        r#"{"name":{"firstName":"Ann","lastName":"Lee"},"email":"ann@privaterelay.appleid.com"}"#;
    let req = FinishRequest {
        state,
        code,
        ..FinishRequest::default()
    };
    let first = flow::finish_form_post(&app.services, &project, req, Some(form_user))
        .await
        .unwrap();
    assert!(first.is_new);
    let LogInOutcome::Complete(auth) = first.outcome else {
        panic!("a second factor was asked for");
    };
    assert_eq!(auth.user.email, "ann@privaterelay.appleid.com");
    assert!(auth.user.verified, "Apple's \"true\" is a verified email");
    assert_eq!(auth.user.data["name"], "Ann Lee");
    assert_eq!(fake.inner.lock().unwrap().apple_secrets.len(), 1);

    // Later sign-ins bring no name: the same user, the name kept, and the
    // client secret reused (it is valid for half an hour).
    let (url, state) = start(&app).await;
    let code = fake.authorize(&url, apple_account());
    let res = app
        .gql(Some(&app.pk), None, FINISH, json!({"s": state, "c": code}))
        .await;
    let user = &res["data"]["finishOAuth"]["user"];
    assert_eq!(user["id"], json!(auth.user.id), "{res}");
    assert_eq!(user["data"]["name"], "Ann Lee");
    let secrets = fake.inner.lock().unwrap().apple_secrets.clone();
    assert_eq!(secrets.len(), 2);
    assert_eq!(secrets[0], secrets[1]);
}

#[tokio::test]
async fn a_client_secret_apple_does_not_accept_is_oauth_rejected() {
    let (app, fake, _) = apple_world().await;
    // Apple knows this client under another team: the secret's `iss` is wrong.
    fake.set(|s| s.apple_team = Some("OTHERTEAM1".into()));
    let (url, state) = start(&app).await;
    let code = fake.authorize(&url, apple_account());
    let res = app
        .gql(Some(&app.pk), None, FINISH, json!({"s": state, "c": code}))
        .await;
    assert_eq!(error_code(&res), Some("OAUTH_REJECTED"), "{res}");
}

#[tokio::test]
async fn apples_key_settings_are_checked_and_a_missing_key_file_is_a_clear_error() {
    let fake = FakeOidc::start().await;
    let toml = fake.apple_toml();
    let incomplete = toml.replace("key_id = \"KEY0000001\"\n", "");
    let e = apply::parse(&incomplete)
        .map(|_| ())
        .unwrap_err()
        .to_string();
    assert!(e.contains("key_id"), "{e}");
    let both = toml.replace("team_id", "client_secret = \"s\"\nteam_id");
    assert!(apply::parse(&both).is_err());

    let app = TestApp::spawn().await;
    let missing = toml.replace(APPLE_KEY_FILE, "/nonexistent/AuthKey.p8");
    let file = apply::parse(&missing).unwrap();
    apply::apply_with(&app.services, &file).await.unwrap();
    let res = start_res(&app).await;
    assert_eq!(
        error_code(&res),
        Some("OAUTH_PROVIDER_UNAVAILABLE"),
        "{res}"
    );
    assert!(res.to_string().contains("/nonexistent/AuthKey.p8"), "{res}");
}

//! urBackend's social sign-in against the in-process fake provider: the
//! start (a browser link with the publishable key) redirects to the
//! provider, the server's callback sends the browser to the site with a
//! one-time `rtCode` and the token, and the exchange yields the refresh token.
use std::collections::HashMap;

use authgraph::domain::apply;
use reqwest::Method;
use serde_json::{Value, json};

use crate::fake_oidc::FakeOidc;
use crate::helpers::{ReplyExt, TestApp, with_query};

const AUTH: &str = "/api/userAuth";
const SITE: &str = "http://site.test";

async fn world(site: bool) -> (TestApp, FakeOidc, String) {
    let fake = FakeOidc::start().await;
    let app = TestApp::spawn().await;
    let callback = format!("{}{AUTH}/social/fake/callback", app.base);
    let extra = if site {
        format!("oauth2_site_url = \"{SITE}/\"")
    } else {
        String::new()
    };
    let toml = fake.collection_toml_redirects(&extra, std::slice::from_ref(&callback));
    let file = apply::parse(&toml).unwrap();
    apply::apply_with(&app.services, &file).await.unwrap();
    (app, fake, callback)
}

/// A browser that does not follow redirects.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn location(res: reqwest::Response) -> String {
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    res.headers()["location"].to_str().unwrap().to_owned()
}

fn query_of(url: &reqwest::Url) -> HashMap<String, String> {
    url.query_pairs().into_owned().collect()
}

/// The start as the browser follows it: the provider's URL it is sent to.
async fn to_provider(app: &TestApp) -> reqwest::Url {
    let start = format!("{}{AUTH}/social/fake/start", app.base);
    let res = browser()
        .get(with_query(&start, &[("key", &app.pk)]))
        .send()
        .await
        .unwrap();
    reqwest::Url::parse(&location(res).await).unwrap()
}

/// Start, consent and callback: the URL the browser lands on at the site.
async fn sign_in(app: &TestApp, fake: &FakeOidc, callback: &str, claims: Value) -> reqwest::Url {
    let to_provider = to_provider(app).await;
    assert!(
        to_provider
            .as_str()
            .starts_with(&format!("{}/authorize?", fake.issuer))
    );
    let q = query_of(&to_provider);
    assert_eq!(q["redirect_uri"], callback);
    let code = fake.authorize(to_provider.as_str(), claims);
    let res = browser()
        .get(with_query(
            callback,
            &[("state", &q["state"]), ("code", &code)],
        ))
        .send()
        .await
        .unwrap();
    reqwest::Url::parse(&location(res).await).unwrap()
}

async fn exchange(app: &TestApp, body: Value) -> crate::helpers::Reply {
    app.rest(Method::POST, &format!("{AUTH}/social/exchange"))
        .header("x-api-key", &app.pk)
        .json(&body)
        .reply()
        .await
}

#[tokio::test]
async fn the_callback_lands_on_the_site_and_the_code_buys_the_refresh_token_once() {
    let (app, fake, callback) = world(true).await;
    let claims = json!({"sub": "ub-1", "email": "ub@example.com", "email_verified": true});
    let landed = sign_in(&app, &fake, &callback, claims.clone()).await;
    assert!(
        landed
            .as_str()
            .starts_with(&format!("{SITE}/auth/callback?")),
        "{landed}"
    );
    let q = query_of(&landed);
    assert_eq!(q["provider"], "fake");
    assert_eq!(q["isNewUser"], "true");
    assert_eq!(q["linkedByEmail"], "false");
    assert!(!q["userId"].is_empty() && !q["projectId"].is_empty());
    let token = landed
        .fragment()
        .unwrap()
        .strip_prefix("token=")
        .unwrap()
        .to_owned();
    let me = app
        .rest(Method::GET, &format!("{AUTH}/me"))
        .header("x-api-key", &app.pk)
        .bearer_auth(&token)
        .reply()
        .await;
    assert_eq!(me.body["email"], "ub@example.com");
    assert_eq!(me.body["_id"], q["userId"]);

    let res = exchange(&app, json!({"rtCode": q["rtCode"], "token": token})).await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.body["success"], true);
    let refresh = res.body["data"]["refreshToken"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        res.set_cookies()
            .iter()
            .any(|c| c.starts_with(&format!("refreshToken={refresh};")))
    );
    // The refresh token works as urBackend's SDK sends it.
    let refreshed = app
        .rest(Method::POST, &format!("{AUTH}/refresh-token"))
        .header("x-api-key", &app.pk)
        .header("x-refresh-token", &refresh)
        .header("x-refresh-token-mode", "header")
        .reply()
        .await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    // The code is single use.
    let again = exchange(&app, json!({"rtCode": q["rtCode"], "token": token})).await;
    assert_eq!(again.status, 401, "{}", again.body);
    // A returning user.
    let landed = sign_in(&app, &fake, &callback, claims).await;
    let q2 = query_of(&landed);
    assert_eq!(q2["isNewUser"], "false");
    assert_eq!(q2["userId"], q["userId"]);
    // A code presented with another token is spent and refused.
    let (other, _) = app.user("someone@example.com").await;
    let wrong = exchange(&app, json!({"rtCode": q2["rtCode"], "token": other})).await;
    assert_eq!(wrong.status, 401);
    let token2 = landed.fragment().unwrap().strip_prefix("token=").unwrap();
    let late = exchange(&app, json!({"rtCode": q2["rtCode"], "token": token2})).await;
    assert_eq!(late.status, 401);
    let blank = exchange(&app, json!({"token": token2})).await;
    assert_eq!(blank.status, 400);
}

#[tokio::test]
async fn the_start_refuses_secret_keys_missing_keys_and_a_collection_without_a_site() {
    let (app, _fake, _) = world(true).await;
    let start = format!("{}{AUTH}/social/fake/start", app.base);
    let status = |url: String| async move {
        let res = browser().get(url).send().await.unwrap();
        let status = res.status().as_u16();
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["success"], false, "{body}");
        status
    };
    assert_eq!(status(with_query(&start, &[("key", &app.sk)])).await, 403);
    assert_eq!(status(start.clone()).await, 401);
    let unknown = format!("{}{AUTH}/social/nope/start", app.base);
    assert_eq!(status(with_query(&unknown, &[("key", &app.pk)])).await, 404);
    let (app, _fake, _) = world(false).await;
    let start = format!("{}{AUTH}/social/fake/start", app.base);
    assert_eq!(status(with_query(&start, &[("key", &app.pk)])).await, 403);
}

#[tokio::test]
async fn a_refusal_at_the_provider_lands_on_the_site_with_the_error() {
    let (app, _fake, callback) = world(true).await;
    let to_provider = to_provider(&app).await;
    let state = query_of(&to_provider)["state"].clone();
    let res = browser()
        .get(with_query(
            &callback,
            &[("state", &state), ("error", "access_denied")],
        ))
        .send()
        .await
        .unwrap();
    let landed = reqwest::Url::parse(&location(res).await).unwrap();
    let q = query_of(&landed);
    assert_eq!(q["error"], "OAUTH_REJECTED");
    assert!(!q.contains_key("rtCode") && landed.fragment().is_none());
    // The flow is spent: the same state cannot be used again.
    let res = browser()
        .get(with_query(&callback, &[("state", &state), ("code", "c")]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}

//! OAuth2 steps are rate limited per client address in every door, in a
//! bucket of their own (the log-in limit's number).
use authgraph::domain::apply;
use reqwest::Method;
use serde_json::json;

use crate::fake_oidc::{FakeOidc, REDIRECT};
use crate::helpers::{ReplyExt, TestApp, error_code};

const START: &str = "mutation($p: String!, $r: String!) { startOAuth(provider: $p, redirectUrl: $r) { url state } }";

#[tokio::test]
async fn oauth_steps_per_address_are_limited_in_every_door() {
    let fake = FakeOidc::start().await;
    let app = TestApp::spawn_custom(None, |c| c.login_limit_per_ip = 3).await;
    let file = apply::parse(&fake.collection_toml("")).unwrap();
    apply::apply_with(&app.services, &file).await.unwrap();
    let start = || {
        app.gql(
            Some(&app.pk),
            None,
            START,
            json!({"p": "fake", "r": REDIRECT}),
        )
    };
    for _ in 0..3 {
        assert!(start().await["data"]["startOAuth"]["url"].is_string());
    }
    let refused = start().await;
    assert_eq!(error_code(&refused), Some("RATE_LIMITED"), "{refused}");
    assert!(
        refused["errors"][0]["extensions"]["retryAfter"]
            .as_u64()
            .unwrap()
            > 0
    );
    // The other doors share the bucket: 429 with Retry-After in their shapes.
    let doors = [
        app.rest(Method::POST, "/api/collections/users/auth-with-oauth2").json(
            &json!({"provider": "fake", "code": "c", "codeVerifier": "v", "redirectURL": REDIRECT}),
        ),
        app.rest(Method::POST, "/auth-collections/verify-google-login")
            .header("x-api-key", &app.pk)
            .json(&json!({"code": "c", "state": "s"})),
        app.rest(Method::POST, "/api/userAuth/social/exchange")
            .header("x-api-key", &app.pk)
            .json(&json!({"rtCode": "r", "token": "t"})),
    ];
    for req in doors {
        let res = req.reply().await;
        assert_eq!(res.status, 429, "{}", res.body);
        assert!(res.headers.contains_key("retry-after"));
    }
    // Password log-ins count in their own bucket.
    app.user("ann@example.com").await;
    let login = app.log_in("ann@example.com", "correct horse battery").await;
    assert!(login["data"]["logIn"]["token"].is_string(), "{login}");
}

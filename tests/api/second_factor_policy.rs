//! Second factors beyond the log-in itself: PocketBase MFA without a mail
//! server.
use authgraph::domain::apply;
use reqwest::Method;
use serde_json::json;

use crate::helpers::{ReplyExt, TestApp, error_code};
use crate::second_factors::{LOG_IN, PW, now_code, with_totp};

async fn apply_users(app: &TestApp, settings: &str) {
    let file =
        format!("[project]\nslug = 'default'\n[[collections]]\nname = 'users'\n{settings}\n");
    apply::apply_with(&app.services, &apply::parse(&file).unwrap())
        .await
        .unwrap();
    app.services.catalog.clear();
}

#[tokio::test]
async fn pocketbase_mfa_without_a_mail_server_refuses_a_lone_password() {
    // No SMTP: no one-time codes, so a user without an app has one method only.
    let app = TestApp::spawn().await;
    let (_, secret, _) = with_totp(&app, "ann@example.com").await;
    let created = app
        .rest(Method::POST, "/api/collections/users/records")
        .json(&json!({"email": "pat@example.com", "password": PW, "passwordConfirm": PW}))
        .reply()
        .await;
    assert_eq!(created.status, 200, "{}", created.body);
    apply_users(&app, "mfa = true").await;

    let pb = app
        .rest(Method::POST, "/api/collections/users/auth-with-password")
        .json(&json!({"identity": "pat@example.com", "password": PW}))
        .reply()
        .await;
    assert_eq!(pb.status, 403, "{}", pb.body);
    assert!(pb.body.get("token").is_none() && pb.body.get("mfaId").is_none());
    let msg = pb.body["message"].as_str().unwrap();
    assert!(
        msg.contains("MFA") && msg.contains("AUTHGRAPH_SMTP_URL"),
        "{msg}"
    );
    let gql = app
        .gql(
            Some(&app.pk),
            None,
            LOG_IN,
            json!({"i": {"email": "pat@example.com", "password": PW}}),
        )
        .await;
    assert_eq!(error_code(&gql), Some("FORBIDDEN"), "{gql}");
    // A sign-up that could never log in is refused before the account exists.
    let signup = app.sign_up("sam@example.com", PW, json!({})).await;
    assert_eq!(error_code(&signup), Some("FORBIDDEN"), "{signup}");
    let sam = app.log_in("sam@example.com", PW).await;
    assert_eq!(error_code(&sam), Some("INVALID_CREDENTIALS"), "{sam}");
    // A wrong password is still just wrong (nothing is told before the first factor).
    let bad = app
        .rest(Method::POST, "/api/collections/users/auth-with-password")
        .json(&json!({"identity": "pat@example.com", "password": "wrong password!"}))
        .reply()
        .await;
    assert_eq!(bad.status, 400, "{}", bad.body);

    // A user with an app has a second method: a challenge, then tokens.
    let ann = app
        .rest(Method::POST, "/api/collections/users/auth-with-password")
        .json(&json!({"identity": "ann@example.com", "password": PW}))
        .reply()
        .await;
    assert_eq!(ann.status, 401, "{}", ann.body);
    let done = app
        .rest(Method::POST, "/api/collections/users/auth-with-totp")
        .json(&json!({"mfaId": ann.body["mfaId"], "code": now_code(&secret, 1)}))
        .reply()
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body["token"].is_string());
}

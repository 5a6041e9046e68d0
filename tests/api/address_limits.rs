//! Limits per client address and per account on token refresh, password
//! change, mailed-code requests and second-factor / one-time-code
//! verification: one rule in the domain, refused in each door's 429 shape.
//! Small limits with long windows, so nothing depends on timing.
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{ReplyExt, TestApp, error_code, mail};
use crate::second_factor_policy::challenge_id;
use crate::second_factors::{VERIFY, gql_log_in, now_code, with_totp};

const PW: &str = "correct horse battery";

/// PocketBase's, urBackend's and Cocobase's documented 429 bodies.
fn assert_pb_429(reply: &crate::helpers::Reply) {
    assert_eq!(reply.status, 429, "{:?}", reply.body);
    assert_eq!(
        reply.body,
        json!({"status": 429, "message": "Too Many Requests.", "data": {}})
    );
    assert!(reply.headers.contains_key("retry-after"));
}

fn assert_ub_429(reply: &crate::helpers::Reply) {
    assert_eq!(reply.status, 429, "{:?}", reply.body);
    assert_eq!(reply.body["success"], false);
    assert_eq!(reply.body["code"], 429);
    assert!(reply.headers.contains_key("retry-after"));
}

fn assert_coco_429(reply: &crate::helpers::Reply) {
    assert_eq!(reply.status, 429, "{:?}", reply.body);
    assert!(reply.body["detail"].as_str().unwrap().contains("try again"));
    assert!(reply.headers.contains_key("retry-after"));
}

fn assert_gql_limited(res: &Value) {
    assert_eq!(error_code(res), Some("RATE_LIMITED"), "{res}");
    let wait = res["errors"][0]["extensions"]["retryAfter"].as_u64();
    assert!(wait.is_some_and(|w| w >= 1), "{res}");
}

/// A fresh account's refresh token.
async fn refresh_token_of(app: &TestApp, email: &str) -> String {
    app.user(email).await;
    let q = "mutation($i: LogInInput!) { logIn(input: $i) { refreshToken } }";
    let res = app
        .gql(
            Some(&app.pk),
            None,
            q,
            json!({"i": {"email": email, "password": PW}}),
        )
        .await;
    res["data"]["logIn"]["refreshToken"]
        .as_str()
        .unwrap()
        .to_owned()
}

const REFRESH: &str = "mutation($t: String!) { refreshToken(refreshToken: $t) { refreshToken } }";

#[tokio::test]
async fn token_refreshes_from_one_address_are_limited_across_accounts_and_doors() {
    let app = TestApp::spawn_custom(None, |c| c.refresh_limit_per_ip = 2).await;
    for email in ["a@example.com", "b@example.com"] {
        let rt = refresh_token_of(&app, email).await;
        let res = app.gql(None, None, REFRESH, json!({"t": rt})).await;
        assert!(
            res["data"]["refreshToken"]["refreshToken"].is_string(),
            "{res}"
        );
    }
    // A third account from the same address: refused, before the token is used.
    let rt = refresh_token_of(&app, "c@example.com").await;
    assert_gql_limited(&app.gql(None, None, REFRESH, json!({"t": rt.clone()})).await);
    let ub = app
        .rest_with_key(Method::POST, "/api/userAuth/refresh-token")
        .header("x-refresh-token", &rt)
        .reply()
        .await;
    assert_ub_429(&ub);
}

#[tokio::test]
async fn password_changes_from_one_address_are_limited_across_accounts_and_doors() {
    let app = TestApp::spawn_custom(None, |c| c.password_change_limit_per_ip = 2).await;
    let q = "mutation($i: ChangePasswordInput!) { changePassword(input: $i) { token } }";
    let wrong =
        json!({"i": {"currentPassword": "a wrong guess", "newPassword": "a new passphrase"}});
    for email in ["a@example.com", "b@example.com"] {
        let (token, _) = app.user(email).await;
        let res = app.gql(None, Some(&token), q, wrong.clone()).await;
        assert_eq!(error_code(&res), Some("INVALID_CREDENTIALS"), "{res}");
    }
    // Another account, the right password: the address has used its slots.
    let (token, _) = app.user("c@example.com").await;
    let right = json!({"i": {"currentPassword": PW, "newPassword": "a new passphrase"}});
    assert_gql_limited(&app.gql(None, Some(&token), q, right).await);
    let ub = app
        .rest_with_key(Method::PUT, "/api/userAuth/change-password")
        .bearer_auth(&token)
        .json(&json!({"currentPassword": PW, "newPassword": "a new passphrase"}))
        .reply()
        .await;
    assert_ub_429(&ub);
    let coco = app
        .rest_with_key(Method::POST, "/auth-collections/change-password")
        .bearer_auth(&token)
        .json(&json!({"current_password": PW, "new_password": "a new passphrase"}))
        .reply()
        .await;
    assert_coco_429(&coco);
    // The password did not change.
    assert!(app.log_in("c@example.com", PW).await["data"]["logIn"]["token"].is_string());
}

#[tokio::test]
async fn mailed_code_requests_from_one_address_are_limited_in_every_door() {
    let app = TestApp::spawn_mailing(|c| c.mail_code_limit_per_ip = 2).await;
    app.user("ann@example.com").await;
    let reset = "mutation($e: String!) { requestPasswordReset(email: $e) }";
    // Known and unknown emails count alike.
    for email in ["ann@example.com", "nobody@example.com"] {
        let res = app
            .gql(Some(&app.pk), None, reset, json!({"e": email}))
            .await;
        assert_eq!(res["data"]["requestPasswordReset"], true, "{res}");
    }
    assert_gql_limited(
        &app.gql(Some(&app.pk), None, reset, json!({"e": "ann@example.com"}))
            .await,
    );
    let body = json!({"email": "ann@example.com"});
    let pb = app
        .rest(
            Method::POST,
            "/api/collections/users/request-password-reset",
        )
        .json(&body)
        .reply()
        .await;
    assert_pb_429(&pb);
    let otp = app
        .rest(Method::POST, "/api/collections/users/request-otp")
        .json(&body)
        .reply()
        .await;
    assert_pb_429(&otp);
    let ub = app
        .rest_with_key(Method::POST, "/api/userAuth/request-password-reset")
        .json(&body)
        .reply()
        .await;
    assert_ub_429(&ub);
    let coco = app
        .rest_with_key(Method::POST, "/auth-collections/forgot-password")
        .json(&body)
        .reply()
        .await;
    assert_coco_429(&coco);
}

#[tokio::test]
async fn an_accounts_email_change_requests_are_limited_and_it_is_told() {
    let app = TestApp::spawn_mailing(|c| c.mail_code_limit_per_account = 1).await;
    let (token, _) = app.user("ann@example.com").await;
    let q = "mutation($e: String!) { requestEmailChange(newEmail: $e) }";
    let res = app
        .gql(None, Some(&token), q, json!({"e": "new@example.com"}))
        .await;
    assert_eq!(res["data"]["requestEmailChange"], true, "{res}");
    assert_gql_limited(
        &app.gql(None, Some(&token), q, json!({"e": "other@example.com"}))
            .await,
    );
    let pb = app
        .rest(Method::POST, "/api/collections/users/request-email-change")
        .bearer_auth(&token)
        .json(&json!({"newEmail": "third@example.com"}))
        .reply()
        .await;
    assert_pb_429(&pb);
    // Another account is not affected.
    let (other, _) = app.user("bob@example.com").await;
    let res = app
        .gql(None, Some(&other), q, json!({"e": "bob2@example.com"}))
        .await;
    assert_eq!(res["data"]["requestEmailChange"], true, "{res}");
}

/// A challenge's answer (`code` or `r`, a recovery code) through GraphQL.
async fn answer(app: &TestApp, args: Value) -> Value {
    app.gql(Some(&app.pk), None, VERIFY, args).await
}

/// A new log-in's challenge id for an account with an authenticator app.
async fn challenge(app: &TestApp, email: &str) -> String {
    challenge_id(&gql_log_in(app, email).await)
}

#[tokio::test]
async fn second_factor_answers_are_limited_per_account_the_right_code_included() {
    let app = TestApp::spawn_custom(None, |c| c.mfa_limit_per_account = 3).await;
    let (_, secret, recovery) = with_totp(&app, "ann@example.com").await;
    let id = challenge(&app, "ann@example.com").await;
    let wrong = answer(&app, json!({"c": id, "code": "000000"})).await;
    assert_eq!(error_code(&wrong), Some("INVALID_SECOND_FACTOR"), "{wrong}");
    let wrong = answer(&app, json!({"c": id, "r": "not-a-recovery-code"})).await;
    assert_eq!(error_code(&wrong), Some("INVALID_SECOND_FACTOR"), "{wrong}");
    // A new challenge does not reset the account's count.
    let id = challenge(&app, "ann@example.com").await;
    let wrong = answer(&app, json!({"c": id, "code": "111111"})).await;
    assert_eq!(error_code(&wrong), Some("INVALID_SECOND_FACTOR"), "{wrong}");
    let right = json!({"c": id, "code": now_code(&secret, 0)});
    assert_gql_limited(&answer(&app, right).await);
    let recovered = json!({"c": id, "r": recovery[0]});
    assert_gql_limited(&answer(&app, recovered).await);
    // Cocobase's door answers by email, with the same rule.
    let coco = app
        .rest_with_key(Method::POST, "/auth-collections/2fa/verify")
        .json(&json!({"email": "ann@example.com", "code": now_code(&secret, 0)}))
        .reply()
        .await;
    assert_coco_429(&coco);
}

#[tokio::test]
async fn mailed_sign_in_codes_are_limited_per_account_and_made_up_ids_alike() {
    let app = TestApp::spawn_mailing(|c| c.mfa_limit_per_account = 2).await;
    app.user("ann@example.com").await;
    let otp = app
        .rest(Method::POST, "/api/collections/users/request-otp")
        .json(&json!({"email": "ann@example.com"}))
        .reply()
        .await;
    let real = otp.body["otpId"].as_str().unwrap().to_owned();
    let mail = mail(&app, 1).await;
    let code = crate::second_factors::code_in(&mail.body);
    // An id that names no code: refused alike after as many tries.
    for otp_id in [real.as_str(), "madeupid0000000"] {
        for _ in 0..2 {
            let pb = app
                .rest(Method::POST, "/api/collections/users/auth-with-otp")
                .json(&json!({"otpId": otp_id, "password": "999999"}))
                .reply()
                .await;
            assert!(matches!(pb.status, 400 | 401), "{:?}", pb.body);
        }
        let pb = app
            .rest(Method::POST, "/api/collections/users/auth-with-otp")
            .json(&json!({"otpId": otp_id, "password": code}))
            .reply()
            .await;
        assert_pb_429(&pb);
    }
    let q = "mutation($i: String!, $c: String!) { logInWithCode(codeId: $i, code: $c) { token } }";
    assert_gql_limited(
        &app.gql(Some(&app.pk), None, q, json!({"i": real, "c": code}))
            .await,
    );
}

#[tokio::test]
async fn second_factor_answers_from_one_address_are_limited_across_accounts() {
    let app = TestApp::spawn_custom(None, |c| c.mfa_limit_per_ip = 2).await;
    for email in ["a@example.com", "b@example.com"] {
        with_totp(&app, email).await;
        let id = challenge(&app, email).await;
        let res = answer(&app, json!({"c": id, "code": "000000"})).await;
        assert_eq!(error_code(&res), Some("INVALID_SECOND_FACTOR"), "{res}");
    }
    let (_, secret, _) = with_totp(&app, "c@example.com").await;
    let id = challenge(&app, "c@example.com").await;
    let right = json!({"c": id, "code": now_code(&secret, 0)});
    assert_gql_limited(&answer(&app, right).await);
}

//! urBackend's documented REST URLs: `/api/userAuth/*`, errors
//! `{success:false, error, code}`, rotating refresh tokens in the
//! `refreshToken` cookie or the `x-refresh-token` header.
use std::time::Duration;

use authgraph::domain::projects;
use reqwest::{Method, RequestBuilder};
use serde_json::{Value, json};

use crate::helpers::{Reply, ReplyExt, TestApp, keys};

const PW: &str = "correct horse battery";
const NEW_PW: &str = "a brand new password";
const AUTH: &str = "/api/userAuth";

/// A request carrying the publishable key, as every SDK call does.
pub(crate) fn ub(app: &TestApp, method: Method, path: &str) -> RequestBuilder {
    app.rest(method, &format!("{AUTH}/{path}"))
        .header("x-api-key", &app.pk)
}

async fn signup(app: &TestApp, body: Value) -> Reply {
    ub(app, Method::POST, "signup").json(&body).reply().await
}

async fn login(app: &TestApp, email: &str, password: &str) -> Reply {
    ub(app, Method::POST, "login")
        .json(&json!({"email": email, "password": password}))
        .reply()
        .await
}

/// Logs in: (access token, refresh token from the cookie).
pub(crate) async fn session(app: &TestApp, email: &str, password: &str) -> (String, String) {
    let res = login(app, email, password).await;
    assert_eq!(res.status, 200, "{}", res.body);
    (
        res.body["accessToken"].as_str().unwrap().to_owned(),
        cookie(&res).value,
    )
}

async fn me(app: &TestApp, token: &str) -> Reply {
    ub(app, Method::GET, "me").bearer_auth(token).reply().await
}

async fn refresh_by_cookie(app: &TestApp, rt: &str) -> Reply {
    ub(app, Method::POST, "refresh-token")
        .header("cookie", format!("refreshToken={rt}"))
        .reply()
        .await
}

async fn refresh_by_header(app: &TestApp, rt: &str) -> Reply {
    ub(app, Method::POST, "refresh-token")
        .header("x-refresh-token", rt)
        .header("x-refresh-token-mode", "header")
        .reply()
        .await
}

/// urBackend's error body with its status; returns the message.
fn ub_error(res: &Reply, status: u16) -> &str {
    assert_eq!(res.status, status, "{}", res.body);
    assert_eq!(
        keys(&res.body),
        ["code", "error", "success"],
        "{}",
        res.body
    );
    assert_eq!(res.body["success"], false);
    assert_eq!(res.body["code"], status);
    let msg = res.body["error"].as_str().unwrap();
    assert!(!msg.is_empty());
    msg
}

/// The one `Set-Cookie` of a reply, which must be `refreshToken`.
struct Cookie {
    value: String,
    /// Attributes as sent (`Max-Age=…`, `HttpOnly`, …).
    attrs: Vec<String>,
}

impl Cookie {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.iter().find_map(|a| {
            let (k, v) = a.split_once('=').unwrap_or((a, ""));
            k.eq_ignore_ascii_case(name).then_some(v)
        })
    }
}

fn cookie(res: &Reply) -> Cookie {
    let all = res.set_cookies();
    assert_eq!(all.len(), 1, "{all:?}");
    let mut parts = all[0].split(';').map(str::trim);
    let (name, value) = parts.next().unwrap().split_once('=').unwrap();
    assert_eq!(name, "refreshToken", "{}", all[0]);
    Cookie {
        value: value.to_owned(),
        attrs: parts.map(str::to_owned).collect(),
    }
}

/// HttpOnly, SameSite=Lax, the route family's path, Secure as asked.
fn assert_cookie_attrs(c: &Cookie, path: &str, secure: bool) {
    assert_eq!(c.attr("HttpOnly"), Some(""), "{:?}", c.attrs);
    assert_eq!(c.attr("SameSite"), Some("Lax"), "{:?}", c.attrs);
    assert_eq!(c.attr("Path"), Some(path), "{:?}", c.attrs);
    assert_eq!(c.attr("Secure").is_some(), secure, "{:?}", c.attrs);
}

#[tokio::test]
async fn signup_answers_201_with_tokens_and_an_http_only_refresh_cookie() {
    let app = TestApp::spawn().await;
    let res = signup(
        &app,
        json!({"email": "dev@example.com", "password": PW, "username": "dev_pulse", "preferences": {"theme": "dark"}}),
    )
    .await;
    assert_eq!(res.status, 201, "{}", res.body);
    assert_eq!(
        keys(&res.body),
        ["accessToken", "expiresIn", "message", "token", "userId"]
    );
    assert_eq!(res.body["expiresIn"], "15m");
    assert_eq!(res.body["token"], res.body["accessToken"]);
    assert!(!res.body["message"].as_str().unwrap().is_empty());

    // Not Secure on plain http, or `requests` would never send it back.
    let c = cookie(&res);
    assert!(!c.value.is_empty());
    assert_cookie_attrs(&c, "/api/userAuth", false);
    assert_eq!(c.attr("Max-Age"), Some("604800"), "seven days");

    // The token works and the extra signup fields were kept, flat.
    let me = me(&app, res.body["accessToken"].as_str().unwrap()).await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.body["_id"], res.body["userId"]);
    assert_eq!(me.body["username"], "dev_pulse");
    assert_eq!(me.body["preferences"], json!({"theme": "dark"}));
    // And the cookie refreshes.
    assert_eq!(refresh_by_cookie(&app, &c.value).await.status, 200);
}

#[tokio::test]
async fn the_cookie_is_secure_behind_https_and_header_mode_puts_the_refresh_token_in_the_body() {
    let app = TestApp::spawn().await;
    let https = ub(&app, Method::POST, "signup")
        .header("x-forwarded-proto", "https")
        .json(&json!({"email": "a@example.com", "password": PW}))
        .reply()
        .await;
    assert_eq!(https.status, 201, "{}", https.body);
    assert_cookie_attrs(&cookie(&https), "/api/userAuth", true);
    assert!(https.body.get("refreshToken").is_none());

    let header_mode = ub(&app, Method::POST, "signup")
        .header("x-refresh-token-mode", "header")
        .json(&json!({"email": "b@example.com", "password": PW}))
        .reply()
        .await;
    assert_eq!(header_mode.status, 201, "{}", header_mode.body);
    assert_eq!(
        keys(&header_mode.body),
        [
            "accessToken",
            "expiresIn",
            "message",
            "refreshToken",
            "token",
            "userId"
        ]
    );
    assert_eq!(header_mode.body["refreshToken"], cookie(&header_mode).value);

    let login = ub(&app, Method::POST, "login")
        .header("x-refresh-token-mode", "header")
        .json(&json!({"email": "b@example.com", "password": PW}))
        .reply()
        .await;
    assert_eq!(login.status, 200, "{}", login.body);
    assert_eq!(
        keys(&login.body),
        ["accessToken", "expiresIn", "refreshToken", "token"]
    );
    assert_eq!(login.body["refreshToken"], cookie(&login).value);
    assert_ne!(login.body["refreshToken"], header_mode.body["refreshToken"]);
}

#[tokio::test]
async fn login_answers_tokens_and_a_cookie_and_bad_credentials_are_400() {
    let app = TestApp::spawn().await;
    let created = signup(&app, json!({"email": "dev@example.com", "password": PW})).await;
    let res = login(&app, "DEV@example.com", PW).await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(keys(&res.body), ["accessToken", "expiresIn", "token"]);
    assert_eq!(res.body["expiresIn"], "15m");
    assert_eq!(res.body["token"], res.body["accessToken"]);
    assert_cookie_attrs(&cookie(&res), "/api/userAuth", false);
    let me = me(&app, res.body["accessToken"].as_str().unwrap()).await;
    assert_eq!(me.body["_id"], created.body["userId"]);

    let failed = json!({"success": false, "error": "Invalid email or password", "code": 400});
    for (email, pw) in [
        ("dev@example.com", "not the password"),
        ("nobody@example.com", PW),
    ] {
        let res = login(&app, email, pw).await;
        assert_eq!(res.status, 400, "{}", res.body);
        assert_eq!(res.body, failed);
        assert!(res.set_cookies().is_empty());
    }

    let dup = signup(&app, json!({"email": "Dev@Example.com", "password": PW})).await;
    ub_error(&dup, 400);
    for body in [
        json!({"email": "not-an-email", "password": PW}),
        json!({"email": "x@example.com", "password": "short"}),
        json!({"email": "x@example.com"}),
    ] {
        let res = signup(&app, body.clone()).await;
        ub_error(&res, 400);
        assert!(res.set_cookies().is_empty(), "{body}");
    }
    assert_eq!(login(&app, "x@example.com", PW).await.status, 400);
}

#[tokio::test]
async fn every_call_needs_the_project_key() {
    let app = TestApp::spawn().await;
    let created = signup(&app, json!({"email": "dev@example.com", "password": PW})).await;
    let token = created.body["accessToken"].as_str().unwrap();
    let keyless = [
        app.rest(Method::POST, &format!("{AUTH}/signup"))
            .json(&json!({"email": "x@example.com", "password": PW})),
        app.rest(Method::POST, &format!("{AUTH}/login"))
            .json(&json!({"email": "dev@example.com", "password": PW})),
        app.rest(Method::GET, &format!("{AUTH}/me"))
            .bearer_auth(token),
    ];
    for req in keyless {
        let res = req.reply().await;
        ub_error(&res, 401);
    }
    let bad_key = app
        .rest(Method::POST, &format!("{AUTH}/login"))
        .header("x-api-key", "pk_live_not_a_real_key")
        .json(&json!({"email": "dev@example.com", "password": PW}))
        .reply()
        .await;
    ub_error(&bad_key, 401);
    assert_eq!(
        login(&app, "x@example.com", PW).await.status,
        400,
        "not created"
    );
}

#[tokio::test]
async fn me_shows_the_flat_document_without_secrets() {
    let app = TestApp::spawn().await;
    let created = signup(
        &app,
        json!({"email": "dev@example.com", "password": PW, "username": "dev", "age": 30}),
    )
    .await;
    let token = created.body["accessToken"].as_str().unwrap();
    let res = me(&app, token).await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(
        keys(&res.body),
        [
            "_id",
            "age",
            "createdAt",
            "email",
            "isVerified",
            "updatedAt",
            "username"
        ]
    );
    assert_eq!(res.body["_id"], created.body["userId"]);
    assert_eq!(res.body["email"], "dev@example.com");
    assert_eq!(
        (&res.body["username"], &res.body["age"]),
        (&json!("dev"), &json!(30))
    );
    assert_eq!(res.body["isVerified"], false);
    for k in ["createdAt", "updatedAt"] {
        chrono::DateTime::parse_from_rfc3339(res.body[k].as_str().unwrap()).unwrap();
    }

    let anon = ub(&app, Method::GET, "me").reply().await;
    ub_error(&anon, 401);
    let garbage = me(&app, "not.a.token").await;
    ub_error(&garbage, 401);
}

#[tokio::test]
async fn update_profile_changes_profile_fields_and_ignores_account_keys() {
    let app = TestApp::spawn().await;
    let created = signup(
        &app,
        json!({"email": "dev@example.com", "password": PW, "username": "dev", "preferences": {"theme": "dark"}}),
    )
    .await;
    let token = created.body["accessToken"].as_str().unwrap();
    let res = ub(&app, Method::PUT, "update-profile")
        .bearer_auth(token)
        .json(&json!({
            "username": "new_name",
            "preferences": {"theme": "light"},
            "email": "evil@example.com",
            "password": "hacked password",
            "_id": "zzzzzzzzzzzzzzz",
            "isVerified": true,
            "data": {"x": 1},
        }))
        .reply()
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.body, json!({"message": "Profile updated successfully"}));

    let doc = me(&app, token).await.body;
    assert_eq!(doc["_id"], created.body["userId"]);
    assert_eq!(doc["email"], "dev@example.com");
    assert_eq!(doc["isVerified"], false);
    assert_eq!(doc["username"], "new_name");
    assert_eq!(doc["preferences"], json!({"theme": "light"}));
    assert!(doc.get("data").is_none(), "{doc}");
    assert_eq!(login(&app, "dev@example.com", PW).await.status, 200);
    assert_eq!(
        login(&app, "dev@example.com", "hacked password")
            .await
            .status,
        400
    );
    assert_eq!(
        login(&app, "evil@example.com", "hacked password")
            .await
            .status,
        400
    );

    let anon = ub(&app, Method::PUT, "update-profile")
        .json(&json!({"username": "x"}))
        .reply()
        .await;
    ub_error(&anon, 401);
}

#[tokio::test]
async fn change_password_checks_the_current_one_and_ends_other_sessions() {
    let app = TestApp::spawn().await;
    let created = signup(&app, json!({"email": "dev@example.com", "password": PW})).await;
    let token = created.body["accessToken"].as_str().unwrap().to_owned();
    let own_rt = cookie(&created).value;
    let (other_token, other_rt) = session(&app, "dev@example.com", PW).await;
    let change = |body: Value| {
        ub(&app, Method::PUT, "change-password")
            .bearer_auth(&token)
            .json(&body)
            .reply()
    };

    let wrong = change(json!({"currentPassword": "not the password", "newPassword": NEW_PW})).await;
    assert_eq!(wrong.status, 400, "{}", wrong.body);
    assert_eq!(
        wrong.body,
        json!({"success": false, "error": "Invalid email or password", "code": 400})
    );
    let missing = change(json!({"currentPassword": PW})).await;
    assert!(
        ub_error(&missing, 400).contains("newPassword"),
        "{}",
        missing.body
    );
    let weak = change(json!({"currentPassword": PW, "newPassword": "short"})).await;
    ub_error(&weak, 400);
    assert_eq!(
        me(&app, &other_token).await.status,
        200,
        "nothing changed yet"
    );

    let ok = change(json!({"currentPassword": PW, "newPassword": NEW_PW})).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.body, json!({"message": "Password changed successfully"}));

    // This session goes on; every other one ends.
    assert_eq!(me(&app, &token).await.status, 200);
    assert_eq!(refresh_by_cookie(&app, &own_rt).await.status, 200);
    ub_error(&me(&app, &other_token).await, 401);
    ub_error(&refresh_by_cookie(&app, &other_rt).await, 401);
    assert_eq!(login(&app, "dev@example.com", PW).await.status, 400);
    assert_eq!(login(&app, "dev@example.com", NEW_PW).await.status, 200);
}

#[tokio::test]
async fn a_public_profile_shows_no_email_and_no_secret_looking_keys() {
    let app = TestApp::spawn().await;
    let created = signup(
        &app,
        json!({
            "email": "dev@example.com",
            "password": PW,
            "username": "dev_pulse",
            "bio": "hello",
            "preferences": {"theme": "dark"},
            "apiSecret": "s3cr3t",
            "resetOtp": "123456",
            "sessionNote": "x",
            "backupEmail": "b@example.com",
            "pushToken": "t",
        }),
    )
    .await;
    // No user token needed, only the key.
    let res = ub(&app, Method::GET, "public/dev_pulse").reply().await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(
        keys(&res.body),
        [
            "_id",
            "bio",
            "createdAt",
            "preferences",
            "updatedAt",
            "username"
        ]
    );
    assert_eq!(res.body["_id"], created.body["userId"]);
    assert_eq!(res.body["username"], "dev_pulse");

    let missing = ub(&app, Method::GET, "public/nobody").reply().await;
    assert_eq!(missing.status, 404, "{}", missing.body);
    assert_eq!(
        missing.body,
        json!({"success": false, "error": "User not found", "code": 404})
    );
    let keyless = app
        .rest(Method::GET, &format!("{AUTH}/public/dev_pulse"))
        .reply()
        .await;
    ub_error(&keyless, 401);
}

#[tokio::test]
async fn refresh_rotates_through_the_cookie_or_the_header_and_prefers_the_cookie() {
    let app = TestApp::spawn().await;
    let created = signup(&app, json!({"email": "dev@example.com", "password": PW})).await;
    let rt0 = cookie(&created).value;

    // Cookie mode: new tokens in the body, the rotated token only in the cookie.
    let r1 = refresh_by_cookie(&app, &rt0).await;
    assert_eq!(r1.status, 200, "{}", r1.body);
    assert_eq!(keys(&r1.body), ["accessToken", "expiresIn", "token"]);
    assert_eq!(r1.body["expiresIn"], "15m");
    let c1 = cookie(&r1);
    assert_cookie_attrs(&c1, "/api/userAuth", false);
    assert_ne!(c1.value, rt0);
    let me1 = me(&app, r1.body["accessToken"].as_str().unwrap()).await;
    assert_eq!(me1.body["_id"], created.body["userId"]);

    // Header mode: the rotated token comes back in the body too.
    let r2 = refresh_by_header(&app, &c1.value).await;
    assert_eq!(r2.status, 200, "{}", r2.body);
    assert_eq!(
        keys(&r2.body),
        ["accessToken", "expiresIn", "refreshToken", "token"]
    );
    let rt2 = r2.body["refreshToken"].as_str().unwrap().to_owned();
    assert_eq!(rt2, cookie(&r2).value);
    assert_ne!(rt2, c1.value);

    // The cookie is read first: a junk header beside a good cookie is ignored.
    let both = ub(&app, Method::POST, "refresh-token")
        .header("cookie", format!("theme=dark; refreshToken={rt2}"))
        .header("x-refresh-token", "junk")
        .reply()
        .await;
    assert_eq!(both.status, 200, "{}", both.body);

    let none = ub(&app, Method::POST, "refresh-token").reply().await;
    ub_error(&none, 401);
    ub_error(&refresh_by_header(&app, "junk").await, 401);
    ub_error(&refresh_by_cookie(&app, "junk").await, 401);
}

#[tokio::test]
async fn a_replayed_refresh_token_gets_the_same_successor_in_the_grace_window_then_403() {
    let app = TestApp::spawn().await;
    let created = signup(&app, json!({"email": "dev@example.com", "password": PW})).await;
    let rt0 = cookie(&created).value;
    let first = refresh_by_header(&app, &rt0).await;
    assert_eq!(first.status, 200, "{}", first.body);
    let rt1 = first.body["refreshToken"].as_str().unwrap().to_owned();
    let access = first.body["accessToken"].as_str().unwrap().to_owned();

    // Within the 2 s grace window a replay (a racing tab) gets the same successor.
    let replay = refresh_by_header(&app, &rt0).await;
    assert_eq!(replay.status, 200, "{}", replay.body);
    assert_eq!(replay.body["refreshToken"], rt1);

    tokio::time::sleep(Duration::from_millis(2500)).await;
    let late = refresh_by_cookie(&app, &rt0).await;
    ub_error(&late, 403);
    // Reuse revokes the whole chain: the successor and its access token die too.
    ub_error(&refresh_by_header(&app, &rt1).await, 403);
    ub_error(&me(&app, &access).await, 401);
    // A fresh log-in still works.
    assert_eq!(login(&app, "dev@example.com", PW).await.status, 200);
}

#[tokio::test]
async fn logout_revokes_the_session_and_clears_the_cookie() {
    let app = TestApp::spawn().await;
    signup(&app, json!({"email": "dev@example.com", "password": PW})).await;
    let (token, rt) = session(&app, "dev@example.com", PW).await;
    let (other_token, _) = session(&app, "dev@example.com", PW).await;

    let res = ub(&app, Method::POST, "logout")
        .bearer_auth(&token)
        .header("cookie", format!("refreshToken={rt}"))
        .reply()
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(keys(&res.body), ["message", "success"]);
    assert_eq!(res.body["success"], true);
    let cleared = cookie(&res);
    assert_eq!(cleared.value, "");
    assert_eq!(cleared.attr("Max-Age"), Some("0"));
    assert_cookie_attrs(&cleared, "/api/userAuth", false);

    ub_error(&me(&app, &token).await, 401);
    ub_error(&refresh_by_cookie(&app, &rt).await, 401);
    // Only that session ended.
    assert_eq!(me(&app, &other_token).await.status, 200);

    // The SDK's cookie-only logout ends the cookie's session.
    let (token2, rt2) = session(&app, "dev@example.com", PW).await;
    let res = ub(&app, Method::POST, "logout")
        .header("cookie", format!("refreshToken={rt2}"))
        .reply()
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    ub_error(&refresh_by_cookie(&app, &rt2).await, 401);
    ub_error(&me(&app, &token2).await, 401);

    let nothing = ub(&app, Method::POST, "logout").reply().await;
    ub_error(&nothing, 401);
}

#[tokio::test]
async fn under_a_project_prefix_the_cookie_path_keeps_the_prefix_and_other_keys_are_refused() {
    let app = TestApp::spawn().await;
    signup(
        &app,
        json!({"email": "dev@example.com", "password": PW, "username": "dev"}),
    )
    .await;
    let res = app
        .rest(Method::POST, "/p/default/api/userAuth/login")
        .header("x-api-key", &app.pk)
        .json(&json!({"email": "dev@example.com", "password": PW}))
        .reply()
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let c = cookie(&res);
    assert_cookie_attrs(&c, "/p/default/api/userAuth", false);
    let refreshed = app
        .rest(Method::POST, "/p/default/api/userAuth/refresh-token")
        .header("x-api-key", &app.pk)
        .header("cookie", format!("refreshToken={}", c.value))
        .reply()
        .await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    assert_cookie_attrs(&cookie(&refreshed), "/p/default/api/userAuth", false);

    let public = app
        .rest(Method::GET, "/p/default/api/userAuth/public/dev")
        .header("x-api-key", &app.pk)
        .reply()
        .await;
    assert_eq!(public.status, 200, "{}", public.body);
    assert_eq!(public.body["username"], "dev");

    let b = projects::create(&app.services.db, "B", None).await.unwrap();
    let foreign = app
        .rest(Method::POST, "/p/default/api/userAuth/login")
        .header("x-api-key", &b.publishable_key)
        .json(&json!({"email": "dev@example.com", "password": PW}))
        .reply()
        .await;
    ub_error(&foreign, 403);
    // B's key on B's own URL does not know project A's user.
    let in_b = app
        .rest(
            Method::POST,
            &format!("/p/{}/api/userAuth/login", b.project.slug),
        )
        .header("x-api-key", &b.publishable_key)
        .json(&json!({"email": "dev@example.com", "password": PW}))
        .reply()
        .await;
    ub_error(&in_b, 400);
    // A refresh token of project A is refused with project B's key.
    let crossed = app
        .rest(Method::POST, &format!("{AUTH}/refresh-token"))
        .header("x-api-key", &b.publishable_key)
        .header(
            "cookie",
            format!("refreshToken={}", cookie(&refreshed).value),
        )
        .reply()
        .await;
    ub_error(&crossed, 401);
}

#[tokio::test]
async fn capabilities_this_server_lacks_answer_403_in_urbackend_shape() {
    let app = TestApp::spawn().await;
    let posts = [
        "request-password-reset",
        "reset-password",
        "verify-email",
        "resend-verification-otp",
    ];
    let reqs = posts.iter().map(|p| {
        (
            *p,
            ub(&app, Method::POST, p).json(&json!({"email": "a@example.com"})),
        )
    });
    for (path, req) in reqs {
        let res = req.reply().await;
        let msg = ub_error(&res, 403);
        assert!(msg.contains("not enabled"), "{path}: {msg}");
    }
}

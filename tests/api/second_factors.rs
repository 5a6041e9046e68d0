//! Second factors through every door: a user with one gets a challenge and
//! no token from any first factor, and tokens only after the second.

use authgraph::auth::totp;
use authgraph::domain::apply;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{ReplyExt, TestApp, error_code, mail};

pub(crate) const PW: &str = "correct horse battery";

pub(crate) async fn app() -> TestApp {
    TestApp::spawn_mailing(|_| {}).await
}

pub(crate) fn code_in(body: &str) -> String {
    let start = body.find("Your code: ").expect("a code") + "Your code: ".len();
    body[start..start + 6].to_owned()
}

pub(crate) fn unbase32(s: &str) -> Vec<u8> {
    const A: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let (mut buf, mut bits, mut out) = (0u32, 0u32, vec![]);
    for c in s.chars() {
        buf = (buf << 5) | A.find(c).unwrap() as u32;
        bits += 5;
        if bits >= 8 {
            out.push((buf >> (bits - 8)) as u8);
            bits -= 8;
        }
    }
    out
}

pub(crate) fn now_code(secret: &[u8], offset: i64) -> String {
    totp::code_at(
        secret,
        totp::step_of(chrono::Utc::now().timestamp()) + offset,
    )
}

pub(crate) const LOG_IN: &str = "mutation($i: LogInInput!) { logIn(input: $i) { token user { id } secondFactorRequired { challengeId methods expiresAt } } }";
pub(crate) const VERIFY: &str = "mutation($c: String!, $code: String, $r: String) { verifySecondFactor(challengeId: $c, code: $code, recoveryCode: $r) { token user { id } } }";

/// Signs up, enrols and confirms an app; (token, secret, recovery codes).
pub(crate) async fn with_totp(app: &TestApp, email: &str) -> (String, Vec<u8>, Vec<String>) {
    let (token, _) = app.user(email).await;
    let res = app
        .gql(
            None,
            Some(&token),
            "mutation { enrollTotp { secret uri qrCodeSvg } }",
            json!({}),
        )
        .await;
    let e = &res["data"]["enrollTotp"];
    assert!(
        e["uri"].as_str().unwrap().starts_with("otpauth://totp/"),
        "{res}"
    );
    assert!(e["qrCodeSvg"].as_str().unwrap().contains("<svg"));
    let secret = unbase32(e["secret"].as_str().unwrap());
    // Not active before it is confirmed.
    let me = app
        .gql(
            None,
            Some(&token),
            "{ me { secondFactors { totp } } }",
            json!({}),
        )
        .await;
    assert_eq!(me["data"]["me"]["secondFactors"]["totp"], false, "{me}");
    let wrong = app
        .gql(
            None,
            Some(&token),
            "mutation { confirmTotp(code: \"000000\") { recoveryCodes } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&wrong), Some("INVALID_SECOND_FACTOR"), "{wrong}");
    let res = app
        .gql(
            None,
            Some(&token),
            "mutation($c: String!) { confirmTotp(code: $c) { recoveryCodes } }",
            json!({"c": now_code(&secret, 0)}),
        )
        .await;
    let codes: Vec<String> =
        serde_json::from_value(res["data"]["confirmTotp"]["recoveryCodes"].clone()).unwrap();
    assert_eq!(codes.len(), 10, "{res}");
    (token, secret, codes)
}

pub(crate) async fn gql_log_in(app: &TestApp, email: &str) -> Value {
    let res = app
        .gql(
            Some(&app.pk),
            None,
            LOG_IN,
            json!({"i": {"email": email, "password": PW}}),
        )
        .await;
    res["data"]["logIn"].clone()
}

#[tokio::test]
async fn with_an_app_every_password_door_answers_a_challenge_and_no_token() {
    let app = app().await;
    let (_, secret, _) = with_totp(&app, "ann@example.com").await;

    let gql = gql_log_in(&app, "ann@example.com").await;
    assert_eq!(gql["token"], Value::Null, "{gql}");
    assert_eq!(gql["user"], Value::Null);
    let challenge = gql["secondFactorRequired"]["challengeId"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        gql["secondFactorRequired"]["methods"],
        json!(["totp", "recovery_code"])
    );

    let coco = app
        .rest(Method::POST, "/auth-collections/login")
        .header("x-api-key", &app.pk)
        .json(&json!({"email": "ann@example.com", "password": PW}))
        .reply()
        .await;
    assert_eq!(coco.status, 200, "{}", coco.body);
    assert_eq!(coco.body["requires_2fa"], true);
    assert!(coco.body.get("access_token").is_none(), "{}", coco.body);

    let pb = app
        .rest(Method::POST, "/api/collections/users/auth-with-password")
        .json(&json!({"identity": "ann@example.com", "password": PW}))
        .reply()
        .await;
    assert_eq!(pb.status, 401, "{}", pb.body);
    assert!(pb.body["mfaId"].is_string() && pb.body.get("token").is_none());

    let ub = app
        .rest(Method::POST, "/api/userAuth/login")
        .header("x-api-key", &app.pk)
        .json(&json!({"email": "ann@example.com", "password": PW}))
        .reply()
        .await;
    assert_eq!(ub.status, 401, "{}", ub.body);
    assert_eq!(ub.body["errorCode"], "SECOND_FACTOR_REQUIRED");
    assert!(ub.body.get("token").is_none() && ub.body.get("accessToken").is_none());
    assert!(ub.headers.get("set-cookie").is_none());

    // The urBackend challenge is completed through GraphQL (with the next
    // step's code: the current one was spent confirming the app).
    let code = now_code(&secret, 1);
    let ub_challenge = ub.body["challengeId"].as_str().unwrap();
    let done = app
        .gql(
            Some(&app.pk),
            None,
            VERIFY,
            json!({"c": ub_challenge, "code": code}),
        )
        .await;
    let token = done["data"]["verifySecondFactor"]["token"]
        .as_str()
        .unwrap();
    assert_eq!(
        app.me(token).await["data"]["me"]["email"],
        "ann@example.com"
    );

    // The same code is not accepted twice (no replay in its window).
    let replay = app
        .gql(
            Some(&app.pk),
            None,
            VERIFY,
            json!({"c": challenge, "code": code}),
        )
        .await;
    assert_eq!(
        error_code(&replay),
        Some("INVALID_SECOND_FACTOR"),
        "{replay}"
    );
    // A completed challenge is gone.
    let again = app
        .gql(
            Some(&app.pk),
            None,
            VERIFY,
            json!({"c": ub_challenge, "code": now_code(&secret, 0)}),
        )
        .await;
    assert_eq!(error_code(&again), Some("CHALLENGE_INVALID"), "{again}");
}

#[tokio::test]
async fn mailed_code_doors_also_answer_a_challenge_and_recovery_codes_work_once() {
    let app = app().await;
    let (_, _, recovery) = with_totp(&app, "ann@example.com").await;
    let req = "mutation($e: String!) { requestLoginCode(email: $e) }";
    let id = app
        .gql(Some(&app.pk), None, req, json!({"e": "ann@example.com"}))
        .await;
    let id = id["data"]["requestLoginCode"].as_str().unwrap().to_owned();
    let code = code_in(&mail(&app, 2).await.body);
    let res = app
        .gql(
            Some(&app.pk),
            None,
            "mutation($i: String!, $c: String!) { logInWithCode(codeId: $i, code: $c) { token secondFactorRequired { challengeId } } }",
            json!({"i": id, "c": code}),
        )
        .await;
    let out = &res["data"]["logInWithCode"];
    assert_eq!(out["token"], Value::Null, "{res}");
    let challenge = out["secondFactorRequired"]["challengeId"]
        .as_str()
        .unwrap()
        .to_owned();

    // PocketBase's OTP door too.
    let otp = app
        .rest(Method::POST, "/api/collections/users/request-otp")
        .json(&json!({"email": "ann@example.com"}))
        .reply()
        .await;
    let code = code_in(&mail(&app, 3).await.body);
    let pb = app
        .rest(Method::POST, "/api/collections/users/auth-with-otp")
        .json(&json!({"otpId": otp.body["otpId"], "password": code}))
        .reply()
        .await;
    assert_eq!(pb.status, 401, "{}", pb.body);
    assert!(pb.body.get("token").is_none());
    // Password after OTP does not complete it: the user's second factor is the app.
    let pw = app
        .rest(Method::POST, "/api/collections/users/auth-with-password")
        .json(&json!({"identity": "ann@example.com", "password": PW, "mfaId": pb.body["mfaId"]}))
        .reply()
        .await;
    assert_eq!(pw.status, 401, "{}", pw.body);
    assert!(pw.body.get("token").is_none());
    // A recovery code completes it (PocketBase extension), once.
    let rc = app
        .rest(Method::POST, "/api/collections/users/auth-with-totp")
        .json(&json!({"mfaId": pb.body["mfaId"], "recoveryCode": recovery[0].to_uppercase()}))
        .reply()
        .await;
    assert_eq!(rc.status, 200, "{}", rc.body);
    assert!(rc.body["token"].is_string());
    let reuse = app
        .gql(
            Some(&app.pk),
            None,
            VERIFY,
            json!({"c": challenge, "r": recovery[0]}),
        )
        .await;
    assert_eq!(error_code(&reuse), Some("INVALID_SECOND_FACTOR"), "{reuse}");
    let ok = app
        .gql(
            Some(&app.pk),
            None,
            VERIFY,
            json!({"c": challenge, "r": recovery[1]}),
        )
        .await;
    let token = ok["data"]["verifySecondFactor"]["token"].as_str().unwrap();
    let me = app
        .gql(
            None,
            Some(token),
            "{ me { secondFactors { totp recoveryCodesLeft } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        me["data"]["me"]["secondFactors"],
        json!({"totp": true, "recoveryCodesLeft": 8})
    );
}

#[tokio::test]
async fn a_challenge_takes_few_wrong_codes_and_never_another_users_log_in() {
    let app = app().await;
    let (_, secret, _) = with_totp(&app, "ann@example.com").await;
    app.user("bob@example.com").await;
    let pb = app
        .rest(Method::POST, "/api/collections/users/auth-with-password")
        .json(&json!({"identity": "ann@example.com", "password": PW}))
        .reply()
        .await;
    // Bob's password with Ann's challenge: refused, no token.
    let bob = app
        .rest(Method::POST, "/api/collections/users/auth-with-password")
        .json(&json!({"identity": "bob@example.com", "password": PW, "mfaId": pb.body["mfaId"]}))
        .reply()
        .await;
    assert_eq!(bob.status, 401, "{}", bob.body);
    assert!(bob.body.get("token").is_none());

    let c = gql_log_in(&app, "ann@example.com").await["secondFactorRequired"]["challengeId"]
        .as_str()
        .unwrap()
        .to_owned();
    let right = now_code(&secret, 0);
    let wrong = if right == "123456" {
        "654321"
    } else {
        "123456"
    };
    for _ in 0..5 {
        let res = app
            .gql(Some(&app.pk), None, VERIFY, json!({"c": c, "code": wrong}))
            .await;
        assert_eq!(error_code(&res), Some("INVALID_SECOND_FACTOR"), "{res}");
    }
    let res = app
        .gql(Some(&app.pk), None, VERIFY, json!({"c": c, "code": right}))
        .await;
    assert_eq!(error_code(&res), Some("CHALLENGE_INVALID"), "{res}");
}

#[tokio::test]
async fn disabling_needs_the_password_and_ends_other_sessions() {
    let app = app().await;
    let (token, _, _) = with_totp(&app, "ann@example.com").await;
    let other = {
        let c = gql_log_in(&app, "ann@example.com").await;
        assert!(c["secondFactorRequired"].is_object());
        c
    };
    drop(other);
    let q = "mutation($p: String) { disableSecondFactor(password: $p) }";
    let bad = app
        .gql(None, Some(&token), q, json!({"p": "wrong password!"}))
        .await;
    assert_eq!(error_code(&bad), Some("INVALID_CREDENTIALS"), "{bad}");
    let ok = app.gql(None, Some(&token), q, json!({"p": PW})).await;
    assert_eq!(ok["data"]["disableSecondFactor"], true, "{ok}");
    let plain = gql_log_in(&app, "ann@example.com").await;
    assert!(plain["token"].is_string(), "{plain}");
    // The notices go out through the outbox's worker.
    app.mail_delivered().await;
    let subjects: Vec<String> = app
        .outbox
        .lock()
        .unwrap()
        .iter()
        .map(|m| m.subject.clone())
        .collect();
    assert!(
        subjects
            .iter()
            .filter(|s| s.contains("security changed"))
            .count()
            >= 2,
        "{subjects:?}"
    );
}

#[tokio::test]
async fn cocobase_two_factor_by_mail_from_enable_to_verify() {
    let app = app().await;
    let signup = app
        .rest(Method::POST, "/auth-collections/signup")
        .header("x-api-key", &app.pk)
        .json(&json!({"email": "cy@example.com", "password": PW}))
        .reply()
        .await;
    let token = signup.body["access_token"].as_str().unwrap().to_owned();
    let en = app
        .rest(Method::POST, "/auth-collections/2fa/enable")
        .header("x-api-key", &app.pk)
        .bearer_auth(&token)
        .json(&json!({}))
        .reply()
        .await;
    assert_eq!(en.status, 200, "{}", en.body);
    let login = app
        .rest(Method::POST, "/auth-collections/login")
        .header("x-api-key", &app.pk)
        .json(&json!({"email": "cy@example.com", "password": PW}))
        .reply()
        .await;
    assert_eq!(login.body["requires_2fa"], true, "{}", login.body);
    assert!(login.body["message"].is_string());
    assert!(login.body.get("access_token").is_none());
    // mail 1: 2FA enabled notice; 2: the code; send-code mails a new one.
    assert_eq!(
        mail(&app, 2).await.subject,
        "Your sign-in confirmation code"
    );
    let sent = app
        .rest(Method::POST, "/auth-collections/2fa/send-code")
        .header("x-api-key", &app.pk)
        .json(&json!({"email": "cy@example.com"}))
        .reply()
        .await;
    assert_eq!(sent.status, 200, "{}", sent.body);
    let m = mail(&app, 3).await;
    assert_eq!(m.subject, "Your sign-in confirmation code");
    // The code lives as long as the challenge, and the mail says so.
    assert!(m.body.contains("within 5 minutes"), "{}", m.body);
    let verify = app
        .rest(Method::POST, "/auth-collections/2fa/verify")
        .header("x-api-key", &app.pk)
        .json(&json!({"email": "cy@example.com", "code": code_in(&m.body)}))
        .reply()
        .await;
    assert_eq!(verify.status, 200, "{}", verify.body);
    assert!(verify.body["access_token"].is_string());
    assert_eq!(verify.body["user"]["email"], "cy@example.com");
    // Disabling without the password is refused.
    let dis = app
        .rest(Method::POST, "/auth-collections/2fa/disable")
        .header("x-api-key", &app.pk)
        .bearer_auth(&token)
        .json(&json!({}))
        .reply()
        .await;
    assert!(dis.status >= 400, "{}", dis.body);
}

#[tokio::test]
async fn pocketbase_mfa_takes_password_then_a_mailed_code() {
    let app = app().await;
    let file = "[project]\nslug = 'default'\n[[collections]]\nname = 'users'\nmfa = true\nmfa_duration_secs = 600\n";
    apply::apply_with(&app.services, &apply::parse(file).unwrap())
        .await
        .unwrap();
    app.services.catalog.clear();
    let methods = app
        .rest(Method::GET, "/api/collections/users/auth-methods")
        .reply()
        .await;
    assert_eq!(
        methods.body["mfa"],
        json!({"enabled": true, "duration": 600})
    );
    let created = app
        .rest(Method::POST, "/api/collections/users/records")
        .json(&json!({"email": "pat@example.com", "password": PW, "passwordConfirm": PW}))
        .reply()
        .await;
    assert_eq!(created.status, 200, "{}", created.body);
    let first = app
        .rest(Method::POST, "/api/collections/users/auth-with-password")
        .json(&json!({"identity": "pat@example.com", "password": PW}))
        .reply()
        .await;
    assert_eq!(first.status, 401, "{}", first.body);
    let mfa_id = first.body["mfaId"].as_str().unwrap().to_owned();
    let otp = app
        .rest(Method::POST, "/api/collections/users/request-otp")
        .json(&json!({"email": "pat@example.com"}))
        .reply()
        .await;
    let code = code_in(&mail(&app, 1).await.body);
    // The SDK sends `mfaId` as a query parameter.
    let second = app
        .rest(
            Method::POST,
            &format!("/api/collections/users/auth-with-otp?mfaId={mfa_id}"),
        )
        .json(&json!({"otpId": otp.body["otpId"], "password": code}))
        .reply()
        .await;
    assert_eq!(second.status, 200, "{}", second.body);
    assert!(second.body["token"].is_string());
    assert_eq!(second.body["record"]["email"], "pat@example.com");
}

#[tokio::test]
async fn a_mailed_second_factor_fails_closed_on_a_server_that_sends_no_mail() {
    let a = app().await;
    let signup = a
        .rest(Method::POST, "/auth-collections/signup")
        .header("x-api-key", &a.pk)
        .json(&json!({"email": "cy@example.com", "password": PW}))
        .reply()
        .await;
    let token = signup.body["access_token"].as_str().unwrap().to_owned();
    let en = a
        .rest(Method::POST, "/auth-collections/2fa/enable")
        .header("x-api-key", &a.pk)
        .bearer_auth(&token)
        .json(&json!({}))
        .reply()
        .await;
    assert_eq!(en.status, 200, "{}", en.body);
    // Another instance on the same database, configured without SMTP.
    let url = a.database_url.clone();
    let b = TestApp::spawn_custom(None, move |c| c.database_url = url).await;
    let login = b
        .rest(Method::POST, "/auth-collections/login")
        .header("x-api-key", &a.pk)
        .json(&json!({"email": "cy@example.com", "password": PW}))
        .reply()
        .await;
    assert_eq!(login.status, 403, "{}", login.body);
    assert!(login.body.get("access_token").is_none(), "{}", login.body);
    let gql = b
        .gql(
            Some(&a.pk),
            None,
            "mutation($i: LogInInput!) { logIn(input: $i) { token } }",
            json!({"i": {"email": "cy@example.com", "password": PW}}),
        )
        .await;
    assert_eq!(error_code(&gql), Some("FORBIDDEN"), "{gql}");
}

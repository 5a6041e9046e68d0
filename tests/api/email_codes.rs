//! Password reset and email verification by email, through every front door (recording mailer; the
//! real SMTP server is exercised by clients/run.sh).
use std::time::Duration;

use reqwest::Method;
use serde_json::json;

use crate::helpers::{ReplyExt, TestApp, error_code, mail};

const PW: &str = "correct horse battery";
const NEW_PW: &str = "a brand new password";

async fn app() -> TestApp {
    TestApp::spawn_mailing(|_| {}).await
}

/// The token of the `n`th mail.
async fn mailed_token(app: &TestApp, n: usize) -> String {
    let body = mail(app, n).await.body;
    after(&body, "Token, for apps that ask for it:").to_owned()
}

fn after<'a>(body: &'a str, label: &str) -> &'a str {
    let start = body
        .find(label)
        .unwrap_or_else(|| panic!("{label} in {body}"))
        + label.len();
    body[start..].split_whitespace().next().unwrap()
}

const REQUEST: &str = "mutation($e: String!) { requestPasswordReset(email: $e) }";
const RESET: &str = "mutation($i: ResetPasswordInput!) { resetPassword(input: $i) }";

#[tokio::test]
async fn a_reset_by_token_sets_the_password_ends_sessions_and_works_once() {
    let app = app().await;
    let (old_token, _) = app.user("ann@example.com").await;
    let res = app
        .gql(
            Some(&app.pk),
            None,
            REQUEST,
            json!({"e": "ANN@example.com"}),
        )
        .await;
    assert_eq!(res["data"]["requestPasswordReset"], true, "{res}");
    let m = mail(&app, 1).await;
    assert_eq!(m.to, "ann@example.com");
    let token = after(&m.body, "Token, for apps that ask for it:").to_owned();
    assert!(token.len() >= 40);

    // A weak password does not spend the token.
    let weak = app
        .gql(
            Some(&app.pk),
            None,
            RESET,
            json!({"i": {"token": token, "newPassword": "short"}}),
        )
        .await;
    assert_eq!(error_code(&weak), Some("WEAK_PASSWORD"), "{weak}");
    let ok = app
        .gql(
            Some(&app.pk),
            None,
            RESET,
            json!({"i": {"token": token, "newPassword": NEW_PW}}),
        )
        .await;
    assert_eq!(ok["data"]["resetPassword"], true, "{ok}");

    assert_eq!(error_code(&app.me(&old_token).await), Some("INVALID_TOKEN"));
    assert_eq!(
        error_code(&app.log_in("ann@example.com", PW).await),
        Some("INVALID_CREDENTIALS")
    );
    let fresh = app.log_in("ann@example.com", NEW_PW).await;
    let fresh_token = fresh["data"]["logIn"]["token"].as_str().unwrap().to_owned();
    assert_eq!(app.me(&fresh_token).await["data"]["me"]["verified"], true);
    // The owner is told.
    let notice = mail(&app, 2).await;
    assert_eq!(notice.subject, "Your password was changed");
    assert_eq!(notice.to, "ann@example.com");

    let again = app
        .gql(
            Some(&app.pk),
            None,
            RESET,
            json!({"i": {"token": token, "newPassword": "yet another password"}}),
        )
        .await;
    assert_eq!(error_code(&again), Some("VALIDATION"), "{again}");
    assert_eq!(again["errors"][0]["extensions"]["field"], "token");
}

#[tokio::test]
async fn unknown_emails_get_the_same_answer_and_no_mail() {
    let app = app().await;
    app.user("ann@example.com").await;
    let known = app
        .gql(
            Some(&app.pk),
            None,
            REQUEST,
            json!({"e": "ann@example.com"}),
        )
        .await;
    let unknown = app
        .gql(
            Some(&app.pk),
            None,
            REQUEST,
            json!({"e": "nobody@example.com"}),
        )
        .await;
    assert_eq!(known, unknown);
    mail(&app, 1).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(app.outbox.lock().unwrap().len(), 1);

    let pb = |email: &'static str| {
        app.rest(
            Method::POST,
            "/api/collections/users/request-password-reset",
        )
        .json(&json!({"email": email}))
        .reply()
    };
    let (a, b) = (pb("ann@example.com").await, pb("nobody@example.com").await);
    assert_eq!((a.status, b.status), (204, 204));
    assert_eq!(a.body, b.body);
}

#[tokio::test]
async fn six_digit_codes_work_once_and_die_after_five_wrong_guesses() {
    let app = app().await;
    app.user("ann@example.com").await;
    let ub = |path: &str, body: serde_json::Value| {
        app.rest(Method::POST, &format!("/api/userAuth/{path}"))
            .header("x-api-key", &app.pk)
            .json(&body)
            .reply()
    };
    let req = ub(
        "request-password-reset",
        json!({"email": "ann@example.com"}),
    )
    .await;
    assert_eq!(req.status, 200, "{:?}", req.body);
    assert!(
        req.body["message"]
            .as_str()
            .unwrap()
            .contains("If that email exists")
    );
    let code = after(&mail(&app, 1).await.body, "Your code: ").to_owned();
    assert_eq!(code.len(), 6);
    let wrong = if code == "000000" { "000001" } else { "000000" };
    for _ in 0..5 {
        let res = ub(
            "reset-password",
            json!({"email": "ann@example.com", "otp": wrong, "newPassword": NEW_PW}),
        )
        .await;
        assert_eq!(res.status, 400, "{:?}", res.body);
        assert_eq!(res.body["success"], false);
    }
    // The right code no longer works: the guesses used it up.
    let late = ub(
        "reset-password",
        json!({"email": "ann@example.com", "otp": code, "newPassword": NEW_PW}),
    )
    .await;
    assert_eq!(late.status, 400);

    // A new request, a new code, used at once.
    ub(
        "request-password-reset",
        json!({"email": "ann@example.com"}),
    )
    .await;
    let code = after(&mail(&app, 2).await.body, "Your code: ").to_owned();
    let ok = ub(
        "reset-password",
        json!({"email": "ann@example.com", "otp": code, "newPassword": NEW_PW}),
    )
    .await;
    assert_eq!(ok.status, 200, "{:?}", ok.body);
    assert!(app.log_in("ann@example.com", NEW_PW).await["data"]["logIn"].is_object());
    let twice = ub(
        "reset-password",
        json!({"email": "ann@example.com", "otp": code, "newPassword": "yet another password"}),
    )
    .await;
    assert_eq!(twice.status, 400);
}

#[tokio::test]
async fn a_newer_request_replaces_the_older_code_and_lifts_a_lockout() {
    let app = TestApp::spawn_mailing(|c| {
        c.lockout_failures = 2;
        c.lockout_secs = 600;
    })
    .await;
    app.user("ann@example.com").await;
    for _ in 0..2 {
        app.log_in("ann@example.com", "wrong password!").await;
    }
    assert_eq!(
        error_code(&app.log_in("ann@example.com", PW).await),
        Some("RATE_LIMITED")
    );
    let pb = |path: &str, body: serde_json::Value| {
        app.rest(Method::POST, &format!("/api/collections/users/{path}"))
            .json(&body)
            .reply()
    };
    pb(
        "request-password-reset",
        json!({"email": "ann@example.com"}),
    )
    .await;
    let first = after(
        &mail(&app, 1).await.body,
        "Token, for apps that ask for it:",
    )
    .to_owned();
    pb(
        "request-password-reset",
        json!({"email": "ann@example.com"}),
    )
    .await;
    let second = after(
        &mail(&app, 2).await.body,
        "Token, for apps that ask for it:",
    )
    .to_owned();
    assert_ne!(first, second);

    let stale = pb(
        "confirm-password-reset",
        json!({"token": first, "password": NEW_PW, "passwordConfirm": NEW_PW}),
    )
    .await;
    assert_eq!(stale.status, 400, "{:?}", stale.body);
    assert_eq!(
        stale.body["data"]["token"]["code"],
        "validation_invalid_value"
    );
    let mismatch = pb(
        "confirm-password-reset",
        json!({"token": second, "password": NEW_PW, "passwordConfirm": "other"}),
    )
    .await;
    assert_eq!(mismatch.status, 400);
    let ok = pb(
        "confirm-password-reset",
        json!({"token": second, "password": NEW_PW, "passwordConfirm": NEW_PW}),
    )
    .await;
    assert_eq!(ok.status, 204, "{:?}", ok.body);
    // The lockout is over: the owner proved control of the email.
    assert!(app.log_in("ann@example.com", NEW_PW).await["data"]["logIn"].is_object());
}

#[tokio::test]
async fn reset_mails_per_account_are_capped_without_telling_the_caller() {
    let app = app().await;
    app.user("ann@example.com").await;
    for _ in 0..7 {
        let res = app
            .gql(
                Some(&app.pk),
                None,
                REQUEST,
                json!({"e": "ann@example.com"}),
            )
            .await;
        assert_eq!(res["data"]["requestPasswordReset"], true);
    }
    mail(&app, 5).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(app.outbox.lock().unwrap().len(), 5);
}

#[tokio::test]
async fn a_token_of_one_project_does_nothing_in_another() {
    use authgraph::domain::projects;
    let app = app().await;
    app.user("ann@example.com").await;
    app.gql(
        Some(&app.pk),
        None,
        REQUEST,
        json!({"e": "ann@example.com"}),
    )
    .await;
    let token = after(
        &mail(&app, 1).await.body,
        "Token, for apps that ask for it:",
    )
    .to_owned();
    let other = projects::create(&app.services.db, "Other", Some("other"))
        .await
        .unwrap();
    let res = app
        .gql(
            Some(&other.publishable_key),
            None,
            RESET,
            json!({"i": {"token": token, "newPassword": NEW_PW}}),
        )
        .await;
    assert_eq!(error_code(&res), Some("VALIDATION"), "{res}");
    // Still usable in its own project.
    let ok = app
        .gql(
            Some(&app.pk),
            None,
            RESET,
            json!({"i": {"token": token, "newPassword": NEW_PW}}),
        )
        .await;
    assert_eq!(ok["data"]["resetPassword"], true, "{ok}");
}

#[tokio::test]
async fn cocobase_forgot_password_mails_the_account() {
    let app = app().await;
    app.user("ann@example.com").await;
    let res = app
        .rest(Method::POST, "/auth-collections/forgot-password")
        .header("x-api-key", &app.pk)
        .json(&json!({"email": "ann@example.com"}))
        .reply()
        .await;
    assert_eq!(res.status, 200, "{:?}", res.body);
    assert!(res.body["message"].is_string());
    assert_eq!(mail(&app, 1).await.to, "ann@example.com");
}

const VERIFY_REQUEST: &str = "mutation($e: String!) { requestEmailVerification(email: $e) }";
const VERIFY: &str = "mutation($i: VerifyEmailInput!) { verifyEmail(input: $i) }";

#[tokio::test]
async fn email_verification_by_code_or_token_in_every_door() {
    let app = app().await;
    let (token, _) = app.user("ann@example.com").await;
    assert_eq!(app.me(&token).await["data"]["me"]["verified"], false);

    // GraphQL, with the six-digit code; unknown emails get the same answer.
    let known = app
        .gql(
            Some(&app.pk),
            None,
            VERIFY_REQUEST,
            json!({"e": "ann@example.com"}),
        )
        .await;
    let unknown = app
        .gql(
            Some(&app.pk),
            None,
            VERIFY_REQUEST,
            json!({"e": "nobody@example.com"}),
        )
        .await;
    assert_eq!(known, unknown);
    let m = mail(&app, 1).await;
    assert_eq!(m.subject, "Confirm your email address");
    let code = after(&m.body, "Your code: ").to_owned();
    let res = app
        .gql(
            Some(&app.pk),
            None,
            VERIFY,
            json!({"i": {"email": "ann@example.com", "code": code}}),
        )
        .await;
    assert_eq!(res["data"]["verifyEmail"], true, "{res}");
    assert_eq!(app.me(&token).await["data"]["me"]["verified"], true);
    // Spent, and a verified account gets no more verification mail.
    let again = app
        .gql(
            Some(&app.pk),
            None,
            VERIFY,
            json!({"i": {"email": "ann@example.com", "code": code}}),
        )
        .await;
    assert_eq!(error_code(&again), Some("VALIDATION"));
    app.gql(
        Some(&app.pk),
        None,
        VERIFY_REQUEST,
        json!({"e": "ann@example.com"}),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(app.outbox.lock().unwrap().len(), 1);

    // PocketBase: request-verification / confirm-verification with the token.
    app.user("bob@example.com").await;
    let pb = |path: &str, body: serde_json::Value| {
        app.rest(Method::POST, &format!("/api/collections/users/{path}"))
            .json(&body)
            .reply()
    };
    let req = pb("request-verification", json!({"email": "bob@example.com"})).await;
    assert_eq!(req.status, 204);
    let bob_token = after(
        &mail(&app, 2).await.body,
        "Token, for apps that ask for it:",
    )
    .to_owned();
    let bad = pb("confirm-verification", json!({"token": "not-a-token"})).await;
    assert_eq!(bad.status, 400);
    let ok = pb("confirm-verification", json!({"token": bob_token})).await;
    assert_eq!(ok.status, 204, "{:?}", ok.body);
    let bob = app.log_in("bob@example.com", PW).await;
    let bob_access = bob["data"]["logIn"]["token"].as_str().unwrap().to_owned();
    assert_eq!(app.me(&bob_access).await["data"]["me"]["verified"], true);

    // urBackend: resend-verification-otp / verify-email {email, otp}.
    let (cat, _) = app.user("cat@example.com").await;
    let ub = |path: &str, body: serde_json::Value| {
        app.rest(Method::POST, &format!("/api/userAuth/{path}"))
            .header("x-api-key", &app.pk)
            .json(&body)
            .reply()
    };
    let sent = ub(
        "resend-verification-otp",
        json!({"email": "cat@example.com"}),
    )
    .await;
    assert_eq!(sent.status, 200);
    let cat_code = after(&mail(&app, 3).await.body, "Your code: ").to_owned();
    let ok = ub(
        "verify-email",
        json!({"email": "cat@example.com", "otp": cat_code}),
    )
    .await;
    assert_eq!(ok.status, 200, "{:?}", ok.body);
    assert_eq!(app.me(&cat).await["data"]["me"]["verified"], true);

    // Cocobase: the signed-in user asks for its own mail, then verifies the token.
    let (dan, _) = app.user("dan@example.com").await;
    let send = app
        .rest(Method::POST, "/auth-collections/verify-email/send")
        .header("x-api-key", &app.pk)
        .header("authorization", format!("Bearer {dan}"))
        .json(&json!({}))
        .reply()
        .await;
    assert_eq!(send.status, 200, "{:?}", send.body);
    let dan_token = after(
        &mail(&app, 4).await.body,
        "Token, for apps that ask for it:",
    )
    .to_owned();
    let verify = app
        .rest(Method::POST, "/auth-collections/verify-email/verify")
        .header("x-api-key", &app.pk)
        .json(&json!({"token": dan_token}))
        .reply()
        .await;
    assert_eq!(verify.status, 200, "{:?}", verify.body);
    assert_eq!(app.me(&dan).await["data"]["me"]["verified"], true);

    // A verification token is not a reset token.
    app.user("eve@example.com").await;
    app.gql(
        Some(&app.pk),
        None,
        VERIFY_REQUEST,
        json!({"e": "eve@example.com"}),
    )
    .await;
    let eve_token = after(
        &mail(&app, 5).await.body,
        "Token, for apps that ask for it:",
    )
    .to_owned();
    let misuse = app
        .gql(
            Some(&app.pk),
            None,
            RESET,
            json!({"i": {"token": eve_token, "newPassword": NEW_PW}}),
        )
        .await;
    assert_eq!(error_code(&misuse), Some("VALIDATION"), "{misuse}");
}

#[tokio::test]
async fn an_email_change_needs_the_new_mailbox_and_the_password() {
    let app = app().await;
    let (token, _) = app.user("ann@example.com").await;
    let request = "mutation($e: String!) { requestEmailChange(newEmail: $e) }";
    let confirm =
        "mutation($t: String!, $p: String!) { confirmEmailChange(token: $t, password: $p) }";

    // Only a signed-in user asks, and not for its current address.
    let anon = app
        .gql(
            Some(&app.pk),
            None,
            request,
            json!({"e": "new@example.com"}),
        )
        .await;
    assert_eq!(error_code(&anon), Some("UNAUTHENTICATED"), "{anon}");
    let same = app
        .gql(None, Some(&token), request, json!({"e": "ANN@example.com"}))
        .await;
    assert_eq!(error_code(&same), Some("VALIDATION"), "{same}");

    let res = app
        .gql(None, Some(&token), request, json!({"e": "new@example.com"}))
        .await;
    assert_eq!(res["data"]["requestEmailChange"], true, "{res}");
    let m = mail(&app, 1).await;
    assert_eq!(m.to, "new@example.com");
    let change = after(&m.body, "Token, for apps that ask for it:").to_owned();

    let wrong = app
        .gql(
            Some(&app.pk),
            None,
            confirm,
            json!({"t": change, "p": "not the password"}),
        )
        .await;
    assert_eq!(
        wrong["errors"][0]["extensions"]["field"], "password",
        "{wrong}"
    );
    let ok = app
        .gql(Some(&app.pk), None, confirm, json!({"t": change, "p": PW}))
        .await;
    assert_eq!(ok["data"]["confirmEmailChange"], true, "{ok}");

    // Sessions of the old address end; the new one logs in, verified.
    assert_eq!(error_code(&app.me(&token).await), Some("INVALID_TOKEN"));
    assert_eq!(
        error_code(&app.log_in("ann@example.com", PW).await),
        Some("INVALID_CREDENTIALS")
    );
    let fresh = app.log_in("new@example.com", PW).await;
    let fresh = fresh["data"]["logIn"]["token"].as_str().unwrap().to_owned();
    assert_eq!(app.me(&fresh).await["data"]["me"]["verified"], true);
    // The old address is told.
    let notice = mail(&app, 2).await;
    assert_eq!(notice.to, "ann@example.com");
    assert!(notice.body.contains("new@example.com"));
    // The token is spent.
    let again = app
        .gql(Some(&app.pk), None, confirm, json!({"t": change, "p": PW}))
        .await;
    assert_eq!(error_code(&again), Some("VALIDATION"));
}

#[tokio::test]
async fn an_email_change_to_a_taken_address_fails_at_confirmation_in_pocketbase_shape() {
    let app = app().await;
    app.user("bob@example.com").await;
    app.user("ann@example.com").await;
    let auth = app
        .rest(Method::POST, "/api/collections/users/auth-with-password")
        .json(&json!({"identity": "ann@example.com", "password": PW}))
        .reply()
        .await;
    let token = auth.body["token"].as_str().unwrap().to_owned();
    let pb = |path: &str, bearer: Option<&str>, body: serde_json::Value| {
        let mut req = app
            .rest(Method::POST, &format!("/api/collections/users/{path}"))
            .json(&body);
        if let Some(t) = bearer {
            req = req.header("authorization", t);
        }
        req.reply()
    };
    let anon = pb(
        "request-email-change",
        None,
        json!({"newEmail": "bob@example.com"}),
    )
    .await;
    assert_eq!(anon.status, 401);
    let req = pb(
        "request-email-change",
        Some(&token),
        json!({"newEmail": "bob@example.com"}),
    )
    .await;
    assert_eq!(req.status, 204, "{:?}", req.body);
    let change = after(
        &mail(&app, 1).await.body,
        "Token, for apps that ask for it:",
    )
    .to_owned();
    let taken = pb(
        "confirm-email-change",
        None,
        json!({"token": change, "password": PW}),
    )
    .await;
    assert_eq!(taken.status, 400, "{:?}", taken.body);
    assert_eq!(taken.body["data"]["email"]["code"], "validation_not_unique");
    // Ann keeps her address and can still log in with it.
    assert!(app.log_in("ann@example.com", PW).await["data"]["logIn"].is_object());
}

#[tokio::test]
async fn a_mailed_sign_in_code_logs_in_once_and_unknown_emails_get_an_id_too() {
    let app = app().await;
    app.user("ann@example.com").await;
    let pb = |path: &str, body: serde_json::Value| {
        app.rest(Method::POST, &format!("/api/collections/users/{path}"))
            .json(&body)
            .reply()
    };
    let known = pb("request-otp", json!({"email": "ann@example.com"})).await;
    let unknown = pb("request-otp", json!({"email": "nobody@example.com"})).await;
    assert_eq!((known.status, unknown.status), (200, 200));
    let id = known.body["otpId"].as_str().unwrap().to_owned();
    let other = unknown.body["otpId"].as_str().unwrap();
    assert_eq!(id.len(), other.len());
    let m = mail(&app, 1).await;
    assert_eq!(m.subject, "Your sign-in code");
    let code = after(&m.body, "Your code: ").to_owned();

    // The unknown email's id leads nowhere, like a wrong code.
    let nowhere = pb("auth-with-otp", json!({"otpId": other, "password": code})).await;
    let wrong = pb(
        "auth-with-otp",
        json!({"otpId": id, "password": if code == "000000" { "000001" } else { "000000" }}),
    )
    .await;
    assert_eq!((nowhere.status, wrong.status), (400, 400));
    assert_eq!(nowhere.body, wrong.body);

    let ok = pb("auth-with-otp", json!({"otpId": id, "password": code})).await;
    assert_eq!(ok.status, 200, "{:?}", ok.body);
    assert_eq!(ok.body["record"]["email"], "ann@example.com");
    assert_eq!(ok.body["record"]["verified"], true);
    let me = app
        .rest(Method::GET, "/api/collections/users/records")
        .header("authorization", ok.body["token"].as_str().unwrap())
        .reply()
        .await;
    assert_eq!(me.status, 200);
    let again = pb("auth-with-otp", json!({"otpId": id, "password": code})).await;
    assert_eq!(again.status, 400);

    // GraphQL: requestLoginCode / logInWithCode.
    let req = app
        .gql(
            Some(&app.pk),
            None,
            "mutation { requestLoginCode(email: \"ann@example.com\") }",
            json!({}),
        )
        .await;
    let id = req["data"]["requestLoginCode"].as_str().unwrap().to_owned();
    let code = after(&mail(&app, 2).await.body, "Your code: ").to_owned();
    let res = app
        .gql(
            Some(&app.pk),
            None,
            "mutation($i: String!, $c: String!) { logInWithCode(codeId: $i, code: $c) { token user { email } } }",
            json!({"i": id, "c": code}),
        )
        .await;
    assert_eq!(
        res["data"]["logInWithCode"]["user"]["email"], "ann@example.com",
        "{res}"
    );
}

#[tokio::test]
async fn a_pocketbase_token_of_one_auth_collection_is_refused_at_another_collections_url() {
    let app = app().await;
    let file = "[project]\nslug = 'default'\n[[collections]]\nname = 'users'\n[[collections]]\nname = 'staff'\n";
    let plan = authgraph::domain::apply::parse(file).unwrap();
    authgraph::domain::apply::apply_with(&app.services, &plan)
        .await
        .unwrap();
    app.services.catalog.clear();
    let pb = |collection: &str, path: &str, bearer: Option<&str>, body: serde_json::Value| {
        let mut req = app
            .rest(
                Method::POST,
                &format!("/api/collections/{collection}/{path}"),
            )
            .json(&body);
        if let Some(t) = bearer {
            req = req.header("authorization", t);
        }
        req.reply()
    };
    let sam = json!({"email": "sam@example.com", "password": PW, "passwordConfirm": PW});
    let made = pb("staff", "records", None, sam).await;
    assert_eq!(made.status, 200, "{:?}", made.body);

    // Each token mailed for `staff` is refused at `users`, in PocketBase's
    // validation shape, and still works at `staff` afterwards.
    let email = json!({"email": "sam@example.com"});
    let sent = pb("staff", "request-verification", None, email.clone()).await;
    assert_eq!(sent.status, 204, "{:?}", sent.body);
    let verify = json!({"token": mailed_token(&app, 1).await});
    let sent = pb("staff", "request-password-reset", None, email).await;
    assert_eq!(sent.status, 204, "{:?}", sent.body);
    let reset = json!({"token": mailed_token(&app, 2).await, "password": NEW_PW, "passwordConfirm": NEW_PW});
    let log_in = json!({"identity": "sam@example.com", "password": PW});
    let auth = pb("staff", "auth-with-password", None, log_in.clone()).await;
    let bearer = auth.body["token"].as_str().unwrap().to_owned();
    let new_email = json!({"newEmail": "sam.new@example.com"});
    let sent = pb("staff", "request-email-change", Some(&bearer), new_email).await;
    assert_eq!(sent.status, 204, "{:?}", sent.body);
    let change = json!({"token": mailed_token(&app, 3).await, "password": PW});
    // In this order at `staff` below: the email change needs the old password.
    let confirmations = [
        ("confirm-verification", verify),
        ("confirm-email-change", change),
        ("confirm-password-reset", reset),
    ];
    for (path, body) in &confirmations {
        let wrong = pb("users", path, None, body.clone()).await;
        assert_eq!(wrong.status, 400, "{path}: {:?}", wrong.body);
        assert_eq!(wrong.body["status"], 400, "{path}: {:?}", wrong.body);
        assert!(
            wrong.body["data"]["token"]["code"].is_string(),
            "{path}: {:?}",
            wrong.body
        );
    }
    let record = |auth: &crate::helpers::Reply| auth.body["record"].clone();
    let still = pb("staff", "auth-with-password", None, log_in).await;
    assert_eq!(
        still.status, 200,
        "the reset was not applied: {:?}",
        still.body
    );
    assert_eq!(record(&still)["verified"], false);
    assert_eq!(record(&still)["email"], "sam@example.com");
    for (path, body) in &confirmations {
        let right = pb("staff", path, None, body.clone()).await;
        assert_eq!(right.status, 204, "{path}: {:?}", right.body);
    }
    let new_pw = json!({"identity": "sam.new@example.com", "password": NEW_PW});
    let moved = pb("staff", "auth-with-password", None, new_pw).await;
    assert_eq!(moved.status, 200, "{:?}", moved.body);
    assert_eq!(record(&moved)["verified"], true);
}

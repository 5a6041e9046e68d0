//! Second factors beyond the log-in itself: challenges stay in their project,
//! the per-collection policy makes users enrol, wrong codes lock the account,
//! an administrator's reset, and PocketBase MFA without a mail server.
use authgraph::domain::apply;
use authgraph::domain::projects;
use reqwest::Method;
use sea_orm::{ActiveModelTrait, ActiveValue::Set};
use serde_json::{Value, json};

use crate::helpers::{RECORD_MAIL, ReplyExt, TestApp, error_code, mail};
use crate::second_factors::{LOG_IN, PW, VERIFY, app, gql_log_in, now_code, unbase32, with_totp};

pub(crate) async fn apply_users(app: &TestApp, settings: &str) {
    let file =
        format!("[project]\nslug = 'default'\n[[collections]]\nname = 'users'\n{settings}\n");
    apply::apply_with(&app.services, &apply::parse(&file).unwrap())
        .await
        .unwrap();
    app.services.catalog.clear();
}

pub(crate) fn challenge_id(log_in: &Value) -> String {
    log_in["secondFactorRequired"]["challengeId"]
        .as_str()
        .unwrap_or_else(|| panic!("no challenge: {log_in}"))
        .to_owned()
}

#[tokio::test]
async fn a_challenge_of_one_project_is_void_in_another() {
    let app = app().await;
    let (_, secret, codes) = with_totp(&app, "ann@example.com").await;
    let other = projects::create(&app.services.db, "Other", Some("other"))
        .await
        .unwrap();
    let c = challenge_id(&gql_log_in(&app, "ann@example.com").await);
    let code = now_code(&secret, 1);
    for (args, what) in [
        (json!({"c": c, "code": code}), "an app code"),
        (json!({"c": c, "r": codes[0]}), "a recovery code"),
    ] {
        let res = app
            .gql(Some(&other.publishable_key), None, VERIFY, args)
            .await;
        assert_eq!(error_code(&res), Some("CHALLENGE_INVALID"), "{what}: {res}");
        assert!(res["data"].is_null(), "{res}");
    }
    // PocketBase's door of the other project does not take it either.
    let pb = app
        .rest(
            Method::POST,
            "/p/other/api/collections/users/auth-with-totp",
        )
        .json(&json!({"mfaId": c, "code": code}))
        .reply()
        .await;
    assert_eq!(pb.status, 401, "{}", pb.body);
    assert!(pb.body.get("token").is_none(), "{}", pb.body);
    // Nothing was used up: the same challenge and code work in their project.
    let ok = app
        .gql(Some(&app.pk), None, VERIFY, json!({"c": c, "code": code}))
        .await;
    assert!(
        ok["data"]["verifySecondFactor"]["token"].is_string(),
        "{ok}"
    );
}

const ENROL: &str = "mutation($c: String) { enrollTotp(challengeId: $c) { secret uri qrCodeSvg } }";
const CONFIRM: &str = "mutation($code: String!, $c: String) { confirmTotp(code: $code, challengeId: $c) { recoveryCodes auth { token user { email } } } }";

/// Enrols an app through the `enrol_totp` challenge of a log-in; the tokens.
async fn enrol_through(app: &TestApp, c: &str) -> String {
    let en = app.gql(Some(&app.pk), None, ENROL, json!({"c": c})).await;
    let secret = unbase32(en["data"]["enrollTotp"]["secret"].as_str().unwrap());
    let wrong = app
        .gql(
            Some(&app.pk),
            None,
            CONFIRM,
            json!({"code": "not a code", "c": c}),
        )
        .await;
    assert_eq!(error_code(&wrong), Some("INVALID_SECOND_FACTOR"), "{wrong}");
    let done = app
        .gql(
            Some(&app.pk),
            None,
            CONFIRM,
            json!({"code": now_code(&secret, 0), "c": c}),
        )
        .await;
    let conf = &done["data"]["confirmTotp"];
    assert_eq!(
        conf["recoveryCodes"].as_array().unwrap().len(),
        10,
        "{done}"
    );
    conf["auth"]["token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_required_policy_makes_a_user_without_a_factor_enrol_to_log_in() {
    let app = app().await;
    app.user("ann@example.com").await;
    // Optional (the default): the password is enough.
    assert!(gql_log_in(&app, "ann@example.com").await["token"].is_string());

    apply_users(&app, "second_factor = 'required'").await;
    let first = gql_log_in(&app, "ann@example.com").await;
    assert_eq!(first["token"], Value::Null, "{first}");
    assert_eq!(
        first["secondFactorRequired"]["methods"],
        json!(["enrol_totp"])
    );
    let c = challenge_id(&first);
    // The enrolment challenge is not answered by a code: only enrolling does.
    let res = app
        .gql(
            Some(&app.pk),
            None,
            VERIFY,
            json!({"c": c, "code": "123456"}),
        )
        .await;
    assert_eq!(error_code(&res), Some("INVALID_SECOND_FACTOR"), "{res}");
    // Without a challenge (and no session) nobody can enrol.
    let anon = app.gql(Some(&app.pk), None, ENROL, json!({})).await;
    assert!(anon["errors"].is_array(), "{anon}");

    let token = enrol_through(&app, &c).await;
    let me = app
        .gql(
            None,
            Some(&token),
            "{ me { email secondFactors { totp } } }",
            json!({}),
        )
        .await;
    assert_eq!(me["data"]["me"]["email"], "ann@example.com", "{me}");
    assert_eq!(me["data"]["me"]["secondFactors"]["totp"], true, "{me}");
    // The challenge is spent, and the next log-in asks for the app.
    let again = app.gql(Some(&app.pk), None, ENROL, json!({"c": c})).await;
    assert_eq!(error_code(&again), Some("CHALLENGE_INVALID"), "{again}");
    let next = gql_log_in(&app, "ann@example.com").await;
    assert_eq!(
        next["secondFactorRequired"]["methods"],
        json!(["totp", "recovery_code"]),
        "{next}"
    );
}

#[tokio::test]
async fn second_factor_roles_make_only_users_with_those_roles_enrol() {
    let app = app().await;
    app.user("ann@example.com").await;
    let (_, bob) = app.user("bob@example.com").await;
    apply_users(&app, "second_factor_roles = ['admin']").await;
    entity::user::ActiveModel {
        id: Set(bob),
        roles: Set(json!(["user", "admin"])),
        ..Default::default()
    }
    .update(&app.services.db)
    .await
    .unwrap();

    let ann = gql_log_in(&app, "ann@example.com").await;
    assert!(ann["token"].is_string(), "{ann}");
    let bob = gql_log_in(&app, "bob@example.com").await;
    assert_eq!(bob["token"], Value::Null, "{bob}");
    assert_eq!(
        bob["secondFactorRequired"]["methods"],
        json!(["enrol_totp"])
    );
    // The other doors ask too: PocketBase answers with an mfaId, no token.
    let pb = app
        .rest(Method::POST, "/api/collections/users/auth-with-password")
        .json(&json!({"identity": "bob@example.com", "password": PW}))
        .reply()
        .await;
    assert_eq!(pb.status, 401, "{}", pb.body);
    assert!(pb.body.get("token").is_none(), "{}", pb.body);

    let token = enrol_through(&app, &challenge_id(&bob)).await;
    let me = app.me(&token).await;
    assert_eq!(me["data"]["me"]["email"], "bob@example.com", "{me}");
}

#[tokio::test]
async fn wrong_second_factor_codes_lock_the_account_out() {
    let app = TestApp::spawn_custom(None, |c| {
        c.smtp_url = RECORD_MAIL.into();
        c.lockout_failures = 3;
        c.lockout_secs = 600;
    })
    .await;
    let (_, secret, codes) = with_totp(&app, "ann@example.com").await;
    let right = now_code(&secret, 1);
    let wrong = if right == "123456" {
        "654321"
    } else {
        "123456"
    };
    // Fewer wrong codes than a challenge takes (5), but as many as the lockout.
    let c = challenge_id(&gql_log_in(&app, "ann@example.com").await);
    for _ in 0..3 {
        let res = app
            .gql(Some(&app.pk), None, VERIFY, json!({"c": c, "code": wrong}))
            .await;
        assert_eq!(error_code(&res), Some("INVALID_SECOND_FACTOR"), "{res}");
    }
    // Locked: the right code, on this challenge or a new one, and a recovery
    // code are refused.
    let fresh = challenge_id(&gql_log_in(&app, "ann@example.com").await);
    for args in [
        json!({"c": c, "code": right}),
        json!({"c": fresh, "code": right}),
        json!({"c": fresh, "r": codes[0]}),
    ] {
        let res = app.gql(Some(&app.pk), None, VERIFY, args).await;
        assert_eq!(error_code(&res), Some("RATE_LIMITED"), "{res}");
        assert!(
            res["errors"][0]["extensions"]["retryAfter"]
                .as_u64()
                .unwrap()
                > 0
        );
    }
    // Another account is not affected.
    let (_, bob_secret, _) = with_totp(&app, "bob@example.com").await;
    let b = challenge_id(&gql_log_in(&app, "bob@example.com").await);
    let ok = app
        .gql(
            Some(&app.pk),
            None,
            VERIFY,
            json!({"c": b, "code": now_code(&bob_secret, 1)}),
        )
        .await;
    assert!(
        ok["data"]["verifySecondFactor"]["token"].is_string(),
        "{ok}"
    );
}

#[tokio::test]
async fn a_secret_key_resets_the_second_factors_and_the_user_is_told() {
    let app = app().await;
    let (token, _, _) = with_totp(&app, "ann@example.com").await;
    let id = app.me(&token).await["data"]["me"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let q = "mutation($u: String!) { resetSecondFactors(userId: $u) }";
    // Not with the publishable key, nor with the user's own token.
    let pk = app.gql(Some(&app.pk), None, q, json!({"u": id})).await;
    assert!(pk["errors"].is_array(), "{pk}");
    let own = app.gql(None, Some(&token), q, json!({"u": id})).await;
    assert!(own["errors"].is_array(), "{own}");
    assert!(gql_log_in(&app, "ann@example.com").await["secondFactorRequired"].is_object());
    // Mail 1 told Ann that the app was added; nothing about a reset yet.
    assert_eq!(mail(&app, 1).await.subject, "Your sign-in security changed");
    let reset_mail = |app: &TestApp| {
        app.outbox
            .lock()
            .unwrap()
            .iter()
            .find(|m| m.body.contains("reset by an administrator"))
            .cloned()
    };
    assert!(reset_mail(&app).is_none());

    let res = app.gql(Some(&app.sk), None, q, json!({"u": id})).await;
    assert_eq!(res["data"]["resetSecondFactors"], true, "{res}");
    let mut notice = None;
    for _ in 0..200 {
        notice = reset_mail(&app);
        if notice.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let notice = notice.expect("no mail about the reset");
    assert_eq!(notice.to, "ann@example.com");
    assert_eq!(notice.subject, "Your sign-in security changed");
    assert!(
        notice.body.contains("reset by an administrator"),
        "{}",
        notice.body
    );
    // The factors are gone (the password alone signs in) and the sessions ended.
    let plain = gql_log_in(&app, "ann@example.com").await;
    assert!(plain["token"].is_string(), "{plain}");
    assert!(plain["secondFactorRequired"].is_null(), "{plain}");
    assert!(app.me(&token).await["errors"].is_array());
    let me = app
        .gql(
            None,
            plain["token"].as_str(),
            "{ me { secondFactors { totp recoveryCodesLeft } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        me["data"]["me"]["secondFactors"],
        json!({"totp": false, "recoveryCodesLeft": 0}),
        "{me}"
    );
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

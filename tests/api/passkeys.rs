//! Passkeys through GraphQL with a software authenticator: registration,
//! sign-in without an email, a second-factor challenge answered, and what is
//! refused (another origin or rp id, a replayed challenge, a counter that
//! went backwards, another user's or project's credential).
use authgraph::domain::projects;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_code, mail};
use crate::second_factor_policy::apply_users;
use crate::second_factors::{LOG_IN, PW, with_totp};
use crate::soft_authenticator::SoftAuthenticator;

const ORIGIN: &str = "http://localhost:5173";
const REG_OPTIONS: &str = "mutation($p: String) { passkeyRegistrationOptions(password: $p) }";
const FINISH_REG: &str = "mutation($c: JSON!, $n: String) { finishPasskeyRegistration(credential: $c, name: $n) { id name createdAt lastUsedAt } }";
const LOGIN_OPTIONS: &str =
    "mutation($e: String, $c: String) { passkeyLoginOptions(email: $e, challengeId: $c) }";
const FINISH_LOGIN: &str = "mutation($c: JSON!) { finishPasskeyLogin(credential: $c) { token user { id email } secondFactorRequired { challengeId methods } } }";
const PASSKEYS: &str = "{ me { passkeys { id name createdAt lastUsedAt } } }";

async fn app() -> TestApp {
    TestApp::spawn_mailing(|_| {}).await
}

/// Registers a passkey of `auth` for the user of `token`; its id.
async fn register(app: &TestApp, token: &str, auth: &mut SoftAuthenticator, name: &str) -> String {
    let options = app.gql(None, Some(token), REG_OPTIONS, json!({})).await;
    let options = &options["data"]["passkeyRegistrationOptions"];
    assert!(options.is_object(), "{options}");
    let res = app
        .gql(
            None,
            Some(token),
            FINISH_REG,
            json!({"c": auth.register(options), "n": name}),
        )
        .await;
    let key = &res["data"]["finishPasskeyRegistration"];
    assert_eq!(key["name"], name, "{res}");
    key["id"].as_str().unwrap().to_owned()
}

async fn login_options(
    app: &TestApp,
    pk: &str,
    email: Option<&str>,
    challenge: Option<&str>,
) -> Value {
    let res = app
        .gql(
            Some(pk),
            None,
            LOGIN_OPTIONS,
            json!({"e": email, "c": challenge}),
        )
        .await;
    assert!(res["data"]["passkeyLoginOptions"].is_object(), "{res}");
    res["data"]["passkeyLoginOptions"].clone()
}

async fn finish_login(app: &TestApp, pk: &str, assertion: Value) -> Value {
    app.gql(Some(pk), None, FINISH_LOGIN, json!({"c": assertion}))
        .await
}

/// A server, Ann's token and her authenticator with a passkey named `name`.
pub(crate) async fn with_passkey(name: &str) -> (TestApp, String, SoftAuthenticator) {
    let app = app().await;
    let (token, _) = app.user("ann@example.com").await;
    let mut auth = SoftAuthenticator::new(ORIGIN);
    register(&app, &token, &mut auth, name).await;
    // Its "passkey added" notice is delivered before the test counts mail.
    app.mail_delivered().await;
    (app, token, auth)
}

/// A discoverable sign-in (no email) answered by `auth`.
pub(crate) async fn sign_in(app: &TestApp, auth: &mut SoftAuthenticator) -> Value {
    let options = login_options(app, &app.pk, None, None).await;
    finish_login(app, &app.pk, auth.assert(&options)).await
}

#[tokio::test]
async fn a_passkey_added_after_sign_in_then_signs_in_alone_without_an_email() {
    let app = app().await;
    let (token, id) = app.user("ann@example.com").await;
    let options = app.gql(None, Some(&token), REG_OPTIONS, json!({})).await;
    let o = &options["data"]["passkeyRegistrationOptions"];
    assert_eq!(o["rp"]["id"], "localhost", "{options}");
    assert_eq!(o["authenticatorSelection"]["residentKey"], "preferred");
    assert_eq!(o["authenticatorSelection"]["userVerification"], "preferred");
    assert_eq!(o["attestation"], "none");
    assert!(o["challenge"].as_str().unwrap().len() >= 43, "{o}");
    assert!(o.get("hints").is_none(), "null members are left out: {o}");

    let mut auth = SoftAuthenticator::new(ORIGIN);
    register(&app, &token, &mut auth, "Laptop").await;
    let listed = app.gql(None, Some(&token), PASSKEYS, json!({})).await;
    let keys = &listed["data"]["me"]["passkeys"];
    assert_eq!(keys.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(keys[0]["lastUsedAt"], Value::Null);

    let options = login_options(&app, &app.pk, None, None).await;
    assert_eq!(options["rpId"], "localhost");
    assert!(
        options
            .get("allowCredentials")
            .is_none_or(|a| a == &json!([])),
        "{options}"
    );
    let res = finish_login(&app, &app.pk, auth.assert(&options)).await;
    let signed_in = &res["data"]["finishPasskeyLogin"];
    assert_eq!(signed_in["user"]["id"], id, "{res}");
    let me = app.me(signed_in["token"].as_str().unwrap()).await;
    assert_eq!(me["data"]["me"]["email"], "ann@example.com", "{me}");
    let listed = app.gql(None, Some(&token), PASSKEYS, json!({})).await;
    assert!(
        listed["data"]["me"]["passkeys"][0]["lastUsedAt"].is_string(),
        "{listed}"
    );
}

#[tokio::test]
async fn an_answer_from_another_origin_or_for_another_rp_id_is_refused() {
    let app = app().await;
    let (token, _) = app.user("ann@example.com").await;
    let mut phished = SoftAuthenticator::new("https://evil.example");
    let options = app.gql(None, Some(&token), REG_OPTIONS, json!({})).await;
    let answer = phished.register(&options["data"]["passkeyRegistrationOptions"]);
    let res = app
        .gql(None, Some(&token), FINISH_REG, json!({"c": answer}))
        .await;
    assert_eq!(error_code(&res), Some("VALIDATION"), "{res}");

    let mut auth = SoftAuthenticator::new(ORIGIN);
    register(&app, &token, &mut auth, "Phone").await;
    auth.origin = "https://evil.example".into();
    let res = sign_in(&app, &mut auth).await;
    assert_eq!(error_code(&res), Some("INVALID_CREDENTIALS"), "{res}");
    auth.origin = ORIGIN.into();
    auth.rp_id = Some("evil.example".into());
    let res = sign_in(&app, &mut auth).await;
    assert_eq!(error_code(&res), Some("INVALID_CREDENTIALS"), "{res}");
    auth.rp_id = None;
    assert!(sign_in(&app, &mut auth).await["data"]["finishPasskeyLogin"]["token"].is_string());
}

#[tokio::test]
async fn a_challenge_answers_once() {
    let (app, token, mut auth) = with_passkey("Laptop").await;
    let options = login_options(&app, &app.pk, None, None).await;
    let assertion = auth.assert(&options);
    let first = finish_login(&app, &app.pk, assertion.clone()).await;
    assert!(
        first["data"]["finishPasskeyLogin"]["token"].is_string(),
        "{first}"
    );
    let replay = finish_login(&app, &app.pk, assertion).await;
    assert_eq!(error_code(&replay), Some("CHALLENGE_INVALID"), "{replay}");
    // A registration challenge answers once too.
    let options = app.gql(None, Some(&token), REG_OPTIONS, json!({})).await;
    let answer =
        SoftAuthenticator::new(ORIGIN).register(&options["data"]["passkeyRegistrationOptions"]);
    let ok = app
        .gql(None, Some(&token), FINISH_REG, json!({"c": answer}))
        .await;
    assert!(
        ok["data"]["finishPasskeyRegistration"]["id"].is_string(),
        "{ok}"
    );
    let again = app
        .gql(None, Some(&token), FINISH_REG, json!({"c": answer}))
        .await;
    assert_eq!(error_code(&again), Some("CHALLENGE_INVALID"), "{again}");
}

#[tokio::test]
async fn a_counter_that_went_backwards_is_refused_and_the_owner_told_by_mail() {
    let (app, _, mut auth) = with_passkey("Key").await;
    let mails = app.outbox.lock().unwrap().len();
    assert!(sign_in(&app, &mut auth).await["data"]["finishPasskeyLogin"]["token"].is_string());
    // A clone of the authenticator, one use behind.
    auth.counter -= 2;
    let res = sign_in(&app, &mut auth).await;
    assert_eq!(error_code(&res), Some("INVALID_CREDENTIALS"), "{res}");
    let notice = mail(&app, mails + 1).await;
    assert_eq!(notice.to, "ann@example.com");
    assert!(notice.body.contains("signature counter"), "{}", notice.body);
}

#[tokio::test]
async fn another_users_passkey_answers_neither_an_email_nor_a_registration() {
    let app = app().await;
    let (ann, _) = app.user("ann@example.com").await;
    let (bob, _) = app.user("bob@example.com").await;
    let mut anns = SoftAuthenticator::new(ORIGIN);
    let mut bobs = SoftAuthenticator::new(ORIGIN);
    register(&app, &ann, &mut anns, "Ann's").await;
    register(&app, &bob, &mut bobs, "Bob's").await;
    let options = login_options(&app, &app.pk, Some("ann@example.com"), None).await;
    let allowed = options["allowCredentials"].as_array().unwrap();
    assert_eq!(allowed.len(), 1, "{options}");
    let res = finish_login(&app, &app.pk, bobs.assert(&options)).await;
    assert_eq!(error_code(&res), Some("INVALID_CREDENTIALS"), "{res}");
    // An unknown email gets options of the same shape.
    let unknown = login_options(&app, &app.pk, Some("nobody@example.com"), None).await;
    assert_eq!(
        unknown["allowCredentials"].as_array().unwrap().len(),
        1,
        "{unknown}"
    );
    // Bob cannot finish the registration Ann began.
    let options = app.gql(None, Some(&ann), REG_OPTIONS, json!({})).await;
    let answer = bobs.register(&options["data"]["passkeyRegistrationOptions"]);
    let res = app
        .gql(None, Some(&bob), FINISH_REG, json!({"c": answer}))
        .await;
    assert_eq!(error_code(&res), Some("CHALLENGE_INVALID"), "{res}");
}

#[tokio::test]
async fn a_passkey_of_another_project_signs_nobody_in() {
    let (app, _, mut auth) = with_passkey("Laptop").await;
    let other = projects::create(&app.services.db, "Other", Some("other"))
        .await
        .unwrap();
    let pk = &other.publishable_key;
    let options = login_options(&app, pk, None, None).await;
    let res = finish_login(&app, pk, auth.assert(&options)).await;
    assert_eq!(error_code(&res), Some("INVALID_CREDENTIALS"), "{res}");
    // Options of the default project are void in the other one.
    let options = login_options(&app, &app.pk, None, None).await;
    let res = finish_login(&app, pk, auth.assert(&options)).await;
    assert_eq!(error_code(&res), Some("CHALLENGE_INVALID"), "{res}");
}

#[tokio::test]
async fn adding_a_passkey_needs_a_fresh_sign_in_or_the_password() {
    let app = app().await;
    let (token, id) = app.user("ann@example.com").await;
    let old = chrono::Utc::now() - chrono::Duration::minutes(30);
    entity::session::Entity::update_many()
        .col_expr(entity::session::Column::CreatedAt, Expr::value(old))
        .filter(entity::session::Column::UserId.eq(&id))
        .exec(&app.services.db)
        .await
        .unwrap();
    let stale = app.gql(None, Some(&token), REG_OPTIONS, json!({})).await;
    assert_eq!(error_code(&stale), Some("FORBIDDEN"), "{stale}");
    let wrong = app
        .gql(None, Some(&token), REG_OPTIONS, json!({"p": "not it"}))
        .await;
    assert_eq!(error_code(&wrong), Some("INVALID_CREDENTIALS"), "{wrong}");
    let ok = app
        .gql(None, Some(&token), REG_OPTIONS, json!({"p": PW}))
        .await;
    assert!(
        ok["data"]["passkeyRegistrationOptions"]["challenge"].is_string(),
        "{ok}"
    );
    let anon = app.gql(Some(&app.pk), None, REG_OPTIONS, json!({})).await;
    assert_eq!(error_code(&anon), Some("UNAUTHENTICATED"), "{anon}");
}

#[tokio::test]
async fn passkeys_are_renamed_and_deleted_but_never_the_last_way_in() {
    let app = app().await;
    let (token, id) = app.user("ann@example.com").await;
    let mut laptop = SoftAuthenticator::new(ORIGIN);
    let first = register(&app, &token, &mut laptop, "Laptop").await;
    let rename = "mutation($i: String!, $n: String!) { renamePasskey(id: $i, name: $n) { name } }";
    let res = app
        .gql(
            None,
            Some(&token),
            rename,
            json!({"i": first, "n": " Work laptop "}),
        )
        .await;
    assert_eq!(res["data"]["renamePasskey"]["name"], "Work laptop", "{res}");
    let res = app
        .gql(None, Some(&token), rename, json!({"i": first, "n": ""}))
        .await;
    assert_eq!(error_code(&res), Some("VALIDATION"), "{res}");
    let (bob, _) = app.user("bob@example.com").await;
    let res = app
        .gql(None, Some(&bob), rename, json!({"i": first, "n": "mine"}))
        .await;
    assert_eq!(error_code(&res), Some("NOT_FOUND"), "{res}");

    // Without a password, the only passkey is the only way in.
    entity::user::Entity::update_many()
        .col_expr(entity::user::Column::PasswordHash, Expr::value(""))
        .filter(entity::user::Column::Id.eq(&id))
        .exec(&app.services.db)
        .await
        .unwrap();
    let delete = "mutation($i: String!) { deletePasskey(id: $i) }";
    let res = app
        .gql(None, Some(&token), delete, json!({"i": first}))
        .await;
    assert_eq!(error_code(&res), Some("FORBIDDEN"), "{res}");
    let mut phone = SoftAuthenticator::new(ORIGIN);
    register(&app, &token, &mut phone, "Phone").await;
    let res = app
        .gql(None, Some(&token), delete, json!({"i": first}))
        .await;
    assert_eq!(res["data"]["deletePasskey"], true, "{res}");
    let res = sign_in(&app, &mut laptop).await;
    assert_eq!(error_code(&res), Some("INVALID_CREDENTIALS"), "{res}");
    assert!(sign_in(&app, &mut phone).await["data"]["finishPasskeyLogin"]["token"].is_string());
}

#[tokio::test]
async fn a_passkey_answers_the_second_factor_challenge_of_a_password_log_in() {
    let app = app().await;
    let (token, _, _) = with_totp(&app, "ann@example.com").await;
    let mut auth = SoftAuthenticator::new(ORIGIN);
    register(&app, &token, &mut auth, "Laptop").await;
    let res = app
        .gql(
            Some(&app.pk),
            None,
            LOG_IN,
            json!({"i": {"email": "ann@example.com", "password": PW}}),
        )
        .await;
    let challenge = &res["data"]["logIn"]["secondFactorRequired"];
    assert_eq!(
        challenge["methods"],
        json!(["totp", "recovery_code", "passkey"]),
        "{res}"
    );
    let id = challenge["challengeId"].as_str().unwrap();
    let options = login_options(&app, &app.pk, None, Some(id)).await;
    assert_eq!(
        options["allowCredentials"].as_array().unwrap().len(),
        1,
        "{options}"
    );
    let res = finish_login(&app, &app.pk, auth.assert(&options)).await;
    let done = &res["data"]["finishPasskeyLogin"];
    assert!(done["token"].is_string(), "{res}");
    // The challenge is spent.
    let res = app
        .gql(Some(&app.pk), None, LOGIN_OPTIONS, json!({"c": id}))
        .await;
    assert_eq!(error_code(&res), Some("CHALLENGE_INVALID"), "{res}");
}

#[tokio::test]
async fn a_verified_passkey_is_both_factors_under_the_required_policy_and_an_unverified_one_is_not()
{
    let (app, _, mut verified) = with_passkey("Laptop").await;
    let (bob, _) = app.user("bob@example.com").await;
    let mut presence_only = SoftAuthenticator::new(ORIGIN);
    presence_only.verifies_user = false;
    register(&app, &bob, &mut presence_only, "Old key").await;
    apply_users(&app, "second_factor = 'required'").await;

    let res = app
        .gql(
            Some(&app.pk),
            None,
            LOG_IN,
            json!({"i": {"email": "ann@example.com", "password": PW}}),
        )
        .await;
    assert_eq!(
        res["data"]["logIn"]["secondFactorRequired"]["methods"],
        json!(["passkey"]),
        "{res}"
    );
    let res = sign_in(&app, &mut verified).await;
    assert!(
        res["data"]["finishPasskeyLogin"]["token"].is_string(),
        "{res}"
    );

    let res = sign_in(&app, &mut presence_only).await;
    let out = &res["data"]["finishPasskeyLogin"];
    assert_eq!(out["token"], Value::Null, "{res}");
    assert_eq!(
        out["secondFactorRequired"]["methods"],
        json!(["enrol_totp"]),
        "{res}"
    );
}

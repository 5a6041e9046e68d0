//! OAuth2 / OpenID Connect sign-in through GraphQL against the in-process
//! fake provider (`fake_oidc.rs`).
use authgraph::domain::apply;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use crate::fake_oidc::{FakeOidc, REDIRECT};
use crate::helpers::{TestApp, error_code};

const START: &str = "mutation($p: String!, $r: String!) { startOAuth(provider: $p, redirectUrl: $r) { url state } }";
const FINISH: &str = "mutation($s: String!, $c: String!) { finishOAuth(state: $s, code: $c) { token user { id email verified data identities { provider email emailVerified } } secondFactorRequired { methods } } }";

pub async fn world(extra: &str) -> (TestApp, FakeOidc) {
    world_with(extra, |_| {}).await
}

async fn world_with(
    extra: &str,
    edit: impl FnOnce(&mut authgraph::config::Config),
) -> (TestApp, FakeOidc) {
    let fake = FakeOidc::start().await;
    let app = TestApp::spawn_custom(None, edit).await;
    let file = apply::parse(&fake.collection_toml(extra)).unwrap();
    apply::apply_with(&app.services, &file).await.unwrap();
    (app, fake)
}

/// Starts a flow: (url, state).
pub async fn start(app: &TestApp) -> (String, String) {
    let res = app
        .gql(
            Some(&app.pk),
            None,
            START,
            json!({"p": "fake", "r": REDIRECT}),
        )
        .await;
    let s = &res["data"]["startOAuth"];
    assert!(s["url"].is_string(), "{res}");
    (
        s["url"].as_str().unwrap().to_owned(),
        s["state"].as_str().unwrap().to_owned(),
    )
}

pub async fn finish(app: &TestApp, state: &str, code: &str) -> Value {
    app.gql(Some(&app.pk), None, FINISH, json!({"s": state, "c": code}))
        .await
}

/// A whole sign-in with these claims.
pub(crate) async fn sign_in(app: &TestApp, fake: &FakeOidc, claims: Value) -> Value {
    let (url, state) = start(app).await;
    let code = fake.authorize(&url, claims);
    finish(app, &state, &code).await
}

fn ann(verified: bool) -> Value {
    json!({"sub": "ann-1", "email": "ann@example.com", "email_verified": verified,
           "name": "Ann", "picture": "https://img.test/ann.png"})
}

#[tokio::test]
async fn a_first_sign_in_creates_the_user_and_the_next_finds_it() {
    let (app, fake) = world("").await;
    let res = app
        .gql(
            Some(&app.pk),
            None,
            "{ oauthProviders { name displayName } }",
            json!({}),
        )
        .await;
    assert_eq!(
        res["data"]["oauthProviders"],
        json!([{"name": "fake", "displayName": "fake"}])
    );
    let (url, _) = start(&app).await;
    assert!(
        url.starts_with(&format!("{}/authorize?", fake.issuer)),
        "{url}"
    );
    assert!(url.contains("nonce=") && url.contains("code_challenge="));
    let res = sign_in(&app, &fake, ann(true)).await;
    let user = &res["data"]["finishOAuth"]["user"];
    assert!(res["data"]["finishOAuth"]["token"].is_string(), "{res}");
    assert_eq!(user["email"], "ann@example.com");
    assert_eq!(user["verified"], true);
    assert_eq!(user["data"]["name"], "Ann");
    assert_eq!(user["data"]["avatar_url"], "https://img.test/ann.png");
    assert_eq!(
        user["identities"],
        json!([{"provider": "fake", "email": "ann@example.com", "emailVerified": true}])
    );
    let again = sign_in(&app, &fake, ann(true)).await;
    assert_eq!(
        again["data"]["finishOAuth"]["user"]["id"], user["id"],
        "{again}"
    );
    // The token works, and `me` lists the identity.
    let token = again["data"]["finishOAuth"]["token"].as_str().unwrap();
    let me = app
        .gql(
            None,
            Some(token),
            "{ me { id identities { provider email } } }",
            json!({}),
        )
        .await;
    assert_eq!(me["data"]["me"]["identities"][0]["provider"], "fake");
}

#[tokio::test]
async fn an_unverified_email_makes_an_unverified_user_and_a_changed_email_no_second_user() {
    let (app, fake) = world("").await;
    let res = sign_in(&app, &fake, ann(false)).await;
    let user = &res["data"]["finishOAuth"]["user"];
    assert_eq!(user["verified"], false, "{res}");
    let moved = json!({"sub": "ann-1", "email": "ann@new.example", "email_verified": true});
    let again = sign_in(&app, &fake, moved).await;
    let same = &again["data"]["finishOAuth"]["user"];
    assert_eq!(same["id"], user["id"], "{again}");
    assert_eq!(same["identities"][0]["email"], "ann@new.example");
    let n = app
        .services
        .db
        .query_one_raw(sea_orm::Statement::from_string(
            app.services.db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM users",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap();
    assert_eq!(n, 1);
}

#[tokio::test]
async fn a_state_is_used_once_and_expires() {
    let (app, fake) = world("").await;
    let (url, state) = start(&app).await;
    let code = fake.authorize(&url, ann(true));
    assert!(finish(&app, &state, &code).await["data"]["finishOAuth"]["token"].is_string());
    let code2 = fake.authorize(&url, ann(true));
    let reused = finish(&app, &state, &code2).await;
    assert_eq!(error_code(&reused), Some("OAUTH_REJECTED"), "{reused}");

    let (url, state) = start(&app).await;
    let code = fake.authorize(&url, ann(true));
    app.services
        .db
        .execute_unprepared("UPDATE oauth_flows SET expires_at = 0")
        .await
        .unwrap();
    let expired = finish(&app, &state, &code).await;
    assert_eq!(error_code(&expired), Some("OAUTH_REJECTED"), "{expired}");
    let unknown = finish(&app, "made-up", &code).await;
    assert_eq!(error_code(&unknown), Some("OAUTH_REJECTED"));
}

#[tokio::test]
async fn a_redirect_url_off_the_list_is_refused() {
    let (app, _fake) = world("").await;
    let res = app
        .gql(
            Some(&app.pk),
            None,
            START,
            json!({"p": "fake", "r": "http://app.test/callback/x"}),
        )
        .await;
    assert_eq!(error_code(&res), Some("VALIDATION"), "{res}");
    let res = app
        .gql(
            Some(&app.pk),
            None,
            START,
            json!({"p": "nope", "r": REDIRECT}),
        )
        .await;
    assert_eq!(error_code(&res), Some("NOT_FOUND"), "{res}");
}

#[tokio::test]
async fn a_pkce_mismatch_is_refused() {
    let (app, fake) = world("").await;
    let (url, state) = start(&app).await;
    let code = fake.authorize(&url, ann(true));
    fake.tamper_challenge(&code);
    let res = finish(&app, &state, &code).await;
    assert_eq!(error_code(&res), Some("OAUTH_REJECTED"), "{res}");
}

#[tokio::test]
async fn id_tokens_with_a_wrong_audience_issuer_nonce_or_expiry_are_refused() {
    let (app, fake) = world("").await;
    let past = chrono::Utc::now().timestamp() - 3600;
    for (fault, expected) in [
        (json!({"aud": "another-client"}), "another client"),
        (json!({"iss": "https://evil.test"}), "another issuer"),
        (json!({"nonce": "replayed"}), "nonce"),
        (json!({"exp": past}), "expired"),
    ] {
        let mut claims = ann(true);
        for (k, v) in fault.as_object().unwrap() {
            claims[k] = v.clone();
        }
        let res = sign_in(&app, &fake, claims).await;
        assert_eq!(error_code(&res), Some("OAUTH_REJECTED"), "{fault}: {res}");
        let msg = res["errors"][0]["message"].as_str().unwrap();
        assert!(msg.contains(expected), "{fault}: {msg}");
    }
}

#[tokio::test]
async fn an_unknown_key_id_fetches_the_key_set_again() {
    let (app, fake) = world("").await;
    assert!(sign_in(&app, &fake, ann(true)).await["data"]["finishOAuth"]["token"].is_string());
    assert_eq!(fake.jwks_fetches(), 1);
    // Cached: no fetch for a known key.
    assert!(sign_in(&app, &fake, ann(true)).await["data"]["finishOAuth"]["token"].is_string());
    assert_eq!(fake.jwks_fetches(), 1);
    // A key the provider does not publish: one more fetch (not sooner than
    // two seconds after the last), then refused.
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    fake.set(|s| s.signing = 1);
    let res = sign_in(&app, &fake, ann(true)).await;
    assert_eq!(error_code(&res), Some("OAUTH_REJECTED"), "{res}");
    assert_eq!(fake.jwks_fetches(), 2);
    // Right away again: no fetch, refused.
    let res = sign_in(&app, &fake, ann(true)).await;
    assert_eq!(error_code(&res), Some("OAUTH_REJECTED"), "{res}");
    assert_eq!(fake.jwks_fetches(), 2);
    // The provider rotates to a new key: fetched again, accepted.
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    fake.set(|s| s.published = vec![0, 1]);
    let res = sign_in(&app, &fake, ann(true)).await;
    assert!(res["data"]["finishOAuth"]["token"].is_string(), "{res}");
    assert_eq!(fake.jwks_fetches(), 3);
}

#[tokio::test]
async fn an_existing_account_is_linked_only_by_a_verified_email_when_the_collection_allows_it() {
    // Linking off (the default): refused even with a verified email.
    let (app, fake) = world("").await;
    app.sign_up("ann@example.com", "correct horse battery", json!({}))
        .await;
    let res = sign_in(&app, &fake, ann(true)).await;
    assert_eq!(error_code(&res), Some("FORBIDDEN"), "{res}");

    let (app, fake) = world("oauth2_link_by_email = true").await;
    let signed = app
        .sign_up("ann@example.com", "correct horse battery", json!({}))
        .await;
    let id = signed["data"]["signUp"]["user"]["id"].clone();
    // Unverified at the provider: refused.
    let res = sign_in(&app, &fake, ann(false)).await;
    assert_eq!(error_code(&res), Some("FORBIDDEN"), "{res}");
    // Verified: the same account.
    let res = sign_in(&app, &fake, ann(true)).await;
    assert_eq!(res["data"]["finishOAuth"]["user"]["id"], id, "{res}");
    // The password still works.
    let pw = app.log_in("ann@example.com", "correct horse battery").await;
    assert!(pw["data"]["logIn"]["token"].is_string(), "{pw}");
}

#[tokio::test]
async fn a_sign_in_in_a_collection_requiring_a_second_factor_gets_a_challenge() {
    let (app, fake) = world("second_factor = \"required\"").await;
    let res = sign_in(&app, &fake, ann(true)).await;
    let out = &res["data"]["finishOAuth"];
    assert!(out["token"].is_null(), "{res}");
    assert_eq!(
        out["secondFactorRequired"]["methods"],
        json!(["enrol_totp"])
    );
}

#[tokio::test]
async fn a_provider_that_does_not_answer_in_time_gets_a_clear_error() {
    let (app, fake) = world_with("", |c| c.oauth_timeout_ms = 300).await;
    fake.set(|s| s.delay_ms = 3000);
    let t = std::time::Instant::now();
    let res = sign_in(&app, &fake, ann(true)).await;
    assert_eq!(
        error_code(&res),
        Some("OAUTH_PROVIDER_UNAVAILABLE"),
        "{res}"
    );
    assert!(
        res["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("in time")
    );
    assert!(t.elapsed() < std::time::Duration::from_secs(2));
}

#[tokio::test]
async fn the_client_secret_is_never_printed() {
    let fake = FakeOidc::start().await;
    let file = apply::parse(&fake.collection_toml("")).unwrap();
    let shown = format!("{file:?}");
    assert!(!shown.contains(crate::fake_oidc::CLIENT_SECRET), "{shown}");
}

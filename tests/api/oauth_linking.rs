//! Explicit linking: a signed-in user starts a flow for linking
//! (`startOAuth(link: true)`), finishes it with `linkIdentity`, and unlinks
//! with `unlinkIdentity`; the last way to sign in cannot be removed.
use std::time::Duration;

use authgraph::domain::apply;
use serde_json::{Value, json};

use crate::fake_oidc::{CLIENT_ID, CLIENT_SECRET, FakeOidc, REDIRECT};
use crate::helpers::{RECORD_MAIL, TestApp, error_code};

const START_LINK: &str = "mutation($p: String!, $r: String!) { startOAuth(provider: $p, redirectUrl: $r, link: true) { url state } }";
const LINK: &str =
    "mutation($s: String!, $c: String!) { linkIdentity(state: $s, code: $c) { provider email } }";
const UNLINK: &str = "mutation($p: String!) { unlinkIdentity(provider: $p) { provider email } }";
const START: &str = "mutation($p: String!, $r: String!) { startOAuth(provider: $p, redirectUrl: $r) { url state } }";
const FINISH: &str =
    "mutation($s: String!, $c: String!) { finishOAuth(state: $s, code: $c) { token user { id } } }";

/// The fake provider twice: as `fake` and as `other`.
async fn world() -> (TestApp, FakeOidc) {
    let fake = FakeOidc::start().await;
    let app = TestApp::spawn_custom(None, |c| c.smtp_url = RECORD_MAIL.into()).await;
    let other = format!(
        "[[collections.oauth2]]\nname = \"other\"\nprovider = \"oidc\"\nissuer = \"{}\"\n\
         client_id = \"{CLIENT_ID}\"\nclient_secret = \"{CLIENT_SECRET}\"\nredirect_urls = [\"{REDIRECT}\"]\n",
        fake.issuer
    );
    let file = apply::parse(&fake.collection_toml(&other)).unwrap();
    apply::apply_with(&app.services, &file).await.unwrap();
    (app, fake)
}

/// Starts a flow (for linking when a token is given) and consents: (state, code).
async fn consent(
    app: &TestApp,
    fake: &FakeOidc,
    token: Option<&str>,
    provider: &str,
    (sub, email): (&str, &str),
) -> (String, String) {
    let c = json!({"sub": sub, "email": email, "email_verified": true});
    let (query, key) = match token {
        Some(_) => (START_LINK, None),
        None => (START, Some(app.pk.as_str())),
    };
    let res = app
        .gql(key, token, query, json!({"p": provider, "r": REDIRECT}))
        .await;
    let s = &res["data"]["startOAuth"];
    let url = s["url"].as_str().unwrap_or_else(|| panic!("{res}"));
    (
        s["state"].as_str().unwrap().to_owned(),
        fake.authorize(url, c),
    )
}

async fn link(app: &TestApp, token: &str, state: &str, code: &str) -> Value {
    app.gql(None, Some(token), LINK, json!({"s": state, "c": code}))
        .await
}

async fn unlink(app: &TestApp, token: &str, provider: &str) -> Value {
    app.gql(None, Some(token), UNLINK, json!({"p": provider}))
        .await
}

/// Signs in through `provider` with these claims: (token, user id).
async fn oauth_user(
    app: &TestApp,
    fake: &FakeOidc,
    provider: &str,
    c: (&str, &str),
) -> (String, String) {
    let (state, code) = consent(app, fake, None, provider, c).await;
    let res = app
        .gql(Some(&app.pk), None, FINISH, json!({"s": state, "c": code}))
        .await;
    let f = &res["data"]["finishOAuth"];
    (
        f["token"]
            .as_str()
            .unwrap_or_else(|| panic!("{res}"))
            .to_owned(),
        f["user"]["id"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn a_signed_in_user_links_a_provider_signs_in_with_it_and_unlinks_it() {
    let (app, fake) = world().await;
    let (token, id) = app.user("ann@example.com").await;
    let (state, code) = consent(
        &app,
        &fake,
        Some(&token),
        "fake",
        ("ann-gh", "ann@work.test"),
    )
    .await;
    let res = link(&app, &token, &state, &code).await;
    assert_eq!(
        res["data"]["linkIdentity"],
        json!([{"provider": "fake", "email": "ann@work.test"}]),
        "{res}"
    );
    let me = app
        .gql(
            None,
            Some(&token),
            "{ me { identities { provider email } } }",
            json!({}),
        )
        .await;
    assert_eq!(me["data"]["me"]["identities"][0]["provider"], "fake");
    // The administrator sees them too.
    let admin = app
        .gql(
            Some(&app.sk),
            None,
            "query($id: ID!) { user(id: $id) { identities { provider } } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(
        admin["data"]["user"]["identities"],
        json!([{"provider": "fake"}]),
        "{admin}"
    );
    // The linked account now signs in as Ann (another email, no new user).
    let (_, signed_in_as) = oauth_user(&app, &fake, "fake", ("ann-gh", "ann@work.test")).await;
    assert_eq!(signed_in_as, id);
    // Ann has a password: the provider can go.
    let res = unlink(&app, &token, "fake").await;
    assert_eq!(res["data"]["unlinkIdentity"], json!([]), "{res}");
    assert_eq!(
        error_code(&unlink(&app, &token, "fake").await),
        Some("NOT_FOUND")
    );
}

#[tokio::test]
async fn the_last_way_to_sign_in_stays_until_a_password_is_set() {
    let (app, fake) = world().await;
    let (token, _) = oauth_user(&app, &fake, "fake", ("bo-1", "bo@example.com")).await;
    let refused = unlink(&app, &token, "fake").await;
    assert_eq!(error_code(&refused), Some("FORBIDDEN"), "{refused}");
    // A second provider: now the first one can go, and the second stays.
    let (state, code) = consent(
        &app,
        &fake,
        Some(&token),
        "other",
        ("bo-2", "bo@example.com"),
    )
    .await;
    assert!(link(&app, &token, &state, &code).await["data"]["linkIdentity"].is_array());
    let res = unlink(&app, &token, "fake").await;
    assert_eq!(
        res["data"]["unlinkIdentity"],
        json!([{"provider": "other", "email": "bo@example.com"}])
    );
    assert_eq!(
        error_code(&unlink(&app, &token, "other").await),
        Some("FORBIDDEN")
    );
    // The password reset gives the account a password; then the last identity may go.
    let req = "mutation($e: String!) { requestPasswordReset(email: $e) }";
    app.gql(Some(&app.pk), None, req, json!({"e": "bo@example.com"}))
        .await;
    let mut mail = None;
    for _ in 0..200 {
        mail = app.outbox.lock().unwrap().first().cloned();
        if mail.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let body = mail.expect("a reset mail").body;
    let label = "Token, for apps that ask for it:";
    let reset_token = body[body.find(label).unwrap() + label.len()..]
        .split_whitespace()
        .next()
        .unwrap();
    let reset = "mutation($i: ResetPasswordInput!) { resetPassword(input: $i) }";
    let input = json!({"i": {"token": reset_token, "newPassword": "a password at last"}});
    let res = app.gql(Some(&app.pk), None, reset, input).await;
    assert_eq!(res["data"]["resetPassword"], true, "{res}");
    let login = app.log_in("bo@example.com", "a password at last").await;
    let token = login["data"]["logIn"]["token"].as_str().unwrap().to_owned();
    assert_eq!(
        unlink(&app, &token, "other").await["data"]["unlinkIdentity"],
        json!([])
    );
}

#[tokio::test]
async fn a_link_flow_belongs_to_its_user_and_signs_nobody_in() {
    let (app, fake) = world().await;
    let (ann, _) = app.user("ann@example.com").await;
    let (bob, _) = app.user("bob@example.com").await;
    // finishOAuth refuses a flow started for linking.
    let (state, code) = consent(&app, &fake, Some(&ann), "fake", ("x-1", "x@example.com")).await;
    let res = app
        .gql(Some(&app.pk), None, FINISH, json!({"s": state, "c": code}))
        .await;
    assert_eq!(error_code(&res), Some("FORBIDDEN"), "{res}");
    // Another user cannot finish Ann's link, nor link with a sign-in flow.
    let (state, code) = consent(&app, &fake, Some(&ann), "fake", ("x-1", "x@example.com")).await;
    assert_eq!(
        error_code(&link(&app, &bob, &state, &code).await),
        Some("FORBIDDEN")
    );
    let (state, code) = consent(&app, &fake, None, "fake", ("x-2", "y@example.com")).await;
    assert_eq!(
        error_code(&link(&app, &ann, &state, &code).await),
        Some("FORBIDDEN")
    );
    // A provider account of Bob's is not moved to Ann.
    let (state, code) = consent(
        &app,
        &fake,
        Some(&bob),
        "fake",
        ("bob-gh", "bob@example.com"),
    )
    .await;
    assert!(link(&app, &bob, &state, &code).await["data"]["linkIdentity"].is_array());
    let (state, code) = consent(
        &app,
        &fake,
        Some(&ann),
        "fake",
        ("bob-gh", "bob@example.com"),
    )
    .await;
    assert_eq!(
        error_code(&link(&app, &ann, &state, &code).await),
        Some("FORBIDDEN")
    );
    // Linking needs a signed-in user.
    let res = app
        .gql(
            Some(&app.pk),
            None,
            START_LINK,
            json!({"p": "fake", "r": REDIRECT}),
        )
        .await;
    assert_eq!(error_code(&res), Some("UNAUTHENTICATED"), "{res}");
}

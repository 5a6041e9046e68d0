use authgraph::auth::tokens::{Claims, TokenKind, TokenService};
use authgraph::domain::projects;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;

use crate::helpers::{TestApp, error_code};

fn claims_of(app: &TestApp, token: &str) -> Claims {
    app.services.tokens.verify(token).unwrap()
}

#[tokio::test]
async fn expired_tokens_are_refused() {
    let app = TestApp::spawn().await;
    let (token, _) = app.user("exp@example.com").await;
    let mut claims = claims_of(&app, &token);
    claims.iat -= 7200;
    claims.exp = chrono::Utc::now().timestamp() - 60;
    let expired = app.services.tokens.sign(&claims).unwrap();
    assert_eq!(error_code(&app.me(&expired).await), Some("INVALID_TOKEN"));
}

#[tokio::test]
async fn forged_and_alg_none_tokens_are_refused() {
    let app = TestApp::spawn().await;
    let (token, _) = app.user("forge@example.com").await;
    let claims = claims_of(&app, &token);
    let forged = TokenService::new(b"attacker-secret-attacker-secret-0")
        .sign(&claims)
        .unwrap();
    assert_eq!(error_code(&app.me(&forged).await), Some("INVALID_TOKEN"));

    let payload = token.split('.').nth(1).unwrap();
    for header in [
        r#"{"alg":"none","typ":"JWT"}"#,
        r#"{"alg":"HS512","typ":"JWT"}"#,
    ] {
        let h = URL_SAFE_NO_PAD.encode(header);
        assert_eq!(
            error_code(&app.me(&format!("{h}.{payload}.")).await),
            Some("INVALID_TOKEN"),
            "{header}"
        );
    }
    // A tampered payload breaks the signature.
    let mut tampered: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    tampered["tv"] = json!(99);
    let parts: Vec<&str> = token.split('.').collect();
    let bad = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(tampered.to_string()),
        parts[2]
    );
    assert_eq!(error_code(&app.me(&bad).await), Some("INVALID_TOKEN"));
    assert_eq!(
        error_code(&app.me("not-a-jwt").await),
        Some("INVALID_TOKEN")
    );
}

#[tokio::test]
async fn a_token_or_key_of_one_project_never_reaches_another() {
    let app = TestApp::spawn().await;
    let (a_token, a_id) = app.user("a@example.com").await;
    let b = projects::create(&app.services.db, "Project B", None)
        .await
        .unwrap();
    let res = app
        .gql(
            Some(&b.publishable_key),
            None,
            "mutation { signUp(input: {email: \"b@example.com\", password: \"correct horse battery\"}) { token user { id } } }",
            json!({}),
        )
        .await;
    let b_token = res["data"]["signUp"]["token"].as_str().unwrap().to_owned();
    let b_id = res["data"]["signUp"]["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // B's token presented with A's key.
    let mixed = app
        .gql(Some(&app.pk), Some(&b_token), "{ me { id } }", json!({}))
        .await;
    assert_eq!(error_code(&mixed), Some("INVALID_TOKEN"));
    // A's secret key cannot read B's users, by id or in the list.
    let q = "query($id: String!) { user(id: $id) { id email } }";
    let cross = app.gql(Some(&app.sk), None, q, json!({"id": b_id})).await;
    assert_eq!(error_code(&cross), Some("NOT_FOUND"));
    let list = app
        .gql(
            Some(&app.sk),
            None,
            "{ users { items { id } totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(list["data"]["users"]["items"], json!([{"id": a_id}]));
    assert_eq!(list["data"]["users"]["totalCount"], 1);
    // B's user logs in only through B's key: A's key knows no such user.
    let login = app
        .gql(Some(&app.pk), None, "mutation { logIn(input: {email: \"b@example.com\", password: \"correct horse battery\"}) { token } }", json!({}))
        .await;
    assert_eq!(error_code(&login), Some("INVALID_CREDENTIALS"));
    assert_eq!(app.me(&a_token).await["data"]["me"]["id"], a_id);
}

#[tokio::test]
async fn a_disabled_user_is_locked_out_at_once_and_can_be_enabled_again() {
    let app = TestApp::spawn().await;
    let (token, id) = app.user("dis@example.com").await;
    let disable = app
        .gql(
            Some(&app.sk),
            None,
            "mutation($id: String!) { disableUser(id: $id) { disabled } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(
        disable["data"]["disableUser"]["disabled"], true,
        "{disable}"
    );
    assert!(
        error_code(&app.me(&token).await)
            .is_some_and(|c| c == "INVALID_TOKEN" || c == "ACCOUNT_DISABLED")
    );
    assert_eq!(
        error_code(&app.log_in("dis@example.com", "correct horse battery").await),
        Some("ACCOUNT_DISABLED")
    );
    // A publishable key cannot do this.
    let res = app
        .gql(
            Some(&app.pk),
            None,
            "mutation($id: String!) { enableUser(id: $id) { disabled } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(error_code(&res), Some("FORBIDDEN"));
    app.gql(
        Some(&app.sk),
        None,
        "mutation($id: String!) { enableUser(id: $id) { disabled } }",
        json!({"id": id}),
    )
    .await;
    let login = app.log_in("dis@example.com", "correct horse battery").await;
    assert!(login["data"]["logIn"]["token"].is_string(), "{login}");
    // The token issued before disabling stays dead.
    assert_eq!(error_code(&app.me(&token).await), Some("INVALID_TOKEN"));
}

#[tokio::test]
async fn superuser_tokens_administer_the_project_named_by_a_key() {
    use authgraph::domain::superusers;
    let app = TestApp::spawn().await;
    let (_, id) = app.user("member@example.com").await;
    superusers::upsert(&app.services, "root@example.com", "a long admin password")
        .await
        .unwrap();
    let (su_token, _) = superusers::log_in(
        &app.services,
        "ROOT@example.com",
        "a long admin password",
        &Default::default(),
    )
    .await
    .unwrap();
    assert_eq!(claims_of(&app, &su_token).kind, TokenKind::Superuser);
    let q = "query($id: String!) { user(id: $id) { email } }";
    let res = app
        .gql(Some(&app.pk), Some(&su_token), q, json!({"id": id}))
        .await;
    assert_eq!(res["data"]["user"]["email"], "member@example.com", "{res}");
    // Re-upserting changes the password and revokes the old superuser token.
    superusers::upsert(&app.services, "root@example.com", "another admin password")
        .await
        .unwrap();
    let res = app
        .gql(Some(&app.pk), Some(&su_token), q, json!({"id": id}))
        .await;
    assert_eq!(error_code(&res), Some("INVALID_TOKEN"));
    assert!(
        superusers::log_in(
            &app.services,
            "root@example.com",
            "a long admin password",
            &Default::default()
        )
        .await
        .is_err()
    );
}

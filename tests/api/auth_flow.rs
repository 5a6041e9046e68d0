use serde_json::json;

use crate::helpers::{TestApp, error_code};

#[tokio::test]
async fn sign_up_log_in_read_and_update_the_profile_end_to_end() {
    let app = TestApp::spawn().await;
    let res = app
        .sign_up(
            "  Ann@Example.com ",
            "correct horse battery",
            json!({"name": "Ann", "tags": ["a"]}),
        )
        .await;
    let user = &res["data"]["signUp"]["user"];
    assert_eq!(user["email"], "Ann@Example.com");
    assert_eq!(user["data"], json!({"name": "Ann", "tags": ["a"]}));
    assert_eq!(user["roles"], json!(["user"]));
    assert_eq!(user["verified"], false);
    let id = user["id"].as_str().unwrap();
    assert_eq!(id.len(), 15);

    // Log-in ignores the case of the address.
    let login = app.log_in("ann@example.COM", "correct horse battery").await;
    assert_eq!(login["data"]["logIn"]["user"]["id"], id, "{login}");
    let token = login["data"]["logIn"]["token"].as_str().unwrap();

    let me = app.me(token).await;
    assert_eq!(me["data"]["me"]["id"], id);

    let updated = app
        .update_me(
            token,
            json!({"data": {"city": "Paris"}, "append": {"tags": ["b", "c"]}}),
        )
        .await;
    assert_eq!(
        updated["data"]["updateMe"]["data"],
        json!({"name": "Ann", "city": "Paris", "tags": ["a", "b", "c"]})
    );
    let removed = app.update_me(token, json!({"remove": {"tags": "b"}})).await;
    assert_eq!(
        removed["data"]["updateMe"]["data"]["tags"],
        json!(["a", "c"])
    );
}

#[tokio::test]
async fn the_same_email_cannot_sign_up_twice_in_any_case() {
    let app = TestApp::spawn().await;
    app.user("bob@example.com").await;
    let again = app
        .sign_up("BOB@example.com", "another password", json!({}))
        .await;
    assert_eq!(error_code(&again), Some("EMAIL_EXISTS"), "{again}");
    assert!(again["data"].is_null());
}

#[tokio::test]
async fn concurrent_sign_ups_with_one_email_let_exactly_one_win() {
    let app = TestApp::spawn().await;
    let attempts =
        (0..8).map(|_| app.sign_up("race@example.com", "correct horse battery", json!({})));
    let results = futures_util::future::join_all(attempts).await;
    let wins = results
        .iter()
        .filter(|r| r["data"]["signUp"].is_object())
        .count();
    let conflicts = results
        .iter()
        .filter(|r| error_code(r) == Some("EMAIL_EXISTS"))
        .count();
    assert_eq!((wins, conflicts), (1, 7), "{results:?}");
}

#[tokio::test]
async fn unknown_email_and_wrong_password_get_the_same_answer() {
    let app = TestApp::spawn().await;
    app.user("carol@example.com").await;
    let wrong = app.log_in("carol@example.com", "not the password").await;
    let unknown = app.log_in("nobody@example.com", "not the password").await;
    assert_eq!(error_code(&wrong), Some("INVALID_CREDENTIALS"));
    assert_eq!(
        wrong["errors"][0]["message"],
        unknown["errors"][0]["message"]
    );
    assert_eq!(
        wrong["errors"][0]["extensions"],
        unknown["errors"][0]["extensions"]
    );
}

#[tokio::test]
async fn changing_the_password_revokes_earlier_tokens() {
    let app = TestApp::spawn().await;
    let (old_token, _) = app.user("erin@example.com").await;
    let q =
        "mutation($i: ChangePasswordInput!) { changePassword(input: $i) { token user { email } } }";
    let wrong = app
        .gql(
            None,
            Some(&old_token),
            q,
            json!({"i": {"currentPassword": "nope", "newPassword": "a new passphrase"}}),
        )
        .await;
    assert_eq!(error_code(&wrong), Some("INVALID_CREDENTIALS"));
    let short = app
        .gql(
            None,
            Some(&old_token),
            q,
            json!({"i": {"currentPassword": "correct horse battery", "newPassword": "short"}}),
        )
        .await;
    assert_eq!(error_code(&short), Some("WEAK_PASSWORD"));

    let res = app
        .gql(None, Some(&old_token), q, json!({"i": {"currentPassword": "correct horse battery", "newPassword": "a new passphrase"}}))
        .await;
    let new_token = res["data"]["changePassword"]["token"]
        .as_str()
        .expect("new token")
        .to_owned();

    assert_eq!(error_code(&app.me(&old_token).await), Some("INVALID_TOKEN"));
    assert_eq!(
        app.me(&new_token).await["data"]["me"]["email"],
        "erin@example.com"
    );
    assert_eq!(
        error_code(
            &app.log_in("erin@example.com", "correct horse battery")
                .await
        ),
        Some("INVALID_CREDENTIALS")
    );
    assert!(app.log_in("erin@example.com", "a new passphrase").await["data"]["logIn"].is_object());
}

#[tokio::test]
async fn passwords_are_stored_as_argon2id_phc_strings_and_never_returned() {
    use sea_orm::EntityTrait;
    let app = TestApp::spawn().await;
    let res = app
        .sign_up("frank@example.com", "correct horse battery", json!({}))
        .await;
    assert!(!res.to_string().contains("argon2"));
    let id = res["data"]["signUp"]["user"]["id"].as_str().unwrap();
    let row = entity::user::Entity::find_by_id(id)
        .one(&app.services.db)
        .await
        .unwrap()
        .unwrap();
    assert!(
        row.password_hash
            .starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{}",
        row.password_hash
    );
    // Unknown fields such as a hash are not part of the GraphQL type at all.
    let probe = app
        .gql(
            None,
            Some(res["data"]["signUp"]["token"].as_str().unwrap()),
            "{ me { passwordHash } }",
            json!({}),
        )
        .await;
    assert!(
        probe["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("Unknown field")
    );
}

#[tokio::test]
async fn sign_up_needs_a_project_key() {
    let app = TestApp::spawn().await;
    let res = app
        .gql(None, None, "mutation { signUp(input: {email: \"x@example.com\", password: \"long enough\"}) { token } }", json!({}))
        .await;
    assert_eq!(error_code(&res), Some("UNAUTHENTICATED"));
    let bogus = app
        .gql(
            Some("pk_live_notarealkey"),
            None,
            "mutation { logIn(input: {email: \"x@example.com\", password: \"x\"}) { token } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&bogus), Some("UNAUTHENTICATED"));
}

#[tokio::test]
async fn health_and_readiness_answer() {
    let app = TestApp::spawn().await;
    let health = app
        .http
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let ready = app
        .http
        .get(format!("{}/readyz", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    assert!(ready.headers().contains_key("x-request-id"));
    app.services.db.clone().close().await.unwrap();
    let down = app
        .http
        .get(format!("{}/readyz", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(down.status(), 503);
}

#[tokio::test]
async fn the_bearer_prefix_is_case_insensitive_and_optional() {
    let app = TestApp::spawn().await;
    let (token, id) = app.user("case@example.com").await;
    for header in [
        format!("BEARER {token}"),
        format!("bearer {token}"),
        token.clone(),
    ] {
        let res: serde_json::Value = app
            .http
            .post(format!("{}/graphql", app.base))
            .header("authorization", header)
            .json(&json!({"query": "{ me { id } }"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(res["data"]["me"]["id"], id.as_str(), "{res}");
    }
}

use serde_json::json;

use crate::helpers::{TestApp, error_code};

#[tokio::test]
async fn malformed_json_gets_a_400_not_a_500() {
    let app = TestApp::spawn().await;
    for body in ["{not json", "", "[1,2", "\"just a string\""] {
        let res = app
            .http
            .post(format!("{}/graphql", app.base))
            .header("content-type", "application/json")
            .header("x-api-key", &app.pk)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400, "body {body:?}");
    }
}

#[tokio::test]
async fn oversized_bodies_get_a_413() {
    let app = TestApp::spawn().await;
    let huge = json!({"query": "{ me { id } }", "variables": {"x": "z".repeat(300 * 1024)}});
    let res = app
        .http
        .post(format!("{}/graphql", app.base))
        .json(&huge)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
}

#[tokio::test]
async fn wrong_types_are_graphql_errors_that_name_the_problem() {
    let app = TestApp::spawn().await;
    let q = "mutation($i: SignUpInput!) { signUp(input: $i) { token } }";
    let res = app
        .gql(
            Some(&app.pk),
            None,
            q,
            json!({"i": {"email": 42, "password": true}}),
        )
        .await;
    assert!(res["data"].is_null());
    assert!(
        res["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("email"),
        "{res}"
    );
    let res = app
        .gql(
            Some(&app.pk),
            None,
            q,
            json!({"i": {"email": "x@example.com"}}),
        )
        .await;
    assert!(
        res["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("password"),
        "{res}"
    );
    let res = app.gql(Some(&app.pk), None, "{ nope }", json!({})).await;
    assert!(
        res["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("nope")
    );
}

#[tokio::test]
async fn invalid_emails_and_short_passwords_are_refused_with_stable_codes() {
    let app = TestApp::spawn().await;
    for email in [
        "plainaddress",
        "a@b",
        "two@@example.com",
        "sp ace@example.com",
        "",
    ] {
        let res = app.sign_up(email, "correct horse battery", json!({})).await;
        assert_eq!(error_code(&res), Some("INVALID_EMAIL"), "{email}");
    }
    let res = app.sign_up("short@example.com", "1234567", json!({})).await;
    assert_eq!(error_code(&res), Some("WEAK_PASSWORD"));
    assert_eq!(res["errors"][0]["extensions"]["field"], "password");
    let res = app
        .sign_up("long@example.com", &"p".repeat(2000), json!({}))
        .await;
    assert_eq!(error_code(&res), Some("WEAK_PASSWORD"));
    // A 64-character passphrase with spaces and Unicode is fine.
    let res = app
        .sign_up(
            "phrase@example.com",
            &"ünïcödé and spaces ".repeat(4)[..64],
            json!({}),
        )
        .await;
    assert!(res["data"]["signUp"].is_object(), "{res}");
}

#[tokio::test]
async fn unknown_collections_and_garbage_credentials_are_clear_errors() {
    let app = TestApp::spawn().await;
    let res = app
        .gql(
            Some(&app.pk),
            None,
            "mutation { signUp(input: {email: \"x@example.com\", password: \"long enough\", collection: \"nope\"}) { token } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&res), Some("NOT_FOUND"));
    let res = app
        .http
        .post(format!("{}/graphql", app.base))
        .header("authorization", "Bearer ")
        .header("x-api-key", "sk_live_!!!")
        .json(&json!({"query": "{ me { id } }"}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success() || res.status().is_client_error());
    let body: serde_json::Value = res.json().await.unwrap();
    assert!(error_code(&body).is_some(), "{body}");
}

#[tokio::test]
async fn over_deep_queries_are_refused_before_execution() {
    let app = TestApp::spawn().await;
    let q = format!(
        "{{ __schema {{ types {{ fields {{ type {{ {} name {} }} }} }} }} }}",
        "ofType { ".repeat(15),
        "} ".repeat(15)
    );
    let res = app.gql(None, None, &q, json!({})).await;
    assert!(
        res["errors"][0]["message"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("nested too deep"),
        "{res}"
    );
}

#[tokio::test]
async fn a_multipart_body_where_no_files_are_taken_is_a_validation_error_in_each_dialect() {
    let app = TestApp::spawn().await;
    let paths = [
        "/auth-collections/login",
        "/api/collections/users/auth-with-password",
        "/api/userAuth/login",
    ];
    for path in paths {
        let form = reqwest::multipart::Form::new()
            .text("email", "a@example.com")
            .part(
                "avatar",
                reqwest::multipart::Part::bytes(b"%PDF-1.7".to_vec()).file_name("a.pdf"),
            );
        let res = app
            .rest(reqwest::Method::POST, path)
            .header("x-api-key", &app.pk)
            .multipart(form)
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        assert!(status == 400 || status == 422, "{path}: {status} {text}");
        assert!(text.contains("takes a JSON body"), "{path}: {text}");
        assert!(!text.contains("not enabled"), "{path}: {text}");
    }
}

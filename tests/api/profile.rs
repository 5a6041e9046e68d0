use serde_json::json;

use crate::helpers::{TestApp, error_code};

#[tokio::test]
async fn concurrent_appends_all_land() {
    let app = TestApp::spawn().await;
    let (token, _) = app.user("gina@example.com").await;
    let updates =
        (0..20).map(|i| app.update_me(&token, json!({"append": {"following": format!("u{i}")}})));
    for res in futures_util::future::join_all(updates).await {
        assert!(res["errors"].is_null(), "{res}");
    }
    let me = app.me(&token).await;
    let mut following: Vec<String> =
        serde_json::from_value(me["data"]["me"]["data"]["following"].clone()).unwrap();
    following.sort();
    let mut expected: Vec<String> = (0..20).map(|i| format!("u{i}")).collect();
    expected.sort();
    assert_eq!(following, expected);
}

#[tokio::test]
async fn append_and_remove_handle_every_json_type() {
    let app = TestApp::spawn().await;
    let (token, _) = app.user("hank@example.com").await;
    let res = app
        .update_me(
            &token,
            json!({"append": {"mixed": ["a", 1, 2.5, true, null, {"k": [1]}, [1, 2]]}}),
        )
        .await;
    assert_eq!(
        res["data"]["updateMe"]["data"]["mixed"],
        json!(["a", 1, 2.5, true, null, {"k": [1]}, [1, 2]])
    );
    let res = app
        .update_me(
            &token,
            json!({"remove": {"mixed": ["a", 2.5, true, null, {"k": [1]}]}}),
        )
        .await;
    assert_eq!(res["data"]["updateMe"]["data"]["mixed"], json!([1, [1, 2]]));
    // Removing from a missing or non-array field changes nothing.
    let res = app
        .update_me(&token, json!({"data": {"name": "Hank"}}))
        .await;
    assert!(res["errors"].is_null());
    let res = app
        .update_me(&token, json!({"remove": {"name": "Hank", "missing": 1}}))
        .await;
    assert_eq!(res["data"]["updateMe"]["data"]["name"], "Hank");
    assert!(res["data"]["updateMe"]["data"].get("missing").is_none());
}

#[tokio::test]
async fn account_attributes_cannot_be_set_through_profile_data() {
    let app = TestApp::spawn().await;
    let (token, _) = app.user("ivy@example.com").await;
    for key in [
        "roles",
        "verified",
        "email",
        "password",
        "id",
        "token_version",
        "created_at",
    ] {
        let res = app.update_me(&token, json!({"data": {key: "x"}})).await;
        assert_eq!(error_code(&res), Some("VALIDATION"), "{key}: {res}");
        assert_eq!(res["errors"][0]["extensions"]["field"], key);
    }
    let res = app
        .update_me(&token, json!({"append": {"roles": "admin"}}))
        .await;
    assert_eq!(error_code(&res), Some("VALIDATION"));
    let me = app.me(&token).await;
    assert_eq!(me["data"]["me"]["roles"], json!(["user"]));
    assert_eq!(me["data"]["me"]["verified"], false);
    // The same guard applies at sign-up.
    let res = app
        .sign_up(
            "ivy2@example.com",
            "correct horse battery",
            json!({"roles": ["admin"]}),
        )
        .await;
    assert_eq!(error_code(&res), Some("VALIDATION"));
}

#[tokio::test]
async fn profile_data_over_the_size_limit_is_refused_and_nothing_is_lost() {
    let app = TestApp::spawn().await;
    let res = app
        .sign_up(
            "jack@example.com",
            "correct horse battery",
            json!({"bio": "x".repeat(70 * 1024)}),
        )
        .await;
    assert_eq!(error_code(&res), Some("PAYLOAD_TOO_LARGE"), "{res}");

    let (token, _) = app.user("jack2@example.com").await;
    let chunk = "y".repeat(40 * 1024);
    assert!(app.update_me(&token, json!({"data": {"a": chunk}})).await["errors"].is_null());
    // Each part is fine alone, the result is too large: the whole update rolls back.
    let res = app
        .update_me(&token, json!({"append": {"list": [chunk]}}))
        .await;
    assert_eq!(error_code(&res), Some("PAYLOAD_TOO_LARGE"), "{res}");
    let me = app.me(&token).await;
    assert_eq!(
        me["data"]["me"]["data"]["a"].as_str().unwrap().len(),
        40 * 1024
    );
    assert!(me["data"]["me"]["data"].get("list").is_none());
}

#[tokio::test]
async fn profile_arguments_must_be_objects() {
    let app = TestApp::spawn().await;
    let (token, _) = app.user("kim@example.com").await;
    for input in [
        json!({"data": [1, 2]}),
        json!({"append": "x"}),
        json!({"remove": 3}),
    ] {
        let res = app.update_me(&token, input.clone()).await;
        assert_eq!(error_code(&res), Some("VALIDATION"), "{input}");
    }
    let res = app
        .update_me(
            &token,
            json!({"data": {"tags": ["x"]}, "append": {"tags": "y"}}),
        )
        .await;
    assert_eq!(error_code(&res), Some("VALIDATION"));
}

use serde_json::json;

use crate::helpers::{TestApp, error_code};

#[tokio::test]
async fn the_secret_key_lists_all_users_and_a_user_token_only_itself() {
    let app = TestApp::spawn().await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(app.user(&format!("list{i}@example.com")).await.1);
    }
    let q = "query($l: Int!, $o: Int!) { users(limit: $l, offset: $o) { items { id email } totalCount } }";
    let page = app
        .gql(Some(&app.sk), None, q, json!({"l": 2, "o": 1}))
        .await;
    let items = page["data"]["users"]["items"].as_array().unwrap();
    assert_eq!(page["data"]["users"]["totalCount"], 5);
    // Newest first.
    assert_eq!(
        items
            .iter()
            .map(|u| u["id"].as_str().unwrap())
            .collect::<Vec<_>>(),
        vec![ids[3].as_str(), ids[2].as_str()]
    );

    let (token, _) = app.user("plain@example.com").await;
    assert_eq!(
        error_code(
            &app.gql(Some(&app.pk), None, q, json!({"l": 2, "o": 0}))
                .await
        ),
        Some("FORBIDDEN")
    );
    // A user token lists only what the default rule lets it see: itself.
    let own = app
        .gql(None, Some(&token), q, json!({"l": 50, "o": 0}))
        .await;
    let own_items = own["data"]["users"]["items"].as_array().unwrap();
    assert_eq!(own_items.len(), 1, "{own}");
    assert_eq!(own_items[0]["email"], "plain@example.com");
    assert_eq!(own["data"]["users"]["totalCount"], 1);
    assert_eq!(
        error_code(&app.gql(None, None, q, json!({"l": 2, "o": 0})).await),
        Some("UNAUTHENTICATED")
    );
    for (l, o) in [(0, 0), (501, 0), (10, -1)] {
        let res = app
            .gql(Some(&app.sk), None, q, json!({"l": l, "o": o}))
            .await;
        assert_eq!(error_code(&res), Some("VALIDATION"), "limit {l} offset {o}");
    }
}

#[tokio::test]
async fn a_user_reads_itself_by_id_but_not_others() {
    let app = TestApp::spawn().await;
    let (token, me) = app.user("self@example.com").await;
    let (_, other) = app.user("other@example.com").await;
    let q = "query($id: String!) { user(id: $id) { id email } }";
    assert_eq!(
        app.gql(None, Some(&token), q, json!({"id": me})).await["data"]["user"]["id"],
        me
    );
    assert_eq!(
        error_code(&app.gql(None, Some(&token), q, json!({"id": other})).await),
        Some("FORBIDDEN")
    );
    assert_eq!(
        app.gql(Some(&app.sk), None, q, json!({"id": other})).await["data"]["user"]["email"],
        "other@example.com"
    );
    assert_eq!(
        error_code(
            &app.gql(Some(&app.sk), None, q, json!({"id": "nosuchuser12345"}))
                .await
        ),
        Some("NOT_FOUND")
    );
}

//! Profile writes under concurrency: on SQLite they are committed in groups
//! by one writer task (`store::writer`), each under a savepoint of its own;
//! on Postgres each is its own transaction. Either way, every answered write
//! is in, and a refused one is refused alone.
use authgraph::domain::apply;
use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::cli::{Server, gql, start_with};
use crate::helpers::{TestApp, error_code, test_config};

const USERNAMES: &str = r#"
[project]
slug = "default"

[[collections]]
name = "users"

[[collections.fields]]
name = "username"
type = "text"
unique = true
"#;

/// Signs up `n` users at once; their (token, user id), in order.
async fn users(app: &TestApp, prefix: &str, n: usize) -> Vec<(String, String)> {
    let emails: Vec<String> = (0..n).map(|i| format!("{prefix}{i}@example.com")).collect();
    join_all(emails.iter().map(|e| app.user(e))).await
}

#[tokio::test]
async fn concurrent_profile_updates_of_many_users_all_land() {
    let app = TestApp::spawn().await;
    let users = users(&app, "many", 24).await;
    // Two rounds of updates, all at once: each user's second must win too.
    for round in 0..2 {
        let updates = users
            .iter()
            .enumerate()
            .map(|(i, (token, _))| app.update_me(token, json!({"data": {"n": i, "round": round}})));
        for (i, res) in join_all(updates).await.into_iter().enumerate() {
            assert!(res["errors"].is_null(), "update {i}: {res}");
            assert_eq!(res["data"]["updateMe"]["data"]["n"], i, "{res}");
        }
    }
    let reads = join_all(users.iter().map(|(token, _)| app.me(token))).await;
    let landed = reads
        .iter()
        .enumerate()
        .filter(|(i, me)| me["data"]["me"]["data"] == json!({"n": i, "round": 1}))
        .count();
    assert_eq!(landed, users.len(), "{reads:?}");
}

#[tokio::test]
async fn a_refused_update_among_concurrent_ones_fails_alone_with_its_own_error() {
    let app = TestApp::spawn().await;
    apply::apply_with(&app.services, &apply::parse(USERNAMES).unwrap())
        .await
        .unwrap();
    let users = users(&app, "uniq", 16).await;
    let (holder, _) = &users[0];
    let res = app
        .update_me(holder, json!({"data": {"username": "taken"}}))
        .await;
    assert!(res["errors"].is_null(), "{res}");
    // Everyone else at once; user 7 asks for the taken name, and user 11 for
    // a name user 12 takes in the same moment (one of the two wins).
    let wanted = |i: usize| match i {
        7 => "taken".to_owned(),
        11 | 12 => "shared".to_owned(),
        _ => format!("name{i}"),
    };
    let updates = users.iter().enumerate().skip(1).map(|(i, (token, _))| {
        app.update_me(
            token,
            json!({"data": {"username": wanted(i), "city": "Oslo"}}),
        )
    });
    let results: Vec<Value> = join_all(updates).await;
    let mut shared_won = 0;
    for (res, i) in results.iter().zip(1..) {
        match i {
            7 => {
                assert_eq!(error_code(res), Some("CONFLICT"), "{res}");
                assert!(res["data"]["updateMe"].is_null(), "{res}");
            }
            11 | 12 if error_code(res) == Some("CONFLICT") => {}
            _ => {
                assert!(res["errors"].is_null(), "update {i}: {res}");
                shared_won += usize::from(matches!(i, 11 | 12));
            }
        }
    }
    assert_eq!(shared_won, 1, "{results:?}");
    // Each refused update changed nothing of its user; every other is in.
    for (i, (token, _)) in users.iter().enumerate().skip(1) {
        let data = &app.me(token).await["data"]["me"]["data"];
        let refused = i == 7 || (matches!(i, 11 | 12) && data["username"].is_null());
        if refused {
            assert_eq!(*data, json!({}), "user {i}");
        } else {
            assert_eq!(data["username"], wanted(i), "user {i}: {data}");
            assert_eq!(data["city"], "Oslo", "user {i}: {data}");
        }
    }
}

#[tokio::test]
async fn concurrent_appends_of_many_users_lose_nothing() {
    let app = TestApp::spawn().await;
    let users = users(&app, "append", 6).await;
    // Every user appends 8 values at once, all users at once, with merges
    // of the same users in between.
    let mut updates = vec![];
    for (token, _) in &users {
        for v in 0..8 {
            updates.push(app.update_me(token, json!({"append": {"tags": format!("t{v}")}})));
            updates.push(app.update_me(token, json!({"data": {"last": v}})));
        }
    }
    for res in join_all(updates).await {
        assert!(res["errors"].is_null(), "{res}");
    }
    for (token, _) in &users {
        let me = app.me(token).await;
        let mut tags: Vec<String> =
            serde_json::from_value(me["data"]["me"]["data"]["tags"].clone()).unwrap();
        tags.sort();
        let expected: Vec<String> = (0..8).map(|v| format!("t{v}")).collect();
        assert_eq!(tags, expected, "{me}");
    }
}

/// `updateMe` of one field through the real binary.
async fn update_n(server: &Server, token: &str, n: usize) -> Value {
    let query = format!("mutation {{ updateMe(input: {{data: {{n: {n}}}}}) {{ data }} }}");
    gql(&server.base, None, Some(token), &query).await
}

#[tokio::test]
async fn updates_answered_ok_are_there_after_the_server_is_killed_and_restarted() {
    let dir = tempfile::tempdir().unwrap();
    let db = test_config(dir.path()).await.database_url;
    let env = [("AUTHGRAPH_SIGNUP_LIMIT_PER_IP", "0")];
    let mut server = start_with(dir.path(), &db, &env).await;
    let pk = server.key("publishable key:").unwrap();
    let sign_up = |i: usize| {
        let query = format!(
            "mutation {{ signUp(input: {{email: \"kill{i}@example.com\", password: \"correct horse battery\"}}) {{ token }} }}"
        );
        let (base, pk) = (server.base.clone(), pk.clone());
        async move { gql(&base, Some(&pk), None, &query).await }
    };
    let tokens: Vec<String> = join_all((0..8).map(sign_up))
        .await
        .iter()
        .map(|res| {
            res["data"]["signUp"]["token"]
                .as_str()
                .expect("token")
                .to_owned()
        })
        .collect();
    let answers = join_all(
        tokens
            .iter()
            .enumerate()
            .map(|(i, t)| update_n(&server, t, i)),
    )
    .await;
    for (i, res) in answers.iter().enumerate() {
        assert_eq!(res["data"]["updateMe"]["data"]["n"], i, "{res}");
    }
    // No graceful shutdown: what was answered must already be committed.
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    let again = start_with(dir.path(), &db, &env).await;
    for (i, token) in tokens.iter().enumerate() {
        let me = gql(&again.base, None, Some(token), "{ me { data } }").await;
        assert_eq!(me["data"]["me"]["data"]["n"], i, "{me}");
    }
}

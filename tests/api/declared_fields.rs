use authgraph::domain::apply;
use serde_json::json;

use crate::helpers::{TestApp, error_code};

const FILE: &str = r#"
[project]
slug = "default"

[[collections]]
name = "users"
min_password_length = 12
allow_undeclared_fields = false

[[collections.fields]]
name = "username"
type = "text"
unique = true
public = true

[[collections.fields]]
name = "age"
type = "number"
indexed = true

[[collections.fields]]
name = "referred_by"
type = "relation"
collection = "users"

[[collections.fields]]
name = "following"
type = "relation"
collection = "users"
many = true
"#;

#[tokio::test]
async fn declared_fields_are_typed_unique_and_closed() {
    let app = TestApp::spawn().await;
    let report = apply::apply_with(&app.services, &apply::parse(FILE).unwrap())
        .await
        .unwrap();
    assert_eq!(report.updated_collections, vec!["users"]);
    assert!(report.created_project.is_none());
    // Applying again changes nothing.
    let again = apply::apply_with(&app.services, &apply::parse(FILE).unwrap())
        .await
        .unwrap();
    assert_eq!(again.unchanged_collections, vec!["users"]);

    let pw = "twelve chars!";
    let ok = app
        .sign_up(
            "u1@example.com",
            pw,
            json!({"username": "ann", "age": 30, "following": []}),
        )
        .await;
    assert!(ok["data"]["signUp"].is_object(), "{ok}");
    let dup = app
        .sign_up("u2@example.com", pw, json!({"username": "ann"}))
        .await;
    assert_eq!(error_code(&dup), Some("CONFLICT"), "{dup}");
    assert_eq!(dup["errors"][0]["extensions"]["field"], "username");
    let wrong_type = app
        .sign_up("u3@example.com", pw, json!({"age": "thirty"}))
        .await;
    assert_eq!(error_code(&wrong_type), Some("VALIDATION"));
    assert_eq!(wrong_type["errors"][0]["extensions"]["field"], "age");
    let undeclared = app
        .sign_up("u4@example.com", pw, json!({"nickname": "x"}))
        .await;
    assert_eq!(error_code(&undeclared), Some("VALIDATION"));
    let short = app
        .sign_up("u5@example.com", "eleven char", json!({}))
        .await;
    assert_eq!(error_code(&short), Some("WEAK_PASSWORD"));
    let bad_rel = app
        .sign_up("u6@example.com", pw, json!({"following": [1, 2]}))
        .await;
    assert_eq!(error_code(&bad_rel), Some("VALIDATION"));

    // Changing a username to a taken one is a conflict too, and rolls back.
    let (token, _) = {
        let r = app
            .sign_up("u7@example.com", pw, json!({"username": "bob"}))
            .await;
        (
            r["data"]["signUp"]["token"].as_str().unwrap().to_owned(),
            (),
        )
    };
    let res = app
        .update_me(&token, json!({"data": {"username": "ann", "age": 5}}))
        .await;
    assert_eq!(error_code(&res), Some("CONFLICT"), "{res}");
    let me = app.me(&token).await;
    assert_eq!(me["data"]["me"]["data"], json!({"username": "bob"}));

    // Dropping `unique` drops the index: the same name is then accepted.
    let relaxed = FILE.replace("unique = true", "unique = false");
    apply::apply_with(&app.services, &apply::parse(&relaxed).unwrap())
        .await
        .unwrap();
    let res = app
        .update_me(&token, json!({"data": {"username": "ann"}}))
        .await;
    assert!(res["errors"].is_null(), "{res}");
}

#[tokio::test]
async fn a_unique_declaration_over_duplicate_data_is_refused_by_name() {
    let app = TestApp::spawn().await;
    app.sign_up(
        "d1@example.com",
        "correct horse battery",
        json!({"username": "same"}),
    )
    .await;
    app.sign_up(
        "d2@example.com",
        "correct horse battery",
        json!({"username": "same"}),
    )
    .await;
    let file = "[project]\nslug='default'\n[[collections]]\nname='users'\n[[collections.fields]]\nname='username'\ntype='text'\nunique=true\n";
    let err = apply::apply_with(&app.services, &apply::parse(file).unwrap())
        .await
        .unwrap_err();
    assert_eq!(err.field(), Some("username"), "{err:?}");
}

/// Whether the planner has statistics of the `users` table.
async fn has_statistics(db: &sea_orm::DatabaseConnection) -> bool {
    use sea_orm::{ConnectionTrait, DbBackend, Statement};
    let backend = db.get_database_backend();
    let ask = |sql: &str| {
        let stmt = Statement::from_string(backend, sql.to_owned());
        async move {
            let row = db.query_one_raw(stmt).await.unwrap().unwrap();
            row.try_get::<bool>("", "ok").unwrap()
        }
    };
    match backend {
        // Column statistics come only from ANALYZE (CREATE INDEX counts rows, no more).
        DbBackend::Postgres => {
            ask("SELECT EXISTS (SELECT 1 FROM pg_stats WHERE tablename = 'users') AS ok").await
        }
        _ => {
            ask("SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1') AS ok")
                .await
                && ask("SELECT EXISTS (SELECT 1 FROM sqlite_stat1 WHERE tbl = 'users') AS ok").await
        }
    }
}

#[tokio::test]
async fn declaring_an_index_gives_the_planner_statistics_at_once() {
    let app = TestApp::spawn().await;
    for i in 0..20 {
        let profile = json!({"city": format!("c{}", i % 4), "age": i});
        app.sign_up(
            &format!("u{i}@example.com"),
            "correct horse battery",
            profile,
        )
        .await;
    }
    assert!(!has_statistics(&app.services.db).await);
    let file = "[project]\nslug = 'default'\n[[collections]]\nname = 'users'\n[[collections.fields]]\nname = 'city'\ntype = 'text'\nindexed = true\n";
    apply::apply_with(&app.services, &apply::parse(file).unwrap())
        .await
        .unwrap();
    assert!(has_statistics(&app.services.db).await);
}

//! The one filter behind every front door: every operator, relations, paging,
//! the query count of relation resolution, and index use, on SQLite and Postgres.
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use authgraph::domain::apply;
use authgraph::domain::filter::{Field, Filter, Op};
use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryTrait, Statement};
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_code};

const FILE: &str = r#"
[project]
slug = "default"
[[collections]]
name = "users"
[[collections.fields]]
name = "city"
type = "text"
indexed = true
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

struct World {
    app: TestApp,
    ids: std::collections::HashMap<&'static str, String>,
    tokens: std::collections::HashMap<&'static str, String>,
    after_cid: chrono::DateTime<chrono::Utc>,
}

async fn sign_up(app: &TestApp, email: &str, data: Value) -> (String, String) {
    let res = app.sign_up(email, "correct horse battery", data).await;
    let p = &res["data"]["signUp"];
    assert!(p.is_object(), "{res}");
    (
        p["token"].as_str().unwrap().to_owned(),
        p["user"]["id"].as_str().unwrap().to_owned(),
    )
}

async fn world(app: TestApp) -> World {
    apply::apply_with(&app.services, &apply::parse(FILE).unwrap())
        .await
        .unwrap();
    let mut ids = std::collections::HashMap::new();
    let mut tokens = std::collections::HashMap::new();
    let (t, ann) = sign_up(
        &app,
        "ann@x.io",
        json!({"city": "Oslo", "age": 30, "name": "Ann Lee", "tags": ["a", "b"], "secret": "s1"}),
    )
    .await;
    tokens.insert("ann", t);
    let (t, bob) = sign_up(
        &app,
        "bob@x.io",
        json!({"city": "Paris", "age": 25, "name": "Bob Stone", "referred_by": ann}),
    )
    .await;
    tokens.insert("bob", t);
    let (t, cid) = sign_up(
        &app,
        "cid@x.io",
        json!({"city": "Oslo", "age": 41, "name": "Cid", "bio": null, "referred_by": ann, "following": [ann, bob]}),
    )
    .await;
    tokens.insert("cid", t);
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let after_cid = chrono::Utc::now();
    let (t, dee) = sign_up(
        &app,
        "dee@x.io",
        json!({"age": 19.5, "name": "dee", "following": [cid]}),
    )
    .await;
    tokens.insert("dee", t);
    ids.insert("ann", ann);
    ids.insert("bob", bob);
    ids.insert("cid", cid);
    ids.insert("dee", dee);
    World {
        app,
        ids,
        tokens,
        after_cid,
    }
}

const USERS: &str = "query($w: UserWhere, $o: [UserOrder!]) { users(where: $w, orderBy: $o, limit: 100) { items { email } } }";

async fn emails(w: &World, filter: Value) -> Vec<String> {
    let res = w
        .app
        .gql(Some(&w.app.sk), None, USERS, json!({"w": filter}))
        .await;
    let items = res["data"]["users"]["items"]
        .as_array()
        .unwrap_or_else(|| panic!("{filter}: {res}"));
    let mut out: Vec<String> = items
        .iter()
        .map(|u| {
            u["email"]
                .as_str()
                .unwrap()
                .trim_end_matches("@x.io")
                .to_owned()
        })
        .collect();
    out.sort();
    out
}

fn c(field: &str, op: &str, value: Value) -> Value {
    json!({"field": field, "op": op, "value": value})
}

#[tokio::test]
async fn every_operator_filters_the_same_on_every_database() {
    let w = world(TestApp::spawn().await).await;
    let cases: Vec<(Value, Vec<&str>)> = vec![
        (c("city", "EQ", json!("Oslo")), vec!["ann", "cid"]),
        (c("city", "NE", json!("Oslo")), vec!["bob", "dee"]),
        (c("age", "GT", json!(25)), vec!["ann", "cid"]),
        (c("age", "GTE", json!(25)), vec!["ann", "bob", "cid"]),
        (c("age", "LT", json!(25)), vec!["dee"]),
        (c("age", "LTE", json!(25)), vec!["bob", "dee"]),
        (c("name", "CONTAINS", json!("Stone")), vec!["bob"]),
        (c("name", "CONTAINS", json!("stone")), vec![]),
        (c("name", "ICONTAINS", json!("ANN")), vec!["ann"]),
        (c("name", "STARTSWITH", json!("Ci")), vec!["cid"]),
        (c("name", "ENDSWITH", json!("Lee")), vec!["ann"]),
        (c("city", "IN", json!(["Paris", "Rome"])), vec!["bob"]),
        (c("city", "NOTIN", json!(["Oslo"])), vec!["bob", "dee"]),
        (c("city", "ISNULL", json!(true)), vec!["dee"]),
        (c("city", "ISNULL", json!(false)), vec!["ann", "bob", "cid"]),
        (
            c("bio", "ISNULL", json!(true)),
            vec!["ann", "bob", "cid", "dee"],
        ),
        (c("tags", "CONTAINS", json!("a")), vec!["ann"]),
        (c("email", "EQ", json!("ANN@x.io")), vec!["ann"]),
        (c("email", "ICONTAINS", json!("BOB")), vec!["bob"]),
        (
            c("email", "ENDSWITH", json!("@x.io")),
            vec!["ann", "bob", "cid", "dee"],
        ),
        (
            c("id", "IN", json!([w.ids["ann"], w.ids["bob"]])),
            vec!["ann", "bob"],
        ),
        (
            c("createdAt", "GT", json!(w.after_cid.to_rfc3339())),
            vec!["dee"],
        ),
        (
            c("createdAt", "LTE", json!(w.after_cid.to_rfc3339())),
            vec!["ann", "bob", "cid"],
        ),
        (
            c("verified", "EQ", json!(false)),
            vec!["ann", "bob", "cid", "dee"],
        ),
        (
            c("roles", "CONTAINS", json!("user")),
            vec!["ann", "bob", "cid", "dee"],
        ),
        (c("roles", "CONTAINS", json!("admin")), vec![]),
        (
            json!({"or": [c("city", "EQ", json!("Paris")), c("age", "GT", json!(40))]}),
            vec!["bob", "cid"],
        ),
        (
            json!({"and": [c("city", "EQ", json!("Oslo")), c("age", "LT", json!(35))]}),
            vec!["ann"],
        ),
        (
            json!({"not": c("city", "EQ", json!("Oslo"))}),
            vec!["bob", "dee"],
        ),
        (
            c("referred_by.email", "EQ", json!("ann@x.io")),
            vec!["bob", "cid"],
        ),
        (c("following.name", "EQ", json!("Cid")), vec!["dee"]),
        (c("following", "CONTAINS", json!(w.ids["bob"])), vec!["cid"]),
        // A string never equals a number, on either database.
        (c("age", "EQ", json!("30")), vec![]),
    ];
    for (filter, expected) in cases {
        assert_eq!(emails(&w, filter.clone()).await, expected, "{filter}");
    }
}

#[tokio::test]
async fn sorting_and_cursor_paging_are_stable() {
    let w = world(TestApp::spawn().await).await;
    let res = w
        .app
        .gql(
            Some(&w.app.sk),
            None,
            USERS,
            json!({"o": [{"field": "age", "direction": "DESC"}]}),
        )
        .await;
    let order: Vec<&str> = res["data"]["users"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap())
        .collect();
    assert_eq!(order, ["cid@x.io", "ann@x.io", "bob@x.io", "dee@x.io"]);

    let page = "query($a: String) { users(first: 2, after: $a, orderBy: [{field: \"name\"}]) { edges { cursor node { email } } pageInfo { hasNextPage endCursor } totalCount } }";
    let one = w.app.gql(Some(&w.app.sk), None, page, json!({})).await;
    let conn = &one["data"]["users"];
    assert_eq!(conn["totalCount"], 4);
    assert_eq!(conn["edges"][0]["node"]["email"], "ann@x.io");
    assert_eq!(conn["pageInfo"]["hasNextPage"], true);
    let two = w
        .app
        .gql(
            Some(&w.app.sk),
            None,
            page,
            json!({"a": conn["pageInfo"]["endCursor"]}),
        )
        .await;
    let conn = &two["data"]["users"];
    let rest: Vec<&str> = conn["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["email"].as_str().unwrap())
        .collect();
    assert_eq!(rest, ["cid@x.io", "dee@x.io"]);
    assert_eq!(conn["pageInfo"]["hasNextPage"], false);
    let bad = w
        .app
        .gql(Some(&w.app.sk), None, page, json!({"a": "not-a-cursor"}))
        .await;
    assert_eq!(error_code(&bad), Some("VALIDATION"));
}

#[tokio::test]
async fn bad_filters_are_validation_errors_never_500s() {
    let w = world(TestApp::spawn().await).await;
    for filter in [
        c("a b", "EQ", json!(1)),
        c("city", "IN", json!("Oslo")),
        c("city", "ISNULL", json!("maybe")),
        c("createdAt", "GT", json!("yesterday")),
        c("city", "EQ", json!({"x": 1})),
        json!({"value": 1}),
    ] {
        let res = w
            .app
            .gql(Some(&w.app.sk), None, USERS, json!({"w": filter}))
            .await;
        assert_eq!(error_code(&res), Some("VALIDATION"), "{filter}: {res}");
    }
    // SQL in values is data.
    assert_eq!(
        emails(&w, c("city", "EQ", json!("x' OR '1'='1"))).await,
        Vec::<String>::new()
    );
}

const RELATIONS: &str = "query($n: Int!) { users(limit: $n) { items { id referredBy { email } following { email } referrals { email } } } }";

#[tokio::test]
async fn relations_resolve_in_a_constant_number_of_queries_whatever_the_page_size() {
    let counter = Arc::new(AtomicUsize::new(0));
    let w = world(TestApp::spawn_counting(Some(counter.clone())).await).await;
    // More users pointing at the first ones, so pages of different sizes differ.
    for i in 0..12 {
        sign_up(
            &w.app,
            &format!("extra{i}@x.io"),
            json!({"referred_by": w.ids["cid"], "following": [w.ids["ann"], w.ids["dee"]]}),
        )
        .await;
    }
    let mut counts = Vec::new();
    for n in [2, 16] {
        counter.store(0, Ordering::SeqCst);
        let res = w
            .app
            .gql(Some(&w.app.sk), None, RELATIONS, json!({"n": n}))
            .await;
        assert!(res["errors"].is_null(), "{res}");
        assert_eq!(
            res["data"]["users"]["items"].as_array().unwrap().len(),
            n as usize
        );
        counts.push(counter.load(Ordering::SeqCst));
    }
    // One statement per batch, not per user: the page, the collection, the
    // users behind `referredBy`/`following` (one batch, or two when the
    // scheduler splits them) and the reverse relation. Resolving per user
    // would take more than 16 for the larger page.
    eprintln!("statements per page size 2/16: {counts:?}");
    for count in &counts {
        assert!(*count <= 6, "queries for 2 vs 16 users: {counts:?}");
    }
    assert!(counts[1] <= counts[0] + 1, "{counts:?}");

    // The data is right: cid's referrer and follows, ann's referrals.
    let q = "query($w: UserWhere) { users(where: $w) { items { referredBy { email } following { email } referrals { email } } } }";
    let res = w
        .app
        .gql(
            Some(&w.app.sk),
            None,
            q,
            json!({"w": c("email", "EQ", json!("cid@x.io"))}),
        )
        .await;
    let cid = &res["data"]["users"]["items"][0];
    assert_eq!(cid["referredBy"]["email"], "ann@x.io");
    assert_eq!(
        cid["following"],
        json!([{"email": "ann@x.io"}, {"email": "bob@x.io"}])
    );
    assert_eq!(cid["referrals"].as_array().unwrap().len(), 12);
}

#[tokio::test]
async fn related_users_show_a_user_only_their_public_fields() {
    let w = world(TestApp::spawn().await).await;
    let res = w
        .app
        .gql(
            None,
            Some(&w.tokens["bob"]),
            "{ me { email referredBy { id email data roles } } }",
            json!({}),
        )
        .await;
    let referrer = &res["data"]["me"]["referredBy"];
    assert_eq!(referrer["id"], w.ids["ann"].as_str());
    assert!(referrer["email"].is_null(), "{res}");
    // `city` is declared public; `age`, `name`, `secret` are not.
    assert_eq!(referrer["data"], json!({"city": "Oslo"}));
    assert_eq!(referrer["roles"], json!([]));
}

/// The plan of the query `users::query` runs: one collection, one filter.
async fn explain(db: &sea_orm::DatabaseConnection, filter: &Filter) -> String {
    use sea_orm::ColumnTrait;
    let backend = db.get_database_backend();
    let project = authgraph::domain::projects::find_by_slug(db, "default")
        .await
        .unwrap();
    let coll = authgraph::domain::collections::find(db, &project.id, "users")
        .await
        .unwrap();
    let cond = authgraph::store::filter::condition(backend, filter, &Default::default()).unwrap();
    let stmt = entity::user::Entity::find()
        .filter(entity::user::Column::ProjectId.eq(project.id))
        .filter(entity::user::Column::CollectionId.eq(coll.id))
        .filter(cond)
        .build(backend);
    let prefix = if backend == DbBackend::Postgres {
        "EXPLAIN "
    } else {
        "EXPLAIN QUERY PLAN "
    };
    let stmt = Statement {
        sql: format!("{prefix}{}", stmt.sql),
        ..stmt
    };
    let txn = sea_orm::TransactionTrait::begin(db).await.unwrap();
    if backend == DbBackend::Postgres {
        // The test table is tiny; make the planner show whether the index applies.
        txn.execute_unprepared("SET LOCAL enable_seqscan = off")
            .await
            .unwrap();
    }
    let rows = txn.query_all_raw(stmt).await.unwrap();
    let mut plan = String::new();
    for row in rows {
        let line: String = if backend == DbBackend::Postgres {
            row.try_get("", "QUERY PLAN").unwrap()
        } else {
            row.try_get("", "detail").unwrap()
        };
        plan.push_str(&line);
        plan.push('\n');
    }
    txn.rollback().await.unwrap();
    plan
}

#[tokio::test]
async fn an_eq_filter_on_an_indexed_field_uses_its_index() {
    let w = world(TestApp::spawn().await).await;
    let db = &w.app.services.db;
    let indexed = explain(
        db,
        &Filter::cond(Field::Data(vec!["city".into()]), Op::Eq, json!("Oslo")),
    )
    .await;
    assert!(
        indexed.contains("_uf_") && indexed.contains("_city"),
        "plan: {indexed}"
    );
    let range = explain(
        db,
        &Filter::cond(Field::Data(vec!["age".into()]), Op::Gt, json!(30)),
    )
    .await;
    assert!(
        range.contains("_uf_") && range.contains("_age"),
        "plan: {range}"
    );
    let plain = explain(
        db,
        &Filter::cond(Field::Data(vec!["name".into()]), Op::Eq, json!("Cid")),
    )
    .await;
    assert!(!plain.contains("_name"), "plan: {plain}");
}

#[tokio::test]
async fn cocobase_filters_through_relations_and_pocketbase_expressions_agree() {
    let w = world(TestApp::spawn().await).await;
    let res: Value = w
        .app
        .http
        .get(format!(
            "{}/auth-collections/users?referred_by.email_eq=ann@x.io&sort=age&order=asc",
            w.app.base
        ))
        .header("x-api-key", &w.app.sk)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let got: Vec<&str> = res["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap())
        .collect();
    assert_eq!(got, ["bob@x.io", "cid@x.io"], "{res}");
    assert_eq!(res["total"], 2);
}

#[tokio::test]
async fn cocobase_populate_embeds_relations_in_one_page() {
    let w = world(TestApp::spawn().await).await;
    let get = |q: &'static str| {
        let app = &w.app;
        async move {
            app.http
                .get(format!("{}/auth-collections/users?{q}", app.base))
                .header("x-api-key", &app.sk)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let res = get("email_eq=cid@x.io&populate=referred_by&populate=following").await;
    let data = &res["data"][0]["data"];
    assert_eq!(data["referred_by"]["email"], "ann@x.io", "{res}");
    assert_eq!(data["referred_by"]["data"]["city"], "Oslo");
    let following: Vec<&str> = data["following"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap())
        .collect();
    assert_eq!(following, ["ann@x.io", "bob@x.io"]);
    let star = get("email_eq=bob@x.io&populate=*").await;
    assert_eq!(
        star["users"][0]["data"]["referred_by"]["id"],
        w.ids["ann"].as_str()
    );
    // Without populate the id stays an id.
    let plain = get("email_eq=bob@x.io").await;
    assert_eq!(
        plain["users"][0]["data"]["referred_by"],
        w.ids["ann"].as_str()
    );
}

#[tokio::test]
async fn pocketbase_expand_follows_nested_relations_for_superusers_only() {
    let w = world(TestApp::spawn().await).await;
    authgraph::domain::superusers::upsert(&w.app.services, "root@x.io", "a long admin password")
        .await
        .unwrap();
    let (su, _) = authgraph::domain::superusers::log_in(
        &w.app.services,
        "root@x.io",
        "a long admin password",
        &Default::default(),
    )
    .await
    .unwrap();
    let url = format!(
        "{}/api/collections/users/records?filter=(email='dee@x.io')&expand=following.referred_by,following.following",
        w.app.base
    );
    let res: Value = w
        .app
        .http
        .get(&url)
        .header("authorization", &su)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let cid = &res["items"][0]["expand"]["following"][0];
    assert_eq!(cid["email"], "cid@x.io", "{res}");
    assert_eq!(cid["expand"]["referred_by"]["email"], "ann@x.io");
    assert_eq!(cid["expand"]["following"].as_array().unwrap().len(), 2);
    // A user sees only its own record, and nothing of others through expand.
    let own = format!(
        "{}/api/collections/users/records?expand=following",
        w.app.base
    );
    let res: Value = w
        .app
        .http
        .get(&own)
        .header("authorization", &w.tokens["dee"])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(res["totalItems"], 1);
    assert!(res["items"][0].get("expand").is_none(), "{res}");
    let bad = w
        .app
        .http
        .get(format!(
            "{}/api/collections/users/records?expand=a..b",
            w.app.base
        ))
        .header("authorization", &su)
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
}

#[tokio::test]
async fn pocketbase_fields_keeps_only_the_named_keys() {
    let w = world(TestApp::spawn().await).await;
    authgraph::domain::superusers::upsert(&w.app.services, "root@x.io", "a long admin password")
        .await
        .unwrap();
    let (su, _) = authgraph::domain::superusers::log_in(
        &w.app.services,
        "root@x.io",
        "a long admin password",
        &Default::default(),
    )
    .await
    .unwrap();
    let url = format!(
        "{}/api/collections/users/records?filter=(email='cid@x.io')&expand=referred_by&fields=id,city,expand.referred_by",
        w.app.base
    );
    let res: Value = w
        .app
        .http
        .get(&url)
        .header("authorization", &su)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let item = res["items"][0].as_object().unwrap();
    let mut keys: Vec<&String> = item.keys().collect();
    keys.sort();
    assert_eq!(keys, ["city", "expand", "id"], "{res}");
    assert_eq!(item["expand"]["referred_by"]["email"], "ann@x.io");
}

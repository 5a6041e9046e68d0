//! `users(first, after)` pages by keyset cursors: walking every page gives the
//! sequence of one big page for every kind of order (NULLs, JSON values of
//! mixed types, ties), rows added between pages cause no duplicate and no
//! skip, cursors are checked and bound to their `orderBy`, offset cursors
//! still work, and a deep page seeks the index that serves the order.
use authgraph::domain::apply;
use authgraph::domain::users::{UserQuery, paging};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sea_orm::Set as set;
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_code};

/// One declared number field, indexed (SQLite orders it by its index's typed expression).
const FILE: &str = r#"
[project]
slug = "default"
[[collections]]
name = "users"
fields = [{ name = "score", type = "number", indexed = true }]
"#;

const PAGE: &str = "query($o: [UserOrder!], $a: String, $n: Int, $off: Int) { users(collection: \"users\", first: $n, after: $a, offset: $off, orderBy: $o) { edges { cursor node { id } } pageInfo { hasNextPage hasPreviousPage endCursor } } }";

/// Rows inserted so far, for fresh ids.
struct Rows {
    app: TestApp,
    project: String,
    collection: String,
    next: usize,
}

impl Rows {
    async fn new() -> Rows {
        let app = TestApp::spawn().await;
        apply::apply_with(&app.services, &apply::parse(FILE).unwrap())
            .await
            .unwrap();
        let project = app.default_project().await.id;
        let collection = authgraph::domain::collections::find(&app.services.db, &project, "users")
            .await
            .unwrap()
            .id;
        Rows {
            app,
            project,
            collection,
            next: 0,
        }
    }

    /// Inserts row number `self.next`: its keys vary with its number, with
    /// ties (three rows a second), missing fields, JSON null, and profile
    /// values of every JSON type.
    async fn add(&mut self) {
        let i = self.next;
        self.next += 1;
        let mut data = serde_json::Map::new();
        // A declared number: missing, a string, integers with ties, fractions.
        let score = match i {
            _ if i % 5 == 0 => None,
            _ if i % 11 == 0 => Some(json!("x")),
            _ if i % 4 == 1 => Some(json!((i % 7) as f64 + 0.5)),
            _ => Some(json!(i % 7)),
        };
        // An undeclared number: missing, JSON null, ties.
        let rank = match i {
            _ if i % 3 == 0 => None,
            _ if i % 7 == 0 => Some(Value::Null),
            _ => Some(json!(i % 6)),
        };
        // Every JSON type, objects and arrays too.
        let tag = match i % 9 {
            0 => Some(json!(format!("b{}", i % 3))),
            1 => Some(json!(i % 4)),
            2 => Some(json!(true)),
            3 => Some(json!(false)),
            4 => Some(Value::Null),
            5 => None,
            6 => Some(json!("A")),
            7 => Some(json!({"o": i % 2})),
            _ => Some(json!([1, i % 2])),
        };
        for (k, v) in [("score", score), ("rank", rank), ("tag", tag)] {
            if let Some(v) = v {
                data.insert(k.into(), v);
            }
        }
        let base = chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        let at = base + chrono::Duration::milliseconds((i / 3) as i64 * 1500);
        let email = format!("User{:03}-{i}@Example.IO", (i * 37) % 1000);
        let row = entity::user::ActiveModel {
            id: set(format!("r{:02}{}", (i * 37) % 100, i)),
            project_id: set(self.project.clone()),
            collection_id: set(self.collection.clone()),
            email_normalized: set(email.to_lowercase()),
            email: set(email),
            password_hash: set("x".into()),
            data: set(Value::Object(data)),
            roles: set(json!(["user"])),
            verified: set(i % 2 == 0),
            disabled: set(false),
            token_version: set(0),
            created_at: set(at),
            updated_at: set(at),
        };
        sea_orm::ActiveModelTrait::insert(row, &self.app.services.db)
            .await
            .unwrap();
    }

    async fn page(&self, order: &Value, n: i64, after: Option<&str>) -> Value {
        let vars = json!({"o": order, "n": n, "a": after});
        let res = self.app.gql(Some(&self.app.sk), None, PAGE, vars).await;
        assert!(res["errors"].is_null(), "{order}: {res}");
        res["data"]["users"].clone()
    }

    /// The ids of one page of everything, in order.
    async fn all(&self, order: &Value) -> Vec<String> {
        ids(&self.page(order, 500, None).await)
    }

    /// The ids of every page of `n` walked by `after`, adding `add_between`
    /// rows after each page.
    async fn walk(&mut self, order: &Value, n: i64, add_between: usize) -> Vec<String> {
        let mut seen = Vec::new();
        let mut after: Option<String> = None;
        for _ in 0..200 {
            let conn = self.page(order, n, after.as_deref()).await;
            seen.extend(ids(&conn));
            assert_eq!(conn["pageInfo"]["hasPreviousPage"], after.is_some());
            if conn["pageInfo"]["hasNextPage"] != true {
                return seen;
            }
            after = conn["pageInfo"]["endCursor"].as_str().map(str::to_owned);
            for _ in 0..add_between {
                self.add().await;
            }
        }
        panic!("{order}: no last page");
    }
}

fn ids(conn: &Value) -> Vec<String> {
    conn["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap().to_owned())
        .collect()
}

fn orders() -> Vec<Value> {
    let by = |field: &str, dir: &str| json!({"field": field, "direction": dir});
    vec![
        json!([]),
        json!([by("email", "ASC")]),
        json!([by("score", "ASC")]),
        json!([by("score", "DESC")]),
        json!([by("rank", "DESC")]),
        json!([by("rank", "ASC")]),
        json!([by("tag", "ASC")]),
        json!([by("tag", "DESC")]),
        json!([by("verified", "DESC"), by("score", "ASC")]),
        json!([by("rank", "ASC"), by("createdAt", "DESC")]),
        json!([by("updatedAt", "ASC"), by("tag", "DESC")]),
    ]
}

#[tokio::test]
async fn walking_every_page_by_cursor_gives_the_order_of_one_big_page() {
    let mut rows = Rows::new().await;
    for _ in 0..60 {
        rows.add().await;
    }
    for order in orders() {
        let all = rows.all(&order).await;
        assert_eq!(all.len(), 60);
        for n in [1, 7] {
            assert_eq!(rows.walk(&order, n, 0).await, all, "{order}, pages of {n}");
        }
    }
}

#[tokio::test]
async fn rows_added_between_pages_cause_no_duplicate_and_no_skip() {
    let mut rows = Rows::new().await;
    for _ in 0..45 {
        rows.add().await;
    }
    // Orders whose keys bind exactly on both databases (no objects or
    // arrays, which SQLite pages past by offset from the last row that binds).
    let by = |field: &str, dir: &str| json!({"field": field, "direction": dir});
    for order in [
        json!([]),
        json!([by("email", "ASC")]),
        json!([by("score", "DESC")]),
        json!([by("rank", "ASC")]),
        json!([by("verified", "ASC"), by("rank", "DESC")]),
    ] {
        let before = rows.all(&order).await;
        let walked = rows.walk(&order, 6, 3).await;
        let mut unique = walked.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), walked.len(), "{order}: a row came twice");
        let old: Vec<&String> = walked.iter().filter(|id| before.contains(id)).collect();
        assert_eq!(old, before.iter().collect::<Vec<_>>(), "{order}");
        // What was added during the walk is in the list now.
        assert!(rows.all(&order).await.len() > before.len());
    }
}

/// A keyset cursor as the server makes it, around `body`.
fn signed(body: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest([b"authgraph users cursor\0", body.as_bytes()].concat());
    let sum = hex::encode(&digest[..8]);
    URL_SAFE_NO_PAD.encode(format!("k1:{sum}:{body}"))
}

#[tokio::test]
async fn garbled_forged_and_foreign_cursors_are_refused_with_a_stable_code() {
    let mut rows = Rows::new().await;
    for _ in 0..10 {
        rows.add().await;
    }
    let by_score = json!([{"field": "score", "direction": "ASC"}]);
    let conn = rows.page(&by_score, 3, None).await;
    let cursor = conn["pageInfo"]["endCursor"].as_str().unwrap().to_owned();
    let decoded = String::from_utf8(URL_SAFE_NO_PAD.decode(&cursor).unwrap()).unwrap();
    assert!(decoded.starts_with("k1:"), "{decoded}");
    // The same cursor made by hand is accepted (the test knows the format).
    let raw = decoded.splitn(3, ':').nth(2).unwrap();
    assert_eq!(signed(raw), cursor);
    let body: Value = serde_json::from_str(raw).unwrap();

    let edited = URL_SAFE_NO_PAD.encode(decoded.replacen("\"s\":0", "\"s\":1", 1));
    let mut ill_typed = body.clone();
    ill_typed["k"][0] = json!({"t": "2026-01-01T00:00:00Z"});
    let mut too_short = body.clone();
    too_short["k"] = json!([{"s": "r00"}]);
    let mut huge_skip = body.clone();
    huge_skip["s"] = json!(u64::MAX);
    let cases = [
        "not a cursor".to_owned(),
        format!("{cursor}x"),
        cursor[..cursor.len() - 4].to_owned(),
        edited,
        URL_SAFE_NO_PAD.encode(decoded.replacen("k1:", "k9:", 1)),
        signed(&json!({"o": "data.score:asc", "k": null}).to_string()),
        signed(&ill_typed.to_string()),
        signed(&too_short.to_string()),
        signed(&huge_skip.to_string()),
        URL_SAFE_NO_PAD.encode(format!("o:{}", u64::MAX)),
    ];
    for bad in cases {
        let vars = json!({"o": by_score, "n": 3, "a": bad});
        let res = rows.app.gql(Some(&rows.app.sk), None, PAGE, vars).await;
        assert_eq!(error_code(&res), Some("VALIDATION"), "{bad}: {res}");
        assert_eq!(res["errors"][0]["extensions"]["field"], "after", "{res}");
    }
    // A cursor of another order is refused, and says so.
    for other in [
        json!([]),
        json!([{"field": "score", "direction": "DESC"}]),
        json!([{"field": "score"}, {"field": "rank"}]),
    ] {
        let vars = json!({"o": other, "n": 3, "a": cursor});
        let res = rows.app.gql(Some(&rows.app.sk), None, PAGE, vars).await;
        assert_eq!(error_code(&res), Some("VALIDATION"), "{res}");
        let message = res["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains("orderBy"), "{message}");
    }
    // `after` and `offset` together stay an error.
    let vars = json!({"o": by_score, "n": 3, "a": cursor, "off": 2});
    let res = rows.app.gql(Some(&rows.app.sk), None, PAGE, vars).await;
    assert_eq!(error_code(&res), Some("VALIDATION"), "{res}");
}

#[tokio::test]
async fn offset_cursors_clients_already_hold_still_page() {
    let mut rows = Rows::new().await;
    for _ in 0..20 {
        rows.add().await;
    }
    for order in [json!([]), json!([{"field": "tag", "direction": "ASC"}])] {
        let all = rows.all(&order).await;
        // The cursor of the row at offset 4, as cursors were before keysets.
        let old = URL_SAFE_NO_PAD.encode("o:4");
        let vars = json!({"o": order, "n": 5, "a": old});
        let res = rows.app.gql(Some(&rows.app.sk), None, PAGE, vars).await;
        let conn = &res["data"]["users"];
        assert_eq!(ids(conn), all[5..10], "{res}");
        assert_eq!(conn["pageInfo"]["hasPreviousPage"], true);
        // Its page's cursors go on from there.
        let next = conn["pageInfo"]["endCursor"].as_str().unwrap();
        assert_eq!(ids(&rows.page(&order, 5, Some(next)).await), all[10..15]);
        // `offset` keeps its meaning, and its cursors page on from it.
        let vars = json!({"o": order, "n": 5, "off": 12});
        let res = rows.app.gql(Some(&rows.app.sk), None, PAGE, vars).await;
        let conn = &res["data"]["users"];
        assert_eq!(ids(conn), all[12..17], "{res}");
        let next = conn["pageInfo"]["endCursor"].as_str().unwrap();
        assert_eq!(ids(&rows.page(&order, 5, Some(next)).await), all[17..20]);
    }
}

#[tokio::test]
async fn a_deep_page_newest_first_seeks_the_order_index_without_sorting() {
    let mut rows = Rows::new().await;
    for _ in 0..300 {
        rows.add().await;
    }
    // Statistics, as after any import.
    apply::apply_with(&rows.app.services, &apply::parse(FILE).unwrap())
        .await
        .unwrap();
    let order = json!([]);
    let mut after = None;
    for _ in 0..4 {
        let conn = rows.page(&order, 50, after.as_deref()).await;
        after = conn["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    }
    let start = paging::start(after.as_deref(), None, &[]).unwrap();
    assert!(start.anchor.is_some() && start.skip == 0, "{start:?}");
    let q = UserQuery {
        collection: Some("users".into()),
        limit: 50,
        ..Default::default()
    };
    let svc = &rows.app.services;
    let plan = paging::plan(&svc.db, &svc.catalog, &rows.project, &q, &start)
        .await
        .unwrap()
        .join("\n");
    assert!(
        plan.contains("ix_users_collection_created_id"),
        "plan: {plan}"
    );
    assert!(!plan.contains("TEMP B-TREE"), "plan: {plan}");
    assert!(
        !plan.contains("Sort") && !plan.contains("Seq Scan"),
        "plan: {plan}"
    );
    // The seek bounds the index scan (SQLite: a range on created_at; Postgres:
    // an index condition on it), rather than filtering from the start.
    let bounded = plan.contains("created_at<?")
        || plan.contains("Index Cond") && plan.contains("created_at <=");
    assert!(bounded, "plan: {plan}");
    // And the page is the one after the 200th row.
    let conn = rows.page(&order, 50, after.as_deref()).await;
    assert_eq!(ids(&conn), rows.all(&order).await[200..250]);
}

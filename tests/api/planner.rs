//! The planner uses the declared indexes: statistics exist once an index is
//! declared, so a filter on two indexed fields takes the equality's index and
//! reads the page in list order, and a composite index serves equalities on
//! its fields, without a sort.
use authgraph::domain::apply;
use authgraph::domain::filter::{Field, Filter, Op};
use authgraph::domain::users::{self, UserQuery};
use serde_json::json;

use crate::helpers::TestApp;

const FILE: &str = r#"
[project]
slug = "default"

[[collections]]
name = "users"

[[collections.fields]]
name = "city"
type = "text"
indexed = true

[[collections.fields]]
name = "age"
type = "number"
indexed = true

[[collections.fields]]
name = "plan"
type = "text"

[[collections.fields]]
name = "seats"
type = "number"

[[collections.fields]]
name = "referred_by"
type = "relation"
collection = "users"

[[collections.indexes]]
fields = ["plan", "seats"]
"#;

/// Users first, then the declarations (which analyze what is there).
async fn app() -> TestApp {
    let app = TestApp::spawn().await;
    add_users(&app).await;
    apply::apply_with(&app.services, &apply::parse(FILE).unwrap())
        .await
        .unwrap();
    app
}

/// The declarations on an empty table (analyzed then), no users yet.
async fn declared_app() -> TestApp {
    let app = TestApp::spawn().await;
    apply::apply_with(&app.services, &apply::parse(FILE).unwrap())
        .await
        .unwrap();
    app
}

/// `city = c7` (selective) and `age > 20` (not), both fields indexed.
fn city_and_age() -> Filter {
    Filter::And(vec![
        Filter::cond(data("city"), Op::Eq, json!("c7")),
        Filter::cond(data("age"), Op::Gt, json!(20)),
    ])
}

async fn add_users(app: &TestApp) {
    let db = &app.services.db;
    let (project, collection) = (app_project(app).await, users_collection(app).await);
    // Many cities, wide ages: `city = ?` is selective, `age > 20` is not.
    for i in 0..300 {
        let plan = ["free", "pro", "team"][i % 3];
        let mut data = json!({"city": format!("c{}", i % 60), "age": 18 + i % 50, "plan": plan, "seats": i % 10});
        // One referrer, or (written before the field was declared) an array.
        data["referred_by"] = if i % 7 == 0 {
            json!([format!("u{:05}", i / 2), "nobody"])
        } else {
            json!(format!("u{:05}", i / 2))
        };
        insert_user(
            db,
            &project,
            &collection,
            &format!("u{i:05}"),
            &format!("u{i}@example.com"),
            data,
        )
        .await;
    }
}

/// One user row written behind the server (no hash, no API): the planner
/// tests need many rows fast and rows the API would refuse.
async fn insert_user(
    db: &sea_orm::DatabaseConnection,
    project: &str,
    collection: &str,
    id: &str,
    email: &str,
    data: serde_json::Value,
) {
    let now = chrono::Utc::now();
    let user = entity::user::ActiveModel {
        id: sea_orm::Set(id.into()),
        project_id: sea_orm::Set(project.into()),
        collection_id: sea_orm::Set(collection.into()),
        email: sea_orm::Set(email.into()),
        email_normalized: sea_orm::Set(email.into()),
        password_hash: sea_orm::Set("x".into()),
        data: sea_orm::Set(data),
        roles: sea_orm::Set(json!(["user"])),
        verified: sea_orm::Set(false),
        disabled: sea_orm::Set(false),
        token_version: sea_orm::Set(0),
        created_at: sea_orm::Set(now),
        updated_at: sea_orm::Set(now),
    };
    sea_orm::ActiveModelTrait::insert(user, db).await.unwrap();
}

async fn app_project(app: &TestApp) -> String {
    authgraph::domain::projects::find_by_slug(&app.services.db, "default")
        .await
        .unwrap()
        .id
}

async fn users_collection(app: &TestApp) -> String {
    let project = app_project(app).await;
    authgraph::domain::collections::find(&app.services.db, &project, "users")
        .await
        .unwrap()
        .id
}

fn data(name: &str) -> Field {
    Field::Data(vec![name.into()])
}

/// The plan of the first page (50, newest first) of `filter`.
async fn plan_of(app: &TestApp, filter: Filter) -> String {
    planned(app, filter, false).await
}

/// The plan of the total of `filter`.
async fn count_plan_of(app: &TestApp, filter: Filter) -> String {
    planned(app, filter, true).await
}

async fn planned(app: &TestApp, filter: Filter, total: bool) -> String {
    let q = UserQuery {
        collection: Some("users".into()),
        filter: Some(filter),
        limit: 50,
        with_total: total,
        ..Default::default()
    };
    let svc = &app.services;
    let project = app_project(app).await;
    let plan = if total {
        users::count_plan(&svc.db, &svc.catalog, &project, &q).await
    } else {
        users::plan(&svc.db, &svc.catalog, &project, &q).await
    };
    plan.unwrap().join("\n")
}

/// Whether a plan reads only `index` (SQLite: a covering index; Postgres,
/// which reads the heap for an index on expressions: that index and no
/// sequential scan).
fn reads_only(app: &TestApp, plan: &str, index: &str) -> bool {
    let uses = plan.contains(index) && !plan.contains("Seq Scan");
    match app.services.db.get_database_backend() {
        sea_orm::DbBackend::Sqlite => uses && plan.contains("COVERING INDEX"),
        _ => uses,
    }
}

/// Whether a plan sorts more than a page itself instead of reading rows in
/// index order: SQLite's temporary B-tree, or a PostgreSQL sort the planner
/// expects to take more rows than the page (a sort of the few rows an
/// equality finds is the cheapest plan there, and harmless).
fn sorts(plan: &str) -> bool {
    plan.contains("TEMP B-TREE")
        || plan.lines().filter(|l| l.contains("Sort  (cost")).any(|l| {
            let rows = l
                .split("rows=")
                .nth(1)
                .and_then(|r| r.split_whitespace().next());
            rows.and_then(|r| r.parse::<u64>().ok())
                .is_none_or(|n| n > 50)
        })
}

#[tokio::test]
async fn two_indexed_conditions_use_the_equality_index_in_list_order() {
    let app = app().await;
    let plan = plan_of(&app, city_and_age()).await;
    assert!(plan.contains("_city"), "plan: {plan}");
    assert!(!sorts(&plan), "plan: {plan}");
}

#[tokio::test]
async fn refreshed_statistics_reach_every_connection_of_the_pool() {
    let app = declared_app().await;
    let filter = city_and_age;
    // Every connection plans once with the statistics of an empty table.
    let warm: Vec<_> = (0..8).map(|_| plan_of(&app, filter())).collect();
    futures_util::future::join_all(warm).await;
    add_users(&app).await;
    authgraph::store::indexes::refresh_statistics(&app.services.db)
        .await
        .unwrap();
    let plans = futures_util::future::join_all((0..8).map(|_| plan_of(&app, filter()))).await;
    for plan in plans {
        assert!(plan.contains("_city") && !sorts(&plan), "plan: {plan}");
    }
}

#[tokio::test]
async fn a_composite_index_serves_equalities_on_its_fields_without_a_sort() {
    let app = app().await;
    let plan = plan_of(
        &app,
        Filter::And(vec![
            Filter::cond(data("plan"), Op::Eq, json!("pro")),
            Filter::cond(data("seats"), Op::Eq, json!(4)),
        ]),
    )
    .await;
    assert!(plan.contains("_plan__seats"), "plan: {plan}");
    assert!(!sorts(&plan), "plan: {plan}");
}

#[tokio::test]
async fn a_unique_composite_index_refuses_a_second_equal_pair_by_its_fields() {
    let app = TestApp::spawn().await;
    let file = "[project]\nslug = 'default'\n[[collections]]\nname = 'users'\n[[collections.fields]]\nname = 'team'\ntype = 'text'\n[[collections.fields]]\nname = 'handle'\ntype = 'text'\n[[collections.indexes]]\nfields = ['team', 'handle']\nunique = true\n";
    apply::apply_with(&app.services, &apply::parse(file).unwrap())
        .await
        .unwrap();
    let pw = "correct horse battery";
    let a = app
        .sign_up("a@example.com", pw, json!({"team": "x", "handle": "ann"}))
        .await;
    assert!(a["errors"].is_null(), "{a}");
    let other_team = app
        .sign_up("b@example.com", pw, json!({"team": "y", "handle": "ann"}))
        .await;
    assert!(other_team["errors"].is_null(), "{other_team}");
    let same = app
        .sign_up("c@example.com", pw, json!({"team": "x", "handle": "ann"}))
        .await;
    assert_eq!(
        crate::helpers::error_code(&same),
        Some("CONFLICT"),
        "{same}"
    );
    // An index over one field, or an undeclared one, is refused with a reason.
    for bad in [
        "[[collections.indexes]]\nfields = ['team']\n",
        "[[collections.indexes]]\nfields = ['team', 'nope']\n",
    ] {
        let text = file.replace(
            "[[collections.indexes]]\nfields = ['team', 'handle']\nunique = true\n",
            bad,
        );
        assert!(apply::parse(&text).is_err(), "{bad}");
    }
}

#[tokio::test]
async fn a_total_over_a_composite_index_with_a_range_reads_only_that_index() {
    let app = app().await;
    let filter = Filter::And(vec![
        Filter::cond(data("plan"), Op::Eq, json!("pro")),
        Filter::cond(data("seats"), Op::Gt, json!(7)),
    ]);
    let plan = count_plan_of(&app, filter.clone()).await;
    assert!(reads_only(&app, &plan, "_plan__seats"), "plan: {plan}");
    // And the total is right: `pro` is i % 3 == 1, seats i % 10.
    let q = UserQuery {
        collection: Some("users".into()),
        filter: Some(filter),
        ..Default::default()
    };
    let svc = &app.services;
    let project = app_project(&app).await;
    let total = users::count_query(&svc.db, &svc.catalog, &project, &q)
        .await
        .unwrap();
    let expected = (0..300).filter(|i| i % 3 == 1 && i % 10 > 7).count() as u64;
    assert_eq!(total, expected);
}

#[tokio::test]
async fn a_total_over_a_range_of_an_indexed_number_reads_only_its_index() {
    let app = app().await;
    let (from, below) = (json!(30), json!(32));
    let range = [(Op::Gte, from), (Op::Lt, below)].map(|(op, v)| Filter::cond(data("age"), op, v));
    let plan = count_plan_of(&app, Filter::And(range.to_vec())).await;
    assert!(reads_only(&app, &plan, "_age"), "plan: {plan}");
}

/// The plan and the first page (50) of `filter` ordered by age, ascending.
async fn by_age(app: &TestApp, filter: Filter) -> (String, users::UserPage) {
    let q = UserQuery {
        collection: Some("users".into()),
        filter: Some(filter),
        sort: vec![authgraph::domain::filter::Sort {
            field: data("age"),
            descending: false,
        }],
        limit: 50,
        ..Default::default()
    };
    let svc = &app.services;
    let project = app_project(app).await;
    let plan = users::plan(&svc.db, &svc.catalog, &project, &q)
        .await
        .unwrap()
        .join("\n");
    let page = users::query(&svc.db, &svc.catalog, &project, &q)
        .await
        .unwrap();
    (plan, page)
}

#[tokio::test]
async fn a_list_ordered_by_an_indexed_number_reads_that_index_in_order() {
    let app = app().await;
    let (plan, page) = by_age(&app, Filter::cond(data("age"), Op::Gte, json!(60))).await;
    assert!(plan.contains("_age"), "plan: {plan}");
    // Both order by the index's own expression (only equal ages are put in
    // id order, the tie-break).
    assert!(!plan.contains("TEMP B-TREE FOR ORDER BY"), "plan: {plan}");
    let ages: Vec<i64> = page
        .items
        .iter()
        .map(|u| u.data["age"].as_i64().unwrap())
        .collect();
    assert_eq!(ages.len(), 48, "ages: {ages:?}");
    assert!(ages.windows(2).all(|w| w[0] <= w[1]), "ages: {ages:?}");
}

#[tokio::test]
async fn a_page_ordered_by_an_indexed_number_sorts_not_even_its_ties() {
    let app = app().await;
    if app.services.db.get_database_backend() == sea_orm::DbBackend::Postgres {
        // 300 rows are one page of the heap: a scan and a sort beat any index.
        // 5,000 more users (aged 18..67, in other cities) make it worth it.
        add_fillers(&app, 5000).await;
    }
    let (plan, page) = by_age(&app, Filter::cond(data("age"), Op::Gte, json!(20))).await;
    // Both walk the index in the list's order (age, then newest id first),
    // with no sort: Postgres orders by the index's typed value, NULL first.
    assert!(
        plan.contains("_age") && !plan.contains("TEMP B-TREE") && !plan.contains("Sort"),
        "plan: {plan}"
    );
    assert!(!plan.contains("Seq Scan"), "plan: {plan}");
    let got: Vec<(i64, String)> = page
        .items
        .iter()
        .map(|u| (u.data["age"].as_i64().unwrap(), u.id.clone()))
        .collect();
    // Six users of each age from 20 up (and on Postgres a hundred fillers
    // `f<g>` of each): equal ages newest id first.
    let fillers = match app.services.db.get_database_backend() {
        sea_orm::DbBackend::Postgres => 5000,
        _ => 0,
    };
    let mut want: Vec<(i64, String)> = (0..300)
        .filter(|i| 18 + i % 50 >= 20)
        .map(|i| ((18 + i % 50) as i64, format!("u{i:05}")))
        .chain(
            (1..=fillers)
                .filter(|g| 18 + g % 50 >= 20)
                .map(|g| ((18 + g % 50) as i64, format!("f{g}"))),
        )
        .collect();
    want.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    want.truncate(50);
    assert_eq!(got, want);
}

#[tokio::test]
async fn a_filter_through_a_relation_finds_the_related_users_through_their_index() {
    let app = app().await;
    let filter = Filter::cond(
        Field::Data(vec!["referred_by".into(), "city".into()]),
        Op::Eq,
        json!("c7"),
    );
    if app.services.db.get_database_backend() == sea_orm::DbBackend::Postgres {
        // Postgres scans 300 rows rather than use an index: 5,000 more users
        // of other cities (related to nobody) make the index worth its while.
        add_fillers(&app, 5000).await;
    }
    let plan = count_plan_of(&app, filter.clone()).await;
    // The related users are found once, by the `city` index, not once per row.
    assert!(plan.contains("_city"), "plan: {plan}");
    let q = UserQuery {
        collection: Some("users".into()),
        filter: Some(filter.clone()),
        limit: 50,
        with_total: true,
        ..Default::default()
    };
    let svc = &app.services;
    let project = app_project(&app).await;
    let page = users::query(&svc.db, &svc.catalog, &project, &q)
        .await
        .unwrap();
    // u{i} refers to u{i / 2} (an array of it and an unknown id when i % 7 == 0,
    // as for u00014), whose city is c{(i / 2) % 60}.
    let want: Vec<usize> = (0..300).filter(|i| (i / 2) % 60 == 7).collect();
    assert_eq!(page.total, Some(want.len() as u64));
    let mut got: Vec<String> = page.items.iter().map(|u| u.id.clone()).collect();
    got.sort();
    let want: Vec<String> = want.iter().map(|i| format!("u{i:05}")).collect();
    assert_eq!(got, want);
    // And its negation is every other user.
    let not = UserQuery {
        filter: Some(Filter::Not(Box::new(filter))),
        ..q
    };
    let others = users::count_query(&svc.db, &svc.catalog, &project, &not)
        .await
        .unwrap();
    let fillers = if app.services.db.get_database_backend() == sea_orm::DbBackend::Postgres {
        5000
    } else {
        0
    };
    assert_eq!(others, 300 + fillers - want.len() as u64);
}

/// `n` users of cities `x0`..`x49` on Postgres, in one statement, then fresh
/// statistics.
async fn add_fillers(app: &TestApp, n: u32) {
    use sea_orm::ConnectionTrait;
    let db = &app.services.db;
    let sql = "INSERT INTO users (id, project_id, collection_id, email, email_normalized, password_hash, \
               data, roles, verified, disabled, token_version, created_at, updated_at) \
               SELECT 'f' || g, $1, $2, 'f' || g || '@example.com', 'f' || g || '@example.com', 'x', \
               jsonb_build_object('city', 'x' || (g % 50), 'age', 18 + g % 50), '[\"user\"]'::jsonb, \
               false, false, 0, now(), now() FROM generate_series(1, $3) g";
    let values = [
        app_project(app).await.into(),
        users_collection(app).await.into(),
        (n as i32).into(),
    ];
    db.execute_raw(sea_orm::Statement::from_sql_and_values(
        sea_orm::DbBackend::Postgres,
        sql,
        values,
    ))
    .await
    .unwrap();
    authgraph::store::indexes::refresh_statistics(db)
        .await
        .unwrap();
}

/// The number of users the planner's statistics record (SQLite: of the
/// `city` index; Postgres: of the table), if any.
async fn rows_in_statistics(app: &TestApp) -> i64 {
    use sea_orm::ConnectionTrait;
    let db = &app.services.db;
    let backend = db.get_database_backend();
    let sql = match backend {
        sea_orm::DbBackend::Postgres => {
            "SELECT reltuples::bigint AS n FROM pg_class WHERE oid = to_regclass('users')"
        }
        _ => {
            "SELECT coalesce(max(CAST(stat AS INTEGER)), -1) AS n FROM sqlite_stat1 \
             WHERE tbl = 'users' AND idx LIKE '%city'"
        }
    };
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(backend, sql))
        .await
        .unwrap()
        .unwrap();
    row.try_get("", "n").unwrap()
}

#[tokio::test]
async fn statistics_that_are_stale_at_start_up_are_refreshed() {
    // Declared on an empty table, then 300 users arrive behind the
    // server's back, as an import would bring them.
    let app = declared_app().await;
    add_users(&app).await;
    assert!(rows_in_statistics(&app).await < 300);
    // What start-up runs after the migrations.
    apply::sync_all_indexes(&app.services.db).await.unwrap();
    assert!(rows_in_statistics(&app).await >= 300);
    let plan = plan_of(&app, city_and_age()).await;
    assert!(plan.contains("_city") && !sorts(&plan), "plan: {plan}");
}

/// On SQLite, statistics like those 1,000-row samples gave at 1,000,000
/// users: a `city` looks like it holds every user (the sample saw one city),
/// so a range on `age` (a quarter, SQLite guesses) looks narrower. Then each
/// connection reloads them.
async fn misleading_statistics(app: &TestApp) {
    set_statistics(
        app,
        &[("%_city", "300 300 300 1 1"), ("%_age", "300 10 6 1")],
    )
    .await;
}

/// On SQLite, sets the statistics of the users indexes whose names are
/// `like` these, then has each connection of the pool reload them
/// (`ANALYZE sqlite_schema` reloads a connection's statistics; all five are
/// held at once so that each is a different one).
async fn set_statistics(app: &TestApp, stats: &[(&str, &str)]) {
    use sea_orm::{ConnectionTrait, TransactionTrait};
    let db = &app.services.db;
    if db.get_database_backend() != sea_orm::DbBackend::Sqlite {
        return;
    }
    for (like, stat) in stats {
        let sql = format!(
            "UPDATE sqlite_stat1 SET stat = '{stat}' WHERE tbl = 'users' AND idx LIKE '{like}'"
        );
        db.execute_unprepared(&sql).await.unwrap();
    }
    let held = futures_util::future::join_all((0..5).map(|_| db.begin())).await;
    for txn in held {
        let txn = txn.unwrap();
        txn.execute_unprepared("ANALYZE sqlite_schema")
            .await
            .unwrap();
        txn.commit().await.unwrap();
    }
}

/// The total of `filter` as the domain counts it.
async fn total_of(app: &TestApp, filter: Filter) -> u64 {
    let q = UserQuery {
        collection: Some("users".into()),
        filter: Some(filter),
        ..Default::default()
    };
    let svc = &app.services;
    let project = app_project(app).await;
    users::count_query(&svc.db, &svc.catalog, &project, &q)
        .await
        .unwrap()
}

/// Whether a plan searches `index` (SQLite `SEARCH … USING … INDEX`,
/// Postgres an index or bitmap scan of it).
fn searches(plan: &str, index: &str) -> bool {
    plan.lines().any(|l| {
        l.contains(index) && (l.contains("SEARCH") || l.contains("Index") || l.contains("Bitmap"))
    })
}

#[tokio::test]
async fn the_total_of_an_equality_and_a_range_searches_the_equality_index_not_the_range() {
    let app = app().await;
    misleading_statistics(&app).await;
    let plan = count_plan_of(&app, city_and_age()).await;
    assert!(searches(&plan, "_city"), "plan: {plan}");
    assert!(!plan.contains("_age"), "plan: {plan}");
    // The page takes it too.
    let page = plan_of(&app, city_and_age()).await;
    assert!(
        searches(&page, "_city") && !page.contains("_age"),
        "plan: {page}"
    );
    // And the total is the same: c7 is i % 60 == 7, age 18 + i % 50.
    let want = (0..300).filter(|i| i % 60 == 7 && 18 + i % 50 > 20).count();
    assert_eq!(total_of(&app, city_and_age()).await, want as u64);
}

#[tokio::test]
async fn an_in_list_is_an_equality_whose_index_the_total_searches() {
    let app = app().await;
    misleading_statistics(&app).await;
    let filter = Filter::And(vec![
        Filter::cond(data("city"), Op::In, json!(["c7", "c8"])),
        Filter::cond(data("age"), Op::Gt, json!(20)),
    ]);
    let plan = count_plan_of(&app, filter.clone()).await;
    assert!(
        searches(&plan, "_city") && !plan.contains("_age"),
        "plan: {plan}"
    );
    let want = (0..300)
        .filter(|i| [7, 8].contains(&(i % 60)) && 18 + i % 50 > 20)
        .count();
    assert_eq!(total_of(&app, filter).await, want as u64);
}

#[tokio::test]
async fn a_range_alone_and_an_or_are_not_steered() {
    let app = app().await;
    misleading_statistics(&app).await;
    // A range alone keeps its index.
    let range = Filter::cond(data("age"), Op::Gt, json!(60));
    let plan = count_plan_of(&app, range.clone()).await;
    assert!(searches(&plan, "_age"), "plan: {plan}");
    let want = (0..300).filter(|i| 18 + i % 50 > 60).count();
    assert_eq!(total_of(&app, range).await, want as u64);
    // Either condition: both indexes may serve (one search each on SQLite),
    // and none is kept from the planner (with the true statistics, under
    // which the two searches are worth it).
    let app = crate::planner::app().await;
    let either = Filter::Or(vec![
        Filter::cond(data("city"), Op::Eq, json!("c7")),
        Filter::cond(data("age"), Op::Gt, json!(66)),
    ]);
    let plan = count_plan_of(&app, either.clone()).await;
    if app.services.db.get_database_backend() == sea_orm::DbBackend::Sqlite {
        assert!(
            plan.contains("MULTI-INDEX OR") && searches(&plan, "_city") && searches(&plan, "_age"),
            "plan: {plan}"
        );
    }
    let want = (0..300).filter(|i| i % 60 == 7 || 18 + i % 50 > 66).count();
    assert_eq!(total_of(&app, either).await, want as u64);
}

#[tokio::test]
async fn an_equality_on_a_composite_index_keeps_its_range_and_demotes_other_indexes() {
    let app = app().await;
    // The composite looks no narrower than the collection, the age range
    // (both bounds: a sixty-fourth, SQLite guesses) far narrower.
    misleading_statistics(&app).await;
    set_statistics(&app, &[("%_plan__seats", "300 300 300 300 1 1")]).await;
    let filter = Filter::And(vec![
        Filter::cond(data("plan"), Op::Eq, json!("pro")),
        Filter::cond(data("seats"), Op::Gt, json!(5)),
        Filter::cond(data("age"), Op::Gt, json!(20)),
        Filter::cond(data("age"), Op::Lt, json!(40)),
    ]);
    let plan = count_plan_of(&app, filter.clone()).await;
    assert!(searches(&plan, "_plan__seats"), "plan: {plan}");
    assert!(!plan.contains("_age"), "plan: {plan}");
    let want = (0..300)
        .filter(|i| i % 3 == 1 && i % 10 > 5 && (21..40).contains(&(18 + i % 50)))
        .count();
    assert_eq!(total_of(&app, filter).await, want as u64);
}

#[tokio::test]
async fn a_total_that_no_index_narrows_scans_the_table_instead_of_walking_an_index() {
    let app = app().await;
    // Statistics from a sample that saw one collection's first rows make
    // the collection's own indexes look narrow (a few rows of 1,000,000).
    set_statistics(
        &app,
        &[
            ("ix_users_collection_created_id", "300 5 1 1"),
            ("ux_users_collection_email", "300 5 1"),
        ],
    )
    .await;
    // `contains` is no index's search, on an indexed field or not.
    let filter = Filter::Or(vec![
        Filter::cond(data("city"), Op::Contains, json!("c7")),
        Filter::cond(data("seats"), Op::Eq, json!(9)),
    ]);
    let plan = count_plan_of(&app, filter.clone()).await;
    match app.services.db.get_database_backend() {
        sea_orm::DbBackend::Sqlite => {
            assert!(
                plan.contains("SCAN users") && !plan.contains("USING"),
                "plan: {plan}"
            )
        }
        _ => assert!(plan.contains("Seq Scan on users"), "plan: {plan}"),
    }
    let want = (0..300)
        .filter(|i| format!("c{}", i % 60).contains("c7") || i % 10 == 9)
        .count();
    assert_eq!(total_of(&app, filter).await, want as u64);
    // A total with no filter still counts the collection's index alone.
    let q = UserQuery {
        collection: Some("users".into()),
        ..Default::default()
    };
    let svc = &app.services;
    let project = app_project(&app).await;
    let all = users::count_plan(&svc.db, &svc.catalog, &project, &q)
        .await
        .unwrap()
        .join("\n");
    if app.services.db.get_database_backend() == sea_orm::DbBackend::Sqlite {
        assert!(all.contains("COVERING INDEX"), "plan: {all}");
    }
}

#[tokio::test]
async fn users_without_a_number_come_first_ascending_and_last_descending_on_both_databases() {
    let app = app().await;
    let db = &app.services.db;
    let (project, collection) = (app_project(&app).await, users_collection(&app).await);
    // No age, a string, JSON null: none is a number.
    for (id, age) in [
        ("n1", None),
        ("n2", Some(json!("old"))),
        ("n3", Some(json!(null))),
    ] {
        let mut data = json!({"city": "nowhere"});
        if let Some(age) = age {
            data["age"] = age;
        }
        insert_user(
            db,
            &project,
            &collection,
            id,
            &format!("{id}@example.com"),
            data,
        )
        .await;
    }
    let svc = &app.services;
    let order = |descending| UserQuery {
        collection: Some("users".into()),
        sort: vec![authgraph::domain::filter::Sort {
            field: data("age"),
            descending,
        }],
        limit: 500,
        ..Default::default()
    };
    let ids =
        |page: users::UserPage| -> Vec<String> { page.items.into_iter().map(|u| u.id).collect() };
    let up = ids(users::query(&svc.db, &svc.catalog, &project, &order(false))
        .await
        .unwrap());
    let down = ids(users::query(&svc.db, &svc.catalog, &project, &order(true))
        .await
        .unwrap());
    // Ties are newest id first either way.
    assert_eq!(up[..3], ["n3", "n2", "n1"], "{up:?}");
    assert_eq!(down[down.len() - 3..], ["n3", "n2", "n1"], "{down:?}");
    assert_eq!((up.len(), down.len()), (303, 303));
    // The page reads the index in order, with no sort, on both.
    let plan = users::plan(
        &svc.db,
        &svc.catalog,
        &project,
        &UserQuery {
            limit: 50,
            ..order(false)
        },
    )
    .await
    .unwrap()
    .join("\n");
    assert!(plan.contains("_age"), "plan: {plan}");
    assert!(
        !plan.contains("TEMP B-TREE") && !plan.contains("Sort"),
        "plan: {plan}"
    );
}

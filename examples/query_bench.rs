//! Querying benchmark: seeds N users (city, age, name, referred_by, following)
//! and reports median and p99 latency of the domain's list query for the
//! workloads of the querying issue, on SQLite or Postgres.
//!
//! `cargo run --release --example query_bench -- [USERS] [DATABASE_URL]`
//! (default 1,000,000 users in a temporary SQLite file).
use std::time::{Duration, Instant};

use authgraph::domain::filter::{Field, Filter, Op, Sort};
use authgraph::domain::users::{self, UserQuery};
use authgraph::domain::{apply, projects};
use authgraph::{auth, db};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, TransactionTrait, Value};
use serde_json::json;

const CITIES: usize = 50;
const FILE: &str = r#"
[project]
slug = "bench"
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
name = "name"
type = "text"
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

fn id(i: usize) -> String {
    format!("u{i:014}")
}

async fn seed(
    db: &DatabaseConnection,
    project_id: &str,
    collection_id: &str,
    n: usize,
) -> anyhow::Result<()> {
    let hash = auth::password::PasswordService::new(1)?
        .hash("bench password")
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let backend = db.get_database_backend();
    let start = Instant::now();
    let batch = 1000;
    let mut i = 0;
    while i < n {
        let txn = db.begin().await?;
        let end = (i + batch).min(n);
        let mut sql = String::from(
            "INSERT INTO users (id, project_id, collection_id, email, email_normalized, password_hash, data, roles, verified, disabled, token_version, created_at, updated_at) VALUES ",
        );
        let mut values: Vec<Value> = Vec::with_capacity((end - i) * 13);
        for k in i..end {
            let mut data = json!({
                "city": format!("City{}", k % CITIES),
                "age": 18 + (k * 7919) % 60,
                "name": format!("Name{k} Family{}", k % 1000),
            });
            if k > 0 {
                data["referred_by"] = json!(id(k / 2));
                data["following"] = json!([id((k * 31) % k), id((k * 17) % k), id(k - 1)]);
            }
            let created =
                chrono::DateTime::from_timestamp(1_700_000_000 + k as i64, 0).expect("valid");
            let p = values.len();
            let ph = |j: usize| {
                if backend == DbBackend::Postgres {
                    format!("${}", p + j)
                } else {
                    "?".into()
                }
            };
            let cast = if backend == DbBackend::Postgres {
                "::jsonb"
            } else {
                ""
            };
            if k > i {
                sql.push(',');
            }
            sql.push_str(&format!(
                "({}, {}, {}, {}, {}, {}, {}{cast}, {}{cast}, {}, {}, {}, {}, {})",
                ph(1),
                ph(2),
                ph(3),
                ph(4),
                ph(5),
                ph(6),
                ph(7),
                ph(8),
                ph(9),
                ph(10),
                ph(11),
                ph(12),
                ph(13)
            ));
            let email = format!("user{k}@bench.io");
            values.extend([
                id(k).into(),
                project_id.into(),
                collection_id.into(),
                email.clone().into(),
                email.into(),
                hash.clone().into(),
                data.to_string().into(),
                "[\"user\"]".into(),
                false.into(),
                false.into(),
                0i64.into(),
                created.into(),
                created.into(),
            ]);
        }
        txn.execute_raw(Statement::from_sql_and_values(backend, sql, values))
            .await?;
        txn.commit().await?;
        i = end;
    }
    if backend == DbBackend::Postgres {
        db.execute_unprepared("ANALYZE users").await?;
    } else {
        db.execute_unprepared("ANALYZE").await?;
    }
    eprintln!("seeded {n} users in {:.1} s", start.elapsed().as_secs_f64());
    Ok(())
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

async fn measure<F, Fut>(name: &str, mut run: F) -> anyhow::Result<String>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<usize>>,
{
    // Warm up, then run until 300 samples or 5 s.
    run().await?;
    let mut samples = Vec::new();
    let mut rows = 0;
    let started = Instant::now();
    while samples.len() < 300 && (started.elapsed() < Duration::from_secs(5) || samples.len() < 5) {
        let t = Instant::now();
        rows = run().await?;
        samples.push(t.elapsed());
    }
    samples.sort();
    Ok(format!(
        "| {name} | {rows} | {:.2} | {:.2} | {} |",
        pct(&samples, 0.5),
        pct(&samples, 0.99),
        samples.len()
    ))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args
        .get(1)
        .map(|s| s.replace('_', "").parse())
        .transpose()?
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir()?;
    let url = args.get(2).cloned().unwrap_or_else(|| {
        format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("bench.db").display()
        )
    });
    let conn = db::connect_url(&url, 4, None).await?;
    let catalog = authgraph::domain::catalog::Catalog::new(std::time::Duration::from_secs(60));
    db::migrate(&conn).await?;
    let project = match projects::find_by_slug(&conn, "bench").await {
        Ok(p) => p,
        Err(_) => {
            projects::create(&conn, "bench", Some("bench"))
                .await
                .map_err(|e| anyhow::anyhow!("{e:?}"))?
                .project
        }
    };
    apply::apply(
        &conn,
        &apply::parse(FILE).map_err(|e| anyhow::anyhow!("{e:?}"))?,
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let coll = authgraph::domain::collections::find(&conn, &project.id, "users")
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let have = users::count_query(
        &conn,
        &catalog,
        &project.id,
        &UserQuery {
            collection: Some("users".into()),
            ..Default::default()
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    if have < n as u64 {
        seed(&conn, &project.id, &coll.id, n).await?;
    }
    let backend = if url.starts_with("postgres") {
        "Postgres"
    } else {
        "SQLite"
    };
    println!("\n**{backend}, {n} users** (in-process domain query: SQL + row decoding; ms)\n");
    println!("| workload | rows | median | p99 | samples |");
    println!("|---|---|---|---|---|");
    let q = |filter: Option<Filter>, sort: Vec<Sort>, with_total: bool| UserQuery {
        collection: Some("users".into()),
        filter,
        sort,
        limit: 50,
        offset: 0,
        with_total,
    };
    let data = |f: &str| Field::Data(vec![f.into()]);
    let pid = project.id.clone();
    let workloads: Vec<(&str, UserQuery)> = vec![
        (
            "eq on indexed `city`",
            q(
                Some(Filter::cond(data("city"), Op::Eq, json!("City7"))),
                vec![],
                false,
            ),
        ),
        (
            "eq on indexed `city`, with total",
            q(
                Some(Filter::cond(data("city"), Op::Eq, json!("City7"))),
                vec![],
                true,
            ),
        ),
        (
            "range on indexed `age` (30 ≤ age < 32)",
            q(
                Some(Filter::And(vec![
                    Filter::cond(data("age"), Op::Gte, json!(30)),
                    Filter::cond(data("age"), Op::Lt, json!(32)),
                ])),
                vec![],
                false,
            ),
        ),
        (
            "range on indexed `age`, with total",
            q(
                Some(Filter::And(vec![
                    Filter::cond(data("age"), Op::Gte, json!(30)),
                    Filter::cond(data("age"), Op::Lt, json!(32)),
                ])),
                vec![],
                true,
            ),
        ),
        (
            "icontains on `name`",
            q(
                Some(Filter::cond(
                    data("name"),
                    Op::IContains,
                    json!("family999"),
                )),
                vec![],
                false,
            ),
        ),
        (
            "icontains on `name`, with total",
            q(
                Some(Filter::cond(
                    data("name"),
                    Op::IContains,
                    json!("family999"),
                )),
                vec![],
                true,
            ),
        ),
        (
            "newest 50 by created",
            q(
                None,
                vec![Sort {
                    field: Field::CreatedAt,
                    descending: true,
                }],
                false,
            ),
        ),
        (
            "newest 50 by created, with total",
            q(
                None,
                vec![Sort {
                    field: Field::CreatedAt,
                    descending: true,
                }],
                true,
            ),
        ),
    ];
    for (name, query) in workloads {
        let line = measure(name, || {
            let conn = conn.clone();
            let catalog = catalog.clone();
            let pid = pid.clone();
            let query = query.clone();
            async move {
                let page = users::query(&conn, &catalog, &pid, &query)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e:?}"))?;
                Ok(page.items.len())
            }
        })
        .await?;
        println!("{line}");
    }
    // A 50-row page with `referred_by` and `following` populated: the page
    // query plus one batched load of every related user (what the dataloaders do).
    let line = measure("50 rows + referred_by + following populated", || {
        let conn = conn.clone();
        let catalog = catalog.clone();
        let pid = pid.clone();
        let query = q(
            Some(Filter::cond(data("city"), Op::Eq, json!("City9"))),
            vec![],
            false,
        );
        async move {
            let page = users::query(&conn, &catalog, &pid, &query)
                .await
                .map_err(|e| anyhow::anyhow!("{e:?}"))?;
            let mut ids: Vec<String> = Vec::new();
            for u in &page.items {
                ids.extend(users::relation_ids(&u.data, "referred_by"));
                ids.extend(users::relation_ids(&u.data, "following"));
            }
            ids.sort();
            ids.dedup();
            let related = users::get_many(&conn, &pid, &ids)
                .await
                .map_err(|e| anyhow::anyhow!("{e:?}"))?;
            Ok(page.items.len() + related.len())
        }
    })
    .await?;
    println!("{line}");
    Ok(())
}

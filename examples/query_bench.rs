//! The query matrix: seeds N users (city, age, name, referred_by, following)
//! in bulk (one SQL insert per 1,000 precomputed rows, one password hash for
//! all), then for each index configuration (none, `city` and `age` indexed
//! one by one, a composite index on both) times the domain's list query
//! in process (SQL and row decoding, no HTTP) for filters of one and several
//! conditions, with and without the total, first and deep page, newest first
//! and by a profile field, and writes each query's plan beside its timing.
//!
//! `cargo run --release --example query_bench -- [USERS] [DATABASE_URL] [OUT.md]`
//! (default 1,000,000 users in a temporary SQLite file; the table and plans
//! go to OUT.md, the table alone to stdout). With `--keyset`, only the deep
//! pages of the GraphQL connection: after 5,000 rows by offset and by cursor.
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use authgraph::domain::filter::{Field, Filter, Op, Sort};
use authgraph::domain::users::{self, UserQuery};
use authgraph::domain::{apply, projects};
use authgraph::{auth, db};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, TransactionTrait, Value};
use serde_json::json;

const CITIES: usize = 50;

/// The project file of an index configuration.
fn file(config: &str) -> String {
    let indexed = if config == "single" {
        "\nindexed = true"
    } else {
        ""
    };
    let composite = if config == "composite" {
        "\n[[collections.indexes]]\nfields = [\"city\", \"age\"]\n"
    } else {
        ""
    };
    format!(
        r#"
[project]
slug = "bench"
[[collections]]
name = "users"
[[collections.fields]]
name = "city"
type = "text"{indexed}
[[collections.fields]]
name = "age"
type = "number"{indexed}
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
{composite}"#
    )
}

fn id(i: usize) -> String {
    format!("u{i:014}")
}

async fn seed(
    db: &DatabaseConnection,
    project_id: &str,
    collection_id: &str,
    n: usize,
) -> anyhow::Result<()> {
    let hash = auth::password::PasswordService::new(1, 1, authgraph::metrics::Metrics::new())?
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

/// Median and p99 (ms) of `query`: a warm-up, then up to 50 samples or 1 s
/// (at least 3); and the number of rows of its page.
async fn measure(
    conn: &DatabaseConnection,
    catalog: &authgraph::domain::catalog::Catalog,
    pid: &str,
    query: &UserQuery,
) -> anyhow::Result<(usize, f64, f64)> {
    time(|| async {
        let page = users::query(conn, catalog, pid, query)
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        anyhow::Ok(page.items.len())
    })
    .await
}

/// Median and p99 (ms) of `run` (which returns its number of rows), timed as
/// `measure` says.
async fn time<F, Fut>(run: F) -> anyhow::Result<(usize, f64, f64)>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<usize>>,
{
    run().await?;
    let mut samples = Vec::new();
    let mut rows = 0;
    let started = Instant::now();
    while samples.len() < 50 && (started.elapsed() < Duration::from_secs(1) || samples.len() < 3) {
        let t = Instant::now();
        rows = run().await?;
        samples.push(t.elapsed());
    }
    samples.sort();
    Ok((rows, pct(&samples, 0.5), pct(&samples, 0.99)))
}

/// The filters of the matrix: (label, filter).
fn filters() -> Vec<(&'static str, Filter)> {
    let data = |f: &str| Field::Data(f.split('.').map(String::from).collect());
    let city = || Filter::cond(data("city"), Op::Eq, json!("City7"));
    let age_over = || Filter::cond(data("age"), Op::Gt, json!(30));
    vec![
        ("`city` =", city()),
        (
            "`age` range (30 ≤ age < 32)",
            Filter::And(vec![
                Filter::cond(data("age"), Op::Gte, json!(30)),
                Filter::cond(data("age"), Op::Lt, json!(32)),
            ]),
        ),
        (
            "`city` in 3 values",
            Filter::cond(data("city"), Op::In, json!(["City1", "City2", "City3"])),
        ),
        (
            "`name` contains (substring)",
            Filter::cond(data("name"), Op::Contains, json!("Family999")),
        ),
        (
            "`city` = and `age` > 30",
            Filter::And(vec![city(), age_over()]),
        ),
        (
            "`city` =, `age` > 30, `name` contains",
            Filter::And(vec![
                city(),
                age_over(),
                Filter::cond(data("name"), Op::Contains, json!("Family9")),
            ]),
        ),
        (
            "through a relation: `referred_by.city` =",
            Filter::cond(data("referred_by.city"), Op::Eq, json!("City7")),
        ),
    ]
}

/// The index and sort steps of a plan, in one line.
fn gist(plan: &[String]) -> String {
    let steps: Vec<&str> = plan
        .iter()
        .map(|l| l.trim())
        .filter(|l| {
            l.contains("INDEX")
                || l.contains("SCAN")
                || l.contains("TEMP B-TREE")
                || l.contains("Scan")
                || l.starts_with("Sort")
                || l.contains("-> Sort")
        })
        .collect();
    steps
        .join("; ")
        .replace('|', "\\|")
        .chars()
        .take(160)
        .collect()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let keyset = std::env::args().any(|a| a == "--keyset");
    let args: Vec<String> = std::env::args().filter(|a| a != "--keyset").collect();
    let n: usize = args
        .get(1)
        .map(|s| s.replace('_', "").parse())
        .transpose()?
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir()?;
    let url = args
        .get(2)
        .filter(|s| !s.is_empty())
        .cloned()
        .unwrap_or_else(|| {
            format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("bench.db").display()
            )
        });
    let out = args.get(3).cloned();
    let conn = db::connect_url(&url, 4, None).await?;
    let catalog = authgraph::domain::catalog::Catalog::new(std::time::Duration::from_millis(0));
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
    let apply_config = |config: &'static str| {
        let conn = conn.clone();
        async move {
            let started = Instant::now();
            let parsed = apply::parse(&file(config)).map_err(|e| anyhow::anyhow!("{e:?}"))?;
            apply::apply(&conn, &parsed)
                .await
                .map_err(|e| anyhow::anyhow!("{e:?}"))?;
            anyhow::Ok(started.elapsed().as_secs_f64())
        }
    };
    apply_config("none").await?;
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
    let mut table = format!(
        "\n**{backend}, {n} users** (in-process domain query: SQL + row decoding; page of 50; ms)\n\n\
         | indexes | filter | sort | total | offset | rows | median | p99 | plan (page; count) |\n\
         | --- | --- | --- | --- | ---: | ---: | ---: | ---: | --- |\n"
    );
    let mut plans = String::new();
    let pid = project.id.clone();
    if keyset {
        apply_config("single").await?;
        let title = format!("{backend}, {n} users, `city` and `age` indexed");
        return deep_pages(&conn, &catalog, &pid, &title, out).await;
    }
    for config in ["none", "single", "composite"] {
        let secs = apply_config(config).await?;
        eprintln!("{backend} {n}: indexes `{config}` applied in {secs:.1} s");
        for (label, filter) in filters() {
            for by_age in [false, true] {
                for with_total in [false, true] {
                    for offset in [0u64, 5_000] {
                        let sort = if by_age {
                            vec![Sort {
                                field: Field::Data(vec!["age".into()]),
                                descending: false,
                            }]
                        } else {
                            vec![]
                        };
                        let query = UserQuery {
                            collection: Some("users".into()),
                            filter: Some(filter.clone()),
                            sort,
                            limit: 50,
                            offset,
                            with_total,
                        };
                        let (rows, median, p99) = measure(&conn, &catalog, &pid, &query).await?;
                        let page_plan = users::plan(&conn, &catalog, &pid, &query)
                            .await
                            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
                        let count_plan = if with_total {
                            users::count_plan(&conn, &catalog, &pid, &query)
                                .await
                                .map_err(|e| anyhow::anyhow!("{e:?}"))?
                        } else {
                            vec![]
                        };
                        let sort_name = if by_age { "`age`" } else { "newest" };
                        let total_name = if with_total { "yes" } else { "no" };
                        let mut g = gist(&page_plan);
                        if with_total {
                            g = format!("{g}; count: {}", gist(&count_plan));
                        }
                        writeln!(
                            table,
                            "| {config} | {label} | {sort_name} | {total_name} | {offset} | {rows} | {median:.2} | {p99:.2} | {g} |"
                        )?;
                        writeln!(
                            plans,
                            "\n#### {config} · {label} · {sort_name} · total {total_name} · offset {offset}: median {median:.2} ms, p99 {p99:.2} ms, {rows} rows\n\n```\n{}\n{}```",
                            page_plan.join("\n"),
                            if with_total {
                                format!("-- count:\n{}\n", count_plan.join("\n"))
                            } else {
                                String::new()
                            }
                        )?;
                    }
                }
            }
        }
    }
    print!("{table}");
    if let Some(out) = out {
        std::fs::write(&out, format!("{table}\n### Plans\n{plans}"))?;
        eprintln!("table and plans written to {out}");
    }
    Ok(())
}

/// `--keyset`: the page of 50 after the first 5,000 rows as the GraphQL
/// connection reads it (`users::paging`), by offset and by the keyset cursor
/// the connection hands out for the 5,000th row; each plan beside its timing.
async fn deep_pages(
    conn: &DatabaseConnection,
    catalog: &authgraph::domain::catalog::Catalog,
    pid: &str,
    title: &str,
    out: Option<String>,
) -> anyhow::Result<()> {
    use users::paging::{self, Start};
    let err = |e| anyhow::anyhow!("{e:?}");
    let mut table = format!(
        "\n**{title}** (in-process `users::paging::list`: SQL + row decoding; page of 50 after 5,000 rows; ms)\n\n\
         | filter | sort | page | rows | median | p99 | plan |\n| --- | --- | --- | ---: | ---: | ---: | --- |\n"
    );
    let mut plans = String::new();
    // Filters that leave more than 5,000 rows of 100,000.
    let old = Filter::cond(Field::Data(vec!["age".into()]), Op::Gt, json!(30));
    for (label, filter) in [("none", None), ("`age` > 30", Some(old))] {
        for by_age in [false, true] {
            let sort = match by_age {
                true => vec![Sort {
                    field: Field::Data(vec!["age".into()]),
                    descending: false,
                }],
                false => vec![],
            };
            let q = UserQuery {
                collection: Some("users".into()),
                filter: filter.clone(),
                sort,
                limit: 50,
                ..Default::default()
            };
            // The cursor of the 5,000th row, as its page's last edge carries it.
            let probe = UserQuery {
                limit: 1,
                ..q.clone()
            };
            let before = Start {
                anchor: None,
                skip: 4_999,
            };
            let edge = paging::list(conn, catalog, pid, &probe, &before)
                .await
                .map_err(err)?;
            let cursor = edge.cursors.first().map(String::as_str);
            anyhow::ensure!(cursor.is_some(), "{label}: fewer than 5,000 rows");
            let keyset = paging::start(cursor, None, &q.sort).map_err(err)?;
            let offset = Start {
                anchor: None,
                skip: 5_000,
            };
            let mut pages = Vec::new();
            for (how, start) in [("offset 5,000", offset), ("keyset after 5,000", keyset)] {
                let run = || async {
                    let page = paging::list(conn, catalog, pid, &q, &start)
                        .await
                        .map_err(err)?;
                    anyhow::Ok(page.items.len())
                };
                let (rows, median, p99) = time(run).await?;
                let page = paging::list(conn, catalog, pid, &q, &start)
                    .await
                    .map_err(err)?;
                pages.push(page.items.into_iter().map(|u| u.id).collect::<Vec<_>>());
                let plan = paging::plan(conn, catalog, pid, &q, &start)
                    .await
                    .map_err(err)?;
                let sort_name = if by_age { "`age`" } else { "newest" };
                writeln!(
                    table,
                    "| {label} | {sort_name} | {how} | {rows} | {median:.2} | {p99:.2} | {} |",
                    gist(&plan)
                )?;
                writeln!(
                    plans,
                    "\n#### {label} · {sort_name} · {how}: median {median:.2} ms, p99 {p99:.2} ms\n\n```\n{}\n```",
                    plan.join("\n")
                )?;
            }
            anyhow::ensure!(
                pages[0] == pages[1],
                "{label}: the keyset page differs from the offset page"
            );
        }
    }
    print!("{table}");
    if let Some(out) = out {
        std::fs::write(&out, format!("{table}\n### Plans\n{plans}"))?;
        eprintln!("table and plans written to {out}");
    }
    Ok(())
}

//! Database connection (SQLite by default, Postgres by URL) and migrations.
use std::time::Duration;

use anyhow::Context;
use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection};

use crate::config::Config;

/// Opens the configured database with production settings.
pub async fn connect(config: &Config) -> anyhow::Result<DatabaseConnection> {
    let url = config.database_url();
    connect_url(&url, config.db_max_connections, Some(config)).await
}

/// Opens a database by URL.
pub async fn connect_url(
    url: &str,
    max_connections: u32,
    config: Option<&Config>,
) -> anyhow::Result<DatabaseConnection> {
    let mut opts = ConnectOptions::new(url.to_owned());
    opts.sqlx_logging(false)
        .acquire_timeout(Duration::from_secs(10))
        .connect_timeout(Duration::from_secs(10));
    if url.starts_with("sqlite:") {
        if let Some(cfg) = config {
            if cfg.database_url.is_empty() {
                std::fs::create_dir_all(&cfg.data_dir).with_context(|| {
                    format!("creating AUTHGRAPH_DATA_DIR {}", cfg.data_dir.display())
                })?;
            }
        }
        // WAL lets readers proceed during a write; writers wait up to the busy timeout.
        opts.max_connections(max_connections.min(8))
            .map_sqlx_sqlite_opts(|o| {
                o.journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(10))
                    .foreign_keys(true)
                    .create_if_missing(true)
            })
            // A local file cannot go stale under the pool: skip the ping that
            // sqlx otherwise sends on every acquire (a thread hop per query).
            .test_before_acquire(false)
            .map_sqlx_sqlite_pool_opts(|o| {
                o.after_release(|conn, _| Box::pin(outside_transactions(conn)))
            });
    } else {
        opts.max_connections(max_connections).min_connections(1);
    }
    let hint = if url.starts_with("sqlite:") {
        "AUTHGRAPH_DATA_DIR / DATABASE_URL"
    } else {
        "DATABASE_URL"
    };
    Database::connect(opts)
        .await
        .with_context(|| format!("connecting to the database (check {hint})"))
}

/// Whether a SQLite connection may go back to the pool: only outside every
/// transaction. When SQLite rolls a transaction back by itself (on
/// SQLITE_FULL, IOERR or BUSY), the ROLLBACK sqlx then sends fails and its
/// count of open transactions stays one too high; the next transaction on
/// that connection is only a savepoint, whose rollback leaves a transaction
/// open and SQLite's write lock held for good, so every later write waits out
/// the busy timeout (`bash bench/faults.sh sqlite-full` found it). Such a
/// connection is closed instead, and the pool opens a fresh one.
async fn outside_transactions(
    conn: &mut sea_orm::sqlx::SqliteConnection,
) -> Result<bool, sea_orm::sqlx::Error> {
    use sea_orm::sqlx::Connection;
    if !conn.is_in_transaction() {
        return Ok(true);
    }
    // A dropped transaction's rollback may still be queued on the
    // connection's worker: a ping waits for it.
    conn.ping().await?;
    Ok(!conn.is_in_transaction())
}

/// Applies pending migrations.
pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<()> {
    Migrator::up(db, None)
        .await
        .context("running database migrations")?;
    crate::domain::apply::sync_all_indexes(db)
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))
        .context("bringing the declared indexes up to date")
}

/// The signing key shared by every instance on one Postgres database: created
/// once (the first instance wins), then read by all.
pub async fn shared_secret(db: &DatabaseConnection) -> anyhow::Result<Vec<u8>> {
    use sea_orm::{ConnectionTrait, DbBackend, Statement};
    let candidate = crate::auth::keys::random_token(64);
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "INSERT INTO server_settings (key, value) VALUES ('jwt_secret', $1) ON CONFLICT (key) DO NOTHING",
        [candidate.into()],
    ))
    .await
    .context("storing the signing key (server_settings)")?;
    let row = db
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT value FROM server_settings WHERE key = 'jwt_secret'",
        ))
        .await?
        .context("the signing key is missing from server_settings")?;
    let value: String = row.try_get("", "value")?;
    Ok(value.into_bytes())
}

/// The pool's open connections and how many of them are idle, now.
pub fn pool_stats(db: &DatabaseConnection) -> (u64, u64) {
    match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            (u64::from(pool.size()), pool.num_idle() as u64)
        }
        sea_orm::DbBackend::Sqlite => {
            let pool = db.get_sqlite_connection_pool();
            (u64::from(pool.size()), pool.num_idle() as u64)
        }
        _ => (0, 0),
    }
}

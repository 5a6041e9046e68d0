//! One writer at a time on SQLite, queued in the server.
//!
//! SQLite lets one connection write at a time. Without a queue of our own, the
//! pool's connections race for its write lock, and a loser sleeps in SQLite's
//! busy handler (1, 2, 5, 10, … ms) while the lock is often already free again:
//! at 32 concurrent profile updates this cost more than half the throughput
//! and put p99 at ~170 ms (BENCHMARKS.md). Waiting here instead hands the
//! turn over the moment the previous writer commits, in arrival order, and
//! takes no pooled connection while waiting, so reads go on. Postgres locks
//! rows, not the database: it needs no gate.
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use sea_orm::{DatabaseConnection, DatabaseTransaction, DbBackend};
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::error::AppResult;

/// The writers' queue of one database; cheap to clone.
#[derive(Clone, Default)]
pub struct WriteGate(Option<Arc<Gate>>);

#[derive(Default)]
struct Gate {
    turn: Arc<Mutex<()>>,
    /// Writers waiting for the turn (the `authgraph_db_write_queue_depth` gauge).
    waiting: AtomicU64,
}

/// One writer counted in `Gate::waiting` while this lives.
struct Waiting<'a>(&'a AtomicU64);

impl<'a> Waiting<'a> {
    fn enter(count: &'a AtomicU64) -> Self {
        count.fetch_add(1, Ordering::Relaxed);
        Waiting(count)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A write transaction holding the turn; the turn passes on when this is
/// committed or dropped.
pub struct Write {
    pub txn: DatabaseTransaction,
    _turn: Option<OwnedMutexGuard<()>>,
}

impl WriteGate {
    /// A queue for SQLite, none for Postgres.
    pub fn for_db(db: &DatabaseConnection) -> WriteGate {
        match db.get_database_backend() {
            DbBackend::Sqlite => WriteGate(Some(Arc::default())),
            _ => WriteGate(None),
        }
    }

    /// Waits for the turn, then begins a transaction.
    pub async fn begin(&self, db: &DatabaseConnection) -> AppResult<Write> {
        let turn = match &self.0 {
            Some(gate) => {
                // Counted out on drop too: a cancelled request stops waiting.
                let _waiting = Waiting::enter(&gate.waiting);
                Some(gate.turn.clone().lock_owned().await)
            }
            None => None,
        };
        Ok(Write {
            txn: crate::store::begin_write(db).await?,
            _turn: turn,
        })
    }

    /// How many writers wait for the turn now.
    pub fn waiting(&self) -> u64 {
        self.0
            .as_ref()
            .map_or(0, |gate| gate.waiting.load(Ordering::Relaxed))
    }
}

impl Write {
    /// Commits, then passes the turn on.
    pub async fn commit(self) -> AppResult<()> {
        self.txn.commit().await?;
        Ok(())
    }
}

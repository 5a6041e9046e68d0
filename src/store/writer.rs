//! SQLite's writes through one writer task, committed in groups.
//!
//! SQLite lets one connection write at a time. Racing for its write lock puts
//! losers to sleep in its busy handler (1, 2, 5, 10, … ms) while the lock is
//! often free again; queueing in the server (the previous design, a fair
//! mutex) still paid a `BEGIN`, a `COMMIT` and a hand-over per write, each a
//! round trip to SQLite's worker thread (BENCHMARKS.md, issue 18). Here one
//! task takes every write queued at that moment (up to `BATCH`) into ONE
//! transaction: each write runs under a savepoint of its own, so one that
//! fails (a refused value, a unique violation, a row gone) rolls back only
//! itself and answers only its caller; every caller is answered after the
//! batch's `COMMIT` returned, never before. Reads stay on the pool.
//!
//! Postgres locks rows, not the database: a write there is its own
//! transaction on the caller's task.
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures_util::future::BoxFuture;
use sea_orm::{DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, TransactionTrait};
use tokio::sync::{mpsc, oneshot};

use crate::error::{AppError, AppResult};

/// The most writes one transaction takes: enough to carry 32–64 concurrent
/// writers in one turn, few enough that a batch's last caller does not wait
/// long for its first.
pub const BATCH: usize = 64;

/// A write of one request: statements run in a transaction (on SQLite, a
/// savepoint inside the batch's transaction). Everything it needs is owned,
/// as it may run on the writer's task.
pub trait Work: Send + 'static {
    type Output: Send + 'static;

    /// Runs the statements; an error rolls back this write alone.
    fn run(self, txn: &DatabaseTransaction)
    -> impl Future<Output = AppResult<Self::Output>> + Send;
}

/// The writes of one database; cheap to clone.
#[derive(Clone, Default)]
pub struct Writer(Option<Arc<Queue>>);

struct Queue {
    jobs: mpsc::UnboundedSender<Box<dyn Job>>,
    /// Writes waiting for a batch (the `authgraph_db_write_queue_depth` gauge).
    waiting: Arc<AtomicU64>,
}

impl Writer {
    /// A writer task for SQLite (started here, so this runs inside the
    /// runtime; it ends when the last clone is dropped), none for Postgres.
    pub fn for_db(db: &DatabaseConnection) -> Writer {
        if db.get_database_backend() != DbBackend::Sqlite {
            return Writer(None);
        }
        let (jobs, rx) = mpsc::unbounded_channel();
        let waiting = Arc::new(AtomicU64::new(0));
        tokio::spawn(serve(db.clone(), rx, waiting.clone()));
        Writer(Some(Arc::new(Queue { jobs, waiting })))
    }

    /// Runs `work` and commits it: on SQLite in the writer task's next batch,
    /// answered once that batch committed; on Postgres in a transaction of
    /// its own. A caller that stops waiting before its turn is skipped.
    pub async fn run<W: Work>(&self, db: &DatabaseConnection, work: W) -> AppResult<W::Output> {
        let Some(queue) = &self.0 else {
            let txn = super::begin_write(db).await?;
            let out = work.run(&txn).await?;
            txn.commit().await?;
            return Ok(out);
        };
        let (reply, answer) = oneshot::channel();
        let job = Box::new(Entry {
            work: Some(work),
            result: None,
            reply,
        });
        queue.waiting.fetch_add(1, Ordering::Relaxed);
        if queue.jobs.send(job).is_err() {
            queue.waiting.fetch_sub(1, Ordering::Relaxed);
            return Err(stopped());
        }
        answer.await.map_err(|_| stopped())?
    }

    /// How many writes wait for a batch now.
    pub fn waiting(&self) -> u64 {
        self.0
            .as_ref()
            .map_or(0, |queue| queue.waiting.load(Ordering::Relaxed))
    }
}

fn stopped() -> AppError {
    AppError::Internal(anyhow::anyhow!("the SQLite writer task has stopped"))
}

/// A queued write, its type erased.
trait Job: Send {
    /// Whether its caller stopped waiting (it is then not run).
    fn abandoned(&self) -> bool;
    /// Runs it under a savepoint of `txn` and keeps its result for the
    /// answer. `false` when the batch's transaction may no longer be sound
    /// (a savepoint that could not be released or rolled back, an internal
    /// error): the batch then commits without taking more.
    fn run<'a>(&'a mut self, txn: &'a DatabaseTransaction) -> BoxFuture<'a, bool>;
    /// Answers the caller, once the batch's `COMMIT` returned `committed`.
    fn answer(self: Box<Self>, committed: Result<(), &DbErr>);
}

struct Entry<W: Work> {
    work: Option<W>,
    result: Option<AppResult<W::Output>>,
    reply: oneshot::Sender<AppResult<W::Output>>,
}

impl<W: Work> Job for Entry<W> {
    fn abandoned(&self) -> bool {
        self.reply.is_closed()
    }

    fn run<'a>(&'a mut self, txn: &'a DatabaseTransaction) -> BoxFuture<'a, bool> {
        Box::pin(async move {
            let Some(work) = self.work.take() else {
                return true;
            };
            let (result, sound) = in_savepoint(txn, work).await;
            self.result = Some(result);
            sound
        })
    }

    fn answer(self: Box<Self>, committed: Result<(), &DbErr>) {
        let answer = match (committed, self.result) {
            (Ok(()), Some(result)) => result,
            // A write refused on its own stays refused.
            (Err(_), Some(Err(e))) => Err(e),
            // Nothing of the batch is in (its BEGIN or COMMIT failed): a
            // write that went well is lost too, and says why.
            (Err(e), _) => Err(e.clone().into()),
            (Ok(()), None) => Err(AppError::Internal(anyhow::anyhow!(
                "a queued write was not run"
            ))),
        };
        // A caller that stopped waiting is not there to hear it.
        let _ = self.reply.send(answer);
    }
}

/// Runs `work` under a savepoint: released when it succeeds, rolled back
/// when it fails. Also says whether the enclosing transaction is sound.
async fn in_savepoint<W: Work>(txn: &DatabaseTransaction, work: W) -> (AppResult<W::Output>, bool) {
    let savepoint = match txn.begin().await {
        Ok(savepoint) => savepoint,
        Err(e) => return (Err(e.into()), false),
    };
    match work.run(&savepoint).await {
        Ok(out) => match savepoint.commit().await {
            Ok(()) => (Ok(out), true),
            Err(e) => (Err(e.into()), false),
        },
        Err(err) => {
            // SQLite rolls a whole transaction back by itself on some
            // errors (SQLITE_FULL, IOERR): then this rollback fails too,
            // and nothing more may run in what is no longer a transaction.
            let rolled_back = savepoint.rollback().await.is_ok();
            let internal = matches!(err, AppError::Internal(_) | AppError::Unavailable(_));
            (Err(err), rolled_back && !internal)
        }
    }
}

/// The writer task: batches until every sender is gone.
async fn serve(
    db: DatabaseConnection,
    mut rx: mpsc::UnboundedReceiver<Box<dyn Job>>,
    waiting: Arc<AtomicU64>,
) {
    let mut batch: Vec<Box<dyn Job>> = Vec::with_capacity(BATCH);
    loop {
        if batch.len() < BATCH {
            let before = batch.len();
            if batch.is_empty() {
                if rx.recv_many(&mut batch, BATCH).await == 0 {
                    return;
                }
            } else {
                while batch.len() < BATCH {
                    match rx.try_recv() {
                        Ok(job) => batch.push(job),
                        Err(_) => break,
                    }
                }
            }
            waiting.fetch_sub((batch.len() - before) as u64, Ordering::Relaxed);
        }
        batch.retain(|job| !job.abandoned());
        if !batch.is_empty() {
            batch = commit_batch(&db, batch).await;
        }
    }
}

/// Runs the batch's writes in one transaction and answers them after its
/// `COMMIT`; hands back those not run (after a write that left the
/// transaction unsound), for the next batch.
async fn commit_batch(db: &DatabaseConnection, batch: Vec<Box<dyn Job>>) -> Vec<Box<dyn Job>> {
    let txn = match super::begin_write(db).await {
        Ok(txn) => txn,
        Err(e) => {
            for job in batch {
                job.answer(Err(&e));
            }
            return Vec::new();
        }
    };
    let mut done = Vec::with_capacity(batch.len());
    let mut rest = batch.into_iter();
    for mut job in rest.by_ref() {
        let sound = job.run(&txn).await;
        done.push(job);
        if !sound {
            break;
        }
    }
    let committed = txn.commit().await;
    for job in done {
        job.answer(committed.as_ref().map(|_| ()));
    }
    rest.collect()
}

#[cfg(test)]
mod tests {
    use futures_util::FutureExt;
    use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction};

    use super::{Work, Writer};
    use crate::error::{AppError, AppResult};

    /// Inserts `value` (unique), then says how many rows another connection
    /// sees committed: 0 for every write of one batch.
    struct Insert {
        value: String,
        pool: DatabaseConnection,
    }

    impl Work for Insert {
        type Output = i64;

        async fn run(self, txn: &DatabaseTransaction) -> AppResult<i64> {
            let sql = format!("INSERT INTO t (v) VALUES ('{}')", self.value);
            txn.execute_unprepared(&sql).await.map_err(|e| {
                if crate::store::is_unique_violation(&e, "t.v") {
                    AppError::Conflict("v".into())
                } else {
                    e.into()
                }
            })?;
            count(&self.pool).await
        }
    }

    async fn count(db: &DatabaseConnection) -> AppResult<i64> {
        let row = db
            .query_one_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                "SELECT COUNT(*) AS n FROM t",
            ))
            .await?
            .expect("a row");
        Ok(row.try_get("", "n")?)
    }

    #[tokio::test]
    async fn the_writes_of_a_moment_commit_together_and_a_failing_one_fails_alone() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("w.db").display());
        let mut options = sea_orm::ConnectOptions::new(url);
        options.max_connections(4);
        let db = Database::connect(options).await.unwrap();
        db.execute_unprepared(
            "PRAGMA journal_mode = WAL; CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT UNIQUE)",
        )
        .await
        .unwrap();
        db.execute_unprepared("INSERT INTO t (v) VALUES ('taken')")
            .await
            .unwrap();
        let writer = Writer::for_db(&db);
        let insert = |value: &str| {
            let work = Insert {
                value: value.into(),
                pool: db.clone(),
            };
            writer.run(&db, work).boxed()
        };
        // This test's runtime has one thread: every write below is queued
        // before the writer task runs, so all go into one batch.
        let mut cancelled = insert("cancelled");
        assert!((&mut cancelled).now_or_never().is_none());
        drop(cancelled);
        let writes = ["a", "b", "taken", "c", "d"].map(insert);
        let results = futures_util::future::join_all(writes).await;
        let mut seen = vec![];
        for (i, result) in results.into_iter().enumerate() {
            match result {
                // The refused write answers its own error…
                Err(AppError::Conflict(field)) if i == 2 => assert_eq!(field, "v"),
                // …and the others went in, in one transaction (no other
                // connection saw any of them before the commit).
                Ok(committed_before) => seen.push(committed_before),
                other => panic!("write {i}: {other:?}"),
            }
        }
        assert_eq!(seen, vec![1, 1, 1, 1]);
        // Answered after the commit: all there, the cancelled write skipped.
        assert_eq!(count(&db).await.unwrap(), 5);
        let cancelled = db
            .query_one_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                "SELECT v FROM t WHERE v = 'cancelled'",
            ))
            .await
            .unwrap();
        assert!(cancelled.is_none());
    }
}

//! The delivery worker: one per instance, started by `serve`. It claims due
//! rows under a lease, sends them concurrently, and marks each sent, retried
//! or given up; between rounds it sleeps until the next row is due, a new
//! mail wakes it, or a few seconds pass (rows enqueued by other instances).
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use futures_util::future::join_all;
use rand::Rng;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::backlog;
use crate::domain::services::Services;
use crate::error::AppResult;
use crate::store::outbox::{self, Claimed, Done};

/// Rows claimed per round.
const BATCH: u64 = 16;
/// How long one SMTP delivery may take.
const SEND_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a claim lasts: longer than a round of concurrent sends, so no
/// other instance takes a row that is still being sent.
const LEASE_MS: i64 = 90_000;
/// The longest sleep between rounds.
const POLL: Duration = Duration::from_secs(5);
/// How often the backlog is logged (when not empty) and old rows purged.
const REPORT: Duration = Duration::from_secs(60);
/// The first retry's wait.
const FIRST_RETRY_MS: i64 = 1000;

/// A running worker; `stop` ends it.
#[derive(Clone)]
pub struct Worker {
    stop: Arc<watch::Sender<bool>>,
    task: Arc<Mutex<Option<JoinHandle<()>>>>,
}

/// Starts the worker of this instance.
pub fn start(svc: &Services) -> Worker {
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(run(svc.clone(), stopped));
    Worker {
        stop: Arc::new(stop),
        task: Arc::new(Mutex::new(Some(task))),
    }
}

impl Worker {
    /// Stops claiming, lets the sends in progress finish (each within its
    /// timeout), frees any row still claimed, and returns when done.
    pub async fn stop(&self) {
        self.stop.send_replace(true);
        let task = self.task.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(task) = task {
            task.await.ok();
        }
    }
}

async fn run(svc: Services, mut stopped: watch::Receiver<bool>) {
    let mut last_report = tokio::time::Instant::now();
    loop {
        if *stopped.borrow() {
            break;
        }
        let wait = match round(&svc).await {
            // A full batch: more may be due at once.
            Ok(n) if n as u64 == BATCH => Duration::ZERO,
            Ok(_) => until_next(&svc).await,
            Err(e) => {
                tracing::warn!(error = ?e, "mail outbox: could not read the outbox");
                POLL
            }
        };
        if last_report.elapsed() >= REPORT {
            last_report = tokio::time::Instant::now();
            report(&svc).await;
        }
        if wait.is_zero() {
            continue;
        }
        tokio::select! {
            _ = svc.outbox.wake.notified() => {}
            _ = tokio::time::sleep(wait) => {}
            _ = stopped.changed() => {}
        }
    }
    match outbox::release(&svc.db, &svc.outbox.instance).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(released = n, "mail outbox: claims released at shutdown"),
        Err(e) => tracing::warn!(error = ?e, "mail outbox: could not release claims"),
    }
    tracing::info!("mail outbox worker stopped");
}

/// Ends the rows not worth sending any more, claims the due ones and
/// delivers them; returns how many were claimed.
async fn round(svc: &Services) -> AppResult<usize> {
    let now = Utc::now().timestamp_millis();
    let give_up_before = now - svc.outbox.settings.give_up_secs as i64 * 1000;
    let (expired, failed) = outbox::sweep(&svc.db, now, give_up_before).await?;
    if expired > 0 {
        tracing::info!(
            event = "mail_expired",
            count = expired,
            "mail outbox: codes expired before their mail could be sent"
        );
    }
    if failed > 0 {
        tracing::error!(
            event = "mail_failed",
            count = failed,
            give_up_secs = svc.outbox.settings.give_up_secs,
            "mail outbox: gave up on mail that could not be sent"
        );
    }
    let by = &svc.outbox.instance;
    let rows = outbox::claim(&svc.db, by, now, now + LEASE_MS, BATCH).await?;
    let n = rows.len();
    join_all(rows.into_iter().map(|row| deliver(svc, row))).await;
    Ok(n)
}

/// How long until the next pending row is due, within `POLL`.
async fn until_next(svc: &Services) -> Duration {
    match outbox::next_due(&svc.db).await {
        Ok(Some(due)) => {
            // Never a busy loop: a row that stays due without being
            // claimable (a clock skew between instances) waits a little.
            let ms = (due - Utc::now().timestamp_millis()).clamp(20, POLL.as_millis() as i64);
            Duration::from_millis(ms as u64)
        }
        _ => POLL,
    }
}

/// One attempt at one row; the outcome is written, failures are logged.
async fn deliver(svc: &Services, row: Claimed) {
    if let Err(e) = attempt(svc, &row).await {
        // The row stays claimed until its lease ends, then is tried again.
        tracing::warn!(error = ?e, id = %row.id, "mail outbox: could not record an attempt");
    }
}

async fn attempt(svc: &Services, row: &Claimed) -> AppResult<()> {
    let now = Utc::now().timestamp_millis();
    let mail = row
        .sealed
        .as_deref()
        .and_then(|sealed| svc.outbox.open(&row.id, sealed));
    let Some(mail) = mail else {
        tracing::error!(id = %row.id, "mail outbox: a row does not open under this server's secret");
        return outbox::finish(&svc.db, &row.id, Done::Failed, now).await;
    };
    let sent = match tokio::time::timeout(SEND_TIMEOUT, svc.mailer.send(mail)).await {
        Ok(sent) => sent,
        Err(_) => Err(anyhow::anyhow!("no answer within {SEND_TIMEOUT:?}")),
    };
    let now = Utc::now().timestamp_millis();
    let error = match sent {
        Ok(()) => {
            tracing::info!(event = "mail_sent", id = %row.id, attempts = row.attempts + 1);
            return outbox::finish(&svc.db, &row.id, Done::Sent, now).await;
        }
        Err(e) => e,
    };
    if crate::mail::is_permanent(&error) {
        tracing::error!(event = "mail_failed", id = %row.id, attempts = row.attempts + 1, error = %error,
            "mail outbox: the mail cannot be sent");
        return outbox::finish(&svc.db, &row.id, Done::Failed, now).await;
    }
    let settings = svc.outbox.settings;
    let wait = backoff_ms(row.attempts, settings.retry_max_secs, &mut rand::rng());
    tracing::warn!(event = "mail_retry", id = %row.id, attempts = row.attempts + 1, retry_in_ms = wait, error = %error);
    outbox::retry(&svc.db, &row.id, &svc.outbox.instance, now + wait).await
}

/// The wait before the next attempt after `attempts` failed ones: doubling
/// from one second, capped at `max_secs`, with "equal jitter" (half fixed,
/// half random) so instances that failed together do not retry together.
fn backoff_ms(attempts: i32, max_secs: u64, rng: &mut impl Rng) -> i64 {
    let cap = (max_secs as i64 * 1000).max(FIRST_RETRY_MS);
    let full = FIRST_RETRY_MS
        .saturating_mul(1i64 << attempts.clamp(0, 30))
        .min(cap);
    let half = full / 2;
    half + rng.random_range(0..=half)
}

/// Logs the backlog when it is not empty, and drops old done rows.
async fn report(svc: &Services) {
    match backlog(svc).await {
        Ok(b) if b.pending > 0 => tracing::warn!(
            event = "mail_backlog",
            pending = b.pending,
            oldest_secs = b.oldest_secs.unwrap_or(0),
            "mail outbox: mail waiting to be sent"
        ),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = ?e, "mail outbox: could not count the backlog"),
    }
    let before = Utc::now().timestamp_millis() - svc.outbox.settings.keep_secs as i64 * 1000;
    if let Err(e) = outbox::purge(&svc.db, before).await {
        tracing::warn!(error = ?e, "mail outbox: could not purge old rows");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_stays_under_its_cap() {
        let mut rng = rand::rng();
        for _ in 0..100 {
            let first = backoff_ms(0, 300, &mut rng);
            assert!((500..=1000).contains(&first), "{first}");
            let fourth = backoff_ms(3, 300, &mut rng);
            assert!((4000..=8000).contains(&fourth), "{fourth}");
            let late = backoff_ms(40, 300, &mut rng);
            assert!((150_000..=300_000).contains(&late), "{late}");
        }
        let waits: std::collections::HashSet<_> =
            (0..50).map(|_| backoff_ms(5, 300, &mut rng)).collect();
        assert!(waits.len() > 1, "jitter varies the wait");
    }
}

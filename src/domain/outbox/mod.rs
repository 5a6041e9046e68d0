//! The outbox: every mail the domain sends is a database row first, and a
//! worker per instance (`worker`) delivers the rows that are due.
//!
//! - A mail survives an SMTP outage and a restart: a failed attempt is
//!   retried with exponential backoff and jitter (capped at
//!   `AUTHGRAPH_MAIL_RETRY_MAX_SECS`); a row pending at shutdown is
//!   delivered by the next start. After `AUTHGRAPH_MAIL_GIVE_UP_SECS` the
//!   row is marked failed and logged.
//! - Each mail is sent once: an instance claims rows under a lease (other
//!   instances on the same Postgres skip them) and marks a row sent after
//!   the SMTP server accepted it. A crash between the two resends it once
//!   the lease ends; it is never lost.
//! - A mail carrying a one-time code is not sent after the code expired.
//! - Recipient, subject and body are sealed (AES-256-GCM under a key derived
//!   from the server secret, bound to the row id) and erased once the row is
//!   done; the metadata of done rows is deleted after
//!   `AUTHGRAPH_MAIL_KEEP_SECS`.
//!
//! `state` holds an instance's outbox (in `Services`), `worker` delivers.
pub mod state;
pub mod worker;

use chrono::Utc;

use crate::auth::keys;
use crate::domain::services::Services;
use crate::error::AppResult;
use crate::mail::Mail;
use crate::store::outbox::{self, NewMail};

/// Stores `mail` for delivery and wakes the worker. `expires_at` (Unix
/// seconds) is when the mail stops being worth sending (its code expires).
/// Without a mailer nothing is stored.
pub async fn enqueue(svc: &Services, mail: Mail, expires_at: Option<i64>) -> AppResult<()> {
    if !svc.mailer.enabled() {
        return Ok(());
    }
    let id = keys::new_id();
    let sealed = svc.outbox.seal(&id, &mail)?;
    let row = NewMail(&id, &sealed, Utc::now().timestamp_millis(), expires_at);
    outbox::insert(&svc.db, row).await?;
    svc.outbox.wake.notify_one();
    Ok(())
}

/// Like `enqueue`, for a notice whose caller has already done its work:
/// a failure is logged, not returned.
pub async fn enqueue_notice(svc: &Services, mail: Mail) {
    let subject = mail.subject.clone();
    if let Err(e) = enqueue(svc, mail, None).await {
        tracing::error!(error = ?e, %subject, "could not enqueue an email");
    }
}

/// The mail waiting to be sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backlog {
    /// Rows not yet sent, failed or expired.
    pub pending: u64,
    /// Seconds since the oldest of them was enqueued.
    pub oldest_secs: Option<u64>,
}

/// The outbox's backlog (every instance's: the table is shared).
pub async fn backlog(svc: &Services) -> AppResult<Backlog> {
    let (pending, oldest) = outbox::pending(&svc.db).await?;
    let now = Utc::now().timestamp_millis();
    Ok(Backlog {
        pending: pending.max(0) as u64,
        oldest_secs: oldest.map(|t| ((now - t).max(0) / 1000) as u64),
    })
}

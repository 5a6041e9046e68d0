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
pub mod worker;

use std::sync::Arc;

use chrono::Utc;
use tokio::sync::Notify;

use crate::auth::keys;
use crate::auth::seal::SealKey;
use crate::domain::services::Services;
use crate::error::{AppError, AppResult};
use crate::mail::Mail;
use crate::store::outbox::{self, NewMail};

pub use worker::{Worker, start};

/// How the outbox retries and how long it keeps rows.
#[derive(Clone, Copy, Debug)]
pub struct OutboxSettings {
    /// The longest wait between two attempts.
    pub retry_max_secs: u64,
    /// How long after enqueueing a mail is still attempted.
    pub give_up_secs: u64,
    /// How long the metadata of done rows is kept.
    pub keep_secs: u64,
}

/// The outbox of one instance: its sealing key, its worker's wake-up and its
/// name in claims; cheap to clone.
#[derive(Clone)]
pub struct Outbox {
    seal: SealKey,
    wake: Arc<Notify>,
    instance: String,
    pub settings: OutboxSettings,
}

impl Outbox {
    /// Sealing under a key derived from the server secret for mail only.
    pub fn new(secret: &[u8], settings: OutboxSettings) -> Self {
        Self {
            seal: SealKey::derive_for(secret, b"authgraph mail outbox key v1"),
            wake: Arc::new(Notify::new()),
            instance: keys::new_id(),
            settings,
        }
    }

    fn seal(&self, id: &str, mail: &Mail) -> AppResult<String> {
        let plain =
            serde_json::to_vec(mail).map_err(|e| AppError::internal(anyhow::Error::from(e)))?;
        Ok(self.seal.seal(id, &plain))
    }

    /// The mail a row holds; `None` when it does not open (another server
    /// secret, or altered).
    fn open(&self, id: &str, sealed: &str) -> Option<Mail> {
        serde_json::from_slice(&self.seal.open(id, sealed)?).ok()
    }
}

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

//! The outbox of one instance: the key that seals its rows, the wake-up of
//! its worker and its name in claims.
use std::sync::Arc;

use tokio::sync::Notify;

use crate::auth::keys;
use crate::auth::seal::SealKey;
use crate::error::{AppError, AppResult};
use crate::mail::Mail;

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
    pub(super) wake: Arc<Notify>,
    pub(super) instance: String,
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

    pub(super) fn seal(&self, id: &str, mail: &Mail) -> AppResult<String> {
        let plain =
            serde_json::to_vec(mail).map_err(|e| AppError::internal(anyhow::Error::from(e)))?;
        Ok(self.seal.seal(id, &plain))
    }

    /// The mail a row holds; `None` when it does not open (another server
    /// secret, or altered).
    pub(super) fn open(&self, id: &str, sealed: &str) -> Option<Mail> {
        serde_json::from_slice(&self.seal.open(id, sealed)?).ok()
    }
}

//! Graceful shutdown: one signal every long-lived connection watches
//! (WebSockets close with 1001, event streams end), and a count of those
//! connections so the server can wait, bounded, until they have closed.
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::{Notify, watch};

/// Cheap to clone; every clone is the same signal.
#[derive(Clone)]
pub struct Shutdown(Arc<Inner>);

struct Inner {
    begun: watch::Sender<bool>,
    open: AtomicUsize,
    closed: Notify,
}

impl Default for Shutdown {
    fn default() -> Self {
        Shutdown(Arc::new(Inner {
            begun: watch::channel(false).0,
            open: AtomicUsize::new(0),
            closed: Notify::new(),
        }))
    }
}

impl Shutdown {
    /// Tells every connection the server is going away.
    pub fn begin(&self) {
        self.0.begun.send_replace(true);
    }

    /// Resolves once `begin` was called (at once if it already was).
    pub async fn begun(&self) {
        let mut rx = self.0.begun.subscribe();
        // The sender lives as long as `self`, so this only ends on `true`.
        let _ = rx.wait_for(|b| *b).await;
    }

    /// Counts a long-lived connection until the guard drops.
    pub fn track(&self) -> Tracked {
        self.0.open.fetch_add(1, Ordering::SeqCst);
        Tracked(self.clone())
    }

    /// Resolves once no tracked connection is open.
    pub async fn drained(&self) {
        loop {
            let closed = self.0.closed.notified();
            if self.0.open.load(Ordering::SeqCst) == 0 {
                return;
            }
            closed.await;
        }
    }

    /// How many tracked connections are open.
    pub fn open(&self) -> usize {
        self.0.open.load(Ordering::SeqCst)
    }
}

/// A tracked connection; dropping it counts it closed.
pub struct Tracked(Shutdown);

impl Drop for Tracked {
    fn drop(&mut self) {
        let inner = &(self.0).0;
        if inner.open.fetch_sub(1, Ordering::SeqCst) == 1 {
            inner.closed.notify_waiters();
        }
    }
}

//! User change events, published only after the change has committed.
//!
//! On one instance they travel through an in-process broadcast. With Postgres,
//! each instance also sends `pg_notify` with the ids of the change (well under
//! NOTIFY's 8000-byte limit), and every other instance re-reads the user and
//! broadcasts it locally: each subscriber sees each change once, whichever
//! instance made it.
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use super::auth_cache::AuthCache;
use super::users::model::User;

/// The Postgres channel events travel on.
pub const CHANNEL: &str = "authgraph_user_events";

/// What happened to a user.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum UserEventKind {
    Created,
    Updated,
    Deleted,
}

/// One committed change.
#[derive(Clone, Debug)]
pub struct UserEvent {
    pub kind: UserEventKind,
    pub user: User,
    /// Names of the changed fields (profile keys, or `email`, `password`, …).
    pub changed: Vec<String>,
}

/// What crosses instances: ids only; the receiver re-reads the row.
#[derive(Serialize, Deserialize)]
struct Notice {
    origin: String,
    kind: UserEventKind,
    user_id: String,
    project_id: String,
    collection_id: String,
    email: String,
    changed: Vec<String>,
    /// Only drop cached sessions (of `user_id`, or the one `session_id`):
    /// a revocation, not a change to broadcast.
    #[serde(default)]
    invalidate_only: bool,
    #[serde(default)]
    session_id: Option<String>,
}

/// In-process fan-out of committed events, plus Postgres fan-out when started.
#[derive(Clone)]
pub struct EventBus {
    tx: broadcast::Sender<UserEvent>,
    instance: Arc<String>,
    notify: Arc<OnceLock<DatabaseConnection>>,
    /// Subscriptions that share another's receiver (see `graphql::shared`).
    shared: Arc<std::sync::atomic::AtomicUsize>,
    /// Dropped entries on every change and revocation, here and elsewhere.
    auth_cache: AuthCache,
}

impl EventBus {
    pub fn new(capacity: usize, auth_cache: AuthCache) -> Self {
        Self {
            auth_cache,
            tx: broadcast::channel(capacity).0,
            instance: Arc::new(crate::auth::keys::random_token(16)),
            notify: Arc::new(OnceLock::new()),
            shared: Arc::default(),
        }
    }

    /// Publishes a committed change to local subscribers and, with Postgres,
    /// to the other instances. Having no subscriber is fine.
    pub fn publish(&self, event: UserEvent) {
        self.auth_cache.invalidate_user(&event.user.id);
        self.notify_others(Notice {
            origin: self.instance.as_ref().clone(),
            kind: event.kind,
            user_id: event.user.id.clone(),
            project_id: event.user.project_id.clone(),
            collection_id: event.user.collection_id.clone(),
            email: event.user.email.clone(),
            // Field names are bounded (64 bytes each); keep the notice small.
            changed: event.changed.iter().take(50).cloned().collect(),
            invalidate_only: false,
            session_id: None,
        });
        let _ = self.tx.send(event);
    }

    /// After sessions were revoked (one, or all of a user's): drops them from
    /// the cache here at once and on the other instances through NOTIFY.
    pub fn sessions_revoked(&self, user_id: Option<&str>, session_id: Option<&str>) {
        if let Some(u) = user_id {
            self.auth_cache.invalidate_user(u);
        }
        if let Some(s) = session_id {
            self.auth_cache.invalidate_session(s);
        }
        self.notify_others(Notice {
            origin: self.instance.as_ref().clone(),
            kind: UserEventKind::Updated,
            user_id: user_id.unwrap_or_default().to_owned(),
            project_id: String::new(),
            collection_id: String::new(),
            email: String::new(),
            changed: vec![],
            invalidate_only: true,
            session_id: session_id.map(str::to_owned),
        });
    }

    fn notify_others(&self, notice: Notice) {
        let Some(db) = self.notify.get() else {
            return;
        };
        let db = db.clone();
        tokio::spawn(async move {
            let payload = serde_json::to_string(&notice).unwrap_or_default();
            let stmt = Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT pg_notify($1, $2)",
                [CHANNEL.into(), payload.into()],
            );
            if let Err(e) = db.execute_raw(stmt).await {
                tracing::warn!(error = %e, "could not notify other instances of a user change");
            }
        });
    }

    pub fn subscribe(&self) -> broadcast::Receiver<UserEvent> {
        self.tx.subscribe()
    }

    /// Live local subscriptions (GraphQL and PocketBase realtime), counting
    /// those that share one receiver.
    pub fn subscriber_count(&self) -> usize {
        self.tx.receiver_count() + self.shared.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// How many subscriptions currently ride on another's receiver.
    pub fn set_shared_subscribers(&self, n: usize) {
        self.shared.store(n, std::sync::atomic::Ordering::SeqCst);
    }

    /// Starts the Postgres fan-out: publishing with `pg_notify` and listening
    /// for the other instances' changes. The listener reconnects after the
    /// database restarts; local subscribers are not affected meanwhile.
    pub async fn start_postgres_fanout(
        &self,
        db: DatabaseConnection,
        url: &str,
    ) -> anyhow::Result<()> {
        use sea_orm::sqlx::postgres::PgListener;
        let mut listener = PgListener::connect(url).await?;
        listener.listen(CHANNEL).await?;
        let _ = self.notify.set(db.clone());
        let bus = self.clone();
        tokio::spawn(async move {
            loop {
                match listener.recv().await {
                    Ok(n) => bus.receive(&db, n.payload()).await,
                    Err(e) => {
                        // Invalidations may be lost while disconnected.
                        bus.auth_cache.clear();
                        // PgListener reconnects on the next recv; wait a little.
                        tracing::warn!(error = %e, "event listener lost its connection; reconnecting");
                        tokio::time::sleep(Duration::from_millis(500)).await;
                    }
                }
            }
        });
        Ok(())
    }

    async fn receive(&self, db: &DatabaseConnection, payload: &str) {
        let Ok(n) = serde_json::from_str::<Notice>(payload) else {
            return;
        };
        if n.origin == *self.instance {
            return;
        }
        if !n.user_id.is_empty() {
            self.auth_cache.invalidate_user(&n.user_id);
        }
        if let Some(s) = &n.session_id {
            self.auth_cache.invalidate_session(s);
        }
        if n.invalidate_only {
            return;
        }
        let user = match n.kind {
            UserEventKind::Deleted => {
                User::deleted(n.user_id, n.project_id, n.collection_id, n.email)
            }
            _ => match super::users::query::get(db, &n.project_id, &n.user_id).await {
                Ok(u) => u,
                Err(_) => return,
            },
        };
        let _ = self.tx.send(UserEvent {
            kind: n.kind,
            user,
            changed: n.changed,
        });
    }
}

//! The session-and-user lookup behind every user-token request, cached for a
//! short time (`AUTHGRAPH_AUTH_CACHE_MS`, default 1 s; 0 disables it).
//!
//! Revocation still takes effect at once where it happens: every session
//! revocation and every committed change to a user, made through this
//! process, drops the affected entries before the call returns. With
//! Postgres, the same invalidation travels to the other instances over
//! LISTEN/NOTIFY (normally within milliseconds); the TTL bounds the rare case
//! of a lost notification. What is checked on every request (token version,
//! disabled flag, session revoked or expired) is checked on the cached rows
//! exactly as on fresh ones.
//!
//! A lookup that raced with an invalidation is not cached: entries carry the
//! generation they were read under, and any invalidation starts a new one.
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use entity::{session, user};

/// Sessions cached at most; past it the cache starts over.
const MAX_ENTRIES: usize = 100_000;

struct Entry {
    loaded_at: Instant,
    session: session::Model,
    user: user::Model,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<String, Entry>,
    generation: u64,
}

/// Cheap to clone; clones share the cache.
#[derive(Clone)]
pub struct AuthCache {
    ttl: Duration,
    inner: Arc<Mutex<Inner>>,
}

impl AuthCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            inner: Arc::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The current generation: read it before the database lookup, pass it to `put`.
    pub fn generation(&self) -> u64 {
        self.lock().generation
    }

    /// A fresh cached session and its user.
    pub fn get(&self, session_id: &str) -> Option<(session::Model, user::Model)> {
        if self.ttl.is_zero() {
            return None;
        }
        let inner = self.lock();
        let e = inner.entries.get(session_id)?;
        (e.loaded_at.elapsed() < self.ttl).then(|| (e.session.clone(), e.user.clone()))
    }

    /// Caches a lookup made under `generation`, unless something was
    /// invalidated since (the rows may predate that change).
    pub fn put(
        &self,
        generation: u64,
        loaded_at: Instant,
        session: &session::Model,
        user: &user::Model,
    ) {
        if self.ttl.is_zero() {
            return;
        }
        let mut inner = self.lock();
        if inner.generation != generation {
            return;
        }
        if inner.entries.len() >= MAX_ENTRIES {
            inner.entries.clear();
        }
        let mut user = user.clone();
        // The hash is never needed on this path; keep it out of the cache.
        user.password_hash.clear();
        inner.entries.insert(
            session.id.clone(),
            Entry {
                loaded_at,
                session: session.clone(),
                user,
            },
        );
    }

    /// Forgets every session of a user (a change to the user or its sessions).
    pub fn invalidate_user(&self, user_id: &str) {
        let mut inner = self.lock();
        inner.generation += 1;
        inner.entries.retain(|_, e| e.user.id != user_id);
    }

    /// Forgets everything (e.g. when invalidations from other instances may have been missed).
    pub fn clear(&self) {
        let mut inner = self.lock();
        inner.generation += 1;
        inner.entries.clear();
    }

    /// Forgets one session.
    pub fn invalidate_session(&self, session_id: &str) {
        let mut inner = self.lock();
        inner.generation += 1;
        inner.entries.remove(session_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn rows(sid: &str, uid: &str) -> (session::Model, user::Model) {
        let now = Utc::now();
        let s = session::Model {
            id: sid.into(),
            user_id: uid.into(),
            project_id: "p".into(),
            collection_id: "c".into(),
            nonce: "n".into(),
            counter: 0,
            rotated_at: None,
            created_at: now,
            last_used_at: now,
            expires_at: now,
            ip: None,
            user_agent: None,
            revoked_at: None,
            revoked_reason: None,
        };
        let u = user::Model {
            id: uid.into(),
            project_id: "p".into(),
            collection_id: "c".into(),
            email: "a@b.c".into(),
            email_normalized: "a@b.c".into(),
            password_hash: String::new(),
            data: serde_json::json!({}),
            roles: serde_json::json!([]),
            verified: false,
            disabled: false,
            token_version: 0,
            created_at: now,
            updated_at: now,
        };
        (s, u)
    }

    #[test]
    fn invalidation_drops_entries_and_refuses_lookups_that_raced_with_it() {
        let cache = AuthCache::new(Duration::from_secs(60));
        let (s1, u1) = rows("s1", "u1");
        let (s2, u2) = rows("s2", "u2");
        let g = cache.generation();
        cache.put(g, Instant::now(), &s1, &u1);
        cache.put(g, Instant::now(), &s2, &u2);
        assert!(cache.get("s1").is_some() && cache.get("s2").is_some());
        cache.invalidate_user("u1");
        assert!(cache.get("s1").is_none());
        assert!(cache.get("s2").is_some(), "other users stay cached");
        cache.invalidate_session("s2");
        assert!(cache.get("s2").is_none());
        // A lookup that started before an invalidation is not cached.
        let before = cache.generation();
        cache.invalidate_user("u9");
        cache.put(before, Instant::now(), &s1, &u1);
        assert!(cache.get("s1").is_none());
        // Entries expire.
        let short = AuthCache::new(Duration::from_millis(20));
        let g = short.generation();
        short.put(g, Instant::now() - Duration::from_millis(30), &s1, &u1);
        assert!(short.get("s1").is_none());
        // A zero TTL caches nothing.
        let off = AuthCache::new(Duration::ZERO);
        off.put(off.generation(), Instant::now(), &s1, &u1);
        assert!(off.get("s1").is_none());
    }
}

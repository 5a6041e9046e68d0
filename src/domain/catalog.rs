//! Projects, API keys and collections: read on every request, changed rarely
//! (by `authgraph apply`, `project create`/`rotate-keys`, first start). They
//! are cached for a short time so a request does not pay a query for each.
//!
//! Freshness bound: a change made through this process's `Services` clears the
//! cache at once; a change made by another process (the CLI, another instance
//! on the same Postgres) is seen within `ttl` (`AUTHGRAPH_CATALOG_TTL_MS`,
//! default 2 s; 0 disables the cache). Only hits are cached, so a new project,
//! key or collection works at once everywhere; a rotated key keeps working on
//! other processes for at most `ttl`.
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sea_orm::ConnectionTrait;

use super::collections::{self, Collection};
use super::projects::{self, Project};
use crate::auth::keys::{self, KeyKind};
use crate::error::{AppError, AppResult};

/// More entries than any real deployment has; past it the map starts over.
const MAX_ENTRIES: usize = 10_000;

struct TtlMap<K, V> {
    entries: Mutex<HashMap<K, (Instant, V)>>,
}

impl<K: Eq + Hash, V: Clone> TtlMap<K, V> {
    fn new() -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn get<Q>(&self, key: &Q, ttl: Duration) -> Option<V>
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(key)
            .filter(|(at, _)| at.elapsed() < ttl)
            .map(|(_, v)| v.clone())
    }

    fn put(&self, key: K, value: V, loaded_at: Instant) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(key, (loaded_at, value));
    }

    fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}

struct Maps {
    project_by_id: TtlMap<String, Project>,
    project_by_slug: TtlMap<String, Project>,
    /// SHA-256 digest of a key → its project and kind.
    project_by_key: TtlMap<String, (Project, KeyKind)>,
    collection_by_id: TtlMap<String, Arc<Collection>>,
    /// (project id, name) → collection.
    collection_by_name: TtlMap<(String, String), Arc<Collection>>,
}

/// The short-lived cache of projects, keys and collections; cheap to clone.
#[derive(Clone)]
pub struct Catalog {
    ttl: Duration,
    maps: Arc<Maps>,
}

impl Catalog {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            maps: Arc::new(Maps {
                project_by_id: TtlMap::new(),
                project_by_slug: TtlMap::new(),
                project_by_key: TtlMap::new(),
                collection_by_id: TtlMap::new(),
                collection_by_name: TtlMap::new(),
            }),
        }
    }

    /// Forgets everything: called after this process changes projects or collections.
    pub fn clear(&self) {
        self.maps.project_by_id.clear();
        self.maps.project_by_slug.clear();
        self.maps.project_by_key.clear();
        self.maps.collection_by_id.clear();
        self.maps.collection_by_name.clear();
    }

    pub async fn project(&self, db: &impl ConnectionTrait, id: &str) -> AppResult<Project> {
        if let Some(p) = self.maps.project_by_id.get(id, self.ttl) {
            return Ok(p);
        }
        let at = Instant::now();
        let p = projects::get(db, id).await?;
        self.maps.project_by_id.put(id.to_owned(), p.clone(), at);
        Ok(p)
    }

    pub async fn project_by_slug(
        &self,
        db: &impl ConnectionTrait,
        slug: &str,
    ) -> AppResult<Project> {
        if let Some(p) = self.maps.project_by_slug.get(slug, self.ttl) {
            return Ok(p);
        }
        let at = Instant::now();
        let p = projects::find_by_slug(db, slug).await?;
        self.maps
            .project_by_slug
            .put(slug.to_owned(), p.clone(), at);
        Ok(p)
    }

    /// Resolves an API key to its project and kind; unknown keys are `Unauthenticated`.
    pub async fn authenticate_key(
        &self,
        db: &impl ConnectionTrait,
        key: &str,
    ) -> AppResult<(Project, KeyKind)> {
        KeyKind::of(key).ok_or(AppError::Unauthenticated)?;
        // The map is keyed by the key's digest (never the key itself), and a
        // hit is an exact match of that digest.
        let digest = keys::hash(key);
        if let Some(hit) = self.maps.project_by_key.get(digest.as_str(), self.ttl) {
            return Ok(hit);
        }
        let at = Instant::now();
        let found = projects::authenticate_key(db, key).await?;
        self.maps.project_by_key.put(digest, found.clone(), at);
        Ok(found)
    }

    pub async fn collection(&self, db: &impl ConnectionTrait, id: &str) -> AppResult<Collection> {
        if let Some(c) = self.maps.collection_by_id.get(id, self.ttl) {
            return Ok(Collection::clone(&c));
        }
        let at = Instant::now();
        let c = collections::get(db, id).await?;
        self.maps
            .collection_by_id
            .put(id.to_owned(), Arc::new(c.clone()), at);
        Ok(c)
    }

    /// A collection of a project by name.
    pub async fn collection_by_name(
        &self,
        db: &impl ConnectionTrait,
        project_id: &str,
        name: &str,
    ) -> AppResult<Collection> {
        let key = (project_id.to_owned(), name.to_owned());
        if let Some(c) = self.maps.collection_by_name.get(&key, self.ttl) {
            return Ok(Collection::clone(&c));
        }
        let at = Instant::now();
        let c = collections::find(db, project_id, name).await?;
        self.maps
            .collection_by_name
            .put(key, Arc::new(c.clone()), at);
        Ok(c)
    }

    /// A collection of a project by name, or else by id (PocketBase accepts both).
    pub async fn collection_by_name_or_id(
        &self,
        db: &impl ConnectionTrait,
        project_id: &str,
        key: &str,
    ) -> AppResult<Collection> {
        match self.collection_by_name(db, project_id, key).await {
            Err(AppError::NotFound(_)) => {
                let c = self.collection(db, key).await?;
                if c.project_id == project_id {
                    Ok(c)
                } else {
                    Err(AppError::NotFound("collection"))
                }
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_after_the_ttl_and_clear_forgets_them() {
        let map: TtlMap<String, u32> = TtlMap::new();
        let ttl = Duration::from_millis(50);
        map.put("a".into(), 1, Instant::now());
        assert_eq!(map.get("a", ttl), Some(1));
        map.put("b".into(), 2, Instant::now() - Duration::from_millis(60));
        assert_eq!(map.get("b", ttl), None);
        map.clear();
        assert_eq!(map.get("a", ttl), None);
        // A zero TTL caches nothing.
        map.put("c".into(), 3, Instant::now());
        assert_eq!(map.get("c", Duration::ZERO), None);
    }
}

//! Cached public views: one researcher (`GET /api/v1/researchers/{id}`) and
//! a paper's researcher list (`GET /api/v1/consulting/researchers/{paper}`),
//! as anyone but an admin sees them (admins see the address and the
//! provenance, and always read fresh).
//!
//! Each entry remembers the `Profiles` generation it was built at
//! (`db::changes`): any committed write to profiles, authorship, booking
//! settings, availability, reviews or accounts (collection, edits, claims,
//! merges, ratings, erasure, including write paths added later) makes it
//! stale at once, with no invalidation call to forget. `[cache] ttl_secs`
//! bounds what another process's writes (the command line) may leave.

use std::sync::Arc;

use crate::error::AppResult;

use crate::db::changes::Data;
use crate::domain::ResearcherId;
use crate::pagination::Page;
use crate::state::AppState;

use super::researchers::ResearcherView;

/// Values built at a `Profiles` generation, served while it is current.
#[derive(Clone)]
pub struct Current<K, V> {
    entries: moka::future::Cache<K, (u64, Arc<V>)>,
}

impl<K, V> Current<K, V>
where
    K: std::hash::Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    fn new(cfg: &crate::config::CacheConfig) -> Self {
        Self {
            entries: moka::future::Cache::builder()
                .max_capacity(cfg.max_entries)
                .time_to_live(std::time::Duration::from_secs(cfg.ttl_secs))
                .build(),
        }
    }

    /// The value under `key` if it is still current, else `build`'s, kept
    /// under the generation read before building (a write during the build
    /// leaves it stale).
    pub async fn get_or_build(
        &self,
        state: &AppState,
        key: K,
        build: impl std::future::Future<Output = AppResult<V>>,
    ) -> AppResult<V> {
        let now = state.db.generation(Data::Profiles);
        if let Some((at, v)) = self.entries.get(&key).await {
            if at == now {
                return Ok((*v).clone());
            }
        }
        let v = build.await?;
        self.entries.insert(key, (now, Arc::new(v.clone()))).await;
        Ok(v)
    }
}

/// The public researcher views, and the paper researcher lists by paper,
/// order and page.
#[derive(Clone)]
pub struct ViewCache {
    pub one: Current<ResearcherId, ResearcherView>,
    pub lists: Current<String, Page<ResearcherView>>,
}

impl ViewCache {
    pub fn new(cfg: &crate::config::CacheConfig) -> Self {
        Self {
            one: Current::new(cfg),
            lists: Current::new(cfg),
        }
    }
}

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

use crate::db::changes::Data;
use crate::domain::ResearcherId;
use crate::pagination::Page;
use crate::state::AppState;

use super::researchers::ResearcherView;

type Entry<T> = (u64, Arc<T>);

#[derive(Clone)]
pub struct ViewCache {
    one: moka::future::Cache<ResearcherId, Entry<ResearcherView>>,
    lists: moka::future::Cache<String, Entry<Page<ResearcherView>>>,
}

impl ViewCache {
    pub fn new(cfg: &crate::config::CacheConfig) -> Self {
        let ttl = std::time::Duration::from_secs(cfg.ttl_secs);
        Self {
            one: moka::future::Cache::builder()
                .max_capacity(cfg.max_entries)
                .time_to_live(ttl)
                .build(),
            lists: moka::future::Cache::builder()
                .max_capacity(cfg.max_entries)
                .time_to_live(ttl)
                .build(),
        }
    }
}

fn generation(state: &AppState) -> u64 {
    state.db.generation(Data::Profiles)
}

/// The cached public view of `id`, if still current.
pub async fn one(state: &AppState, id: ResearcherId) -> Option<Arc<ResearcherView>> {
    let (at, v) = state.cache.views.one.get(&id).await?;
    (at == generation(state)).then_some(v)
}

/// Keeps a public view built while the generation was `at` (read before
/// building, so a write during the build leaves it stale).
pub async fn keep_one(state: &AppState, at: u64, v: &ResearcherView) {
    state
        .cache
        .views
        .one
        .insert(v.id, (at, Arc::new(v.clone())))
        .await;
}

/// The cached public list under `key`, if still current.
pub async fn list(state: &AppState, key: &str) -> Option<Arc<Page<ResearcherView>>> {
    let (at, v) = state.cache.views.lists.get(key).await?;
    (at == generation(state)).then_some(v)
}

pub async fn keep_list(state: &AppState, at: u64, key: String, page: &Page<ResearcherView>) {
    state
        .cache
        .views
        .lists
        .insert(key, (at, Arc::new(page.clone())))
        .await;
}

/// The generation to build a new entry at.
pub fn now(state: &AppState) -> u64 {
    generation(state)
}

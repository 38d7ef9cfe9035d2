//! Cached public views: one researcher (`GET /api/v1/researchers/{id}`),
//! a paper's researcher list (`GET /api/v1/consulting/researchers/{paper}`),
//! as anyone but an admin sees them (admins see the address and the
//! provenance, and always read fresh), and a page of paper search results
//! (`GET /api/v1/papers?q=`, the search page), the same for everyone.
//!
//! Each entry remembers the `Profiles` generation it was built at
//! (`db::changes`): any committed write to profiles, authorship, booking
//! settings, availability, reviews or accounts (collection, edits, claims,
//! merges, ratings, erasure, including write paths added later) makes it
//! stale at once, with no invalidation call to forget. `[cache] ttl_secs`
//! bounds what another process's writes (the command line) may leave.

use std::sync::Arc;

use bytes::Bytes;

use crate::error::{AppError, AppResult};

use crate::db::changes::Data;
use crate::domain::ResearcherId;
use crate::state::AppState;

use super::paper_search::PaperHit;
use super::researchers::ResearcherView;
use crate::pagination::Page;

/// Values built at a `Profiles` generation, served while it is current.
pub struct Current<K, V> {
    entries: moka::future::Cache<K, (u64, Arc<V>)>,
}

impl<K, V> Clone for Current<K, V> {
    fn clone(&self) -> Self {
        Self {
            entries: self.entries.clone(),
        }
    }
}

/// What an entry costs in memory, in bytes, for the cache's budget.
pub trait Weighed {
    fn bytes(&self) -> u32;
}

impl<K, V> Current<K, V>
where
    K: std::hash::Hash + Eq + Send + Sync + 'static,
    V: Weighed + Send + Sync + 'static,
{
    /// At most `[cache] view_mib` of values, by their `Weighed::bytes`.
    fn new(cfg: &crate::config::CacheConfig) -> Self {
        let budget = cfg.view_mib.saturating_mul(1024 * 1024);
        Self {
            entries: moka::future::Cache::builder()
                .weigher(|_, (_, v): &(u64, Arc<V>)| v.bytes().max(1))
                .max_capacity(budget)
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
    ) -> AppResult<Arc<V>> {
        let now = state.db.generation(Data::Profiles);
        if let Some((at, v)) = self.entries.get(&key).await {
            if at == now {
                return Ok(v);
            }
        }
        let v = Arc::new(build.await?);
        self.entries.insert(key, (now, v.clone())).await;
        Ok(v)
    }
}

/// A view with its JSON, serialized once when it was built: a cached API
/// answer is sent as these bytes, with no copy of the view and no
/// serialization per request.
pub struct Prepared<V> {
    pub value: V,
    pub json: Bytes,
}

impl<V: serde::Serialize> Prepared<V> {
    pub fn new(value: V) -> AppResult<Self> {
        let json = json_of(&value)?;
        Ok(Self { value, json })
    }
}

impl<V> Weighed for Prepared<V> {
    /// The JSON, and about twice that for the value it was made from
    /// (strings with their headers and capacity, vectors, options).
    fn bytes(&self) -> u32 {
        u32::try_from(self.json.len().saturating_mul(3)).unwrap_or(u32::MAX)
    }
}

impl Weighed for Bytes {
    fn bytes(&self) -> u32 {
        u32::try_from(self.len()).unwrap_or(u32::MAX)
    }
}

/// `value` as JSON bytes.
pub fn json_of<V: serde::Serialize>(value: &V) -> AppResult<Bytes> {
    serde_json::to_vec(value)
        .map(Bytes::from)
        .map_err(|e| AppError::internal(format!("serializing a view: {e}")))
}

/// The public researcher views, the paper researcher lists by paper,
/// order and page, and pages of paper search results.
#[derive(Clone)]
pub struct ViewCache {
    pub one: Current<ResearcherId, Prepared<ResearcherView>>,
    /// Only the JSON: nothing reads a cached list's value.
    pub lists: Current<String, Bytes>,
    /// By search words, author words, `bookable`, limit and cursor: the
    /// hits (titles, authors, bookable marks, ratings) read only tables
    /// that move the `Profiles` generation.
    pub searches: Current<String, Prepared<Page<PaperHit>>>,
}

impl ViewCache {
    pub fn new(cfg: &crate::config::CacheConfig) -> Self {
        Self {
            one: Current::new(cfg),
            lists: Current::new(cfg),
            searches: Current::new(cfg),
        }
    }
}

//! In-process caches (moka). Every write that changes what a cached read
//! returns invalidates the entry in the same service function.

use std::sync::Arc;
use std::time::Duration;

use moka::future::Cache as Moka;

use crate::config::{CacheConfig, CollectionConfig};
use crate::domain::{PaperId, SessionId};
use crate::repos::auth_sessions::ActiveSession;
use crate::services::papers::PaperView;

#[derive(Clone)]
pub struct Cache {
    /// Paper detail by id.
    pub papers: Moka<PaperId, Arc<PaperView>>,
    /// Active API sessions by id, so bearer checks skip the database.
    /// `None` caches "revoked or unknown".
    pub sessions: Moka<SessionId, Option<ActiveSession>>,
}

impl Cache {
    pub fn new(cfg: &CacheConfig) -> Self {
        let ttl = Duration::from_secs(cfg.ttl_secs);
        Self {
            papers: Moka::builder()
                .max_capacity(cfg.max_entries)
                .time_to_live(ttl)
                .build(),
            // Session checks must see revocations quickly even if an
            // invalidation were missed, so cap their lifetime.
            sessions: Moka::builder()
                .max_capacity(cfg.max_entries)
                .time_to_live(ttl.min(Duration::from_secs(30)))
                .build(),
        }
    }
}

/// Provider answers by call key (provider, operation and arguments), kept
/// for `collection.cache_ttl_secs` so the same paid call is not made twice.
#[derive(Clone)]
pub struct ProviderCache(pub Moka<String, Arc<serde_json::Value>>);

impl ProviderCache {
    pub fn new(cfg: &CollectionConfig) -> Self {
        Self(
            Moka::builder()
                .max_capacity(100_000)
                .time_to_live(Duration::from_secs(cfg.cache_ttl_secs.max(1)))
                .build(),
        )
    }
}

//! Computed dashboards and analytics, cached per (role, subject, range).
//!
//! An entry remembers the data generations (`db::changes`) it was
//! computed at; once a commit changes what it read, the generation moves
//! and the entry is never served again. Personal dashboards also list
//! what is "upcoming", which time alone changes, so they live at most a
//! minute; the configured TTL is only the fallback for the rest.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};

use super::admin::{self, AdminAnalytics};
use super::buckets::{Bucket, Buckets};
use super::dashboards::{self, ResearcherDashboard, UserDashboard};
use crate::config::{AnalyticsConfig, CacheConfig};
use crate::db::changes::Data;
use crate::domain::UserId;
use crate::error::AppResult;
use crate::services::accounts::Principal;
use crate::state::AppState;

/// How long a personal dashboard may be served, in the service's clock.
const PERSONAL_SECS: i64 = 60;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Admin {
        from: NaiveDate,
        to: NaiveDate,
        bucket: Bucket,
    },
    User(UserId),
    /// The researcher dashboard of the profile this account owns (a
    /// change of owner is a write, so the key needs no lookup).
    Researcher(UserId),
}

#[derive(Clone)]
enum Figures {
    Admin(Arc<AdminAnalytics>),
    User(Arc<UserDashboard>),
    Researcher(Arc<ResearcherDashboard>),
}

#[derive(Clone)]
struct Entry {
    records: u64,
    engagement: u64,
    computed_at: DateTime<Utc>,
    figures: Figures,
}

#[derive(Clone)]
pub struct FigureCache {
    inner: moka::sync::Cache<Key, Entry>,
}

impl FigureCache {
    pub fn new(analytics: &AnalyticsConfig, cache: &CacheConfig) -> Self {
        Self {
            inner: moka::sync::Cache::builder()
                .max_capacity(cache.max_entries)
                .time_to_live(Duration::from_secs(analytics.cache_ttl_secs))
                .build(),
        }
    }

    /// Entries held (for tests and metrics).
    pub fn entry_count(&self) -> u64 {
        self.inner.run_pending_tasks();
        self.inner.entry_count()
    }
}

/// What an entry depends on, read before computing it.
fn generations(state: &AppState) -> (u64, u64) {
    (
        state.db.generation(Data::Records),
        state.db.generation(Data::Engagement),
    )
}

/// A fresh entry for `key`, if one is cached.
fn fresh(state: &AppState, key: &Key, personal: bool) -> Option<Figures> {
    let e = state.cache.figures.inner.get(key)?;
    let (records, engagement) = generations(state);
    let engagement_ok = !matches!(key, Key::Admin { .. }) || e.engagement == engagement;
    let young = !personal || (state.now() - e.computed_at).num_seconds().abs() < PERSONAL_SECS;
    (e.records == records && engagement_ok && young).then_some(e.figures)
}

fn store(state: &AppState, key: Key, gens: (u64, u64), figures: Figures) {
    state.cache.figures.inner.insert(
        key,
        Entry {
            records: gens.0,
            engagement: gens.1,
            computed_at: state.now(),
            figures,
        },
    );
}

/// The admins' analytics over local days `[from, to)` by `bucket`.
pub async fn admin_analytics(
    state: &AppState,
    from: NaiveDate,
    to: NaiveDate,
    bucket: Bucket,
) -> AppResult<Arc<AdminAnalytics>> {
    // Counts still in memory first, so the figures are current (a no-op
    // when nothing is pending).
    crate::services::engagement::flush(state).await?;
    let key = Key::Admin { from, to, bucket };
    if let Some(Figures::Admin(a)) = fresh(state, &key, false) {
        return Ok(a);
    }
    let b = Buckets::cover(bucket, state.config.institution.zone(), from, to)
        .map_err(|m| crate::error::AppError::field("to", m))?;
    let gens = generations(state);
    let a = Arc::new(admin::compute(state, b).await?);
    store(state, key, gens, Figures::Admin(a.clone()));
    Ok(a)
}

pub async fn user_dashboard(state: &AppState, who: &Principal) -> AppResult<Arc<UserDashboard>> {
    let key = Key::User(who.user_id);
    if let Some(Figures::User(d)) = fresh(state, &key, true) {
        return Ok(d);
    }
    let gens = generations(state);
    let d = Arc::new(dashboards::user(state, who).await?);
    store(state, key, gens, Figures::User(d.clone()));
    Ok(d)
}

/// The dashboard of the researcher profile `who` owns.
pub async fn researcher_dashboard(
    state: &AppState,
    who: &Principal,
) -> AppResult<Arc<ResearcherDashboard>> {
    let key = Key::Researcher(who.user_id);
    if let Some(Figures::Researcher(d)) = fresh(state, &key, true) {
        return Ok(d);
    }
    let gens = generations(state);
    let id = dashboards::own_profile(state, who).await?;
    let d = Arc::new(dashboards::researcher(state, who, id).await?);
    store(state, key, gens, Figures::Researcher(d.clone()));
    Ok(d)
}

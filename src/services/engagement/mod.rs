//! Engagement: searches, paper views, sign-ins and active accounts, kept
//! as daily aggregate counters (per paper for views) and never as a
//! person's browsing history. Requests record into memory (`Counters`,
//! in `AppState`); `flush` moves the counts to `analytics_counters` in one
//! transaction, every `[analytics] flush_secs`, at shutdown and before
//! analytics are read. An account is counted active at most once per
//! day, week and month; `users.active_*` keep only its latest periods so
//! a restart never counts it twice. The `analytics` and `retention` jobs
//! delete counters older than `[analytics] retention_days`
//! (`retention::analytics_counters`).

mod counters;
mod flush;
mod record;

pub use counters::Counters;
pub use flush::{flush, spawn, stop};
pub use record::{record_active, record_paper_view, record_search, record_sign_in};

//! `AppState`: everything a handler, job or command needs, passed
//! explicitly (no globals), so every test builds its own. It is one `Arc`:
//! axum clones the state for every extractor and middleware of every
//! request, and cloning (and dropping) the ~20 handles and caches inside
//! was the largest cost of a cheap request.

use std::sync::Arc;

use anyhow::Context;
use ipnet::IpNet;

use crate::clock::SharedClock;
use crate::config::Config;
use crate::crypto::Keyring;
use crate::db::Db;
use crate::metrics::Metrics;
use crate::providers::Providers;
use crate::services::accounts::{session_cache, SessionCache};
use crate::services::collection::calls::ProviderCache;
use crate::services::login_limits::LoginLimits;
use crate::services::papers::{paper_cache, PaperCache};
use crate::services::passwords::PasswordHasher;
use crate::services::rate_limits::RateLimits;

/// The in-process caches; each type lives with the service that owns its
/// data and invalidates it.
#[derive(Clone)]
pub struct Cache {
    pub papers: PaperCache,
    pub sessions: SessionCache,
    /// Dashboards and analytics (`services::analytics::cache`).
    pub figures: crate::services::analytics::FigureCache,
    /// Public researcher views and paper researcher lists.
    pub views: crate::services::researcher_views::ViewCache,
}

/// What a lower service tells a higher one, registered here so that
/// services only ever import downwards.
#[derive(Clone, Copy)]
pub struct Hooks {
    /// Mail → outreach: an invitation's e-mail went out or failed.
    pub mail_delivered: crate::services::mail::DeliveredHook,
    /// Payments → sessions: a priced request's card is held.
    pub payment_authorized: crate::services::payments::AuthorizedHook,
}

impl Default for Hooks {
    fn default() -> Self {
        Self {
            mail_delivered: crate::services::outreach::mail_delivered,
            payment_authorized: crate::services::sessions::notify::on_payment_authorized,
        }
    }
}

/// A handle on the application's shared state (see `Shared`).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What every handler, job and command shares.
#[derive(Clone)]
pub struct Shared {
    pub config: Arc<Config>,
    pub db: Db,
    pub keys: Arc<Keyring>,
    pub clock: SharedClock,
    pub cache: Cache,
    pub passwords: PasswordHasher,
    pub login_limits: LoginLimits,
    pub rate_limits: Arc<RateLimits>,
    pub metrics: Arc<Metrics>,
    pub providers: Arc<Providers>,
    /// Wakes the collection runner when a job is queued.
    pub collection_wake: Arc<tokio::sync::Notify>,
    /// Provider answers, so identical calls are not paid twice.
    pub provider_cache: ProviderCache,
    /// The SMTP transport; `None` when mail is held (no `[smtp] host`).
    pub mailer: Option<crate::services::mail::sender::Mailer>,
    /// Wakes the mail sender when a message is queued.
    pub mail_wake: Arc<tokio::sync::Notify>,
    pub mail_sender: Arc<crate::services::mail::sender::SenderState>,
    /// Bounds and guards the collection runner.
    pub collection_runner: Arc<crate::services::collection::runner::RunnerState>,
    pub trusted_proxies: Arc<Vec<IpNet>>,
    /// `[security] admin_allowed_ips`, parsed; empty = no restriction.
    pub admin_allowed_ips: Arc<Vec<IpNet>>,
    pub hooks: Hooks,
    /// Engagement counts gathered in memory until the next flush.
    pub engagement: Arc<crate::services::engagement::Counters>,
    /// How `[[plans]]` compared with their Stripe Prices at start.
    pub plan_checks: crate::services::payments::plan_check::PlanChecks,
}

impl AppState {
    /// Opens the keyring and the database (applying migrations).
    pub fn build(config: Config, clock: SharedClock) -> anyhow::Result<Self> {
        crate::db::keyring_guard::refuse_new_keyring_for_old_data(&config)?;
        let keys = Keyring::load_or_create(&config).context("loading the keyring")?;
        crate::db::keyring_guard::check_keyring_reads(&config.database_path(), &keys)?;
        let db = Db::open(&config.storage, &config.database_path())?;
        let passwords = PasswordHasher::new(config.auth.password_hash_concurrency)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let trusted = config.trusted_proxies().map_err(anyhow::Error::msg)?;
        let admin_allowed = config.admin_allowed_ips().map_err(anyhow::Error::msg)?;
        Ok(Self(Arc::new(Shared {
            cache: Cache {
                papers: paper_cache(&config.cache),
                sessions: session_cache(&config.cache),
                figures: crate::services::analytics::FigureCache::new(
                    &config.analytics,
                    &config.cache,
                ),
                views: crate::services::researcher_views::ViewCache::new(&config.cache),
            },
            login_limits: LoginLimits::new(&config.auth),
            rate_limits: Arc::new(RateLimits::new(&config.security)),
            metrics: Arc::new(Metrics::default()),
            providers: Arc::new(Providers::new(&config)?),
            collection_wake: Arc::new(tokio::sync::Notify::new()),
            provider_cache: ProviderCache::new(&config.collection),
            mailer: crate::services::mail::sender::mailer(&config.smtp)?,
            mail_wake: Arc::new(tokio::sync::Notify::new()),
            mail_sender: Arc::new(Default::default()),
            collection_runner: Arc::new(crate::services::collection::runner::RunnerState::new(
                config.collection.max_parallel_authors,
            )),
            trusted_proxies: Arc::new(trusted),
            admin_allowed_ips: Arc::new(admin_allowed),
            hooks: Hooks::default(),
            engagement: Arc::new(crate::services::engagement::Counters::new(
                config.institution.zone(),
            )),
            plan_checks: Default::default(),
            passwords,
            db,
            keys: Arc::new(keys),
            clock,
            config: Arc::new(config),
        })))
    }

    /// A copy of the state with `change` made to it (tests: another
    /// configuration, a restarted part); the original is untouched.
    pub fn modified(&self, change: impl FnOnce(&mut Shared)) -> Self {
        let mut shared = (*self.0).clone();
        change(&mut shared);
        Self(Arc::new(shared))
    }

    /// The same state with another configuration.
    pub fn with_config(&self, config: Config) -> Self {
        self.modified(|s| s.config = Arc::new(config))
    }
}

impl Shared {
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }
}

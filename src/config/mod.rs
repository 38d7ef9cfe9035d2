//! Configuration: one TOML file, then `COLLOQUY__SECTION__KEY` environment
//! overrides. Every field has a default so `colloquy serve` runs with no file
//! at all; unknown keys are an error so a typo never silently does nothing.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Toml};
use figment::Figment;
use ipnet::IpNet;
use serde::{Deserialize, Serialize, Serializer};

mod accounts;
mod analytics;
pub mod institution;
mod jobs;
mod payments;
mod providers;
mod retention;
mod reviews;
mod security;
mod sessions;
mod smtp;

#[cfg(test)]
mod config_properties;

pub use accounts::{AccountsConfig, AuthConfig, EmailVerification};
pub use analytics::AnalyticsConfig;
pub use institution::{Brand, InstitutionConfig};
pub use jobs::{check_schedule, JobsConfig};
pub use payments::{
    InvoicesConfig, PaymentsConfig, PaymentsMode, PlanConfig, StripeConfig, TaxConfig, TaxMode,
    TaxRateConfig,
};
pub use providers::{
    BudgetDefault, CollectionConfig, OpenAlexConfig, PaidProviderConfig, ProvidersConfig,
};
pub use retention::RetentionConfig;
pub use reviews::{DisputesConfig, ReviewsConfig};
pub use security::{ip_nets, KeySource, SecurityConfig};
pub use sessions::{SessionsConfig, VideoConfig, VideoProvider, ZoomConfig};
pub use smtp::{SmtpConfig, SmtpSecurity};

/// A configuration value that must never be printed or logged.
#[derive(Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    /// The clear value, for the one place that sends it to its service.
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub fn is_set(&self) -> bool {
        !self.0.trim().is_empty()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.is_set() {
            "\"[redacted]\""
        } else {
            "\"\""
        })
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(if self.is_set() { "[redacted]" } else { "" })
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// The file this configuration was read from (`--config`); not a key.
    #[serde(skip)]
    pub source: Option<PathBuf>,
    pub server: ServerConfig,
    pub storage: StorageConfig,
    pub auth: AuthConfig,
    pub accounts: AccountsConfig,
    pub security: SecurityConfig,
    pub institution: InstitutionConfig,
    pub providers: ProvidersConfig,
    pub collection: CollectionConfig,
    pub smtp: SmtpConfig,
    pub outreach: OutreachConfig,
    pub sessions: SessionsConfig,
    pub video: VideoConfig,
    pub zoom: ZoomConfig,
    pub reviews: ReviewsConfig,
    pub disputes: DisputesConfig,
    pub payments: PaymentsConfig,
    pub stripe: StripeConfig,
    /// Subscription plans (`[[plans]]`); none by default.
    pub plans: Vec<PlanConfig>,
    pub tax: TaxConfig,
    pub invoices: InvoicesConfig,
    pub jobs: JobsConfig,
    pub analytics: AnalyticsConfig,
    pub retention: RetentionConfig,
    pub cache: CacheConfig,
    pub logging: LoggingConfig,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address the HTTP server listens on. Port 0 picks a free port (tests).
    pub bind: String,
    /// The URL users reach the service at; used in links (setup, e-mails) and
    /// to decide whether cookies are `Secure`. Defaults to `http://<bind>`.
    pub public_url: String,
    /// Requests taking longer than this are answered 408.
    pub request_timeout_secs: u64,
    /// Largest accepted request body; larger ones are answered 413.
    pub body_limit_bytes: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:8080".into(),
            public_url: String::new(),
            request_timeout_secs: 30,
            body_limit_bytes: 1024 * 1024,
        }
    }
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Synchronous {
    /// Durable against application crashes; a power cut may lose the last
    /// transactions. The SQLite-recommended setting for WAL.
    Normal,
    /// Every commit is fsynced: durable against power loss, slower writes.
    Full,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageConfig {
    /// Directory for the database, the keyring and backups.
    pub data_dir: PathBuf,
    /// SQLite `synchronous` pragma: `normal` or `full` (see docs/operations.md).
    pub synchronous: Synchronous,
    /// Read-only connections kept open for concurrent reads.
    pub reader_pool_size: usize,
    /// How long a connection waits for a lock before giving up.
    pub busy_timeout_ms: u64,
    /// WAL pages after which the writer's commit copies the WAL back into
    /// the database itself (SQLite's `wal_autocheckpoint`): a backstop, as
    /// a background thread copies it after commits (docs/performance.md).
    pub wal_autocheckpoint_pages: u32,
}

impl Default for StorageConfig {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("./data"),
            synchronous: Synchronous::Normal,
            reader_pool_size: 4,
            busy_timeout_ms: 5000,
            wal_autocheckpoint_pages: WAL_AUTOCHECKPOINT_PAGES,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutreachConfig {
    /// A researcher invited within this many days is not invited again
    /// (readers' interest is still recorded).
    pub cooldown_days: i64,
    /// How long a registration link works (at most `MAX_LINK_TTL_DAYS`).
    pub link_ttl_days: i64,
}

/// `storage.wal_autocheckpoint_pages` by default.
pub const WAL_AUTOCHECKPOINT_PAGES: u32 = 10_000;

/// The longest `outreach.link_ttl_days` may be: a used registration link
/// older than this can no longer be presented, so its record may go.
pub const MAX_LINK_TTL_DAYS: i64 = 365;

impl Default for OutreachConfig {
    fn default() -> Self {
        Self {
            cooldown_days: 30,
            link_ttl_days: 14,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct CacheConfig {
    /// How long a cached read (paper, session check) may be served.
    pub ttl_secs: u64,
    /// Entries per cache before the least used are evicted (2,000: a
    /// university's hot papers and signed-in sessions; RSS 127-174 MB when
    /// readers roam 400,000 objects, 251 MB with 10,000; docs/performance.md).
    pub max_entries: u64,
    /// Memory, in MiB, each cache of public views (one researcher; a
    /// paper's researcher list; a page of search results) may hold,
    /// counted from their JSON: a list of twelve researchers weighs as
    /// much as twelve views.
    pub view_mib: u64,
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self {
            ttl_secs: 300,
            max_entries: 2_000,
            view_mib: 4,
        }
    }
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// JSON when stdout is not a terminal, readable text when it is.
    Auto,
    Json,
    Pretty,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct LoggingConfig {
    pub format: LogFormat,
    /// A tracing filter, for example `info` or `colloquy=debug,tower_http=info`.
    /// `RUST_LOG` wins when set.
    pub level: String,
}

impl Default for LoggingConfig {
    fn default() -> Self {
        Self {
            format: LogFormat::Auto,
            level: "info".into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration file {0} does not exist")]
    Missing(PathBuf),
    #[error("{0}")]
    Parse(String),
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

/// Seed-era plain environment variable names and the key each one sets.
const PLAIN_ENV_NAMES: &[(&str, &str)] = &[
    ("OPENALEX_API_KEY", "providers.openalex.api_key"),
    ("FIRECRAWL_API_KEY", "providers.firecrawl.api_key"),
    ("TAVILY_API_KEY", "providers.tavily.api_key"),
    ("ROCKETREACH_API_KEY", "providers.rocketreach.api_key"),
    ("ZOOM_API_KEY", "zoom.api_key"),
    ("STRIPE_SECRET_KEY", "stripe.secret_key"),
];

impl Config {
    /// Reads the file (if given) and the environment, then validates.
    pub fn load(path: Option<&Path>) -> Result<Self, ConfigError> {
        let mut figment = Figment::new();
        if let Some(path) = path {
            if !path.exists() {
                return Err(ConfigError::Missing(path.to_path_buf()));
            }
            figment = figment.merge(Toml::file_exact(path));
        }
        for (name, key) in PLAIN_ENV_NAMES {
            let key = *key;
            figment = figment.merge(Env::raw().only(&[name]).map(move |_| key.into()));
        }
        figment = figment.merge(Env::prefixed("COLLOQUY__").split("__"));
        let mut config: Config = figment
            .extract()
            .map_err(|e| ConfigError::Parse(e.to_string()))?;
        config.validate()?;
        config.source = path.map(Path::to_path_buf);
        Ok(config)
    }

    /// Checks what serde cannot: addresses, URLs, ranges, schedules.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |m: String| Err(ConfigError::Invalid(m));
        if self.server.bind.parse::<SocketAddr>().is_err() {
            return invalid(format!(
                "server.bind `{}` is not an address like 127.0.0.1:8080",
                self.server.bind
            ));
        }
        if !self.server.public_url.is_empty() && url::Url::parse(&self.server.public_url).is_err() {
            return invalid("server.public_url is not a URL".into());
        }
        if self.server.request_timeout_secs == 0 || self.server.body_limit_bytes < 1024 {
            return invalid(
                "server.request_timeout_secs must be > 0 and server.body_limit_bytes at least 1024"
                    .into(),
            );
        }
        if self.storage.reader_pool_size == 0 {
            return invalid("storage.reader_pool_size must be at least 1".into());
        }
        if !(100..=1_000_000).contains(&self.storage.wal_autocheckpoint_pages) {
            return invalid(
                "storage.wal_autocheckpoint_pages must be between 100 and 1000000".into(),
            );
        }
        let a = &self.auth;
        if a.password_min_length < 12 || a.password_max_length < a.password_min_length {
            return invalid(
                "auth.password_min_length must be >= 12 and <= auth.password_max_length".into(),
            );
        }
        if a.password_max_length > 1024 {
            return invalid("auth.password_max_length must be <= 1024".into());
        }
        if a.access_token_ttl_secs <= 0
            || a.refresh_token_ttl_secs <= 0
            || a.web_session_ttl_secs <= 0
        {
            return invalid("auth token lifetimes must be positive".into());
        }
        if a.login_max_failures_per_ip == 0 || a.login_max_failures_per_account == 0 {
            return invalid("auth.login_max_failures_* must be at least 1".into());
        }
        if !(1..=24 * 30).contains(&self.accounts.verification_ttl_hours)
            || self.accounts.verification_resends_per_hour == 0
        {
            return invalid(
                "accounts.verification_ttl_hours must be between 1 and 720 and accounts.verification_resends_per_hour at least 1"
                    .into(),
            );
        }
        self.security.validate().map_err(ConfigError::Invalid)?;
        self.providers.validate().map_err(ConfigError::Invalid)?;
        self.collection.validate().map_err(ConfigError::Invalid)?;
        self.smtp.validate().map_err(ConfigError::Invalid)?;
        self.sessions.validate().map_err(ConfigError::Invalid)?;
        self.reviews.validate().map_err(ConfigError::Invalid)?;
        self.analytics.validate().map_err(ConfigError::Invalid)?;
        self.retention.validate().map_err(ConfigError::Invalid)?;
        let payload_days = self.retention.provider_payloads_days;
        if payload_days > 0 && self.collection.cache_ttl_secs > payload_days.unsigned_abs() * 86_400
        {
            return invalid(format!(
                "collection.cache_ttl_secs keeps provider answers longer than retention.provider_payloads_days ({payload_days} days)"
            ));
        }
        if self
            .institution
            .timezone
            .trim()
            .parse::<crate::domain::zone::Tz>()
            .is_err()
        {
            return invalid(format!(
                "institution.timezone `{}` is not an IANA time zone like Europe/Berlin",
                self.institution.timezone
            ));
        }
        for (key, version) in [
            ("terms_version", &self.institution.terms_version),
            ("privacy_version", &self.institution.privacy_version),
        ] {
            if let Err(m) = InstitutionConfig::check_version(version) {
                return invalid(format!("institution.{key} {m}"));
            }
        }
        self.disputes.validate().map_err(ConfigError::Invalid)?;
        self.video.validate().map_err(ConfigError::Invalid)?;
        self.zoom.validate().map_err(ConfigError::Invalid)?;
        payments::validate(
            &self.payments,
            &self.stripe,
            &self.plans,
            &self.tax,
            &self.invoices,
        )
        .map_err(ConfigError::Invalid)?;
        if self.payments.mode == PaymentsMode::Stripe && self.server.public_url.is_empty() {
            return invalid(
                "payments.mode = \"stripe\" needs server.public_url: Stripe Checkout sends readers back there"
                    .into(),
            );
        }
        if self.video.provider == VideoProvider::Zoom && !self.zoom.enabled() {
            return invalid(
                "video.provider = \"zoom\" needs [zoom] account_id, client_id and client_secret (or api_key)"
                    .into(),
            );
        }
        if self.outreach.cooldown_days < 0
            || !(1..=MAX_LINK_TTL_DAYS).contains(&self.outreach.link_ttl_days)
        {
            return invalid(
                "outreach.cooldown_days must be >= 0 and outreach.link_ttl_days between 1 and 365"
                    .into(),
            );
        }
        for (name, schedule) in [
            ("housekeeping", &self.jobs.housekeeping),
            ("collection", &self.jobs.collection),
            ("refresh_stale", &self.jobs.refresh_stale),
            ("mail", &self.jobs.mail),
            ("sessions", &self.jobs.sessions),
            ("subscriptions", &self.jobs.subscriptions),
            ("reviews", &self.jobs.reviews),
            ("disputes", &self.jobs.disputes),
            ("analytics", &self.jobs.analytics),
            ("retention", &self.jobs.retention),
        ] {
            check_schedule(name, schedule).map_err(ConfigError::Invalid)?;
        }
        if self.cache.max_entries == 0 {
            return invalid("cache.max_entries must be at least 1".into());
        }
        if !(1..=4_096).contains(&self.cache.view_mib) {
            return invalid("cache.view_mib must be between 1 and 4096".into());
        }
        Ok(())
    }

    /// The public URL without a trailing slash.
    pub fn public_url(&self) -> String {
        if self.server.public_url.is_empty() {
            format!("http://{}", self.server.bind)
        } else {
            self.server.public_url.trim_end_matches('/').to_string()
        }
    }

    /// Whether accounts must verify their address (see `[accounts]`).
    pub fn email_verification_on(&self) -> bool {
        match self.accounts.email_verification {
            EmailVerification::Required => true,
            EmailVerification::Off => false,
            EmailVerification::Auto => self.smtp.enabled(),
        }
    }

    /// Whether the public URL is https (without building it: this runs
    /// for every answer, to send HSTS; an empty `public_url` means the
    /// `http://` bind address).
    pub fn cookies_secure(&self) -> bool {
        self.server.public_url.starts_with("https://")
    }

    pub fn trusted_proxies(&self) -> Result<Vec<IpNet>, String> {
        self.security.trusted_proxies()
    }

    pub fn admin_allowed_ips(&self) -> Result<Vec<IpNet>, String> {
        self.security.admin_allowed_ips()
    }

    pub fn database_path(&self) -> PathBuf {
        self.storage.data_dir.join("colloquy.db")
    }

    /// Settings that are valid but probably not meant, one sentence each.
    pub fn warnings(&self) -> Vec<String> {
        payments::warnings(&self.payments, &self.sessions)
    }

    /// The effective configuration as TOML, secrets redacted.
    pub fn redacted_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_else(|e| format!("# could not render: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_validate() {
        Config::default().validate().unwrap();
    }

    #[test]
    fn secrets_are_redacted_when_printed() {
        let mut c = Config::default();
        c.providers.openalex.api_key = Secret::new("sk-very-secret");
        let printed = c.redacted_toml();
        assert!(!printed.contains("sk-very-secret"));
        assert!(printed.contains("[redacted]"));
        assert!(!format!("{c:?}").contains("sk-very-secret"));
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "[server]\nbnd = \"1.2.3.4:1\"\n").unwrap();
        let err = Config::load(Some(&path)).unwrap_err().to_string();
        assert!(err.contains("bnd"), "{err}");
    }

    #[test]
    fn the_example_file_documents_every_key_with_its_default() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config.example.toml");
        let example = Config::load(Some(&path)).unwrap();
        assert_eq!(example.redacted_toml(), Config::default().redacted_toml());
        assert_eq!(
            example.institution.name, "",
            "no institution name by default"
        );
        let text = std::fs::read_to_string(&path).unwrap();
        let defaults: toml::Table = toml::from_str(&Config::default().redacted_toml()).unwrap();
        let listed: toml::Table = toml::from_str(&text).unwrap();
        assert_eq!(listed, defaults, "config.example.toml must list every key");
    }

    #[test]
    fn admin_access_settings_are_checked() {
        let mut c = Config::default();
        c.security.admin_allowed_ips = vec!["10.0.0.0/8".into(), "2001:db8::1".into()];
        c.security.admin_require_reauth_minutes = 15;
        c.validate().unwrap();
        c.security.admin_allowed_ips = vec!["10.0.0.300".into()];
        let err = c.validate().unwrap_err().to_string();
        assert!(err.contains("security.admin_allowed_ips"), "{err}");
        c.security.admin_allowed_ips = Vec::new();
        c.security.admin_require_reauth_minutes = 1441;
        let err = c.validate().unwrap_err().to_string();
        assert!(err.contains("admin_require_reauth_minutes"), "{err}");
    }

    #[test]
    fn file_values_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(
            &path,
            "[server]\nbind = \"127.0.0.1:9001\"\n[storage]\nsynchronous = \"full\"\n",
        )
        .unwrap();
        let c = Config::load(Some(&path)).unwrap();
        assert_eq!(c.server.bind, "127.0.0.1:9001");
        assert_eq!(c.storage.synchronous, Synchronous::Full);
    }

    #[test]
    fn the_wal_backstop_is_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        for (pages, ok) in [(0, false), (99, false), (100, true), (1_000_001, false)] {
            std::fs::write(
                &path,
                format!("[storage]\nwal_autocheckpoint_pages = {pages}\n"),
            )
            .unwrap();
            match Config::load(Some(&path)) {
                Ok(c) => {
                    assert!(ok, "{pages} accepted");
                    assert_eq!(c.storage.wal_autocheckpoint_pages, pages);
                }
                Err(e) => {
                    assert!(!ok, "{pages} refused: {e}");
                    assert!(e.to_string().contains("wal_autocheckpoint_pages"), "{e}");
                }
            }
        }
    }
}

//! Retention: what Colloquy no longer needs goes, per kind, on the daily
//! `retention` job and `colloquy retention` (which with `--dry-run` only
//! reports). Kinds and their windows are in `[retention]` (and
//! `[analytics] retention_days` for the counters); 0 keeps a kind forever.
//! Rows go in batches of `[retention] batch_size`, one write transaction
//! each, so the writer is never held for long; every run that is not a
//! dry run ends with one `retention.run` audit row with the counts per
//! kind. Invoices and the ledger are never touched.
//!
//! The `housekeeping` job (every few minutes) and the `analytics` job call
//! the same functions for tokens and counters, so each rule lives here once.

mod kinds;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;

use crate::db::repos::audit;
use crate::error::AppResult;
use crate::state::AppState;

pub use kinds::{analytics_counters, expired_tokens, TokenCounts};

/// A kind of data the retention run removes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// The content of old e-mails (the row and its metadata stay).
    MailBodies,
    /// What providers said in old collection steps.
    ProviderPayloads,
    /// Researcher profiles no account owns, not refreshed for long.
    UnclaimedProfiles,
    /// Ended log-in sessions, links and idempotency keys.
    ExpiredTokens,
    /// Daily engagement counters past `[analytics] retention_days`.
    AnalyticsCounters,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::MailBodies,
        Kind::ProviderPayloads,
        Kind::UnclaimedProfiles,
        Kind::ExpiredTokens,
        Kind::AnalyticsCounters,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::MailBodies => "mail_bodies",
            Kind::ProviderPayloads => "provider_payloads",
            Kind::UnclaimedProfiles => "unclaimed_profiles",
            Kind::ExpiredTokens => "expired_tokens",
            Kind::AnalyticsCounters => "analytics_counters",
        }
    }

    /// The setting that decides this kind's window, as its file key.
    pub fn key(self) -> &'static str {
        match self {
            Kind::MailBodies => "retention.mail_bodies_days",
            Kind::ProviderPayloads => "retention.provider_payloads_days",
            Kind::UnclaimedProfiles => "retention.unclaimed_profiles_days",
            Kind::ExpiredTokens => "retention.expired_tokens_days",
            Kind::AnalyticsCounters => "analytics.retention_days",
        }
    }

    /// The window in days; 0 keeps the kind forever.
    pub fn days(self, state: &AppState) -> i64 {
        let r = &state.config.retention;
        match self {
            Kind::MailBodies => r.mail_bodies_days,
            Kind::ProviderPayloads => r.provider_payloads_days,
            Kind::UnclaimedProfiles => r.unclaimed_profiles_days,
            Kind::ExpiredTokens => r.expired_tokens_days,
            Kind::AnalyticsCounters => state.config.analytics.retention_days,
        }
    }
}

/// Rows past the window that a kind keeps anyway, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Kept {
    /// `with_sessions` (sessions, and with them payments or reviews) or
    /// `claim_or_merge_open` (a claim request or merge review is open).
    pub reason: &'static str,
    pub rows: u64,
}

/// What one kind would remove (dry run) or removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KindReport {
    pub kind: Kind,
    /// The window in days; 0 keeps the kind forever (nothing is counted).
    pub days: i64,
    pub rows: u64,
    /// The oldest date among those rows (a stored time, or a day).
    pub oldest: Option<String>,
    pub kept: Vec<Kept>,
}

impl KindReport {
    pub fn keeps_forever(&self) -> bool {
        self.days == 0
    }
}

/// A whole run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub dry_run: bool,
    pub kinds: Vec<KindReport>,
}

impl Report {
    pub fn rows(&self, kind: Kind) -> u64 {
        self.kinds
            .iter()
            .find(|k| k.kind == kind)
            .map_or(0, |k| k.rows)
    }
}

/// Who started a run, for its audit row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Job,
    Cli,
}

/// Counts what each kind would remove (`dry_run`, nothing changes) or
/// removes it, in batches; a real run ends with one audit row.
pub async fn run(
    state: &AppState,
    now: DateTime<Utc>,
    dry_run: bool,
    source: Source,
) -> AppResult<Report> {
    let mut reports = Vec::with_capacity(Kind::ALL.len());
    for kind in Kind::ALL {
        let mut report = kinds::survey(state, kind, now).await?;
        if !dry_run && !report.keeps_forever() {
            report.rows = kinds::purge(state, kind, now).await?;
        }
        reports.push(report);
    }
    let report = Report {
        dry_run,
        kinds: reports,
    };
    if !dry_run {
        record(state, &report, source, now).await?;
    }
    Ok(report)
}

/// The run's audit row: rows removed and kept per kind, and the kinds kept
/// forever.
async fn record(
    state: &AppState,
    report: &Report,
    source: Source,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let mut removed = serde_json::Map::new();
    let mut kept = serde_json::Map::new();
    let mut forever = Vec::new();
    for k in &report.kinds {
        if k.keeps_forever() {
            forever.push(k.kind.as_str());
            continue;
        }
        removed.insert(k.kind.as_str().into(), json!(k.rows));
        if !k.kept.is_empty() {
            let why: serde_json::Map<_, _> = k
                .kept
                .iter()
                .map(|c| (c.reason.to_string(), json!(c.rows)))
                .collect();
            kept.insert(k.kind.as_str().into(), why.into());
        }
    }
    let detail = json!({
        "source": match source { Source::Job => "job", Source::Cli => "cli" },
        "removed": removed,
        "kept": kept,
        "kept_forever": forever,
    });
    let keys = state.keys.clone();
    state
        .db
        .write(move |tx| {
            audit::append(
                tx,
                &keys,
                audit::NewEvent {
                    actor: None,
                    action: "retention.run",
                    target: None,
                    detail,
                    ip: None,
                },
                now,
            )
            .map(|_| ())
        })
        .await?;
    tracing::info!(
        mail_bodies = report.rows(Kind::MailBodies),
        provider_payloads = report.rows(Kind::ProviderPayloads),
        unclaimed_profiles = report.rows(Kind::UnclaimedProfiles),
        expired_tokens = report.rows(Kind::ExpiredTokens),
        analytics_counters = report.rows(Kind::AnalyticsCounters),
        "retention run done"
    );
    Ok(())
}

//! Each kind's cut-off, its count (what would go) and its removal in
//! batches.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use rusqlite::Transaction;

use super::{Kept, Kind, KindReport};
use crate::config::MAX_LINK_TTL_DAYS;
use crate::db::repos::mail_outbox::{self, Content};
use crate::db::repos::retention::{self as repo, Cutoff, Due, TOKEN_TABLES};
use crate::domain::engagement::{day_key, local_day};
use crate::error::{AppError, AppResult};
use crate::services::link_tokens::OPT_OUT_TTL_DAYS;
use crate::state::AppState;

/// Rows deleted per token table, by table name.
pub type TokenCounts = BTreeMap<&'static str, u64>;

/// What `kind` would remove now, without changing anything.
pub(super) async fn survey(
    state: &AppState,
    kind: Kind,
    now: DateTime<Utc>,
) -> AppResult<KindReport> {
    let days = kind.days(state);
    let mut report = KindReport {
        kind,
        days,
        rows: 0,
        oldest: None,
        kept: Vec::new(),
    };
    if days == 0 {
        return Ok(report);
    }
    let before = now - Duration::days(days);
    let (due, kept) = match kind {
        Kind::MailBodies => (
            state
                .db
                .read(move |c| repo::mail_bodies_due(c, before))
                .await?,
            Vec::new(),
        ),
        Kind::ProviderPayloads => (
            state
                .db
                .read(move |c| repo::provider_payloads_due(c, before))
                .await?,
            Vec::new(),
        ),
        Kind::UnclaimedProfiles => {
            let p = state
                .db
                .read(move |c| repo::unclaimed_profiles_due(c, before))
                .await?;
            let kept = [
                ("with_sessions", p.kept_with_sessions),
                ("claim_or_merge_open", p.kept_claim_or_merge_open),
            ]
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .map(|(reason, rows)| Kept { reason, rows })
            .collect();
            (p.due, kept)
        }
        Kind::ExpiredTokens => {
            let cutoffs = token_cutoffs(days, now);
            let due = state
                .db
                .read(move |c| {
                    let mut all = Due::default();
                    for t in &TOKEN_TABLES {
                        all.add(t.due(c, cutoffs(t.cutoff))?);
                    }
                    Ok(all)
                })
                .await?;
            (due, Vec::new())
        }
        Kind::AnalyticsCounters => {
            let day = counters_cutoff(state, days, now);
            (
                state.db.read(move |c| repo::counters_due(c, &day)).await?,
                Vec::new(),
            )
        }
    };
    report.rows = due.rows;
    report.oldest = due.oldest;
    report.kept = kept;
    Ok(report)
}

/// Removes what `kind` no longer keeps; answers how many rows went.
pub(super) async fn purge(state: &AppState, kind: Kind, now: DateTime<Utc>) -> AppResult<u64> {
    let days = kind.days(state);
    if days == 0 {
        return Ok(0);
    }
    let before = now - Duration::days(days);
    match kind {
        Kind::MailBodies => {
            let empty = empty_mail(state)?;
            in_batches(state, move |tx, n| {
                repo::remove_mail_bodies(tx, before, &empty, now, n)
            })
            .await
        }
        Kind::ProviderPayloads => {
            in_batches(state, move |tx, n| {
                repo::clear_provider_payloads(tx, before, n)
            })
            .await
        }
        Kind::UnclaimedProfiles => {
            in_batches(state, move |tx, n| {
                repo::delete_unclaimed_profiles(tx, before, n)
            })
            .await
        }
        Kind::ExpiredTokens => Ok(expired_tokens(state, now).await?.values().sum()),
        Kind::AnalyticsCounters => analytics_counters(state, now).await,
    }
}

/// Deletes ended log-in sessions, setup and verification links, used
/// invitation links and idempotency keys past `[retention]
/// expired_tokens_days` (none when it is 0); answers the rows per table.
/// The `housekeeping` job calls this between retention runs.
pub async fn expired_tokens(state: &AppState, now: DateTime<Utc>) -> AppResult<TokenCounts> {
    let days = state.config.retention.expired_tokens_days;
    let mut counts = TokenCounts::new();
    if days == 0 {
        return Ok(counts);
    }
    let cutoffs = token_cutoffs(days, now);
    for t in &TOKEN_TABLES {
        let before = cutoffs(t.cutoff);
        let n = in_batches(state, move |tx, n| t.delete(tx, before, n)).await?;
        *counts.entry(t.table).or_default() += n;
    }
    Ok(counts)
}

/// Deletes engagement counters of days before today − `[analytics]
/// retention_days` (days in the institution's zone; none when it is 0);
/// answers how many. The `analytics` job calls this too.
pub async fn analytics_counters(state: &AppState, now: DateTime<Utc>) -> AppResult<u64> {
    let days = state.config.analytics.retention_days;
    if days == 0 {
        return Ok(0);
    }
    let day = counters_cutoff(state, days, now);
    in_batches(state, move |tx, n| repo::delete_counters(tx, &day, n)).await
}

/// The cut-off of each token table: rows that ended `days` ago; used
/// links `days` after the longest life their kind of link can have, so a
/// link that still works is never forgotten as used.
fn token_cutoffs(days: i64, now: DateTime<Utc>) -> impl Fn(Cutoff) -> DateTime<Utc> + Copy {
    move |c| {
        let life = match c {
            Cutoff::Ended => 0,
            Cutoff::OptOutLinkUsed => OPT_OUT_TTL_DAYS,
            Cutoff::LinkUsed => MAX_LINK_TTL_DAYS,
        };
        now - Duration::days(life + days)
    }
}

/// The first day whose counters are kept (`YYYY-MM-DD`).
fn counters_cutoff(state: &AppState, days: i64, now: DateTime<Utc>) -> String {
    day_key(local_day(now, state.config.institution.zone()) - Duration::days(days))
}

/// An empty message, encrypted as outbox content is: what a mail keeps
/// once its content is removed.
fn empty_mail(state: &AppState) -> AppResult<String> {
    let empty = Content {
        subject: String::new(),
        text: String::new(),
        html: String::new(),
        headers: Vec::new(),
        attachments: Vec::new(),
    };
    let json = serde_json::to_string(&empty).map_err(|e| AppError::internal(e.to_string()))?;
    Ok(state.keys.encrypt(mail_outbox::CONTENT_AAD, &json))
}

/// Runs `step` with `[retention] batch_size` until a batch comes back
/// short, one write transaction per batch; answers the rows it touched.
async fn in_batches<F>(state: &AppState, step: F) -> AppResult<u64>
where
    F: Fn(&Transaction<'_>, usize) -> AppResult<usize> + Clone + Send + 'static,
{
    let batch = state.config.retention.batch_size;
    let mut total = 0u64;
    loop {
        let step = step.clone();
        let n = state.db.write(move |tx| step(tx, batch)).await?;
        total += n as u64;
        if n < batch {
            return Ok(total);
        }
        tokio::task::yield_now().await;
    }
}

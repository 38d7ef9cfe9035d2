//! Dashboards and admin analytics, computed from the real tables
//! (`db::repos::analytics`), bucketed in time zones (`buckets`) and
//! cached per (role, subject, range) until a write changes what they read
//! (`cache`, `db::changes`).

pub mod admin;
pub mod buckets;
pub mod cache;
pub mod dashboards;
mod engagement_figures;
pub mod flat;
pub(crate) mod hours;
pub(crate) mod money;
mod series;
mod sessions;
mod subscriptions;

use chrono::{Days, NaiveDate};

pub use admin::AdminAnalytics;
pub use buckets::{Bucket, Buckets};
pub use cache::FigureCache;
pub use dashboards::{ResearcherDashboard, UserDashboard};

use crate::domain::zone::Tz;
use crate::error::{AppError, AppResult};

/// The median of some values; `None` when there are none.
pub(crate) fn median(mut v: Vec<f64>) -> Option<f64> {
    v.retain(|x| x.is_finite());
    if v.is_empty() {
        return None;
    }
    // Selection, not a sort: answers over a year are a hundred thousand.
    let n = v.len();
    let (below, mid, _) = v.select_nth_unstable_by(n / 2, f64::total_cmp);
    let m = if n % 2 == 1 {
        *mid
    } else {
        let lower = below.iter().copied().max_by(f64::total_cmp).unwrap_or(*mid);
        (lower + *mid) / 2.0
    };
    Some(round1(m))
}

/// One decimal, for hours and percentages.
pub(crate) fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// `part / whole` as a fraction with three decimals; `None` for 0 / 0.
pub(crate) fn rate(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| ((part as f64 / whole as f64) * 1000.0).round() / 1000.0)
}

/// A date the analytics query string gives: `YYYY-MM-DD`, or an RFC 3339
/// time (its date in the institution's zone).
fn parse_day(field: &str, raw: &str, tz: Tz) -> AppResult<NaiveDate> {
    let raw = raw.trim();
    if let Ok(d) = NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        return Ok(d);
    }
    chrono::DateTime::parse_from_rfc3339(raw)
        .map(|t| t.with_timezone(&tz).date_naive())
        .map_err(|_| {
            AppError::field(
                field,
                "must be a date (YYYY-MM-DD) or a time (RFC 3339, e.g. 2026-01-31T00:00:00Z)",
            )
        })
}

/// The range of an analytics request: `from` inclusive, `to` exclusive,
/// as local dates. By default the twelve weeks up to and including today.
pub fn range(
    from: Option<&str>,
    to: Option<&str>,
    tz: Tz,
    today: NaiveDate,
) -> AppResult<(NaiveDate, NaiveDate)> {
    let to = match to.map(str::trim).filter(|s| !s.is_empty()) {
        Some(t) => parse_day("to", t, tz)?,
        None => today + Days::new(1),
    };
    let from = match from.map(str::trim).filter(|s| !s.is_empty()) {
        Some(f) => parse_day("from", f, tz)?,
        None => to - Days::new(84),
    };
    if to <= from {
        return Err(AppError::field("to", "must be after `from`"));
    }
    Ok((from, to))
}

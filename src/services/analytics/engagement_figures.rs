//! Engagement in the admins' analytics: active accounts, searches, paper
//! views and sign-ins from the daily counters (no per-person history is
//! kept), and marks, invitations and reviews from their own rows.

use std::collections::HashMap;

use chrono::{Datelike, Days};
use rusqlite::Connection;
use serde::Serialize;
use utoipa::ToSchema;

use super::buckets::{Bucket, Buckets};
use super::series;
use crate::db::repos::analytics_counters as repo;
use crate::db::repos::papers;
use crate::domain::{CounterKind, PaperId};
use crate::error::AppResult;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Engagement {
    /// Accounts active on the last day of the range, in its week (from
    /// Monday) and in its month.
    pub active_users: ActiveUsers,
    pub series: EngagementSeries,
    /// Sums over the range (`active_users` is not summable and has none).
    pub totals: EngagementTotals,
    /// The most viewed papers in the range.
    pub top_papers: Vec<PaperViews>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ActiveUsers {
    pub day: i64,
    pub week: i64,
    pub month: i64,
}

/// One point per bucket.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EngagementSeries {
    /// Distinct accounts active in the bucket.
    pub active_users: Vec<i64>,
    pub searches: Vec<i64>,
    pub paper_views: Vec<i64>,
    pub sign_ins: Vec<i64>,
    /// Readers marking that they want to consult a researcher.
    pub consult_marks: Vec<i64>,
    /// Invitations sent to researchers.
    pub invitations: Vec<i64>,
    /// Reviews written.
    pub reviews: Vec<i64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EngagementTotals {
    pub searches: i64,
    pub paper_views: i64,
    pub sign_ins: i64,
    pub consult_marks: i64,
    pub invitations: i64,
    pub reviews: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PaperViews {
    pub paper_id: i64,
    pub title: String,
    pub views: i64,
}

/// The counters the figures need, read in the analytics' transaction.
pub(crate) struct Counters {
    daily: Vec<(String, String, i64)>,
    last: [i64; 3],
    top: Vec<(i64, String, i64)>,
}

/// How many of the most viewed papers the figures list.
const TOP_PAPERS: usize = 10;

pub(crate) fn read_counters(c: &Connection, b: &Buckets) -> AppResult<Counters> {
    let from = b.days.first().map(|d| d.to_string()).unwrap_or_default();
    let to = b.end_day().to_string();
    let last_day = b.end_day() - Days::new(1);
    let week = Bucket::Week.floor(last_day).to_string();
    let month = last_day.with_day(1).unwrap_or(last_day).to_string();
    // One pass: totals per (day, kind) (rows come in key order, so a run
    // of the same day and kind is one entry) and views per paper.
    let mut daily: Vec<(String, String, i64)> = Vec::new();
    let mut views: HashMap<i64, i64> = HashMap::new();
    repo::each(c, &from, &to, |day, kind, subject, count| {
        match daily.last_mut() {
            Some((d, k, n)) if d == day && k == kind => *n += count,
            _ => daily.push((day.to_string(), kind.to_string(), count)),
        }
        if kind == CounterKind::PaperView.as_str() {
            *views.entry(subject).or_default() += count;
        }
    })?;
    let mut most: Vec<(i64, i64)> = views.into_iter().collect();
    most.sort_unstable_by_key(|(paper, n)| (std::cmp::Reverse(*n), *paper));
    most.truncate(TOP_PAPERS);
    let ids: Vec<PaperId> = most.iter().map(|(paper, _)| PaperId(*paper)).collect();
    let mut titles = papers::titles(c, &ids)?;
    let top = most
        .into_iter()
        .map(|(paper, n)| {
            let title = titles.remove(&PaperId(paper)).unwrap_or_default();
            (paper, title, n)
        })
        .collect();
    Ok(Counters {
        daily,
        last: [
            repo::counter(c, &last_day.to_string(), CounterKind::ActiveDay)?,
            repo::counter(c, &week, CounterKind::ActiveWeek)?,
            repo::counter(c, &month, CounterKind::ActiveMonth)?,
        ],
        top,
    })
}

pub(crate) fn figures(
    b: &Buckets,
    counters: &Counters,
    marks: &[String],
    invitations: &[String],
    reviews: &[String],
) -> Engagement {
    let active_kind = match b.bucket {
        Bucket::Day => CounterKind::ActiveDay,
        Bucket::Week => CounterKind::ActiveWeek,
        Bucket::Month => CounterKind::ActiveMonth,
    };
    let of = |kind: CounterKind| {
        let days: Vec<(String, i64)> = counters
            .daily
            .iter()
            .filter(|(_, k, _)| k == kind.as_str())
            .map(|(d, _, n)| (d.clone(), *n))
            .collect();
        series::from_days(b, &days)
    };
    let s = EngagementSeries {
        active_users: of(active_kind),
        searches: of(CounterKind::Search),
        paper_views: of(CounterKind::PaperView),
        sign_ins: of(CounterKind::SignIn),
        consult_marks: series::count(b, marks),
        invitations: series::count(b, invitations),
        reviews: series::count(b, reviews),
    };
    let sum = |v: &[i64]| v.iter().sum();
    Engagement {
        active_users: ActiveUsers {
            day: counters.last[0],
            week: counters.last[1],
            month: counters.last[2],
        },
        totals: EngagementTotals {
            searches: sum(&s.searches),
            paper_views: sum(&s.paper_views),
            sign_ins: sum(&s.sign_ins),
            consult_marks: sum(&s.consult_marks),
            invitations: sum(&s.invitations),
            reviews: sum(&s.reviews),
        },
        series: s,
        top_papers: counters
            .top
            .iter()
            .map(|(id, title, views)| PaperViews {
                paper_id: *id,
                title: title.clone(),
                views: *views,
            })
            .collect(),
    }
}

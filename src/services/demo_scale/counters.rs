//! Daily analytics counters (V12) for the days the analytics job keeps
//! (`[analytics] retention_days`), in the institution's zone: accounts
//! active each day, week (Monday) and month (1st) in the usual shares of
//! the readers who had joined by then, sign-ins and searches in proportion,
//! and paper views (two or three per active account) spread over the
//! papers, popular ones much more. No counter is below the accounts whose
//! `active_*` columns name its period.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use rand::Rng;

use super::people::People;
use super::write_people::{day_periods, periods, Ids};
use super::{ScaleReport, ScaleSpec, Time};
use crate::db::repos::generated;
use crate::domain::zone::Tz;
use crate::error::AppResult;
use crate::state::AppState;

#[derive(Debug, PartialEq)]
pub struct Counter {
    day: String,
    kind: &'static str,
    /// The paper (its plan index) for `paper_view`.
    paper: Option<usize>,
    count: i64,
}

/// Each period's share of the readers who joined, and its key in the
/// `periods` triple.
const SHARES: [(&str, f64); 3] = [
    ("active_day", 0.04),
    ("active_week", 0.12),
    ("active_month", 0.25),
];

struct Calendar<'a> {
    people: &'a People,
    zone: Tz,
    now: Time,
}

impl Calendar<'_> {
    /// The first instant after `day` (or now, if that is sooner).
    fn end_of(&self, day: NaiveDate) -> Time {
        let next = (day + Duration::days(1)).and_time(NaiveTime::MIN);
        let at = self
            .zone
            .from_local_datetime(&next)
            .earliest()
            .map_or_else(|| next.and_utc(), |t| t.with_timezone(&Utc));
        at.min(self.now)
    }

    fn joined_by(&self, at: Time) -> f64 {
        self.people.readers.partition_point(|r| r.joined < at) as f64
    }
}

/// Weekends and holidays are quieter.
fn quiet(d: NaiveDate) -> f64 {
    let weekday = match d.weekday().num_days_from_monday() {
        5 => 0.55,
        6 => 0.45,
        _ => 1.0,
    };
    let season = match (d.month(), d.day()) {
        (8, _) => 0.7,
        (12, x) if x >= 20 => 0.6,
        (1, x) if x <= 6 => 0.6,
        _ => 1.0,
    };
    weekday * season
}

pub fn plan<R: Rng>(
    spec: &ScaleSpec,
    people: &People,
    (zone, retention_days): (Tz, i64),
    now: Time,
    rng: &mut R,
) -> Vec<Counter> {
    let cal = Calendar { people, zone, now };
    let today = now.with_timezone(&zone).date_naive();
    // A retention of 0 keeps counters forever.
    let kept = if retention_days == 0 {
        spec.days
    } else {
        spec.days.min(retention_days)
    };
    let first = today - Duration::days(kept - 1);
    // How many accounts name each period as their last (they were active then).
    let mut last: HashMap<String, [i64; 3]> = HashMap::new();
    for r in &people.readers {
        for (i, p) in periods(r.last_active, zone).into_iter().enumerate() {
            last.entry(p).or_default()[i] += 1;
        }
    }
    let floor = |day: &str, i: usize| last.get(day).map_or(0, |c| c[i]);
    let mut out = Vec::new();
    // The busiest day of each week and month so far.
    let mut busiest: [BTreeMap<String, i64>; 2] = Default::default();
    let mut day = first;
    while day <= today {
        let [d, week, month] = day_periods(day);
        let joined = cal.joined_by(cal.end_of(day));
        let active = (joined * SHARES[0].1 * quiet(day) * rng.gen_range(0.85..1.15)).round() as i64;
        let active = active.max(floor(&d, 0)).max(1);
        for (i, period) in [week, month].into_iter().enumerate() {
            let top = busiest[i].entry(period).or_default();
            *top = (*top).max(active);
        }
        out.push(Counter {
            day: d.clone(),
            kind: "active_day",
            paper: None,
            count: active,
        });
        for (kind, share) in [("sign_in", 0.55), ("search", 1.6)] {
            let count = (active as f64 * share * rng.gen_range(0.9..1.1)).round() as i64;
            out.push(Counter {
                day: d.clone(),
                kind,
                paper: None,
                count: count.max(1),
            });
        }
        let mut views: BTreeMap<usize, i64> = BTreeMap::new();
        let end = cal.end_of(day);
        // Each active account opens two or three papers, the popular ones most.
        for _ in 0..active * 5 / 2 {
            let p = ((people.papers.len() as f64) * rng.gen::<f64>().powi(3)) as usize;
            let p = p.min(people.papers.len() - 1);
            if people.papers[p].added < end {
                *views.entry(p).or_default() += 1;
            }
        }
        out.extend(views.into_iter().map(|(p, count)| Counter {
            day: d.clone(),
            kind: "paper_view",
            paper: Some(p),
            count,
        }));
        day += Duration::days(1);
    }
    for (i, top) in busiest.into_iter().enumerate() {
        let (kind, share) = SHARES[i + 1];
        for (period, busiest_day) in top {
            let start: NaiveDate = period.parse().unwrap_or(first);
            let length = if i == 0 { 7 } else { 30 };
            // The current period is only partly over.
            let elapsed = ((today - start).num_days() + 1).min(length) as f64 / length as f64;
            let joined = cal.joined_by(cal.end_of(today.min(start + Duration::days(length - 1))));
            let model = (joined * share * elapsed * rng.gen_range(0.9..1.1)).round() as i64;
            out.push(Counter {
                count: model.max(busiest_day).max(floor(&period, i + 1)),
                day: period,
                kind,
                paper: None,
            });
        }
    }
    out
}

pub async fn write(
    state: &AppState,
    counters: Vec<Counter>,
    ids: &std::sync::Arc<Ids>,
) -> AppResult<ScaleReport> {
    let ids = ids.clone();
    let n = counters.len();
    state
        .db
        .write(move |tx| {
            for c in &counters {
                let subject = c.paper.map_or(0, |p| ids.papers[p].0);
                generated::add_counter(tx, &c.day, c.kind, subject, c.count)?;
            }
            Ok(())
        })
        .await?;
    Ok(ScaleReport {
        counters: n,
        ..ScaleReport::default()
    })
}

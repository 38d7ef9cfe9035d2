//! Which hours of a range the hourly rollups (migration V13) can answer,
//! and which must be counted from the raw rows.
//!
//! Rollups are keyed by UTC hour; buckets start at local midnight. In a
//! zone a whole number of hours from UTC every edge is on the hour and
//! the rollups answer everything. Elsewhere (Asia/Kolkata is 5:30 ahead)
//! an edge cuts an hour in two: that hour's rollup row is skipped and its
//! rows are counted one by one, so every figure stays exact.

use std::collections::HashSet;

use chrono::{DateTime, Duration, DurationRound, Utc};

use super::buckets::Buckets;
use crate::db::repos::analytics::Span;
use crate::db::ts;

/// How to read a range of buckets.
#[derive(Debug, Clone)]
pub(crate) struct HourPlan {
    /// Whole hours inside the range, read from the rollups.
    pub rollup: Span,
    /// Starts (stored) of hours inside `rollup` that a bucket edge cuts:
    /// their rollup rows are skipped and `cut` counts them instead.
    pub cut_hours: HashSet<String>,
    /// Those cut hours, whole, to count from raw rows.
    pub cut: Vec<Span>,
    /// The parts of hours at either end of the range that lie inside it
    /// (empty when the range starts and ends on the hour).
    pub ends: Vec<Span>,
}

fn floor_hour(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(Duration::hours(1)).unwrap_or(t)
}

fn on_the_hour(t: DateTime<Utc>) -> bool {
    floor_hour(t) == t
}

fn span(start: DateTime<Utc>, end: DateTime<Utc>) -> Span {
    Span {
        start: ts(start),
        end: ts(end),
    }
}

impl HourPlan {
    pub fn of(b: &Buckets) -> Self {
        let (start, end) = (b.start(), b.end());
        let first = if on_the_hour(start) {
            start
        } else {
            floor_hour(start) + Duration::hours(1)
        };
        let last = floor_hour(end).max(first);
        let mut ends = Vec::new();
        if start < first {
            ends.push(span(start, first.min(end)));
        }
        if last < end && last >= first {
            ends.push(span(last.max(start), end));
        }
        let mut cut = Vec::new();
        let mut cut_hours = HashSet::new();
        let inner = b
            .edges
            .get(1..b.edges.len().saturating_sub(1))
            .unwrap_or(&[]);
        for e in inner.iter().filter(|e| !on_the_hour(**e)) {
            let h = floor_hour(*e);
            if h >= first && h < last && cut_hours.insert(ts(h)) {
                cut.push(span(h, h + Duration::hours(1)));
            }
        }
        Self {
            rollup: span(first, last),
            cut_hours,
            cut,
            ends,
        }
    }

    /// Whether a rollup row for the hour starting at `hour` (stored) is
    /// counted; rows of cut hours are counted from raw rows instead.
    pub fn counts(&self, hour: &str) -> bool {
        !self.cut_hours.contains(hour)
    }

    /// Every part of the range counted from raw rows.
    pub fn raw(&self) -> impl Iterator<Item = &Span> {
        self.ends.iter().chain(&self.cut)
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::services::analytics::Bucket;

    fn plan(zone: &str, bucket: Bucket, from: &str, to: &str) -> HourPlan {
        let tz = zone.parse().unwrap();
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        HourPlan::of(&Buckets::cover(bucket, tz, d(from), d(to)).unwrap())
    }

    #[test]
    fn whole_hour_zones_read_only_rollups_across_dst() {
        let p = plan("Europe/Berlin", Bucket::Day, "2026-03-27", "2026-04-01");
        assert_eq!(p.rollup.start, "2026-03-26T23:00:00.000000Z");
        assert_eq!(p.rollup.end, "2026-03-31T22:00:00.000000Z");
        assert!(p.ends.is_empty() && p.cut.is_empty());
        assert!(p.counts("2026-03-29T22:00:00.000000Z"));
    }

    #[test]
    fn half_hour_zones_count_the_cut_hours_from_raw_rows() {
        // Kolkata is UTC+5:30: local midnight is 18:30 UTC.
        let p = plan("Asia/Kolkata", Bucket::Day, "2026-03-01", "2026-03-04");
        assert_eq!(p.rollup.start, "2026-02-28T19:00:00.000000Z");
        assert_eq!(p.rollup.end, "2026-03-03T18:00:00.000000Z");
        let ends: Vec<_> = p.ends.iter().map(|s| (&*s.start, &*s.end)).collect();
        assert_eq!(
            ends,
            [
                ("2026-02-28T18:30:00.000000Z", "2026-02-28T19:00:00.000000Z"),
                ("2026-03-03T18:00:00.000000Z", "2026-03-03T18:30:00.000000Z"),
            ]
        );
        let cut: Vec<_> = p.cut.iter().map(|s| &*s.start).collect();
        assert_eq!(
            cut,
            ["2026-03-01T18:00:00.000000Z", "2026-03-02T18:00:00.000000Z"]
        );
        assert!(!p.counts("2026-03-01T18:00:00.000000Z"));
        assert!(p.counts("2026-03-01T19:00:00.000000Z"));
        assert_eq!(p.raw().count(), 4);
    }
}

//! Time buckets for analytics: days, weeks (from Monday) or months in the
//! institution's zone. A bucket starts at local midnight, so a day across
//! a DST change lasts 23 or 25 hours and a week 167 or 169; every series
//! has exactly one point per bucket, empty ones included.

use chrono::{DateTime, Datelike, Days, Months, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// How wide one point of a series is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Bucket {
    Day,
    Week,
    Month,
}

impl Bucket {
    pub fn parse(s: Option<&str>) -> Result<Self, String> {
        // Exactly the documented values (empty means the default).
        match s.unwrap_or("week") {
            "day" => Ok(Bucket::Day),
            "" | "week" => Ok(Bucket::Week),
            "month" => Ok(Bucket::Month),
            _ => Err("must be day, week or month".into()),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Bucket::Day => "day",
            Bucket::Week => "week",
            Bucket::Month => "month",
        }
    }

    /// The first day of the bucket holding `d`.
    pub fn floor(self, d: NaiveDate) -> NaiveDate {
        match self {
            Bucket::Day => d,
            Bucket::Week => d - Days::new(u64::from(d.weekday().num_days_from_monday())),
            Bucket::Month => d.with_day(1).unwrap_or(d),
        }
    }

    /// The first day of the bucket after the one starting at `d`.
    pub fn next(self, d: NaiveDate) -> NaiveDate {
        match self {
            Bucket::Day => d + Days::new(1),
            Bucket::Week => d + Days::new(7),
            Bucket::Month => d + Months::new(1),
        }
    }
}

/// Local midnight of `d` in `tz` as an instant. Where midnight does not
/// exist (a DST gap at 00:00), the first instant of the day that does.
pub fn midnight(tz: Tz, d: NaiveDate) -> DateTime<Utc> {
    let mut t = d.and_hms_opt(0, 0, 0).unwrap_or_default();
    for _ in 0..4 {
        if let Some(local) = tz.from_local_datetime(&t).earliest() {
            return local.with_timezone(&Utc);
        }
        t += chrono::Duration::minutes(30);
    }
    Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default())
}

/// The date of `t` in `tz`.
pub fn local_date(tz: Tz, t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&tz).date_naive()
}

/// Consecutive buckets covering a date range, with their instants.
#[derive(Debug, Clone)]
pub struct Buckets {
    pub bucket: Bucket,
    pub tz: Tz,
    /// Each bucket's first local day.
    pub days: Vec<NaiveDate>,
    /// Each bucket's start instant, then the end of the last one
    /// (`days.len() + 1` entries).
    pub edges: Vec<DateTime<Utc>>,
    /// `edges` as stored times (`db::ts`): stored times of the same fixed
    /// width compare as text, so hundreds of thousands of rows are
    /// bucketed without parsing one.
    stored_edges: Vec<String>,
}

/// At most this many buckets in one answer (five years by day).
pub const MAX_BUCKETS: usize = 1830;

impl Buckets {
    /// Buckets from the one holding `from` to the one holding the day
    /// before `to` (`to` is exclusive). `to` must be after `from`.
    pub fn cover(bucket: Bucket, tz: Tz, from: NaiveDate, to: NaiveDate) -> Result<Self, String> {
        if to <= from {
            return Err("`to` must be after `from`".into());
        }
        let mut days = Vec::new();
        let mut d = bucket.floor(from);
        while d < to {
            if days.len() == MAX_BUCKETS {
                return Err(format!(
                    "the range holds more than {MAX_BUCKETS} {}s; choose a wider bucket or a shorter range",
                    bucket.as_str()
                ));
            }
            days.push(d);
            d = bucket.next(d);
        }
        let mut edges: Vec<DateTime<Utc>> = days.iter().map(|d| midnight(tz, *d)).collect();
        edges.push(midnight(tz, d));
        let stored_edges = edges.iter().map(|e| crate::db::ts(*e)).collect();
        Ok(Self {
            bucket,
            tz,
            days,
            edges,
            stored_edges,
        })
    }

    pub fn len(&self) -> usize {
        self.days.len()
    }

    pub fn is_empty(&self) -> bool {
        self.days.is_empty()
    }

    pub fn start(&self) -> DateTime<Utc> {
        self.edges[0]
    }

    pub fn end(&self) -> DateTime<Utc> {
        self.edges[self.edges.len() - 1]
    }

    /// The first local day after the last bucket (exclusive end).
    pub fn end_day(&self) -> NaiveDate {
        self.days
            .last()
            .map_or(NaiveDate::MIN, |d| self.bucket.next(*d))
    }

    /// The bucket an instant falls in, if any.
    pub fn index(&self, t: DateTime<Utc>) -> Option<usize> {
        if t < self.start() || t >= self.end() {
            return None;
        }
        Some(self.edges.partition_point(|e| *e <= t) - 1)
    }

    /// The bucket of a stored time (RFC 3339), if it parses and falls in.
    pub fn index_of_stored(&self, stored: &str) -> Option<usize> {
        let first = self.stored_edges.first()?;
        if stored.len() != first.len() || !stored.ends_with('Z') {
            // Not as `db::ts` writes it: parse it.
            return DateTime::parse_from_rfc3339(stored)
                .ok()
                .and_then(|t| self.index(t.with_timezone(&Utc)));
        }
        let last = self.stored_edges.last()?;
        if stored < first.as_str() || stored >= last.as_str() {
            return None;
        }
        Some(self.stored_edges.partition_point(|e| e.as_str() <= stored) - 1)
    }

    /// The bucket of a local day (`YYYY-MM-DD`), if it falls in.
    pub fn index_of_day(&self, day: &str) -> Option<usize> {
        let d = NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()?;
        if d < self.days[0] || d >= self.end_day() {
            return None;
        }
        Some(self.days.partition_point(|b| *b <= d) - 1)
    }

    /// A zeroed series, one point per bucket.
    pub fn zeros(&self) -> Vec<i64> {
        vec![0; self.len()]
    }

    /// Labels (`YYYY-MM-DD` of each bucket's first day).
    pub fn labels(&self) -> Vec<String> {
        self.days.iter().map(|d| d.to_string()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn weeks_start_on_monday_and_cover_the_range() {
        let b = Buckets::cover(
            Bucket::Week,
            Tz::UTC,
            date("2026-03-04"),
            date("2026-03-20"),
        )
        .unwrap();
        assert_eq!(b.labels(), ["2026-03-02", "2026-03-09", "2026-03-16"]);
        assert_eq!(b.edges.len(), 4);
    }

    #[test]
    fn a_dst_week_is_an_hour_short_and_its_instants_land_in_it() {
        let tz: Tz = "Europe/Berlin".parse().unwrap();
        // Clocks go forward on Sunday 2026-03-29.
        let b = Buckets::cover(Bucket::Week, tz, date("2026-03-23"), date("2026-04-06")).unwrap();
        let first = b.edges[1] - b.edges[0];
        assert_eq!(first.num_hours(), 167);
        assert_eq!(b.edges[0].to_rfc3339(), "2026-03-22T23:00:00+00:00");
        assert_eq!(b.edges[1].to_rfc3339(), "2026-03-29T22:00:00+00:00");
        // Sunday 23:30 local (summer time) is still in the first week.
        let late_sunday = "2026-03-29T21:30:00Z".parse::<DateTime<Utc>>().unwrap();
        assert_eq!(b.index(late_sunday), Some(0));
        let monday = "2026-03-29T22:30:00Z".parse::<DateTime<Utc>>().unwrap();
        assert_eq!(b.index(monday), Some(1));
    }

    #[test]
    fn months_and_days_by_local_date() {
        let b = Buckets::cover(
            Bucket::Month,
            Tz::UTC,
            date("2026-01-15"),
            date("2026-03-01"),
        )
        .unwrap();
        assert_eq!(b.labels(), ["2026-01-01", "2026-02-01"]);
        assert_eq!(b.index_of_day("2026-02-28"), Some(1));
        assert_eq!(b.index_of_day("2026-03-01"), None);
        assert_eq!(b.index_of_stored("2025-12-31T23:59:59Z"), None);
        assert_eq!(b.index_of_stored("2026-01-31T23:59:59.999999Z"), Some(0));
        assert_eq!(b.index_of_stored("2026-02-01T00:00:00.000000Z"), Some(1));
        assert_eq!(b.index_of_stored("2026-02-01T00:00:00+00:00"), Some(1));
        assert_eq!(b.index_of_stored("2026-03-01T00:00:00.000000Z"), None);
    }

    #[test]
    fn a_midnight_lost_to_dst_starts_at_the_first_real_instant() {
        // Santiago skipped 2022-09-11 00:00 → 01:00.
        let tz: Tz = "America/Santiago".parse().unwrap();
        let t = midnight(tz, date("2022-09-11"));
        assert_eq!(
            t.with_timezone(&tz).time(),
            chrono::NaiveTime::from_hms_opt(1, 0, 0).unwrap()
        );
    }

    #[test]
    fn refuses_empty_and_huge_ranges() {
        assert!(
            Buckets::cover(Bucket::Day, Tz::UTC, date("2026-01-02"), date("2026-01-02")).is_err()
        );
        assert!(
            Buckets::cover(Bucket::Day, Tz::UTC, date("2000-01-01"), date("2026-01-01")).is_err()
        );
        assert_eq!(
            Bucket::parse(Some("fortnight")).unwrap_err(),
            "must be day, week or month"
        );
    }
}

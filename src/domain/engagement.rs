//! Engagement counters: what is counted, and the periods (day, Monday-based
//! week, month) an account is counted active in. Days are dates in the
//! institution's zone, so "today" is the same day for every counter.

use std::fmt;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};

use super::status::{status_enum, UnknownStatus};
use super::zone::Tz;

status_enum!(
    /// What a row of `analytics_counters` counts (its `kind`).
    CounterKind, "counter kind" {
        /// A paper search with words in it (API or search page).
        Search = "search",
        /// A paper opened (API or paper page); the subject is the paper.
        PaperView = "paper_view",
        /// A successful password sign-in (API or page).
        SignIn = "sign_in",
        /// Accounts active that day.
        ActiveDay = "active_day",
        /// Accounts active that week; the row's day is the Monday.
        ActiveWeek = "active_week",
        /// Accounts active that month; the row's day is the 1st.
        ActiveMonth = "active_month",
    }
);

/// A period an account is counted active in at most once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActivePeriod {
    Day,
    Week,
    Month,
}

impl ActivePeriod {
    pub const ALL: [ActivePeriod; 3] = [ActivePeriod::Day, ActivePeriod::Week, ActivePeriod::Month];

    /// The counter this period adds to.
    pub fn kind(self) -> CounterKind {
        match self {
            ActivePeriod::Day => CounterKind::ActiveDay,
            ActivePeriod::Week => CounterKind::ActiveWeek,
            ActivePeriod::Month => CounterKind::ActiveMonth,
        }
    }

    /// The day that names the period holding `day`: the day itself, the
    /// Monday of its week, or the 1st of its month.
    pub fn start(self, day: NaiveDate) -> NaiveDate {
        match self {
            ActivePeriod::Day => day,
            ActivePeriod::Week => {
                day - Duration::days(i64::from(day.weekday().num_days_from_monday()))
            }
            ActivePeriod::Month => day.with_day(1).unwrap_or(day),
        }
    }
}

/// The institution-zone date of an instant: the day a counter goes to.
pub fn local_day(at: DateTime<Utc>, zone: Tz) -> NaiveDate {
    at.with_timezone(&zone).date_naive()
}

/// A day as stored in `analytics_counters.day` and `users.active_*`.
pub fn day_key(day: NaiveDate) -> String {
    day.format("%Y-%m-%d").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn a_week_starts_on_monday_and_a_month_on_the_first() {
        // 2026-03-08 is a Sunday.
        assert_eq!(ActivePeriod::Week.start(d("2026-03-08")), d("2026-03-02"));
        assert_eq!(ActivePeriod::Week.start(d("2026-03-09")), d("2026-03-09"));
        assert_eq!(ActivePeriod::Week.start(d("2026-01-01")), d("2025-12-29"));
        assert_eq!(ActivePeriod::Month.start(d("2026-02-28")), d("2026-02-01"));
        assert_eq!(ActivePeriod::Day.start(d("2026-02-28")), d("2026-02-28"));
    }

    #[test]
    fn the_day_is_the_institution_zones_date() {
        let at: DateTime<Utc> = "2026-03-08T04:30:00Z".parse().unwrap();
        let ny: Tz = "America/New_York".parse().unwrap();
        assert_eq!(local_day(at, ny), d("2026-03-07"));
        assert_eq!(local_day(at, Tz::UTC), d("2026-03-08"));
        assert_eq!(day_key(d("2026-03-07")), "2026-03-07");
    }
}

//! Counting facts into per-bucket series.

use super::buckets::Buckets;

/// Adds `n` to the bucket of a stored time (ignored when outside).
pub(crate) fn add_at(b: &Buckets, series: &mut [i64], stored: &str, n: i64) {
    if let Some(i) = b.index_of_stored(stored) {
        series[i] += n;
    }
}

/// One point per bucket: how many of `times` fall in it.
pub(crate) fn count(b: &Buckets, times: &[String]) -> Vec<i64> {
    let mut s = b.zeros();
    for t in times {
        add_at(b, &mut s, t, 1);
    }
    s
}

/// One point per bucket from daily counters (`YYYY-MM-DD`, count).
pub(crate) fn from_days(b: &Buckets, days: &[(String, i64)]) -> Vec<i64> {
    let mut s = b.zeros();
    for (day, n) in days {
        if let Some(i) = b.index_of_day(day) {
            s[i] += n;
        }
    }
    s
}

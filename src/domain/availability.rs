//! When a researcher can meet: weekly rules and date exceptions in their
//! local time, booking settings, and the free slots that follow from them.
//! Pure functions of their inputs (no clock, no database), so the booking
//! check and the slot list can never disagree.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use super::availability_rules::{
    format_time, parse_time, parse_weekday, weekday_name, Availability, Exception, FieldError, Rule,
};

/// Slots start on this grid inside a window (or every `duration` when shorter).
const STEP_MINUTES: i64 = 30;

/// The longest session anyone can book or move to (settings and the
/// configuration are checked against it). Queries for the sessions that
/// overlap a time rely on it to bound their index range.
pub const MAX_SESSION_MINUTES: i64 = 480;

/// A researcher's booking settings, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub timezone: Tz,
    pub durations: Vec<i64>,
    pub min_notice_hours: i64,
    pub buffer_minutes: i64,
    pub max_per_day: i64,
    pub horizon_days: i64,
}

/// A researcher's booking settings as stored and as the API reads and
/// writes them (unchecked until `check`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = SettingsBody)]
pub struct BookingSettings {
    /// IANA time zone, e.g. `Europe/Berlin`.
    #[schema(value_type = crate::domain::api_schema::TimeZoneName)]
    pub timezone: String,
    /// Session lengths offered, in minutes.
    #[schema(value_type = Vec<crate::domain::api_schema::SessionLength>, min_items = 1, max_items = 6)]
    pub durations: Vec<i64>,
    /// Price per session in minor units (cents); 0 means free.
    #[schema(minimum = 0, maximum = 10_000_000)]
    pub price_minor: i64,
    /// ISO 4217 currency code.
    #[schema(pattern = "^[A-Z]{3}$")]
    pub currency: String,
    #[schema(minimum = 0, maximum = 720)]
    pub min_notice_hours: i64,
    #[schema(minimum = 0, maximum = 240)]
    pub buffer_minutes: i64,
    #[schema(minimum = 1, maximum = 48)]
    pub max_per_day: i64,
    #[schema(minimum = 1, maximum = 365)]
    pub horizon_days: i64,
    /// How long a request may wait for an answer before it expires.
    #[schema(minimum = 1, maximum = 336)]
    pub request_ttl_hours: i64,
    /// Readers may cancel an accepted session up to this many hours before it.
    #[schema(minimum = 0, maximum = 720)]
    pub cancel_window_hours: i64,
}

impl BookingSettings {
    /// Checks every field and names every bad one.
    pub fn check(&self) -> Result<Settings, Vec<FieldError>> {
        let mut problems: Vec<FieldError> = Settings::check_numbers(
            &self.durations,
            self.min_notice_hours,
            self.buffer_minutes,
            self.max_per_day,
            self.horizon_days,
            self.request_ttl_hours,
            self.cancel_window_hours,
        )
        .into_iter()
        .map(|(f, m)| (f.to_string(), m))
        .collect();
        let timezone = parse_timezone(&self.timezone)
            .map_err(|m| problems.push(("timezone".into(), m)))
            .ok();
        if !(0..=10_000_000).contains(&self.price_minor) {
            problems.push((
                "price_minor".into(),
                "must be between 0 and 10000000".into(),
            ));
        }
        if let Err(m) = check_currency(&self.currency) {
            problems.push(("currency".into(), m));
        }
        let Some(timezone) = timezone.filter(|_| problems.is_empty()) else {
            return Err(problems);
        };
        let mut durations = self.durations.clone();
        durations.sort_unstable();
        durations.dedup();
        Ok(Settings {
            timezone,
            durations,
            min_notice_hours: self.min_notice_hours,
            buffer_minutes: self.buffer_minutes,
            max_per_day: self.max_per_day,
            horizon_days: self.horizon_days,
        })
    }
}

/// Time already taken: a live session (counted against the daily cap) or a
/// proposed new time (held, not counted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub counts_for_cap: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct Slot {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

pub fn parse_timezone(s: &str) -> Result<Tz, String> {
    s.trim()
        .parse::<Tz>()
        .map_err(|_| "is not an IANA time zone such as Europe/Berlin".to_string())
}

pub fn check_currency(s: &str) -> Result<(), String> {
    if s.len() == 3 && s.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(())
    } else {
        Err("must be an ISO 4217 code such as EUR".into())
    }
}

impl Settings {
    /// Range checks shared by the API and the config defaults: every
    /// problem, none when all is well.
    #[allow(clippy::too_many_arguments)]
    pub fn check_numbers(
        durations: &[i64],
        min_notice_hours: i64,
        buffer_minutes: i64,
        max_per_day: i64,
        horizon_days: i64,
        request_ttl_hours: i64,
        cancel_window_hours: i64,
    ) -> Vec<(&'static str, String)> {
        let mut problems = Vec::new();
        if durations.is_empty() || durations.len() > 6 {
            problems.push(("durations", "offer between 1 and 6 session lengths".into()));
        } else if durations
            .iter()
            .any(|d| !(15..=MAX_SESSION_MINUTES).contains(d) || d % 5 != 0)
        {
            problems.push((
                "durations",
                "each length must be 15 to 480 minutes, in steps of 5".into(),
            ));
        }
        let checks: [(&'static str, i64, i64, i64); 6] = [
            ("min_notice_hours", min_notice_hours, 0, 720),
            ("buffer_minutes", buffer_minutes, 0, 240),
            ("max_per_day", max_per_day, 1, 48),
            ("horizon_days", horizon_days, 1, 365),
            ("request_ttl_hours", request_ttl_hours, 1, 336),
            ("cancel_window_hours", cancel_window_hours, 0, 720),
        ];
        for (name, v, lo, hi) in checks {
            if !(lo..=hi).contains(&v) {
                problems.push((name, format!("must be between {lo} and {hi}")));
            }
        }
        problems
    }
}

/// The instant a local wall-clock time names. In a DST gap the time does not
/// exist and the first instant after the gap is used; in an overlap the
/// earlier instant (`late = false`) or the later one (`late = true`).
pub fn local_instant(tz: Tz, date: NaiveDate, minutes: i64, late: bool) -> DateTime<Utc> {
    let midnight = NaiveDateTime::from(date);
    let mut local = midnight + Duration::minutes(minutes);
    // Gaps begin and end on whole minutes, so the first minute that exists
    // is the first instant after the gap.
    for _ in 0..=240 {
        match tz.from_local_datetime(&local) {
            chrono::LocalResult::Single(t) => return t.with_timezone(&Utc),
            chrono::LocalResult::Ambiguous(a, b) => {
                return if late { b } else { a }.with_timezone(&Utc)
            }
            chrono::LocalResult::None => local += Duration::minutes(1),
        }
    }
    // No zone has a gap longer than four hours; treat the time as UTC.
    Utc.from_utc_datetime(&local)
}

/// The end of a window that closes at `minutes` local time: the last
/// moment the wall clock shows an earlier time. A repeated hour inside the
/// window is kept; one that begins at the window's end is not (it reads
/// the end time and later). In a gap, the first instant after it.
fn window_end(tz: Tz, date: NaiveDate, minutes: i64) -> DateTime<Utc> {
    let last_minute = NaiveDateTime::from(date) + Duration::minutes(minutes - 1);
    match tz.from_local_datetime(&last_minute) {
        chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(_, t) => {
            t.with_timezone(&Utc) + Duration::minutes(1)
        }
        chrono::LocalResult::None => local_instant(tz, date, minutes, true),
    }
}

/// The free slots of `duration` minutes starting in `[from, to)`, after
/// minimum notice, horizon, daily cap, buffers and taken time.
/// `busy` must be sorted by start.
pub fn free_slots(
    settings: &Settings,
    availability: &Availability,
    busy: &[Busy],
    now: DateTime<Utc>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    duration: i64,
) -> Vec<Slot> {
    let tz = settings.timezone;
    let earliest = from.max(now + Duration::hours(settings.min_notice_hours));
    let latest = to.min(now + Duration::days(settings.horizon_days));
    if earliest >= latest || duration <= 0 {
        return Vec::new();
    }
    let len = Duration::minutes(duration);
    let step = Duration::minutes(duration.min(STEP_MINUTES));
    let buffer = Duration::minutes(settings.buffer_minutes);
    let longest = busy
        .iter()
        .map(|b| b.end - b.start)
        .max()
        .unwrap_or_else(Duration::zero);
    let first_day = earliest.with_timezone(&tz).date_naive();
    let last_day = latest.with_timezone(&tz).date_naive();
    let mut out = Vec::new();
    let mut day = first_day;
    while day <= last_day {
        if day_count(busy, tz, day) < settings.max_per_day {
            for w in availability.windows_on(day) {
                let w_start = local_instant(tz, day, w.start, false);
                let w_end = window_end(tz, day, w.end);
                let mut t = w_start;
                while t + len <= w_end {
                    if t >= earliest && t < latest && is_free(busy, t, t + len, buffer, longest) {
                        out.push(Slot {
                            start: t,
                            end: t + len,
                        });
                    }
                    t += step;
                }
            }
        }
        match day.succ_opt() {
            Some(d) => day = d,
            None => break,
        }
    }
    out.sort_by_key(|s| s.start);
    out.dedup();
    out
}

/// Live sessions starting on a local date.
fn day_count(busy: &[Busy], tz: Tz, day: NaiveDate) -> i64 {
    let start = local_instant(tz, day, 0, false);
    let end = local_instant(tz, day, 1440, false);
    let lo = busy.partition_point(|b| b.start < start);
    busy[lo..]
        .iter()
        .take_while(|b| b.start < end)
        .filter(|b| b.counts_for_cap)
        .count() as i64
}

fn is_free(
    busy: &[Busy],
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    buffer: Duration,
    longest: Duration,
) -> bool {
    let lo = busy.partition_point(|b| b.start < start - longest - buffer);
    busy[lo..]
        .iter()
        .take_while(|b| b.start < end + buffer)
        .all(|b| b.end + buffer <= start)
}

/// Whether a session may start at `start` for `duration` minutes: the same
/// computation as the slot list, so what is shown is what can be booked.
pub fn is_bookable(
    settings: &Settings,
    availability: &Availability,
    busy: &[Busy],
    now: DateTime<Utc>,
    start: DateTime<Utc>,
    duration: i64,
) -> bool {
    settings.durations.contains(&duration)
        && free_slots(
            settings,
            availability,
            busy,
            now,
            start,
            start + Duration::seconds(1),
            duration,
        )
        .first()
        .is_some_and(|s| s.start == start)
}

#[cfg(test)]
#[path = "availability_tests.rs"]
mod tests;

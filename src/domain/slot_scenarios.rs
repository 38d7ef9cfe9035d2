//! What the slot properties (`slot_properties.rs`) draw and check against:
//! zones with the days their clocks change, random rules, exceptions,
//! taken time and ranges, and an independent reading of the wall clock.

use chrono::{
    DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone, Timelike, Utc, Weekday,
};
use chrono_tz::Tz;
use proptest::prelude::*;
use proptest::sample::{subsequence, Index};

use super::availability::{
    format_time, free_slots, is_bookable, weekday_name, Availability, Busy, Exception, Rule,
    Settings, Slot, MAX_SESSION_MINUTES,
};

/// Zones with the days their clocks change in 2026 (and an ordinary day):
/// Lord Howe moves half an hour, Chatham at 02:45, Santiago at midnight.
pub(super) const ZONES: &[(&str, &[&str])] = &[
    ("Europe/Berlin", &["2026-03-29", "2026-10-25", "2026-06-14"]),
    (
        "America/New_York",
        &["2026-03-08", "2026-11-01", "2026-06-14"],
    ),
    ("Australia/Lord_Howe", &["2026-04-05", "2026-10-04"]),
    ("Pacific/Chatham", &["2026-04-05", "2026-09-27"]),
    ("America/Santiago", &["2026-04-05", "2026-09-06"]),
    ("UTC", &["2026-06-14"]),
];

pub(super) const DAYS: [Weekday; 7] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
    Weekday::Sat,
    Weekday::Sun,
];

/// Minutes after local midnight, `start < end <= 1440`.
pub(super) type Span = (i64, i64);

#[derive(Debug, Clone)]
pub(super) enum RawException {
    Block(NaiveDate, Option<Span>),
    Extra(NaiveDate, Span),
}

/// One drawn situation: what the researcher published, what is taken,
/// and what a reader asks for.
#[derive(Debug, Clone)]
pub(super) struct Scenario {
    pub(super) rules: Vec<(Weekday, Span)>,
    pub(super) exceptions: Vec<RawException>,
    pub(super) settings: Settings,
    /// Every live session and proposal, sorted by start.
    pub(super) busy: Vec<Busy>,
    pub(super) duration: i64,
    pub(super) now: DateTime<Utc>,
    pub(super) from: DateTime<Utc>,
    pub(super) to: DateTime<Utc>,
    /// Instants in `[from, to)` to ask the booking check about.
    pub(super) probes: Vec<DateTime<Utc>>,
    /// The day the range is drawn around (most often a change day).
    pub(super) anchor: NaiveDate,
}

pub(super) fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

pub(super) fn midnight_utc(d: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&NaiveDateTime::from(d))
}

pub(super) fn rules_as_written(rules: &[(Weekday, Span)]) -> Vec<Rule> {
    rules
        .iter()
        .map(|(d, (s, e))| Rule {
            weekday: weekday_name(*d).into(),
            start: format_time(*s),
            end: format_time(*e),
        })
        .collect()
}

pub(super) fn exceptions_as_written(exceptions: &[RawException]) -> Vec<Exception> {
    let written = |d: &NaiveDate, kind: &str, w: Option<&Span>| Exception {
        date: d.format("%Y-%m-%d").to_string(),
        kind: kind.into(),
        start: w.map(|w| format_time(w.0)),
        end: w.map(|w| format_time(w.1)),
    };
    exceptions
        .iter()
        .map(|x| match x {
            RawException::Block(d, w) => written(d, "block", w.as_ref()),
            RawException::Extra(d, w) => written(d, "extra", Some(w)),
        })
        .collect()
}

pub(super) fn availability(rules: &[(Weekday, Span)], exceptions: &[RawException]) -> Availability {
    Availability::parse(&rules_as_written(rules), &exceptions_as_written(exceptions))
        .expect("drawn rules and exceptions are well formed")
}

/// Taken time as the repository returns it for `[from, to)`
/// (`consulting_sessions::busy`): starts before `to`, ends after `from`,
/// and starts no more than the longest session before `from`.
pub(super) fn busy_loaded(all: &[Busy], from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<Busy> {
    let earliest = from - Duration::minutes(MAX_SESSION_MINUTES);
    all.iter()
        .filter(|b| b.start < to && b.start > earliest && b.end > from)
        .copied()
        .collect()
}

impl Scenario {
    pub(super) fn availability(&self) -> Availability {
        availability(&self.rules, &self.exceptions)
    }

    /// The list as `settings::slots_in` computes it.
    pub(super) fn listed(&self) -> Vec<Slot> {
        let busy = busy_loaded(
            &self.busy,
            self.from - Duration::days(2),
            self.to + Duration::days(2),
        );
        free_slots(
            &self.settings,
            &self.availability(),
            &busy,
            self.now,
            self.from,
            self.to,
            self.duration,
        )
    }

    /// The check `booking::request` (and a move) makes before inserting.
    pub(super) fn bookable(&self, start: DateTime<Utc>) -> bool {
        let busy = busy_loaded(
            &self.busy,
            start - Duration::days(2),
            start + Duration::days(3),
        );
        is_bookable(
            &self.settings,
            &self.availability(),
            &busy,
            self.now,
            start,
            self.duration,
        )
    }
}

/// Where the drawn zones' clocks jump or repeat (local minutes), give or
/// take a minute.
pub(super) fn change_minute() -> impl Strategy<Value = i64> {
    let at = prop::sample::select(vec![0i64, 60, 90, 120, 150, 165, 180, 225, 1380, 1440]);
    (at, -1i64..=1).prop_map(|(m, d)| (m + d).clamp(0, 1440))
}

/// A minute of the day, often in the small hours where clocks change.
pub(super) fn minute_of_day() -> impl Strategy<Value = i64> {
    prop_oneof![
        2 => 0i64..1440,
        2 => 0i64..300,
        1 => (0i64..48).prop_map(|h| h * 30),
        1 => change_minute().prop_map(|m| m.min(1439)),
    ]
}

pub(super) fn span() -> BoxedStrategy<Span> {
    minute_of_day().prop_flat_map(span_from).boxed()
}

/// A span starting at `s`: to any later minute, to one soon after, or to
/// a later half hour.
pub(super) fn span_from(s: i64) -> impl Strategy<Value = Span> {
    let end = prop_oneof![
        (s + 1)..=1440,
        (s + 1)..=(s + 240).min(1440),
        (s / 30 + 1..=48).prop_map(|h| h * 30),
        change_minute().prop_map(move |m| m.max(s + 1)),
    ];
    (Just(s), end)
}

/// A span in the small hours or late in the evening, where clocks change.
pub(super) fn edge_span() -> impl Strategy<Value = Span> {
    prop_oneof![0i64..=300, 1200i64..1440].prop_flat_map(span_from)
}

pub(super) fn weekday() -> impl Strategy<Value = Weekday> {
    // Clocks change on Sundays (in Santiago at the start of one).
    prop_oneof![2 => Just(Weekday::Sun), 1 => Just(Weekday::Sat), 3 => (0usize..7).prop_map(|i| DAYS[i])]
}

pub(super) fn exception(anchor: NaiveDate) -> impl Strategy<Value = RawException> {
    let day = (-2i64..=2).prop_map(move |d| anchor + Duration::days(d));
    prop_oneof![
        1 => day.clone().prop_map(|d| RawException::Block(d, None)),
        2 => (day.clone(), span()).prop_map(|(d, w)| RawException::Block(d, Some(w))),
        3 => (day, span()).prop_map(|(d, w)| RawException::Extra(d, w)),
    ]
}

pub(super) fn scenario() -> impl Strategy<Value = Scenario> {
    (0..ZONES.len())
        .prop_flat_map(|z| (Just(z), 0..ZONES[z].1.len()))
        .prop_flat_map(|(z, a)| {
            let tz: Tz = ZONES[z].0.parse().unwrap();
            let anchor = date(ZONES[z].1[a]);
            let settings = (
                subsequence(vec![15i64, 30, 45, 60, 90, 120, 240], 1..=4),
                0i64..=48,
                (0i64..=12).prop_map(|b| b * 5),
                1i64..=6,
                1i64..=30,
            );
            let range = (-2160i64..2160, 30i64..=5 * 1440, -4320i64..=720);
            let busy = prop::collection::vec(
                (
                    -2880i64..=10_080,
                    (3i64..=96).prop_map(|l| l * 5),
                    any::<bool>(),
                ),
                0..10,
            );
            (
                Just(tz),
                prop::collection::vec((weekday(), span()), 0..8),
                prop::collection::vec(exception(anchor), 0..4),
                settings,
                any::<Index>(),
                range,
                busy,
                prop::collection::vec(0.0f64..1.0, 0..24),
                Just(anchor),
            )
        })
        .prop_map(
            |(tz, rules, exceptions, settings, pick, range, busy, probes, anchor)| {
                let (durations, min_notice_hours, buffer_minutes, max_per_day, horizon_days) =
                    settings;
                let duration = *pick.get(&durations);
                let (from_offset, span_minutes, now_offset) = range;
                let from = midnight_utc(anchor) + Duration::minutes(from_offset);
                let to = from + Duration::minutes(span_minutes);
                let mut busy: Vec<Busy> = busy
                    .into_iter()
                    .map(|(at, len, counts_for_cap)| {
                        let start = from + Duration::minutes(at.min(span_minutes + 2880));
                        Busy {
                            start,
                            end: start + Duration::minutes(len),
                            counts_for_cap,
                        }
                    })
                    .collect();
                busy.sort_by_key(|b| b.start);
                let probes = probes
                    .into_iter()
                    .map(|f| from + Duration::minutes((f * span_minutes as f64) as i64))
                    .collect();
                Scenario {
                    rules,
                    exceptions,
                    settings: Settings {
                        timezone: tz,
                        durations,
                        min_notice_hours,
                        buffer_minutes,
                        max_per_day,
                        horizon_days,
                    },
                    busy,
                    duration,
                    now: from + Duration::minutes(now_offset),
                    from,
                    to,
                    probes,
                    anchor,
                }
            },
        )
}

/// Nothing taken, no notice, and a few stretches of extra time in the
/// small hours or late evening of the change day (or the day before, for
/// Santiago's midnight), over a range of two days either side.
pub(super) fn around_a_change() -> impl Strategy<Value = Scenario> {
    let extras = prop::collection::vec((0i64..=1, edge_span()), 1..4);
    (scenario(), extras).prop_map(|(s, extras)| {
        let midnight = midnight_utc(s.anchor);
        let exceptions = extras
            .into_iter()
            .map(|(back, w)| RawException::Extra(s.anchor - Duration::days(back), w))
            .collect();
        Scenario {
            exceptions,
            settings: Settings {
                min_notice_hours: 0,
                horizon_days: 30,
                ..s.settings
            },
            busy: Vec::new(),
            now: midnight - Duration::days(3),
            from: midnight - Duration::days(2),
            to: midnight + Duration::days(2),
            ..s
        }
    })
}

/// The minutes of a local date the researcher is open, read straight from
/// the rules and exceptions as drawn (no parsing, merging or instants).
pub(super) fn open_minutes(s: &Scenario, day: NaiveDate) -> Vec<bool> {
    let mut open = vec![false; 1440];
    let mut set = |(a, b): Span, to: bool| open[a as usize..b as usize].fill(to);
    for (d, w) in &s.rules {
        if *d == day.weekday() {
            set(*w, true);
        }
    }
    for x in &s.exceptions {
        if let RawException::Extra(d, w) = x {
            if *d == day {
                set(*w, true);
            }
        }
    }
    for x in &s.exceptions {
        match x {
            RawException::Block(d, None) if *d == day => return vec![false; 1440],
            RawException::Block(d, Some(w)) if *d == day => set(*w, false),
            _ => {}
        }
    }
    open
}

/// How a local date's wall clock maps to instants, found by reading the
/// clock at every minute around the date: `first_from[x]` is the first
/// instant it reads `x` or later, `end_before[y]` the end of the last
/// minute it reads earlier than `y` (a gap moves both to where the clock
/// jumps to; a repeated hour stretches the span between them).
pub(super) struct WallClock {
    pub(super) first_from: Vec<Option<DateTime<Utc>>>,
    pub(super) end_before: Vec<Option<DateTime<Utc>>>,
}

impl WallClock {
    pub(super) fn of(tz: Tz, day: NaiveDate) -> Self {
        let mut first: Vec<Option<DateTime<Utc>>> = vec![None; 1441];
        let mut last: Vec<Option<DateTime<Utc>>> = vec![None; 1440];
        let mut t = midnight_utc(day) - Duration::hours(15);
        let stop = midnight_utc(day) + Duration::hours(39);
        while t < stop {
            let local = t.with_timezone(&tz);
            if local.date_naive() == day {
                let m = (local.hour() * 60 + local.minute()) as usize;
                first[m] = first[m].or(Some(t));
                last[m] = Some(t + Duration::minutes(1));
            }
            t += Duration::minutes(1);
        }
        for x in (0..1440).rev() {
            first[x] = match (first[x], first[x + 1]) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
        let mut end_before = vec![None; 1441];
        for y in 1..=1440 {
            end_before[y] = match (end_before[y - 1], last[y - 1]) {
                (Some(a), Some(b)) => Some(std::cmp::max(a, b)),
                (a, b) => a.or(b),
            };
        }
        Self {
            first_from: first,
            end_before,
        }
    }
}

/// Maximal runs of open minutes, `[start, end)`.
pub(super) fn runs(open: &[bool]) -> Vec<Span> {
    let mut out = Vec::new();
    let mut start = None;
    for (m, is_open) in open.iter().chain([&false]).enumerate() {
        match (start, *is_open) {
            (None, true) => start = Some(m as i64),
            (Some(s), false) => {
                out.push((s, m as i64));
                start = None;
            }
            _ => {}
        }
    }
    out
}

//! The free-slot list against the rules that matter (issue 17 §3): a
//! listed slot can be booked and an unlisted time cannot, taken time and
//! the daily cap are respected, a slot lies inside the researcher's hours
//! as their wall clock reads them, and the order the rules were written in
//! changes nothing. Zones with daylight saving time, and query ranges
//! around the days their clocks change, are drawn on purpose.

use std::collections::HashMap;

use chrono::{
    DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, Offset, SecondsFormat, TimeZone,
    Timelike, Utc, Weekday,
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
const ZONES: &[(&str, &[&str])] = &[
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

const DAYS: [Weekday; 7] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
    Weekday::Sat,
    Weekday::Sun,
];

/// Minutes after local midnight, `start < end <= 1440`.
type Span = (i64, i64);

#[derive(Debug, Clone)]
enum RawException {
    Block(NaiveDate, Option<Span>),
    Extra(NaiveDate, Span),
}

/// One drawn situation: what the researcher published, what is taken,
/// and what a reader asks for.
#[derive(Debug, Clone)]
struct Scenario {
    rules: Vec<(Weekday, Span)>,
    exceptions: Vec<RawException>,
    settings: Settings,
    /// Every live session and proposal, sorted by start.
    busy: Vec<Busy>,
    duration: i64,
    now: DateTime<Utc>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    /// Instants in `[from, to)` to ask the booking check about.
    probes: Vec<DateTime<Utc>>,
    /// The day the range is drawn around (most often a change day).
    anchor: NaiveDate,
}

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn midnight_utc(d: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&NaiveDateTime::from(d))
}

fn rules_as_written(rules: &[(Weekday, Span)]) -> Vec<Rule> {
    rules
        .iter()
        .map(|(d, (s, e))| Rule {
            weekday: weekday_name(*d).into(),
            start: format_time(*s),
            end: format_time(*e),
        })
        .collect()
}

fn exceptions_as_written(exceptions: &[RawException]) -> Vec<Exception> {
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

fn availability(rules: &[(Weekday, Span)], exceptions: &[RawException]) -> Availability {
    Availability::parse(&rules_as_written(rules), &exceptions_as_written(exceptions))
        .expect("drawn rules and exceptions are well formed")
}

/// Taken time as the repository returns it for `[from, to)`
/// (`consulting_sessions::busy`): starts before `to`, ends after `from`,
/// and starts no more than the longest session before `from`.
fn busy_loaded(all: &[Busy], from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<Busy> {
    let earliest = from - Duration::minutes(MAX_SESSION_MINUTES);
    all.iter()
        .filter(|b| b.start < to && b.start > earliest && b.end > from)
        .copied()
        .collect()
}

impl Scenario {
    fn availability(&self) -> Availability {
        availability(&self.rules, &self.exceptions)
    }

    /// The list as `settings::slots_in` computes it.
    fn listed(&self) -> Vec<Slot> {
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
    fn bookable(&self, start: DateTime<Utc>) -> bool {
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
fn change_minute() -> impl Strategy<Value = i64> {
    let at = prop::sample::select(vec![0i64, 60, 90, 120, 150, 165, 180, 225, 1380, 1440]);
    (at, -1i64..=1).prop_map(|(m, d)| (m + d).clamp(0, 1440))
}

/// A minute of the day, often in the small hours where clocks change.
fn minute_of_day() -> impl Strategy<Value = i64> {
    prop_oneof![
        2 => 0i64..1440,
        2 => 0i64..300,
        1 => (0i64..48).prop_map(|h| h * 30),
        1 => change_minute().prop_map(|m| m.min(1439)),
    ]
}

fn span() -> BoxedStrategy<Span> {
    minute_of_day().prop_flat_map(span_from).boxed()
}

/// A span starting at `s`: to any later minute, to one soon after, or to
/// a later half hour.
fn span_from(s: i64) -> impl Strategy<Value = Span> {
    let end = prop_oneof![
        (s + 1)..=1440,
        (s + 1)..=(s + 240).min(1440),
        (s / 30 + 1..=48).prop_map(|h| h * 30),
        change_minute().prop_map(move |m| m.max(s + 1)),
    ];
    (Just(s), end)
}

/// A span in the small hours or late in the evening, where clocks change.
fn edge_span() -> impl Strategy<Value = Span> {
    prop_oneof![0i64..=300, 1200i64..1440].prop_flat_map(span_from)
}

fn weekday() -> impl Strategy<Value = Weekday> {
    // Clocks change on Sundays (in Santiago at the start of one).
    prop_oneof![2 => Just(Weekday::Sun), 1 => Just(Weekday::Sat), 3 => (0usize..7).prop_map(|i| DAYS[i])]
}

fn exception(anchor: NaiveDate) -> impl Strategy<Value = RawException> {
    let day = (-2i64..=2).prop_map(move |d| anchor + Duration::days(d));
    prop_oneof![
        1 => day.clone().prop_map(|d| RawException::Block(d, None)),
        2 => (day.clone(), span()).prop_map(|(d, w)| RawException::Block(d, Some(w))),
        3 => (day, span()).prop_map(|(d, w)| RawException::Extra(d, w)),
    ]
}

fn scenario() -> impl Strategy<Value = Scenario> {
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
fn around_a_change() -> impl Strategy<Value = Scenario> {
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
fn open_minutes(s: &Scenario, day: NaiveDate) -> Vec<bool> {
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
struct WallClock {
    first_from: Vec<Option<DateTime<Utc>>>,
    end_before: Vec<Option<DateTime<Utc>>>,
}

impl WallClock {
    fn of(tz: Tz, day: NaiveDate) -> Self {
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
fn runs(open: &[bool]) -> Vec<Span> {
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

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// What the list shows, the booking check accepts; a time it does not
    /// show, the check refuses. Each asks the repository for taken time
    /// over its own range, as the services do.
    #[test]
    fn a_time_can_be_booked_exactly_when_it_is_listed(s in scenario()) {
        let listed = s.listed();
        let notice = s.now + Duration::hours(s.settings.min_notice_hours);
        let horizon = s.now + Duration::days(s.settings.horizon_days);
        for pair in listed.windows(2) {
            prop_assert!(pair[0].start < pair[1].start, "sorted, each start once: {:?}", pair);
        }
        for slot in &listed {
            prop_assert_eq!(slot.end - slot.start, Duration::minutes(s.duration));
            prop_assert!(s.from <= slot.start && slot.start < s.to, "{:?} outside the range", slot);
            prop_assert!(notice <= slot.start && slot.start < horizon, "{:?} outside notice and horizon", slot);
            prop_assert!(s.bookable(slot.start), "listed but refused: {:?}", slot);
        }
        // Random instants, and a minute either side of each listed start.
        let near = listed.iter().flat_map(|l| [l.start - Duration::minutes(1), l.start + Duration::minutes(1)]);
        for probe in s.probes.iter().copied().chain(near) {
            let shown = listed.iter().any(|l| l.start == probe);
            prop_assert_eq!(s.bookable(probe), shown, "at {}", probe);
        }
    }

    /// No listed slot comes within the buffer of a live session or a
    /// proposed time, and no slot falls on a local date already at its cap.
    #[test]
    fn a_listed_slot_never_overlaps_taken_time(s in scenario()) {
        let buffer = Duration::minutes(s.settings.buffer_minutes);
        let tz = s.settings.timezone;
        for slot in &s.listed() {
            for b in &s.busy {
                prop_assert!(
                    b.end + buffer <= slot.start || slot.end + buffer <= b.start,
                    "{:?} overlaps {:?} (buffer {})", slot, b, s.settings.buffer_minutes
                );
            }
            let day = slot.start.with_timezone(&tz).date_naive();
            let that_day = s
                .busy
                .iter()
                .filter(|b| b.counts_for_cap && b.start.with_timezone(&tz).date_naive() == day)
                .count() as i64;
            prop_assert!(that_day < s.settings.max_per_day, "{:?} on a full day", slot);
        }
    }

    /// Rules and exceptions in any order, and a rule written twice, give
    /// the same list.
    #[test]
    fn the_list_does_not_depend_on_the_order_of_the_rules(
        (s, rules, exceptions) in scenario().prop_flat_map(|s| {
            let rules = Just(s.rules.clone()).prop_shuffle();
            let exceptions = Just(s.exceptions.clone()).prop_shuffle();
            (Just(s), rules, exceptions)
        })
    ) {
        let listed = s.listed();
        let reordered = Scenario { rules, exceptions, ..s.clone() };
        prop_assert_eq!(&reordered.listed(), &listed);
        let mut twice = s.rules.clone();
        twice.extend(s.rules.iter().rev().copied());
        let doubled = Scenario { rules: twice, ..s.clone() };
        prop_assert_eq!(&doubled.listed(), &listed);
    }

    /// Every listed slot lies in one stretch of open time of its local
    /// date, from the first moment the wall clock shows the stretch's start
    /// to the last moment it shows a time before its end.
    #[test]
    fn a_listed_slot_lies_inside_the_open_hours_on_the_wall_clock(s in scenario()) {
        check_inside_open_hours(&s, &mut Clocks::new())?;
    }

    /// On the days clocks change: slots stay inside the open hours, and a
    /// stretch long enough for a session offers one from the first moment
    /// the wall clock shows its start (after a gap: the moment it ends).
    #[test]
    fn around_a_change_each_stretch_is_offered_from_its_start(s in around_a_change()) {
        let mut clocks = Clocks::new();
        check_inside_open_hours(&s, &mut clocks)?;
        let tz = s.settings.timezone;
        let listed = s.listed();
        let mut day = s.from.with_timezone(&tz).date_naive();
        while day <= s.to.with_timezone(&tz).date_naive() {
            let (clock, open) = clocks.of(&s, day);
            for &(a, b) in open {
                let (Some(t0), Some(t1)) = (clock.first_from[a as usize], clock.end_before[b as usize]) else {
                    continue;
                };
                if t1 - t0 >= Duration::minutes(s.duration) && s.from <= t0 && t0 < s.to {
                    prop_assert!(
                        listed.iter().any(|l| l.start == t0),
                        "{} {}–{}: nothing listed at {} ({} there); listed {:?}",
                        day,
                        format_time(a),
                        format_time(b),
                        t0,
                        t0.with_timezone(&tz),
                        listed.iter().map(|l| l.start.with_timezone(&tz).to_string()).collect::<Vec<_>>()
                    );
                }
            }
            day = day.succ_opt().unwrap();
        }
    }
}

/// Wall clocks and open stretches by local date, worked out once per date.
struct Clocks(HashMap<NaiveDate, (WallClock, Vec<Span>)>);

impl Clocks {
    fn new() -> Self {
        Self(HashMap::new())
    }

    fn of(&mut self, s: &Scenario, day: NaiveDate) -> &(WallClock, Vec<Span>) {
        self.0.entry(day).or_insert_with(|| {
            (
                WallClock::of(s.settings.timezone, day),
                runs(&open_minutes(s, day)),
            )
        })
    }
}

fn check_inside_open_hours(s: &Scenario, clocks: &mut Clocks) -> Result<(), TestCaseError> {
    let tz = s.settings.timezone;
    for slot in &s.listed() {
        let day = slot.start.with_timezone(&tz).date_naive();
        let (clock, open) = clocks.of(s, day);
        let inside = open.iter().any(|&(a, b)| {
            clock.first_from[a as usize].is_some_and(|t| t <= slot.start)
                && clock.end_before[b as usize].is_some_and(|t| slot.end <= t)
        });
        prop_assert!(
            inside,
            "{:?} ({} to {}) is outside the open hours {:?} of {}",
            slot,
            slot.start.with_timezone(&tz),
            slot.end.with_timezone(&tz),
            open.iter()
                .map(|&(a, b)| format!("{}–{}", format_time(a), format_time(b)))
                .collect::<Vec<_>>(),
            day
        );
    }
    Ok(())
}

/// The drawn days are the days the clocks change in each zone, so the
/// properties above do cross them.
#[test]
fn the_drawn_days_are_the_days_the_clocks_change() {
    for (zone, days) in ZONES {
        let tz: Tz = zone.parse().unwrap();
        let offset = |t: DateTime<Utc>| tz.offset_from_utc_datetime(&t.naive_utc()).fix();
        let changes = days
            .iter()
            .filter(|d| {
                let noon = midnight_utc(date(d)) + Duration::hours(12);
                offset(noon - Duration::days(1)) != offset(noon + Duration::days(1))
            })
            .count();
        let expected = if *zone == "UTC" { 0 } else { 2 };
        assert_eq!(changes, expected, "{zone}: {days:?}");
    }
}

/// The starts listed for one weekly rule around `day` in `zone`, nothing
/// taken.
fn starts_around(zone: &str, rule: (Weekday, Span), duration: i64, day: &str) -> Vec<String> {
    let day = date(day);
    let s = Scenario {
        rules: vec![rule],
        exceptions: Vec::new(),
        settings: Settings {
            timezone: zone.parse().unwrap(),
            durations: vec![duration],
            min_notice_hours: 0,
            buffer_minutes: 0,
            max_per_day: 10,
            horizon_days: 30,
        },
        busy: Vec::new(),
        duration,
        now: midnight_utc(day) - Duration::days(3),
        from: midnight_utc(day) - Duration::days(1),
        to: midnight_utc(day) + Duration::days(2),
        probes: Vec::new(),
        anchor: day,
    };
    s.listed()
        .iter()
        .map(|l| l.start.to_rfc3339_opts(SecondsFormat::Secs, true))
        .collect()
}

/// Found by the properties: a time in a gap moved on in quarter hours, so
/// a window ending at 02:01 on Berlin's spring-forward night ran to 03:01
/// CEST (one slot too many), and one starting at 02:10 began at 03:10
/// (leaving no room for an hour before 04:00).
#[test]
fn a_window_edge_in_the_spring_gap_moves_to_where_the_clock_jumps() {
    // 00:01–02:01 local is 23:01Z to 01:00Z (03:00 CEST).
    assert_eq!(
        starts_around("Europe/Berlin", (Weekday::Sun, (1, 121)), 60, "2026-03-29"),
        ["2026-03-28T23:01:00Z", "2026-03-28T23:31:00Z"]
    );
    // 02:10–04:00 local is 01:00Z (03:00 CEST) to 02:00Z.
    assert_eq!(
        starts_around(
            "Europe/Berlin",
            (Weekday::Sun, (130, 240)),
            60,
            "2026-03-29"
        ),
        ["2026-03-29T01:00:00Z"]
    );
}

/// Found by the properties: a window ending where the clock goes back
/// (New York, 1 November 2026, 02:00 EDT becomes 01:00 EST) took in the
/// whole repeated hour, which reads 01:00–01:59, after a rule that ends
/// at 01:00.
#[test]
fn a_window_ending_where_the_clock_goes_back_ends_the_first_time_it_reads_its_end() {
    // 00:00–01:00 EDT is 04:00Z to 05:00Z.
    assert_eq!(
        starts_around(
            "America/New_York",
            (Weekday::Sun, (0, 60)),
            30,
            "2026-11-01"
        ),
        ["2026-11-01T04:00:00Z", "2026-11-01T04:30:00Z"]
    );
    // A window across the change keeps the repeated hour: 00:00 EDT to
    // 02:00 EST is 04:00Z to 07:00Z.
    assert_eq!(
        starts_around(
            "America/New_York",
            (Weekday::Sun, (0, 120)),
            60,
            "2026-11-01"
        )
        .len(),
        5
    );
}

//! The free-slot list against the rules that matter (issue 17 §3): a
//! listed slot can be booked and an unlisted time cannot, taken time and
//! the daily cap are respected, a slot lies inside the researcher's hours
//! as their wall clock reads them, and the order the rules were written in
//! changes nothing. Zones with daylight saving time, and query ranges
//! around the days their clocks change, are drawn on purpose.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, Offset, SecondsFormat, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use proptest::prelude::*;

use super::availability::{format_time, Settings};
use super::slot_scenarios::*;

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

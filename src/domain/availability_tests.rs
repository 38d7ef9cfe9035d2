use super::*;
use chrono::Weekday;

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn rule(day: &str, start: &str, end: &str) -> Rule {
    Rule {
        weekday: day.into(),
        start: start.into(),
        end: end.into(),
    }
}

fn settings(tz: &str) -> Settings {
    Settings {
        timezone: tz.parse().unwrap(),
        durations: vec![30, 60],
        min_notice_hours: 0,
        buffer_minutes: 0,
        max_per_day: 10,
        horizon_days: 365,
    }
}

fn starts(slots: &[Slot]) -> Vec<String> {
    slots
        .iter()
        .map(|s| s.start.format("%Y-%m-%dT%H:%MZ").to_string())
        .collect()
}

fn sunday_rule() -> Availability {
    Availability::parse(&[rule("sun", "01:00", "04:00")], &[]).unwrap()
}

#[test]
fn berlin_spring_forward_sunday_has_only_the_hours_that_exist() {
    // 2026-03-29: Berlin skips 02:00–03:00 local (01:00Z). 01:00–04:00 local
    // is 00:00Z–02:00Z: two real hours, not three.
    let now = utc("2026-03-01T00:00:00Z");
    let slots = free_slots(
        &settings("Europe/Berlin"),
        &sunday_rule(),
        &[],
        now,
        utc("2026-03-29T00:00:00Z"),
        utc("2026-03-30T00:00:00Z"),
        60,
    );
    assert_eq!(
        starts(&slots),
        [
            "2026-03-29T00:00Z",
            "2026-03-29T00:30Z",
            "2026-03-29T01:00Z"
        ]
    );
    // A week earlier (CET, +01:00) the same rule is 00:00Z–03:00Z.
    let before = free_slots(
        &settings("Europe/Berlin"),
        &sunday_rule(),
        &[],
        now,
        utc("2026-03-22T00:00:00Z"),
        utc("2026-03-23T00:00:00Z"),
        60,
    );
    assert_eq!(before.len(), 5);
    assert_eq!(starts(&before)[0], "2026-03-22T00:00Z");
}

#[test]
fn berlin_fall_back_sunday_keeps_the_repeated_hour() {
    // 2026-10-25: 03:00 CEST becomes 02:00 CET; 01:00–04:00 local is
    // 23:00Z (Sat) to 03:00Z: four real hours.
    let slots = free_slots(
        &settings("Europe/Berlin"),
        &sunday_rule(),
        &[],
        utc("2026-10-01T00:00:00Z"),
        utc("2026-10-24T12:00:00Z"),
        utc("2026-10-26T00:00:00Z"),
        60,
    );
    assert_eq!(slots.first().unwrap().start, utc("2026-10-24T23:00:00Z"));
    assert_eq!(slots.last().unwrap().end, utc("2026-10-25T03:00:00Z"));
    assert_eq!(slots.len(), 7);
}

#[test]
fn local_rules_follow_the_researchers_zone_not_the_viewers() {
    // 2026-03-09 (Mon): New York is already on EDT (since 8 March), Berlin
    // still on CET until 29 March. A Berlin 09:00 rule is 08:00Z; a New York
    // viewer sees 04:00 local, one hour closer than the usual six.
    let a = Availability::parse(&[rule("mon", "09:00", "10:00")], &[]).unwrap();
    let s = settings("Europe/Berlin");
    let now = utc("2026-02-01T00:00:00Z");
    let slots = free_slots(
        &s,
        &a,
        &[],
        now,
        utc("2026-03-02T00:00:00Z"),
        utc("2026-04-07T00:00:00Z"),
        60,
    );
    let ny: Tz = "America/New_York".parse().unwrap();
    let seen: Vec<String> = slots
        .iter()
        .map(|s| s.start.with_timezone(&ny).format("%m-%d %H:%M").to_string())
        .collect();
    assert_eq!(
        seen,
        [
            "03-02 03:00",
            "03-09 04:00",
            "03-16 04:00",
            "03-23 04:00",
            "03-30 03:00",
            "04-06 03:00"
        ]
    );
    assert_eq!(slots[1].start, utc("2026-03-09T08:00:00Z"));
    assert_eq!(slots[4].start, utc("2026-03-30T07:00:00Z"));
}

#[test]
fn notice_horizon_and_range_bound_the_slots() {
    let a = Availability::parse(&[rule("mon", "09:00", "12:00")], &[]).unwrap();
    let mut s = settings("UTC");
    s.min_notice_hours = 25;
    s.horizon_days = 8;
    let now = utc("2026-06-07T09:30:00Z"); // Sunday
    let slots = free_slots(&s, &a, &[], now, now, now + Duration::days(30), 60);
    // Monday 8 June 10:30 is the first start 25 h ahead; the next Monday
    // (15 June 09:00) is beyond the 8-day horizon at 09:30 on the 15th only.
    assert_eq!(
        starts(&slots),
        [
            "2026-06-08T10:30Z",
            "2026-06-08T11:00Z",
            "2026-06-15T09:00Z"
        ]
    );
}

#[test]
fn buffers_and_taken_time_are_left_out() {
    let a = Availability::parse(&[rule("mon", "09:00", "13:00")], &[]).unwrap();
    let mut s = settings("UTC");
    s.buffer_minutes = 15;
    let busy = [Busy {
        start: utc("2026-06-08T10:00:00Z"),
        end: utc("2026-06-08T11:00:00Z"),
        counts_for_cap: true,
    }];
    let now = utc("2026-06-01T00:00:00Z");
    let slots = free_slots(
        &s,
        &a,
        &busy,
        now,
        utc("2026-06-08T00:00:00Z"),
        utc("2026-06-09T00:00:00Z"),
        30,
    );
    // 09:00 and 09:30 would end at 09:30/10:00 — 09:30 ends inside the buffer.
    assert_eq!(
        starts(&slots),
        [
            "2026-06-08T09:00Z",
            "2026-06-08T11:30Z",
            "2026-06-08T12:00Z",
            "2026-06-08T12:30Z"
        ]
    );
}

#[test]
fn the_daily_cap_closes_a_day_in_the_researchers_zone() {
    let a = Availability::parse(&[rule("mon", "09:00", "17:00")], &[]).unwrap();
    let mut s = settings("Asia/Tokyo");
    s.max_per_day = 1;
    // 09:00 Tokyo on Monday 8 June is 00:00Z.
    let busy = [Busy {
        start: utc("2026-06-08T00:00:00Z"),
        end: utc("2026-06-08T01:00:00Z"),
        counts_for_cap: true,
    }];
    let now = utc("2026-06-01T00:00:00Z");
    let monday = utc("2026-06-07T12:00:00Z");
    let slots = free_slots(&s, &a, &busy, now, monday, utc("2026-06-16T00:00:00Z"), 60);
    assert!(
        slots.iter().all(|s| s.start >= utc("2026-06-14T00:00:00Z")),
        "{:?}",
        starts(&slots)
    );
    // A proposal holds its time but does not count against the cap.
    let held = [Busy {
        counts_for_cap: false,
        ..busy[0]
    }];
    let slots = free_slots(&s, &a, &held, now, monday, utc("2026-06-09T00:00:00Z"), 60);
    assert_eq!(slots[0].start, utc("2026-06-08T01:00:00Z"));
}

#[test]
fn exceptions_block_days_and_hours_and_add_time() {
    let a = Availability::parse(
        &[rule("mon", "09:00", "11:00"), rule("tue", "09:00", "11:00")],
        &[
            Exception {
                date: "2026-06-08".into(),
                kind: "block".into(),
                start: None,
                end: None,
            },
            Exception {
                date: "2026-06-09".into(),
                kind: "block".into(),
                start: Some("09:30".into()),
                end: Some("10:30".into()),
            },
            Exception {
                date: "2026-06-10".into(),
                kind: "extra".into(),
                start: Some("14:00".into()),
                end: Some("15:00".into()),
            },
        ],
    )
    .unwrap();
    let now = utc("2026-06-01T00:00:00Z");
    let slots = free_slots(
        &settings("UTC"),
        &a,
        &[],
        now,
        utc("2026-06-08T00:00:00Z"),
        utc("2026-06-11T00:00:00Z"),
        30,
    );
    assert_eq!(
        starts(&slots),
        [
            "2026-06-09T09:00Z",
            "2026-06-09T10:30Z",
            "2026-06-10T14:00Z",
            "2026-06-10T14:30Z"
        ]
    );
}

#[test]
fn booking_accepts_exactly_the_listed_slots() {
    let a = Availability::parse(&[rule("mon", "09:00", "12:00")], &[]).unwrap();
    let s = settings("UTC");
    let now = utc("2026-06-01T00:00:00Z");
    assert!(is_bookable(
        &s,
        &a,
        &[],
        now,
        utc("2026-06-08T09:30:00Z"),
        60
    ));
    assert!(
        !is_bookable(&s, &a, &[], now, utc("2026-06-08T09:10:00Z"), 60),
        "off the grid"
    );
    assert!(
        !is_bookable(&s, &a, &[], now, utc("2026-06-08T11:30:00Z"), 60),
        "runs past the window"
    );
    assert!(
        !is_bookable(&s, &a, &[], now, utc("2026-06-08T09:00:00Z"), 45),
        "length not offered"
    );
    assert!(
        !is_bookable(&s, &a, &[], now, utc("2026-06-09T09:00:00Z"), 60),
        "no rule on Tuesday"
    );
}

#[test]
fn bad_rules_name_every_bad_item_in_plain_words() {
    let e = Availability::parse(
        &[
            rule("mon", "12:00", "09:00"),
            rule("mon", "09:00", "10:00"),
            rule("funday", "9.5", "10:00"),
        ],
        &[],
    )
    .unwrap_err();
    assert_eq!(
        e,
        [
            ("rules[0]".to_string(), "the end must be after the start".to_string()),
            (
                "rules[2]".to_string(),
                "the day must be a weekday such as mon or Monday; the start must be a time like 09:00"
                    .to_string()
            ),
        ]
    );
    let x = |date: &str, kind: &str| Exception {
        date: date.into(),
        kind: kind.into(),
        start: None,
        end: None,
    };
    let e = Availability::parse(&[], &[x("2026-02-30", "block"), x("2026-02-03", "extra")])
        .unwrap_err();
    assert_eq!(e[0].0, "exceptions[0]");
    assert_eq!(
        e[1],
        (
            "exceptions[1]".into(),
            "extra time needs a start and an end".into()
        )
    );
    assert!(e.iter().all(|(_, m)| !m.contains('`')));
    assert!(parse_timezone("Mars/Olympus").is_err());
    assert!(check_currency("eur").is_err());
}

#[test]
fn times_and_days_are_read_liberally_where_the_meaning_is_plain() {
    for (raw, minutes) in [
        ("09:00", 540),
        ("9:00", 540),
        ("9", 540),
        (" 17:30 ", 1050),
        ("24", 1440),
    ] {
        assert_eq!(parse_time(raw), Some(minutes), "{raw}");
    }
    for bad in ["9:5", "25:00", "9am", "", "1:2:3", "-1"] {
        assert_eq!(parse_time(bad), None, "{bad}");
    }
    for day in ["mon", "Mon", "MONDAY", "monday"] {
        assert_eq!(parse_weekday(day), Some(Weekday::Mon), "{day}");
    }
    let a = Availability::parse(&[rule("Monday", "9", "12")], &[]).unwrap();
    let b = Availability::parse(&[rule("mon", "09:00", "12:00")], &[]).unwrap();
    assert_eq!(a, b);
}

#[test]
fn windows_too_short_for_any_session_are_warnings_not_errors() {
    let a = Availability::parse(
        &[
            rule("mon", "09:00", "09:20"),
            rule("tue", "09:00", "09:20"),
            rule("tue", "09:20", "10:00"),
        ],
        &[],
    )
    .unwrap();
    let w = a.too_short(30);
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(w[0].0, "rules[0]");
    assert!(w[0].1.contains("09:00–09:20"), "{}", w[0].1);
}

#[test]
fn gap_times_move_to_the_first_instant_after_the_gap() {
    let tz: Tz = "Europe/Berlin".parse().unwrap();
    let d = NaiveDate::from_ymd_opt(2026, 3, 29).unwrap();
    assert_eq!(
        local_instant(tz, d, 150, false),
        utc("2026-03-29T01:00:00Z")
    );
    let d = NaiveDate::from_ymd_opt(2026, 10, 25).unwrap();
    assert_eq!(
        local_instant(tz, d, 150, false),
        utc("2026-10-25T00:30:00Z")
    );
    assert_eq!(local_instant(tz, d, 150, true), utc("2026-10-25T01:30:00Z"));
}

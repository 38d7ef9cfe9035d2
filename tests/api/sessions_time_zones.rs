//! Availability in the researcher's zone, seen through the API across
//! daylight-saving changes, and from a reader in another zone.

use chrono::{Datelike, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde_json::json;

use crate::helpers::spawn_app;
use crate::sessions_fixtures::*;

#[tokio::test]
async fn the_night_clocks_spring_forward_in_berlin_has_one_hour_less_to_offer() {
    let app = spawn_app().await;
    app.clock
        .set(Utc.with_ymd_and_hms(2026, 3, 2, 12, 0, 0).unwrap());
    let mut settings = open_settings();
    settings["timezone"] = json!("Europe/Berlin");
    let r = bookable_researcher_with(
        &app,
        "grace@tu-berlin.example",
        settings,
        json!([{"weekday": "sun", "start": "01:00", "end": "04:00"}]),
    )
    .await;

    // 22 March: 01:00–04:00 CET is 00:00–03:00 UTC.
    let before = slot_starts(
        &app,
        r.researcher_id,
        at("2026-03-21T00:00:00Z"),
        at("2026-03-23T00:00:00Z"),
        60,
    )
    .await;
    assert_eq!(
        before,
        ["00:00", "00:30", "01:00", "01:30", "02:00"]
            .iter()
            .map(|t| at(&format!("2026-03-22T{t}:00Z")))
            .collect::<Vec<_>>()
    );
    // 29 March: 02:00 CET becomes 03:00 CEST, so 01:00 CET–04:00 CEST is
    // 00:00–02:00 UTC.
    let during = slot_starts(
        &app,
        r.researcher_id,
        at("2026-03-28T00:00:00Z"),
        at("2026-03-30T00:00:00Z"),
        60,
    )
    .await;
    assert_eq!(
        during,
        vec![
            at("2026-03-29T00:00:00Z"),
            at("2026-03-29T00:30:00Z"),
            at("2026-03-29T01:00:00Z"),
        ]
    );

    let reader = app.token("reader@uni.example").await;
    let resp = book(
        &app,
        &reader,
        r.researcher_id,
        at("2026-03-29T01:30:00Z"),
        60,
    )
    .await;
    assert_eq!(resp.status(), 409, "ends after the window");
    let resp = book(
        &app,
        &reader,
        r.researcher_id,
        at("2026-03-29T01:00:00Z"),
        60,
    )
    .await;
    assert_eq!(resp.status(), 201);
}

#[tokio::test]
async fn a_berlin_morning_moves_for_a_new_york_reader_while_only_one_side_has_changed_clocks() {
    let app = spawn_app().await;
    app.clock
        .set(Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap());
    let mut settings = open_settings();
    settings["timezone"] = json!("Europe/Berlin");
    let r = bookable_researcher_with(
        &app,
        "grace@tu-berlin.example",
        settings,
        json!([{"weekday": "mon", "start": "09:00", "end": "10:00"}]),
    )
    .await;
    let free = slot_starts(
        &app,
        r.researcher_id,
        at("2026-03-01T00:00:00Z"),
        at("2026-04-01T00:00:00Z"),
        60,
    )
    .await;
    let berlin: Tz = "Europe/Berlin".parse().unwrap();
    let new_york: Tz = "America/New_York".parse().unwrap();
    let nine = NaiveTime::from_hms_opt(9, 0, 0).unwrap();
    // Every slot is 09:00 in Berlin, on each Monday of March.
    let mondays: Vec<NaiveDate> = free
        .iter()
        .map(|s| {
            let local = s.with_timezone(&berlin);
            assert_eq!(local.time(), nine, "{s}");
            assert_eq!(local.weekday(), chrono::Weekday::Mon);
            local.date_naive()
        })
        .collect();
    assert_eq!(
        mondays,
        [2, 9, 16, 23, 30]
            .iter()
            .map(|d| NaiveDate::from_ymd_opt(2026, 3, *d).unwrap())
            .collect::<Vec<_>>()
    );
    // New York moves to summer time on 8 March, Berlin on 29 March.
    let in_new_york: Vec<(u32, String)> = free
        .iter()
        .map(|s| {
            let local = s.with_timezone(&new_york);
            (local.day(), local.format("%H:%M").to_string())
        })
        .collect();
    assert_eq!(
        in_new_york,
        vec![
            (2, "03:00".to_string()),
            (9, "04:00".to_string()),
            (16, "04:00".to_string()),
            (23, "04:00".to_string()),
            (30, "03:00".to_string()),
        ]
    );
}

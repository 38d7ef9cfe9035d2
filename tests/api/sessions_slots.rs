//! Free slots through the API: minimum notice, buffers around sessions, the
//! booking horizon, the daily cap and date exceptions, and that what the
//! list shows is what can be booked.

use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};

use crate::helpers::{error_code, spawn_app, TestApp};
use crate::sessions_fixtures::*;

/// A researcher open every day 09:00–17:00 UTC with `changes` applied to
/// the open settings; the clock is Monday 7 December 2026, 08:00 UTC.
async fn researcher_with(app: &TestApp, changes: Value) -> Bookable {
    app.clock.set(monday_morning());
    let mut settings = open_settings();
    for (k, v) in changes.as_object().unwrap() {
        settings[k] = v.clone();
    }
    bookable_researcher_with(app, "grace@yale.example", settings, every_day()).await
}

/// The 60-minute slots of one day.
async fn day(app: &TestApp, r: &Bookable, date: &str) -> Vec<DateTime<Utc>> {
    let start = at(&format!("{date}T00:00:00Z"));
    slot_starts(app, r.researcher_id, start, start + Duration::days(1), 60).await
}

/// The given times of `date` (UTC), e.g. `times("2026-12-08", &["09:00"])`.
fn times(date: &str, hhmm: &[&str]) -> Vec<DateTime<Utc>> {
    hhmm.iter()
        .map(|t| at(&format!("{date}T{t}:00Z")))
        .collect()
}

const WHOLE_DAY: &[&str] = &[
    "09:00", "09:30", "10:00", "10:30", "11:00", "11:30", "12:00", "12:30", "13:00", "13:30",
    "14:00", "14:30", "15:00", "15:30", "16:00",
];

#[tokio::test]
async fn slots_start_no_earlier_than_the_minimum_notice() {
    let app = spawn_app().await;
    let r = researcher_with(&app, json!({})).await;
    let now = monday_morning();
    let week = now + Duration::days(4);
    let free = slot_starts(&app, r.researcher_id, now, week, 60).await;
    assert_eq!(free[0], at("2026-12-07T09:00:00Z"));

    let mut settings = open_settings();
    settings["min_notice_hours"] = json!(50);
    let resp = put_settings(&app, &r.token, r.researcher_id, &settings).await;
    assert_eq!(resp.status(), 200);
    // 08:00 Monday + 50 h = 10:00 Wednesday.
    let free = slot_starts(&app, r.researcher_id, now, week, 60).await;
    assert_eq!(free[0], at("2026-12-09T10:00:00Z"));
    assert!(free.iter().all(|s| *s >= now + Duration::hours(50)));

    let reader = app.token("reader@uni.example").await;
    let resp = book(
        &app,
        &reader,
        r.researcher_id,
        at("2026-12-09T09:30:00Z"),
        60,
    )
    .await;
    assert_eq!(resp.status(), 409);
    assert_eq!(error_code(resp).await, "slot_unavailable");
    let resp = book(
        &app,
        &reader,
        r.researcher_id,
        at("2026-12-09T10:00:00Z"),
        60,
    )
    .await;
    assert_eq!(resp.status(), 201);
}

#[tokio::test]
async fn a_booking_removes_the_slots_that_would_overlap_it_or_its_buffer() {
    let app = spawn_app().await;
    let r = researcher_with(&app, json!({"buffer_minutes": 30})).await;
    let date = "2026-12-08";
    assert_eq!(day(&app, &r, date).await, times(date, WHOLE_DAY));

    let reader = app.token("reader@uni.example").await;
    booked(&app, &reader, r.researcher_id, at("2026-12-08T12:00:00Z")).await;
    // 12:00–13:00 taken; 30 minutes of buffer on either side.
    let expected = times(
        date,
        &[
            "09:00", "09:30", "10:00", "10:30", "13:30", "14:00", "14:30", "15:00", "15:30",
            "16:00",
        ],
    );
    assert_eq!(day(&app, &r, date).await, expected);
    // Booking a slot inside the buffer is refused the same way.
    let other = app.token("other@uni.example").await;
    for t in ["11:00", "11:30", "12:30", "13:00"] {
        let resp = book(
            &app,
            &other,
            r.researcher_id,
            at(&format!("{date}T{t}:00Z")),
            60,
        )
        .await;
        assert_eq!(resp.status(), 409, "{t}");
        assert_eq!(error_code(resp).await, "slot_unavailable");
    }
    assert_eq!(live_sessions(&app, r.researcher_id), 1);
    // A 30-minute session fits right before the buffer.
    let resp = book(
        &app,
        &other,
        r.researcher_id,
        at("2026-12-08T11:00:00Z"),
        30,
    )
    .await;
    assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap());
}

#[tokio::test]
async fn nothing_is_offered_beyond_the_horizon() {
    let app = spawn_app().await;
    let r = researcher_with(&app, json!({"horizon_days": 3})).await;
    let now = monday_morning();
    let free = slot_starts(&app, r.researcher_id, now, now + Duration::days(10), 60).await;
    assert!(free.iter().all(|s| *s < now + Duration::days(3)));
    assert_eq!(*free.last().unwrap(), at("2026-12-09T16:00:00Z"));
    assert_eq!(free.len(), 3 * WHOLE_DAY.len());

    let reader = app.token("reader@uni.example").await;
    let resp = book(
        &app,
        &reader,
        r.researcher_id,
        at("2026-12-11T10:00:00Z"),
        60,
    )
    .await;
    assert_eq!(resp.status(), 409);
    assert_eq!(error_code(resp).await, "slot_unavailable");
}

#[tokio::test]
async fn a_full_day_offers_nothing_more() {
    let app = spawn_app().await;
    let r = researcher_with(&app, json!({"max_per_day": 2})).await;
    let reader = app.token("reader@uni.example").await;
    booked(&app, &reader, r.researcher_id, at("2026-12-08T09:00:00Z")).await;
    assert!(!day(&app, &r, "2026-12-08").await.is_empty());
    booked(&app, &reader, r.researcher_id, at("2026-12-08T14:00:00Z")).await;
    assert!(day(&app, &r, "2026-12-08").await.is_empty());
    assert_eq!(
        day(&app, &r, "2026-12-09").await,
        times("2026-12-09", WHOLE_DAY)
    );
    let resp = book(
        &app,
        &reader,
        r.researcher_id,
        at("2026-12-08T11:00:00Z"),
        60,
    )
    .await;
    assert_eq!(resp.status(), 409);

    // A cancelled session no longer counts.
    let third = booked(&app, &reader, r.researcher_id, at("2026-12-09T09:00:00Z")).await;
    acted(&app, &reader, third, "cancel", json!({"reason": "clash"})).await;
    assert_eq!(
        day(&app, &r, "2026-12-09").await,
        times("2026-12-09", WHOLE_DAY)
    );
}

#[tokio::test]
async fn exceptions_block_whole_days_and_hours_and_add_extra_time() {
    let app = spawn_app().await;
    let r = researcher_with(&app, json!({})).await;
    let resp = put_availability(
        &app,
        &r.token,
        r.researcher_id,
        &json!({
            "timezone": "UTC",
            "rules": every_day(),
            "exceptions": [
                {"date": "2026-12-08", "kind": "block"},
                {"date": "2026-12-09", "kind": "block", "start": "12:00", "end": "15:00"},
                {"date": "2026-12-10", "kind": "extra", "start": "18:00", "end": "20:00"},
                {"date": "2026-12-11", "kind": "extra", "start": "16:00", "end": "18:00"}
            ]
        }),
    )
    .await;
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());

    assert!(day(&app, &r, "2026-12-08").await.is_empty());
    assert_eq!(
        day(&app, &r, "2026-12-09").await,
        times(
            "2026-12-09",
            &["09:00", "09:30", "10:00", "10:30", "11:00", "15:00", "15:30", "16:00"]
        )
    );
    let mut extra = WHOLE_DAY.to_vec();
    extra.extend(["18:00", "18:30", "19:00"]);
    assert_eq!(
        day(&app, &r, "2026-12-10").await,
        times("2026-12-10", &extra)
    );
    // Extra time that touches the rule's window extends it.
    let mut longer = WHOLE_DAY.to_vec();
    longer.extend(["16:30", "17:00"]);
    assert_eq!(
        day(&app, &r, "2026-12-11").await,
        times("2026-12-11", &longer)
    );
    // The other days follow the weekly rule.
    assert_eq!(
        day(&app, &r, "2026-12-12").await,
        times("2026-12-12", WHOLE_DAY)
    );

    let reader = app.token("reader@uni.example").await;
    for (t, status) in [
        ("2026-12-08T10:00:00Z", 409),
        ("2026-12-09T13:00:00Z", 409),
        ("2026-12-10T18:30:00Z", 201),
    ] {
        let resp = book(&app, &reader, r.researcher_id, at(t), 60).await;
        assert_eq!(resp.status(), status, "{t}");
    }
}

#[tokio::test]
async fn slot_queries_over_long_ranges_or_for_lengths_not_offered_are_refused() {
    let app = spawn_app().await;
    let r = researcher_with(&app, json!({})).await;
    let now = monday_morning();
    let cases = [
        (now, now + Duration::days(63), 60, "to"),
        (now, now - Duration::hours(1), 60, "to"),
        (now, now + Duration::days(1), 45, "duration"),
        (now, now + Duration::days(1), 7, "duration"),
    ];
    for (from, to, duration, field) in cases {
        let resp = slots(&app, r.researcher_id, from, to, duration).await;
        assert_eq!(resp.status(), 422, "{from} {to} {duration}");
        let body: Value = resp.json().await.unwrap();
        assert!(body["error"]["fields"][field].is_string(), "{body}");
    }
    // 62 days is the most one query may span.
    let ok = slots(&app, r.researcher_id, now, now + Duration::days(62), 60).await;
    assert_eq!(ok.status(), 200);
    let resp = app
        .get(
            &format!(
                "/api/v1/consulting/researchers/{}/availability?from=tomorrow",
                r.researcher_id
            ),
            None,
        )
        .await;
    assert_eq!(resp.status(), 422);
    let body: Value = resp.json().await.unwrap();
    assert!(body["error"]["fields"]["from"].is_string(), "{body}");
    // Booking a length the researcher does not offer names the field.
    let reader = app.token("reader@uni.example").await;
    let resp = book(
        &app,
        &reader,
        r.researcher_id,
        at("2026-12-08T10:00:00Z"),
        45,
    )
    .await;
    assert_eq!(resp.status(), 422);
    let body: Value = resp.json().await.unwrap();
    assert!(
        body["error"]["fields"]["duration_minutes"].is_string(),
        "{body}"
    );
}

#[tokio::test]
async fn without_parameters_the_next_two_weeks_of_the_shortest_length_are_listed() {
    let app = spawn_app().await;
    let r = researcher_with(&app, json!({})).await;
    let resp = app
        .get(
            &format!(
                "/api/v1/consulting/researchers/{}/availability",
                r.researcher_id
            ),
            None,
        )
        .await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    let slots = body["slots"].as_array().unwrap();
    let first = &slots[0];
    assert_eq!(
        at(first["start"].as_str().unwrap()),
        at("2026-12-07T09:00:00Z")
    );
    assert_eq!(
        at(first["end"].as_str().unwrap()),
        at("2026-12-07T09:30:00Z")
    );
    let last = at(slots.last().unwrap()["start"].as_str().unwrap());
    assert!(last < monday_morning() + Duration::days(14));
    // 16 half-hour slots a day for 14 days (the 15th day starts after 08:00).
    assert_eq!(slots.len(), 16 * 14);
}

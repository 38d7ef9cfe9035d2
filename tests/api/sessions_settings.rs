//! A researcher's booking settings and weekly availability: defaults, who
//! may change them, and input that is refused without touching what is
//! stored.

use serde_json::{json, Value};

use crate::helpers::{error_code, spawn_app, TestApp};
use crate::sessions_fixtures::*;

async fn settings_of(app: &TestApp, researcher: i64) -> Value {
    let r = app
        .get(
            &format!("/api/v1/consulting/researchers/{researcher}/settings"),
            None,
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    r.json().await.unwrap()
}

async fn rules_of(app: &TestApp, researcher: i64) -> Value {
    let r = app
        .get(
            &format!("/api/v1/consulting/researchers/{researcher}/availability/rules"),
            None,
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    r.json().await.unwrap()
}

/// Asserts a 422 that names `field`.
async fn assert_rejected(r: reqwest::Response, field: &str, what: &str) {
    assert_eq!(r.status(), 422, "{what}");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "validation_failed", "{what}: {body}");
    assert!(
        body["error"]["fields"][field].is_string(),
        "{what}: expected field {field} in {body}"
    );
}

fn berlin_settings() -> Value {
    json!({
        "timezone": "Europe/Berlin", "durations": [45, 30], "price_minor": 2500, "currency": "CHF",
        "min_notice_hours": 12, "buffer_minutes": 10, "max_per_day": 3, "horizon_days": 30,
        "request_ttl_hours": 24, "cancel_window_hours": 6
    })
}

#[tokio::test]
async fn a_researcher_who_saved_nothing_has_the_configured_defaults_and_no_slots() {
    let app = spawn_app().await;
    let r = registered_researcher(&app, "new@uni.example").await;
    assert_eq!(
        settings_of(&app, r.researcher_id).await,
        json!({
            "timezone": "UTC", "durations": [30, 60], "price_minor": 0, "currency": "EUR",
            "min_notice_hours": 24, "buffer_minutes": 15, "max_per_day": 4, "horizon_days": 60,
            "request_ttl_hours": 48, "cancel_window_hours": 24
        })
    );
    assert_eq!(
        rules_of(&app, r.researcher_id).await,
        json!({"timezone": "UTC", "rules": [], "exceptions": []})
    );
    let start = day_at_ten(&app, 3);
    let free = slot_starts(
        &app,
        r.researcher_id,
        start,
        start + chrono::Duration::days(7),
        30,
    )
    .await;
    assert!(free.is_empty(), "{free:?}");
}

#[tokio::test]
async fn the_researcher_saves_settings_and_availability_and_reads_them_back() {
    let app = spawn_app().await;
    let r = registered_researcher(&app, "grace@yale.example").await;
    let resp = put_settings(&app, &r.token, r.researcher_id, &berlin_settings()).await;
    assert_eq!(resp.status(), 200);
    let saved: Value = resp.json().await.unwrap();
    // Durations come back sorted.
    let mut expected = berlin_settings();
    expected["durations"] = json!([30, 45]);
    assert_eq!(saved, expected);
    assert_eq!(settings_of(&app, r.researcher_id).await, expected);

    let availability = json!({
        "timezone": "Europe/Berlin",
        "rules": [{"weekday": "mon", "start": "09:00", "end": "12:00"},
                  {"weekday": "thursday", "start": "14:00", "end": "24:00"}],
        "exceptions": [{"date": "2026-12-24", "kind": "block", "start": null, "end": null},
                       {"date": "2026-12-27", "kind": "extra", "start": "10:00", "end": "11:00"}]
    });
    let resp = put_availability(&app, &r.token, r.researcher_id, &availability).await;
    assert_eq!(resp.status(), 200);
    let published: Value = resp.json().await.unwrap();
    assert_eq!(published["rules"], availability["rules"]);
    assert_eq!(published["warnings"], json!([]));
    assert_eq!(rules_of(&app, r.researcher_id).await, availability);
}

/// A window shorter than the shortest session length is saved, but the
/// answer warns that no one can book it; touching windows count together.
#[tokio::test]
async fn windows_too_short_for_any_session_are_saved_with_a_warning() {
    let app = spawn_app().await;
    let r = bookable_researcher(&app, "grace@yale.example").await;
    let resp = put_settings(&app, &r.token, r.researcher_id, &berlin_settings()).await;
    assert_eq!(resp.status(), 200);
    let availability = json!({
        "timezone": "Europe/Berlin",
        "rules": [{"weekday": "mon", "start": "09:00", "end": "09:20"},
                  {"weekday": "tue", "start": "09:00", "end": "09:20"},
                  {"weekday": "tue", "start": "09:20", "end": "10:00"}],
        "exceptions": [{"date": "2026-12-27", "kind": "extra", "start": "10:00", "end": "10:15"}]
    });
    let resp = put_availability(&app, &r.token, r.researcher_id, &availability).await;
    assert_eq!(resp.status(), 200);
    let published: Value = resp.json().await.unwrap();
    let fields: Vec<&str> = published["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["rules[0]", "exceptions[0]"]);
    let message = published["warnings"][0]["message"].as_str().unwrap();
    assert!(message.contains("only 20 minutes"), "{message}");
    assert!(
        message.contains("shortest session (30 minutes)"),
        "{message}"
    );
    assert_eq!(rules_of(&app, r.researcher_id).await, availability);
}

#[tokio::test]
async fn another_user_cannot_change_a_researchers_settings_or_availability() {
    let app = spawn_app().await;
    let r = bookable_researcher(&app, "grace@yale.example").await;
    let other = app.token("mallory@uni.example").await;
    let before = (
        settings_of(&app, r.researcher_id).await,
        rules_of(&app, r.researcher_id).await,
    );
    let resp = put_settings(&app, &other, r.researcher_id, &berlin_settings()).await;
    assert_eq!(resp.status(), 403);
    assert_eq!(error_code(resp).await, "forbidden");
    let resp = put_availability(
        &app,
        &other,
        r.researcher_id,
        &json!({"timezone": "UTC", "rules": [], "exceptions": []}),
    )
    .await;
    assert_eq!(resp.status(), 403);
    // Another researcher is a stranger here too.
    let colleague = bookable_researcher(&app, "ada@cam.example").await;
    let resp = put_settings(&app, &colleague.token, r.researcher_id, &berlin_settings()).await;
    assert_eq!(resp.status(), 403);
    // Without a token at all.
    let resp = app
        .send_json(
            reqwest::Method::PUT,
            &format!(
                "/api/v1/consulting/researchers/{}/settings",
                r.researcher_id
            ),
            None,
            &berlin_settings(),
        )
        .await;
    assert_eq!(resp.status(), 401);
    let after = (
        settings_of(&app, r.researcher_id).await,
        rules_of(&app, r.researcher_id).await,
    );
    assert_eq!(before, after);
}

#[tokio::test]
async fn an_admin_may_change_a_researchers_settings_and_availability() {
    let app = spawn_app().await;
    let r = bookable_researcher(&app, "grace@yale.example").await;
    let admin = app.admin_token("admin@uni.example").await;
    let resp = put_settings(&app, &admin, r.researcher_id, &berlin_settings()).await;
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    assert_eq!(
        settings_of(&app, r.researcher_id).await["timezone"],
        "Europe/Berlin"
    );
    let rules = json!({"timezone": "Asia/Tokyo", "rules": [{"weekday": "fri", "start": "08:00", "end": "09:00"}], "exceptions": []});
    let resp = put_availability(&app, &admin, r.researcher_id, &rules).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(rules_of(&app, r.researcher_id).await, rules);
    // The zone of the availability is the researcher's zone.
    assert_eq!(
        settings_of(&app, r.researcher_id).await["timezone"],
        "Asia/Tokyo"
    );
}

#[tokio::test]
async fn an_unknown_researcher_is_not_found_for_reading_and_writing() {
    let app = spawn_app().await;
    let admin = app.admin_token("admin@uni.example").await;
    let reader = app.token("reader@uni.example").await;
    for path in [
        "/api/v1/consulting/researchers/9999/settings",
        "/api/v1/consulting/researchers/9999/availability/rules",
        "/api/v1/consulting/researchers/9999/availability?duration=30",
    ] {
        let resp = app.get(path, None).await;
        assert_eq!(resp.status(), 404, "{path}");
        assert_eq!(error_code(resp).await, "not_found");
    }
    for token in [&admin, &reader] {
        let resp = put_settings(&app, token, 9999, &berlin_settings()).await;
        assert_eq!(resp.status(), 404);
        let resp = put_availability(
            &app,
            token,
            9999,
            &json!({"timezone": "UTC", "rules": [], "exceptions": []}),
        )
        .await;
        assert_eq!(resp.status(), 404);
    }
}

#[tokio::test]
async fn bad_settings_are_refused_with_the_field_named_and_nothing_changes() {
    let app = spawn_app().await;
    let r = bookable_researcher(&app, "grace@yale.example").await;
    let before = settings_of(&app, r.researcher_id).await;
    let cases: &[(&str, Value, &str)] = &[
        ("timezone", json!("Mars/Olympus_Mons"), "timezone"),
        ("timezone", json!("+02:00"), "timezone"),
        ("durations", json!([7]), "durations"),
        ("durations", json!([]), "durations"),
        ("durations", json!([30, 62]), "durations"),
        (
            "durations",
            json!([15, 30, 45, 60, 90, 120, 180]),
            "durations",
        ),
        ("min_notice_hours", json!(-1), "min_notice_hours"),
        ("buffer_minutes", json!(241), "buffer_minutes"),
        ("max_per_day", json!(0), "max_per_day"),
        ("horizon_days", json!(366), "horizon_days"),
        ("request_ttl_hours", json!(0), "request_ttl_hours"),
        ("cancel_window_hours", json!(721), "cancel_window_hours"),
        ("price_minor", json!(-5), "price_minor"),
        ("currency", json!("euro"), "currency"),
    ];
    for (key, value, field) in cases {
        let mut body = berlin_settings();
        body[*key] = value.clone();
        let resp = put_settings(&app, &r.token, r.researcher_id, &body).await;
        assert_rejected(resp, field, &format!("{key} = {value}")).await;
    }
    // Unknown fields are refused rather than ignored.
    let mut body = berlin_settings();
    body["colour"] = json!("blue");
    let resp = put_settings(&app, &r.token, r.researcher_id, &body).await;
    assert_eq!(resp.status(), 422);
    assert_eq!(settings_of(&app, r.researcher_id).await, before);
}

#[tokio::test]
async fn bad_availability_is_refused_with_the_field_named_and_nothing_changes() {
    let app = spawn_app().await;
    let r = bookable_researcher(&app, "grace@yale.example").await;
    let before = rules_of(&app, r.researcher_id).await;
    let settings_before = settings_of(&app, r.researcher_id).await;
    let start = day_at_ten(&app, 2);
    let end = start + chrono::Duration::days(3);
    let slots_before = slot_starts(&app, r.researcher_id, start, end, 60).await;
    assert!(!slots_before.is_empty());

    let ok_rule = json!({"weekday": "mon", "start": "09:00", "end": "12:00"});
    let cases: &[(Value, &str, &str)] = &[
        (
            json!({"timezone": "Europe/Atlantis", "rules": [ok_rule]}),
            "timezone",
            "bad timezone",
        ),
        (
            json!({"timezone": "UTC", "rules": [ok_rule, {"weekday": "tue", "start": "12:00", "end": "09:00"}]}),
            "rules[1]",
            "end before start",
        ),
        (
            json!({"timezone": "UTC", "rules": [{"weekday": "wed", "start": "10:00", "end": "10:00"}]}),
            "rules[0]",
            "empty window",
        ),
        (
            json!({"timezone": "UTC", "rules": [{"weekday": "funday", "start": "09:00", "end": "12:00"}]}),
            "rules[0]",
            "weekday funday",
        ),
        (
            json!({"timezone": "UTC", "rules": [{"weekday": "mon", "start": "9:5", "end": "12:00"}]}),
            "rules[0]",
            "minutes with one digit",
        ),
        (
            json!({"timezone": "UTC", "rules": [{"weekday": "mon", "start": "09:00", "end": "24:30"}]}),
            "rules[0]",
            "time past midnight",
        ),
        (
            json!({"timezone": "UTC", "rules": [ok_rule], "exceptions": [{"date": "2026-02-30", "kind": "block"}]}),
            "exceptions[0]",
            "bad date",
        ),
        (
            json!({"timezone": "UTC", "rules": [ok_rule], "exceptions": [{"date": "08.12.2026", "kind": "block"}]}),
            "exceptions[0]",
            "date not ISO",
        ),
        (
            json!({"timezone": "UTC", "rules": [ok_rule], "exceptions": [{"date": "2026-12-08", "kind": "maybe"}]}),
            "exceptions[0]",
            "unknown kind",
        ),
        (
            json!({"timezone": "UTC", "rules": [ok_rule], "exceptions": [
                {"date": "2026-12-08", "kind": "block"},
                {"date": "2026-12-09", "kind": "extra"}]}),
            "exceptions[1]",
            "extra time without times",
        ),
        (
            json!({"timezone": "UTC", "rules": [ok_rule], "exceptions": [{"date": "2026-12-08", "kind": "block", "start": "10:00"}]}),
            "exceptions[0]",
            "start without end",
        ),
        (
            json!({"timezone": "UTC", "rules": [ok_rule], "exceptions": [{"date": "2026-12-08", "kind": "extra", "start": "18:00", "end": "17:00"}]}),
            "exceptions[0]",
            "extra ending before it starts",
        ),
    ];
    for (body, field, what) in cases {
        let resp = put_availability(&app, &r.token, r.researcher_id, body).await;
        assert_rejected(resp, field, what).await;
    }
    assert_eq!(rules_of(&app, r.researcher_id).await, before);
    assert_eq!(settings_of(&app, r.researcher_id).await, settings_before);
    assert_eq!(
        slot_starts(&app, r.researcher_id, start, end, 60).await,
        slots_before
    );
}

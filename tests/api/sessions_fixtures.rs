//! Shared set-up for the session tests: a registered researcher with
//! published availability, a reader, and a free slot to book.

use chrono::{DateTime, Datelike, Duration, Utc};
use serde_json::{json, Value};

use crate::helpers::TestApp;
use colloquy::clock::Clock;
use colloquy::db::repos::researchers;
use colloquy::domain::ResearcherId;

/// A researcher with an account, settings and availability.
pub struct Bookable {
    pub researcher_id: i64,
    pub user_id: i64,
    /// The researcher's API token.
    pub token: String,
}

/// Makes `email` a registered researcher with the given settings and
/// weekly rules (times in `settings.timezone`).
pub async fn bookable_researcher_with(
    app: &TestApp,
    email: &str,
    settings: Value,
    rules: Value,
) -> Bookable {
    let signed = app.signed_in(email).await;
    let token = signed["access_token"].as_str().unwrap().to_string();
    let me: Value = app
        .get("/api/v1/users/me", Some(&token))
        .await
        .json()
        .await
        .unwrap();
    let user_id = me["id"].as_i64().unwrap();
    let now = app.clock.now();
    let id = app
        .state
        .db
        .write(move |tx| {
            let id = researchers::insert(tx, "Grace Hopper", Some("Yale"), None, now)?;
            researchers::claim(tx, id, user_id, now)?;
            Ok(id)
        })
        .await
        .unwrap();
    let r = app
        .send_json(
            reqwest::Method::PUT,
            &format!("/api/v1/consulting/researchers/{}/settings", id.0),
            Some(&token),
            &settings,
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let tz = settings["timezone"].clone();
    let r = app
        .send_json(
            reqwest::Method::PUT,
            &format!("/api/v1/consulting/researchers/{}/availability", id.0),
            Some(&token),
            &json!({"timezone": tz, "rules": rules, "exceptions": []}),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    Bookable {
        researcher_id: id.0,
        user_id,
        token,
    }
}

/// Settings with no notice, no buffer and a generous cap, in UTC.
pub fn open_settings() -> Value {
    json!({
        "timezone": "UTC", "durations": [30, 60], "price_minor": 0, "currency": "EUR",
        "min_notice_hours": 0, "buffer_minutes": 0, "max_per_day": 20, "horizon_days": 60,
        "request_ttl_hours": 48, "cancel_window_hours": 24
    })
}

/// Every day 09:00–17:00.
pub fn every_day() -> Value {
    let days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    Value::Array(
        days.iter()
            .map(|d| json!({"weekday": d, "start": "09:00", "end": "17:00"}))
            .collect(),
    )
}

/// A researcher open every day 09:00–17:00 UTC.
pub async fn bookable_researcher(app: &TestApp, email: &str) -> Bookable {
    bookable_researcher_with(app, email, open_settings(), every_day()).await
}

/// 10:00 UTC `days` days after the test clock's today.
pub fn day_at_ten(app: &TestApp, days: i64) -> DateTime<Utc> {
    let d = (app.clock.now() + Duration::days(days)).date_naive();
    let d = chrono::NaiveDate::from_ymd_opt(d.year(), d.month(), d.day()).unwrap();
    d.and_hms_opt(10, 0, 0).unwrap().and_utc()
}

/// Books a session; returns the response.
pub async fn book(
    app: &TestApp,
    token: &str,
    researcher: i64,
    start: DateTime<Utc>,
    duration: i64,
) -> reqwest::Response {
    app.post_json(
        "/api/v1/consulting/sessions",
        Some(token),
        &json!({
            "researcher_id": researcher,
            "start": start.to_rfc3339(),
            "duration_minutes": duration,
            "topic": "Your 1952 compiler paper"
        }),
    )
    .await
}

/// Books a session and returns its id.
pub async fn booked(app: &TestApp, token: &str, researcher: i64, start: DateTime<Utc>) -> i64 {
    let r = book(app, token, researcher, start, 60).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

/// Posts a lifecycle action (`accept`, `cancel`, …) with a JSON body.
pub async fn act(
    app: &TestApp,
    token: &str,
    id: i64,
    action: &str,
    body: Value,
) -> reqwest::Response {
    app.post_json(
        &format!("/api/v1/consulting/sessions/{id}/{action}"),
        Some(token),
        &body,
    )
    .await
}

#[allow(dead_code)]
pub fn rid(b: &Bookable) -> ResearcherId {
    ResearcherId(b.researcher_id)
}

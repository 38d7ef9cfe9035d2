//! Shared set-up for the session tests: a registered researcher with
//! published availability, a reader, and a free slot to book.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, SecondsFormat, TimeZone, Utc};
use serde_json::{json, Value};

use crate::helpers::{spawn_app_with, TestApp};
use colloquy::clock::Clock;
use colloquy::db::repos::mail_outbox::{self, MailRow};
use colloquy::db::repos::researchers;
use colloquy::domain::{ResearcherId, UserId};

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
    let b = registered_researcher(app, email).await;
    let r = put_settings(app, &b.token, b.researcher_id, &settings).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let tz = settings["timezone"].clone();
    let r = put_availability(
        app,
        &b.token,
        b.researcher_id,
        &json!({"timezone": tz, "rules": rules, "exceptions": []}),
    )
    .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    b
}

/// Makes `email` a registered researcher who has saved nothing yet.
pub async fn registered_researcher(app: &TestApp, email: &str) -> Bookable {
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
            researchers::claim(tx, id, UserId(user_id), now)?;
            Ok(id)
        })
        .await
        .unwrap();
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

/// A bookable researcher who is the first author of a sample paper the
/// admin (`admin`'s token) added; returns the paper's id with them.
pub async fn bookable_first_author(app: &TestApp, admin: &str, email: &str) -> (i64, Bookable) {
    let paper = app.sample_paper(admin).await;
    let b = bookable_researcher(app, email).await;
    let rid = colloquy::domain::ResearcherId(b.researcher_id);
    app.state
        .db
        .write(move |tx| {
            colloquy::db::repos::researchers::link_paper(
                tx,
                colloquy::domain::PaperId(paper),
                0,
                rid,
            )
        })
        .await
        .unwrap();
    (paper, b)
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

/// An app whose log-ins outlast the days these tests move the clock by.
pub async fn spawn_patient_app() -> TestApp {
    spawn_app_with(|c| {
        c.auth.access_token_ttl_secs = 400 * 86_400;
        c.auth.refresh_token_ttl_secs = 400 * 86_400;
    })
    .await
}

/// Monday 7 December 2026, 08:00 UTC: a fixed "now" so tests can name dates.
pub fn monday_morning() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 7, 8, 0, 0).unwrap()
}

/// An RFC 3339 time, e.g. `at("2026-12-08T10:00:00Z")`.
pub fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// `PUT /api/v1/consulting/researchers/{id}/settings`.
pub async fn put_settings(
    app: &TestApp,
    token: &str,
    researcher: i64,
    body: &Value,
) -> reqwest::Response {
    app.send_json(
        reqwest::Method::PUT,
        &format!("/api/v1/consulting/researchers/{researcher}/settings"),
        Some(token),
        body,
    )
    .await
}

/// `PUT /api/v1/consulting/researchers/{id}/availability`.
pub async fn put_availability(
    app: &TestApp,
    token: &str,
    researcher: i64,
    body: &Value,
) -> reqwest::Response {
    app.send_json(
        reqwest::Method::PUT,
        &format!("/api/v1/consulting/researchers/{researcher}/availability"),
        Some(token),
        body,
    )
    .await
}

/// `GET /api/v1/consulting/researchers/{id}/availability` (the free slots).
pub async fn slots(
    app: &TestApp,
    researcher: i64,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    duration: i64,
) -> reqwest::Response {
    app.get(
        &format!(
            "/api/v1/consulting/researchers/{researcher}/availability?from={}&to={}&duration={duration}",
            rfc3339(from),
            rfc3339(to)
        ),
        None,
    )
    .await
}

/// The free slots' start times (asserting 200 and `end = start + duration`).
pub async fn slot_starts(
    app: &TestApp,
    researcher: i64,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    duration: i64,
) -> Vec<DateTime<Utc>> {
    let r = slots(app, researcher, from, to, duration).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let body: Value = r.json().await.unwrap();
    body["slots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let start = at(s["start"].as_str().unwrap());
            assert_eq!(
                at(s["end"].as_str().unwrap()) - start,
                Duration::minutes(duration)
            );
            start
        })
        .collect()
}

/// `GET /api/v1/consulting/sessions/{id}`.
pub async fn get_session(app: &TestApp, token: &str, id: i64) -> reqwest::Response {
    app.get(&format!("/api/v1/consulting/sessions/{id}"), Some(token))
        .await
}

/// The session as `token` sees it (asserting 200).
pub async fn session(app: &TestApp, token: &str, id: i64) -> Value {
    let r = get_session(app, token, id).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    r.json().await.unwrap()
}

/// What the session's `actions` offer the caller.
pub fn actions(s: &Value) -> Vec<String> {
    s["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect()
}

/// Posts a lifecycle action and asserts 200; returns the session.
pub async fn acted(app: &TestApp, token: &str, id: i64, action: &str, body: Value) -> Value {
    let r = act(app, token, id, action, body).await;
    assert_eq!(r.status(), 200, "{action}: {}", r.text().await.unwrap());
    r.json().await.unwrap()
}

/// Books and accepts a 60-minute session; returns its id.
pub async fn accepted(app: &TestApp, reader: &str, r: &Bookable, start: DateTime<Utc>) -> i64 {
    let id = booked(app, reader, r.researcher_id, start).await;
    acted(app, &r.token, id, "accept", json!({})).await;
    id
}

/// The status as stored, read straight from the database.
pub fn stored_status(app: &TestApp, id: i64) -> String {
    app.db()
        .query_row(
            "SELECT status FROM consulting_sessions WHERE id = ?1",
            [id],
            |r| r.get(0),
        )
        .unwrap()
}

/// Live (requested or accepted) sessions of a researcher, from the database.
pub fn live_sessions(app: &TestApp, researcher: i64) -> i64 {
    app.db()
        .query_row(
            "SELECT COUNT(*) FROM consulting_sessions
              WHERE researcher_id = ?1 AND status IN ('requested', 'accepted')",
            [researcher],
            |r| r.get(0),
        )
        .unwrap()
}

/// The outbox messages of one template, decrypted, oldest first.
pub fn mails(app: &TestApp, template: &str) -> Vec<MailRow> {
    let mut rows =
        mail_outbox::list(&app.db(), &app.state.keys, None, Some(template), None, 1000).unwrap();
    rows.reverse();
    rows
}

/// The recipients of `mails`, sorted.
pub fn recipients(rows: &[MailRow]) -> Vec<String> {
    let mut to: Vec<String> = rows.iter().map(|m| m.recipient.clone()).collect();
    to.sort();
    to
}

/// A calendar file read with an independent parser: the calendar's METHOD
/// and the one event's properties (name → values).
pub struct Invite {
    pub method: String,
    pub event: BTreeMap<String, Vec<String>>,
}

impl Invite {
    /// The one value of an event property.
    pub fn one(&self, name: &str) -> &str {
        let values = self.event.get(name).unwrap_or_else(|| panic!("no {name}"));
        assert_eq!(values.len(), 1, "{name}: {values:?}");
        &values[0]
    }
}

pub fn parse_invite(ics: &str) -> Invite {
    let mut cals = ical::IcalParser::new(std::io::BufReader::new(ics.as_bytes()));
    let cal = cals.next().expect("a calendar").expect("a valid calendar");
    assert!(cals.next().is_none(), "one calendar per file");
    let method = cal
        .properties
        .iter()
        .find(|p| p.name == "METHOD")
        .and_then(|p| p.value.clone())
        .expect("METHOD");
    assert_eq!(cal.events.len(), 1, "{ics}");
    let mut event: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for p in &cal.events[0].properties {
        event
            .entry(p.name.clone())
            .or_default()
            .push(p.value.clone().unwrap_or_default());
    }
    Invite { method, event }
}

/// The one calendar attachment of a message, parsed.
pub fn invite_of(mail: &MailRow) -> Invite {
    assert_eq!(mail.content.attachments.len(), 1, "{}", mail.template);
    parse_invite(&mail.content.attachments[0].body)
}

/// A UTC time as iCalendar writes it: `20261208T100000Z`.
pub fn ical_utc(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

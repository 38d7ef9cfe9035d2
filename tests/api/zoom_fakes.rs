//! A wiremock Zoom built from the vendored contract fixtures
//! (`tests/fixtures/zoom/`), an app pointed at it, and a booked session to
//! accept. Shared by `zoom.rs` and `zoom_failures.rs`.

use chrono::{DateTime, Utc};
use colloquy::config::{Config, Secret};
use serde_json::{json, Value};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockBuilder, MockServer, ResponseTemplate};

use crate::collection_fakes::fixture;
use crate::helpers::{spawn_app_with, TestApp};
use crate::sessions_fixtures::{act, bookable_researcher, booked, day_at_ten};

pub const ACCOUNT_ID: &str = "zoom-account-42";
pub const CLIENT_ID: &str = "zoom-client-id";
pub const CLIENT_SECRET: &str = "zoom-client-secret";
/// `base64("zoom-client-id:zoom-client-secret")`, computed outside the app
/// (`printf 'zoom-client-id:zoom-client-secret' | base64`).
pub const BASIC: &str = "Basic em9vbS1jbGllbnQtaWQ6em9vbS1jbGllbnQtc2VjcmV0";
pub const TOKEN_PATH: &str = "/oauth/token";
/// `POST {api_base_url}/users/{user_id}/meetings` with the default user `me`.
pub const CREATE_PATH: &str = "/v2/users/me/meetings";
pub const JITSI: &str = "https://meet.jit.si/colloquy-";

pub fn zoom_fixture(name: &str) -> Value {
    fixture(&format!("zoom/{name}"))
}

/// The access token Zoom hands out in `token.json`.
pub fn access_token() -> String {
    zoom_fixture("token.json")["access_token"]
        .as_str()
        .unwrap()
        .to_string()
}

pub fn bearer() -> String {
    format!("Bearer {}", access_token())
}

/// The meeting Zoom creates (`create_meeting.json`).
pub fn meeting() -> Value {
    zoom_fixture("create_meeting.json")
}

pub fn join_url() -> String {
    meeting()["join_url"].as_str().unwrap().to_string()
}

/// `/v2/meetings/{id}` of the fixture meeting.
pub fn meeting_path() -> String {
    format!("/v2/meetings/{}", meeting()["id"].as_i64().unwrap())
}

/// `YYYY-MM-DDTHH:MM:SSZ`, the form Zoom wants.
pub fn zoom_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

pub struct ZoomApp {
    pub app: TestApp,
    pub zoom: MockServer,
}

/// An app with `[zoom]` OAuth credentials pointing at a fresh fake Zoom,
/// then `tweak` applied.
pub async fn spawn_zoom_app(tweak: impl FnOnce(&mut Config)) -> ZoomApp {
    let zoom = MockServer::start().await;
    let uri = zoom.uri();
    let app = spawn_app_with(|c| {
        c.zoom.account_id = ACCOUNT_ID.into();
        c.zoom.client_id = CLIENT_ID.into();
        c.zoom.client_secret = Secret::new(CLIENT_SECRET);
        c.zoom.api_base_url = format!("{uri}/v2");
        c.zoom.oauth_url = format!("{uri}{TOKEN_PATH}");
        c.zoom.timeout_secs = 2;
        tweak(c);
    })
    .await;
    ZoomApp { app, zoom }
}

/// Server-to-server OAuth exactly as Zoom documents it, answering
/// `token.json`.
pub fn token_mock() -> Mock {
    token_mock_answering(zoom_fixture("token.json"))
}

pub fn token_mock_answering(body: Value) -> Mock {
    token_request().respond_with(ResponseTemplate::new(200).set_body_json(body))
}

/// The token request's matchers, to answer differently.
pub fn token_request() -> MockBuilder {
    Mock::given(method("POST"))
        .and(path(TOKEN_PATH))
        .and(query_param("grant_type", "account_credentials"))
        .and(query_param("account_id", ACCOUNT_ID))
        .and(header("Authorization", BASIC))
}

/// `POST /users/me/meetings` with the fixture's bearer token: 201 and
/// `create_meeting.json`.
pub fn create_mock() -> Mock {
    create_request().respond_with(ResponseTemplate::new(201).set_body_json(meeting()))
}

/// The create request's matchers (with the bearer), to answer differently.
pub fn create_request() -> MockBuilder {
    Mock::given(method("POST"))
        .and(path(CREATE_PATH))
        .and(header("Authorization", bearer().as_str()))
}

/// Any create, answering `status` with the Zoom error fixture `body`
/// (an empty body for `None`).
pub fn failing_create(status: u16, body: Option<&str>) -> Mock {
    let mut answer = ResponseTemplate::new(status);
    if let Some(name) = body {
        answer = answer.set_body_json(zoom_fixture(name));
    }
    Mock::given(method("POST"))
        .and(path(CREATE_PATH))
        .respond_with(answer)
}

/// A requested session waiting for the researcher.
pub struct Requested {
    pub researcher_id: i64,
    /// The researcher's API token.
    pub researcher: String,
    /// The reader's API token.
    pub reader: String,
    pub id: i64,
    pub start: DateTime<Utc>,
}

impl Requested {
    /// Another hour booked by the same reader with the same researcher.
    pub async fn another(&self, app: &TestApp, days: i64) -> Requested {
        let start = day_at_ten(app, days);
        Requested {
            researcher_id: self.researcher_id,
            researcher: self.researcher.clone(),
            reader: self.reader.clone(),
            id: booked(app, &self.reader, self.researcher_id, start).await,
            start,
        }
    }
}

/// A researcher, a reader and one booked hour `days` days ahead at 10:00.
pub async fn requested(app: &TestApp, days: i64) -> Requested {
    let researcher = bookable_researcher(app, "grace@yale.example").await;
    let reader = app.token("reader@uni.example").await;
    let start = day_at_ten(app, days);
    Requested {
        researcher_id: researcher.researcher_id,
        id: booked(app, &reader, researcher.researcher_id, start).await,
        researcher: researcher.token,
        reader,
        start,
    }
}

/// The researcher accepts; returns the raw answer.
pub async fn accept(app: &TestApp, s: &Requested) -> reqwest::Response {
    act(app, &s.researcher, s.id, "accept", json!({})).await
}

/// The researcher accepts; asserts 200 and returns the session.
pub async fn accept_ok(app: &TestApp, s: &Requested) -> Value {
    let r = accept(app, s).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    r.json().await.unwrap()
}

/// `GET /api/v1/consulting/sessions/{id}` as `token` (asserting 200).
pub async fn session(app: &TestApp, token: &str, id: i64) -> Value {
    let r = app
        .get(&format!("/api/v1/consulting/sessions/{id}"), Some(token))
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    r.json().await.unwrap()
}

/// The bodies Zoom received for `method path`, as JSON.
pub async fn bodies(zoom: &MockServer, verb: &str, at: &str) -> Vec<Value> {
    zoom.received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.method.as_str() == verb && r.url.path() == at)
        .map(|r| serde_json::from_slice(&r.body).unwrap_or(Value::Null))
        .collect()
}

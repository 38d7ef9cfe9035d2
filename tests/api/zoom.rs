//! Zoom meetings for accepted sessions, against a wiremock Zoom serving
//! the vendored contract fixtures: server-to-server OAuth, token caching,
//! create on accept, update on reschedule, delete on cancel. Failures and
//! the other modes are in `zoom_failures.rs`.

use serde_json::{json, Value};
use wiremock::matchers::{body_partial_json, header, method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::sessions_fixtures::{act, day_at_ten};
use crate::zoom_fakes::*;

#[tokio::test]
async fn accept_gets_a_token_by_account_credentials_and_creates_with_the_bearer() {
    let z = spawn_zoom_app(|_| {}).await;
    // Every matcher must hold: POST, path, both query parameters and the
    // exact Basic header; the create carries the bearer from token.json.
    token_mock().expect(1).named("token").mount(&z.zoom).await;
    create_mock().expect(1).named("create").mount(&z.zoom).await;
    let s = requested(&z.app, 3).await;

    let accepted = accept_ok(&z.app, &s).await;

    assert_eq!(accepted["status"], "accepted");
    assert_eq!(accepted["meeting_provider"], "zoom", "{accepted}");
    let requests = z.zoom.received_requests().await.unwrap();
    assert_eq!(requests.len(), 2, "one token request, one create");
    let token_request = &requests[0];
    assert_eq!(token_request.url.path(), TOKEN_PATH);
    assert!(
        token_request.headers.get("authorization").unwrap() == BASIC,
        "the token request uses Basic auth, not a bearer"
    );
    assert_eq!(
        requests[1].headers.get("authorization").unwrap(),
        bearer().as_str()
    );
    z.zoom.verify().await;
}

#[tokio::test]
async fn the_token_is_fetched_once_for_two_accepts() {
    let z = spawn_zoom_app(|_| {}).await;
    token_mock().expect(1).mount(&z.zoom).await;
    create_mock().expect(2).mount(&z.zoom).await;
    let first = requested(&z.app, 3).await;
    let second = first.another(&z.app, 5).await;

    assert_eq!(accept_ok(&z.app, &first).await["meeting_provider"], "zoom");
    assert_eq!(accept_ok(&z.app, &second).await["meeting_provider"], "zoom");

    z.zoom.verify().await;
}

#[tokio::test]
async fn concurrent_accepts_share_one_token_request() {
    let z = spawn_zoom_app(|_| {}).await;
    let slow = ResponseTemplate::new(200)
        .set_body_json(zoom_fixture("token.json"))
        .set_delay(std::time::Duration::from_millis(300));
    token_request()
        .respond_with(slow)
        .expect(1)
        .mount(&z.zoom)
        .await;
    create_mock().expect(2).mount(&z.zoom).await;
    let first = requested(&z.app, 3).await;
    let second = first.another(&z.app, 5).await;

    let (a, b) = tokio::join!(accept_ok(&z.app, &first), accept_ok(&z.app, &second));

    assert_eq!(a["meeting_provider"], "zoom");
    assert_eq!(b["meeting_provider"], "zoom");
    z.zoom.verify().await;
}

#[tokio::test]
async fn the_meeting_of_an_accept_that_lost_a_race_is_deleted() {
    let z = spawn_zoom_app(|_| {}).await;
    token_mock().mount(&z.zoom).await;
    let slow = ResponseTemplate::new(201)
        .set_body_json(meeting())
        .set_delay(std::time::Duration::from_millis(300));
    create_request()
        .respond_with(slow)
        .expect(2)
        .mount(&z.zoom)
        .await;
    Mock::given(method("DELETE"))
        .and(path(meeting_path()))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .named("discard")
        .mount(&z.zoom)
        .await;
    let s = requested(&z.app, 3).await;

    let (a, b) = tokio::join!(accept(&z.app, &s), accept(&z.app, &s));

    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409]);
    let seen = session(&z.app, &s.reader, s.id).await;
    assert_eq!(seen["status"], "accepted");
    assert_eq!(seen["meeting_url"], join_url());
    z.zoom.verify().await;
}

#[tokio::test]
async fn a_token_is_fetched_again_a_minute_before_it_expires() {
    let z = spawn_zoom_app(|_| {}).await;
    // 61 s of life: renewed 60 s early, so it is good for one second only.
    let mut short = zoom_fixture("token.json");
    short["expires_in"] = json!(61);
    token_mock_answering(short).expect(2).mount(&z.zoom).await;
    create_mock().expect(2).mount(&z.zoom).await;
    let first = requested(&z.app, 3).await;
    let second = first.another(&z.app, 5).await;

    accept_ok(&z.app, &first).await;
    tokio::time::sleep(std::time::Duration::from_millis(1300)).await;
    accept_ok(&z.app, &second).await;

    z.zoom.verify().await;
}

#[tokio::test]
async fn accept_creates_a_scheduled_meeting_at_the_session_time() {
    let z = spawn_zoom_app(|_| {}).await;
    token_mock().mount(&z.zoom).await;
    let s = requested(&z.app, 3).await;
    Mock::given(method("POST"))
        .and(path(CREATE_PATH))
        .and(header("Authorization", bearer().as_str()))
        .and(body_partial_json(json!({
            "type": 2,
            "start_time": zoom_time(s.start),
            "duration": 60,
            "timezone": "UTC",
            "settings": {"join_before_host": false, "waiting_room": true}
        })))
        .respond_with(ResponseTemplate::new(201).set_body_json(meeting()))
        .expect(1)
        .mount(&z.zoom)
        .await;

    let accepted = accept_ok(&z.app, &s).await;

    assert_eq!(accepted["meeting_provider"], "zoom");
    assert_eq!(accepted["meeting_url"], join_url());
    assert_eq!(accepted["meeting_password"], meeting()["password"]);
    // The reader sees the same link and password.
    let seen = session(&z.app, &s.reader, s.id).await;
    assert_eq!(seen["meeting_url"], join_url());
    assert_eq!(seen["meeting_password"], "123456");
    // Every field sent is one Zoom's create request knows.
    let sent = bodies(&z.zoom, "POST", CREATE_PATH).await;
    assert_eq!(sent.len(), 1);
    let contract = zoom_fixture("create_meeting_request.json");
    assert_known_fields(&sent[0], &contract, "");
    assert!(sent[0]["start_time"].as_str().unwrap().ends_with('Z'));
    z.zoom.verify().await;
}

/// Every key of `sent` (recursively) is a key of `contract`.
fn assert_known_fields(sent: &Value, contract: &Value, at: &str) {
    for (k, v) in sent.as_object().unwrap() {
        let known = &contract[k];
        assert!(!known.is_null(), "`{at}{k}` is not in the Zoom request");
        if v.is_object() {
            assert_known_fields(v, known, &format!("{at}{k}."));
        }
    }
}

#[tokio::test]
async fn the_join_url_and_password_are_encrypted_at_rest() {
    let z = spawn_zoom_app(|_| {}).await;
    token_mock().mount(&z.zoom).await;
    let mut m = meeting();
    m["password"] = json!("Pw-Quasar-77");
    Mock::given(method("POST"))
        .and(path(CREATE_PATH))
        .respond_with(ResponseTemplate::new(201).set_body_json(&m))
        .expect(1)
        .mount(&z.zoom)
        .await;
    let s = requested(&z.app, 3).await;

    let accepted = accept_ok(&z.app, &s).await;
    assert_eq!(accepted["meeting_url"], join_url());
    assert_eq!(accepted["meeting_password"], "Pw-Quasar-77");

    // Force the WAL into the main file too, then read both.
    colloquy::db::Db::open(&z.app.state.config.storage, &z.app.db_path()).unwrap();
    let raw = raw_database(&z.app);
    assert!(raw.len() > 10_000);
    let url = join_url();
    assert!(!contains(&raw, &url), "join URL found in the database file");
    assert!(!contains(&raw, url.split_once('?').unwrap().1), "pwd found");
    assert!(!contains(&raw, "Pw-Quasar-77"), "password found");
    z.zoom.verify().await;
}

/// Every byte of the database, WAL included.
fn raw_database(app: &crate::helpers::TestApp) -> Vec<u8> {
    let mut bytes = Vec::new();
    for suffix in ["", "-wal"] {
        if let Ok(b) = std::fs::read(format!("{}{suffix}", app.db_path().display())) {
            bytes.extend(b);
        }
    }
    bytes
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn an_accepted_reschedule_moves_the_zoom_meeting_instead_of_making_another() {
    let z = spawn_zoom_app(|_| {}).await;
    token_mock().expect(1).mount(&z.zoom).await;
    create_mock().expect(1).mount(&z.zoom).await;
    let s = requested(&z.app, 3).await;
    let new_start = day_at_ten(&z.app, 4);
    Mock::given(method("PATCH"))
        .and(path(meeting_path()))
        .and(header("Authorization", bearer().as_str()))
        .and(body_partial_json(json!({
            "type": 2,
            "start_time": zoom_time(new_start),
            "duration": 60,
            "timezone": "UTC"
        })))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .named("update")
        .mount(&z.zoom)
        .await;
    accept_ok(&z.app, &s).await;

    let r = act(
        &z.app,
        &s.reader,
        s.id,
        "reschedule",
        json!({"start": new_start.to_rfc3339()}),
    )
    .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    assert!(
        bodies(&z.zoom, "PATCH", &meeting_path()).await.is_empty(),
        "a proposal alone does not move the meeting"
    );
    let r = act(&z.app, &s.researcher, s.id, "reschedule/accept", json!({})).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let moved: Value = r.json().await.unwrap();

    let start = chrono::DateTime::parse_from_rfc3339(moved["start"].as_str().unwrap()).unwrap();
    assert_eq!(start, new_start);
    assert_eq!(moved["meeting_provider"], "zoom");
    assert_eq!(moved["meeting_url"], join_url());
    assert_eq!(moved["meeting_password"], "123456");
    z.zoom.verify().await;
}

#[tokio::test]
async fn cancelling_an_accepted_session_deletes_its_meeting_once() {
    let z = spawn_zoom_app(|_| {}).await;
    token_mock().expect(1).mount(&z.zoom).await;
    create_mock().expect(1).mount(&z.zoom).await;
    Mock::given(method("DELETE"))
        .and(path(meeting_path()))
        .and(header("Authorization", bearer().as_str()))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .named("delete")
        .mount(&z.zoom)
        .await;
    let s = requested(&z.app, 3).await;
    accept_ok(&z.app, &s).await;

    let r = act(
        &z.app,
        &s.researcher,
        s.id,
        "cancel",
        json!({"reason": "I have to travel that week."}),
    )
    .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let cancelled: Value = r.json().await.unwrap();
    assert_eq!(cancelled["status"], "cancelled");
    assert!(cancelled["meeting_url"].is_null(), "{cancelled}");
    z.zoom.verify().await;
}

#[tokio::test]
async fn a_meeting_zoom_no_longer_knows_counts_as_deleted() {
    let z = spawn_zoom_app(|_| {}).await;
    token_mock().mount(&z.zoom).await;
    create_mock().mount(&z.zoom).await;
    Mock::given(method("DELETE"))
        .and(path(meeting_path()))
        .respond_with(
            ResponseTemplate::new(404)
                .set_body_json(zoom_fixture("error_404_meeting_not_found.json")),
        )
        .expect(1) // 404 is final: not retried
        .mount(&z.zoom)
        .await;
    let s = requested(&z.app, 3).await;
    accept_ok(&z.app, &s).await;

    let r = act(&z.app, &s.reader, s.id, "cancel", json!({"reason": "Ill."})).await;

    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    assert_eq!(
        session(&z.app, &s.reader, s.id).await["status"],
        "cancelled"
    );
    z.zoom.verify().await;
}

#[tokio::test]
async fn cancelling_a_request_that_was_never_accepted_calls_no_zoom() {
    let z = spawn_zoom_app(|_| {}).await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&z.zoom)
        .await;
    let s = requested(&z.app, 3).await;

    let r = act(
        &z.app,
        &s.reader,
        s.id,
        "cancel",
        json!({"reason": "Sorted."}),
    )
    .await;

    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    z.zoom.verify().await;
}

//! When Zoom refuses or fails: a refused token is replaced once, transient
//! errors are retried and then either fall back to the link template or
//! refuse the accept with 502; the template-only and static-token modes.

use colloquy::config::{Secret, VideoProvider};
use serde_json::{json, Value};
use wiremock::matchers::{any, header, method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::error_code;
use crate::sessions_fixtures::{act, day_at_ten};
use crate::zoom_fakes::*;

const STALE: &str = "stale-access-token";

#[tokio::test]
async fn a_refused_token_is_replaced_once_and_the_create_retried() {
    let z = spawn_zoom_app(|c| c.video.fallback_to_template = false).await;
    // The first token handed out is the one Zoom will refuse.
    let mut stale = zoom_fixture("token.json");
    stale["access_token"] = json!(STALE);
    token_mock_answering(stale)
        .with_priority(1)
        .up_to_n_times(1)
        .expect(1)
        .named("first token")
        .mount(&z.zoom)
        .await;
    token_mock()
        .with_priority(2)
        .expect(1)
        .named("new token")
        .mount(&z.zoom)
        .await;
    Mock::given(method("POST"))
        .and(path(CREATE_PATH))
        .and(header("Authorization", format!("Bearer {STALE}").as_str()))
        .respond_with(
            ResponseTemplate::new(401).set_body_json(zoom_fixture("error_401_invalid_token.json")),
        )
        .with_priority(1)
        .up_to_n_times(1)
        .expect(1)
        .named("create refused")
        .mount(&z.zoom)
        .await;
    create_mock()
        .with_priority(2)
        .expect(1)
        .named("create retried with the new token")
        .mount(&z.zoom)
        .await;
    let s = requested(&z.app, 3).await;

    let accepted = accept_ok(&z.app, &s).await;

    assert_eq!(accepted["meeting_provider"], "zoom");
    assert_eq!(accepted["meeting_url"], join_url());
    z.zoom.verify().await;
}

#[tokio::test]
async fn a_token_refused_twice_is_not_fetched_a_third_time() {
    let z = spawn_zoom_app(|c| c.video.fallback_to_template = false).await;
    token_mock().expect(2).mount(&z.zoom).await;
    failing_create(401, Some("error_401_invalid_token.json"))
        .expect(2)
        .mount(&z.zoom)
        .await;
    let s = requested(&z.app, 3).await;

    let r = accept(&z.app, &s).await;

    assert_eq!(r.status(), 502);
    assert_eq!(error_code(r).await, "video_unavailable");
    z.zoom.verify().await;
}

/// Zoom answers every create with `status`; one retry (`max_retries = 1`).
async fn zoom_keeps_failing(
    status: u16,
    body: Option<&str>,
    fallback: bool,
) -> (ZoomApp, Requested) {
    let z = spawn_zoom_app(|c| {
        c.zoom.max_retries = 1;
        c.video.fallback_to_template = fallback;
    })
    .await;
    token_mock().expect(1).mount(&z.zoom).await;
    failing_create(status, body).expect(2).mount(&z.zoom).await;
    let s = requested(&z.app, 3).await;
    (z, s)
}

async fn falls_back_to_the_template(status: u16, body: Option<&str>) {
    let (z, s) = zoom_keeps_failing(status, body, true).await;

    let accepted = accept_ok(&z.app, &s).await;

    assert_eq!(accepted["status"], "accepted");
    assert_eq!(accepted["meeting_provider"], "template");
    let url = accepted["meeting_url"].as_str().unwrap();
    assert!(url.starts_with(JITSI), "{url}");
    assert!(accepted["meeting_password"].is_null());
    z.zoom.verify().await;
}

async fn refuses_the_accept(status: u16, body: Option<&str>) -> (ZoomApp, Requested) {
    let (z, s) = zoom_keeps_failing(status, body, false).await;

    let r = accept(&z.app, &s).await;

    assert_eq!(r.status(), 502);
    assert_eq!(error_code(r).await, "video_unavailable");
    let still = session(&z.app, &s.researcher, s.id).await;
    assert_eq!(still["status"], "requested");
    assert!(still["meeting_url"].is_null() && still["meeting_provider"].is_null());
    assert!(still["actions"]
        .as_array()
        .unwrap()
        .contains(&json!("accept")));
    z.zoom.verify().await;
    (z, s)
}

#[tokio::test]
async fn a_persisting_429_falls_back_to_the_template_link() {
    falls_back_to_the_template(429, Some("error_429_per_second.json")).await;
}

#[tokio::test]
async fn a_persisting_503_falls_back_to_the_template_link() {
    falls_back_to_the_template(503, None).await;
}

#[tokio::test]
async fn a_persisting_429_without_fallback_refuses_the_accept() {
    refuses_the_accept(429, Some("error_429_per_second.json")).await;
}

#[tokio::test]
async fn a_persisting_503_without_fallback_refuses_and_a_later_accept_works() {
    let (z, s) = refuses_the_accept(503, None).await;
    // Zoom recovers: the same request can be accepted now.
    z.zoom.reset().await;
    token_mock().expect(0).mount(&z.zoom).await; // the token is still cached
    create_mock().expect(1).mount(&z.zoom).await;

    let accepted = accept_ok(&z.app, &s).await;

    assert_eq!(accepted["meeting_provider"], "zoom");
    assert_eq!(accepted["meeting_url"], join_url());
    z.zoom.verify().await;
}

#[tokio::test]
async fn bad_oauth_credentials_refuse_the_accept_without_calling_the_api() {
    let z = spawn_zoom_app(|c| c.video.fallback_to_template = false).await;
    Mock::given(method("POST"))
        .and(path(TOKEN_PATH))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_json(zoom_fixture("token_error_invalid_client.json")),
        )
        .expect(1)
        .mount(&z.zoom)
        .await;
    create_mock().expect(0).mount(&z.zoom).await;
    let s = requested(&z.app, 3).await;

    let r = accept(&z.app, &s).await;

    assert_eq!(r.status(), 502);
    assert_eq!(error_code(r).await, "video_unavailable");
    z.zoom.verify().await;
}

#[tokio::test]
async fn a_failed_move_without_fallback_keeps_the_session_and_its_meeting() {
    let z = spawn_zoom_app(|c| {
        c.zoom.max_retries = 1;
        c.video.fallback_to_template = false;
    })
    .await;
    token_mock().mount(&z.zoom).await;
    create_mock().expect(1).mount(&z.zoom).await;
    Mock::given(method("PATCH"))
        .and(path(meeting_path()))
        .respond_with(ResponseTemplate::new(503))
        .expect(2)
        .mount(&z.zoom)
        .await;
    let s = requested(&z.app, 3).await;
    accept_ok(&z.app, &s).await;
    let new_start = day_at_ten(&z.app, 4);
    let body = json!({"start": new_start.to_rfc3339()});
    let r = act(&z.app, &s.reader, s.id, "reschedule", body).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());

    let r = act(&z.app, &s.researcher, s.id, "reschedule/accept", json!({})).await;

    assert_eq!(r.status(), 502);
    assert_eq!(error_code(r).await, "video_unavailable");
    let kept = session(&z.app, &s.reader, s.id).await;
    let start = chrono::DateTime::parse_from_rfc3339(kept["start"].as_str().unwrap()).unwrap();
    assert_eq!(start, s.start);
    assert!(
        !kept["proposed_start"].is_null(),
        "the proposal still stands"
    );
    assert_eq!(kept["meeting_provider"], "zoom");
    assert_eq!(kept["meeting_url"], join_url());
    z.zoom.verify().await;
}

#[tokio::test]
async fn a_failed_move_with_fallback_switches_to_a_template_link() {
    let z = spawn_zoom_app(|c| c.zoom.max_retries = 1).await;
    token_mock().mount(&z.zoom).await;
    create_mock().expect(1).mount(&z.zoom).await;
    Mock::given(method("PATCH"))
        .and(path(meeting_path()))
        .respond_with(
            ResponseTemplate::new(429).set_body_json(zoom_fixture("error_429_per_second.json")),
        )
        .expect(2)
        .mount(&z.zoom)
        .await;
    // The Zoom meeting left at the old time is deleted once the move is stored.
    Mock::given(method("DELETE"))
        .and(path(meeting_path()))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&z.zoom)
        .await;
    let s = requested(&z.app, 3).await;
    accept_ok(&z.app, &s).await;
    let new_start = day_at_ten(&z.app, 4);
    let body = json!({"start": new_start.to_rfc3339()});
    let r = act(&z.app, &s.reader, s.id, "reschedule", body).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());

    let r = act(&z.app, &s.researcher, s.id, "reschedule/accept", json!({})).await;

    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let moved = session(&z.app, &s.reader, s.id).await;
    let start = chrono::DateTime::parse_from_rfc3339(moved["start"].as_str().unwrap()).unwrap();
    assert_eq!(start, new_start);
    assert_eq!(moved["meeting_provider"], "template");
    assert!(moved["meeting_url"].as_str().unwrap().starts_with(JITSI));
    assert!(
        moved["meeting_password"].is_null(),
        "the Zoom password is gone"
    );
    z.zoom.verify().await;
}

#[tokio::test]
async fn the_template_provider_never_calls_zoom_even_with_credentials() {
    let z = spawn_zoom_app(|c| c.video.provider = VideoProvider::Template).await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .named("any Zoom call")
        .mount(&z.zoom)
        .await;
    let s = requested(&z.app, 3).await;

    let accepted = accept_ok(&z.app, &s).await;
    assert_eq!(accepted["meeting_provider"], "template");
    let url = accepted["meeting_url"].as_str().unwrap().to_string();
    assert!(url.starts_with(JITSI), "{url}");
    // Moving and cancelling do not call Zoom either.
    let body = json!({"start": day_at_ten(&z.app, 4).to_rfc3339()});
    let r = act(&z.app, &s.reader, s.id, "reschedule", body).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let r = act(&z.app, &s.researcher, s.id, "reschedule/accept", json!({})).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let moved: Value = r.json().await.unwrap();
    assert_eq!(moved["meeting_url"], url.as_str(), "the link is kept");
    let body = json!({"reason": "Double-booked."});
    let r = act(&z.app, &s.researcher, s.id, "cancel", body).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    z.zoom.verify().await;
}

const API_KEY: &str = "static-zoom-api-key";

/// An app with only `[zoom] api_key` (no OAuth app).
async fn static_key_app(tweak: impl FnOnce(&mut colloquy::config::Config)) -> ZoomApp {
    spawn_zoom_app(|c| {
        c.zoom.account_id = String::new();
        c.zoom.client_id = String::new();
        c.zoom.client_secret = Secret::default();
        c.zoom.api_key = Secret::new(API_KEY);
        tweak(c);
    })
    .await
}

#[tokio::test]
async fn a_static_api_key_is_the_bearer_and_no_token_is_requested() {
    let z = static_key_app(|_| {}).await;
    Mock::given(path(TOKEN_PATH))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .named("token")
        .mount(&z.zoom)
        .await;
    Mock::given(method("POST"))
        .and(path(CREATE_PATH))
        .and(header(
            "Authorization",
            format!("Bearer {API_KEY}").as_str(),
        ))
        .respond_with(ResponseTemplate::new(201).set_body_json(meeting()))
        .expect(1)
        .mount(&z.zoom)
        .await;
    let s = requested(&z.app, 3).await;

    let accepted = accept_ok(&z.app, &s).await;

    assert_eq!(accepted["meeting_provider"], "zoom");
    assert_eq!(accepted["meeting_url"], join_url());
    z.zoom.verify().await;
}

#[tokio::test]
async fn a_refused_static_api_key_is_not_refreshed() {
    let z = static_key_app(|c| c.video.fallback_to_template = false).await;
    Mock::given(path(TOKEN_PATH))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&z.zoom)
        .await;
    failing_create(401, Some("error_401_invalid_token.json"))
        .expect(1)
        .mount(&z.zoom)
        .await;
    let s = requested(&z.app, 3).await;

    let r = accept(&z.app, &s).await;

    assert_eq!(r.status(), 502);
    assert_eq!(error_code(r).await, "video_unavailable");
    z.zoom.verify().await;
}

#[tokio::test]
async fn a_meeting_zoom_lost_is_made_again_when_the_session_moves() {
    let z = spawn_zoom_app(|_| {}).await;
    token_mock().mount(&z.zoom).await;
    create_mock().expect(2).mount(&z.zoom).await;
    Mock::given(method("PATCH"))
        .and(path(meeting_path()))
        .respond_with(
            ResponseTemplate::new(404)
                .set_body_json(zoom_fixture("error_404_meeting_not_found.json")),
        )
        .expect(1)
        .mount(&z.zoom)
        .await;
    let s = requested(&z.app, 3).await;
    accept_ok(&z.app, &s).await;
    let new_start = day_at_ten(&z.app, 4);
    let r = act(
        &z.app,
        &s.reader,
        s.id,
        "reschedule",
        json!({"start": new_start.to_rfc3339()}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let r = act(&z.app, &s.researcher, s.id, "reschedule/accept", json!({})).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let moved = session(&z.app, &s.reader, s.id).await;
    assert_eq!(moved["meeting_provider"], "zoom");
    assert_eq!(moved["meeting_url"], join_url());
    let creates = bodies(&z.zoom, "POST", CREATE_PATH).await;
    assert_eq!(creates.last().unwrap()["start_time"], zoom_time(new_start));
    z.zoom.verify().await;
}

//! The admins' session list: `GET /api/v1/admin/sessions` with its
//! filters and cursor, who may call it, and the `/admin/sessions` page.

use serde_json::{json, Value};

use crate::helpers::TestApp;
use crate::pages::logged_in_browser;
use crate::sessions_fixtures::*;

/// Three sessions: Grace's requested one on Tuesday and accepted one on
/// Wednesday, Alan's requested one on Thursday (all 10:00 UTC).
struct World {
    app: TestApp,
    admin: String,
    reader: String,
    reader_id: i64,
    grace: Bookable,
    alan: Bookable,
    /// Tuesday (Grace, requested), Wednesday (Grace, accepted), Thursday (Alan, requested).
    tue: i64,
    wed: i64,
    thu: i64,
}

async fn world() -> World {
    let app = spawn_patient_app().await;
    app.clock.set(monday_morning());
    let admin = app.admin_token("admin@uni.edu").await;
    let grace = bookable_researcher(&app, "grace@yale.example").await;
    let alan = bookable_researcher(&app, "alan@cam.example").await;
    app.db()
        .execute(
            "UPDATE researchers SET name = 'Alan Turing' WHERE id = ?1",
            [alan.researcher_id],
        )
        .unwrap();
    let reader = app.token("reader@uni.example").await;
    let me: Value = app
        .get("/api/v1/users/me", Some(&reader))
        .await
        .json()
        .await
        .unwrap();
    let reader_id = me["id"].as_i64().unwrap();
    let tue = booked(
        &app,
        &reader,
        grace.researcher_id,
        at("2026-12-08T10:00:00Z"),
    )
    .await;
    let wed = accepted(&app, &reader, &grace, at("2026-12-09T10:00:00Z")).await;
    let thu = booked(
        &app,
        &reader,
        alan.researcher_id,
        at("2026-12-10T10:00:00Z"),
    )
    .await;
    World {
        app,
        admin,
        reader,
        reader_id,
        grace,
        alan,
        tue,
        wed,
        thu,
    }
}

async fn list(app: &TestApp, token: Option<&str>, query: &str) -> reqwest::Response {
    app.get(&format!("/api/v1/admin/sessions{query}"), token)
        .await
}

/// The page's ids, asserting 200.
async fn ids(app: &TestApp, token: &str, query: &str) -> (Vec<i64>, Value) {
    let r = list(app, Some(token), query).await;
    assert_eq!(r.status(), 200, "{query}: {}", r.text().await.unwrap());
    let body: Value = r.json().await.unwrap();
    let ids = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_i64().unwrap())
        .collect();
    (ids, body)
}

#[tokio::test]
async fn admins_list_every_session_newest_first_with_names_and_prices() {
    let w = world().await;
    let (got, body) = ids(&w.app, &w.admin, "").await;
    assert_eq!(got, vec![w.thu, w.wed, w.tue]);
    assert!(body["next_cursor"].is_null());
    let wed = &body["items"][1];
    assert_eq!(wed["status"], "accepted");
    assert_eq!(wed["start"], "2026-12-09T10:00:00Z");
    assert_eq!(wed["end"], "2026-12-09T11:00:00Z");
    assert_eq!(wed["researcher_id"], w.grace.researcher_id);
    assert_eq!(wed["researcher_name"], "Grace Hopper");
    assert_eq!(wed["reader_id"], w.reader_id);
    assert_eq!(wed["reader_name"], "Test Reader");
    assert_eq!(wed["price_minor"], 0);
    assert_eq!(wed["currency"], "EUR");
    assert!(wed["created_at"].is_string());
    assert!(
        wed.get("payment_status").is_none(),
        "free sessions have no payment: {wed}"
    );
    assert!(wed.get("meeting_url").is_none() && wed.get("topic").is_none());
}

#[tokio::test]
async fn each_filter_narrows_the_list() {
    let w = world().await;
    let (a, t) = (&w.app, w.admin.as_str());
    assert_eq!(ids(a, t, "?status=accepted").await.0, vec![w.wed]);
    assert_eq!(ids(a, t, "?status=requested").await.0, vec![w.thu, w.tue]);
    assert_eq!(ids(a, t, "?status=no_show").await.0, Vec::<i64>::new());
    // Starting at or after `from`, before `to`.
    assert_eq!(
        ids(a, t, "?from=2026-12-09T10:00:00Z").await.0,
        vec![w.thu, w.wed]
    );
    assert_eq!(
        ids(a, t, "?from=2026-12-08T10:00:01Z&to=2026-12-10T10:00:00Z")
            .await
            .0,
        vec![w.wed]
    );
    assert_eq!(
        ids(a, t, "?to=2026-12-09T11:00:01%2B01:00").await.0,
        vec![w.wed, w.tue],
        "offsets are understood"
    );
    assert_eq!(
        ids(a, t, &format!("?researcher_id={}", w.alan.researcher_id))
            .await
            .0,
        vec![w.thu]
    );
    assert_eq!(
        ids(
            a,
            t,
            &format!("?researcher_id={}&status=requested", w.grace.researcher_id)
        )
        .await
        .0,
        vec![w.tue]
    );
}

#[tokio::test]
async fn the_cursor_walks_the_pages_and_keeps_the_filter() {
    let w = world().await;
    let (a, t) = (&w.app, w.admin.as_str());
    let (first, body) = ids(a, t, "?limit=2").await;
    assert_eq!(first, vec![w.thu, w.wed]);
    let cursor = body["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_string();
    let (second, body) = ids(a, t, &format!("?limit=2&cursor={cursor}")).await;
    assert_eq!(second, vec![w.tue]);
    assert!(body["next_cursor"].is_null());

    let (first, body) = ids(a, t, "?status=requested&limit=1").await;
    assert_eq!(first, vec![w.thu]);
    let cursor = body["next_cursor"].as_str().unwrap().to_string();
    let (second, body) = ids(a, t, &format!("?status=requested&limit=1&cursor={cursor}")).await;
    assert_eq!(second, vec![w.tue]);
    assert!(body["next_cursor"].is_null());

    let r = list(a, Some(t), "?cursor=not-one-of-ours").await;
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn only_admins_may_list_sessions() {
    let w = world().await;
    assert_eq!(list(&w.app, None, "").await.status(), 401);
    assert_eq!(list(&w.app, Some(&w.reader), "").await.status(), 403);
    assert_eq!(list(&w.app, Some(&w.grace.token), "").await.status(), 403);
}

#[tokio::test]
async fn bad_filters_are_rejected_with_the_field_named() {
    let w = world().await;
    for (query, field) in [
        ("?status=lost", "status"),
        ("?from=tuesday", "from"),
        ("?to=2026-12-09", "to"),
        ("?from=2026-12-09T10:00:00Z&to=2026-12-09T10:00:00Z", "to"),
        ("?from=2026-12-09T10:00:00Z&to=2026-12-08T10:00:00Z", "to"),
        ("?limit=0", "limit"),
        ("?limit=101", "limit"),
    ] {
        let r = list(&w.app, Some(&w.admin), query).await;
        assert_eq!(r.status(), 422, "{query}");
        let body: Value = r.json().await.unwrap();
        assert!(
            body["error"]["fields"][field].is_string(),
            "{query}: {body}"
        );
    }
    let r = list(&w.app, Some(&w.admin), "?all=true").await;
    assert_eq!(r.status(), 422, "unknown parameters are refused");
}

async fn page(web: &reqwest::Client, app: &TestApp, path: &str) -> (u16, String) {
    let r = web.get(app.url(path)).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test]
async fn the_page_lists_sessions_with_links_in_the_admins_zone() {
    let w = world().await;
    let r = w
        .app
        .send_json(
            reqwest::Method::PUT,
            "/api/v1/users/me/timezone",
            Some(&w.admin),
            &json!({"timezone": "Asia/Tokyo"}),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let (web, _) = logged_in_browser(&w.app, "admin@uni.edu").await;
    let (status, html) = page(&web, &w.app, "/admin/sessions").await;
    assert_eq!(status, 200);
    assert!(
        html.contains(r#"<a href="/admin/sessions">Sessions</a>"#),
        "in the admin menu"
    );
    assert!(html.contains("Times in Asia/Tokyo"), "{html}");
    assert!(
        html.contains("2026-12-09 19:00 JST"),
        "10:00 UTC in Tokyo: {html}"
    );
    assert!(!html.contains("2026-12-09 10:00"), "no UTC times");
    for id in [w.tue, w.wed, w.thu] {
        assert!(html.contains(&format!(r#"href="/sessions/{id}""#)), "{id}");
    }
    assert!(html.contains(&format!(
        r#"<a href="/admin/researchers/{}">Grace Hopper</a>"#,
        w.grace.researcher_id
    )));
    assert!(html.contains(&format!(
        r#"<a href="/admin/users/{}">Test Reader</a>"#,
        w.reader_id
    )));
    assert!(html.find(&format!("session-{}", w.thu)) < html.find(&format!("session-{}", w.tue)));
    let (status, _) = page(&web, &w.app, &format!("/sessions/{}", w.wed)).await;
    assert_eq!(status, 200, "admins open any session");

    let (_, html) = page(&web, &w.app, "/admin/sessions?status=accepted").await;
    assert!(html.contains(&format!("session-{}", w.wed)));
    assert!(!html.contains(&format!("session-{}", w.tue)));
    assert!(html.contains(r#"<option value="accepted" selected>accepted</option>"#));

    // Days in the admin's zone: 9 December in Tokyo is 8 Dec 15:00 UTC to 9 Dec 15:00 UTC.
    let (_, html) = page(
        &web,
        &w.app,
        "/admin/sessions?from=2026-12-09&to=2026-12-09",
    )
    .await;
    assert!(html.contains(&format!("session-{}", w.wed)), "{html}");
    assert!(!html.contains(&format!("session-{}", w.tue)));
    assert!(!html.contains(&format!("session-{}", w.thu)));

    let (_, html) = page(
        &web,
        &w.app,
        &format!("/admin/sessions?researcher_id={}", w.alan.researcher_id),
    )
    .await;
    assert!(
        html.contains("Only sessions with <strong>Alan Turing</strong>"),
        "{html}"
    );
    assert!(html.contains(&format!("session-{}", w.thu)));
    assert!(!html.contains(&format!("session-{}", w.wed)));
}

#[tokio::test]
async fn older_sessions_are_one_link_away() {
    let app = spawn_patient_app().await;
    app.clock.set(monday_morning());
    app.admin_token("admin@uni.edu").await;
    let grace = bookable_researcher(&app, "grace@yale.example").await;
    let reader = app.token("reader@uni.example").await;
    let mut booked_ids = Vec::new();
    for day in 0..26 {
        for hour in [9, 11] {
            let start = at("2026-12-08T00:00:00Z")
                + chrono::Duration::days(day)
                + chrono::Duration::hours(hour);
            booked_ids.push(booked(&app, &reader, grace.researcher_id, start).await);
        }
    }
    let (web, _) = logged_in_browser(&app, "admin@uni.edu").await;
    let (_, html) = page(&web, &app, "/admin/sessions?status=requested").await;
    let oldest = booked_ids[0];
    assert!(!html.contains(&format!("session-{oldest}\"")));
    let re = regex::Regex::new(r#"<a href="([^"]+)" id="older-sessions">"#).unwrap();
    let next = re.captures(&html).expect("an Older link")[1]
        .replace("&#38;", "&")
        .replace("&amp;", "&");
    assert!(next.contains("status=requested"), "{next}");
    let (status, html) = page(&web, &app, &next).await;
    assert_eq!(status, 200);
    assert!(html.contains(&format!("session-{oldest}\"")), "{html}");
    assert!(!html.contains("older-sessions"));
}

#[tokio::test]
async fn bad_dates_come_back_next_to_their_field_with_the_values_kept() {
    let w = world().await;
    let (web, _) = logged_in_browser(&w.app, "admin@uni.edu").await;
    let (status, html) = page(
        &web,
        &w.app,
        "/admin/sessions?status=accepted&from=9%2F12%2F2026",
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        html.contains("From must be a date such as 2026-12-07."),
        "{html}"
    );
    assert!(html.contains(r#"value="9/12/2026""#));
    assert!(html.contains(r#"<option value="accepted" selected>"#));
    assert!(
        !html.contains("no-sessions"),
        "no empty state for a failed filter"
    );

    let (status, html) = page(
        &web,
        &w.app,
        "/admin/sessions?from=2026-12-10&to=2026-12-08",
    )
    .await;
    assert_eq!(status, 422);
    assert!(html.contains("must be after"), "{html}");
    assert!(html.contains(r#"value="2026-12-10""#) && html.contains(r#"value="2026-12-08""#));
}

#[tokio::test]
async fn the_empty_list_says_why() {
    let app = spawn_patient_app().await;
    app.admin_token("admin@uni.edu").await;
    let (web, _) = logged_in_browser(&app, "admin@uni.edu").await;
    let (status, html) = page(&web, &app, "/admin/sessions").await;
    assert_eq!(status, 200);
    assert!(html.contains("No sessions yet."), "{html}");
    let (_, html) = page(&web, &app, "/admin/sessions?status=expired").await;
    assert!(html.contains("No session matches this filter."), "{html}");
}

#[tokio::test]
async fn the_page_is_for_admins_only() {
    let w = world().await;
    let reader = crate::pages::signed_in_browser(&w.app, "other@uni.example")
        .await
        .0;
    assert_eq!(page(&reader, &w.app, "/admin/sessions").await.0, 403);
    let anonymous = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = anonymous
        .get(w.app.url("/admin/sessions"))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_redirection(), "{}", r.status());
    let to = r.headers()["location"].to_str().unwrap();
    assert!(to.starts_with("/login"), "{to}");
}

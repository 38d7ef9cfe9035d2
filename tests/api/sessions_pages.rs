//! The booking pages without a browser: the researcher page, the booking
//! form, the availability editor, the e-mail answer link and the time zone.

use serde_json::Value;

use crate::helpers::{spawn_app, TestApp};
use crate::pages::{csrf_of, logged_in_browser, signed_in_browser};
use crate::sessions_fixtures::*;
use colloquy::db::repos::mail_outbox;

async fn page(web: &reqwest::Client, app: &TestApp, path: &str) -> (u16, String) {
    let r = web.get(app.url(path)).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// The newest outbox message of a template, decrypted.
async fn newest_mail(app: &TestApp, template: &'static str) -> mail_outbox::MailRow {
    let keys = app.state.keys.clone();
    app.state
        .db
        .read(move |c| mail_outbox::list(c, &keys, None, Some(template), None, 1))
        .await
        .unwrap()
        .pop()
        .expect("a message")
}

#[tokio::test]
async fn the_researcher_page_offers_free_slots_and_the_form_books_one() {
    let app = spawn_app().await;
    let r = bookable_researcher(&app, "grace@yale.example").await;
    let (web, _) = signed_in_browser(&app, "reader@uni.example").await;
    let (status, html) = page(
        &web,
        &app,
        &format!("/researchers/{}?tz=America/New_York", r.researcher_id),
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        !html.contains("Rating"),
        "no reviews yet: no rating is shown, and no made-up one"
    );
    assert!(html.contains("<option selected>America/New_York</option>"));
    let re = regex::Regex::new(r#"name="start" value="([^"]+)""#).unwrap();
    let start = re.captures(&html).expect("a free slot")[1].to_string();

    // Without a slot the form says so and nothing is booked.
    let csrf = csrf_of(&html);
    let resp = web
        .post(app.url(&format!("/researchers/{}/book", r.researcher_id)))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("duration", "30"),
            ("topic", "Loops"),
        ])
        .send()
        .await
        .unwrap();
    assert!(resp
        .text()
        .await
        .unwrap()
        .contains("Pick one of the free times first."));

    let resp = web
        .post(app.url(&format!("/researchers/{}/book", r.researcher_id)))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("start", start.as_str()),
            ("duration", "30"),
            ("topic", "Loops"),
        ])
        .send()
        .await
        .unwrap();
    let landed = resp.url().path().to_string();
    let html = resp.text().await.unwrap();
    assert!(landed.starts_with("/sessions/"), "{landed}");
    assert!(html.contains("Your request is made. E-mail is held on this server"));
    assert!(html.contains(">requested<"));

    // The same slot again is refused with a readable message.
    let resp = web
        .post(app.url(&format!("/researchers/{}/book", r.researcher_id)))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("start", start.as_str()),
            ("duration", "30"),
            ("topic", "Loops"),
        ])
        .send()
        .await
        .unwrap();
    assert!(resp.text().await.unwrap().contains("no longer free"));
}

#[tokio::test]
async fn an_unregistered_researcher_cannot_be_booked_but_interest_can_be_shown() {
    let app = spawn_app().await;
    let reader = app.token("reader@uni.example").await;
    let (rid, _) = crate::outreach::researcher(&app, &reader).await;
    let (web, _) = signed_in_browser(&app, "other@uni.example").await;
    let (status, html) = page(&web, &app, &format!("/researchers/{rid}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("has not joined yet"));
    assert!(html.contains("I would like to consult this author"));
    assert!(!html.contains("book-form"));
}

#[tokio::test]
async fn the_availability_editor_is_for_the_researcher_and_admins_and_keeps_bad_input() {
    let app = spawn_app().await;
    let r = bookable_researcher(&app, "grace@yale.example").await;
    let path = format!("/researchers/{}/availability", r.researcher_id);

    let (stranger, _) = signed_in_browser(&app, "stranger@uni.example").await;
    assert_eq!(page(&stranger, &app, &path).await.0, 403);
    app.admin_token("admin@uni.example").await;
    let (admin, _) = logged_in_browser(&app, "admin@uni.example").await;
    assert_eq!(page(&admin, &app, &path).await.0, 200);

    let (web, _) = logged_in_browser(&app, "grace@yale.example").await;
    let (status, html) = page(&web, &app, &path).await;
    assert_eq!(status, 200);
    assert!(html.contains("mon 09:00-17:00"));
    let csrf = csrf_of(&html);
    let mut form = vec![
        ("csrf_token", csrf.clone()),
        ("timezone", "Europe/Berlin".into()),
        ("durations", "45".into()),
        ("price", "40.50".into()),
        ("currency", "eur".into()),
        ("min_notice_hours", "2".into()),
        ("buffer_minutes", "10".into()),
        ("max_per_day", "3".into()),
        ("horizon_days", "30".into()),
        ("request_ttl_hours", "24".into()),
        ("cancel_window_hours", "12".into()),
        ("rules", "mon 09:00-12:00\nfunday 10:00-11:00".into()),
        ("exceptions", "2026-12-24 block".into()),
    ];
    let resp = web.post(app.url(&path)).form(&form).send().await.unwrap();
    let html = resp.text().await.unwrap();
    assert!(
        html.contains("Line 2: the day must be a weekday such as mon or Monday."),
        "{html}"
    );
    assert!(html.contains("funday 10:00-11:00"), "the text is kept");
    let saved: Value = app
        .get(
            &format!(
                "/api/v1/consulting/researchers/{}/settings",
                r.researcher_id
            ),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(saved["timezone"], "UTC", "nothing was saved");

    form[11].1 = "mon 09:00-12:00\nwed 14:00-16:00".into();
    let resp = web.post(app.url(&path)).form(&form).send().await.unwrap();
    assert!(resp.text().await.unwrap().contains("Saved."));
    let saved: Value = app
        .get(
            &format!(
                "/api/v1/consulting/researchers/{}/settings",
                r.researcher_id
            ),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(saved["timezone"], "Europe/Berlin");
    assert_eq!(saved["price_minor"], 4050);
    assert_eq!(saved["currency"], "EUR");
    assert_eq!(saved["durations"], serde_json::json!([45]));
    let rules: Value = app
        .get(
            &format!(
                "/api/v1/consulting/researchers/{}/availability/rules",
                r.researcher_id
            ),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(rules["rules"].as_array().unwrap().len(), 2);
    assert_eq!(rules["exceptions"][0]["date"], "2026-12-24");
}

#[tokio::test]
async fn the_mail_link_shows_the_request_and_only_the_confirmation_accepts_it() {
    let app = spawn_app().await;
    let r = bookable_researcher(&app, "grace@yale.example").await;
    let reader = app.token("reader@uni.example").await;
    let id = booked(&app, &reader, r.researcher_id, day_at_ten(&app, 2)).await;
    let mail = newest_mail(&app, "session_request").await;
    let re = regex::Regex::new(r"/sessions/\d+/respond\?token=([A-Za-z0-9_\-\.]+)&action=accept")
        .unwrap();
    let token = re.captures(&mail.content.text).expect("an accept link")[1].to_string();

    // Opening the link (as a mail scanner would) changes nothing.
    let web = crate::pages::browser();
    let (status, html) = page(
        &web,
        &app,
        &format!("/sessions/{id}/respond?token={token}&action=accept"),
    )
    .await;
    assert_eq!(status, 200);
    assert!(html.contains("Accept this session?"));
    let s: Value = app
        .get(&format!("/api/v1/consulting/sessions/{id}"), Some(&reader))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(s["status"], "requested");

    // A changed token is refused.
    let (status, _) = page(
        &web,
        &app,
        &format!("/sessions/{id}/respond?token={token}x&action=accept"),
    )
    .await;
    assert!((400..500).contains(&status), "{status}");
    // The token of one session does not answer another.
    let other = booked(&app, &reader, r.researcher_id, day_at_ten(&app, 3)).await;
    let resp = web
        .post(app.url(&format!("/sessions/{other}/respond")))
        .form(&[("token", token.as_str()), ("action", "accept")])
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_client_error());

    let resp = web
        .post(app.url(&format!("/sessions/{id}/respond")))
        .form(&[("token", token.as_str()), ("action", "accept")])
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success());
    // The researcher, not signed in, stays on the link's page and reads
    // what happened (not a log-in form without the outcome).
    assert!(resp.url().path().ends_with("/respond"), "{}", resp.url());
    let html = resp.text().await.unwrap();
    assert!(html.contains("Accepted. Both of you have the meeting link"));
    assert!(html.contains("This session is accepted."));
    let s: Value = app
        .get(&format!("/api/v1/consulting/sessions/{id}"), Some(&reader))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(s["status"], "accepted");
}

#[tokio::test]
async fn session_pages_are_for_participants_only() {
    let app = spawn_app().await;
    let r = bookable_researcher(&app, "grace@yale.example").await;
    let reader = app.token("reader@uni.example").await;
    let id = booked(&app, &reader, r.researcher_id, day_at_ten(&app, 2)).await;
    let (stranger, _) = signed_in_browser(&app, "stranger@uni.example").await;
    assert_eq!(
        page(&stranger, &app, &format!("/sessions/{id}")).await.0,
        404
    );
    assert_eq!(
        page(&stranger, &app, &format!("/sessions/{id}/invite.ics"))
            .await
            .0,
        404
    );
    let (status, html) = page(&stranger, &app, "/sessions").await;
    assert_eq!(status, 200);
    assert!(!html.contains(&format!("/sessions/{id}\"")));

    let (web, _) = logged_in_browser(&app, "reader@uni.example").await;
    let (status, html) = page(&web, &app, "/sessions").await;
    assert_eq!(status, 200);
    assert!(html.contains(&format!("/sessions/{id}\"")));
    let (_, html) = page(&web, &app, &format!("/sessions/{id}")).await;
    let csrf = csrf_of(&html);
    // The reader cannot accept their own request.
    let resp = web
        .post(app.url(&format!("/sessions/{id}/action")))
        .form(&[("csrf_token", csrf.as_str()), ("action", "accept")])
        .send()
        .await
        .unwrap();
    assert!(resp.text().await.unwrap().contains("flash-error"));
    // Cancelling without a reason is refused; with one it works.
    let resp = web
        .post(app.url(&format!("/sessions/{id}/action")))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("action", "cancel"),
            ("reason", " "),
        ])
        .send()
        .await
        .unwrap();
    assert!(resp.text().await.unwrap().contains("reason"));
    let resp = web
        .post(app.url(&format!("/sessions/{id}/action")))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("action", "cancel"),
            ("reason", "Found the answer in the paper"),
        ])
        .send()
        .await
        .unwrap();
    let html = resp.text().await.unwrap();
    assert!(html.contains("The session is cancelled."), "{html}");
    assert!(html.contains("Found the answer in the paper"));
}

#[tokio::test]
async fn a_user_saves_a_time_zone_used_on_pages_and_in_the_api() {
    let app = spawn_app().await;
    let (web, _) = signed_in_browser(&app, "reader@uni.example").await;
    let (_, html) = page(&web, &app, "/account").await;
    let csrf = csrf_of(&html);
    let resp = web
        .post(app.url("/account/timezone"))
        .form(&[("csrf_token", csrf.as_str()), ("timezone", "Mars/Olympus")])
        .send()
        .await
        .unwrap();
    assert!(resp.text().await.unwrap().contains("not an IANA time zone"));
    let resp = web
        .post(app.url("/account/timezone"))
        .form(&[("csrf_token", csrf.as_str()), ("timezone", "Asia/Tokyo")])
        .send()
        .await
        .unwrap();
    let html = resp.text().await.unwrap();
    assert!(html.contains("<strong>Asia/Tokyo</strong>"), "{html}");
    let token = app
        .login("reader@uni.example", crate::helpers::PASSWORD)
        .await
        .json::<Value>()
        .await
        .unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let me: Value = app
        .get("/api/v1/users/me", Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["timezone"], "Asia/Tokyo");
    let r = app
        .send_json(
            reqwest::Method::PUT,
            "/api/v1/users/me/timezone",
            Some(&token),
            &serde_json::json!({"timezone": "Nowhere/Land"}),
        )
        .await;
    assert_eq!(r.status(), 422);
}

//! The booking, claim and session forms: bad values come back as typed,
//! with every problem next to its field at once.

use crate::forms_keep_input::{shows_all, submit};
use crate::helpers::spawn_app;
use crate::outreach::researcher;
use crate::pages::{browser, logged_in_browser, signed_in_browser};
use crate::sessions_fixtures::{book, bookable_researcher, booked, day_at_ten};

#[tokio::test]
async fn a_booking_error_keeps_the_topic_the_slot_and_the_zone() {
    let app = spawn_app().await;
    let r = bookable_researcher(&app, "grace@yale.example").await;
    let (web, _) = signed_in_browser(&app, "reader@uni.example").await;
    let slot = day_at_ten(&app, 2);
    let value = slot.to_rfc3339();
    let here = format!("/researchers/{}?tz=Europe/Berlin", r.researcher_id);
    let to = format!("/researchers/{}/book", r.researcher_id);
    let long = "t".repeat(1001);
    let f = [
        ("start", value.as_str()),
        ("duration", "60"),
        ("topic", long.as_str()),
        ("tz", "Europe/Berlin"),
    ];
    let (status, html) = submit(&web, &app, &here, &to, &f).await;
    assert_eq!(status, 422);
    shows_all(
        &html,
        &[
            "The topic must be at most 1000 characters.",
            &format!("{long}</textarea>"),
            &format!(r#"value="{value}" required checked"#),
            "<option selected>Europe/Berlin</option>",
        ],
    );
    // No slot and a bad topic: both at once.
    let f = [
        ("duration", "60"),
        ("topic", long.as_str()),
        ("tz", "Europe/Berlin"),
    ];
    let (status, html) = submit(&web, &app, &here, &to, &f).await;
    assert_eq!(status, 422);
    shows_all(
        &html,
        &[
            "Pick one of the free times first.",
            "The topic must be at most 1000 characters.",
        ],
    );

    // The slot is taken meanwhile: the topic stays, the page says why.
    let other = app.token("other@uni.example").await;
    booked(&app, &other, r.researcher_id, slot).await;
    let f = [
        ("start", value.as_str()),
        ("duration", "60"),
        ("topic", "Loops in the Analytical Engine"),
        ("tz", "Europe/Berlin"),
    ];
    let (status, html) = submit(&web, &app, &here, &to, &f).await;
    assert_eq!(status, 409);
    shows_all(
        &html,
        &[
            "Loops in the Analytical Engine</textarea>",
            "That time is no longer free.",
        ],
    );
    assert!(book(&app, &other, r.researcher_id, slot, 60)
        .await
        .status()
        .is_client_error());
}

#[tokio::test]
async fn a_claim_request_keeps_its_message() {
    let app = spawn_app().await;
    let reader = app.token("reader@uni.edu").await;
    let (rid, _) = researcher(&app, &reader).await;
    let (web, _) = signed_in_browser(&app, "someone@uni.edu").await;
    let here = format!("/researchers/{rid}");
    let message = "m".repeat(2001);
    let fields = [("message", message.as_str())];
    let (status, html) = submit(&web, &app, &here, &format!("{here}/claim-request"), &fields).await;
    assert_eq!(status, 422);
    shows_all(
        &html,
        &[
            &format!("{message}</textarea>"),
            "The message must be at most 2000 characters.",
        ],
    );
}

#[tokio::test]
async fn session_forms_keep_the_reason_and_the_new_time() {
    let app = spawn_app().await;
    let r = bookable_researcher(&app, "grace@yale.example").await;
    let reader = app.token("reader@uni.example").await;
    let id = booked(&app, &reader, r.researcher_id, day_at_ten(&app, 2)).await;
    let (web, _) = logged_in_browser(&app, "grace@yale.example").await;
    let here = format!("/sessions/{id}");
    let to = format!("{here}/action");
    let reason = "r".repeat(1001);
    let fields = [("action", "decline"), ("reason", reason.as_str())];
    let (status, html) = submit(&web, &app, &here, &to, &fields).await;
    assert_eq!(status, 422);
    shows_all(
        &html,
        &[
            &format!("{reason}</textarea>"),
            "The reason must be at most 1000 characters.",
        ],
    );

    let fields = [("action", "reschedule"), ("start", "next tuesday")];
    let (status, html) = submit(&web, &app, &here, &to, &fields).await;
    assert_eq!(status, 422);
    shows_all(&html, &["The new time: pick one of the free times."]);
}

#[tokio::test]
async fn this_is_me_without_the_terms_is_marked_next_to_the_box() {
    let app = spawn_app().await;
    let reader = app.token("reader@uni.edu").await;
    let (rid, _) = researcher(&app, &reader).await;
    crate::claims::verified(&app, crate::outreach::ADDRESS).await;
    let (web, _) = logged_in_browser(&app, crate::outreach::ADDRESS).await;
    let here = format!("/researchers/{rid}");
    let (status, html) = submit(&web, &app, &here, &format!("{here}/claim"), &[]).await;
    assert_eq!(status, 422);
    shows_all(
        &html,
        &["Terms: you must accept the terms", r#"id="this-is-me""#],
    );
}

#[tokio::test]
async fn declining_from_the_e_mail_link_keeps_the_note() {
    let app = spawn_app().await;
    let r = bookable_researcher(&app, "grace@yale.example").await;
    let reader = app.token("reader@uni.example").await;
    let id = booked(&app, &reader, r.researcher_id, day_at_ten(&app, 2)).await;
    let keys = app.state.keys.clone();
    let mail = app
        .state
        .db
        .read(move |c| {
            colloquy::db::repos::mail_outbox::list(c, &keys, None, Some("session_request"), None, 1)
        })
        .await
        .unwrap()
        .pop()
        .expect("a request mail");
    let re = regex::Regex::new(r"/sessions/\d+/respond\?token=([A-Za-z0-9_\-\.]+)").unwrap();
    let token = re.captures(&mail.content.text).expect("an answer link")[1].to_string();
    let note = "n".repeat(1001);
    let r = browser()
        .post(app.url(&format!("/sessions/{id}/respond")))
        .form(&[
            ("token", token.as_str()),
            ("action", "decline"),
            ("reason", note.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    shows_all(
        &html,
        &[
            &format!("{note}</textarea>"),
            "The reason must be at most 1000 characters.",
        ],
    );
}

//! No-shows are claims, not instant refunds: a participant's report opens
//! a `no_show` dispute the other side may contest for 48 hours; it stands
//! uncontested, an admin decides a contested one, and the session is not
//! completed meanwhile. Admins still record a no-show at once.

use chrono::Duration;
use colloquy::clock::Clock;
use serde_json::{json, Value};

use crate::disputes_fixtures::*;
use crate::sessions_fixtures::{act, acted, at, mails, recipients, session, stored_status};
use colloquy::services::sessions::jobs as session_jobs;

/// The reader reports the researcher missing at 10:15; answers the claim.
async fn reported(h: &Happened) -> i64 {
    h.app.clock.set(at("2026-12-08T10:15:00Z"));
    let s = acted(&h.app, &h.reader, h.id, "no-show", json!({})).await;
    assert_eq!(s["status"], "accepted");
    s["dispute_id"].as_i64().unwrap()
}

#[tokio::test]
async fn an_uncontested_claim_stands_after_48_hours() {
    let h = happened().await;
    let app = &h.app;
    let id = reported(&h).await;
    let d = dispute(app, &h.researcher.token, id).await;
    assert_eq!(d["kind"], "no_show");
    assert_eq!(d["status"], "awaiting_response");
    assert_eq!(d["actions"], json!(["message", "contest"]));
    assert_eq!(
        at(d["respond_by"].as_str().unwrap()),
        at("2026-12-10T10:15:00Z")
    );
    let told = &mails(app, "dispute_opened")[0];
    assert_eq!(told.recipient, "grace@yale.example");
    assert!(told.content.text.contains("contest the claim"));

    app.clock.set(at("2026-12-10T10:14:00Z"));
    assert_eq!(run_job(app).await.upheld, 0);
    // Past the grace period the session is still not completed: the claim decides.
    session_jobs::run(&app.state, app.clock.now())
        .await
        .unwrap();
    assert_eq!(stored_status(app, h.id), "accepted");
    app.clock.set(at("2026-12-10T10:15:00Z"));
    assert_eq!(run_job(app).await.upheld, 1);
    assert_eq!(stored_status(app, h.id), "no_show");
    let s = session(app, &h.reader, h.id).await;
    assert_eq!(s["no_show_party"], "researcher");
    let last = s["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["event"].as_str(), last["actor"].as_str()),
        (Some("no_show_researcher"), Some("system"))
    );
    let d = dispute(app, &h.reader, id).await;
    assert_eq!(d["status"], "resolved");
    assert_eq!(d["outcome"], "claim_upheld");
    assert_eq!(d["refund_minor"], 0, "a free session refunds nothing");
    assert_eq!(
        recipients(&mails(app, "dispute_resolved")),
        ["grace@yale.example", "reader@uni.example"]
    );
    assert!(app
        .audit_actions()
        .contains(&"dispute.resolved".to_string()));
    assert_eq!(run_job(app).await.upheld, 0, "once");
}

#[tokio::test]
async fn a_contested_claim_waits_for_an_admin_who_decides() {
    let h = happened().await;
    let app = &h.app;
    let admin = app.admin_token("admin@uni.example").await;
    let id = reported(&h).await;
    // Only the reported side contests, and only once.
    refused(
        post(app, &h.reader, id, "contest", json!({})).await,
        "not_the_other_party",
    )
    .await;
    refused(
        post(app, &admin, id, "contest", json!({})).await,
        "not_the_other_party",
    )
    .await;
    let r = post(
        app,
        &h.researcher.token,
        id,
        "contest",
        json!({"text": "I waited in the room for 40 minutes."}),
    )
    .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "under_review");
    refused(
        post(app, &h.researcher.token, id, "contest", json!({})).await,
        "already_under_review",
    )
    .await;
    assert_eq!(
        recipients(&mails(app, "dispute_contested")),
        ["reader@uni.example"]
    );
    let d = dispute(app, &admin, id).await;
    assert_eq!(
        d["messages"][0]["text"],
        "I waited in the room for 40 minutes."
    );

    // The deadline no longer decides; nor does the completion job.
    app.clock.set(at("2026-12-11T12:00:00Z"));
    assert_eq!(run_job(app).await.upheld, 0);
    session_jobs::run(&app.state, app.clock.now())
        .await
        .unwrap();
    assert_eq!(stored_status(app, h.id), "accepted");

    // claim_upheld fits a no-show claim only; here the admin decides it stands.
    let d = resolved(
        app,
        &admin,
        id,
        json!({"outcome": "claim_upheld", "note": "The meeting log shows no researcher."}),
    )
    .await;
    assert_eq!(d["outcome"], "claim_upheld");
    assert_eq!(stored_status(app, h.id), "no_show");
    let s = session(app, &h.reader, h.id).await;
    assert_eq!(
        s["events"].as_array().unwrap().last().unwrap()["actor"],
        "admin"
    );
}

#[tokio::test]
async fn a_claim_turned_down_lets_the_session_complete() {
    let h = happened().await;
    let app = &h.app;
    let admin = app.admin_token("admin@uni.example").await;
    let id = reported(&h).await;
    say(app, &h.researcher.token, id, "I was there.").await;
    assert_eq!(
        stored(app, id),
        "under_review",
        "an answer contests the claim"
    );
    resolved(
        app,
        &admin,
        id,
        json!({"outcome": "no_refund", "note": "Both were there."}),
    )
    .await;
    assert_eq!(stored_status(app, h.id), "accepted");
    app.clock.set(at("2026-12-09T11:00:00Z"));
    let report = session_jobs::run(&app.state, app.clock.now())
        .await
        .unwrap();
    assert_eq!(report.completed, 1);
    assert_eq!(stored_status(app, h.id), "completed");
}

#[tokio::test]
async fn after_its_deadline_a_claim_can_no_longer_be_contested() {
    let h = happened().await;
    let app = &h.app;
    let id = reported(&h).await;
    app.clock.set(at("2026-12-10T10:16:00Z"));
    // The job has not run: the contest finds the claim already standing.
    let r = post(app, &h.researcher.token, id, "contest", json!({})).await;
    refused(r, "dispute_closed").await;
    assert_eq!(stored(app, id), "resolved");
    assert_eq!(stored_status(app, h.id), "no_show");
}

#[tokio::test]
async fn one_claim_at_a_time_and_admins_still_decide_at_once() {
    let h = happened().await;
    let app = &h.app;
    let admin = app.admin_token("admin@uni.example").await;
    reported(&h).await;
    refused(
        act(app, &h.researcher.token, h.id, "no-show", json!({})).await,
        "dispute_open",
    )
    .await;
    refused(
        act(app, &h.reader, h.id, "no-show", json!({})).await,
        "dispute_open",
    )
    .await;
    // An admin must resolve the claim rather than decide around it.
    let r = act(app, &admin, h.id, "no-show", json!({"party": "researcher"})).await;
    refused(r, "dispute_open").await;

    // Without a claim, an admin's no-show is recorded at once.
    let later = crate::sessions_fixtures::accepted(
        app,
        &h.reader,
        &h.researcher,
        at("2026-12-08T14:00:00Z"),
    )
    .await;
    app.clock.set(at("2026-12-08T14:30:00Z"));
    let s = acted(app, &admin, later, "no-show", json!({"party": "reader"})).await;
    assert_eq!(s["status"], "no_show");
    assert!(s["dispute_id"].is_null());
    assert_eq!(s["no_show_party"], "reader");
    assert_eq!(mails(app, "session_no_show").len(), 2);
}

#[tokio::test]
async fn a_claim_about_a_completed_session_can_still_stand() {
    let h = happened().await;
    let app = &h.app;
    app.clock.set(at("2026-12-09T11:00:00Z"));
    session_jobs::run(&app.state, app.clock.now())
        .await
        .unwrap();
    assert_eq!(stored_status(app, h.id), "completed");
    // A completed session is past reporting; a no-show is still a
    // dispute within 14 days.
    let r = act(app, &h.reader, h.id, "no-show", json!({})).await;
    refused(r, "illegal_transition").await;
    let id = opened(app, &h.reader, h.id, "no_show").await;
    app.clock.advance(Duration::hours(48));
    assert_eq!(run_job(app).await.upheld, 1);
    assert_eq!(stored(app, id), "resolved");
    assert_eq!(stored_status(app, h.id), "no_show");
}

//! The consent ledger: listing, giving and withdrawing through the API and
//! the account page, only ever one's own, append-only in the database, and
//! the effects of a withdrawal (listing, review reminders, product mail).

use chrono::Duration;
use serde_json::{json, Value};

use crate::helpers::{error_code, spawn_app, TestApp};
use crate::pages::{csrf_of, signed_in_browser};
use crate::reviews_fixtures::completed;
use crate::sessions_fixtures::{
    accepted, book, bookable_first_author, day_at_ten, mails, recipients, spawn_patient_app,
};
use colloquy::clock::Clock;

async fn consents(app: &TestApp, token: &str) -> Value {
    let r = app.get("/api/v1/users/me/consents", Some(token)).await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

async fn change(app: &TestApp, token: &str, kind: &str, verb: &str) -> reqwest::Response {
    app.post_json(
        &format!("/api/v1/users/me/consents/{kind}/{verb}"),
        Some(token),
        &json!({}),
    )
    .await
}

fn state_of<'a>(c: &'a Value, kind: &str) -> &'a Value {
    c["current"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} in {c}"))
}

fn kinds(c: &Value) -> Vec<&str> {
    c["current"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["kind"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn a_new_reader_sees_the_terms_and_notice_accepted_at_registration_and_mail_on_by_default() {
    let app = spawn_app().await;
    let token = app.token("ada@uni.example").await;
    let c = consents(&app, &token).await;
    assert_eq!(
        kinds(&c),
        [
            "terms",
            "privacy_notice",
            "review_reminders",
            "product_email"
        ],
        "no listing without a researcher profile"
    );
    let terms = state_of(&c, "terms");
    assert_eq!(terms["granted"], true);
    assert_eq!(terms["version"], "2026-11-01");
    assert_eq!(terms["current_version"], "2026-11-01");
    assert_eq!(terms["source"], "registration");
    assert!(terms["granted_at"].is_string() && terms["withdrawn_at"].is_null());
    assert_eq!(state_of(&c, "privacy_notice")["granted"], true);
    let reminders = state_of(&c, "review_reminders");
    assert_eq!(
        (reminders["granted"].clone(), reminders["source"].clone()),
        (json!(true), Value::Null)
    );
    assert_eq!(c["history"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_withdrawal_appends_a_row_and_a_grant_restores_with_the_history_kept() {
    let app = spawn_app().await;
    let token = app.token("ada@uni.example").await;
    let r = change(&app, &token, "product_email", "withdraw").await;
    assert_eq!(r.status(), 200);
    let c: Value = r.json().await.unwrap();
    let s = state_of(&c, "product_email");
    assert_eq!(
        (s["granted"].clone(), s["source"].clone()),
        (json!(false), json!("api"))
    );
    assert!(s["withdrawn_at"].is_string());
    // Withdrawing again changes nothing.
    change(&app, &token, "product_email", "withdraw").await;
    app.clock.advance(Duration::minutes(5));
    let c: Value = change(&app, &token, "product_email", "grant")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(state_of(&c, "product_email")["granted"], true);
    let history: Vec<&Value> = c["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "product_email")
        .collect();
    assert_eq!(history.len(), 2, "{c}");
    assert!(history[0]["withdrawn_at"].is_null() && history[0]["granted_at"].is_string());
    assert!(history[1]["granted_at"].is_null() && history[1]["withdrawn_at"].is_string());

    let db = app.db();
    let rows: i64 = db
        .query_row(
            "SELECT count(*) FROM consents WHERE kind = 'product_email'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(rows, 2, "one row per change");
    assert!(db
        .execute("UPDATE consents SET action = 'grant'", [])
        .is_err());
    assert!(db.execute("DELETE FROM consents", []).is_err());
    let audit = app.audit_actions();
    assert!(
        audit.contains(&"consent.withdrawn".to_string())
            && audit.contains(&"consent.granted".to_string())
    );
}

#[tokio::test]
async fn unknown_kinds_a_listing_without_a_profile_and_anonymous_callers_are_refused() {
    let app = spawn_app().await;
    let token = app.token("ada@uni.example").await;
    let r = change(&app, &token, "newsletter", "withdraw").await;
    assert_eq!(r.status(), 422);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "validation_failed");
    assert!(body["error"]["fields"]["kind"]
        .as_str()
        .unwrap()
        .contains("researcher_listing"));
    let r = change(&app, &token, "researcher_listing", "withdraw").await;
    assert_eq!(r.status(), 409);
    assert_eq!(error_code(r).await, "no_researcher_profile");
    let r = app.get("/api/v1/users/me/consents", None).await;
    assert_eq!(r.status(), 401);
    let r = app
        .post_json(
            "/api/v1/users/me/consents/product_email/withdraw",
            None,
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn one_account_changes_only_its_own_consents_through_the_api_and_the_page() {
    let app = spawn_app().await;
    let ada = app.token("ada@uni.example").await;
    let bob = app.token("bob@uni.example").await;
    change(&app, &ada, "review_reminders", "withdraw").await;
    assert_eq!(
        state_of(&consents(&app, &ada).await, "review_reminders")["granted"],
        false
    );
    assert_eq!(
        state_of(&consents(&app, &bob).await, "review_reminders")["granted"],
        true
    );

    // Carol's browser posting with Ada's form token is refused; her own
    // form changes only her.
    let (carol, carol_csrf) = signed_in_browser(&app, "carol@uni.example").await;
    let (_, ada_csrf) = signed_in_browser(&app, "ada2@uni.example").await;
    let r = carol
        .post(app.url("/account/consents/product_email/withdraw"))
        .form(&[("csrf_token", ada_csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        400,
        "a form token from another session is refused"
    );
    let r = carol
        .post(app.url("/account/consents/product_email/withdraw"))
        .form(&[("csrf_token", carol_csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert!(page.contains("Saved: consent withdrawn"), "{page}");
    let n: i64 = app
        .db()
        .query_row(
            "SELECT count(*) FROM consents c JOIN users u ON u.id = c.user_id
              WHERE c.kind = 'product_email' AND c.action = 'withdraw' AND u.name = 'Ui User'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 1, "only Carol's row");
    assert_eq!(
        state_of(&consents(&app, &bob).await, "product_email")["granted"],
        true
    );
}

#[tokio::test]
async fn the_account_page_shows_the_table_and_its_buttons_work_without_javascript() {
    let app = spawn_app().await;
    let (web, _) = signed_in_browser(&app, "ada@uni.example").await;
    let page = crate::pages::page_text(&web, &app, "/account").await;
    assert!(page.contains(r#"id="consents""#));
    assert!(page.contains(r#"id="consent-terms""#) && page.contains("2026-11-01"));
    assert!(page.contains(r#"action="/account/consents/review_reminders/withdraw""#));
    let csrf = csrf_of(&page);
    let r = web
        .post(app.url("/account/consents/review_reminders/withdraw"))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    let page = r.text().await.unwrap();
    assert!(
        page.contains(r#"action="/account/consents/review_reminders/grant""#),
        "the button turns into Give"
    );
    assert!(
        !page.contains(r#"name="reminders" value="yes" checked"#),
        "the review-mail form agrees"
    );
    let r = web
        .post(app.url("/account/consents/review_reminders/grant"))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert!(r
        .text()
        .await
        .unwrap()
        .contains(r#"name="reminders" value="yes" checked"#));
}

/// (the profile's `bookable`, how many papers the bookable-only search finds)
async fn listed(app: &TestApp, id: i64) -> (bool, usize) {
    let view: Value = app
        .get(&format!("/api/v1/researchers/{id}"), None)
        .await
        .json()
        .await
        .unwrap();
    let found: Value = app
        .get("/api/v1/papers?bookable=true", None)
        .await
        .json()
        .await
        .unwrap();
    (
        view["bookable"].as_bool().unwrap(),
        found["items"].as_array().unwrap().len(),
    )
}

#[tokio::test]
async fn a_withdrawn_listing_leaves_search_and_booking_at_once_and_comes_back_on_grant() {
    let app = spawn_app().await;
    let admin = app.admin_token("admin@uni.example").await;
    let (_, b) = bookable_first_author(&app, &admin, "grace@uni.example").await;
    let reader = app.token("reader@uni.example").await;
    let session = accepted(&app, &reader, &b, day_at_ten(&app, 3)).await;
    assert_eq!(listed(&app, b.researcher_id).await, (true, 1));
    assert!(kinds(&consents(&app, &b.token).await).contains(&"researcher_listing"));

    let c: Value = change(&app, &b.token, "researcher_listing", "withdraw")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(state_of(&c, "researcher_listing")["granted"], false);
    assert_eq!(
        c["open_sessions"][0]["id"], session,
        "the open session is listed"
    );
    assert_eq!(
        listed(&app, b.researcher_id).await,
        (false, 0),
        "hidden at once"
    );
    let r = book(&app, &reader, b.researcher_id, day_at_ten(&app, 4), 60).await;
    assert_eq!(r.status(), 409);
    assert_eq!(error_code(r).await, "not_bookable");
    let r = app
        .get(
            &format!("/api/v1/consulting/sessions/{session}"),
            Some(&reader),
        )
        .await;
    assert_eq!(
        r.json::<Value>().await.unwrap()["status"],
        "accepted",
        "existing sessions stay"
    );
    let told = mails(&app, "listing_withdrawn");
    assert_eq!(recipients(&told), ["grace@uni.example"]);
    assert!(
        told[0]
            .content
            .text
            .contains(&format!("/sessions/{session}")),
        "the mail lists the open session"
    );

    change(&app, &b.token, "researcher_listing", "grant").await;
    assert_eq!(
        listed(&app, b.researcher_id).await,
        (true, 1),
        "listed again"
    );
    let r = book(&app, &reader, b.researcher_id, day_at_ten(&app, 4), 60).await;
    assert_eq!(r.status(), 201);
}

#[tokio::test]
async fn withdrawn_review_reminders_stop_the_reminder_mail_and_a_grant_restores_it() {
    let app = spawn_patient_app().await;
    let c = completed(&app, 2).await;
    let r = change(&app, &c.reader, "review_reminders", "withdraw").await;
    assert_eq!(r.status(), 200);
    app.clock.advance(Duration::hours(25));
    let run = || colloquy::services::reviews::jobs::run(&app.state, app.clock.now());
    assert_eq!(run().await.unwrap(), 0, "no reminder while withdrawn");
    assert!(mails(&app, "review_reminder").is_empty());
    change(&app, &c.reader, "review_reminders", "grant").await;
    assert_eq!(run().await.unwrap(), 2);
    // The review-mail settings and the ledger tell the same story.
    let prefs: Value = app
        .get("/api/v1/users/me/review-mail", Some(&c.reader))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(prefs["reminders"], true);
    let r = app
        .send_json(
            reqwest::Method::PUT,
            "/api/v1/users/me/review-mail",
            Some(&c.reader),
            &json!({"new_reviews": true, "reminders": false}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let s = state_of(&consents(&app, &c.reader).await, "review_reminders").clone();
    assert_eq!(
        (s["granted"].clone(), s["source"].clone()),
        (json!(false), json!("review_settings"))
    );
}

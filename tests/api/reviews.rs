//! Reviews: who may write them and when, validation, the auto-hold rules,
//! edits, answers, reports, the public list and the rating on profiles.

use chrono::Duration;
use serde_json::{json, Value};

use crate::helpers::{error_code, spawn_app_with, TestApp};
use crate::reviews_fixtures::*;
use crate::sessions_fixtures::{accepted, at, mails, recipients, spawn_patient_app};
use colloquy::clock::Clock;

#[tokio::test]
async fn the_reader_reviews_a_completed_session_and_the_rating_shows_everywhere() {
    let app = spawn_patient_app().await;
    let c = completed(&app, 1).await;
    let rid = c.researcher.researcher_id;
    assert_eq!(profile_rating(&app, rid).await, Value::Null);

    let r = reviewed(
        &app,
        &c.reader,
        c.sessions[0],
        4,
        Some("  Clear, patient\u{7} answers.  "),
    )
    .await;
    assert_eq!(r["status"], "published");
    assert_eq!(
        r["comment"], "Clear, patient answers.",
        "trimmed, control characters stripped"
    );

    let list = public_list(&app, rid).await;
    assert_eq!(list["items"][0]["rating"], 4);
    assert_eq!(
        list["summary"],
        json!({"average": 4.0, "count": 1, "distribution": {"1": 0, "2": 0, "3": 0, "4": 1, "5": 0}})
    );
    assert_eq!(
        profile_rating(&app, rid).await,
        json!({"average": 4.0, "count": 1})
    );

    // The paper's researcher list and the researcher page carry it too.
    let page = app
        .get(&format!("/researchers/{rid}"), None)
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("4.0 of 5 (1 review)"), "{page}");
    assert!(page.contains("Clear, patient answers."));
    assert_eq!(
        recipients(&mails(&app, "review_published")),
        ["grace@yale.example"]
    );
}

#[tokio::test]
async fn reviewers_names_are_shortened_in_the_public_list() {
    let app = spawn_patient_app().await;
    let c = completed(&app, 1).await;
    app.db()
        .execute("UPDATE users SET name = 'Ada Lovelace' WHERE id = (SELECT reader_id FROM consulting_sessions WHERE id = ?1)", [c.sessions[0]])
        .unwrap();
    reviewed(&app, &c.reader, c.sessions[0], 5, None).await;
    let list = public_list(&app, c.researcher.researcher_id).await;
    assert_eq!(list["items"][0]["author"], "Ada L.");
    assert!(list["items"][0].get("author_id").is_none());
}

#[tokio::test]
async fn only_the_reader_of_a_completed_session_may_review_it_once_within_the_window() {
    let app = spawn_patient_app().await;
    app.clock.set(at("2026-12-07T08:00:00Z"));
    let c = completed(&app, 2).await;
    let admin = app.admin_token("admin@uni.example").await;
    let stranger = app.token("mallory@uni.example").await;
    let s = c.sessions[0];

    // A session not yet completed.
    let pending = accepted(&app, &c.reader, &c.researcher, at("2026-12-14T10:00:00Z")).await;
    let r = review(&app, &c.reader, pending, 5, None).await;
    assert_eq!(
        (r.status().as_u16(), error_code(r).await.as_str()),
        (409, "session_not_completed")
    );
    // The researcher (two-way off) and an admin are not its reader.
    assert_eq!(
        review(&app, &c.researcher.token, s, 5, None).await.status(),
        403
    );
    assert_eq!(review(&app, &admin, s, 5, None).await.status(), 403);
    // A stranger and an unknown session: not found.
    assert_eq!(review(&app, &stranger, s, 5, None).await.status(), 404);
    assert_eq!(
        review(&app, &c.reader, 999_999, 5, None).await.status(),
        404
    );
    // Bad fields, all named at once; nothing stored.
    let r = review(&app, &c.reader, s, 6, Some(&"x".repeat(2001))).await;
    assert_eq!(r.status(), 422);
    let body: Value = r.json().await.unwrap();
    assert!(body["error"]["fields"]["rating"].is_string(), "{body}");
    assert!(body["error"]["fields"]["comment"].is_string(), "{body}");
    assert_eq!(review(&app, &c.reader, s, 0, None).await.status(), 422);
    // 2,000 characters after trimming are fine; once only.
    let long = format!("  {}  ", "y".repeat(2000));
    reviewed(&app, &c.reader, s, 5, Some(&long)).await;
    let r = review(&app, &c.reader, s, 4, None).await;
    assert_eq!(
        (r.status().as_u16(), error_code(r).await.as_str()),
        (409, "already_reviewed")
    );
    // Thirty days after the end, the window is closed.
    app.clock
        .set(at("2026-12-08T13:00:00Z") + Duration::days(30) + Duration::minutes(1));
    let r = review(&app, &c.reader, c.sessions[1], 5, None).await;
    assert_eq!(
        (r.status().as_u16(), error_code(r).await.as_str()),
        (409, "review_window_closed")
    );
}

async fn held_for(
    app: &TestApp,
    c: &Completed,
    session: i64,
    rating: i64,
    comment: Option<&str>,
) -> Value {
    let r = reviewed(app, &c.reader, session, rating, comment).await;
    assert_eq!(r["status"], "held", "{comment:?}");
    assert_eq!(r["status_label"], "held for moderation");
    r
}

#[tokio::test]
async fn contact_details_blocked_words_and_bare_one_star_reviews_are_held_and_seen_only_by_their_author(
) {
    let app = spawn_app_with(|c| {
        c.reviews.blocked_terms = vec!["fraud".into()];
        c.auth.access_token_ttl_secs = 400 * 86_400;
    })
    .await;
    let c = completed(&app, 6).await;
    let rid = c.researcher.researcher_id;
    let cases = [
        (5, Some("Write me at ada@uni.example"), "contact_details"),
        (5, Some("Call +44 20 7946 0958 any time"), "contact_details"),
        (
            5,
            Some("Slides on https://example.org/s"),
            "contact_details",
        ),
        (2, Some("A total FRAUD."), "blocked_term"),
        (1, None, "one_star_without_comment"),
    ];
    let admin = app.admin_token("admin@uni.example").await;
    for (i, (rating, comment, rule)) in cases.iter().enumerate() {
        let r = held_for(&app, &c, c.sessions[i], *rating, *comment).await;
        let id = r["id"].as_i64().unwrap();
        // Nobody else sees it: not the researcher, not the public list.
        let other = app
            .get(
                &format!("/api/v1/consulting/reviews/{id}"),
                Some(&c.researcher.token),
            )
            .await;
        assert_eq!(other.status(), 404);
        let own = app
            .get(&format!("/api/v1/consulting/reviews/{id}"), Some(&c.reader))
            .await;
        assert_eq!(own.status(), 200);
        let q = queue(&app, &admin, "held").await;
        let item = q.iter().find(|q| q["id"] == id).unwrap();
        assert_eq!(item["held_rule"], *rule);
    }
    // One star with a reason is published.
    let r = reviewed(
        &app,
        &c.reader,
        c.sessions[5],
        1,
        Some("Arrived late and unprepared."),
    )
    .await;
    assert_eq!(r["status"], "published");
    let list = public_list(&app, rid).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_eq!(list["summary"]["count"], 1);
    assert!(mails(&app, "review_published").len() == 1);
}

#[tokio::test]
async fn reviews_from_young_accounts_are_held() {
    let app = spawn_app_with(|c| {
        c.reviews.min_account_age_hours = 24 * 30;
        c.auth.access_token_ttl_secs = 400 * 86_400;
    })
    .await;
    let c = completed(&app, 1).await;
    let r = held_for(&app, &c, c.sessions[0], 5, Some("Lovely.")).await;
    let admin = app.admin_token("admin@uni.example").await;
    let q = queue(&app, &admin, "held").await;
    assert_eq!(q[0]["id"], r["id"]);
    assert_eq!(q[0]["held_rule"], "new_account");
    assert_eq!(q[0]["held_because"], "written by a new account");
}

#[tokio::test]
async fn the_author_edits_within_the_edit_window_and_the_rules_and_rating_follow() {
    let app = spawn_patient_app().await;
    let c = completed(&app, 1).await;
    let rid = c.researcher.researcher_id;
    let r = reviewed(&app, &c.reader, c.sessions[0], 5, Some("Great.")).await;
    let id = r["id"].as_i64().unwrap();

    // Only the author.
    let resp = patch(&app, &c.researcher.token, id, json!({"rating": 1})).await;
    assert_eq!(resp.status(), 403);
    let resp = patch(&app, &c.reader, id, json!({"rating": 9})).await;
    assert_eq!(resp.status(), 422);

    let resp = patch(&app, &c.reader, id, json!({"rating": 3})).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        profile_rating(&app, rid).await,
        json!({"average": 3.0, "count": 1})
    );
    // An edit that adds a link is held, and leaves the rating.
    let resp = patch(
        &app,
        &c.reader,
        id,
        json!({"comment": "see www.example.org"}),
    )
    .await;
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["status"], "held");
    assert_eq!(profile_rating(&app, rid).await, Value::Null);
    // Taking the link out publishes it again.
    let resp = patch(&app, &c.reader, id, json!({"comment": "Clear."})).await;
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["status"], "published");
    assert_eq!(
        profile_rating(&app, rid).await,
        json!({"average": 3.0, "count": 1})
    );

    app.clock
        .advance(Duration::hours(48) + Duration::minutes(1));
    let resp = patch(&app, &c.reader, id, json!({"rating": 1})).await;
    assert_eq!(
        (resp.status().as_u16(), error_code(resp).await.as_str()),
        (409, "edit_window_closed")
    );
}

#[tokio::test]
async fn the_researcher_answers_once_and_an_answer_with_contact_details_waits_for_a_moderator() {
    let app = spawn_patient_app().await;
    let c = completed(&app, 2).await;
    let rid = c.researcher.researcher_id;
    let first = reviewed(&app, &c.reader, c.sessions[0], 4, Some("Good.")).await["id"]
        .as_i64()
        .unwrap();
    let second = reviewed(&app, &c.reader, c.sessions[1], 4, Some("Fine.")).await["id"]
        .as_i64()
        .unwrap();

    // Not the reader, not a stranger.
    assert_eq!(reply(&app, &c.reader, first, "Thanks").await.status(), 403);
    let stranger = app.token("mallory@uni.example").await;
    assert_eq!(reply(&app, &stranger, first, "Thanks").await.status(), 403);
    assert_eq!(
        reply(&app, &c.researcher.token, first, "  ").await.status(),
        422
    );

    let r = reply(
        &app,
        &c.researcher.token,
        first,
        "Thank you for the questions!",
    )
    .await;
    assert_eq!(r.status(), 201);
    let r = reply(&app, &c.researcher.token, first, "Again").await;
    assert_eq!(
        (r.status().as_u16(), error_code(r).await.as_str()),
        (409, "already_answered")
    );
    let r = reply(
        &app,
        &c.researcher.token,
        second,
        "Mail me: grace@yale.example",
    )
    .await;
    assert_eq!(r.status(), 201);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["reply_status"], "held");

    let list = public_list(&app, rid).await;
    let by_id = |id: i64| {
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(
        by_id(first)["reply"]["text"],
        "Thank you for the questions!"
    );
    assert_eq!(
        by_id(second)["reply"],
        Value::Null,
        "a held answer is not shown"
    );

    let admin = app.admin_token("admin@uni.example").await;
    let held = queue(&app, &admin, "held").await;
    assert!(held
        .iter()
        .any(|q| q["id"] == second && q["reply_status"] == "held"));
    let r = app
        .post_json(
            &format!("/api/v1/admin/reviews/{second}/moderate"),
            Some(&admin),
            &json!({"action": "publish", "reason": "An institutional address is fine.", "part": "reply"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let list = public_list(&app, rid).await;
    assert!(list["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["id"] == second && i["reply"]["text"].is_string()));
}

#[tokio::test]
async fn three_distinct_reports_hold_a_review_and_take_it_out_of_the_rating() {
    let app = spawn_patient_app().await;
    let c = completed(&app, 1).await;
    let rid = c.researcher.researcher_id;
    let id = reviewed(&app, &c.reader, c.sessions[0], 2, Some("Meh.")).await["id"]
        .as_i64()
        .unwrap();

    let r = report(&app, &c.reader, id, "mine").await;
    assert_eq!(
        (r.status().as_u16(), error_code(r).await.as_str()),
        (409, "own_review")
    );
    let one = app.token("one@uni.example").await;
    assert_eq!(report(&app, &one, id, "Unfair").await.status(), 202);
    let r = report(&app, &one, id, "Unfair again").await;
    assert_eq!(
        (r.status().as_u16(), error_code(r).await.as_str()),
        (409, "already_reported")
    );
    assert_eq!(report(&app, &one, id, "").await.status(), 422);
    assert_eq!(report(&app, &one, 999_999, "x").await.status(), 404);
    let admin = app.admin_token("admin@uni.example").await;
    assert_eq!(queue(&app, &admin, "reported").await.len(), 1);

    let two = app.token("two@uni.example").await;
    assert_eq!(report(&app, &two, id, "Rude").await.status(), 202);
    assert_eq!(profile_rating(&app, rid).await["count"], 1);
    let three = app.token("three@uni.example").await;
    assert_eq!(report(&app, &three, id, "Off topic").await.status(), 202);
    assert_eq!(profile_rating(&app, rid).await, Value::Null);
    let held = queue(&app, &admin, "held").await;
    assert_eq!(held[0]["held_rule"], "reports");
    assert_eq!(held[0]["open_reports"], 3);
    assert_eq!(
        held[0]["report_reasons"],
        json!(["Unfair", "Rude", "Off topic"])
    );
    // Held now: it cannot be reported any more.
    let four = app.token("four@uni.example").await;
    assert_eq!(report(&app, &four, id, "x").await.status(), 404);
    // Without a token at all.
    let r = app
        .post_json(
            &format!("/api/v1/consulting/reviews/{id}/report"),
            None,
            &json!({"reason": "x"}),
        )
        .await;
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn comments_answers_and_report_reasons_are_encrypted_at_rest() {
    let app = spawn_patient_app().await;
    let c = completed(&app, 1).await;
    let id = reviewed(
        &app,
        &c.reader,
        c.sessions[0],
        5,
        Some("Zanzibar-secret comment"),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    reply(&app, &c.researcher.token, id, "Quokka-secret answer").await;
    let other = app.token("other@uni.example").await;
    report(&app, &other, id, "Narwhal-secret reason").await;
    let admin = app.admin_token("admin@uni.example").await;
    moderate(&app, &admin, id, "hide", "Wombat-secret note").await;
    drop(app.state.db.clone());
    let bytes = std::fs::read(app.db_path()).unwrap();
    let wal = std::fs::read(app.db_path().with_extension("db-wal")).unwrap_or_default();
    for secret in [
        "Zanzibar-secret",
        "Quokka-secret",
        "Narwhal-secret",
        "Wombat-secret",
    ] {
        let hit = |b: &[u8]| b.windows(secret.len()).any(|w| w == secret.as_bytes());
        assert!(!hit(&bytes) && !hit(&wal), "{secret} in clear");
    }
}

#[tokio::test]
async fn the_reader_is_reminded_once_unless_they_turned_reminders_off() {
    let app = spawn_patient_app().await;
    let c = completed(&app, 2).await;
    let run = |app: &TestApp| {
        let st = app.state.clone();
        let now = app.clock.now();
        async move {
            colloquy::services::reviews::jobs::run(&st, now)
                .await
                .unwrap()
        }
    };
    assert_eq!(run(&app).await, 0, "not before reminder_hours");
    app.clock.advance(Duration::hours(25));
    assert_eq!(run(&app).await, 2);
    assert_eq!(run(&app).await, 0, "once");
    assert_eq!(
        recipients(&mails(&app, "review_reminder")),
        ["reader@uni.example", "reader@uni.example"]
    );

    // Another reader who turned reminders off gets none.
    let app = spawn_patient_app().await;
    let c2 = completed(&app, 1).await;
    let r = app
        .send_json(
            reqwest::Method::PUT,
            "/api/v1/users/me/review-mail",
            Some(&c2.reader),
            &json!({"new_reviews": true, "reminders": false}),
        )
        .await;
    assert_eq!(r.status(), 200);
    app.clock.advance(Duration::hours(25));
    assert_eq!(run(&app).await, 0);
    drop(c);
}

#[tokio::test]
async fn researchers_who_turned_review_mail_off_get_none() {
    let app = spawn_patient_app().await;
    let c = completed(&app, 1).await;
    let r = app
        .send_json(
            reqwest::Method::PUT,
            "/api/v1/users/me/review-mail",
            Some(&c.researcher.token),
            &json!({"new_reviews": false, "reminders": true}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let r = app
        .get("/api/v1/users/me/review-mail", Some(&c.researcher.token))
        .await;
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"new_reviews": false, "reminders": true})
    );
    reviewed(&app, &c.reader, c.sessions[0], 5, None).await;
    assert!(mails(&app, "review_published").is_empty());
}

#[tokio::test]
async fn with_two_way_reviews_researchers_rate_readers_and_only_the_next_researcher_asked_sees_it()
{
    let app = spawn_app_with(|c| {
        c.reviews.two_way = true;
        c.auth.access_token_ttl_secs = 400 * 86_400;
    })
    .await;
    let c = completed(&app, 1).await;
    let r = reviewed(
        &app,
        &c.researcher.token,
        c.sessions[0],
        2,
        Some("Came unprepared."),
    )
    .await;
    assert_eq!(r["side"], "researcher");
    // It is not the researcher's public rating.
    assert_eq!(
        profile_rating(&app, c.researcher.researcher_id).await,
        Value::Null
    );
    assert!(public_list(&app, c.researcher.researcher_id).await["items"]
        .as_array()
        .unwrap()
        .is_empty());
    // The reader may still rate the researcher.
    assert_eq!(
        reviewed(&app, &c.reader, c.sessions[0], 5, None).await["side"],
        "reader"
    );

    // A second researcher asked by the same reader sees the rating while
    // the request waits; the reader does not.
    let other = crate::sessions_fixtures::bookable_researcher(&app, "ada@cam.example").await;
    let start = at("2026-12-16T10:00:00Z");
    let id = crate::sessions_fixtures::booked(&app, &c.reader, other.researcher_id, start).await;
    let seen = crate::sessions_fixtures::session(&app, &other.token, id).await;
    assert_eq!(seen["reader_rating"], json!({"average": 2.0, "count": 1}));
    let own = crate::sessions_fixtures::session(&app, &c.reader, id).await;
    assert!(own.get("reader_rating").is_none());
    let admin = app.admin_token("admin@uni.example").await;
    assert_eq!(
        crate::sessions_fixtures::session(&app, &admin, id).await["reader_rating"]["count"],
        1
    );
    // Once answered, it is gone for the researcher.
    crate::sessions_fixtures::acted(&app, &other.token, id, "accept", json!({})).await;
    assert!(crate::sessions_fixtures::session(&app, &other.token, id)
        .await
        .get("reader_rating")
        .is_none());
}

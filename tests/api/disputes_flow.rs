//! A dispute's life: answers, messages, the deadline, withdrawal, every
//! move the state machine refuses, the lists, and messages encrypted at
//! rest.

use serde_json::{json, Value};

use crate::disputes_fixtures::*;
use crate::helpers::{error_code, TestApp};
use crate::sessions_fixtures::{mails, recipients};

#[tokio::test]
async fn the_other_partys_first_message_sends_the_dispute_to_an_admin() {
    let h = happened().await;
    let app = &h.app;
    let admin = app.admin_token("admin@uni.example").await;
    let id = opened(app, &h.reader, h.id, "quality").await;
    say(app, &h.reader, id, "I add: the video kept freezing.").await;
    assert_eq!(
        stored(app, id),
        "awaiting_response",
        "the opener's words are no answer"
    );
    let m = say(
        app,
        &h.researcher.token,
        id,
        "My connection was fine; yours dropped.",
    )
    .await;
    assert_eq!(m["author_role"], "researcher");
    assert_eq!(
        m["author_name"], "Test Reader",
        "the researcher's account name"
    );
    assert_eq!(stored(app, id), "under_review");
    say(app, &admin, id, "Thank you both; I will look at the logs.").await;
    assert_eq!(stored(app, id), "under_review");

    let d = dispute(app, &h.researcher.token, id).await;
    let msgs = d["messages"].as_array().unwrap();
    let roles: Vec<&str> = msgs
        .iter()
        .map(|m| m["author_role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["reader", "researcher", "admin"]);
    assert_eq!(msgs[2]["author_name"], "Ada Admin");
    assert_eq!(msgs[0]["text"], "I add: the video kept freezing.");
    // Each message tells the others, never its author.
    let told: Vec<Vec<String>> = mails(app, "dispute_message")
        .iter()
        .map(|m| vec![m.recipient.clone()])
        .collect();
    assert_eq!(
        told,
        [
            vec!["grace@yale.example".to_string()],
            vec!["reader@uni.example".to_string()],
            vec!["reader@uni.example".to_string()],
            vec!["grace@yale.example".to_string()],
        ]
    );
    assert!(app
        .audit_actions()
        .contains(&"dispute.answered".to_string()));
}

#[tokio::test]
async fn an_unanswered_dispute_goes_to_an_admin_when_its_answer_time_ends() {
    let h = happened().await;
    let app = &h.app;
    let id = opened(app, &h.reader, h.id, "quality").await;
    let late = opened_second(&h).await;
    app.clock
        .advance(chrono::Duration::days(5) - chrono::Duration::minutes(1));
    let report = run_job(app).await;
    assert_eq!(report.to_review, 0);
    after_answer_time(app);
    // Read before the job runs, the dispute already shows where it stands.
    assert_eq!(
        dispute(app, &h.researcher.token, late).await["status"],
        "under_review"
    );
    let report = run_job(app).await;
    assert_eq!((report.to_review, report.upheld), (1, 0));
    assert_eq!(stored(app, id), "under_review");
    assert_eq!(
        recipients(&mails(app, "dispute_under_review")),
        [
            "grace@yale.example",
            "grace@yale.example",
            "reader@uni.example",
            "reader@uni.example"
        ]
    );
    assert_eq!(run_job(app).await.to_review, 0, "once");
}

/// A second session of the same pair that took place, with a dispute.
async fn opened_second(h: &Happened) -> i64 {
    let app = &h.app;
    let now = colloquy::clock::Clock::now(&app.clock);
    app.clock
        .set(crate::sessions_fixtures::at("2026-12-07T08:00:00Z"));
    let s = crate::sessions_fixtures::accepted(
        app,
        &h.reader,
        &h.researcher,
        crate::sessions_fixtures::at("2026-12-08T09:00:00Z"),
    )
    .await;
    app.clock.set(now);
    opened(app, &h.researcher.token, s, "quality").await
}

/// Asserts every way `token` may try to move dispute `id` is refused
/// with `code`, and its stored status stays.
async fn all_refused(app: &TestApp, token: &str, id: i64, code: &str) {
    let before = stored(app, id);
    for (verb, body) in [
        ("messages", json!({"text": "Still here"})),
        ("withdraw", json!({})),
        ("contest", json!({})),
    ] {
        let r = post(app, token, id, verb, body).await;
        assert_eq!(r.status(), 409, "{verb} on a {before} dispute");
        assert_eq!(error_code(r).await, code, "{verb} on a {before} dispute");
    }
    assert_eq!(stored(app, id), before);
}

#[tokio::test]
async fn every_move_the_state_machine_does_not_allow_is_refused() {
    let h = happened().await;
    let app = &h.app;
    let admin = app.admin_token("admin@uni.example").await;
    let id = opened(app, &h.reader, h.id, "quality").await;
    // Only a no-show claim is contested.
    refused(
        post(app, &h.researcher.token, id, "contest", json!({})).await,
        "not_a_no_show_claim",
    )
    .await;
    // Only the opener withdraws.
    refused(
        post(app, &h.researcher.token, id, "withdraw", json!({})).await,
        "not_the_opener",
    )
    .await;
    refused(
        post(app, &admin, id, "withdraw", json!({})).await,
        "not_the_opener",
    )
    .await;
    // An admin takes it up once.
    let r = admin_call(app, &admin, id, "review").await;
    assert_eq!(r.status(), 200);
    assert_eq!(stored(app, id), "under_review");
    refused(
        admin_call(app, &admin, id, "review").await,
        "already_under_review",
    )
    .await;
    assert_eq!(mails(app, "dispute_under_review").len(), 2);
    // Withdrawn, it is closed to everyone.
    let r = post(app, &h.reader, id, "withdraw", json!({})).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "withdrawn");
    assert_eq!(
        recipients(&mails(app, "dispute_withdrawn")),
        ["grace@yale.example"]
    );
    for token in [&h.reader, &h.researcher.token, &admin] {
        all_refused(app, token, id, "dispute_closed").await;
    }
    refused(
        admin_call(app, &admin, id, "review").await,
        "dispute_closed",
    )
    .await;
    let r = as_admin(
        app,
        &admin,
        id,
        "resolve",
        json!({"outcome": "no_refund", "note": "Late"}),
    )
    .await;
    refused(r, "dispute_closed").await;
    assert_eq!(stored(app, id), "withdrawn");

    // Resolved, too.
    let id = opened(app, &h.researcher.token, h.id, "quality").await;
    let d = resolved(
        app,
        &admin,
        id,
        json!({"outcome": "no_refund", "note": "Nothing to fix."}),
    )
    .await;
    assert_eq!(d["status"], "resolved");
    for token in [&h.reader, &h.researcher.token, &admin] {
        all_refused(app, token, id, "dispute_closed").await;
    }
    refused(
        admin_call(app, &admin, id, "review").await,
        "dispute_closed",
    )
    .await;
    let r = as_admin(
        app,
        &admin,
        id,
        "resolve",
        json!({"outcome": "no_refund", "note": "Again"}),
    )
    .await;
    refused(r, "dispute_closed").await;
    assert_eq!(stored(app, id), "resolved");
    let d = dispute(app, &h.reader, id).await;
    assert_eq!(d["outcome"], "no_refund");
    assert_eq!(d["note"], "Nothing to fix.");
    assert_eq!(d["actions"], json!([]));
}

async fn admin_call(app: &TestApp, token: &str, id: i64, verb: &str) -> reqwest::Response {
    as_admin(app, token, id, verb, json!({})).await
}

/// The ids of a dispute list page.
fn ids(page: &Value) -> Vec<i64> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_i64().unwrap())
        .collect()
}

async fn list(app: &TestApp, token: &str, path: &str) -> Value {
    let r = app.get(path, Some(token)).await;
    assert_eq!(r.status(), 200, "{path}: {}", r.text().await.unwrap());
    r.json().await.unwrap()
}

#[tokio::test]
async fn lists_show_my_disputes_by_status_and_admins_see_them_all() {
    let h = happened().await;
    let app = &h.app;
    let admin = app.admin_token("admin@uni.example").await;
    let stranger = app.token("stranger@uni.example").await;
    let first = opened(app, &h.reader, h.id, "quality").await;
    post(app, &h.reader, first, "withdraw", json!({})).await;
    let second = opened_second(&h).await;

    let mine = "/api/v1/consulting/disputes";
    assert_eq!(ids(&list(app, &h.reader, mine).await), [second, first]);
    assert_eq!(
        ids(&list(app, &h.researcher.token, mine).await),
        [second, first]
    );
    assert_eq!(ids(&list(app, &stranger, mine).await), Vec::<i64>::new());
    assert_eq!(
        ids(&list(app, &admin, mine).await),
        Vec::<i64>::new(),
        "mine only"
    );
    let withdrawn = list(app, &h.reader, &format!("{mine}?status=withdrawn")).await;
    assert_eq!(ids(&withdrawn), [first]);
    assert_eq!(
        ids(&list(app, &h.reader, &format!("{mine}?status=active")).await),
        [second]
    );
    let page = list(app, &h.reader, &format!("{mine}?limit=1")).await;
    assert_eq!(ids(&page), [second]);
    let cursor = page["next_cursor"].as_str().unwrap();
    let next = list(app, &h.reader, &format!("{mine}?limit=1&cursor={cursor}")).await;
    assert_eq!(ids(&next), [first]);
    assert!(next["next_cursor"].is_null());
    assert!(
        page["items"][0].get("messages").is_none(),
        "lists leave messages out"
    );
    let r = app
        .get(&format!("{mine}?status=closed"), Some(&h.reader))
        .await;
    assert_eq!(r.status(), 422);

    let queue = "/api/v1/admin/disputes";
    assert_eq!(ids(&list(app, &admin, queue).await), [second, first]);
    assert_eq!(
        ids(&list(app, &admin, &format!("{queue}?status=active")).await),
        [second]
    );
    let q = list(app, &admin, &format!("{queue}?status=awaiting_response")).await;
    assert_eq!(q["items"][0]["your_role"], "admin");
    assert_eq!(
        q["items"][0]["actions"],
        json!(["message", "review", "resolve"])
    );
}

/// Every byte of the database, WAL included, after a checkpoint.
fn raw_database(app: &TestApp) -> Vec<u8> {
    colloquy::db::Db::open(&app.state.config.storage, &app.db_path()).unwrap();
    let mut bytes = Vec::new();
    for suffix in ["", "-wal"] {
        if let Ok(b) = std::fs::read(format!("{}{suffix}", app.db_path().display())) {
            bytes.extend(b);
        }
    }
    bytes
}

#[tokio::test]
async fn descriptions_messages_and_notes_are_encrypted_at_rest() {
    let h = happened().await;
    let app = &h.app;
    let admin = app.admin_token("admin@uni.example").await;
    let r = open(
        app,
        &h.reader,
        h.id,
        "quality",
        "Zanzibar marmalade description",
    )
    .await;
    let id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    say(
        app,
        &h.researcher.token,
        id,
        "Quetzalcoatl xylophone message",
    )
    .await;
    resolved(
        app,
        &admin,
        id,
        json!({"outcome": "no_refund", "note": "Obsidian narwhal note"}),
    )
    .await;
    let raw = raw_database(app);
    assert!(raw.len() > 10_000);
    for secret in [
        "Zanzibar marmalade",
        "Quetzalcoatl xylophone",
        "Obsidian narwhal",
    ] {
        assert!(
            !raw.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "{secret} found in the database file"
        );
    }
    // Yet each reads back in clear for those who may see it.
    let d = dispute(app, &h.reader, id).await;
    assert_eq!(d["description"], "Zanzibar marmalade description");
    assert_eq!(d["messages"][0]["text"], "Quetzalcoatl xylophone message");
    assert_eq!(d["note"], "Obsidian narwhal note");
}

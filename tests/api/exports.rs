//! Exports: each caller's own rows only (admins everyone's), CSV parsed
//! back with the `csv` crate, NDJSON, the formula guard, the dated file
//! name, the range, the refusals, the audit row, and the command line.

use serde_json::{json, Value};

use crate::helpers::{error_code, TestApp};
use crate::sessions_fixtures::{
    at, bookable_researcher, booked, monday_morning, spawn_patient_app,
};
use colloquy::clock::Clock;

async fn export(app: &TestApp, token: Option<&str>, query: &str) -> reqwest::Response {
    app.get(&format!("/api/v1/exports/{query}"), token).await
}

/// The CSV as records (header first), parsed with the `csv` crate.
async fn csv_of(r: reqwest::Response) -> Vec<Vec<String>> {
    assert_eq!(r.status(), 200);
    let body = r.text().await.unwrap();
    let mut rd = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(body.as_bytes());
    rd.records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

fn column(rows: &[Vec<String>], name: &str) -> Vec<String> {
    let i = rows[0].iter().position(|h| h == name).unwrap();
    rows[1..].iter().map(|r| r[i].clone()).collect()
}

/// Two readers with a session each with one researcher, and one more
/// researcher with a session of the first reader.
struct World {
    ada: String,
    bob: String,
    grace: crate::sessions_fixtures::Bookable,
    ada_sessions: Vec<i64>,
    bob_session: i64,
}

async fn world(app: &TestApp) -> World {
    app.clock.set(monday_morning());
    let grace = bookable_researcher(app, "grace@yale.example").await;
    let ada = app.token("ada@uni.example").await;
    let bob = app.token("bob@uni.example").await;
    let a1 = booked(app, &ada, grace.researcher_id, at("2026-12-08T10:00:00Z")).await;
    let b1 = booked(app, &bob, grace.researcher_id, at("2026-12-08T12:00:00Z")).await;
    let a2 = booked(app, &ada, grace.researcher_id, at("2026-12-09T10:00:00Z")).await;
    World {
        ada,
        bob,
        grace,
        ada_sessions: vec![a1, a2],
        bob_session: b1,
    }
}

#[tokio::test]
async fn a_readers_export_holds_only_their_own_sessions_and_the_researcher_sees_theirs() {
    let app = spawn_patient_app().await;
    let w = world(&app).await;
    let ada = csv_of(export(&app, Some(&w.ada), "sessions").await).await;
    assert_eq!(ada[0][0], "id");
    let mut ids = column(&ada, "id");
    ids.sort();
    let mut want: Vec<String> = w.ada_sessions.iter().map(|i| i.to_string()).collect();
    want.sort();
    assert_eq!(ids, want, "Ada's export holds her sessions only");
    assert_eq!(
        column(&ada, "topic")[0],
        "Your 1952 compiler paper",
        "decrypted"
    );
    let bob = csv_of(export(&app, Some(&w.bob), "sessions").await).await;
    assert_eq!(column(&bob, "id"), [w.bob_session.to_string()]);
    let grace = csv_of(export(&app, Some(&w.grace.token), "sessions").await).await;
    assert_eq!(
        grace.len(),
        4,
        "the researcher's three sessions and a header"
    );
    let admin = app.admin_token("admin@uni.example").await;
    let all = csv_of(export(&app, Some(&admin), "sessions").await).await;
    assert_eq!(all.len(), 4);
    // Times are ISO 8601.
    assert!(column(&all, "start")
        .iter()
        .all(|t| t.ends_with('Z') && t.contains('T')));
}

#[tokio::test]
async fn the_range_and_ndjson_and_the_dated_file_name() {
    let app = spawn_patient_app().await;
    let w = world(&app).await;
    let r = export(
        &app,
        Some(&w.ada),
        "sessions?format=json&from=2026-12-09&to=2026-12-10",
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/x-ndjson");
    let disposition = r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(
        disposition,
        "attachment; filename=\"colloquy-sessions-2026-12-07.ndjson\""
    );
    let body = r.text().await.unwrap();
    let lines: Vec<Value> = body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["id"], w.ada_sessions[1]);
    assert_eq!(lines[0]["price_minor"], 0);
    let r = export(&app, Some(&w.ada), "sessions").await;
    assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
}

#[tokio::test]
async fn text_that_a_spreadsheet_would_run_is_written_as_text() {
    let app = spawn_patient_app().await;
    app.clock.set(monday_morning());
    let grace = bookable_researcher(&app, "grace@yale.example").await;
    let ada = app.token("ada@uni.example").await;
    let body = json!({
        "researcher_id": grace.researcher_id,
        "start": at("2026-12-08T10:00:00Z").to_rfc3339(),
        "duration_minutes": 60,
        "topic": "=HYPERLINK(\"http://evil.example\",\"click\")"
    });
    let r = app
        .post_json("/api/v1/consulting/sessions", Some(&ada), &body)
        .await;
    assert_eq!(r.status(), 201);
    let rows = csv_of(export(&app, Some(&ada), "sessions").await).await;
    assert_eq!(
        column(&rows, "topic")[0],
        "'=HYPERLINK(\"http://evil.example\",\"click\")"
    );
    // Numbers stay numbers, even negative ones.
    assert_eq!(column(&rows, "price_minor")[0], "0");
}

#[tokio::test]
async fn admins_datasets_and_bad_requests_are_refused() {
    let app = spawn_patient_app().await;
    let w = world(&app).await;
    for dataset in ["users", "researchers"] {
        let r = export(&app, Some(&w.ada), dataset).await;
        assert_eq!(r.status(), 403, "{dataset}");
        let r = export(&app, Some(&w.grace.token), dataset).await;
        assert_eq!(r.status(), 403, "{dataset}");
    }
    assert_eq!(export(&app, None, "sessions").await.status(), 401);
    for (query, field) in [
        ("everything", "dataset"),
        ("sessions?format=xlsx", "format"),
        ("sessions?from=yesterday", "from"),
        ("sessions?from=2026-12-09&to=2026-12-08", "to"),
    ] {
        let r = export(&app, Some(&w.ada), query).await;
        assert_eq!(r.status(), 422, "{query}");
        let body: Value = r.json().await.unwrap();
        // The message next to the field does not repeat the field's name.
        let message = body["error"]["fields"][field].as_str().unwrap_or_default();
        assert!(message.starts_with("must"), "{query}: {body}");
    }
    let r = export(&app, Some(&w.ada), "sessions?colour=red").await;
    assert_eq!(r.status(), 422);
    let _ = error_code(r).await;

    let admin = app.admin_token("admin@uni.example").await;
    let users = csv_of(export(&app, Some(&admin), "users").await).await;
    assert!(column(&users, "email").contains(&"ada@uni.example".to_string()));
    let researchers = csv_of(export(&app, Some(&admin), "researchers").await).await;
    assert_eq!(researchers.len(), 2);
    for dataset in ["payments", "invoices", "reviews"] {
        let rows = csv_of(export(&app, Some(&w.ada), dataset).await).await;
        assert_eq!(rows.len(), 1, "{dataset}: the header row alone");
    }
}

#[tokio::test]
async fn each_export_is_audited_with_its_dataset_and_range() {
    let app = spawn_patient_app().await;
    let w = world(&app).await;
    let r = export(&app, Some(&w.ada), "sessions?from=2026-12-01").await;
    r.text().await.unwrap();
    assert!(app
        .audit_actions()
        .contains(&"export.downloaded".to_string()));
    let detail: String = app
        .db()
        .query_row(
            "SELECT detail FROM audit_log WHERE action = 'export.downloaded'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let detail: Value = serde_json::from_str(&detail).unwrap();
    assert_eq!(detail["dataset"], "sessions");
    assert!(
        detail["from"]
            .as_str()
            .unwrap()
            .starts_with("2026-12-01T00:00:00"),
        "{detail}"
    );
    assert_eq!(detail["scope"], "own");
}

#[tokio::test]
async fn more_rows_than_one_batch_come_out_complete_and_in_order() {
    let app = spawn_patient_app().await;
    let token = app.token("ada@uni.example").await;
    let me: i64 = app
        .db()
        .query_row(
            "SELECT id FROM users WHERE id = (SELECT max(id) FROM users)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let (now, keys) = (app.clock.now(), app.state.keys.clone());
    let n = colloquy::services::exports::BATCH * 2 + 7;
    app.state
        .db
        .write(move |tx| {
            use colloquy::db::repos::{consulting_sessions as s, researchers};
            let rid = researchers::insert(tx, "Bulk Researcher", None, None, now)?;
            for i in 0..n {
                let start = now - chrono::Duration::hours(i as i64 + 1);
                let new = s::NewSession {
                    researcher: rid,
                    reader: colloquy::domain::UserId(me),
                    paper: None,
                    query: None,
                    topic: "bulk",
                    start,
                    duration_minutes: 30,
                    price_minor: 0,
                    currency: "EUR",
                    expires_at: start,
                };
                s::insert(tx, &keys, &new, now)?;
            }
            Ok(())
        })
        .await
        .unwrap();
    let rows = csv_of(export(&app, Some(&token), "sessions").await).await;
    assert_eq!(rows.len(), n + 1);
    let ids: Vec<i64> = column(&rows, "id")
        .iter()
        .map(|i| i.parse().unwrap())
        .collect();
    assert!(
        ids.windows(2).all(|w| w[0] > w[1]),
        "newest first, no repeats"
    );
}

#[tokio::test]
async fn the_export_links_on_pages_download_with_the_browser_session() {
    let app = spawn_patient_app().await;
    let w = world(&app).await;
    let (web, _) = crate::pages::logged_in_browser(&app, "ada@uni.example").await;
    let page = web
        .get(app.url("/sessions"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(r#"href="/exports/sessions?format=csv""#));
    let r = web
        .get(app.url("/exports/sessions?format=csv"))
        .send()
        .await
        .unwrap();
    assert!(r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("colloquy-sessions-"));
    let rows = csv_of(r).await;
    assert_eq!(rows.len(), w.ada_sessions.len() + 1);
    let r = web.get(app.url("/exports/users")).send().await.unwrap();
    assert_eq!(r.status(), 403, "an admins' dataset");
    let anonymous = crate::pages::browser();
    let r = anonymous
        .get(app.url("/exports/sessions"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.url().path(),
        "/login",
        "signed-out browsers are sent to log in"
    );
}

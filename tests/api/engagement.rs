//! Engagement counters: searches, paper views, sign-ins and active
//! accounts reach `analytics_counters` as daily aggregates, in the
//! institution's zone, and nothing there names a person.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use colloquy::clock::Clock;
use colloquy::db::repos::analytics_counters;
use colloquy::domain::CounterKind;
use colloquy::services::{accounts, engagement, retention};
use serde_json::{json, Value};

use crate::helpers::{sample_paper_body, spawn_app_with, TestApp, PASSWORD};
use crate::pages::logged_in_browser;

type Row = (String, String, i64, i64);

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

/// An app whose clock reads `now` (and whose config `tweak` changed).
async fn app_at(now: &str, tweak: impl FnOnce(&mut colloquy::config::Config)) -> TestApp {
    let app = spawn_app_with(tweak).await;
    app.clock.set(at(now));
    app
}

/// Every counter row, ordered.
fn rows(app: &TestApp) -> Vec<Row> {
    app.db()
        .prepare(
            "SELECT day, kind, subject, count FROM analytics_counters ORDER BY day, kind, subject",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// The rows of one kind, as `(day, subject, count)`.
fn rows_of(app: &TestApp, kind: &str) -> Vec<(String, i64, i64)> {
    rows(app)
        .into_iter()
        .filter(|r| r.1 == kind)
        .map(|(day, _, subject, n)| (day, subject, n))
        .collect()
}

fn row(day: &str, subject: i64, n: i64) -> (String, i64, i64) {
    (day.to_string(), subject, n)
}

async fn flush(app: &TestApp) {
    engagement::flush(&app.state).await.unwrap();
}

async fn paper(app: &TestApp, token: &str, doi: &str) -> i64 {
    let mut body = sample_paper_body();
    body["doi"] = json!(doi);
    body["title"] = json!(format!("Attention, again ({doi})"));
    let r = app.create_paper(token, &body).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

async fn ok(app: &TestApp, path: &str, token: Option<&str>) {
    let r = app.get(path, token).await;
    assert_eq!(r.status(), 200, "{path}");
}

/// Some requests that need the account: each resolves its bearer token.
async fn busy(app: &TestApp, token: &str, requests: usize) {
    for _ in 0..requests {
        ok(app, "/api/v1/users/me", Some(token)).await;
    }
}

#[tokio::test]
async fn searches_views_and_sign_ins_are_counted_per_day_and_per_paper() {
    let app = app_at("2026-03-10T12:00:00Z", |_| {}).await;
    let token = app.token("reader@uni.edu").await;
    let a = paper(&app, &token, "10.1000/a").await;
    let b = paper(&app, &token, "10.1000/b").await;

    // Two searches with words: the API and the search page.
    ok(&app, "/api/v1/papers?q=attention", None).await;
    ok(&app, "/papers?q=attention", None).await;
    // Not searches: no words, the home page, an admin-free listing.
    ok(&app, "/api/v1/papers", None).await;
    ok(&app, "/api/v1/papers?q=%20%20", None).await;
    ok(&app, "/papers", None).await;
    ok(&app, "/", None).await;

    // Paper A three times (API, API, page), paper B once; a missing paper
    // is no view.
    ok(&app, &format!("/api/v1/papers/{a}"), None).await;
    ok(&app, &format!("/api/v1/papers/{a}"), Some(&token)).await;
    ok(&app, &format!("/papers/{a}"), None).await;
    ok(&app, &format!("/api/v1/papers/{b}"), None).await;
    assert_eq!(app.get("/api/v1/papers/999999", None).await.status(), 404);

    // Signed in twice: the API (above) and the log-in form. A wrong
    // password and a token refresh are no sign-ins.
    logged_in_browser(&app, "reader@uni.edu").await;
    assert_eq!(
        app.login("reader@uni.edu", "wrong password!")
            .await
            .status(),
        401
    );
    let pair = app.signed_in("other@uni.edu").await;
    let r = app
        .post_json(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": pair["refresh_token"]}),
        )
        .await;
    assert_eq!(r.status(), 200);

    assert!(rows(&app).is_empty(), "nothing is written before a flush");
    flush(&app).await;
    let day = "2026-03-10";
    assert_eq!(rows_of(&app, "search"), [row(day, 0, 2)]);
    assert_eq!(
        rows_of(&app, "paper_view"),
        [row(day, a, 3), row(day, b, 1)]
    );
    assert_eq!(rows_of(&app, "sign_in"), [row(day, 0, 3)]);
    assert_eq!(rows_of(&app, "active_day"), [row(day, 0, 2)]);
    assert_eq!(rows_of(&app, "active_week"), [row("2026-03-09", 0, 2)]);
    assert_eq!(rows_of(&app, "active_month"), [row("2026-03-01", 0, 2)]);

    // A second flush with nothing new changes nothing.
    let before = rows(&app);
    flush(&app).await;
    assert_eq!(rows(&app), before);

    // The reader analytics use: views per day over all papers, and per
    // paper over a range.
    let conn = app.db();
    let views_in = |from: &str, to: &str| {
        let mut days = std::collections::BTreeMap::<String, i64>::new();
        let mut papers = std::collections::BTreeMap::<i64, i64>::new();
        analytics_counters::each(&conn, from, to, |d, kind, subject, n| {
            if kind == CounterKind::PaperView.as_str() {
                *days.entry(d.to_string()).or_default() += n;
                *papers.entry(subject).or_default() += n;
            }
        })
        .unwrap();
        (days.into_iter().collect::<Vec<_>>(), papers)
    };
    let (views, _) = views_in(day, "2026-03-11");
    assert_eq!(views, [(day.to_string(), 4)]);
    let (none, _) = views_in("2026-03-11", "2026-03-12");
    assert!(none.is_empty());
    let (_, per_paper) = views_in("2026-03-01", "2026-04-01");
    let top = per_paper.into_iter().max_by_key(|(p, n)| (*n, -p)).unwrap();
    assert_eq!(top, (a, 3));
}

#[tokio::test]
async fn an_account_is_active_once_a_day_and_once_a_week_however_busy() {
    // Tuesday.
    let app = app_at("2026-03-10T09:00:00Z", |_| {}).await;
    let token = app.token("busy@uni.edu").await;
    busy(&app, &token, 10).await;
    flush(&app).await;
    busy(&app, &token, 10).await;
    flush(&app).await;
    let web = logged_in_browser(&app, "busy@uni.edu").await.0;
    for _ in 0..3 {
        assert_eq!(
            web.get(app.url("/account")).send().await.unwrap().status(),
            200
        );
    }
    flush(&app).await;
    assert_eq!(rows_of(&app, "active_day"), [row("2026-03-10", 0, 1)]);
    assert_eq!(rows_of(&app, "active_week"), [row("2026-03-09", 0, 1)]);
    assert_eq!(rows_of(&app, "active_month"), [row("2026-03-01", 0, 1)]);

    // A restart forgets who was seen today; the account's stored periods
    // still keep it from counting twice.
    let restarted = app.state.modified(|s| {
        s.engagement = Arc::new(engagement::Counters::new(s.config.institution.zone()))
    });
    accounts::authenticate_bearer(&restarted, &token)
        .await
        .unwrap();
    engagement::flush(&restarted).await.unwrap();
    assert_eq!(rows_of(&app, "active_day"), [row("2026-03-10", 0, 1)]);

    // Wednesday, same week: a new day, not a new week or month.
    app.clock.advance(Duration::days(1));
    let r = app.login("busy@uni.edu", PASSWORD).await;
    let token: Value = r.json().await.unwrap();
    busy(&app, token["access_token"].as_str().unwrap(), 5).await;
    flush(&app).await;
    assert_eq!(
        rows_of(&app, "active_day"),
        [row("2026-03-10", 0, 1), row("2026-03-11", 0, 1)]
    );
    assert_eq!(rows_of(&app, "active_week"), [row("2026-03-09", 0, 1)]);
    assert_eq!(rows_of(&app, "active_month"), [row("2026-03-01", 0, 1)]);

    // The account keeps only its latest periods.
    let stored: (String, String, String) = app
        .db()
        .query_row(
            "SELECT active_day, active_week, active_month FROM users",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(
        stored,
        (
            "2026-03-11".into(),
            "2026-03-09".into(),
            "2026-03-01".into()
        )
    );
}

#[tokio::test]
async fn a_day_is_the_institutions_day_not_utcs() {
    // 04:30 UTC on Sunday 8 March is still Saturday evening in New York.
    let app = app_at("2026-03-08T04:30:00Z", |c| {
        c.institution.timezone = "America/New_York".into();
    })
    .await;
    app.token("ny@uni.edu").await;
    ok(&app, "/api/v1/papers?q=attention", None).await;
    flush(&app).await;
    assert_eq!(rows_of(&app, "search"), [row("2026-03-07", 0, 1)]);
    assert_eq!(rows_of(&app, "active_day"), [row("2026-03-07", 0, 1)]);
    assert_eq!(rows_of(&app, "active_week"), [row("2026-03-02", 0, 1)]);

    // An hour later it is Sunday there: a new day, the same Monday week.
    app.clock.advance(Duration::hours(1));
    ok(&app, "/api/v1/papers?q=attention", None).await;
    let token = app
        .login("ny@uni.edu", PASSWORD)
        .await
        .json::<Value>()
        .await
        .unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    busy(&app, &token, 1).await;
    flush(&app).await;
    assert_eq!(
        rows_of(&app, "search"),
        [row("2026-03-07", 0, 1), row("2026-03-08", 0, 1)]
    );
    assert_eq!(
        rows_of(&app, "active_day"),
        [row("2026-03-07", 0, 1), row("2026-03-08", 0, 1)]
    );
    assert_eq!(rows_of(&app, "active_week"), [row("2026-03-02", 0, 1)]);
    assert_eq!(rows_of(&app, "active_month"), [row("2026-03-01", 0, 1)]);
}

#[tokio::test]
async fn the_analytics_job_deletes_only_counters_older_than_the_retention() {
    let app = app_at("2026-03-10T12:00:00Z", |c| c.analytics.retention_days = 30).await;
    let days = ["2026-01-01", "2026-02-07", "2026-02-08", "2026-03-10"];
    let seed: Vec<_> = days
        .iter()
        .map(|d| (d.to_string(), CounterKind::Search, 0, 5))
        .collect();
    app.state
        .db
        .write(move |tx| analytics_counters::add(tx, &seed))
        .await
        .unwrap();
    let deleted = retention::analytics_counters(&app.state, app.clock.now())
        .await
        .unwrap();
    assert_eq!(deleted, 2);
    assert_eq!(
        rows_of(&app, "search"),
        [row("2026-02-08", 0, 5), row("2026-03-10", 0, 5)]
    );
    // Run again: nothing more is old enough.
    let again = retention::analytics_counters(&app.state, app.clock.now())
        .await
        .unwrap();
    assert_eq!(again, 0);
}

#[tokio::test]
async fn counters_name_no_one() {
    let app = app_at("2026-03-10T12:00:00Z", |_| {}).await;
    let mut papers = Vec::new();
    for i in 0..3 {
        let token = app.token(&format!("r{i}@uni.edu")).await;
        ok(&app, "/api/v1/papers?q=attention", Some(&token)).await;
        papers.push(paper(&app, &token, &format!("10.1000/p{i}")).await);
        ok(&app, &format!("/api/v1/papers/{}", papers[i]), Some(&token)).await;
    }
    flush(&app).await;
    let all = rows(&app);
    assert!(!all.is_empty());
    for (_, kind, subject, _) in &all {
        if kind == "paper_view" {
            assert!(papers.contains(subject), "{subject} is not a paper");
        } else {
            assert_eq!(*subject, 0, "{kind} names a subject");
        }
    }
    let columns: Vec<String> = app
        .db()
        .prepare("SELECT name FROM pragma_table_info('analytics_counters')")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(columns, ["day", "kind", "subject", "count"]);
}

#[tokio::test]
async fn a_failed_flush_keeps_its_counts_for_the_next() {
    let app = app_at("2026-03-10T12:00:00Z", |_| {}).await;
    let token = app.token("kept@uni.edu").await;
    ok(&app, "/api/v1/papers?q=attention", None).await;
    let conn = app.db();
    conn.execute_batch(
        "CREATE TRIGGER full_disk BEFORE INSERT ON analytics_counters
         BEGIN SELECT RAISE(ABORT, 'simulated failure'); END;",
    )
    .unwrap();
    assert!(engagement::flush(&app.state).await.is_err());
    // The failed transaction left the account's periods unset too.
    let day: Option<String> = conn
        .query_row("SELECT active_day FROM users", [], |r| r.get(0))
        .unwrap();
    assert_eq!(day, None);

    ok(&app, "/api/v1/papers?q=attention", None).await;
    busy(&app, &token, 2).await;
    conn.execute_batch("DROP TRIGGER full_disk").unwrap();
    flush(&app).await;
    assert_eq!(rows_of(&app, "search"), [row("2026-03-10", 0, 2)]);
    assert_eq!(rows_of(&app, "sign_in"), [row("2026-03-10", 0, 1)]);
    assert_eq!(rows_of(&app, "active_day"), [row("2026-03-10", 0, 1)]);
}

#[tokio::test]
async fn the_flusher_writes_counts_on_its_own_and_the_rest_at_stop() {
    let app = app_at("2026-03-10T12:00:00Z", |c| c.analytics.flush_secs = 1).await;
    let flusher = engagement::spawn(app.state.clone());
    ok(&app, "/api/v1/papers?q=attention", None).await;
    let mut waited = 0;
    while rows_of(&app, "search").is_empty() && waited < 50 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        waited += 1;
    }
    assert_eq!(rows_of(&app, "search"), [row("2026-03-10", 0, 1)]);
    ok(&app, "/api/v1/papers?q=attention", None).await;
    engagement::stop(&app.state, Some(flusher)).await.unwrap();
    assert_eq!(rows_of(&app, "search"), [row("2026-03-10", 0, 2)]);
}

//! Retention: each kind's rows just outside its window go and those just
//! inside stay; profiles with sessions are kept and counted; a dry run
//! changes nothing; the job runs as the scheduler runs it; 0 keeps a kind.

use chrono::{DateTime, Duration, Utc};
use colloquy::clock::Clock;
use colloquy::db::repos::mail_outbox::{self, Content};
use colloquy::db::ts;
use colloquy::domain::{Email, MailId, MailStatus};
use colloquy::services::retention::{self, Kind, Source};
use rusqlite::params;

use crate::helpers::{spawn_app, spawn_app_with, TestApp, PASSWORD};

/// A minute either side of a window's edge.
const EDGE: i64 = 1;

pub(crate) fn outside(now: DateTime<Utc>, days: i64) -> String {
    ts(now - Duration::days(days) - Duration::minutes(EDGE))
}

pub(crate) fn inside(now: DateTime<Utc>, days: i64) -> String {
    ts(now - Duration::days(days) + Duration::minutes(EDGE))
}

pub(crate) fn count(app: &TestApp, sql: &str) -> i64 {
    app.db().query_row(sql, [], |r| r.get(0)).unwrap()
}

pub(crate) async fn run(app: &TestApp) -> retention::Report {
    retention::run(&app.state, app.clock.now(), false, Source::Job)
        .await
        .unwrap()
}

/// A mail in the outbox, with `status`, created at `at`.
pub(crate) async fn mail(app: &TestApp, subject: &str, status: MailStatus, at: String) -> MailId {
    let keys = app.state.keys.clone();
    let now = app.clock.now();
    let subject = subject.to_string();
    app.state
        .db
        .write(move |tx| {
            let content = Content {
                subject: subject.clone(),
                text: format!("Dear Ada, {subject}"),
                html: String::new(),
                headers: vec![],
                attachments: vec![],
            };
            let to = Email::parse("ada@uni.example").unwrap();
            let id =
                mail_outbox::insert(tx, &keys, "session_accepted", &to, &content, status, now)?;
            tx.execute(
                "UPDATE mail_outbox SET created_at = ?2 WHERE id = ?1",
                params![id, at],
            )?;
            Ok(id)
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn provider_details_of_finished_jobs_go_after_their_window() {
    let app = spawn_app().await;
    let now = app.clock.now();
    let conn = app.db();
    let at = ts(now);
    conn.execute(
        "INSERT INTO collection_jobs (id, kind, name, dedupe_key, status, created_at) VALUES
           (1, 'person', 'Ada', 'a', 'completed', ?1), (2, 'person', 'Bea', 'b', 'running', ?1)",
        [&at],
    )
    .unwrap();
    for (job, index, updated) in [
        (1, 0, outside(now, 30)),
        (1, 1, inside(now, 30)),
        (2, 0, outside(now, 30)),
    ] {
        conn.execute(
            "INSERT INTO collection_steps (job_id, author_index, provider, outcome, detail, updated_at)
             VALUES (?1, ?2, 'firecrawl', 'failed', 'firecrawl answered 500', ?3)",
            params![job, index, updated],
        )
        .unwrap();
    }
    let report = run(&app).await;
    assert_eq!(report.rows(Kind::ProviderPayloads), 1);
    let kept: Vec<(i64, i64)> = conn
        .prepare("SELECT job_id, author_index FROM collection_steps WHERE detail IS NOT NULL ORDER BY 1, 2")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        kept,
        [(1, 1), (2, 0)],
        "only the finished job's old step lost it"
    );
    assert_eq!(count(&app, "SELECT COUNT(*) FROM collection_steps"), 3);
}

fn profile(app: &TestApp, name: &str, collected_at: &str, owner: Option<i64>) -> i64 {
    let conn = app.db();
    conn.execute(
        "INSERT INTO researchers (name, user_id, collected_at, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?3, ?3)",
        params![name, owner, collected_at],
    )
    .unwrap();
    conn.last_insert_rowid()
}

fn user_id(app: &TestApp, name: &str) -> i64 {
    app.db()
        .query_row("SELECT id FROM users WHERE name = ?1", [name], |r| r.get(0))
        .unwrap()
}

#[tokio::test]
async fn unclaimed_profiles_go_after_two_years_unless_sessions_or_claims_hold_them() {
    let app = spawn_app().await;
    app.register("reader@uni.edu", "Reader").await;
    let reader = user_id(&app, "Reader");
    let now = app.clock.now();
    let stale = profile(&app, "Stale Unclaimed", &outside(now, 730), None);
    let fresh = profile(&app, "Fresh Unclaimed", &inside(now, 730), None);
    let owned = profile(&app, "Stale Owned", &outside(now, 730), Some(reader));
    let booked = profile(&app, "Stale Booked", &outside(now, 730), None);
    let claimed = profile(&app, "Stale Claimed", &outside(now, 730), None);
    let conn = app.db();
    let at = ts(now);
    conn.execute(
        "INSERT INTO consulting_sessions (researcher_id, reader_id, topic_enc, status, start_at, end_at,
           duration_minutes, price_minor, currency, expires_at, created_at, updated_at)
         VALUES (?1, ?2, 'x', 'completed', ?3, ?3, 30, 0, 'EUR', ?3, ?3, ?3)",
        params![booked, reader, outside(now, 800)],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO claim_requests (researcher_id, user_id, status, created_at) VALUES (?1, ?2, 'open', ?3)",
        params![claimed, reader, at],
    )
    .unwrap();

    let dry = retention::run(&app.state, now, true, Source::Cli)
        .await
        .unwrap();
    let k = dry
        .kinds
        .iter()
        .find(|k| k.kind == Kind::UnclaimedProfiles)
        .unwrap();
    assert_eq!(k.rows, 1);
    assert_eq!(k.oldest.as_deref(), Some(outside(now, 730).as_str()));
    let kept: Vec<_> = k.kept.iter().map(|c| (c.reason, c.rows)).collect();
    assert_eq!(kept, [("with_sessions", 1), ("claim_or_merge_open", 1)]);

    let report = run(&app).await;
    assert_eq!(report.rows(Kind::UnclaimedProfiles), 1);
    let left: Vec<i64> = conn
        .prepare("SELECT id FROM researchers ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(left, [fresh, owned, booked, claimed]);
    assert!(!left.contains(&stale));
    assert_eq!(count(&app, "SELECT COUNT(*) FROM consulting_sessions"), 1);
    let detail: String = conn
        .query_row(
            "SELECT detail FROM audit_log WHERE action = 'retention.run'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let detail: serde_json::Value = serde_json::from_str(&detail).unwrap();
    assert_eq!(detail["removed"]["unclaimed_profiles"], 1);
    assert_eq!(
        detail["kept"]["unclaimed_profiles"],
        serde_json::json!({"with_sessions": 1, "claim_or_merge_open": 1})
    );
}

#[tokio::test]
async fn ended_tokens_and_old_idempotency_keys_go_after_their_window() {
    let app = spawn_app().await;
    for name in ["old", "new"] {
        let email = format!("{name}@uni.edu");
        assert_eq!(app.register(&email, name).await.status(), 201);
        assert_eq!(app.login(&email, PASSWORD).await.status(), 200);
    }
    let now = app.clock.now();
    let conn = app.db();
    let (old, new) = (user_id(&app, "old"), user_id(&app, "new"));
    conn.execute(
        "UPDATE auth_sessions SET expires_at = ?2 WHERE user_id = ?1",
        params![old, outside(now, 1)],
    )
    .unwrap();
    conn.execute(
        "UPDATE auth_sessions SET expires_at = ?2 WHERE user_id = ?1",
        params![new, inside(now, 1)],
    )
    .unwrap();
    for (jti, purpose, used) in [
        ("r-old", "register", outside(now, 365 + 1)),
        ("r-new", "register", inside(now, 365 + 1)),
        ("o-old", "opt_out", outside(now, 3650 + 1)),
        ("o-new", "opt_out", outside(now, 365 + 1)),
    ] {
        conn.execute(
            "INSERT INTO used_tokens (jti, purpose, used_at) VALUES (?1, ?2, ?3)",
            params![jti, purpose, used],
        )
        .unwrap();
    }
    let researcher = profile(&app, "Booked", &ts(now), None);
    conn.execute(
        "INSERT INTO consulting_sessions (id, researcher_id, reader_id, topic_enc, status, start_at, end_at,
           duration_minutes, price_minor, currency, expires_at, created_at, updated_at)
         VALUES (7, ?1, ?2, 'x', 'requested', ?3, ?3, 30, 0, 'EUR', ?3, ?3, ?3)",
        params![researcher, old, ts(now)],
    )
    .unwrap();
    for (key, at) in [("k-old", outside(now, 1)), ("k-new", inside(now, 1))] {
        conn.execute(
            "INSERT INTO idempotency_keys (user_id, key, request_hash, session_id, created_at)
             VALUES (?1, ?2, 'h', 7, ?3)",
            params![old, key, at],
        )
        .unwrap();
    }
    let sessions_before = count(&app, "SELECT COUNT(*) FROM auth_sessions");

    let report = run(&app).await;
    // One log-in session, two used links, one idempotency key.
    assert_eq!(report.rows(Kind::ExpiredTokens), 1 + 2 + 1);
    let keys: Vec<String> = conn
        .prepare("SELECT key FROM idempotency_keys")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(keys, ["k-new"]);
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM auth_sessions"),
        sessions_before - 1
    );
    assert_eq!(
        count(
            &app,
            &format!("SELECT COUNT(*) FROM auth_sessions WHERE user_id = {new}")
        ),
        1
    );
    let jtis: Vec<String> = conn
        .prepare("SELECT jti FROM used_tokens ORDER BY jti")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(jtis, ["o-new", "r-new"]);
}

#[tokio::test]
async fn counters_past_the_analytics_retention_go_by_day() {
    let app = spawn_app_with(|c| c.analytics.retention_days = 30).await;
    let today = app.clock.now().date_naive();
    let day = |d: i64| (today - Duration::days(d)).format("%Y-%m-%d").to_string();
    let conn = app.db();
    for d in [31, 30, 0] {
        conn.execute(
            "INSERT INTO analytics_counters (day, kind, subject, count) VALUES (?1, 'search', 0, 1)",
            [day(d)],
        )
        .unwrap();
    }
    let dry = retention::run(&app.state, app.clock.now(), true, Source::Cli)
        .await
        .unwrap();
    let k = dry
        .kinds
        .iter()
        .find(|k| k.kind == Kind::AnalyticsCounters)
        .unwrap();
    assert_eq!((k.rows, k.oldest.clone()), (1, Some(day(31))));
    assert_eq!(run(&app).await.rows(Kind::AnalyticsCounters), 1);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM analytics_counters"), 2);
}

#[tokio::test]
async fn a_dry_run_changes_nothing_and_a_zero_keeps_a_kind_forever() {
    let app = spawn_app_with(|c| {
        c.retention.unclaimed_profiles_days = 0;
        c.retention.batch_size = 2;
    })
    .await;
    let now = app.clock.now();
    for i in 0..5 {
        mail(
            &app,
            &format!("Old {i}"),
            MailStatus::Sent,
            outside(now, 90),
        )
        .await;
    }
    profile(&app, "Ancient Unclaimed", &outside(now, 5000), None);
    let before_audit = app.audit_actions().len();

    let dry = retention::run(&app.state, now, true, Source::Cli)
        .await
        .unwrap();
    assert!(dry.dry_run);
    assert_eq!(dry.rows(Kind::MailBodies), 5);
    let profiles = dry
        .kinds
        .iter()
        .find(|k| k.kind == Kind::UnclaimedProfiles)
        .unwrap();
    assert!(profiles.keeps_forever() && profiles.rows == 0);
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM mail_outbox WHERE content_removed_at IS NULL"
        ),
        5
    );
    assert_eq!(
        app.audit_actions().len(),
        before_audit,
        "a dry run is not audited"
    );

    // Batches of two still reach every row.
    let report = run(&app).await;
    assert_eq!(report.rows(Kind::MailBodies), 5);
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM mail_outbox WHERE content_removed_at IS NULL"
        ),
        0
    );
    assert_eq!(count(&app, "SELECT COUNT(*) FROM researchers"), 1);
    let detail: String = app
        .db()
        .query_row(
            "SELECT detail FROM audit_log WHERE action = 'retention.run'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let detail: serde_json::Value = serde_json::from_str(&detail).unwrap();
    assert_eq!(
        detail["kept_forever"],
        serde_json::json!(["unclaimed_profiles"])
    );
    assert_eq!(detail["source"], "job");
}

#[tokio::test]
async fn the_scheduled_job_runs_retention_and_leaves_one_audit_row() {
    let app = spawn_app().await;
    let now = app.clock.now();
    mail(&app, "Old", MailStatus::Sent, outside(now, 90)).await;
    let summary = colloquy::jobs::retention_job(app.state.clone())
        .await
        .unwrap();
    assert!(summary.contains("mail_bodies 1"), "{summary}");
    let runs = app
        .audit_actions()
        .iter()
        .filter(|a| *a == "retention.run")
        .count();
    assert_eq!(runs, 1);
    // A second run finds nothing more and still records itself.
    let summary = colloquy::jobs::retention_job(app.state.clone())
        .await
        .unwrap();
    assert!(summary.contains("mail_bodies 0"), "{summary}");
}

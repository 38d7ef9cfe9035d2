use colloquy::clock::Clock;
use colloquy::services::{accounts, housekeeping};
use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn housekeeping_deletes_expired_sessions_and_setup_links_only() {
    let app = spawn_app().await;
    let old = app.signed_in("old@uni.edu").await;
    accounts::ensure_setup_link(&app.state).await.unwrap();
    let report = housekeeping::run(&app.state, app.clock.now())
        .await
        .unwrap();
    assert_eq!(report.tokens_deleted.values().sum::<u64>(), 0, "{report:?}");

    // 32 days later the refresh token and the setup link ended more than
    // `[retention] expired_tokens_days` (1) ago.
    app.clock.advance(chrono::Duration::days(32));
    let fresh = app.signed_in("fresh@uni.edu").await;
    let report = housekeeping::run(&app.state, app.clock.now())
        .await
        .unwrap();
    assert_eq!(report.deleted("auth_sessions"), 1);
    assert!(report.deleted("setup_links") >= 1);
    let r = app
        .post_json(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": old["refresh_token"]}),
        )
        .await;
    assert_eq!(r.status(), 401);
    let r = app
        .post_json(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": fresh["refresh_token"]}),
        )
        .await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn an_empty_schedule_disables_a_job_and_a_bad_one_is_refused() {
    let app = spawn_app().await;
    // spawn_app disables housekeeping with an empty schedule: start() is fine.
    let mut s = colloquy::jobs::start(&app.state).await.unwrap();
    s.shutdown().await.unwrap();
    let mut bad = (*app.state.config).clone();
    bad.jobs.housekeeping = "every tuesday".into();
    let state = app.state.with_config(bad);
    let err = colloquy::jobs::start(&state)
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("jobs.housekeeping"), "{err}");
}

#[tokio::test]
async fn stale_profiles_are_queued_for_a_refresh() {
    let app = spawn_app().await;
    let state = &app.state;
    let now = app.clock.now();
    let old = colloquy::db::ts(now - chrono::Duration::days(91));
    let fresh = colloquy::db::ts(now - chrono::Duration::days(3));
    let conn = crate::helpers::rusqlite_conn(&app.db_path());
    for (name, at) in [("Old Researcher", &old), ("Fresh Researcher", &fresh)] {
        conn.execute(
            "INSERT INTO researchers (name, affiliation, collected_at, created_at, updated_at) VALUES (?1, 'Uni', ?2, ?2, ?2)",
            rusqlite::params![name, at],
        )
        .unwrap();
    }
    let queued = colloquy::services::collection::refresh_stale(state, now)
        .await
        .unwrap();
    assert_eq!(queued, 1);
    let (name, kind): (String, String) = conn
        .query_row("SELECT name, kind FROM collection_jobs", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!((name.as_str(), kind.as_str()), ("Old Researcher", "person"));
    // Running it again while that job is queued adds nothing.
    assert_eq!(
        colloquy::services::collection::refresh_stale(state, now)
            .await
            .unwrap(),
        0
    );
}

//! `colloquy demo --scale`: the generated data set is whole, consistent
//! with the schema and the lifecycle, and the same seed gives the same
//! data. Run at a tiny scale (20 researchers, 100 readers, 500 sessions).

use chrono::{DateTime, Utc};
use colloquy::services::demo_scale::{self, ScaleSpec};
use colloquy::services::sessions::jobs;
use rusqlite::Connection;

use crate::helpers::{spawn_app, TestApp};

fn tiny(seed: u64) -> ScaleSpec {
    ScaleSpec {
        researchers: 20,
        papers: None,
        readers: 100,
        sessions: 500,
        days: 120,
        seed,
        force: false,
    }
}

fn now() -> DateTime<Utc> {
    "2026-11-26T10:30:00Z".parse().unwrap()
}

async fn generated(seed: u64) -> (TestApp, demo_scale::ScaleReport) {
    let app = spawn_app().await;
    app.clock.set(now());
    let report = demo_scale::generate(&app.state, &tiny(seed), |_| {})
        .await
        .unwrap();
    (app, report)
}

fn count(db: &Connection, sql: &str) -> i64 {
    db.query_row(sql, [], |r| r.get(0))
        .unwrap_or_else(|e| panic!("{e}: {sql}"))
}

/// Asserts that `sql` (a count of offending rows) finds none.
fn none(db: &Connection, what: &str, sql: &str) {
    assert_eq!(count(db, sql), 0, "{what}");
}

#[tokio::test]
async fn a_generated_data_set_has_the_counts_asked_for() {
    let (app, report) = generated(3).await;
    let db = app.db();
    assert_eq!(report.sessions, 500);
    assert_eq!(count(&db, "SELECT count(*) FROM consulting_sessions"), 500);
    assert_eq!(count(&db, "SELECT count(*) FROM researchers"), 20);
    assert_eq!(
        count(&db, "SELECT count(*) FROM users WHERE role = 'user'"),
        100
    );
    assert_eq!(report.researcher_accounts, 14);
    assert_eq!(
        count(&db, "SELECT count(*) FROM researchers r JOIN users u ON u.id = r.user_id AND u.role = 'researcher'"),
        14
    );
    for (n, table) in [
        (report.events, "session_events"),
        (report.payments, "session_payments"),
        (report.ledger_rows, "ledger"),
        (report.reviews, "reviews"),
        (report.subscriptions, "subscriptions"),
        (report.counters, "analytics_counters"),
        (report.papers, "papers"),
        (report.papers, "papers_fts"),
    ] {
        assert_eq!(
            count(&db, &format!("SELECT count(*) FROM {table}")) as usize,
            n,
            "{table}"
        );
    }
    // Every status, every kind of money movement, three currencies.
    assert_eq!(
        count(
            &db,
            "SELECT count(DISTINCT status) FROM consulting_sessions"
        ),
        7
    );
    assert_eq!(count(&db, "SELECT count(DISTINCT kind) FROM ledger"), 5);
    assert_eq!(count(&db, "SELECT count(DISTINCT currency) FROM ledger"), 3);
    assert!(report.reviews > 0 && report.subscriptions > 0 && report.counters > 0);
    // The bookable ones are bookable: account, consent, settings, times.
    none(
        &db,
        "registered researchers are bookable",
        "SELECT count(*) FROM researchers r WHERE r.status = 'registered' AND (r.user_id IS NULL
            OR r.listing_consent_at IS NULL
            OR NOT EXISTS (SELECT 1 FROM researcher_settings s WHERE s.researcher_id = r.id)
            OR NOT EXISTS (SELECT 1 FROM availability a WHERE a.researcher_id = r.id))",
    );
}

#[tokio::test]
async fn every_session_tells_its_story_in_order() {
    let (app, _) = generated(3).await;
    let db = app.db();
    none(
        &db,
        "the first event is the reader's request, at creation",
        "SELECT count(*) FROM consulting_sessions s WHERE NOT EXISTS (
            SELECT 1 FROM session_events e WHERE e.session_id = s.id AND e.event = 'requested'
               AND e.actor = 'reader' AND e.at = s.created_at
               AND e.id = (SELECT min(id) FROM session_events WHERE session_id = s.id))",
    );
    none(
        &db,
        "the last event names the status",
        "SELECT count(*) FROM consulting_sessions s
           JOIN session_events e ON e.id = (SELECT max(id) FROM session_events WHERE session_id = s.id)
          WHERE NOT (e.event = s.status OR (s.status = 'no_show' AND e.event = 'no_show_' || s.no_show_party))",
    );
    none(
        &db,
        "events follow one another in time, none in the future",
        "SELECT count(*) FROM session_events a JOIN session_events b
            ON b.session_id = a.session_id AND b.id > a.id AND b.at < a.at",
    );
    let future = format!(
        "SELECT count(*) FROM session_events WHERE at > '{}'",
        colloquy::db::ts(now())
    );
    none(&db, "no event after now", &future);
    none(
        &db,
        "requests come days before the start",
        "SELECT count(*) FROM consulting_sessions WHERE julianday(start_at) - julianday(created_at) < 1",
    );
    let live = format!(
        "SELECT count(*) FROM consulting_sessions WHERE status = 'requested'
            AND (start_at <= '{n}' OR expires_at <= '{n}')",
        n = colloquy::db::ts(now())
    );
    none(&db, "open requests are for the future and unexpired", &live);
    none(
        &db,
        "no two sessions of a researcher overlap, whatever their status",
        "SELECT count(*) FROM consulting_sessions a JOIN consulting_sessions b
            ON b.researcher_id = a.researcher_id AND b.id > a.id
           AND a.start_at < b.end_at AND b.start_at < a.end_at",
    );
    none(
        &db,
        "sessions only with researchers who had consented, by verified readers who had joined",
        "SELECT count(*) FROM consulting_sessions s JOIN researchers r ON r.id = s.researcher_id
           JOIN users u ON u.id = s.reader_id
          WHERE r.user_id IS NULL OR r.listing_consent_at > s.created_at
             OR u.email_verified_at IS NULL OR u.created_at > s.created_at",
    );
    // The real jobs, run now, find nothing left to expire, remind or complete.
    let report = jobs::run(&app.state, now()).await.unwrap();
    assert_eq!(report, jobs::Report::default());
}

#[tokio::test]
async fn payments_ledger_and_reviews_agree_with_the_sessions() {
    let (app, _) = generated(3).await;
    let db = app.db();
    none(
        &db,
        "every captured payment has its capture",
        "SELECT count(*) FROM session_payments p
          WHERE p.status IN ('captured', 'refunded', 'partially_refunded') AND NOT EXISTS (
            SELECT 1 FROM ledger l WHERE l.session_id = p.session_id AND l.kind = 'capture'
               AND l.amount_minor = p.amount_minor AND l.currency = p.currency)",
    );
    none(
        &db,
        "refunds add up to what the payment says",
        "SELECT count(*) FROM session_payments p WHERE p.refunded_minor != (
            SELECT coalesce(sum(amount_minor), 0) FROM ledger l WHERE l.session_id = p.session_id AND l.kind = 'refund')",
    );
    none(
        &db,
        "money follows the session: held while requested, taken once accepted, let go otherwise",
        "SELECT count(*) FROM session_payments p JOIN consulting_sessions s ON s.id = p.session_id
          WHERE (p.status IN ('pending', 'authorized') AND s.status != 'requested')
             OR (p.status = 'canceled' AND s.status NOT IN ('declined', 'expired', 'cancelled'))
             OR (p.status IN ('captured', 'refunded', 'partially_refunded')
                 AND s.status NOT IN ('accepted', 'completed', 'no_show', 'cancelled'))
             OR p.currency != s.currency",
    );
    none(
        &db,
        "a release only for a card that was held",
        "SELECT count(*) FROM ledger l WHERE l.kind = 'release' AND NOT EXISTS (
            SELECT 1 FROM ledger a WHERE a.kind = 'authorization' AND a.session_id = l.session_id AND a.id < l.id)",
    );
    none(
        &db,
        "the ledger is in time order",
        "SELECT count(*) FROM ledger a JOIN ledger b ON b.id = a.id + 1 WHERE b.created_at < a.created_at",
    );
    assert!(
        count(
            &db,
            "SELECT count(*) FROM ledger r JOIN ledger c ON c.session_id = r.session_id AND c.kind = 'capture'
              WHERE r.kind = 'refund' AND substr(r.created_at, 1, 7) > substr(c.created_at, 1, 7)"
        ) > 0,
        "some refunds fall in a later month than their capture"
    );
    none(
        &db,
        "reviews only of completed sessions, by their reader",
        "SELECT count(*) FROM reviews v JOIN consulting_sessions s ON s.id = v.session_id
          WHERE s.status != 'completed' OR v.author_id != s.reader_id OR v.reader_id != s.reader_id
             OR v.researcher_id != s.researcher_id OR v.created_at < s.end_at",
    );
    none(
        &db,
        "the stored ratings agree with the published reviews",
        "SELECT count(*) FROM researchers r LEFT JOIN researcher_ratings t ON t.researcher_id = r.id
          WHERE (coalesce(t.count, 0), coalesce(t.total, 0), coalesce(t.r1, 0), coalesce(t.r5, 0)) IS NOT (
            SELECT count(*), coalesce(sum(rating), 0), count(*) FILTER (WHERE rating = 1),
                   count(*) FILTER (WHERE rating = 5)
              FROM reviews v WHERE v.researcher_id = r.id AND v.side = 'reader' AND v.status = 'published')",
    );
    for id in 1..=20 {
        let ok = app
            .state
            .db
            .read(move |c| {
                colloquy::services::reviews::ratings::in_step(c, colloquy::domain::ResearcherId(id))
            })
            .await
            .unwrap();
        assert!(ok, "researcher {id}'s rating is in step");
    }
    none(
        &db,
        "no day counts fewer active accounts than name it as their last",
        "SELECT count(*) FROM (SELECT active_day d, count(*) n FROM users WHERE active_day IS NOT NULL GROUP BY active_day) u
           JOIN analytics_counters c ON c.day = u.d AND c.kind = 'active_day' AND c.subject = 0
          WHERE c.count < u.n",
    );
    none(
        &db,
        "paper views name papers",
        "SELECT count(*) FROM analytics_counters c WHERE c.kind = 'paper_view'
            AND NOT EXISTS (SELECT 1 FROM papers p WHERE p.id = c.subject)",
    );
}

/// The rows that do not carry a random nonce, as one text.
fn digest(db: &Connection) -> String {
    [
        "SELECT group_concat(id || status || start_at || end_at || researcher_id || reader_id || price_minor || currency || created_at, ';') FROM consulting_sessions",
        "SELECT group_concat(session_id || event || actor || at, ';') FROM session_events",
        "SELECT group_concat(kind || amount_minor || tax_minor || fee_minor || stripe_ref || created_at, ';') FROM ledger",
        "SELECT group_concat(session_id || rating || status || created_at, ';') FROM reviews",
        "SELECT group_concat(day || kind || subject || count, ';') FROM analytics_counters",
        "SELECT group_concat(name || created_at || coalesce(active_day, ''), ';') FROM users",
    ]
    .iter()
    .map(|sql| {
        db.query_row(sql, [], |r| r.get::<_, Option<String>>(0))
            .unwrap()
            .unwrap_or_default()
    })
    .collect::<Vec<_>>()
    .join("\n")
}

#[tokio::test]
async fn the_same_seed_gives_the_same_data_and_another_seed_other_data() {
    let (a, _) = generated(5).await;
    let (b, _) = generated(5).await;
    let (c, _) = generated(6).await;
    let (a, b, c) = (digest(&a.db()), digest(&b.db()), digest(&c.db()));
    assert!(a == b, "same seed, different data");
    assert_ne!(a, c);
}

#[tokio::test]
async fn the_raw_database_holds_no_generated_address() {
    let (app, _) = generated(3).await;
    let mut bytes = Vec::new();
    for suffix in ["", "-wal"] {
        if let Ok(b) = std::fs::read(format!("{}{suffix}", app.db_path().display())) {
            bytes.extend(b);
        }
    }
    // The generated addresses' domain; the institution's contact address
    // (`privacy@example.org` by default) is public and in the terms text.
    let needle = b".example.org";
    assert!(!bytes.windows(needle.len()).any(|w| w == needle));
}

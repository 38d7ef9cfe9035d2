//! The hourly rollups behind the admins' analytics (migration V13): they
//! agree with a recount of their source after inserts, status changes and
//! deletes, and in a zone whose midnight is not on the hour (Asia/Kolkata,
//! UTC+5:30) the hours a day edge cuts are counted from the raw rows.

use serde_json::json;

use crate::analytics::{analytics, sql, world, World};
use crate::helpers::spawn_app_with;
use crate::sessions_fixtures::at;

/// Each rollup next to the same figures counted from its source; rows
/// that fell to zero are left out of both.
fn recount_pairs() -> [(&'static str, &'static str); 3] {
    [
        (
            "SELECT hour, event, n FROM session_event_hours WHERE n > 0 ORDER BY 1, 2",
            "SELECT substr(at, 1, 13) || ':00:00.000000Z', event, count(*)
               FROM session_events GROUP BY 1, 2 ORDER BY 1, 2",
        ),
        (
            "SELECT hour, status || '/' || ever_accepted, n FROM session_request_hours WHERE n > 0 ORDER BY 1, 2",
            "SELECT substr(created_at, 1, 13) || ':00:00.000000Z',
                    status || '/' || (EXISTS (SELECT 1 FROM session_events e
                                  WHERE e.session_id = s.id AND e.event = 'accepted')), count(*)
               FROM consulting_sessions s GROUP BY 1, 2 ORDER BY 1, 2",
        ),
        (
            "SELECT hour, kind || ' ' || currency || ' ' || amount_minor || ' ' || tax_minor || ' ' || fee_minor, n
               FROM ledger_hours WHERE n > 0 ORDER BY 1, 2",
            "SELECT substr(created_at, 1, 13) || ':00:00.000000Z',
                    kind || ' ' || currency || ' ' || sum(amount_minor) || ' ' || sum(tax_minor) || ' ' || sum(fee_minor),
                    count(*)
               FROM ledger WHERE kind IN ('capture', 'refund', 'subscription_charge')
              GROUP BY substr(created_at, 1, 13), kind, currency ORDER BY 1, 2",
        ),
    ]
}

fn rows(w: &World, q: &str) -> Vec<(String, String, i64)> {
    let db = w.app.db();
    let mut stmt = db.prepare(q).unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[tokio::test]
async fn rollups_agree_with_a_recount_after_inserts_updates_and_deletes() {
    let w = world().await;
    let before = analytics(&w, "?from=2026-03-23&to=2026-04-06&bucket=week").await;
    assert_eq!(before["sessions"]["conversion"]["accepted"], 2);
    let u: i64 = w
        .app
        .db()
        .query_row("SELECT id FROM users WHERE role = 'user'", [], |r| r.get(0))
        .unwrap();
    sql(&w.app, format!(r#"
        -- S5 (requested on 23 March) is accepted, then cancelled: it was
        -- accepted once, so it counts toward the conversion.
        INSERT INTO session_events (session_id, event, actor, at) VALUES (15, 'accepted', 'researcher', '2026-03-26T08:00:00.000000Z');
        UPDATE consulting_sessions SET status = 'accepted' WHERE id = 15;
        UPDATE consulting_sessions SET status = 'cancelled' WHERE id = 15;
        INSERT INTO session_events (session_id, event, actor, at) VALUES (15, 'cancelled', 'reader', '2026-03-27T08:00:00.000000Z');
        -- S2 goes (its events with it), and a new request comes in.
        DELETE FROM consulting_sessions WHERE id = 12;
        INSERT INTO consulting_sessions (id, researcher_id, reader_id, topic_enc, status, start_at, end_at, duration_minutes, price_minor, currency, expires_at, created_at, updated_at) VALUES
            (16, 3, {u}, 't', 'requested', '2026-05-03T10:00:00.000000Z', '2026-05-03T11:00:00.000000Z', 60, 0, 'EUR', '2026-05-02T10:00:00.000000Z', '2026-03-31T08:15:00.000000Z', '2026-03-31T08:15:00.000000Z');
        INSERT INTO session_events (session_id, event, actor, at) VALUES (16, 'requested', 'reader', '2026-03-31T08:15:00.000000Z');
        INSERT INTO ledger (kind, user_id, session_id, amount_minor, tax_minor, fee_minor, currency, stripe_ref, created_at) VALUES
            ('capture', {u}, 16, 700, 0, 70, 'EUR', 'pi_9', '2026-03-10T12:59:59.999999Z'),
            ('release', {u}, 16, 700, 0, 0, 'EUR', 'pi_9', '2026-03-10T12:30:00.000000Z');
    "#)).await;
    for (rollup, recount) in recount_pairs() {
        let (kept, counted) = (rows(&w, rollup), rows(&w, recount));
        assert!(!kept.is_empty());
        assert_eq!(kept, counted, "{rollup}");
    }
    let a = analytics(&w, "?from=2026-03-23&to=2026-04-06&bucket=week").await;
    let s = &a["sessions"];
    assert_eq!(s["series"]["requested"], json!([3, 1]));
    assert_eq!(s["series"]["accepted"], json!([3, 0]));
    assert_eq!(s["series"]["cancelled"], json!([1, 0]));
    assert_eq!(s["series"]["declined"], json!([0, 0]));
    // S5 (cancelled once accepted), S1, S3 of four requested.
    assert_eq!(
        s["conversion"],
        json!({"requested": 4, "accepted": 3, "completed": 1, "accepted_rate": 0.75, "completed_rate": 0.25})
    );
    // Answers: S3 after 2 h, S5 after 80.5 h, S1 after 132.5 h.
    assert_eq!(s["median_answer_hours"], json!(80.5));
    assert_eq!(
        a["sessions"]["by_status"]["cancelled"], 1,
        "{}",
        a["sessions"]["by_status"]
    );
}

#[tokio::test]
async fn a_half_hour_zone_counts_the_hours_its_midnight_cuts_exactly() {
    let app = spawn_app_with(|c| {
        c.institution.timezone = "Asia/Kolkata".into();
        c.auth.access_token_ttl_secs = 400 * 86_400;
    })
    .await;
    app.clock.set(at("2026-03-10T12:00:00Z"));
    let admin = app.admin_token("admin@uni.example").await;
    let u: i64 = app
        .db()
        .query_row(
            "SELECT id FROM users WHERE role = 'user' OR role = 'admin' LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    // Local midnight of 2 March is 18:30 UTC on 1 March. In the hour
    // 18:00-19:00 UTC on 1 March, 18:10 is 1 March locally and 18:50 is
    // 2 March; likewise a day later.
    let row = |id: i64, created: &str| {
        format!("({id}, 1, {u}, 't', 'requested', '2026-04-0{id}T10:00:00.000000Z', '2026-04-0{id}T11:00:00.000000Z', 60, 0, 'INR', '2026-03-31T10:00:00.000000Z', '{created}', '{created}')")
    };
    let created = [
        "2026-02-28T18:10:00.000000Z", // 28 Feb local: before the range
        "2026-02-28T18:50:00.000000Z", // 1 Mar
        "2026-03-01T12:00:00.000000Z", // 1 Mar
        "2026-03-01T18:10:00.000000Z", // 1 Mar
        "2026-03-01T18:50:00.000000Z", // 2 Mar
        "2026-03-02T18:29:59.999999Z", // 2 Mar
        "2026-03-02T18:30:00.000000Z", // 3 Mar: after the range
    ];
    let sessions: Vec<String> = created
        .iter()
        .enumerate()
        .map(|(i, c)| row(i as i64 + 1, c))
        .collect();
    let events: Vec<String> = created
        .iter()
        .enumerate()
        .map(|(i, c)| format!("({}, 'requested', 'reader', '{c}')", i + 1))
        .collect();
    let money: Vec<String> = created
        .iter()
        .enumerate()
        .map(|(i, c)| {
            format!(
                "('capture', {u}, {}, {}, 0, 0, 'INR', 'pi_{i}', '{c}')",
                i + 1,
                10i64.pow(i as u32)
            )
        })
        .collect();
    sql(&app, format!(r#"
        INSERT INTO researchers (id, name, created_at, updated_at) VALUES (1, 'R One', '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z');
        INSERT INTO consulting_sessions (id, researcher_id, reader_id, topic_enc, status, start_at, end_at, duration_minutes, price_minor, currency, expires_at, created_at, updated_at) VALUES {};
        INSERT INTO session_events (session_id, event, actor, at) VALUES {};
        INSERT INTO ledger (kind, user_id, session_id, amount_minor, tax_minor, fee_minor, currency, stripe_ref, created_at) VALUES {};
    "#, sessions.join(", "), events.join(", "), money.join(", "))).await;
    let r = app
        .get(
            "/api/v1/admin/analytics?from=2026-03-01&to=2026-03-03&bucket=day",
            Some(&admin),
        )
        .await;
    assert_eq!(r.status(), 200);
    let a: serde_json::Value = r.json().await.unwrap();
    assert_eq!(a["range"]["timezone"], "Asia/Kolkata");
    assert_eq!(a["sessions"]["series"]["requested"], json!([3, 2]));
    assert_eq!(a["sessions"]["by_status"]["requested"], 5);
    // Amounts are powers of ten, so each digit says which rows were counted.
    assert_eq!(
        a["payments"][0]["series"]["captured"],
        json!([1_110, 110_000])
    );
}

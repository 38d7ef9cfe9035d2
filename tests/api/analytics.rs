//! `GET /api/v1/admin/analytics` against a hand-computed fixture in a
//! non-UTC institution zone (Europe/Berlin): empty buckets, a DST change
//! inside a week, a refund in a later month than its capture, and mixed
//! currencies reported side by side. Every expected number below is
//! worked out by hand in the comments.

use colloquy::config::PlanConfig;
use serde_json::{json, Value};

use crate::helpers::{spawn_app_with, TestApp};
use crate::sessions_fixtures::at;

fn plan(id: &str, interval: &str, amount: i64) -> PlanConfig {
    PlanConfig {
        id: id.into(),
        name: id.into(),
        description: String::new(),
        stripe_price_id: format!("price_{id}"),
        interval: interval.into(),
        amount_minor: amount,
        currency: "EUR".into(),
        discount_percent: 0,
        included_sessions: 0,
    }
}

pub(crate) struct World {
    pub app: TestApp,
    pub admin: String,
    reader: String,
}

/// Runs SQL through the service's own writer, as the app's writes go.
pub(crate) async fn sql(app: &TestApp, batch: String) {
    app.state
        .db
        .write(move |tx| {
            tx.execute_batch(&batch)?;
            Ok(())
        })
        .await
        .unwrap();
}

pub(crate) async fn world() -> World {
    let app = spawn_app_with(|c| {
        c.institution.timezone = "Europe/Berlin".into();
        c.auth.access_token_ttl_secs = 400 * 86_400;
        c.providers.firecrawl.monthly_credit_budget = 100;
        c.plans = vec![
            plan("scholar", "month", 1500),
            plan("annual", "year", 12_000),
        ];
    })
    .await;
    app.clock.set(at("2026-04-20T12:00:00Z"));
    let admin = app.admin_token("admin@uni.example").await;
    let reader = app.token("reader@uni.example").await;
    let u: i64 = app
        .db()
        .query_row("SELECT id FROM users WHERE role = 'user'", [], |r| r.get(0))
        .unwrap();
    sql(&app, format!(r#"
        -- Three researchers: R1 collected only; R2 with an e-mail, invited;
        -- R3 with an e-mail, invited, registered (the reader's account) and
        -- bookable, and booked.
        INSERT INTO researchers (id, name, created_at, updated_at) VALUES (1, 'R One', '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z');
        INSERT INTO researchers (id, name, email_enc, created_at, updated_at) VALUES (2, 'R Two', 'x', '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z');
        INSERT INTO researchers (id, name, email_enc, user_id, created_at, updated_at) VALUES (3, 'R Three', 'y', {u}, '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z');
        INSERT INTO availability (researcher_id, rules, exceptions, updated_at) VALUES (3, '[]', '[]', '2026-01-01T00:00:00.000000Z');
        INSERT INTO outreach (researcher_id, kind, status, created_at, updated_at) VALUES
            (2, 'invitation', 'sent', '2026-02-14T10:00:00.000000Z', '2026-02-14T10:00:00.000000Z'),
            -- 00:30 UTC on 1 March is 01:30 in Berlin: March, not February.
            (3, 'invitation', 'registered', '2026-03-01T00:30:00.000000Z', '2026-03-01T00:30:00.000000Z');
        INSERT INTO reader_interest (researcher_id, user_id, created_at) VALUES (2, {u}, '2026-03-03T09:00:00.000000Z');

        -- Sessions (all with R3). Week of Monday 23 March (CET, UTC+1)
        -- and week of Monday 30 March (CEST, UTC+2: clocks went forward on
        -- Sunday 29 March, so the first week is 167 hours long).
        INSERT INTO consulting_sessions (id, researcher_id, reader_id, topic_enc, status, start_at, end_at, duration_minutes, price_minor, currency, expires_at, created_at, updated_at) VALUES
            -- S0: 23:30 Sunday 22 March in Berlin: before the range.
            (10, 3, {u}, 't', 'expired',   '2026-03-30T10:00:00.000000Z', '2026-03-30T11:00:00.000000Z', 60, 0, 'EUR', '2026-03-30T10:00:00.000000Z', '2026-03-22T22:30:00.000000Z', '2026-03-22T22:30:00.000000Z'),
            -- S5: 00:30 Monday 23 March in Berlin: the first week.
            (15, 3, {u}, 't', 'requested', '2026-05-01T10:00:00.000000Z', '2026-05-01T11:00:00.000000Z', 60, 0, 'EUR', '2026-04-30T10:00:00.000000Z', '2026-03-22T23:30:00.000000Z', '2026-03-22T23:30:00.000000Z'),
            (11, 3, {u}, 't', 'accepted',  '2026-05-02T10:00:00.000000Z', '2026-05-02T11:00:00.000000Z', 60, 0, 'EUR', '2026-05-01T10:00:00.000000Z', '2026-03-24T09:00:00.000000Z', '2026-03-24T09:00:00.000000Z'),
            -- S2: 00:30 Monday 30 March in Berlin (22:30 UTC Sunday).
            (12, 3, {u}, 't', 'declined',  '2026-04-08T10:00:00.000000Z', '2026-04-08T11:00:00.000000Z', 60, 0, 'EUR', '2026-04-07T10:00:00.000000Z', '2026-03-29T22:30:00.000000Z', '2026-03-29T22:30:00.000000Z'),
            (13, 3, {u}, 't', 'completed', '2026-04-01T10:00:00.000000Z', '2026-04-01T11:00:00.000000Z', 60, 0, 'EUR', '2026-03-31T10:00:00.000000Z', '2026-03-25T10:00:00.000000Z', '2026-03-25T10:00:00.000000Z'),
            -- S4: 02:30 Monday 6 April in Berlin: after the range.
            (14, 3, {u}, 't', 'cancelled', '2026-04-20T10:00:00.000000Z', '2026-04-20T11:00:00.000000Z', 60, 0, 'EUR', '2026-04-19T10:00:00.000000Z', '2026-04-06T00:30:00.000000Z', '2026-04-06T00:30:00.000000Z');
        INSERT INTO session_events (session_id, event, actor, at) VALUES
            (10, 'requested', 'reader', '2026-03-22T22:30:00.000000Z'),
            (15, 'requested', 'reader', '2026-03-22T23:30:00.000000Z'),
            (11, 'requested', 'reader', '2026-03-24T09:00:00.000000Z'),
            -- 23:30 on Sunday 29 March in Berlin (CEST): still the first week.
            (11, 'accepted', 'researcher', '2026-03-29T21:30:00.000000Z'),
            (12, 'requested', 'reader', '2026-03-29T22:30:00.000000Z'),
            (12, 'declined', 'researcher', '2026-03-30T10:00:00.000000Z'),
            (13, 'requested', 'reader', '2026-03-25T10:00:00.000000Z'),
            (13, 'accepted', 'researcher', '2026-03-25T12:00:00.000000Z'),
            (13, 'completed', 'system', '2026-04-01T11:00:00.000000Z'),
            (14, 'requested', 'reader', '2026-04-06T00:30:00.000000Z');
        INSERT INTO reviews (session_id, side, author_id, researcher_id, reader_id, rating, status, created_at, updated_at)
            VALUES (13, 'reader', {u}, 3, {u}, 5, 'published', '2026-04-03T09:00:00.000000Z', '2026-04-03T09:00:00.000000Z');

        -- Money: a EUR capture in March refunded in part in April, a USD
        -- capture at 00:30 on 1 April in Berlin (22:30 UTC, 31 March), a
        -- EUR plan charge in March, and an authorization (not money
        -- moved, not counted).
        INSERT INTO ledger (kind, user_id, session_id, amount_minor, tax_minor, fee_minor, currency, stripe_ref, created_at) VALUES
            ('authorization', {u}, 13, 10000, 1900, 0, 'EUR', 'pi_1', '2026-03-09T12:00:00.000000Z'),
            ('capture', {u}, 13, 10000, 1900, 1000, 'EUR', 'pi_1', '2026-03-10T12:00:00.000000Z'),
            ('refund', {u}, 13, 4000, 760, 0, 'EUR', 're_1', '2026-04-02T12:00:00.000000Z'),
            ('capture', {u}, 11, 5000, 0, 500, 'USD', 'pi_2', '2026-03-31T22:30:00.000000Z'),
            ('subscription_charge', {u}, NULL, 2000, 380, 0, 'EUR', 'in_1', '2026-03-15T12:00:00.000000Z');

        -- Subscriptions: A (scholar, EUR 15/month) from 10 February;
        -- B (scholar) from January, cancelled 20 March; C (annual, EUR 120
        -- a year = 10/month) from 10 April; D never paid (not counted).
        INSERT INTO subscriptions (user_id, plan_id, status, created_at, updated_at) VALUES
            ({u}, 'scholar', 'active',     '2026-02-10T10:00:00.000000Z', '2026-02-10T10:00:00.000000Z'),
            ({u}, 'scholar', 'canceled',   '2026-01-05T10:00:00.000000Z', '2026-03-20T10:00:00.000000Z'),
            ({u}, 'annual',  'active',     '2026-04-10T10:00:00.000000Z', '2026-04-10T10:00:00.000000Z'),
            ({u}, 'scholar', 'incomplete', '2026-03-01T10:00:00.000000Z', '2026-03-01T10:00:00.000000Z');

        -- Paid provider calls: Firecrawl in March and on 20 April (this
        -- month for the budget); OpenAlex is free.
        INSERT INTO provider_calls (provider, operation, outcome, attempts, paid, duration_ms, at) VALUES
            ('firecrawl', 'scrape', 'ok', 1, 1, 10, '2026-03-05T10:00:00.000000Z'),
            ('firecrawl', 'scrape', 'ok', 1, 1, 10, '2026-04-20T10:00:00.000000Z'),
            ('openalex', 'works', 'ok', 1, 0, 10, '2026-03-05T10:00:00.000000Z');

        -- Engagement counters (local days).
        INSERT INTO analytics_counters (day, kind, subject, count) VALUES
            ('2026-03-10', 'search', 0, 5),
            ('2026-04-30', 'search', 0, 2),
            ('2026-03-11', 'paper_view', 7, 3),
            ('2026-03-12', 'paper_view', 8, 1),
            ('2026-03-11', 'sign_in', 0, 4),
            ('2026-04-01', 'active_month', 0, 7),
            ('2026-04-27', 'active_week', 0, 4),
            ('2026-04-30', 'active_day', 0, 2);
    "#)).await;
    World { app, admin, reader }
}

pub(crate) async fn analytics(w: &World, query: &str) -> Value {
    let r = w
        .app
        .get(&format!("/api/v1/admin/analytics{query}"), Some(&w.admin))
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    r.json().await.unwrap()
}

#[tokio::test]
async fn weekly_session_figures_follow_the_institution_zone_across_dst() {
    let w = world().await;
    let a = analytics(&w, "?from=2026-03-23&to=2026-04-06&bucket=week").await;
    assert_eq!(a["buckets"], json!(["2026-03-23", "2026-03-30"]));
    assert_eq!(a["range"]["timezone"], "Europe/Berlin");
    let s = &a["sessions"];
    // Requested: S5, S1, S3 in the first week; S2 in the second. S0 and
    // S4 fall outside by Berlin time (inside by UTC date for S0).
    assert_eq!(s["series"]["requested"], json!([3, 1]));
    // S1's acceptance at 23:30 Sunday (CEST) stays in the first week.
    assert_eq!(s["series"]["accepted"], json!([2, 0]));
    assert_eq!(s["series"]["declined"], json!([0, 1]));
    assert_eq!(s["series"]["completed"], json!([0, 1]));
    assert_eq!(s["series"]["expired"], json!([0, 0]));
    assert_eq!(s["series"]["no_show"], json!([0, 0]));
    assert_eq!(
        s["by_status"],
        json!({"requested": 1, "accepted": 1, "declined": 1, "completed": 1,
               "expired": 0, "cancelled": 0, "no_show": 0})
    );
    // Four requested in range; S1 and S3 accepted; S3 completed.
    assert_eq!(
        s["conversion"],
        json!({"requested": 4, "accepted": 2, "completed": 1, "accepted_rate": 0.5, "completed_rate": 0.25})
    );
    // Answers in range: S3 after 2 h, S2 after 11.5 h, S1 after 132.5 h.
    assert_eq!(s["median_answer_hours"], json!(11.5));
}

#[tokio::test]
async fn monthly_money_is_per_currency_with_refunds_in_their_own_month() {
    let w = world().await;
    let a = analytics(&w, "?from=2026-02-01&to=2026-05-01&bucket=month").await;
    assert_eq!(
        a["buckets"],
        json!(["2026-02-01", "2026-03-01", "2026-04-01"])
    );
    let p = a["payments"].as_array().unwrap();
    assert_eq!(p.len(), 2, "{p:?}");
    let eur = &p[0];
    assert_eq!(eur["currency"], "EUR");
    // 10,000 captured + 2,000 plan charge; 4,000 refunded in April.
    assert_eq!(eur["gross_minor"], 12_000);
    assert_eq!(eur["captured_minor"], 10_000);
    assert_eq!(eur["subscriptions_minor"], 2_000);
    assert_eq!(eur["refunded_minor"], 4_000);
    assert_eq!(eur["fees_minor"], 1_000);
    // 1,900 + 380 collected, less the refund's 760.
    assert_eq!(eur["tax_minor"], 1_520);
    assert_eq!(eur["net_minor"], 8_000);
    assert_eq!(eur["series"]["gross"], json!([0, 12_000, 0]));
    assert_eq!(eur["series"]["captured"], json!([0, 10_000, 0]));
    assert_eq!(eur["series"]["refunded"], json!([0, 0, 4_000]));
    assert_eq!(eur["series"]["tax"], json!([0, 2_280, -760]));
    let usd = &p[1];
    assert_eq!(usd["currency"], "USD");
    // Captured 22:30 UTC on 31 March = 00:30 on 1 April in Berlin.
    assert_eq!(usd["series"]["gross"], json!([0, 0, 5_000]));
    assert_eq!(usd["fees_minor"], 500);

    let subs = &a["subscriptions"];
    // Running at the end of Feb: A, B; of March: A; of April: A, C.
    assert_eq!(subs["series"]["active"], json!([2, 1, 2]));
    assert_eq!(subs["series"]["new"], json!([1, 0, 1]));
    assert_eq!(subs["series"]["churned"], json!([0, 1, 0]));
    assert_eq!(
        (
            subs["active"].clone(),
            subs["new"].clone(),
            subs["churned"].clone()
        ),
        (json!(2), json!(2), json!(1))
    );
    // MRR: 15 + 15; 15; 15 + 120/12.
    assert_eq!(
        subs["mrr_series"],
        json!([{"currency": "EUR", "points": [3_000, 1_500, 2_500]}])
    );
    assert_eq!(subs["mrr"], json!([{"currency": "EUR", "minor": 2_500}]));
}

#[tokio::test]
async fn funnel_spend_and_engagement_with_empty_buckets() {
    let w = world().await;
    let a = analytics(&w, "?from=2026-02-01&to=2026-05-01&bucket=month").await;
    let funnel: Vec<(String, i64)> = a["researchers"]["funnel"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["step"].as_str().unwrap().to_string(),
                s["count"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        funnel,
        [
            ("collected", 3),
            ("email_found", 2),
            ("invited", 2),
            ("registered", 1),
            ("bookable", 1),
            ("booked", 1)
        ]
        .map(|(s, n)| (s.to_string(), n))
    );
    let fc = a["provider_spend"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["provider"] == "firecrawl")
        .unwrap()
        .clone();
    assert_eq!(fc["series"], json!([0, 1, 1]));
    assert_eq!(fc["paid_calls"], 2);
    assert_eq!(
        (
            fc["monthly_budget"].clone(),
            fc["used_this_month"].clone(),
            fc["left_this_month"].clone()
        ),
        (json!(100), json!(1), json!(99))
    );
    assert!(a["provider_spend"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["provider"] != "openalex"));

    let e = &a["engagement"];
    assert_eq!(e["series"]["searches"], json!([0, 5, 2]));
    assert_eq!(e["series"]["paper_views"], json!([0, 4, 0]));
    // Four from the fixture in March; the admin and the reader signed in
    // on 20 April (the clock) to run this test.
    assert_eq!(e["series"]["sign_ins"], json!([0, 4, 2]));
    // Monthly buckets count the month's distinct active accounts: the
    // fixture's 7 and the two accounts of this test.
    assert_eq!(e["series"]["active_users"], json!([0, 0, 9]));
    assert_eq!(e["active_users"], json!({"day": 2, "week": 4, "month": 9}));
    assert_eq!(e["series"]["consult_marks"], json!([0, 1, 0]));
    assert_eq!(e["series"]["invitations"], json!([1, 1, 0]));
    assert_eq!(e["series"]["reviews"], json!([0, 0, 1]));
    assert_eq!(e["top_papers"][0]["paper_id"], 7);
    assert_eq!(e["top_papers"][0]["views"], 3);

    // A range with nothing in it still has a point per bucket.
    let empty = analytics(&w, "?from=2025-01-01&to=2025-01-15&bucket=day").await;
    assert_eq!(empty["buckets"].as_array().unwrap().len(), 14);
    assert_eq!(empty["sessions"]["series"]["requested"], json!(vec![0; 14]));
    assert_eq!(empty["payments"], json!([]));
    assert_eq!(empty["sessions"]["median_answer_hours"], Value::Null);
    assert_eq!(
        empty["sessions"]["conversion"]["accepted_rate"],
        Value::Null
    );
}

#[tokio::test]
async fn only_admins_may_read_analytics_and_bad_ranges_are_refused() {
    let w = world().await;
    let r = w.app.get("/api/v1/admin/analytics", Some(&w.reader)).await;
    assert_eq!(r.status(), 403);
    let r = w.app.get("/api/v1/admin/analytics", None).await;
    assert_eq!(r.status(), 401);
    for (query, field) in [
        ("?bucket=fortnight", "bucket"),
        ("?from=yesterday", "from"),
        ("?from=2026-03-01&to=2026-02-01", "to"),
        ("?from=2000-01-01&to=2026-01-01&bucket=day", "to"),
    ] {
        let r = w
            .app
            .get(&format!("/api/v1/admin/analytics{query}"), Some(&w.admin))
            .await;
        assert_eq!(r.status(), 422, "{query}");
        let body: Value = r.json().await.unwrap();
        assert!(
            body["error"]["fields"][field].is_string(),
            "{query}: {body}"
        );
    }
    // The default: twelve weeks up to today.
    let a = analytics(&w, "").await;
    assert_eq!(a["range"]["bucket"], "week");
    assert_eq!(a["buckets"].as_array().unwrap().len(), 13);
}

#[tokio::test]
async fn the_analytics_export_is_the_series_flattened_for_admins_only() {
    let w = world().await;
    let url = "/api/v1/exports/analytics?format=csv&from=2026-02-01&to=2026-05-01&bucket=month";
    let r = w.app.get(url, Some(&w.admin)).await;
    assert_eq!(r.status(), 200);
    let body = r.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(body.as_bytes());
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        ["metric", "bucket_start", "currency", "value"]
    );
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect();
    let find = |metric: &str, day: &str, currency: &str| -> i64 {
        rows.iter()
            .find(|r| r[0] == metric && r[1] == day && r[2] == currency)
            .unwrap_or_else(|| panic!("{metric} {day} {currency} missing"))[3]
            .parse()
            .unwrap()
    };
    assert_eq!(find("payments.refunded", "2026-04-01", "EUR"), 4_000);
    assert_eq!(find("payments.gross", "2026-04-01", "USD"), 5_000);
    assert_eq!(find("subscriptions.mrr", "2026-03-01", "EUR"), 1_500);
    assert_eq!(find("sessions.requested", "2026-02-01", ""), 0);
    assert_eq!(find("engagement.searches", "2026-03-01", ""), 5);
    // Three buckets for every series.
    assert_eq!(
        rows.iter().filter(|r| r[0] == "sessions.requested").count(),
        3
    );

    let r = w.app.get(url, Some(&w.reader)).await;
    assert_eq!(r.status(), 403);
    let r = w
        .app
        .get("/api/v1/exports/sessions?bucket=week", Some(&w.admin))
        .await;
    assert_eq!(r.status(), 422);
    let actions = w.app.audit_actions();
    assert!(actions.iter().any(|a| a == "export.downloaded"));
}

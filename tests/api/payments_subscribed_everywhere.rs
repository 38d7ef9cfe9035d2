//! `is_subscribed` is one rule (`payments::is_subscribed`) wherever it is
//! shown: `/users/me`, the admins' account list, the registration answer
//! and the reader's dashboard agree for a subscription in every state.

use chrono::Duration;
use colloquy::clock::Clock;
use colloquy::db::ts;
use serde_json::Value;

use crate::helpers::{TestApp, PASSWORD};
use crate::payments_fixtures::{get_ok, plan};
use crate::stripe_fakes::spawn_stripe_app;

/// A subscription row as Stripe's webhooks would have left it: `status`,
/// its period ending `end_in_days` from now, maybe set to end with it.
fn subscribed(app: &TestApp, user: i64, status: &str, end_in_days: i64, ending: bool) {
    let now = app.clock.now();
    let end = ts(now + Duration::days(end_in_days));
    let start = ts(now + Duration::days(end_in_days - 30));
    app.db()
        .execute(
            "INSERT INTO subscriptions (user_id, plan_id, stripe_subscription_id, status,
                 current_period_start, current_period_end, cancel_at_period_end, created_at, updated_at)
             VALUES (?1, 'monthly', 'sub_' || ?1, ?2, ?3, ?4, ?5, ?6, ?6)",
            rusqlite::params![user, status, start, end, ending, ts(now)],
        )
        .unwrap();
}

/// `is_subscribed` as `/users/me`, the admin list and the dashboard say it.
async fn everywhere(app: &TestApp, admin: &str, token: &str, user: i64) -> [bool; 3] {
    let me = get_ok(app, token, "/api/v1/users/me").await["is_subscribed"]
        .as_bool()
        .unwrap();
    let list = get_ok(app, admin, "/api/v1/admin/users?limit=100").await;
    let listed = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == user)
        .map(|u| u["is_subscribed"].as_bool().unwrap())
        .unwrap();
    let dashboard = get_ok(app, token, "/api/v1/dashboard/user").await["is_subscribed"]
        .as_bool()
        .unwrap();
    [me, listed, dashboard]
}

#[tokio::test]
async fn every_place_gives_the_same_answer_for_every_state_of_a_subscription() {
    let s = spawn_stripe_app(|c| c.plans = vec![plan(20, 0)]).await;
    let app = &s.app;
    let admin = app.admin_token("admin@uni.example").await;
    // (status, period ends in days, set to end with the period, in force)
    let cases = [
        ("active", 10, false, true),
        ("trialing", 10, false, true),
        // Cancelled at the period's end: the benefits last until then.
        ("active", 10, true, true),
        // A failed renewal within the grace days: no benefits until paid.
        ("past_due", -1, false, false),
        ("past_due", 10, false, false),
        // Cancelled at once, though the period had days left.
        ("canceled", 10, false, false),
        ("expired", -10, false, false),
        // Active, but the period ran out and no renewal came yet.
        ("active", -1, false, false),
        ("incomplete", 10, false, false),
    ];
    for (i, (status, days, ending, expected)) in cases.into_iter().enumerate() {
        let email = format!("reader{i}@uni.example");
        let r = app.register(&email, "Rita Reader").await;
        assert_eq!(r.status(), 201);
        // A new account has no subscription, by the same rule.
        let registered: Value = r.json().await.unwrap();
        assert_eq!(registered["is_subscribed"], false);
        let user = registered["id"].as_i64().unwrap();
        subscribed(app, user, status, days, ending);
        let signed: Value = app.login(&email, PASSWORD).await.json().await.unwrap();
        let token = signed["access_token"].as_str().unwrap();
        assert_eq!(
            everywhere(app, &admin, token, user).await,
            [expected; 3],
            "{status}, period ending in {days} days, ending: {ending}"
        );
    }
}

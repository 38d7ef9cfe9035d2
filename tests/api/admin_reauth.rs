//! `[security] admin_require_reauth_minutes`: refunds, erasures and role
//! changes need the admin's password entered within that many minutes, on
//! the API (`reauth_required`, then `POST /api/v1/auth/reauth`) and on the
//! pages (a prompt that carries the form on).

use chrono::Duration;
use colloquy::clock::Clock;
use reqwest::Method;
use serde_json::{json, Value};

use crate::admin_accounts::user_id;
use crate::helpers::{error_code, spawn_app_with, TestApp, PASSWORD};
use crate::pages::logged_in_browser;

async fn reauth_app() -> TestApp {
    spawn_app_with(|c| {
        c.security.admin_require_reauth_minutes = 10;
        c.auth.access_token_ttl_secs = 3600;
        c.auth.login_max_failures_per_account = 3;
    })
    .await
}

fn later(app: &TestApp, minutes: i64) {
    app.clock.set(app.clock.now() + Duration::minutes(minutes));
}

async fn set_role(app: &TestApp, token: &str, id: i64, role: &str) -> reqwest::Response {
    app.send_json(
        Method::PUT,
        &format!("/api/v1/admin/users/{id}/role"),
        Some(token),
        &json!({"role": role}),
    )
    .await
}

async fn reauth(app: &TestApp, token: &str, password: &str) -> reqwest::Response {
    app.post_json(
        "/api/v1/auth/reauth",
        Some(token),
        &json!({"password": password}),
    )
    .await
}

#[tokio::test]
async fn a_role_change_needs_a_recent_password_on_the_api() {
    let app = reauth_app().await;
    let admin = app.admin_token("admin@uni.example").await;
    let reader = app.token("rita@uni.example").await;
    let id = user_id(&app, &reader).await;

    // A fresh log-in counts as entering the password.
    later(&app, 9);
    assert_eq!(set_role(&app, &admin, id, "researcher").await.status(), 200);

    later(&app, 2);
    let r = set_role(&app, &admin, id, "user").await;
    assert_eq!(r.status(), 403);
    assert_eq!(error_code(r).await, "reauth_required");
    let role: String = app
        .db()
        .query_row("SELECT role FROM users WHERE id = ?1", [id], |r| r.get(0))
        .unwrap();
    assert_eq!(role, "researcher", "nothing changed");
    // Erasure and refunds are refused the same way, before anything else.
    let r = app
        .send_json(
            Method::DELETE,
            &format!("/api/v1/admin/users/{id}"),
            Some(&admin),
            &json!({}),
        )
        .await;
    assert_eq!(error_code(r).await, "reauth_required");
    let refund = json!({"reason": "goodwill"});
    let r = app
        .post_json("/api/v1/admin/sessions/999/refund", Some(&admin), &refund)
        .await;
    assert_eq!(error_code(r).await, "reauth_required");
    // Actions that are not sensitive go on.
    let r = app
        .post_json(
            &format!("/api/v1/admin/users/{id}/disable"),
            Some(&admin),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), 200);

    let r = reauth(&app, &admin, "not the password at all").await;
    assert_eq!(r.status(), 422);
    let body: Value = r.json().await.unwrap();
    assert!(body["error"]["fields"]["password"].is_string(), "{body}");
    assert_eq!(reauth(&app, &admin, PASSWORD).await.status(), 204);
    assert_eq!(set_role(&app, &admin, id, "user").await.status(), 200);
    let r = app
        .post_json("/api/v1/admin/sessions/999/refund", Some(&admin), &refund)
        .await;
    assert_eq!(r.status(), 404, "past the check, the session is looked up");

    // The entry expires again.
    later(&app, 11);
    let r = set_role(&app, &admin, id, "researcher").await;
    assert_eq!(error_code(r).await, "reauth_required");
    let actions = app.audit_actions();
    assert!(actions.contains(&"auth.reauth".to_string()));
    assert!(actions.contains(&"auth.reauth_failed".to_string()));
}

#[tokio::test]
async fn the_entry_belongs_to_one_log_in_session() {
    let app = reauth_app().await;
    let first = app.admin_token("admin@uni.example").await;
    let reader = app.token("rita@uni.example").await;
    let id = user_id(&app, &reader).await;
    later(&app, 11);
    let r = app.login("admin@uni.example", PASSWORD).await;
    let second = r.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        set_role(&app, &second, id, "researcher").await.status(),
        200
    );
    let r = set_role(&app, &first, id, "user").await;
    assert_eq!(error_code(r).await, "reauth_required");
}

#[tokio::test]
async fn wrong_passwords_count_like_failed_log_ins() {
    let app = reauth_app().await;
    let admin = app.admin_token("admin@uni.example").await;
    for _ in 0..3 {
        let r = reauth(&app, &admin, "not the password at all").await;
        assert_eq!(r.status(), 422);
    }
    let r = reauth(&app, &admin, PASSWORD).await;
    assert_eq!(r.status(), 429, "the account's log-in limit is reached");
    assert!(r.headers().contains_key("retry-after"));
    let r = app.login("admin@uni.example", PASSWORD).await;
    assert_eq!(r.status(), 429, "and log-in shares it");
}

#[tokio::test]
async fn with_the_setting_off_nothing_asks_again() {
    let app = spawn_app_with(|c| c.auth.access_token_ttl_secs = 3600 * 24).await;
    let admin = app.admin_token("admin@uni.example").await;
    let reader = app.token("rita@uni.example").await;
    let id = user_id(&app, &reader).await;
    later(&app, 600);
    assert_eq!(set_role(&app, &admin, id, "researcher").await.status(), 200);
}

fn role_of(app: &TestApp, id: i64) -> String {
    app.db()
        .query_row("SELECT role FROM users WHERE id = ?1", [id], |r| r.get(0))
        .unwrap()
}

#[tokio::test]
async fn the_role_form_asks_for_the_password_and_carries_the_choice_on() {
    let app = reauth_app().await;
    app.admin_token("admin@uni.example").await;
    let reader = app.token("rita@uni.example").await;
    let id = user_id(&app, &reader).await;
    let (web, csrf) = logged_in_browser(&app, "admin@uni.example").await;
    let path = app.url(&format!("/admin/users/{id}/role"));
    let form = [("csrf_token", csrf.as_str()), ("role", "researcher")];
    // Fresh from the log-in form: no prompt.
    let r = web.post(&path).form(&form).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(role_of(&app, id), "researcher");

    later(&app, 11);
    let form = [("csrf_token", csrf.as_str()), ("role", "admin")];
    let r = web.post(&path).form(&form).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let html = r.text().await.unwrap();
    assert!(html.contains("Confirm your password"), "{html}");
    assert!(
        html.contains(r#"name="role" value="admin""#),
        "the choice is kept"
    );
    assert!(html.contains(&format!(r#"action="/admin/users/{id}/role""#)));
    assert!(html.contains(r#"name="reauth_password""#));
    assert_eq!(role_of(&app, id), "researcher", "nothing changed yet");

    // The prompt posts the same fields with the password.
    let wrong = [
        ("csrf_token", csrf.as_str()),
        ("role", "admin"),
        ("reauth_password", "not the password at all"),
    ];
    let r = web.post(&path).form(&wrong).send().await.unwrap();
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("That is not your password"), "{html}");
    assert!(html.contains(r#"name="role" value="admin""#));
    assert_eq!(role_of(&app, id), "researcher");

    let right = [
        ("csrf_token", csrf.as_str()),
        ("role", "admin"),
        ("reauth_password", PASSWORD),
    ];
    let r = web.post(&path).form(&right).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.url().path(), "/admin");
    assert!(r.text().await.unwrap().contains("is now"));
    assert_eq!(role_of(&app, id), "admin");

    // Within the minutes the next sensitive form needs no prompt.
    let form = [("csrf_token", csrf.as_str()), ("role", "user")];
    let r = web.post(&path).form(&form).send().await.unwrap();
    assert_eq!(r.url().path(), "/admin");
    assert_eq!(role_of(&app, id), "user");
}

#[tokio::test]
async fn the_delete_form_asks_for_the_password_and_keeps_the_confirmation() {
    let app = reauth_app().await;
    app.admin_token("admin@uni.example").await;
    let reader = app.token("rita@uni.example").await;
    let id = user_id(&app, &reader).await;
    let (web, csrf) = logged_in_browser(&app, "admin@uni.example").await;
    later(&app, 30);
    let path = app.url(&format!("/admin/users/{id}/delete"));
    let form = [("csrf_token", csrf.as_str()), ("confirm", "on")];
    let r = web.post(&path).form(&form).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let html = r.text().await.unwrap();
    assert!(html.contains("Deleting an account"), "{html}");
    assert!(html.contains(r#"name="confirm" value="on""#));

    let right = [
        ("csrf_token", csrf.as_str()),
        ("confirm", "on"),
        ("reauth_password", PASSWORD),
    ];
    let r = web.post(&path).form(&right).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("The account is deleted and its personal data erased."));
    let deleted: Option<String> = app
        .db()
        .query_row("SELECT deleted_at FROM users WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .unwrap();
    assert!(deleted.is_some());
}

//! Admins disable, enable and delete accounts through the API: what each
//! does to sessions, log-in and personal data, what is refused, and that
//! non-admins are refused everywhere (pages too).

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{error_code, spawn_app, TestApp, PASSWORD};
use crate::pages::{csrf_of, logged_in_browser, signed_in_browser};
use crate::sessions_fixtures::{book, bookable_researcher, day_at_ten};
use colloquy::domain::{Role, SessionId, UserId};
use colloquy::services::accounts::{self, Principal};

pub(crate) async fn me(app: &TestApp, token: &str) -> reqwest::Response {
    app.get("/api/v1/users/me", Some(token)).await
}

pub(crate) async fn user_id(app: &TestApp, token: &str) -> i64 {
    me(app, token).await.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap()
}

pub(crate) async fn admin_post(app: &TestApp, token: &str, path: &str) -> reqwest::Response {
    app.post_json(path, Some(token), &json!({})).await
}

async fn delete(app: &TestApp, token: &str, id: i64) -> reqwest::Response {
    app.send_json(
        Method::DELETE,
        &format!("/api/v1/admin/users/{id}"),
        Some(token),
        &json!({}),
    )
    .await
}

fn count(app: &TestApp, sql: &str, id: i64) -> i64 {
    app.db().query_row(sql, [id], |r| r.get(0)).unwrap()
}

#[tokio::test]
async fn a_disabled_account_is_signed_out_everywhere_and_cannot_sign_in() {
    let app = spawn_app().await;
    let admin = app.admin_token("admin@uni.edu").await;
    let tokens = app.signed_in("rita@uni.edu").await;
    let access = tokens["access_token"].as_str().unwrap();
    let id = user_id(&app, access).await;
    let (web, _) = logged_in_browser(&app, "rita@uni.edu").await;
    assert_eq!(
        me(&app, access).await.status(),
        200,
        "the check is cached now"
    );

    let r = admin_post(&app, &admin, &format!("/api/v1/admin/users/{id}/disable")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "disabled");
    assert_eq!(
        me(&app, access).await.status(),
        401,
        "cached session dropped at once"
    );
    let r = app
        .post_json(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": tokens["refresh_token"]}),
        )
        .await;
    assert_eq!(r.status(), 401, "the refresh token ended too");
    let r = web.get(app.url("/account")).send().await.unwrap();
    assert_eq!(r.url().path(), "/login", "the web session ended");

    // The right password learns it is disabled; a wrong one learns nothing.
    let r = app.login("rita@uni.edu", PASSWORD).await;
    assert_eq!(r.status(), 403);
    assert_eq!(error_code(r).await, "account_disabled");
    let wrong = app.login("rita@uni.edu", "not the password at all").await;
    let unknown = app.login("nobody@uni.edu", "not the password at all").await;
    assert_eq!(
        (wrong.status(), unknown.status()),
        (unknown.status(), reqwest::StatusCode::UNAUTHORIZED)
    );
    assert_eq!(wrong.text().await.unwrap(), unknown.text().await.unwrap());
    let page = crate::pages::browser();
    let login = page
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let r = page
        .post(app.url("/login"))
        .form(&[
            ("csrf_token", csrf_of(&login).as_str()),
            ("email", "rita@uni.edu"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("This account is disabled"));

    let r = admin_post(&app, &admin, &format!("/api/v1/admin/users/{id}/enable")).await;
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "active");
    assert_eq!(app.login("rita@uni.edu", PASSWORD).await.status(), 200);
    let actions = app.audit_actions();
    for a in ["user.disabled", "auth.login_disabled", "user.enabled"] {
        assert!(actions.contains(&a.to_string()), "{a} audited");
    }
}

#[tokio::test]
async fn an_admin_cannot_lock_out_themself_or_the_last_admin() {
    let app = spawn_app().await;
    let admin = app.admin_token("admin@uni.edu").await;
    let me_id = user_id(&app, &admin).await;
    for r in [
        admin_post(
            &app,
            &admin,
            &format!("/api/v1/admin/users/{me_id}/disable"),
        )
        .await,
        delete(&app, &admin, me_id).await,
    ] {
        assert_eq!(r.status(), 409);
        assert_eq!(error_code(r).await, "own_account");
    }
    let r = admin_post(&app, &admin, "/api/v1/admin/users/999999/disable").await;
    assert_eq!(r.status(), 404);

    // Defence in depth: even a caller the checks would let through never
    // disables or deletes the only admin who can sign in.
    let other = app.token("other@uni.edu").await;
    let caller = Principal {
        user_id: UserId(user_id(&app, &other).await),
        role: Role::Admin,
        session_id: SessionId(0),
    };
    for e in [
        accounts::disable(&app.state, &caller, UserId(me_id), None)
            .await
            .unwrap_err(),
        colloquy::services::data_rights::erasure::delete_account(
            &app.state,
            &caller,
            UserId(me_id),
            None,
        )
        .await
        .unwrap_err(),
    ] {
        assert!(e.to_string().contains("last admin"), "{e}");
    }
}

#[tokio::test]
async fn deleting_an_account_erases_its_personal_data_and_ends_its_sessions() {
    let app = spawn_app().await;
    let admin = app.admin_token("admin@uni.edu").await;
    let rita = app.token("rita@uni.edu").await;
    let id = user_id(&app, &rita).await;
    let paper = app.sample_paper(&rita).await;
    let progress = format!("/api/v1/papers/{paper}/progress");
    app.send_json(Method::PUT, &progress, Some(&rita), &json!({"percent": 40}))
        .await;
    app.post_json(
        &format!("/api/v1/papers/{paper}/queries"),
        Some(&rita),
        &json!({"question": "Why?"}),
    )
    .await;

    let r = delete(&app, &admin, id).await;
    assert_eq!(r.status(), 204);
    assert_eq!(me(&app, &rita).await.status(), 401);
    let r = app.login("rita@uni.edu", PASSWORD).await;
    assert_eq!(
        r.status(),
        401,
        "the address is unknown now: the generic answer"
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM auth_sessions WHERE user_id = ?1",
            id
        ),
        0
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM reading_progress WHERE user_id = ?1",
            id
        ),
        0
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM paper_queries WHERE user_id = ?1",
            id
        ),
        0
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM papers WHERE created_by = ?1",
            id
        ),
        0
    );
    let (name, bidx, deleted): (String, String, bool) = app
        .db()
        .query_row(
            "SELECT name, email_bidx, deleted_at IS NOT NULL FROM users WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert!(name.starts_with("Former user "), "{name}");
    assert_eq!((bidx, deleted), (format!("deleted:{id}"), true));
    let list: Value = app
        .get("/api/v1/admin/users", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    let row = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == id)
        .unwrap()
        .clone();
    assert_eq!(row["status"], json!("deleted"));
    assert_eq!(row["name"], json!(name), "the pseudonym, as everywhere");
    assert!(!row["email"].as_str().unwrap().contains("rita"));
    assert!(app.audit_actions().contains(&"user.deleted".to_string()));

    // Deleted stays deleted; the address is free for a new account.
    for r in [
        delete(&app, &admin, id).await,
        admin_post(&app, &admin, &format!("/api/v1/admin/users/{id}/enable")).await,
    ] {
        assert_eq!(error_code(r).await, "account_deleted");
    }
    assert_eq!(
        app.register("rita@uni.edu", "Rita Again").await.status(),
        201
    );
}

#[tokio::test]
async fn an_account_with_live_sessions_is_not_deleted_and_a_disabled_researcher_is_not_bookable() {
    let app = spawn_app().await;
    let admin = app.admin_token("admin@uni.edu").await;
    let r = bookable_researcher(&app, "grace@uni.edu").await;
    let reader = app.token("reader@uni.edu").await;
    let booked = book(&app, &reader, r.researcher_id, day_at_ten(&app, 3), 60).await;
    assert_eq!(booked.status(), 201);
    let reader_id = user_id(&app, &reader).await;
    for id in [reader_id, r.user_id] {
        let resp = delete(&app, &admin, id).await;
        assert_eq!(resp.status(), 409);
        assert_eq!(error_code(resp).await, "live_sessions");
    }

    admin_post(
        &app,
        &admin,
        &format!("/api/v1/admin/users/{}/disable", r.user_id),
    )
    .await;
    let view: Value = app
        .get(&format!("/api/v1/researchers/{}", r.researcher_id), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(view["bookable"], false);
    let resp = book(&app, &reader, r.researcher_id, day_at_ten(&app, 4), 60).await;
    assert_eq!(resp.status(), 409);
    assert_eq!(error_code(resp).await, "not_bookable");
}

#[tokio::test]
async fn only_admins_may_disable_enable_or_delete_accounts() {
    let app = spawn_app().await;
    app.admin_token("admin@uni.edu").await;
    let victim = app.token("victim@uni.edu").await;
    let id = user_id(&app, &victim).await;
    let reader = app.token("reader@uni.edu").await;
    for (method, path) in [
        (Method::POST, format!("/api/v1/admin/users/{id}/disable")),
        (Method::POST, format!("/api/v1/admin/users/{id}/enable")),
        (Method::DELETE, format!("/api/v1/admin/users/{id}")),
    ] {
        let r = app
            .send_json(method.clone(), &path, Some(&reader), &json!({}))
            .await;
        assert_eq!(r.status(), 403, "{path}");
        let r = app.send_json(method, &path, None, &json!({})).await;
        assert_eq!(r.status(), 401, "{path}");
    }
    let (web, csrf) = signed_in_browser(&app, "webreader@uni.edu").await;
    for action in ["disable", "enable", "delete"] {
        let r = web
            .post(app.url(&format!("/admin/users/{id}/{action}")))
            .form(&[("csrf_token", csrf.as_str()), ("confirm", "yes")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{action}");
    }
    for path in [format!("/admin/users/{id}"), "/admin/settings".into()] {
        assert_eq!(
            web.get(app.url(&path)).send().await.unwrap().status(),
            403,
            "{path}"
        );
    }
    assert_eq!(
        me(&app, &victim).await.status(),
        200,
        "nothing happened to the account"
    );
}

//! `DELETE /api/v1/users/me`: an account with data in every personal table
//! (values first written under the keyring key, then moved to subject keys
//! by `keys migrate-subjects`) is erased: nothing personal is left in the
//! database file or its WAL, a backup taken before no longer decrypts the
//! person's values, invoices stay valid and the audit chain verifies.

use std::time::Duration;

use serde_json::{json, Value};

use colloquy::crypto::{subject_of, CryptoError};
use colloquy::db::encrypted_columns::ENCRYPTED_COLUMNS;
use colloquy::db::repos::audit::{self, Verification};

use crate::data_rights_fixtures::{insert, seed};
use crate::helpers::{spawn_app, TestApp, PASSWORD};

fn user_id(app: &TestApp, email: &str) -> i64 {
    let bidx = app.state.keys.blind_index("email", email);
    app.db()
        .query_row("SELECT id FROM users WHERE email_bidx = ?1", [bidx], |r| {
            r.get(0)
        })
        .unwrap()
}

/// `DELETE /api/v1/users/me` with `body`.
async fn erase_me(app: &TestApp, token: Option<&str>, body: &Value) -> reqwest::Response {
    app.send_json(reqwest::Method::DELETE, "/api/v1/users/me", token, body)
        .await
}

/// Waits for the background part of an erasure.
pub async fn erased(app: &TestApp, id: i64) {
    for _ in 0..200 {
        let done: bool = app
            .db()
            .query_row(
                "SELECT deleted_at IS NOT NULL FROM users WHERE id = ?1",
                [id],
                |r| r.get(0),
            )
            .unwrap();
        // The keys go right after the erasing transaction commits.
        if done && shredded(app, &format!("u{id}")) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the erasure of user {id} did not finish");
}

/// Whether the key store holds `subject`'s key no more.
fn shredded(app: &TestApp, subject: &str) -> bool {
    let store = app.dir.path().join("keys/subject_keys.db");
    crate::helpers::rusqlite_conn(&store)
        .query_row(
            "SELECT wrapped IS NULL FROM subject_keys WHERE subject = ?1",
            [subject],
            |r| r.get(0),
        )
        .unwrap_or(false)
}

/// Every (column, stored value) under a subject key of `subjects`.
fn sealed_values(conn: &rusqlite::Connection, subjects: &[String]) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    for col in ENCRYPTED_COLUMNS {
        let values: Vec<String> = conn
            .prepare(&format!(
                "SELECT {c} FROM {t} WHERE {c} LIKE 'v2:%'",
                c = col.column,
                t = col.table
            ))
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        for v in values {
            if subject_of(&v).is_some_and(|s| subjects.iter().any(|x| x == s)) {
                out.push((col.aad, v));
            }
        }
    }
    out
}

/// Every invoice's number and sealed buyer, in order.
fn invoices(app: &TestApp) -> Vec<(String, String)> {
    app.db()
        .prepare("SELECT number, buyer_enc FROM invoices ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn holds(bytes: &[u8], needle: &str) -> bool {
    bytes
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

#[tokio::test]
async fn an_erased_account_leaves_no_personal_value_and_old_backups_stop_decrypting() {
    let app = spawn_app().await;
    let email = "erase.me@uni.example";
    let token = app.token(email).await;
    app.token("other@uni.example").await;
    let (u, o) = (user_id(&app, email), user_id(&app, "other@uni.example"));
    app.db()
        .execute(
            "UPDATE users SET name = 'Zebulon Quartermaine' WHERE id = ?1",
            [u],
        )
        .unwrap();
    let bidx = app.state.keys.blind_index("email", email);
    let (mine, others) = seed(u, o);
    insert(&app, mine, bidx.clone()).await;
    insert(&app, others, bidx).await;

    // The seed wrote under the keyring key, as before subject keys: move it.
    let st = app.state.clone();
    let moved = tokio::task::spawn_blocking(move || {
        colloquy::services::subject_migration::migrate(&st, &|_, _, _| {})
    })
    .await
    .unwrap()
    .unwrap();
    assert!(moved >= 10, "{moved}");
    let subjects = vec![format!("u{u}"), "r50".to_string()];
    let before = sealed_values(&app.db(), &subjects);
    assert!(before.len() >= 10, "{before:?}");
    for (aad, v) in &before {
        assert!(app.state.keys.decrypt(aad, v).is_ok());
    }
    let backup = app.dir.path().join("before-erasure.db");
    colloquy::db::backup(&app.db_path(), &backup, |_, _| {}).unwrap();
    let invoices_before = invoices(&app);
    assert!(!invoices_before.is_empty());

    // A wrong password changes nothing.
    let r = erase_me(&app, Some(&token), &json!({"password": "not the password"})).await;
    assert_eq!(r.status(), 422);
    let body: Value = r.json().await.unwrap();
    assert!(body["error"]["fields"]["password"].is_string(), "{body}");

    let r = erase_me(&app, Some(&token), &json!({"password": PASSWORD})).await;
    assert_eq!(r.status(), 202);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["status"], "accepted");
    // Closed at once: the token no longer works, nor does a log-in.
    assert_eq!(
        app.get("/api/v1/users/me", Some(&token)).await.status(),
        401
    );
    assert_ne!(app.login(email, PASSWORD).await.status(), 200);
    erased(&app, u).await;

    // The live database holds no value of theirs under their keys.
    let left = sealed_values(&app.db(), &subjects);
    assert!(left.is_empty(), "{left:?}");
    // Backups from before no longer decrypt them: the keys are gone.
    let old = crate::helpers::rusqlite_conn(&backup);
    let in_backup = sealed_values(&old, &subjects);
    assert_eq!(in_backup.len(), before.len());
    for (aad, v) in &in_backup {
        assert!(
            matches!(app.state.keys.decrypt(aad, v), Err(CryptoError::Shredded)),
            "{aad} still decrypts"
        );
    }
    // The other account is untouched.
    let theirs = sealed_values(&app.db(), &[format!("u{o}")]);
    assert!(!theirs.is_empty());
    for (aad, v) in &theirs {
        assert!(app.state.keys.decrypt(aad, v).is_ok());
    }

    // Invoices stay as issued, readable for their retention period.
    let invoices_after = invoices(&app);
    assert_eq!(invoices_after, invoices_before);
    for (_, buyer) in &invoices_after {
        assert!(app.state.keys.decrypt("invoices.buyer", buyer).is_ok());
    }

    // The audit trail still verifies, and names the account by a pseudonym.
    let keys = app.state.keys.clone();
    let verdict = app
        .state
        .db
        .read(move |c| audit::verify(c, &keys))
        .await
        .unwrap();
    assert!(
        matches!(verdict, Verification::Intact { .. }),
        "{verdict:?}"
    );
    let admin = app.admin_token("admin@uni.example").await;
    let trail: Value = app
        .get(
            "/api/v1/admin/audit?action=user.erasure_requested",
            Some(&admin),
        )
        .await
        .json()
        .await
        .unwrap();
    let actor = trail["items"][0]["actor_name"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(actor.starts_with("Former user "), "{actor}");
    // Reviews they wrote read "Former user".
    let name: String = app
        .db()
        .query_row(
            "SELECT CASE WHEN u.deleted_at IS NULL THEN u.name ELSE 'Former user' END
               FROM reviews v JOIN users u ON u.id = v.author_id WHERE v.author_id = ?1",
            [u],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(name, "Former user");

    // Raw bytes: neither the database file nor its WAL holds the name or
    // the address any more.
    for path in [app.db_path(), app.db_path().with_extension("db-wal")] {
        let bytes = std::fs::read(&path).unwrap_or_default();
        for needle in [
            "Zebulon Quartermaine",
            email,
            "Ada Researcher",
            "Works on graphs",
        ] {
            assert!(!holds(&bytes, needle), "{} holds {needle}", path.display());
        }
    }
}

#[tokio::test]
async fn the_last_admin_cannot_erase_their_account_and_a_body_is_required() {
    let app = spawn_app().await;
    let admin = app.admin_token("only.admin@uni.example").await;
    let r = erase_me(&app, Some(&admin), &json!({"password": PASSWORD})).await;
    assert_eq!(r.status(), 409);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "last_admin");
    assert!(app
        .get("/api/v1/users/me", Some(&admin))
        .await
        .status()
        .is_success());
    let r = erase_me(&app, Some(&admin), &json!(["x"])).await;
    assert!(r.status().is_client_error());
    let r = erase_me(&app, None, &json!({"password": PASSWORD})).await;
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn the_account_page_erases_after_the_password_and_the_box() {
    let app = spawn_app().await;
    let (web, _) = crate::pages::signed_in_browser(&app, "page.eraser@uni.example").await;
    let id = user_id(&app, "page.eraser@uni.example");
    let page = crate::pages::page_text(&web, &app, "/account").await;
    assert!(page.contains(r#"action="/account/erase""#), "{page}");
    let csrf = crate::pages::csrf_of(&page);
    let post = |fields: Vec<(&'static str, String)>| {
        let web = web.clone();
        let url = app.url("/account/erase");
        async move { web.post(url).form(&fields).send().await.unwrap() }
    };
    // Without the box, then with a wrong password: the page says why and
    // nothing happens.
    let r = post(vec![
        ("csrf_token", csrf.clone()),
        ("password", PASSWORD.into()),
    ])
    .await;
    let text = r.text().await.unwrap();
    assert!(text.contains("Tick the box"), "{text}");
    let r = post(vec![
        ("csrf_token", csrf.clone()),
        ("password", "wrong password here".into()),
        ("confirm", "yes".into()),
    ])
    .await;
    let text = r.text().await.unwrap();
    assert!(text.contains("not your current password"), "{text}");
    assert!(app
        .login("page.eraser@uni.example", PASSWORD)
        .await
        .status()
        .is_success());

    let r = post(vec![
        ("csrf_token", csrf),
        ("password", PASSWORD.into()),
        ("confirm", "yes".into()),
    ])
    .await;
    let text = r.text().await.unwrap();
    assert!(text.contains("Your account is closed"), "{text}");
    erased(&app, id).await;
    assert!(!app
        .login("page.eraser@uni.example", PASSWORD)
        .await
        .status()
        .is_success());
}

#[tokio::test]
async fn a_researcher_erasing_cancels_their_accepted_session_with_a_full_refund() {
    use crate::payments_fixtures::{paid, payment_of, thursday_ten};
    use crate::stripe_fakes::{calls, form, spawn_stripe_app, PRICE};
    let s = spawn_stripe_app(|_| {}).await;
    let app = &s.app;
    let p = paid(app, 24, true).await;
    app.clock.set(thursday_ten() - chrono::Duration::hours(72));
    let researcher_user: i64 = app
        .db()
        .query_row(
            "SELECT user_id FROM researchers WHERE id = ?1",
            [p.researcher.researcher_id],
            |r| r.get(0),
        )
        .unwrap();
    let r = erase_me(
        app,
        Some(&p.researcher.token),
        &json!({"password": PASSWORD}),
    )
    .await;
    assert_eq!(r.status(), 202);
    erased(app, researcher_user).await;
    assert_eq!(
        crate::sessions_fixtures::stored_status(app, p.id),
        "cancelled"
    );
    let refunds = calls(&s.stripe, "POST", "/v1/refunds").await;
    assert_eq!(refunds.len(), 1);
    assert_eq!(form(&refunds[0])["amount"], PRICE.to_string());
    assert_eq!(payment_of(app, p.id), ("refunded".into(), PRICE));
    // The reader still sees the session, cancelled, with the reason.
    let v: Value = app
        .get(
            &format!("/api/v1/consulting/sessions/{}", p.id),
            Some(&p.reader),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["status"], "cancelled", "{v}");
    // The profile they owned is erased with the account: no owner, no
    // name, gone from search and booking.
    let (owner, erased, name): (Option<i64>, bool, String) = app
        .db()
        .query_row(
            "SELECT user_id, erased_at IS NOT NULL, name FROM researchers WHERE id = ?1",
            [p.researcher.researcher_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!((owner, erased), (None, true));
    assert_ne!(name, "Grace Hopper");
}

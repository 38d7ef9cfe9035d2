//! The admin pages around accounts: an account's page with its buttons,
//! the audit trail with names and links, and the read-only institution
//! settings page.

use serde_json::{json, Value};

use crate::admin_accounts::{admin_post, me, user_id};
use crate::helpers::{spawn_app, spawn_app_with};
use crate::pages::logged_in_browser;
use colloquy::config::Secret;

#[tokio::test]
async fn the_account_page_disables_enables_and_deletes() {
    let app = spawn_app().await;
    app.admin_token("admin@uni.edu").await;
    let rita = app.token("rita@uni.edu").await;
    let id = user_id(&app, &rita).await;
    let (web, csrf) = logged_in_browser(&app, "admin@uni.edu").await;
    let press = |action: &str, confirm: bool| {
        let mut form = vec![("csrf_token", csrf.clone())];
        if confirm {
            form.push(("confirm", "yes".into()));
        }
        web.post(app.url(&format!("/admin/users/{id}/{action}")))
            .form(&form)
            .send()
    };
    let admin_page = web
        .get(app.url("/admin"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(admin_page.contains(&format!(r#"<a href="/admin/users/{id}">Test Reader</a>"#)));

    let page = press("disable", false).await.unwrap().text().await.unwrap();
    assert!(
        page.contains("is disabled: signed out everywhere") && page.contains(r#"id="enable""#),
        "{page}"
    );
    assert_eq!(me(&app, &rita).await.status(), 401);
    let page = press("enable", false).await.unwrap().text().await.unwrap();
    assert!(page.contains("can sign in again") && page.contains(r#"id="disable""#));
    let page = press("delete", false).await.unwrap().text().await.unwrap();
    assert!(page.contains("Tick the box"), "no deletion without the box");
    let page = press("delete", true).await.unwrap().text().await.unwrap();
    assert!(
        page.contains("personal data erased")
            && page.contains(r#"id="account-status" class="account-deleted">deleted"#)
    );
    assert!(!page.contains("rita@uni.edu"));

    let admin_id = {
        let own = web
            .get(app.url("/admin"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let re = regex::Regex::new(r#"<a href="/admin/users/(\d+)">Ada Admin</a>"#).unwrap();
        re.captures(&own).expect("the admin listed")[1].to_string()
    };
    let own = web
        .get(app.url(&format!("/admin/users/{admin_id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(own.contains(r#"id="own-account""#) && !own.contains(r#"id="disable""#));
}

#[tokio::test]
async fn the_audit_trail_names_actors_and_links_targets() {
    let app = spawn_app().await;
    let admin = app.admin_token("admin@uni.edu").await;
    let admin_id = user_id(&app, &admin).await;
    let rita = app.token("rita@uni.edu").await;
    let id = user_id(&app, &rita).await;
    let paper = app.sample_paper(&admin).await;
    admin_post(&app, &admin, &format!("/api/v1/admin/users/{id}/disable")).await;

    let (web, _) = logged_in_browser(&app, "admin@uni.edu").await;
    let page = web
        .get(app.url("/admin"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let actor = format!(r#"<a href="/admin/users/{admin_id}">Ada Admin</a>"#);
    let row = page
        .split("<tr>")
        .find(|r| r.contains("account disabled"))
        .expect("the event is listed in words");
    assert!(row.contains(&actor), "{row}");
    assert!(
        row.contains(&format!(r#"<a href="/admin/users/{id}">Test Reader</a>"#)),
        "{row}"
    );
    let row = page
        .split("<tr>")
        .find(|r| r.contains("paper added"))
        .unwrap();
    assert!(
        row.contains(&format!(
            r#"<a href="/papers/{paper}">Attention Is All You Need</a>"#
        )),
        "{row}"
    );
    assert!(
        !page.contains("user.disabled") && !page.contains("paper.created"),
        "codes are words"
    );

    let api: Value = app
        .get("/api/v1/admin/audit?action=user.disabled", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    let e = &api["items"][0];
    assert_eq!(
        (e["actor_name"].clone(), e["target_name"].clone()),
        (json!("Ada Admin"), json!("Test Reader"))
    );
}

#[tokio::test]
async fn the_settings_page_shows_institution_and_mail_settings_with_their_keys_and_no_secrets() {
    let app = spawn_app_with(|c| {
        c.institution.name = "Uni Bonn".into();
        c.smtp.host = "smtp.uni-bonn.example".into();
        c.smtp.password = Secret::new("hunter2-very-secret");
        c.source = Some("/etc/colloquy/colloquy.toml".into());
        c.accounts.email_verification = colloquy::config::EmailVerification::Off;
    })
    .await;
    app.admin_token("admin@uni.edu").await;
    let (web, _) = logged_in_browser(&app, "admin@uni.edu").await;
    let r = web.get(app.url("/admin/settings")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    for needle in [
        "<code>[institution] name</code>",
        "Uni Bonn",
        "<code>COLLOQUY__INSTITUTION__NAME</code>",
        "<code>[smtp] host</code>",
        "smtp.uni-bonn.example",
        "<code>COLLOQUY__SMTP__HOST</code>",
        "<code>[smtp] password</code>",
        "[redacted]",
        r#"<code id="config-file">/etc/colloquy/colloquy.toml</code>"#,
    ] {
        assert!(page.contains(needle), "{needle} missing: {page}");
    }
    assert!(!page.contains("hunter2"), "secrets never reach the page");
    assert!(!page.contains("settings-mail-held"), "a mail server is set");
    let admin_nav = page.contains(r#"<a href="/admin/settings">Settings</a>"#);
    assert!(admin_nav);

    let app = spawn_app().await;
    app.admin_token("admin@uni.edu").await;
    let (web, _) = logged_in_browser(&app, "admin@uni.edu").await;
    let page = web
        .get(app.url("/admin/settings"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("none was given") && page.contains(r#"id="settings-mail-held""#));
    assert!(page.contains(r#"<a href="/admin/mail?status=held">mailbox</a>"#));
}

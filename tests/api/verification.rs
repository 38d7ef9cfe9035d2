//! Verified e-mail for accounts: registration that answers the same for
//! any address, single-use expiring links, what an unverified account may
//! not do, resends, take-over of stale unconfirmed accounts, accounts that
//! count as verified, `auto` without SMTP, and the web pages.

use std::time::Duration;

use colloquy::config::{Config, EmailVerification, SmtpSecurity};
use colloquy::domain::Role;
use serde_json::{json, Value};

use crate::helpers::{error_code, sample_paper_body, spawn_app, spawn_app_with, TestApp, PASSWORD};
use crate::pages::{browser, csrf_of};
use crate::sessions_fixtures::{day_at_ten, every_day, mails, open_settings, recipients};
use crate::sessions_fixtures::{put_availability, put_settings};
use crate::smtp_sink::{Received, SmtpSink};

pub(crate) const NEW: &str = "new.reader@uni.example";
pub(crate) const OWNER: &str = "olive@uni.example";
pub(crate) const OTHER_PASSWORD: &str = "a quite different passphrase 77";

pub(crate) async fn app_with(sink: &SmtpSink, tweak: impl FnOnce(&mut Config)) -> TestApp {
    let port = sink.port;
    spawn_app_with(move |c| {
        c.smtp.host = "127.0.0.1".into();
        c.smtp.port = port;
        c.smtp.security = SmtpSecurity::None;
        c.smtp.from = "Colloquy <colloquy@uni.example>".into();
        c.server.public_url = "https://colloquy.uni.example".into();
        tweak(c);
    })
    .await
}

/// Delivers the outbox and waits for `n` messages in the sink.
async fn deliver(app: &TestApp, sink: &SmtpSink, n: usize) -> Vec<Received> {
    colloquy::services::mail::sender::send_due(&app.state)
        .await
        .unwrap();
    let got = sink.wait_for(n, Duration::from_secs(5)).await;
    assert_eq!(got.len(), n, "{got:#?}");
    got
}

/// The token of the first verification link in a message (quoted-printable
/// soft breaks undone); `None` when there is none.
fn link_in(text: &str) -> Option<String> {
    let body = text.replace("=\r\n", "").replace("=3D", "=");
    let re = regex::Regex::new(r"https://colloquy\.uni\.example/verify-email/([A-Za-z0-9_\-]+)");
    re.unwrap().captures(&body).map(|c| c[1].to_string())
}

/// The link of the newest `email_verification` message in the outbox.
pub(crate) fn newest_link(app: &TestApp) -> String {
    let rows = mails(app, "email_verification");
    link_in(&rows.last().expect("a verification mail").content.text).expect("a link")
}

async fn register_with(app: &TestApp, email: &str, password: &str) -> reqwest::Response {
    let body =
        json!({"email": email, "password": password, "name": "New Reader", "accept_terms": true});
    app.post_json("/api/v1/auth/register", None, &body).await
}

/// Registers with `PASSWORD`, asserting the 202 answer.
pub(crate) async fn registered(app: &TestApp, email: &str) {
    let r = app.register(email, "New Reader").await;
    assert_eq!(r.status(), 202, "{}", r.text().await.unwrap());
    let body: Value = r.json().await.unwrap();
    assert_eq!(body, json!({"status": "verification_sent"}));
}

pub(crate) async fn bearer(app: &TestApp, email: &str, password: &str) -> String {
    let r = app.login(email, password).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let body: Value = r.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_string()
}

async fn verify(app: &TestApp, token: &str) -> reqwest::Response {
    let body = json!({"token": token});
    app.post_json("/api/v1/auth/verify-email", None, &body)
        .await
}

pub(crate) async fn resend(app: &TestApp, bearer: &str) -> reqwest::Response {
    let path = "/api/v1/auth/verify-email/resend";
    app.post_json(path, Some(bearer), &json!({})).await
}

/// A 422 naming the token: the link is used, expired or not bound.
async fn assert_link_refused(r: reqwest::Response) {
    assert_eq!(r.status(), 422);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["fields"]["token"], "link_invalid", "{body}");
}

async fn assert_conflict(r: reqwest::Response, code: &str) {
    assert_eq!(r.status(), 409);
    assert_eq!(error_code(r).await, code);
}

async fn me(app: &TestApp, bearer: &str) -> Value {
    let r = app.get("/api/v1/users/me", Some(bearer)).await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

/// `email_verified_at IS NOT NULL` of every account, oldest first.
fn verified_flags(app: &TestApp) -> Vec<bool> {
    let conn = app.db();
    let mut stmt = conn
        .prepare("SELECT email_verified_at IS NOT NULL FROM users ORDER BY id")
        .unwrap();
    let rows = stmt.query_map([], |r| r.get(0)).unwrap();
    rows.map(Result::unwrap).collect()
}

fn count(app: &TestApp, sql: &str) -> i64 {
    app.db().query_row(sql, [], |r| r.get(0)).unwrap()
}

fn audited(app: &TestApp, action: &str) -> bool {
    app.audit_actions().iter().any(|a| a == action)
}

pub(crate) async fn cli_user(app: &TestApp, email: &str, role: Role) {
    let state = &app.state;
    let user =
        colloquy::services::accounts::create_user_admin_cli(state, email, "Olive", PASSWORD, role)
            .await
            .unwrap();
    // An operator's account accepts the terms at its first request.
    app.accept_terms_as(user.id, role).await;
}

pub(crate) async fn html(web: &reqwest::Client, url: String) -> String {
    web.get(url).send().await.unwrap().text().await.unwrap()
}

pub(crate) async fn submit(
    web: &reqwest::Client,
    url: String,
    form: &[(&str, &str)],
) -> reqwest::Response {
    web.post(url).form(form).send().await.unwrap()
}

#[tokio::test]
async fn auto_with_smtp_mails_a_link_whose_page_changes_nothing_and_whose_post_verifies_once() {
    let sink = SmtpSink::start().await;
    let app = app_with(&sink, |_| {}).await;
    let mode = app.state.config.accounts.email_verification;
    assert_eq!(mode, EmailVerification::Auto);
    registered(&app, NEW).await;
    let token = bearer(&app, NEW, PASSWORD).await;
    assert_eq!(me(&app, &token).await["email_verified"], false);

    let mail = &deliver(&app, &sink, 1).await[0];
    assert_eq!(mail.rcpt_to, [NEW]);
    assert!(mail.data.contains("Subject: Confirm your e-mail address"));
    let link = link_in(&mail.data).expect("a link to /verify-email/{token}");

    // The page shows a button; looking at it (twice) changes nothing.
    for _ in 0..2 {
        let r = app.get(&format!("/verify-email/{link}"), None).await;
        assert_eq!(r.status(), 200);
        let page = r.text().await.unwrap();
        assert!(page.contains(&format!(r#"action="/verify-email/{link}""#)));
        assert!(page.contains(r#"id="confirm-email""#));
    }
    assert_eq!(verified_flags(&app), [false]);
    let open = "SELECT COUNT(*) FROM email_verifications WHERE used_at IS NULL";
    assert_eq!(count(&app, open), 1);

    let r = verify(&app, &link).await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body, json!({"status": "verified"}));
    assert_eq!(verified_flags(&app), [true]);
    assert_eq!(count(&app, open), 0);
    assert_eq!(me(&app, &token).await["email_verified"], true);
    assert!(audited(&app, "auth.email_verified"));

    // Single use: the API refuses it, the page shows the problem.
    assert_link_refused(verify(&app, &link).await).await;
    let r = app.get(&format!("/verify-email/{link}"), None).await;
    assert_eq!(r.status(), 410);
    assert_conflict(resend(&app, &token).await, "already_verified").await;
}

#[tokio::test]
async fn an_address_with_an_account_gets_the_same_answer_and_its_owner_a_notice_instead() {
    let sink = SmtpSink::start().await;
    let required = |c: &mut Config| c.accounts.email_verification = EmailVerification::Required;
    let app = app_with(&sink, required).await;
    cli_user(&app, OWNER, Role::User).await;

    let fresh = register_with(&app, NEW, OTHER_PASSWORD).await;
    let taken = register_with(&app, OWNER, OTHER_PASSWORD).await;
    let head = |r: &reqwest::Response| (r.status(), r.headers().get("content-type").cloned());
    assert_eq!(head(&fresh), head(&taken));
    assert_eq!(fresh.status(), 202);
    let (fresh, taken) = (fresh.bytes().await.unwrap(), taken.bytes().await.unwrap());
    assert_eq!(fresh, taken, "the answers must not tell addresses apart");

    assert_eq!(count(&app, "SELECT COUNT(*) FROM users"), 2);
    assert_eq!(recipients(&mails(&app, "email_verification")), [NEW]);
    assert_eq!(recipients(&mails(&app, "registration_attempt")), [OWNER]);
    let got = deliver(&app, &sink, 2).await;
    let to = |who: &str| {
        got.iter()
            .find(|m| m.rcpt_to == [who])
            .unwrap()
            .data
            .clone()
    };
    let notice = to(OWNER).replace("=\r\n", "");
    assert!(notice.contains("An account with this address"), "{notice}");
    assert!(link_in(&notice).is_none(), "the owner gets no link");
    assert!(link_in(&to(NEW)).is_some());

    // The owner's account is untouched.
    bearer(&app, OWNER, PASSWORD).await;
    assert_eq!(app.login(OWNER, OTHER_PASSWORD).await.status(), 401);
    assert!(audited(&app, "auth.register_existing"));
}

#[tokio::test]
async fn a_link_works_until_its_lifetime_ends_and_not_after() {
    let sink = SmtpSink::start().await;
    let app = app_with(&sink, |_| {}).await;
    registered(&app, "early@uni.example").await;
    let early = newest_link(&app);
    registered(&app, "late@uni.example").await;
    let late = newest_link(&app);

    app.clock.advance(chrono::Duration::hours(47));
    let r = app.get(&format!("/verify-email/{early}"), None).await;
    assert_eq!(r.status(), 200);
    assert_eq!(verify(&app, &early).await.status(), 200);

    app.clock.advance(chrono::Duration::hours(1));
    let r = app.get(&format!("/verify-email/{late}"), None).await;
    assert_eq!(r.status(), 410);
    assert_link_refused(verify(&app, &late).await).await;
    assert_eq!(verified_flags(&app), [true, false]);
}

/// A researcher made on the command line (so verified) who is open every
/// day; returns the profile id.
async fn bookable(app: &TestApp) -> i64 {
    cli_user(app, "grace@yale.example", Role::User).await;
    let grace = bearer(app, "grace@yale.example", PASSWORD).await;
    let user = me(app, &grace).await["id"].as_i64().unwrap();
    let now = colloquy::clock::Clock::now(&app.clock);
    let rid = app.state.db.write(move |tx| {
        use colloquy::repos::researchers;
        let id = researchers::insert(tx, "Grace Hopper", Some("Yale"), None, now)?;
        researchers::claim(tx, id, colloquy::domain::UserId(user), now)?;
        Ok(id.0)
    });
    let rid = rid.await.unwrap();
    let week = json!({"timezone": "UTC", "rules": every_day(), "exceptions": []});
    for r in [
        put_settings(app, &grace, rid, &open_settings()).await,
        put_availability(app, &grace, rid, &week).await,
    ] {
        assert_eq!(r.status(), 200);
    }
    rid
}

#[tokio::test]
async fn an_unverified_account_signs_in_and_browses_but_may_not_act_until_it_verifies() {
    let sink = SmtpSink::start().await;
    let app = app_with(&sink, |_| {}).await;
    let grace = bookable(&app).await;
    let admin = app.admin_token("boss@uni.example").await;
    let (ada, paper) = crate::outreach::researcher(&app, &admin).await;

    registered(&app, NEW).await;
    let reader = bearer(&app, NEW, PASSWORD).await;
    assert_eq!(app.get("/api/v1/papers", Some(&reader)).await.status(), 200);
    let start = day_at_ten(&app, 2).to_rfc3339();
    let calls = [
        (
            "/api/v1/consulting/sessions",
            json!({"researcher_id": grace, "start": start, "duration_minutes": 60, "topic": "Compilers"}),
        ),
        (
            "/api/v1/consulting/outreach",
            json!({"researcher_id": ada, "paper_id": paper}),
        ),
        (
            "/api/v1/consulting/researchers/collect",
            json!({"paper_id": paper}),
        ),
        ("/api/v1/papers", sample_paper_body()),
        // The same DOI: once verified, the paper just added is returned.
        (
            "/api/v1/papers/import",
            json!({"doi": sample_paper_body()["doi"]}),
        ),
        ("/api/v1/subscriptions", json!({"plan_id": "monthly"})),
    ];
    for (path, body) in &calls {
        let r = app.post_json(path, Some(&reader), body).await;
        assert_eq!(r.status(), 403, "{path}");
        assert_eq!(error_code(r).await, "email_not_verified", "{path}");
    }
    assert_eq!(count(&app, "SELECT COUNT(*) FROM consulting_sessions"), 0);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM papers"), 1);

    assert_eq!(verify(&app, &newest_link(&app)).await.status(), 200);
    // The same bearer: the check reads the account, not the log-in.
    // Payments are off here, so a subscription is refused for that.
    let expected = [201, 202, 202, 201, 200, 409];
    for ((path, body), want) in calls.iter().zip(expected) {
        let r = app.post_json(path, Some(&reader), body).await;
        assert_eq!(r.status(), want, "{path}: {}", r.text().await.unwrap());
        if want == 409 {
            assert_eq!(error_code(r).await, "payments_off");
        }
    }
}

/// Signs in and asks for `n` links; asserts all but the last were sent and
/// returns the last answer.
async fn resends(app: &TestApp, n: usize) -> reqwest::Response {
    let token = bearer(app, NEW, PASSWORD).await;
    for i in 1..n {
        let r = resend(app, &token).await;
        assert_eq!(r.status(), 202, "resend {i}: {}", r.text().await.unwrap());
        let body: Value = r.json().await.unwrap();
        assert_eq!(body, json!({"status": "verification_sent"}));
    }
    resend(app, &token).await
}

async fn assert_retry_later(r: reqwest::Response) {
    assert_eq!(r.status(), 429);
    let wait: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=3600).contains(&wait), "{wait}");
    assert_eq!(error_code(r).await, "rate_limited");
}

#[tokio::test]
async fn right_after_registering_three_resends_are_mailed_and_the_fourth_waits() {
    let sink = SmtpSink::start().await;
    let app = app_with(&sink, |_| {}).await;
    registered(&app, NEW).await;
    assert_retry_later(resends(&app, 4).await).await;
    assert_eq!(mails(&app, "email_verification").len(), 4);
}

#[tokio::test]
async fn resends_are_limited_per_hour_and_refused_once_verified() {
    let sink = SmtpSink::start().await;
    let app = app_with(&sink, |_| {}).await;
    registered(&app, NEW).await;
    let first = newest_link(&app);
    let path = "/api/v1/auth/verify-email/resend";
    let anonymous = app.post_json(path, None, &json!({})).await;
    assert_eq!(anonymous.status(), 401);
    // An hour after registering, so only resends are in the window.
    app.clock.advance(chrono::Duration::minutes(61));
    assert_retry_later(resends(&app, 4).await).await;
    assert_eq!(mails(&app, "email_verification").len(), 4);

    app.clock.advance(chrono::Duration::minutes(61));
    let token = bearer(&app, NEW, PASSWORD).await;
    assert_eq!(resend(&app, &token).await.status(), 202);
    let newest = newest_link(&app);
    assert_ne!(first, newest);
    assert_eq!(verify(&app, &newest).await.status(), 200);
    // Verifying ends every other open link.
    assert_link_refused(verify(&app, &first).await).await;
    assert_conflict(resend(&app, &token).await, "already_verified").await;
}

#[tokio::test]
async fn a_stale_unverified_account_can_be_registered_anew_but_a_fresh_one_cannot() {
    let sink = SmtpSink::start().await;
    let app = app_with(&sink, |c| {
        c.auth.access_token_ttl_secs = 400 * 86_400;
        c.auth.refresh_token_ttl_secs = 400 * 86_400;
    })
    .await;
    registered(&app, NEW).await;
    let tokens: Value = app.login(NEW, PASSWORD).await.json().await.unwrap();
    let access = tokens["access_token"].as_str().unwrap();
    let id = me(&app, access).await["id"].clone();

    // Fresh: the newcomer only causes a notice; nothing changes.
    assert_eq!(register_with(&app, NEW, OTHER_PASSWORD).await.status(), 202);
    assert_eq!(mails(&app, "email_verification").len(), 1);
    let notices = mails(&app, "registration_attempt");
    assert_eq!(recipients(&notices), [NEW]);
    assert!(notices[0].content.text.contains("never confirmed"));
    assert_eq!(app.login(NEW, OTHER_PASSWORD).await.status(), 401);
    assert_eq!(me(&app, access).await["id"], id);

    // Older than the link lifetime: the new registration takes it over.
    app.clock.advance(chrono::Duration::hours(48));
    assert_eq!(register_with(&app, NEW, OTHER_PASSWORD).await.status(), 202);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM users"), 1);
    let old = app.get("/api/v1/users/me", Some(access)).await;
    assert_eq!(old.status(), 401, "the old log-in ended");
    let refresh = json!({"refresh_token": tokens["refresh_token"]});
    let r = app.post_json("/api/v1/auth/refresh", None, &refresh).await;
    assert_eq!(r.status(), 401);
    assert_eq!(app.login(NEW, PASSWORD).await.status(), 401);
    let fresh = bearer(&app, NEW, OTHER_PASSWORD).await;
    assert_eq!(me(&app, &fresh).await["id"], id, "the same account");
    assert_eq!(mails(&app, "email_verification").len(), 2);
    assert_eq!(mails(&app, "registration_attempt").len(), 1);
    assert!(audited(&app, "auth.register_replaced_unverified"));
    assert_eq!(verify(&app, &newest_link(&app)).await.status(), 200);
    assert_eq!(verified_flags(&app), [true]);
}

#[tokio::test]
async fn a_link_only_proves_the_address_it_was_mailed_to() {
    let sink = SmtpSink::start().await;
    let app = app_with(&sink, |_| {}).await;
    registered(&app, NEW).await;
    let old_link = link_in(&deliver(&app, &sink, 1).await[0].data).unwrap();
    // The account's address changes after the link went out.
    let moved = "moved@uni.example";
    let keys = &app.state.keys;
    let enc = keys.encrypt(colloquy::repos::users::EMAIL_AAD, moved);
    let email = colloquy::domain::Email::parse(moved).unwrap();
    let bidx = colloquy::repos::users::email_index(keys, &email);
    let sql = "UPDATE users SET email_enc = ?1, email_bidx = ?2";
    assert_eq!(app.db().execute(sql, [enc, bidx]).unwrap(), 1);

    assert_link_refused(verify(&app, &old_link).await).await;
    let token = bearer(&app, moved, PASSWORD).await;
    assert_eq!(me(&app, &token).await["email_verified"], false);

    assert_eq!(resend(&app, &token).await.status(), 202);
    let mail = &deliver(&app, &sink, 2).await[1];
    assert_eq!(mail.rcpt_to, [moved]);
    let link = link_in(&mail.data).unwrap();
    assert_eq!(verify(&app, &link).await.status(), 200);
    assert_eq!(me(&app, &token).await["email_verified"], true);
}

#[tokio::test]
async fn accounts_from_the_command_line_and_the_setup_link_count_as_verified() {
    let sink = SmtpSink::start().await;
    let app = app_with(&sink, |_| {}).await;
    let url = colloquy::services::accounts::ensure_setup_link(&app.state).await;
    let url = app.url(&format!(
        "/setup/{}",
        url.unwrap().unwrap().rsplit('/').next().unwrap()
    ));
    let web = browser();
    let csrf = csrf_of(&html(&web, url.clone()).await);
    let form = [
        ("csrf_token", csrf.as_str()),
        ("email", "boss@uni.example"),
        ("name", "First Admin"),
        ("password", PASSWORD),
        ("accept_terms", "yes"),
    ];
    let r = submit(&web, url, &form).await;
    assert_eq!((r.status().as_u16(), r.url().path()), (200, "/admin"));
    let admin = bearer(&app, "boss@uni.example", PASSWORD).await;
    let view = me(&app, &admin).await;
    assert_eq!(
        (&view["role"], &view["email_verified"]),
        (&json!("admin"), &json!(true))
    );

    cli_user(&app, "cli@uni.example", Role::User).await;
    let cli = bearer(&app, "cli@uni.example", PASSWORD).await;
    assert_eq!(me(&app, &cli).await["email_verified"], true);
    let r = app.create_paper(&cli, &sample_paper_body()).await;
    assert_eq!(r.status(), 201);
    assert!(mails(&app, "email_verification").is_empty());
}

#[tokio::test]
async fn auto_without_smtp_leaves_verification_off() {
    let app = spawn_app().await;
    let mode = app.state.config.accounts.email_verification;
    assert_eq!(mode, EmailVerification::Auto);
    assert!(!app.state.config.email_verification_on());
    assert_eq!(app.register(NEW, "New Reader").await.status(), 201);
    let r = app.register(NEW, "New Reader").await;
    assert_eq!(r.status(), 409);
    assert_eq!(error_code(r).await, "email_taken");

    let token = bearer(&app, NEW, PASSWORD).await;
    assert_eq!(me(&app, &token).await["email_verified"], false);
    let r = app.create_paper(&token, &sample_paper_body()).await;
    assert_eq!(r.status(), 201, "not refused while verification is off");
    assert_conflict(resend(&app, &token).await, "verification_off").await;
    assert!(mails(&app, "email_verification").is_empty());
}

//! The mail outbox over a real SMTP conversation with a loopback sink:
//! delivery, both MIME parts, retries with backoff, permanent failures,
//! held mail without SMTP, and the admin mailbox.

use std::time::Duration;

use colloquy::clock::Clock;
use colloquy::config::{Secret, SmtpSecurity};
use colloquy::domain::Role;
use colloquy::services::accounts::Principal;
use colloquy::services::mail;

use crate::helpers::{spawn_app, spawn_app_with, TestApp};
use crate::pages::{logged_in_browser, signed_in_browser};
use crate::smtp_sink::{Mode, SmtpSink};

pub(crate) async fn app_with_smtp(sink: &SmtpSink) -> TestApp {
    let port = sink.port;
    spawn_app_with(move |c| {
        c.smtp.host = "127.0.0.1".into();
        c.smtp.port = port;
        c.smtp.security = SmtpSecurity::None;
        c.smtp.from = "Colloquy <colloquy@uni.example>".into();
        c.smtp.reply_to = "help@uni.example".into();
        c.smtp.password = Secret::default();
        c.smtp.max_attempts = 3;
        c.smtp.backoff_base_secs = 60;
        c.smtp.timeout_secs = 2;
        // These tests are about delivery; verified e-mail has its own.
        c.accounts.email_verification = colloquy::config::EmailVerification::Off;
    })
    .await
}

pub(crate) async fn admin(app: &TestApp) -> Principal {
    let user = colloquy::services::accounts::create_user_admin_cli(
        &app.state,
        "boss@uni.edu",
        "Boss",
        crate::helpers::PASSWORD,
        Role::Admin,
    )
    .await
    .unwrap();
    app.accept_terms_as(user.id, Role::Admin).await;
    Principal {
        user_id: user.id,
        role: Role::Admin,
        session_id: colloquy::domain::SessionId(0),
    }
}

pub(crate) fn status_of(
    app: &TestApp,
    id: colloquy::domain::MailId,
) -> (String, i64, Option<String>) {
    let conn = crate::helpers::rusqlite_conn(&app.db_path());
    conn.query_row(
        "SELECT status, attempts, last_error FROM mail_outbox WHERE id = ?1",
        [id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )
    .unwrap()
}

#[tokio::test]
async fn a_message_is_delivered_over_smtp_with_both_parts_and_the_right_envelope() {
    let sink = SmtpSink::start().await;
    let app = app_with_smtp(&sink).await;
    let who = admin(&app).await;
    let id = mail::send_test(&app.state, &who, "Ada.Lovelace@Uni.edu", None)
        .await
        .unwrap();
    assert_eq!(mail::sender::send_due(&app.state).await.unwrap(), (1, 0));
    let got = sink.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(got.len(), 1);
    let m = &got[0];
    assert_eq!(m.mail_from, "colloquy@uni.example");
    assert_eq!(m.rcpt_to, vec!["ada.lovelace@uni.edu".to_string()]);
    for needle in [
        "Subject: Colloquy: test message",
        "Reply-To: help@uni.example",
        "multipart/alternative",
        "Content-Type: text/plain",
        "Content-Type: text/html",
        "the SMTP settings work",
    ] {
        assert!(m.data.contains(needle), "{needle} missing from\n{}", m.data);
    }
    assert_eq!(status_of(&app, id).0, "sent");
    // Sending again finds nothing due: delivered once.
    assert_eq!(mail::sender::send_due(&app.state).await.unwrap(), (0, 0));
    assert_eq!(sink.received().len(), 1);
}

#[tokio::test]
async fn smtp_down_then_up_delivers_the_message_once() {
    let sink = SmtpSink::start().await;
    let app = app_with_smtp(&sink).await;
    let who = admin(&app).await;
    sink.set_mode(Mode::Down);
    let id = mail::send_test(&app.state, &who, "down@uni.edu", None)
        .await
        .unwrap();
    assert_eq!(mail::sender::send_due(&app.state).await.unwrap(), (0, 0));
    let (status, attempts, error) = status_of(&app, id);
    assert_eq!((status.as_str(), attempts), ("queued", 1));
    assert!(error.is_some());
    // Not due yet: the backoff holds it back.
    sink.set_mode(Mode::Accept);
    mail::sender::send_due(&app.state).await.unwrap();
    assert!(sink.received().is_empty());
    app.clock.advance(chrono::Duration::seconds(61));
    assert_eq!(mail::sender::send_due(&app.state).await.unwrap(), (1, 0));
    assert_eq!(status_of(&app, id), ("sent".to_string(), 2, None));
    assert_eq!(sink.wait_for(1, Duration::from_secs(5)).await.len(), 1);
}

#[tokio::test]
async fn temporary_failures_back_off_and_fail_after_the_last_attempt() {
    let sink = SmtpSink::start().await;
    let app = app_with_smtp(&sink).await;
    let who = admin(&app).await;
    sink.set_mode(Mode::TempFail);
    let id = mail::send_test(&app.state, &who, "busy@uni.edu", None)
        .await
        .unwrap();
    mail::sender::send_due(&app.state).await.unwrap();
    let first_next: String = crate::helpers::rusqlite_conn(&app.db_path())
        .query_row(
            "SELECT next_attempt_at FROM mail_outbox WHERE id = ?1",
            [id],
            |r| r.get(0),
        )
        .unwrap();
    assert!(first_next > colloquy::db::ts(app.clock.now() + chrono::Duration::seconds(59)));
    app.clock.advance(chrono::Duration::seconds(61));
    mail::sender::send_due(&app.state).await.unwrap();
    assert_eq!(status_of(&app, id).1, 2);
    // The second wait is twice as long.
    app.clock.advance(chrono::Duration::seconds(61));
    mail::sender::send_due(&app.state).await.unwrap();
    assert_eq!(
        status_of(&app, id).1,
        2,
        "not due before the doubled backoff"
    );
    app.clock.advance(chrono::Duration::seconds(60));
    assert_eq!(mail::sender::send_due(&app.state).await.unwrap(), (0, 1));
    let (status, attempts, error) = status_of(&app, id);
    assert_eq!((status.as_str(), attempts), ("failed", 3));
    assert!(error.unwrap().starts_with("temporary"));
}

#[tokio::test]
async fn a_permanent_failure_fails_the_message_at_once_and_an_admin_can_retry_it() {
    let sink = SmtpSink::start().await;
    let app = app_with_smtp(&sink).await;
    let who = admin(&app).await;
    sink.set_mode(Mode::PermFail);
    let id = mail::send_test(&app.state, &who, "nobody@uni.edu", None)
        .await
        .unwrap();
    assert_eq!(mail::sender::send_due(&app.state).await.unwrap(), (0, 1));
    let (status, attempts, error) = status_of(&app, id);
    assert_eq!((status.as_str(), attempts), ("failed", 1));
    let error = error.unwrap();
    assert!(
        error.starts_with("permanent") && !error.contains("nobody@"),
        "{error}"
    );

    sink.set_mode(Mode::Accept);
    let (web, csrf) = logged_in_browser(&app, "boss@uni.edu").await;
    let r = web
        .post(app.url(&format!("/admin/mail/{id}/retry")))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert!(r.text().await.unwrap().contains("will be sent again"));
    assert_eq!(mail::sender::send_due(&app.state).await.unwrap(), (1, 0));
    assert_eq!(sink.received().len(), 1);
}

#[tokio::test]
async fn without_smtp_mail_is_held_and_readable_in_the_mailbox() {
    let app = spawn_app().await;
    let who = admin(&app).await;
    let id = mail::send_test(&app.state, &who, "held@uni.edu", None)
        .await
        .unwrap();
    assert_eq!(status_of(&app, id).0, "held");
    assert_eq!(mail::sender::send_due(&app.state).await.unwrap(), (0, 0));

    let (web, csrf) = logged_in_browser(&app, "boss@uni.edu").await;
    let page = web
        .get(app.url("/admin/mail?status=held&template=test_message"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("No mail server is set")
            && page.contains("held@uni.edu")
            && page.contains("test message")
    );
    let none = web
        .get(app.url("/admin/mail?status=sent"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(none.contains("No messages."));
    let message = web
        .get(app.url(&format!("/admin/mail/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(message.contains("Plain text") && message.contains("only kept in the admin mailbox"));
    let r = web
        .post(app.url(&format!("/admin/mail/{id}/retry")))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("No SMTP server is configured"));

    // The test form.
    let r = web
        .post(app.url("/admin/mail/test"))
        .form(&[("csrf_token", csrf.as_str()), ("to", "second@uni.edu")])
        .send()
        .await
        .unwrap();
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("The test message is in the outbox"));
    let r = web
        .post(app.url("/admin/mail/test"))
        .form(&[("csrf_token", csrf.as_str()), ("to", "not-an-address")])
        .send()
        .await
        .unwrap();
    let body = r.text().await.unwrap();
    assert!(body.contains("is not an e-mail address"), "{body}");
}

#[tokio::test]
async fn the_mailbox_is_for_admins_only_and_addresses_are_encrypted_at_rest() {
    let app = spawn_app().await;
    let who = admin(&app).await;
    let id = mail::send_test(&app.state, &who, "secret.person@uni.edu", None)
        .await
        .unwrap();
    let (reader, csrf) = signed_in_browser(&app, "reader@uni.edu").await;
    for path in ["/admin/mail".to_string(), format!("/admin/mail/{id}")] {
        assert_eq!(
            reader.get(app.url(&path)).send().await.unwrap().status(),
            403,
            "{path}"
        );
    }
    let r = reader
        .post(app.url("/admin/mail/test"))
        .form(&[("csrf_token", csrf.as_str()), ("to", "x@uni.edu")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let reader_principal = Principal {
        user_id: colloquy::domain::UserId(2),
        role: Role::User,
        session_id: colloquy::domain::SessionId(0),
    };
    assert!(mail::get(&app.state, &reader_principal, id).await.is_err());

    colloquy::db::Db::open(&app.state.config.storage, &app.db_path()).unwrap();
    let mut raw = std::fs::read(app.db_path()).unwrap();
    raw.extend(std::fs::read(format!("{}-wal", app.db_path().display())).unwrap_or_default());
    let haystack = String::from_utf8_lossy(&raw).to_lowercase();
    assert!(
        !haystack.contains("secret.person"),
        "the recipient is stored in clear"
    );
    assert!(
        !haystack.contains("the smtp settings work"),
        "the content is stored in clear"
    );
}

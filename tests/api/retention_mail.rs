//! Retention of mail: old content goes, the row and its metadata stay,
//! and the mailbox says so.

use colloquy::clock::Clock;
use colloquy::db::repos::mail_outbox;
use colloquy::domain::{MailId, MailStatus};
use colloquy::services::retention::Kind;

use crate::helpers::{spawn_app, spawn_app_with, TestApp};
use crate::pages::{csrf_of, logged_in_browser};
use crate::retention::{inside, mail, outside, run};

async fn find_mail(app: &TestApp, id: MailId) -> mail_outbox::MailRow {
    let keys = app.state.keys.clone();
    app.state
        .db
        .read(move |c| mail_outbox::find(c, &keys, id))
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn mail_older_than_the_window_loses_its_content_and_keeps_its_metadata() {
    let app = spawn_app().await;
    let now = app.clock.now();
    let old = mail(&app, "Old news", MailStatus::Sent, outside(now, 90)).await;
    let recent = mail(&app, "Recent news", MailStatus::Sent, inside(now, 90)).await;
    let waiting = mail(&app, "Still queued", MailStatus::Queued, outside(now, 90)).await;

    let report = run(&app).await;
    assert_eq!(report.rows(Kind::MailBodies), 1);

    let m = find_mail(&app, old).await;
    assert_eq!(
        (m.content.subject.as_str(), m.content.text.as_str()),
        ("", "")
    );
    assert!(m.content_removed_at.is_some());
    assert_eq!(m.recipient, "ada@uni.example");
    assert_eq!(m.template, "session_accepted");
    assert_eq!(m.status, MailStatus::Sent);
    assert_eq!(m.created_at, outside(now, 90));
    for (id, subject) in [(recent, "Recent news"), (waiting, "Still queued")] {
        let m = find_mail(&app, id).await;
        assert_eq!(m.content.subject, subject);
        assert!(m.content_removed_at.is_none());
    }
}

#[tokio::test]
async fn a_mail_whose_content_went_says_so_and_cannot_be_sent_again() {
    // A mail server is set, so only the removed content stops a retry.
    let app = spawn_app_with(|c| c.smtp.host = "smtp.uni.example".into()).await;
    app.admin_token("admin@uni.edu").await;
    let now = app.clock.now();
    let id = mail(&app, "Old failure", MailStatus::Failed, outside(now, 90)).await;
    run(&app).await;

    let (web, _) = logged_in_browser(&app, "admin@uni.edu").await;
    let page = web
        .get(app.url(&format!("/admin/mail/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains(r#"id="content-removed""#), "{page}");
    assert!(!page.contains("Old failure") && !page.contains("Send again"));
    let mailbox = web.get(app.url("/admin/mail")).send().await.unwrap();
    let mailbox = mailbox.text().await.unwrap();
    assert!(mailbox.contains("(content removed)"), "{mailbox}");

    let r = web
        .post(app.url(&format!("/admin/mail/{id}/retry")))
        .form(&[("csrf_token", csrf_of(&mailbox).as_str())])
        .send()
        .await
        .unwrap();
    // The message page again, saying why not.
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert!(page.contains("whose content is still kept"), "{page}");
    assert_eq!(find_mail(&app, id).await.status, MailStatus::Failed);
}

//! A log scan: everything the app logs while accounts are made, log-ins
//! fail and succeed, and researchers with e-mails are collected, at TRACE
//! level, must not contain an e-mail address.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use crate::collection::{mount_all, priem_paper, PAGE_EMAIL};
use crate::helpers::{spawn_app, PASSWORD};

#[derive(Clone, Default)]
pub(crate) struct Captured(pub(crate) Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Installs (once per test binary) a subscriber that keeps every log line.
pub(crate) fn capture() -> Captured {
    static LOGS: OnceLock<Captured> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Captured::default();
        let writer = logs.clone();
        let _ = tracing_subscriber::fmt()
            .json()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || writer.clone())
            .try_init();
        logs
    })
    .clone()
}

#[tokio::test]
async fn the_logs_never_contain_an_email_address() {
    let logs = capture();
    let app = spawn_app().await;
    mount_all(&app, Some(PAGE_EMAIL)).await;
    let admin = app.admin_token("logs.admin@uni.edu").await;
    app.register("logs.reader@uni.edu", "Log Reader").await;
    app.login("logs.reader@uni.edu", "wrong password here")
        .await;
    app.login("logs.reader@uni.edu", PASSWORD).await;
    app.login("nobody.there@uni.edu", PASSWORD).await;
    let paper = priem_paper(&app, &admin).await;
    app.collect_ok(&admin, &serde_json::json!({"paper_id": paper}))
        .await;
    colloquy::services::collection::runner::run_due(&app.state)
        .await
        .unwrap();
    app.get(
        &format!("/api/v1/consulting/researchers/{paper}"),
        Some(&admin),
    )
    .await;

    // Mail: queued (held here) and delivered over SMTP in mail.rs; the
    // queueing is logged with the template only.
    let boss = colloquy::services::accounts::get_user(&app.state, colloquy::domain::UserId(1))
        .await
        .unwrap();
    let who = colloquy::services::accounts::Principal {
        user_id: boss.id,
        role: boss.role,
        session_id: colloquy::domain::SessionId(0),
    };
    colloquy::services::mail::send_test(&app.state, &who, "logs.mailto@uni.edu", None)
        .await
        .unwrap();

    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        text.contains("collection job finished"),
        "the capture works"
    );
    for address in [
        "logs.admin@uni.edu",
        "logs.reader@uni.edu",
        "nobody.there@uni.edu",
        PAGE_EMAIL,
    ] {
        assert!(!text.contains(address), "{address} was logged");
        let local = address.split('@').next().unwrap();
        assert!(
            !text.contains(local),
            "the local part of {address} was logged"
        );
    }
}

//! The Art. 14 notice: an invitation to a researcher who never signed up
//! says who holds their data, where it came from, why, on what basis, for
//! how long, and how to exercise their rights.

use std::time::Duration;

use serde_json::json;

use crate::outreach::{app_with_smtp, outreach, researcher, ADDRESS};
use crate::smtp_sink::SmtpSink;

#[tokio::test]
async fn an_invitation_carries_the_art_14_notice() {
    let sink = SmtpSink::start().await;
    let app = app_with_smtp(&sink).await;
    let reader = app.token("reader@uni.edu").await;
    let (rid, paper) = researcher(&app, &reader).await;
    let r = outreach(
        &app,
        &reader,
        json!({"researcher_id": rid, "paper_id": paper}),
    )
    .await;
    assert_eq!(r.status(), 202, "{}", r.text().await.unwrap());
    colloquy::services::mail::sender::send_due(&app.state)
        .await
        .unwrap();
    let mail = &sink.wait_for(1, Duration::from_secs(5)).await[0];
    assert_eq!(mail.rcpt_to, vec![ADDRESS.to_string()]);
    let data = mail.data.replace("=\r\n", "").replace("=3D", "=");
    for needle in [
        "About your data (Art. 14 GDPR)",
        "the institution that runs this Colloquy service, the controller of your data",
        "privacy@example.org",
        "public sources only: the author list of your paper",
        "Notes on the Analytical Engine",
        "public web pages about you, read with Firecrawl",
        "to invite you to offer consulting sessions to readers of your work",
        "legitimate interest (Art. 6(1)(f) GDPR)",
        "730 days without an update",
        "https://colloquy.uni.example/privacy/request",
        "https://colloquy.uni.example/opt-out/",
        "complain to a data-protection authority",
    ] {
        assert!(data.contains(needle), "{needle} missing from\n{data}");
    }
    // Both parts carry it.
    assert_eq!(data.matches("About your data (Art. 14 GDPR)").count(), 2);
}

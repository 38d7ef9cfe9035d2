//! Outreach end to end: a reader's request becomes an invitation e-mail
//! over a real SMTP conversation, whose link registers the researcher;
//! bad links, single use under concurrency, opt-out, cooldown, held mail,
//! claims by existing accounts, and who may do what.

use std::time::Duration;

use colloquy::config::{EmailVerification, SmtpSecurity};
use colloquy::domain::researcher::{Field, FieldValue, Provenance};
use colloquy::domain::{PaperId, ResearcherId};
use serde_json::{json, Value};

use crate::helpers::{error_code, spawn_app, spawn_app_with, TestApp, PASSWORD};
use crate::smtp_sink::SmtpSink;

pub(crate) const ADDRESS: &str = "ada.lovelace@analytical.example";

pub(crate) async fn app_with_smtp(sink: &SmtpSink) -> TestApp {
    let port = sink.port;
    spawn_app_with(move |c| {
        c.smtp.host = "127.0.0.1".into();
        c.smtp.port = port;
        c.smtp.security = SmtpSecurity::None;
        c.smtp.from = "Colloquy <colloquy@uni.example>".into();
        c.server.public_url = "https://colloquy.uni.example".into();
        // These tests are about outreach; verified e-mail has its own.
        c.accounts.email_verification = EmailVerification::Off;
    })
    .await
}

/// A researcher with a collected e-mail (found on a profile page), linked
/// as the first author of a new paper; returns (researcher, paper).
pub(crate) async fn researcher(app: &TestApp, token: &str) -> (i64, i64) {
    let paper = app.create_paper(token, &json!({"title": "Notes on the Analytical Engine", "authors": [{"name": "Ada Lovelace", "affiliation": "Analytical Society"}]})).await;
    let paper = paper.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let (keys, now) = (app.state.keys.clone(), chrono::Utc::now());
    let rid = app
        .state
        .db
        .write(move |tx| {
            use colloquy::repos::researchers;
            let id =
                researchers::insert(tx, "Ada Lovelace", Some("Analytical Society"), None, now)?;
            let p = Provenance {
                provider: "firecrawl".into(),
                source_url: Some("https://analytical.example/ada".into()),
            };
            let values = [
                (
                    Field::Email,
                    FieldValue::Email {
                        address: ADDRESS.into(),
                        quality: Some("shown on the profile page".into()),
                    },
                ),
                (
                    Field::Bio,
                    FieldValue::Text("Wrote the first published program.".into()),
                ),
            ];
            researchers::apply(tx, &keys, id, &values, &p, now)?;
            researchers::link_paper(tx, PaperId(paper), 0, id)?;
            Ok(id)
        })
        .await
        .unwrap();
    (rid.0, paper)
}

pub(crate) async fn outreach(app: &TestApp, token: &str, body: Value) -> reqwest::Response {
    app.post_json("/api/v1/consulting/outreach", Some(token), &body)
        .await
}

/// The invitation and opt-out links in a delivered message.
pub(crate) fn links(data: &str) -> (String, String) {
    let body = data.replace("=\r\n", "").replace("=3D", "=");
    let re = |path: &str| {
        regex::Regex::new(&format!(
            r"https://colloquy\.uni\.example/{path}/([A-Za-z0-9_\-\.]+)"
        ))
        .unwrap()
    };
    let invite = re("invite").captures(&body).expect("an invitation link")[1].to_string();
    let opt_out = re("opt-out").captures(&body).expect("an opt-out link")[1].to_string();
    (invite, opt_out)
}

/// A registration link for Ada's profile, as an invitation to her
/// address would carry (invitation 1).
pub(crate) fn register_link(app: &TestApp, rid: i64) -> String {
    let email = colloquy::domain::Email::parse(ADDRESS).unwrap();
    let rcpt = colloquy::repos::researchers::email_index(&app.state.keys, &email);
    colloquy::services::link_tokens::issue(
        &app.state.keys,
        ResearcherId(rid),
        1,
        "register",
        colloquy::clock::Clock::now(&app.clock),
        14,
        Some(&rcpt),
    )
    .unwrap()
}

pub(crate) async fn register(app: &TestApp, token: &str) -> reqwest::Response {
    app.post_json("/api/v1/auth/register-researcher", None, &json!({"token": token, "password": PASSWORD, "timezone": "Europe/London", "accept_terms": true}))
        .await
}

#[tokio::test]
async fn a_reader_invites_an_author_and_the_link_in_the_mail_registers_them() {
    let sink = SmtpSink::start().await;
    let app = app_with_smtp(&sink).await;
    let reader = app.token("reader@uni.edu").await;
    let (rid, paper) = researcher(&app, &reader).await;

    let r = outreach(&app, &reader, json!({"researcher_id": rid, "paper_id": paper, "message": "How did you think about loops?"})).await;
    assert_eq!(r.status(), 202);
    let view: Value = r.json().await.unwrap();
    assert_eq!(view["status"], "queued");
    colloquy::services::mail::sender::send_due(&app.state)
        .await
        .unwrap();
    let mail = &sink.wait_for(1, Duration::from_secs(5)).await[0];
    assert_eq!(mail.rcpt_to, vec![ADDRESS.to_string()]);
    for needle in [
        "List-Unsubscribe: <https://colloquy.uni.example/opt-out/",
        "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
        "Content-Type: text/plain",
        "Content-Type: text/html",
        "Notes on the Analytical Engine",
    ] {
        assert!(
            mail.data.contains(needle),
            "{needle} missing from\n{}",
            mail.data
        );
    }
    let decoded = mail.data.replace("=\r\n", "");
    assert!(
        decoded.contains("https://analytical.example/ada"),
        "the notice names where the address came from"
    );
    let (invite, _) = links(&mail.data);

    // The landing page shows the collected profile with its sources.
    let page = app
        .client
        .get(app.url(&format!("/invite/{invite}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Wrote the first published program.")
            && page.contains("Source: Firecrawl (web pages)")
    );

    let r = register(&app, &invite).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let user: Value = r.json().await.unwrap();
    assert_eq!(
        (user["role"].as_str(), user["email"].as_str()),
        (Some("researcher"), Some(ADDRESS))
    );
    let conn = crate::helpers::rusqlite_conn(&app.db_path());
    let (linked, status, tz, consent): (i64, String, String, String) = conn
        .query_row("SELECT user_id, status, timezone, listing_terms_version FROM researchers WHERE id = ?1", [rid], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .unwrap();
    assert_eq!(
        (linked, status.as_str(), tz.as_str()),
        (user["id"].as_i64().unwrap(), "registered", "Europe/London")
    );
    assert!(!consent.is_empty());
    let verified: Option<String> = conn
        .query_row(
            "SELECT email_verified_at FROM users WHERE id = ?1",
            [linked],
            |r| r.get(0),
        )
        .unwrap();
    assert!(verified.is_some());
    // The welcome mail goes out, and the invitation's history is complete.
    colloquy::services::mail::sender::send_due(&app.state)
        .await
        .unwrap();
    let mails = sink.wait_for(2, Duration::from_secs(5)).await;
    assert!(mails[1].data.contains("Subject: Welcome to"));
    let events: Vec<String> = conn
        .prepare("SELECT event FROM outreach_events ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(events, ["queued", "sent", "opened", "registered"]);
    // The link worked once.
    let again = register(&app, &invite).await;
    assert_eq!(again.status(), 422);
    assert_eq!(
        again.json::<Value>().await.unwrap()["error"]["fields"]["token"],
        "link_used"
    );
}

#[tokio::test]
async fn after_an_opt_out_no_mail_is_ever_sent_and_the_address_is_gone() {
    let sink = SmtpSink::start().await;
    let app = app_with_smtp(&sink).await;
    let reader = app.token("reader@uni.edu").await;
    let (rid, _) = researcher(&app, &reader).await;
    outreach(&app, &reader, json!({"researcher_id": rid})).await;
    colloquy::services::mail::sender::send_due(&app.state)
        .await
        .unwrap();
    let (_, opt_out) = links(&sink.wait_for(1, Duration::from_secs(5)).await[0].data);

    // The confirmation page, then the RFC 8058 one-click POST.
    let page = app
        .client
        .get(app.url(&format!("/opt-out/{opt_out}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("never contact me again"));
    let r = app
        .client
        .post(app.url(&format!("/opt-out/{opt_out}")))
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("You are opted out"));

    let conn = crate::helpers::rusqlite_conn(&app.db_path());
    let (status, email): (String, Option<String>) = conn
        .query_row(
            "SELECT status, email_enc FROM researchers WHERE id = ?1",
            [rid],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((status.as_str(), email), ("opted_out", None));
    let suppressed: i64 = conn
        .query_row("SELECT COUNT(*) FROM suppressions", [], |r| r.get(0))
        .unwrap();
    assert_eq!(suppressed, 1);

    let other = app.token("other@uni.edu").await;
    let r = outreach(&app, &other, json!({"researcher_id": rid})).await;
    assert_eq!(r.status(), 409);
    assert_eq!(error_code(r).await, "opted_out");
    // Collection finding the address again does not store it.
    let (keys, now) = (app.state.keys.clone(), chrono::Utc::now());
    app.state
        .db
        .write(move |tx| {
            let p = Provenance {
                provider: "rocketreach".into(),
                source_url: None,
            };
            colloquy::repos::researchers::apply(
                tx,
                &keys,
                ResearcherId(rid),
                &[(
                    Field::Email,
                    FieldValue::Email {
                        address: ADDRESS.into(),
                        quality: None,
                    },
                )],
                &p,
                now,
            )
        })
        .await
        .unwrap();
    let email: Option<String> = conn
        .query_row(
            "SELECT email_enc FROM researchers WHERE id = ?1",
            [rid],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(email, None);
    let r = outreach(&app, &other, json!({"researcher_id": rid})).await;
    assert_eq!(error_code(r).await, "opted_out");
    colloquy::services::mail::sender::send_due(&app.state)
        .await
        .unwrap();
    assert_eq!(sink.received().len(), 1, "no second mail");
}

#[tokio::test]
async fn the_cooldown_refuses_a_second_invitation_but_counts_the_interest() {
    let app = spawn_app_with(|c| c.outreach.cooldown_days = 30).await;
    let first = app.token("first@uni.edu").await;
    let (rid, _) = researcher(&app, &first).await;
    assert_eq!(
        outreach(&app, &first, json!({"researcher_id": rid}))
            .await
            .status(),
        202
    );
    let second = app.token("second@uni.edu").await;
    let r = outreach(&app, &second, json!({"researcher_id": rid})).await;
    assert_eq!(r.status(), 409);
    assert_eq!(error_code(r).await, "recently_invited");
    let waiting: i64 = crate::helpers::rusqlite_conn(&app.db_path())
        .query_row(
            "SELECT COUNT(*) FROM reader_interest WHERE researcher_id = ?1",
            [rid],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(waiting, 2);
    // After the cooldown the next invitation goes out.
    app.clock.advance(chrono::Duration::days(31));
    let fresh = app
        .login("second@uni.edu", PASSWORD)
        .await
        .json::<Value>()
        .await
        .unwrap();
    let fresh = fresh["access_token"].as_str().unwrap();
    assert_eq!(
        outreach(&app, fresh, json!({"researcher_id": rid}))
            .await
            .status(),
        202
    );
}

#[tokio::test]
async fn without_smtp_the_invitation_is_held_in_the_mailbox() {
    let app = spawn_app().await;
    let reader = app.token("reader@uni.edu").await;
    let (rid, _) = researcher(&app, &reader).await;
    assert_eq!(
        outreach(&app, &reader, json!({"researcher_id": rid}))
            .await
            .status(),
        202
    );
    let (status, template): (String, String) = crate::helpers::rusqlite_conn(&app.db_path())
        .query_row("SELECT status, template FROM mail_outbox", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(
        (status.as_str(), template.as_str()),
        ("held", "outreach_request")
    );
}

#[tokio::test]
async fn refusals_and_roles() {
    let app = spawn_app().await;
    let reader = app.token("reader@uni.edu").await;
    let (rid, _) = researcher(&app, &reader).await;
    assert_eq!(
        app.post_json(
            "/api/v1/consulting/outreach",
            None,
            &json!({"researcher_id": rid})
        )
        .await
        .status(),
        401
    );
    assert_eq!(
        outreach(&app, &reader, json!({"researcher_id": 999_999}))
            .await
            .status(),
        404
    );
    assert_eq!(
        outreach(
            &app,
            &reader,
            json!({"researcher_id": rid, "paper_id": 999_999})
        )
        .await
        .status(),
        404
    );
    assert_eq!(
        outreach(&app, &reader, json!({"researcher_id": "x"}))
            .await
            .status(),
        422
    );
    assert_eq!(
        outreach(&app, &reader, json!({"researcher_id": rid, "extra": 1}))
            .await
            .status(),
        422
    );
    // No e-mail: 422.
    let (keys, now) = (app.state.keys.clone(), chrono::Utc::now());
    let bare = app
        .state
        .db
        .write(move |tx| {
            let _ = &keys;
            colloquy::repos::researchers::insert(tx, "No Mail", None, None, now)
        })
        .await
        .unwrap();
    let r = outreach(&app, &reader, json!({"researcher_id": bare.0})).await;
    assert_eq!(r.status(), 422);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["fields"]["researcher_id"],
        "no_email"
    );
    // The admin pages are for admins.
    let (web, _) = crate::pages::signed_in_browser(&app, "plain@uni.edu").await;
    assert_eq!(
        web.get(app.url("/admin/outreach"))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    // Admins see the demand.
    app.admin_token("admin@uni.edu").await;
    let (admin_web, _) = crate::pages::logged_in_browser(&app, "admin@uni.edu").await;
    let page = admin_web
        .get(app.url("/admin/outreach"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("No Mail") && page.contains("Readers waiting"),
        "{page}"
    );
}

#[tokio::test]
async fn a_message_queued_before_an_opt_out_is_never_sent() {
    let sink = SmtpSink::start().await;
    let app = app_with_smtp(&sink).await;
    let reader = app.token("reader@uni.edu").await;
    let (rid, paper) = researcher(&app, &reader).await;
    sink.set_mode(crate::smtp_sink::Mode::Down);
    assert_eq!(
        outreach(
            &app,
            &reader,
            json!({"researcher_id": rid, "paper_id": paper})
        )
        .await
        .status(),
        202
    );
    colloquy::services::mail::sender::send_due(&app.state)
        .await
        .unwrap();
    // While the server was down, the researcher opted out (from an earlier mail).
    let token = colloquy::services::link_tokens::issue(
        &app.state.keys,
        ResearcherId(rid),
        1,
        "opt_out",
        colloquy::clock::Clock::now(&app.clock),
        14,
        None,
    )
    .unwrap();
    colloquy::services::outreach::opt_out(&app.state, &token, None)
        .await
        .unwrap();
    sink.set_mode(crate::smtp_sink::Mode::Accept);
    app.clock.advance(chrono::Duration::hours(1));
    assert_eq!(
        colloquy::services::mail::sender::send_due(&app.state)
            .await
            .unwrap(),
        (0, 1)
    );
    assert!(sink.received().is_empty());
    let error: String = crate::helpers::rusqlite_conn(&app.db_path())
        .query_row("SELECT last_error FROM mail_outbox", [], |r| r.get(0))
        .unwrap();
    assert_eq!(error, "the address opted out");
}

#[tokio::test]
async fn an_invitation_can_only_name_the_researchers_own_paper() {
    let app = spawn_app().await;
    let reader = app.token("reader@uni.edu").await;
    let (rid, _) = researcher(&app, &reader).await;
    let other = app.sample_paper(&reader).await;
    let r = outreach(
        &app,
        &reader,
        json!({"researcher_id": rid, "paper_id": other}),
    )
    .await;
    assert_eq!(r.status(), 422);
    assert!(r.json::<Value>().await.unwrap()["error"]["fields"]["paper_id"].is_string());
}

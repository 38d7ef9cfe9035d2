//! Registration through invitation links: bad links and renewal, single
//! use under concurrency, registered researchers, existing accounts, and
//! merges that keep the account link.

use std::time::Duration;

use colloquy::domain::researcher::Field;
use colloquy::domain::{ResearcherId, UserId};
use serde_json::{json, Value};

use crate::helpers::{error_code, spawn_app, PASSWORD};
use crate::smtp_sink::SmtpSink;

use crate::outreach::*;

#[tokio::test]
async fn bad_links_say_what_is_wrong_and_expired_ones_can_be_renewed() {
    let sink = SmtpSink::start().await;
    let app = app_with_smtp(&sink).await;
    let reader = app.token("reader@uni.edu").await;
    let (rid, _) = researcher(&app, &reader).await;
    outreach(&app, &reader, json!({"researcher_id": rid})).await;
    colloquy::services::mail::sender::send_due(&app.state)
        .await
        .unwrap();
    let (invite, opt_out) = links(&sink.wait_for(1, Duration::from_secs(5)).await[0].data);

    let code = |r: Value| r["error"]["fields"]["token"].as_str().unwrap().to_string();
    let mut tampered = invite.clone();
    tampered.insert(tampered.len() - 3, 'x');
    assert_eq!(
        code(register(&app, &tampered).await.json().await.unwrap()),
        "link_invalid"
    );
    assert_eq!(
        code(register(&app, &opt_out).await.json().await.unwrap()),
        "link_wrong_purpose"
    );
    let page = app
        .client
        .get(app.url(&format!("/invite/{tampered}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 410);
    assert!(page.text().await.unwrap().contains("not valid"));

    app.clock.advance(chrono::Duration::days(15));
    assert_eq!(
        code(register(&app, &invite).await.json().await.unwrap()),
        "link_expired"
    );
    let page = app
        .client
        .get(app.url(&format!("/invite/{invite}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("This link has expired") && page.contains("Send me a new link"));
    // Renewing sends a fresh, working link.
    colloquy::services::outreach::renew(&app.state, &invite, None)
        .await
        .unwrap();
    colloquy::services::mail::sender::send_due(&app.state)
        .await
        .unwrap();
    let (fresh, _) = links(&sink.wait_for(2, Duration::from_secs(5)).await[1].data);
    assert_eq!(register(&app, &fresh).await.status(), 201);
}

#[tokio::test]
async fn two_concurrent_registrations_with_one_link_give_exactly_one_account() {
    let app = spawn_app().await;
    let reader = app.token("reader@uni.edu").await;
    let (rid, _) = researcher(&app, &reader).await;
    outreach(&app, &reader, json!({"researcher_id": rid})).await;
    let token = register_link(&app, rid);
    let (a, b) = tokio::join!(register(&app, &token), register(&app, &token));
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort();
    // The loser finds the profile claimed (or the link used).
    assert!(matches!(statuses, [201, 409] | [201, 422]), "{statuses:?}");
    let users: i64 = crate::helpers::rusqlite_conn(&app.db_path())
        .query_row(
            "SELECT COUNT(*) FROM users WHERE role = 'researcher'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(users, 1);
}

#[tokio::test]
async fn a_registered_researcher_is_told_about_the_interest_instead() {
    let app = spawn_app().await;
    let reader = app.token("reader@uni.edu").await;
    let (rid, _) = researcher(&app, &reader).await;
    outreach(&app, &reader, json!({"researcher_id": rid})).await;
    let token = register_link(&app, rid);
    assert_eq!(register(&app, &token).await.status(), 201);
    let other = app.token("other@uni.edu").await;
    let r = outreach(&app, &other, json!({"researcher_id": rid})).await;
    assert_eq!(r.status(), 409);
    assert_eq!(error_code(r).await, "already_registered");
    let notices: i64 = crate::helpers::rusqlite_conn(&app.db_path())
        .query_row(
            "SELECT COUNT(*) FROM mail_outbox WHERE template = 'interest_notice'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(notices, 1);
}

#[tokio::test]
async fn an_existing_account_is_never_overwritten_and_links_the_profile_after_log_in() {
    let app = spawn_app().await;
    let reader = app.token("reader@uni.edu").await;
    let (rid, _) = researcher(&app, &reader).await;
    // Ada already has a reader account under the same address.
    assert_eq!(app.register(ADDRESS, "Ada L.").await.status(), 201);
    let token = register_link(&app, rid);
    let r = app
        .post_json(
            "/api/v1/auth/register-researcher",
            None,
            &json!({"token": token, "password": "someone else's passphrase 99", "accept_terms": true}),
        )
        .await;
    assert_eq!(r.status(), 409);
    assert_eq!(error_code(r).await, "account_exists");
    // Her password is untouched; the link still works for her.
    assert_eq!(
        app.login(ADDRESS, "someone else's passphrase 99")
            .await
            .status(),
        401
    );
    let t = app
        .login(ADDRESS, PASSWORD)
        .await
        .json::<Value>()
        .await
        .unwrap();
    let bearer = t["access_token"].as_str().unwrap();
    let r = app
        .post_json(
            "/api/v1/auth/link-researcher",
            Some(bearer),
            &json!({"token": token, "accept_terms": true, "timezone": "Europe/London"}),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let me: Value = app
        .get("/api/v1/users/me", Some(bearer))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["role"], "researcher");
    assert_eq!(me["email_verified"], true, "the link proved the mailbox");
    let linked: Option<i64> = crate::helpers::rusqlite_conn(&app.db_path())
        .query_row(
            "SELECT user_id FROM researchers WHERE id = ?1",
            [rid],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(linked, me["id"].as_i64());
    // The link worked once.
    let again = app
        .post_json(
            "/api/v1/auth/link-researcher",
            Some(bearer),
            &json!({"token": token, "accept_terms": true}),
        )
        .await;
    assert_eq!(again.status(), 422);
}

#[tokio::test]
async fn merging_duplicates_keeps_the_account_link_and_the_outreach_history() {
    use colloquy::repos::{outreach as repo, researchers};
    let app = spawn_app().await;
    let reader = app.token("reader@uni.edu").await;
    let (registered, _) = researcher(&app, &reader).await;
    let (keys, now) = (app.state.keys.clone(), chrono::Utc::now());
    let reader_id = colloquy::domain::UserId(1);
    let (keep, dropped) = app
        .state
        .db
        .write(move |tx| {
            // An older, plain profile of the same person...
            let older = researchers::insert(tx, "A. Lovelace", None, None, now)?;
            // ...and the registered one, with an invitation, interest and edits.
            let rid = ResearcherId(registered);
            researchers::claim(tx, rid, UserId(1), now)?;
            researchers::mark_edited(tx, rid, &[Field::Bio])?;
            let o = repo::NewOutreach {
                researcher: rid,
                paper: None,
                requested_by: None,
                kind: "invitation",
                message: None,
            };
            repo::insert(tx, &keys, &o, now)?;
            repo::record_interest(tx, rid, reader_id, None, now)?;
            // The claimed profile is always the one kept.
            researchers::merge(tx, rid, older, "same email", now)?;
            Ok((rid, older))
        })
        .await
        .unwrap();
    assert_ne!(keep, dropped);
    let conn = crate::helpers::rusqlite_conn(&app.db_path());
    let (user, status, edited): (Option<i64>, String, String) = conn
        .query_row(
            "SELECT user_id, status, edited_fields FROM researchers WHERE id = ?1",
            [keep.0],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!((user, status.as_str()), (Some(1), "registered"));
    assert!(edited.contains("bio"));
    let moved: (i64, i64) = conn
        .query_row(
            "SELECT (SELECT COUNT(*) FROM outreach WHERE researcher_id = ?1), (SELECT COUNT(*) FROM reader_interest WHERE researcher_id = ?1)",
            [keep.0],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(moved, (1, 1));
}

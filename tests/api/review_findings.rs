//! The security review's findings on the request path and payments: log
//! lines without link tokens, IPv6 clients counted per /64, booking
//! idempotency hashes that are keyed, and Stripe events bound to a payment
//! by the PaymentIntent's id only. Each fails on the code before the fix.

use colloquy::services::sessions::booking::BookRequest;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::helpers::{spawn_app, spawn_app_with};
use crate::outreach::{outreach, researcher};
use crate::payments_fixtures::*;
use crate::sessions_fixtures::{bookable_researcher, booked, day_at_ten, mails};
use crate::stripe_fakes::*;

#[tokio::test]
async fn link_tokens_never_reach_the_log() {
    let logs = crate::logs::capture();
    let app = spawn_app().await;
    let reader = app.token("token.reader@uni.edu").await;
    let (rid, _) = researcher(&app, &reader).await;
    assert_eq!(
        outreach(&app, &reader, json!({"researcher_id": rid}))
            .await
            .status(),
        202
    );
    let mail = mails(&app, "outreach_request").pop().unwrap();
    let re = regex::Regex::new(r"/(invite|opt-out)/([A-Za-z0-9_\-\.]+)").unwrap();
    // The opt-out link is in the footer and in the Art. 14 notice.
    let tokens: std::collections::BTreeSet<String> = re
        .captures_iter(&mail.content.text)
        .map(|c| c[2].to_string())
        .collect();
    assert_eq!(tokens.len(), 2);
    for t in &tokens {
        for path in [format!("/invite/{t}"), format!("/opt-out/{t}")] {
            app.client.get(app.url(&path)).send().await.unwrap();
        }
    }
    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(text.contains("request"), "the capture works");
    for t in &tokens {
        assert!(!text.contains(t.as_str()), "a link token was logged");
        // Not even the signature part of the JWT.
        let sig = t.rsplit('.').next().unwrap();
        assert!(!text.contains(sig));
    }
    assert!(
        text.contains("/invite/{token}"),
        "the route template is logged"
    );
}

#[tokio::test]
async fn ipv6_clients_are_limited_per_64_not_per_address() {
    let app = spawn_app_with(|c| {
        c.security.trusted_proxies = vec!["127.0.0.1".into()];
        c.security.rate_limit_per_ip_per_minute = 3;
    })
    .await;
    let get = |ip: &'static str| {
        app.client
            .get(app.url("/api/v1/papers"))
            .header("x-forwarded-for", ip)
            .send()
    };
    for ip in ["2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:ffff::3"] {
        assert_eq!(get(ip).await.unwrap().status(), 200, "{ip}");
    }
    // A fourth address of the same /64 is the same client.
    assert_eq!(get("2001:db8:1:2:abcd::4").await.unwrap().status(), 429);
    // Another /64 is another client.
    assert_eq!(get("2001:db8:1:3::1").await.unwrap().status(), 200);
}

#[tokio::test]
async fn failed_log_ins_from_one_ipv6_64_count_together() {
    let app = spawn_app_with(|c| {
        c.security.trusted_proxies = vec!["127.0.0.1".into()];
        c.auth.login_max_failures_per_ip = 3;
    })
    .await;
    let login = |ip: String, who: usize| {
        app.client
            .post(app.url("/api/v1/auth/login"))
            .header("x-forwarded-for", ip)
            .json(
                &json!({"email": format!("guess{who}@uni.edu"), "password": "wrong password 1234"}),
            )
            .send()
    };
    for i in 0..3 {
        assert_eq!(
            login(format!("2001:db8:9:9::{i}"), i)
                .await
                .unwrap()
                .status(),
            401
        );
    }
    assert_eq!(
        login("2001:db8:9:9::ff".into(), 9).await.unwrap().status(),
        429
    );
}

#[tokio::test]
async fn a_stored_idempotency_hash_is_keyed_not_a_hash_of_the_request() {
    let app = spawn_app().await;
    let b = bookable_researcher(&app, "grace@yale.example").await;
    let reader = app.token("rosalind@uni.example").await;
    let start = day_at_ten(&app, 3);
    let topic = "Is the A-0 compiler a compiler?";
    let r = app
        .client
        .post(app.url("/api/v1/consulting/sessions"))
        .bearer_auth(&reader)
        .header("Idempotency-Key", "book-1")
        .json(&json!({"researcher_id": b.researcher_id, "start": start.to_rfc3339(), "duration_minutes": 60, "topic": topic}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let stored: String = app
        .db()
        .query_row("SELECT request_hash FROM idempotency_keys", [], |r| {
            r.get(0)
        })
        .unwrap();
    // Anyone with the file could confirm a guessed topic against a bare hash.
    let guess = BookRequest {
        researcher_id: colloquy::domain::ResearcherId(b.researcher_id),
        start,
        duration_minutes: 60,
        topic: topic.into(),
        paper_id: None,
        query_id: None,
    };
    let bare = hex::encode(Sha256::digest(serde_json::to_vec(&guess).unwrap()));
    assert_ne!(stored, bare);
    assert_eq!(stored.len(), 64);
    // The replay still works.
    let again = app
        .client
        .post(app.url("/api/v1/consulting/sessions"))
        .bearer_auth(&reader)
        .header("Idempotency-Key", "book-1")
        .json(&json!({"researcher_id": b.researcher_id, "start": start.to_rfc3339(), "duration_minutes": 60, "topic": topic}))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
}

#[tokio::test]
async fn an_event_for_another_intent_never_moves_a_payment_through_its_metadata() {
    let s = spawn_stripe_app(|_| {}).await;
    let app = &s.app;
    let researcher = priced_researcher(app, 24).await;
    let reader = app.token("reader@uni.example").await;
    let id = booked(app, &reader, researcher.researcher_id, thursday_ten()).await;
    intent_ok(app, &reader, id).await;
    assert_eq!(payment_of(app, id).0, "pending");
    // A held card on some other intent that names this session.
    let mut e = capturable(app, id);
    e["id"] = json!("evt_other_intent");
    e["data"]["object"]["id"] = json!("pi_someone_elses_intent");
    assert_eq!(delivered(app, &e).await, "processed");
    assert_eq!(
        payment_of(app, id).0,
        "pending",
        "not authorised by another intent"
    );
    let stored: String = app
        .db()
        .query_row(
            "SELECT intent_id FROM session_payments WHERE session_id = ?1",
            [id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stored, intent_id(id));
    // Its own intent still works.
    assert_eq!(delivered(app, &capturable(app, id)).await, "processed");
    assert_eq!(payment_of(app, id).0, "authorized");
}

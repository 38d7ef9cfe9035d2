//! "Is Colloquy holding data about me?" (`POST /api/v1/data-requests`,
//! `/privacy/request`): the same answer whether or not anything is held,
//! the result mailed to that address only (over a real SMTP conversation),
//! limits per client and per address, validation, and the audit row.

use std::time::Duration;

use serde_json::{json, Value};

use crate::claims::profile;
use crate::helpers::{error_code, TestApp};
use crate::outreach::app_with_smtp;
use crate::pages::{browser, csrf_of};
use crate::smtp_sink::{Received, SmtpSink};

async fn ask(app: &TestApp, email: &str) -> reqwest::Response {
    app.post_json("/api/v1/data-requests", None, &json!({"email": email}))
        .await
}

/// The message, with quoted-printable soft breaks and `=` undone.
fn text(m: &Received) -> String {
    m.data.replace("=\r\n", "").replace("=3D", "=")
}

async fn delivered(app: &TestApp, sink: &SmtpSink, n: usize) -> Vec<Received> {
    colloquy::services::mail::sender::send_due(&app.state)
        .await
        .unwrap();
    sink.wait_for(n, Duration::from_secs(5)).await
}

#[tokio::test]
async fn found_or_not_the_answer_is_the_same_and_goes_to_that_address_only() {
    let sink = SmtpSink::start().await;
    let app = app_with_smtp(&sink).await;
    let rid = profile(
        &app,
        "Ada Lovelace",
        Some("ada@analytical.example"),
        None,
        None,
    )
    .await;
    app.register("reader@uni.example", "Rita Reader").await;

    let held = ask(&app, "Ada@Analytical.example").await;
    let nothing = ask(&app, "nobody@nowhere.example").await;
    let account = ask(&app, "reader@uni.example").await;
    let mut bodies = Vec::new();
    for r in [held, nothing, account] {
        assert_eq!(r.status(), 202);
        bodies.push(r.text().await.unwrap());
    }
    assert!(bodies.iter().all(|b| *b == bodies[0]), "{bodies:?}");
    let body: Value = serde_json::from_str(&bodies[0]).unwrap();
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("sent our answer to that address"));

    let mails = delivered(&app, &sink, 3).await;
    assert_eq!(mails.len(), 3);
    let to = |addr: &str| -> String {
        let m: Vec<&Received> = mails.iter().filter(|m| m.rcpt_to == [addr]).collect();
        assert_eq!(m.len(), 1, "one message to {addr}");
        text(m[0])
    };
    let ada = to("ada@analytical.example");
    for needle in [
        "Subject: What Colloquy holds about this address",
        "A researcher profile: Ada Lovelace",
        "your name, from the author list of a paper",
        "your e-mail address, from public web pages about you",
        "This is me",
        &format!("https://colloquy.uni.example/researchers/{rid}"),
        "privacy@example.org",
    ] {
        assert!(ada.contains(needle), "{needle} missing from\n{ada}");
    }
    assert!(!ada.contains("An account is registered"));
    let nobody = to("nobody@nowhere.example");
    assert!(
        nobody.contains("We hold nothing about this address"),
        "{nobody}"
    );
    assert!(!nobody.contains("Ada Lovelace"));
    let reader = to("reader@uni.example");
    assert!(
        reader.contains("An account is registered with this address"),
        "{reader}"
    );
    assert!(reader.contains("Download my data") && !reader.contains("Ada Lovelace"));

    // Audited, by what was found, never by the address.
    let db = app.db();
    let mut stmt = db
        .prepare("SELECT target, detail FROM audit_log WHERE action = 'data.requested' ORDER BY id")
        .unwrap();
    let rows: Vec<(Option<String>, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(rows.len(), 3);
    assert_eq!(
        rows[0].0.as_deref(),
        Some(format!("researcher:{rid}").as_str())
    );
    assert_eq!(rows[1].0, None);
    assert!(rows[2].0.as_deref().unwrap().starts_with("user:"));
    for (_, detail) in &rows {
        assert!(!detail.contains('@'), "{detail}");
    }
}

#[tokio::test]
async fn an_address_that_opted_out_still_gets_its_answer() {
    let sink = SmtpSink::start().await;
    let app = app_with_smtp(&sink).await;
    profile(
        &app,
        "Ada Lovelace",
        Some("ada@analytical.example"),
        None,
        None,
    )
    .await;
    let bidx = app
        .state
        .keys
        .blind_index("email", "ada@analytical.example");
    app.db()
        .execute(
            "INSERT INTO suppressions (email_bidx, reason, created_at) VALUES (?1, 'opt_out', '2026-01-01T00:00:00.000000Z')",
            [bidx],
        )
        .unwrap();
    assert_eq!(ask(&app, "ada@analytical.example").await.status(), 202);
    let mails = delivered(&app, &sink, 1).await;
    assert_eq!(mails.len(), 1);
    let ada = text(&mails[0]);
    assert!(ada.contains("list of addresses we never invite"), "{ada}");
}

#[tokio::test]
async fn requests_are_limited_per_address_and_per_client_and_bad_addresses_explained() {
    let sink = SmtpSink::start().await;
    let app = app_with_smtp(&sink).await;
    for bad in [
        json!({"email": "not an address"}),
        json!({"email": ""}),
        json!({}),
    ] {
        let r = app.post_json("/api/v1/data-requests", None, &bad).await;
        assert_eq!(r.status(), 422, "{bad}");
        let body: Value = r.json().await.unwrap();
        assert!(body["error"]["fields"]["email"].is_string(), "{body}");
    }
    let r = app
        .post_json(
            "/api/v1/data-requests",
            None,
            &json!({"email": "a@b.example", "name": "x"}),
        )
        .await;
    assert_eq!(r.status(), 422);

    assert_eq!(ask(&app, "one@uni.example").await.status(), 202);
    let r = ask(&app, "ONE@uni.example").await;
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
    assert_eq!(error_code(r).await, "data_request_recently_answered");
    // Five a client per hour, the refused one above included.
    for n in 2..=4 {
        assert_eq!(
            ask(&app, &format!("person{n}@uni.example")).await.status(),
            202
        );
    }
    let r = ask(&app, "person5@uni.example").await;
    assert_eq!(r.status(), 429);
    assert_eq!(error_code(r).await, "too_many_data_requests");
    // One mail per accepted request, and no more.
    assert_eq!(delivered(&app, &sink, 4).await.len(), 4);
}

#[tokio::test]
async fn the_page_answers_the_same_either_way_and_explains_problems() {
    let sink = SmtpSink::start().await;
    let app = app_with_smtp(&sink).await;
    profile(
        &app,
        "Ada Lovelace",
        Some("ada@analytical.example"),
        None,
        None,
    )
    .await;
    let web = browser();
    let privacy = web
        .get(app.url("/privacy"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        privacy.contains("href=\"/privacy/request\""),
        "linked from the notice"
    );
    let form = web.get(app.url("/privacy/request")).send().await.unwrap();
    assert_eq!(form.status(), 200);
    let form = form.text().await.unwrap();
    assert!(form.contains("Is Colloquy holding data about me?"));
    let csrf = csrf_of(&form);
    let post = |email: &'static str, csrf: String| {
        let (web, app) = (&web, &app);
        async move {
            web.post(app.url("/privacy/request"))
                .form(&[("csrf_token", csrf.as_str()), ("email", email)])
                .send()
                .await
                .unwrap()
        }
    };
    let sent = |html: &str| -> String {
        let start = html.find("<article").unwrap();
        html[start..html.find("</article>").unwrap()].to_string()
    };
    let found = post("ada@analytical.example", csrf.clone()).await;
    assert_eq!(found.status(), 200);
    let found = sent(&found.text().await.unwrap());
    let none = post("nobody@nowhere.example", csrf.clone()).await;
    assert_eq!(none.status(), 200);
    let none = sent(&none.text().await.unwrap());
    assert_eq!(found, none);
    assert!(found.contains("If we hold data about this address, we have sent a summary to it"));

    let r = post("not-an-address", csrf.clone()).await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("E-mail address is not an e-mail address"),
        "{html}"
    );
    assert!(html.contains("value=\"not-an-address\""));
    let r = post("ada@analytical.example", csrf.clone()).await;
    assert_eq!(r.status(), 429);
    let html = r.text().await.unwrap();
    assert!(html.contains("less than an hour ago"), "{html}");
    let r = web
        .post(app.url("/privacy/request"))
        .form(&[("csrf_token", "forged"), ("email", "x@y.example")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(delivered(&app, &sink, 2).await.len(), 2);
}

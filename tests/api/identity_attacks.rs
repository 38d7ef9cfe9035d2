//! The security review's findings, one test per attack, each tried as an
//! attacker would. They use only what the API offered before the fixes,
//! so each fails on the code before them and passes after (see
//! docs/security.md, "Identity").

use colloquy::domain::researcher::{Field, FieldValue, Provenance};
use colloquy::domain::{PaperId, ResearcherId, UserId};
use colloquy::repos::researchers;
use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::collection::*;
use crate::helpers::{error_code, spawn_app, spawn_app_with, TestApp, PASSWORD};
use crate::outreach::{outreach, researcher, ADDRESS};
use crate::sessions_fixtures::{bookable_researcher, booked, day_at_ten, mails};

/// Invites Ada's profile; returns the registration link from the held mail.
async fn invitation_link(app: &TestApp, token: &str, rid: i64) -> String {
    let r = outreach(app, token, json!({"researcher_id": rid})).await;
    assert_eq!(r.status(), 202, "{}", r.text().await.unwrap());
    let mail = mails(app, "outreach_request").pop().expect("an invitation");
    let re = regex::Regex::new(r"/invite/([A-Za-z0-9_\-\.]+)").unwrap();
    re.captures(&mail.content.text).expect("a link")[1].to_string()
}

async fn register_with(app: &TestApp, token: &str, password: &str) -> reqwest::Response {
    app.post_json(
        "/api/v1/auth/register-researcher",
        None,
        &json!({"token": token, "password": password, "accept_terms": true}),
    )
    .await
}

fn owner_of(app: &TestApp, rid: i64) -> Option<i64> {
    app.db()
        .query_row(
            "SELECT user_id FROM researchers WHERE id = ?1",
            [rid],
            |r| r.get(0),
        )
        .unwrap()
}

/// Collection finds another address for the profile (re-collected, or a
/// wrong address corrected).
async fn address_becomes(app: &TestApp, rid: i64, address: &str) {
    let (keys, now, address) = (
        app.state.keys.clone(),
        chrono::Utc::now(),
        address.to_string(),
    );
    app.state
        .db
        .write(move |tx| {
            let p = Provenance {
                provider: "rocketreach".into(),
                source_url: None,
            };
            let v = [(
                Field::Email,
                FieldValue::Email {
                    address,
                    quality: None,
                },
            )];
            researchers::apply(tx, &keys, ResearcherId(rid), &v, &p, now)?;
            Ok(())
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn a_link_mailed_to_an_old_address_cannot_register_the_profile_under_the_new_one() {
    let app = spawn_app().await;
    let reader = app.token("reader@uni.edu").await;
    let (rid, _) = researcher(&app, &reader).await;
    let link = invitation_link(&app, &reader, rid).await;
    // The address was wrong; the holder of the old mailbox still has a link.
    address_becomes(&app, rid, "ada@real.example").await;
    let r = register_with(&app, &link, "the old mailbox holder 77").await;
    assert_eq!(r.status(), 409);
    assert_eq!(error_code(r).await, "link_recipient_changed");
    assert_eq!(owner_of(&app, rid), None);
    assert_eq!(
        app.login("ada@real.example", "the old mailbox holder 77")
            .await
            .status(),
        401
    );
    let page = app
        .client
        .get(app.url(&format!("/invite/{link}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 410);
    assert!(page.text().await.unwrap().contains("no longer has"));
}

#[tokio::test]
async fn a_link_never_sets_the_password_of_an_existing_account() {
    let app = spawn_app().await;
    let reader = app.token("reader@uni.edu").await;
    // The address already has an account (nobody verified it: no SMTP).
    assert_eq!(
        app.register(ADDRESS, "Ada's own account").await.status(),
        201
    );
    let (rid, _) = researcher(&app, &reader).await;
    let link = invitation_link(&app, &reader, rid).await;
    let r = register_with(&app, &link, "a password from the link 42").await;
    assert_eq!(r.status(), 409);
    assert_eq!(error_code(r).await, "account_exists");
    assert_eq!(
        app.login(ADDRESS, PASSWORD).await.status(),
        200,
        "untouched"
    );
    assert_eq!(
        app.login(ADDRESS, "a password from the link 42")
            .await
            .status(),
        401
    );
    assert_eq!(owner_of(&app, rid), None);
}

#[tokio::test]
async fn a_link_never_takes_over_an_admin_account() {
    let app = spawn_app().await;
    let admin = app.admin_token(ADDRESS).await;
    let reader = app.token("reader@uni.edu").await;
    let (rid, _) = researcher(&app, &reader).await;
    let link = invitation_link(&app, &admin, rid).await;
    let r = register_with(&app, &link, "a password from the link 42").await;
    assert_eq!(r.status(), 409);
    assert_eq!(error_code(r).await, "account_exists");
    assert_eq!(app.login(ADDRESS, PASSWORD).await.status(), 200);
    let role: String = app
        .db()
        .query_row("SELECT role FROM users WHERE id = 1", [], |r| r.get(0))
        .unwrap();
    assert_eq!(role, "admin");
    assert_eq!(owner_of(&app, rid), None);
}

#[tokio::test]
async fn a_claimed_profile_cannot_be_claimed_again_through_an_older_link() {
    let app = spawn_app().await;
    let reader = app.token("reader@uni.edu").await;
    let (rid, _) = researcher(&app, &reader).await;
    let link = invitation_link(&app, &reader, rid).await;
    // Meanwhile the profile became Grace's account's (another path).
    let owner = app.signed_in("grace@yale.example").await;
    let me: Value = app
        .get("/api/v1/users/me", owner["access_token"].as_str())
        .await
        .json()
        .await
        .unwrap();
    let grace = me["id"].as_i64().unwrap();
    let now = chrono::Utc::now();
    app.state
        .db
        .write(move |tx| {
            researchers::claim(tx, ResearcherId(rid), UserId(grace), now)?;
            Ok(())
        })
        .await
        .unwrap();
    let r = register_with(&app, &link, "the link holder's own 123").await;
    assert_eq!(r.status(), 409);
    assert_eq!(error_code(r).await, "already_claimed");
    assert_eq!(owner_of(&app, rid), Some(grace));
}

#[tokio::test]
async fn a_duplicate_found_by_collection_never_deletes_sessions_or_payments() {
    let app = spawn_app().await;
    mount_openalex(&app, 1).await;
    mount_firecrawl_search(&app, Some(PAGE_EMAIL), 1).await;
    // The claimed profile has no e-mail of collection's: RocketReach is asked.
    mount_rocketreach(&app, 1).await;
    mount_tavily(&app, 1).await;
    let admin = app.admin_token("admin@uni.edu").await;
    let paper = priem_paper(&app, &admin).await;
    // An older, unclaimed profile of the paper's author (collected before)...
    let now = chrono::Utc::now();
    let older = app
        .state
        .db
        .write(move |tx| {
            let id = researchers::insert(tx, NAME, Some(AFFILIATION), None, now)?;
            researchers::link_paper(tx, PaperId(paper), 0, id)?;
            Ok(id.0)
        })
        .await
        .unwrap();
    // ...and the same person registered, bookable, with a paid session.
    let b = bookable_researcher(&app, "jason@ourresearch.example").await;
    app.db()
        .execute(
            "UPDATE researchers SET name = ?2, affiliation = ?3, orcid = ?4 WHERE id = ?1",
            rusqlite::params![b.researcher_id, NAME, AFFILIATION, ORCID],
        )
        .unwrap();
    let reader = app.token("rosalind@uni.example").await;
    let session = booked(&app, &reader, b.researcher_id, day_at_ten(&app, 3)).await;
    app.db()
        .execute(
            "INSERT INTO session_payments (session_id, user_id, intent_id, status, amount_minor, tax_minor, currency, created_at, updated_at)
             VALUES (?1, 2, 'pi_kept', 'authorized', 4000, 0, 'EUR', '2026-12-01T00:00:00Z', '2026-12-01T00:00:00Z')",
            [session],
        )
        .unwrap();
    assert!(older < b.researcher_id, "the unclaimed one is older");

    // Collection finds the ORCID for the older profile: one person.
    app.collect_ok(&admin, &json!({"paper_id": paper})).await;
    app.run_collection().await;

    let db = app.db();
    let (kept_for, payments): (i64, i64) = db
        .query_row(
            "SELECT researcher_id, (SELECT COUNT(*) FROM session_payments WHERE session_id = ?1)
               FROM consulting_sessions WHERE id = ?1",
            [session],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("the session survives the merge");
    assert_eq!((kept_for, payments), (b.researcher_id, 1));
    assert_eq!(
        owner_of(&app, b.researcher_id),
        Some(b.user_id),
        "the claimed one is kept"
    );
    let gone: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM researchers WHERE id = ?1",
            [older],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(gone, 0, "the unclaimed duplicate is merged away");
    let settings: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM availability WHERE researcher_id = ?1",
            [b.researcher_id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(settings, 1);
    let email: Option<String> = db
        .query_row(
            "SELECT email_enc FROM researchers WHERE id = ?1",
            [b.researcher_id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        email, None,
        "collection never writes a claimed profile's e-mail"
    );
    let detail: String = db
        .query_row(
            "SELECT detail FROM audit_log WHERE action = 'researcher.merged'",
            [],
            |r| r.get(0),
        )
        .expect("the merge is audited");
    let detail: Value = serde_json::from_str(&detail).unwrap();
    assert_eq!(
        (detail["kept"].as_i64(), detail["merged"].as_i64()),
        (Some(b.researcher_id), Some(older))
    );
}

/// Logs in through the form with `next`; returns where the answer sends
/// the browser.
async fn login_redirect(app: &TestApp, next: &str) -> (u16, String) {
    let web = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = web
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = crate::pages::csrf_of(&page);
    let r = web
        .post(app.url("/login"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("email", "rosalind@uni.example"),
            ("password", PASSWORD),
            ("next", next),
        ])
        .send()
        .await
        .unwrap();
    let to = r
        .headers()
        .get("location")
        .map(|l| String::from_utf8_lossy(l.as_bytes()).into_owned())
        .unwrap_or_default();
    (r.status().as_u16(), to)
}

#[tokio::test]
async fn after_log_in_no_redirect_leaves_the_site() {
    let app = spawn_app().await;
    app.register("rosalind@uni.example", "Rosalind").await;
    for next in [
        "/\t/evil.example",
        "/%09/evil.example",
        "/\n/evil.example",
        "/\r\n/evil.example",
        "/%0d%0a/evil.example",
        "/\\evil.example",
        "/%5Cevil.example",
        "/%5c%5cevil.example",
        "\\\\evil.example",
        "/%2F/evil.example",
        "/%252F%252Fevil.example",
        "%2F%2Fevil.example",
        "//evil.example",
        "https://evil.example",
        "/\u{0}/evil.example",
    ] {
        let (status, to) = login_redirect(&app, next).await;
        assert_eq!((status, to.as_str()), (303, "/"), "next = {next:?}");
    }
    let (_, to) = login_redirect(&app, "/papers?q=attention").await;
    assert_eq!(to, "/papers?q=attention", "local paths still work");
}

#[tokio::test]
async fn a_reader_cannot_have_a_hundred_author_paper_collected() {
    let app = spawn_app().await;
    let reader = app.token("reader@uni.example").await;
    let authors: Vec<Value> = (0..100)
        .map(|i| json!({"name": format!("Author Number {i}"), "affiliation": "Big Collaboration"}))
        .collect();
    let paper = paper_with(&app, &reader, json!(authors)).await;
    let r = app
        .collect(Some(&reader), &json!({"paper_id": paper}))
        .await;
    assert_eq!(r.status(), 429);
    assert_eq!(error_code(r).await, "quota_exceeded");
    app.run_collection().await;
    let (jobs, calls): (i64, i64) = app
        .db()
        .query_row(
            "SELECT (SELECT COUNT(*) FROM collection_jobs), (SELECT COUNT(*) FROM provider_calls)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((jobs, calls), (0, 0), "refused before any provider call");
    // Paid providers have a cap out of the box, reserved before each call.
    let c = &app.state.config.providers;
    for budget in [
        c.firecrawl.monthly_credit_budget,
        c.rocketreach.monthly_credit_budget,
        c.tavily.monthly_credit_budget,
    ] {
        assert!(budget > 0);
    }
}

#[tokio::test]
async fn paid_calls_in_flight_never_overshoot_the_monthly_budget() {
    let app = spawn_app_with(|c| c.providers.firecrawl.monthly_credit_budget = 3).await;
    Mock::given(method("POST"))
        .and(path("/v1/search"))
        .respond_with(ResponseTemplate::new(200).set_body_json(firecrawl_search_answer(None)))
        .mount(&app.firecrawl)
        .await;
    let admin = app.admin_token("admin@uni.edu").await;
    let authors: Vec<Value> = (0..12)
        .map(|i| json!({"name": format!("Author Number {i}"), "affiliation": "Big Collaboration"}))
        .collect();
    let paper = paper_with(&app, &admin, json!(authors)).await;
    app.collect_ok(&admin, &json!({"paper_id": paper})).await;
    app.run_collection().await;
    let paid: i64 = app
        .db()
        .query_row(
            "SELECT COUNT(*) FROM provider_calls WHERE provider = 'firecrawl' AND paid = 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(paid <= 3, "{paid} paid Firecrawl calls with a budget of 3");
}

#[tokio::test]
async fn a_homepage_on_a_private_address_is_refused_when_typed_and_never_fetched() {
    let app = spawn_app().await;
    // Typed in on the invitation page.
    let reader = app.token("reader@uni.edu").await;
    let (rid, _) = researcher(&app, &reader).await;
    let link = invitation_link(&app, &reader, rid).await;
    let web = crate::pages::browser();
    let page = web
        .get(app.url(&format!("/invite/{link}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = crate::pages::csrf_of(&page);
    for url in [
        "https://127.0.0.1/",
        "https://10.0.0.5/admin",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]/",
        "https://2130706433/",
        "https://localhost/",
        "https://metadata.google.internal/",
        "http://ada.example/",
    ] {
        let r = web
            .post(app.url(&format!("/invite/{link}")))
            .form(&[
                ("csrf_token", csrf.as_str()),
                ("name", "Ada Lovelace"),
                ("password", PASSWORD),
                ("timezone", "Europe/London"),
                ("accept_terms", "yes"),
                ("bio", ""),
                ("affiliation", ""),
                ("homepage", url),
                ("publications", ""),
                ("achievements", ""),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422, "{url}");
        assert_eq!(owner_of(&app, rid), None, "{url} was accepted");
    }

    // Collected (or typed before): never handed to Firecrawl to fetch.
    let app = spawn_app().await;
    let mut search = openalex_search_answer(NAME);
    search["results"][0]["homepage_url"] = json!("https://169.254.169.254/latest/meta-data/");
    mount_openalex_search(&app, NAME, search, 1).await;
    mount_openalex_works(&app, 1).await;
    Mock::given(method("POST"))
        .and(path("/v1/scrape"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&app.firecrawl)
        .await;
    mount_firecrawl_search(&app, Some(PAGE_EMAIL), 1).await;
    mount_tavily(&app, 1).await;
    let admin = app.admin_token("admin@uni.edu").await;
    let paper = priem_paper(&app, &admin).await;
    app.collect_ok(&admin, &json!({"paper_id": paper})).await;
    app.run_collection().await;
    app.firecrawl.verify().await;
}

#[tokio::test]
async fn the_paper_page_says_why_a_collection_is_refused() {
    let app = spawn_app_with(|c| c.collection.reader_daily_authors = 2).await;
    let (web, csrf) = crate::pages::signed_in_browser(&app, "reader@uni.example").await;
    let reader = app
        .login("reader@uni.example", PASSWORD)
        .await
        .json::<Value>()
        .await
        .unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let authors: Vec<Value> = (0..3)
        .map(|i| json!({"name": format!("Author Number {i}")}))
        .collect();
    let paper = paper_with(&app, &reader, json!(authors)).await;
    let html = web
        .post(app.url(&format!("/papers/{paper}/collect")))
        .header("hx-request", "true")
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("This paper has 3 authors"), "{html}");
    assert!(html.contains("flash-error"), "{html}");
}

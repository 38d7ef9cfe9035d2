//! An account's one time zone: picked at registration (API, web form,
//! invitation link), UTC by default, never free text, and shared by a
//! researcher's account and profile.

use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp, PASSWORD};
use crate::outreach::{register_link, researcher};
use crate::pages::{csrf_of, logged_in_browser};
use crate::sessions_fixtures::{open_settings, put_settings, registered_researcher};

fn register_body(email: &str, zone: Option<(&str, &str)>) -> Value {
    let mut body =
        json!({"email": email, "password": PASSWORD, "name": "Zed", "accept_terms": true});
    if let Some((key, value)) = zone {
        body[key] = json!(value);
    }
    body
}

fn users(app: &TestApp) -> i64 {
    app.db()
        .query_row("SELECT COUNT(*) FROM users", [], |r| r.get(0))
        .unwrap()
}

fn stored_zone(app: &TestApp, email: &str) -> Option<String> {
    let email = colloquy::domain::Email::parse(email).unwrap();
    let bidx = colloquy::repos::users::email_index(&app.state.keys, &email);
    app.db()
        .query_row(
            "SELECT timezone FROM users WHERE email_bidx = ?1",
            [bidx],
            |r| r.get(0),
        )
        .unwrap()
}

#[tokio::test]
async fn registering_through_the_api_stores_the_picked_zone_or_utc() {
    let app = spawn_app().await;
    let cases = [
        (
            "la@uni.example",
            Some(("timezone", "America/Los_Angeles")),
            "America/Los_Angeles",
        ),
        (
            "berlin@uni.example",
            Some(("time_zone", "Europe/Berlin")),
            "Europe/Berlin",
        ),
        ("blank@uni.example", Some(("timezone", "")), "UTC"),
        ("none@uni.example", None, "UTC"),
    ];
    for (email, zone, expected) in cases {
        let r = app
            .post_json("/api/v1/auth/register", None, &register_body(email, zone))
            .await;
        assert_eq!(r.status(), 201, "{email}");
        let user: Value = r.json().await.unwrap();
        assert_eq!(user["timezone"], expected, "{email}");
        assert_eq!(stored_zone(&app, email).as_deref(), Some(expected));
    }
}

#[tokio::test]
async fn a_registration_whose_zone_is_not_one_is_422_naming_the_field_and_stores_nothing() {
    let app = spawn_app().await;
    for bad in ["Mars/Olympus", "+02:00", "Berlin", "europe/berlin"] {
        for key in ["timezone", "time_zone"] {
            let r = app
                .post_json(
                    "/api/v1/auth/register",
                    None,
                    &register_body("zed@uni.example", Some((key, bad))),
                )
                .await;
            assert_eq!(r.status(), 422, "{key}: {bad}");
            let body: Value = r.json().await.unwrap();
            assert_eq!(body["error"]["code"], "validation_failed");
            assert!(
                body["error"]["fields"]["timezone"]
                    .as_str()
                    .is_some_and(|m| m.contains("time zone")),
                "{body}"
            );
        }
    }
    assert_eq!(users(&app), 0, "nothing was stored");
    // The other fields' problems come back with it, all at once.
    let r = app
        .post_json(
            "/api/v1/auth/register",
            None,
            &json!({"email": "not an address", "password": PASSWORD, "name": "Zed", "accept_terms": false, "timezone": "Nowhere"}),
        )
        .await;
    let fields = r.json::<Value>().await.unwrap()["error"]["fields"].clone();
    for f in ["email", "accept_terms", "timezone"] {
        assert!(fields.get(f).is_some(), "{f}: {fields}");
    }
}

#[tokio::test]
async fn the_registration_page_offers_a_labelled_zone_list_prefilled_from_the_browser() {
    let app = spawn_app().await;
    let web = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let html = web
        .get(app.url("/register"))
        .header("Cookie", "colloquy_tz=Europe%2FBerlin")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains(r#"<label for="time-zone">Your time zone</label>"#),
        "{html}"
    );
    assert!(html
        .contains(r#"<select id="time-zone" name="timezone" data-zone-search data-zone-prefill>"#));
    assert!(html.contains("<option selected>Europe/Berlin</option>"));
    assert!(!html.contains(r#"<input type="text" name="timezone""#));
    let csrf = csrf_of(&html);

    // A zone that is not in the list: the form again, the zone marked,
    // what was typed kept, and no account.
    let form = |zone: &'static str| {
        [
            ("csrf_token", csrf.clone()),
            ("name", "Lee Reader".to_string()),
            ("email", "lee@uni.example".to_string()),
            ("password", PASSWORD.to_string()),
            ("accept_terms", "yes".to_string()),
            ("timezone", zone.to_string()),
        ]
    };
    let r = web
        .post(app.url("/register"))
        .form(&form("Pacific Time"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(
        html.contains(r#"aria-invalid="true" aria-describedby="time-zone-error""#),
        "{html}"
    );
    assert!(
        html.contains("Time zone is not an IANA time zone"),
        "{html}"
    );
    assert!(html.contains(r#"value="Lee Reader""#));
    assert_eq!(users(&app), 0);

    let r = web
        .post(app.url("/register"))
        .form(&form("America/Los_Angeles"))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_redirection(), "{}", r.status());
    assert_eq!(
        stored_zone(&app, "lee@uni.example").as_deref(),
        Some("America/Los_Angeles")
    );
}

#[tokio::test]
async fn a_researcher_who_picks_a_zone_on_the_invitation_sees_it_on_the_account_page() {
    let app = spawn_app().await;
    let reader = app.token("reader@uni.example").await;
    let (rid, _) = researcher(&app, &reader).await;
    let token = register_link(&app, rid);
    let r = app
        .post_json(
            "/api/v1/auth/register-researcher",
            None,
            &json!({"token": token, "password": PASSWORD, "time_zone": "America/Los_Angeles", "accept_terms": true}),
        )
        .await;
    assert_eq!(r.status(), 201);
    assert_eq!(
        r.json::<Value>().await.unwrap()["timezone"],
        "America/Los_Angeles"
    );
    let (web, _) = logged_in_browser(&app, crate::outreach::ADDRESS).await;
    let account = web
        .get(app.url("/account"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        account.contains("<strong>America/Los_Angeles</strong>"),
        "{account}"
    );
    assert!(account.contains("<option selected>America/Los_Angeles</option>"));
    let settings: Value = app
        .get(
            &format!("/api/v1/consulting/researchers/{rid}/settings"),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(settings["timezone"], "America/Los_Angeles");
}

#[tokio::test]
async fn a_researchers_account_and_profile_keep_one_zone_whichever_is_changed() {
    let app = spawn_app().await;
    let r = registered_researcher(&app, "grace@yale.example").await;
    let mut settings = open_settings();
    settings["timezone"] = json!("Europe/Berlin");
    let resp = put_settings(&app, &r.token, r.researcher_id, &settings).await;
    assert_eq!(resp.status(), 200);
    let me: Value = app
        .get("/api/v1/users/me", Some(&r.token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["timezone"], "Europe/Berlin");

    let resp = app
        .send_json(
            reqwest::Method::PUT,
            "/api/v1/users/me/timezone",
            Some(&r.token),
            &json!({"timezone": "Asia/Tokyo"}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let saved: Value = app
        .get(
            &format!(
                "/api/v1/consulting/researchers/{}/settings",
                r.researcher_id
            ),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(saved["timezone"], "Asia/Tokyo");
}

//! Amounts with their currency's own decimals: a researcher paid in yen
//! (none) and one paid in Kuwaiti dinars (three) are shown "JPY 4760" and
//! "KWD 1.500" on the session page, in the request e-mail, on the invoice
//! and in the exports, and the booking settings form reads and shows
//! prices the same way.

use chrono::Duration;
use serde_json::{json, Value};

use crate::forms_keep_input::submit;
use crate::helpers::TestApp;
use crate::pages::{logged_in_browser, page_text};
use crate::payments_fixtures::{
    get_ok, invoice_id_of, paid_request, priced_settings, thursday_ten,
};
use crate::sessions_fixtures::{acted, bookable_researcher_with, every_day, mails, Bookable};
use crate::stripe_fakes::spawn_stripe_app;

/// A researcher priced `minor` units of `currency`.
async fn researcher(app: &TestApp, email: &str, minor: i64, currency: &str) -> Bookable {
    let mut settings = priced_settings(minor, 24);
    settings["currency"] = json!(currency);
    bookable_researcher_with(app, email, settings, every_day()).await
}

/// The CSV export `dataset` as `token` gets it: (header, rows).
async fn csv(app: &TestApp, token: &str, dataset: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let r = app
        .get(
            &format!("/api/v1/exports/{dataset}?format=csv"),
            Some(token),
        )
        .await;
    assert_eq!(r.status(), 200);
    let body = r.text().await.unwrap();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(body.as_bytes());
    let mut rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect::<Vec<_>>());
    let header = rows.next().unwrap();
    (header, rows.collect())
}

/// The value of `column` in the row whose `id` is `id`.
fn cell(export: &(Vec<String>, Vec<Vec<String>>), id: i64, column: &str) -> String {
    let at = |name: &str| export.0.iter().position(|h| h == name).unwrap();
    let row = export
        .1
        .iter()
        .find(|r| r[at("id")] == id.to_string())
        .unwrap();
    row[at(column)].clone()
}

#[tokio::test]
async fn yen_and_dinars_are_shown_with_their_own_decimals_everywhere() {
    let s = spawn_stripe_app(|c| c.payments.currency = "JPY".into()).await;
    let app = &s.app;
    let yen = researcher(app, "kenji@kyoto.example", 4760, "JPY").await;
    let dinars = researcher(app, "layla@kuwait.example", 1500, "KWD").await;
    let reader = app.token("reader@uni.example").await;
    let in_yen = paid_request(app, &reader, &yen, thursday_ten()).await;
    let in_dinars = paid_request(app, &reader, &dinars, thursday_ten() + Duration::days(1)).await;

    // The session page, as the reader sees it: the price and the payment.
    let (web, _) = logged_in_browser(app, "reader@uni.example").await;
    for (id, shown) in [(in_yen, "JPY 4760"), (in_dinars, "KWD 1.500")] {
        let html = page_text(&web, app, &format!("/sessions/{id}")).await;
        assert!(html.contains(&format!("{shown} per session")), "{html}");
        assert!(html.contains(&format!("{shown} (tax ")), "{html}");
    }

    // The request e-mail the researcher got once the card was held.
    for (who, shown) in [
        ("kenji@kyoto.example", "JPY 4760"),
        ("layla@kuwait.example", "KWD 1.500"),
    ] {
        let mail = mails(app, "session_request")
            .into_iter()
            .find(|m| m.recipient == who)
            .unwrap();
        assert!(mail.content.text.contains(shown), "{}", mail.content.text);
        assert!(mail.content.html.contains(shown), "{}", mail.content.html);
    }

    // Accepted: captured and invoiced.
    for (r, id, shown) in [
        (&yen, in_yen, "JPY 4760"),
        (&dinars, in_dinars, "KWD 1.500"),
    ] {
        acted(app, &r.token, id, "accept", json!({})).await;
        let invoice = invoice_id_of(app, &reader, id, "capture").await;
        let html = page_text(&web, app, &format!("/invoices/{invoice}")).await;
        assert!(html.contains(shown), "{html}");
        assert!(!html.contains(&format!("{shown}0")), "{html}");
    }

    // Exports: minor units, and the amount as a number with the
    // currency's decimals.
    let sessions = csv(app, &reader, "sessions").await;
    assert_eq!(cell(&sessions, in_yen, "price_minor"), "4760");
    assert_eq!(cell(&sessions, in_yen, "price"), "4760");
    assert_eq!(cell(&sessions, in_dinars, "price_minor"), "1500");
    assert_eq!(cell(&sessions, in_dinars, "price"), "1.500");
    assert_eq!(cell(&sessions, in_dinars, "currency"), "KWD");
    let invoices = csv(app, &reader, "invoices").await;
    let totals: Vec<(String, String)> = invoices
        .1
        .iter()
        .map(|r| {
            let at = |name: &str| invoices.0.iter().position(|h| h == name).unwrap();
            (r[at("currency")].clone(), r[at("total")].clone())
        })
        .collect();
    assert!(
        totals.contains(&("JPY".into(), "4760".into())),
        "{totals:?}"
    );
    assert!(
        totals.contains(&("KWD".into(), "1.500".into())),
        "{totals:?}"
    );
    let r = app
        .get("/api/v1/exports/payments?format=json", Some(&reader))
        .await;
    let lines: Vec<Value> = r
        .text()
        .await
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let capture = |code: &str| {
        lines
            .iter()
            .find(|l| l["kind"] == "capture" && l["currency"] == code)
            .unwrap()
            .clone()
    };
    assert_eq!(capture("JPY")["amount"], "4760");
    assert_eq!(capture("KWD")["amount"], "1.500");
    assert_eq!(capture("KWD")["amount_minor"], 1500);
}

#[tokio::test]
async fn the_settings_form_reads_and_shows_prices_in_the_currencys_units() {
    let s = spawn_stripe_app(|_| {}).await;
    let app = &s.app;
    let r = researcher(app, "layla@kuwait.example", 1500, "KWD").await;
    let path = format!("/researchers/{}/availability", r.researcher_id);
    let (web, _) = logged_in_browser(app, "layla@kuwait.example").await;
    let html = page_text(&web, app, &path).await;
    assert!(html.contains(r#"name="price" value="1.500""#), "{html}");

    let post = |price: &'static str, currency: &'static str| {
        let (web, path) = (&web, path.clone());
        async move {
            let fields = [
                ("timezone", "UTC"),
                ("durations", "30, 60"),
                ("price", price),
                ("currency", currency),
                ("min_notice_hours", "0"),
                ("buffer_minutes", "0"),
                ("max_per_day", "20"),
                ("horizon_days", "60"),
                ("request_ttl_hours", "48"),
                ("cancel_window_hours", "24"),
                ("rules", "mon 09:00-17:00"),
                ("exceptions", ""),
            ];
            submit(web, app, &path, &path, &fields).await
        }
    };
    let settings = || {
        let at = format!(
            "/api/v1/consulting/researchers/{}/settings",
            r.researcher_id
        );
        let token = r.token.as_str();
        async move {
            let s = get_ok(app, token, &at).await;
            (s["price_minor"].clone(), s["currency"].clone())
        }
    };
    // Three decimals are dinars and fils; a fourth is refused.
    let (status, html) = post("2.25", "KWD").await;
    assert_eq!(status, 200, "{html}");
    assert_eq!(settings().await, (json!(2250), json!("KWD")));
    let (status, html) = post("2.2505", "KWD").await;
    assert_eq!(status, 422);
    assert!(
        html.contains("The price must be an amount in KWD such as 15.000."),
        "{html}"
    );
    // Yen have no decimals.
    let (status, html) = post("4760.5", "JPY").await;
    assert_eq!(status, 422);
    assert!(
        html.contains("The price must be an amount in JPY such as 15."),
        "{html}"
    );
    let (status, _) = post("4760", "JPY").await;
    assert_eq!(status, 200);
    assert_eq!(settings().await, (json!(4760), json!("JPY")));
    let html = page_text(&web, app, &path).await;
    assert!(html.contains(r#"name="price" value="4760""#), "{html}");
}

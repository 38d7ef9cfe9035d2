//! The payments pages without a browser: a priced session paid through
//! Stripe Checkout from the session page, its payment and invoices there,
//! the invoice page and its download, the refund on a timely cancel, plans
//! and the subscribe button, and the billing form; with payments off none
//! of the money sections show.

use std::sync::Arc;

use colloquy::clock::Clock;
use colloquy::config::{Config, TaxMode, TaxRateConfig};
use reqwest::cookie::Jar;
use reqwest::redirect::Policy;
use reqwest::{Client, Response};
use serde_json::json;

use crate::helpers::{spawn_app_with, TestApp, PASSWORD};
use crate::pages::csrf_of;
use crate::payments_fixtures::{plan, priced_researcher, thursday_ten};
use crate::stripe_fakes::*;

/// A signed-in visitor: `follow` follows redirects as a browser does,
/// `stay` does not (for the redirects off to Stripe); one cookie jar.
struct Web {
    base: String,
    follow: Client,
    stay: Client,
}

impl Web {
    /// Logs an existing account in through the form.
    async fn logged_in(app: &TestApp, email: &str) -> Web {
        let jar = Arc::new(Jar::default());
        let build = |p| Client::builder().cookie_provider(jar.clone()).redirect(p);
        let web = Web {
            base: app.url(""),
            follow: build(Policy::limited(5)).build().unwrap(),
            stay: build(Policy::none()).build().unwrap(),
        };
        let login = [("email", email), ("password", PASSWORD)];
        assert_eq!(web.submit("/login", "/login", &login).await.0, "/");
        web
    }

    /// Registers `email` through the API and logs it in through the form.
    async fn new(app: &TestApp, email: &str) -> Web {
        app.register(email, "Rita Reader").await;
        Web::logged_in(app, email).await
    }

    async fn get(&self, path: &str) -> Response {
        let url = format!("{}{path}", self.base);
        self.follow.get(url).send().await.unwrap()
    }

    async fn page(&self, path: &str) -> (u16, String) {
        let r = self.get(path).await;
        (r.status().as_u16(), r.text().await.unwrap())
    }

    /// Posts the fields `f` to `to` with the CSRF token of the page at `from`.
    async fn post(&self, c: &Client, from: &str, to: &str, f: &[(&str, &str)]) -> Response {
        let csrf = csrf_of(&self.page(from).await.1);
        let mut form = vec![("csrf_token", csrf.as_str())];
        form.extend_from_slice(f);
        let url = format!("{}{to}", self.base);
        c.post(url).form(&form).send().await.unwrap()
    }

    /// Submits a form of the page at `from`: where the browser landed and
    /// that page.
    async fn submit(&self, from: &str, to: &str, f: &[(&str, &str)]) -> (String, String) {
        let r = self.post(&self.follow, from, to, f).await;
        assert_eq!(r.status(), 200, "{to}");
        (r.url().path().to_string(), r.text().await.unwrap())
    }

    /// Submits a form that redirects off the site: the 303's `Location`.
    async fn away(&self, from: &str, to: &str, f: &[(&str, &str)]) -> String {
        let r = self.post(&self.stay, from, to, f).await;
        assert_eq!(r.status(), 303, "{to}");
        r.headers()["location"].to_str().unwrap().to_string()
    }
}

/// German VAT at 19 % on top of the price, and a seller on invoices.
fn german_vat(c: &mut Config) {
    c.tax.mode = TaxMode::Table;
    c.tax.prices_include_tax = false;
    c.tax.rates = vec![TaxRateConfig {
        country: "DE".into(),
        region: String::new(),
        name: "VAT".into(),
        basis_points: 1900,
    }];
    c.invoices.seller_name = "Colloquy GmbH".into();
    c.invoices.seller_address = "Invalidenstraße 1, 10115 Berlin".into();
    c.invoices.seller_tax_id = "DE999999999".into();
}

/// The text of `#payment-status`, asserted to start with `start`.
fn payment_is(html: &str, start: &str) -> String {
    let re = regex::Regex::new(r#"id="payment-status">([^<]*)<"#).unwrap();
    let status = re.captures(html).expect("#payment-status")[1].to_string();
    assert!(status.starts_with(start), "{status}");
    status
}

/// The invoice links of a page: (id, number).
fn invoice_links(html: &str) -> Vec<(i64, String)> {
    let re = regex::Regex::new(r#"<a href="/invoices/(\d+)">([^<]+)</a>"#).unwrap();
    re.captures_iter(html)
        .map(|c| (c[1].parse().unwrap(), c[2].to_string()))
        .collect()
}

/// A reader and the researcher, both in the web UI, after a priced
/// session was booked and paid on the pages and accepted on the page.
struct Accepted {
    reader: Web,
    researcher: Web,
    id: i64,
    invoice: (i64, String),
}

async fn paid_and_accepted_on_the_pages(s: &StripeApp) -> Accepted {
    let app = &s.app;
    let r = priced_researcher(app, 24).await;
    let reader = Web::new(app, "reader@uni.example").await;
    let b = [
        ("country", "de"),
        ("name", "Rita Reader"),
        ("address", "Linden 1, Berlin"),
    ];
    let (_, html) = reader.submit("/account", "/account/billing", &b).await;
    assert!(html.contains("Billing details saved."), "{html}");

    // Thursday 10:00 from the researcher page's free times.
    let rpage = format!("/researchers/{}", r.researcher_id);
    let html = reader.page(&rpage).await.1;
    let re = regex::Regex::new(r#"name="start" value="(2026-12-10T10:00:00[^"]*)""#).unwrap();
    let start = re.captures(&html).expect("Thursday 10:00 is free")[1].to_string();
    let book = [
        ("start", start.as_str()),
        ("duration", "60"),
        ("topic", "Loops"),
    ];
    let (landed, html) = reader.submit(&rpage, &format!("{rpage}/book"), &book).await;
    let id: i64 = landed["/sessions/".len()..].parse().expect(&landed);
    let here = format!("/sessions/{id}");
    assert!(html.contains("E-mail is held on this server"), "{html}");
    payment_is(&html, "not paid yet · EUR 47.60 (tax EUR 7.60)");
    assert!(html.contains(r#"id="pay""#), "the reader can pay");

    // Unpaid, the researcher does not see it yet.
    let researcher = Web::logged_in(app, "grace@yale.example").await;
    assert_eq!(researcher.page(&here).await.0, 404);

    // Pay: off to the Checkout page Stripe made.
    let to = reader.away(&here, &format!("{here}/pay"), &[]).await;
    let cs = checkout_id(&format!("colloquy-session-{id}-checkout"));
    assert_eq!(to, format!("https://checkout.stripe.com/c/pay/{cs}"));
    let made = calls(&s.stripe, "POST", "/v1/checkout/sessions").await;
    assert_eq!(made.len(), 1);
    let f = form(&made[0]);
    let back = format!("{}{here}", app.state.config.public_url());
    assert_eq!(f["mode"], "payment");
    assert_eq!(f["payment_intent_data[capture_method]"], "manual");
    assert_eq!(
        f["payment_intent_data[metadata][session_id]"],
        id.to_string()
    );
    assert_eq!(f["line_items[0][price_data][unit_amount]"], "4760");
    assert_eq!(f["success_url"], format!("{back}?paid=1"));
    assert_eq!(f["cancel_url"], back);

    // Stripe reports the checkout done and the card held.
    let mut session = checkout_object(&cs, "payment");
    session["payment_intent"] = json!(intent_id(id));
    session["metadata"] = json!({"session_id": id.to_string()});
    let now = app.clock.now().timestamp();
    let done = event("evt_cs_done", "checkout.session.completed", now, session);
    assert_eq!(delivered(app, &done).await, "processed");
    assert_eq!(delivered(app, &capturable(app, id)).await, "processed");
    let (status, html) = reader.page(&format!("{here}?paid=1")).await;
    assert_eq!(status, 200, "the page Checkout returns to");
    payment_is(&html, "card held");
    assert!(!html.contains(r#"id="pay""#), "nothing more to pay");

    // The researcher now sees it and accepts it on the page.
    let html = researcher.page(&here).await.1;
    assert!(html.contains(r#"id="accept""#), "{html}");
    assert!(!html.contains("payment-status"), "the reader's own");
    let action = format!("{here}/action");
    let (_, html) = researcher
        .submit(&here, &action, &[("action", "accept")])
        .await;
    assert!(html.contains("Accepted."), "{html}");
    assert_eq!(count(&s.stripe, "/capture").await, 1);

    let html = reader.page(&here).await.1;
    payment_is(&html, "paid · EUR 47.60");
    let links = invoice_links(&html);
    assert_eq!(links.len(), 1, "{html}");
    Accepted {
        reader,
        researcher,
        id,
        invoice: links[0].clone(),
    }
}

#[tokio::test]
async fn a_reader_pays_through_checkout_on_the_pages_and_gets_an_invoice_page() {
    let s = spawn_stripe_app(german_vat).await;
    let app = &s.app;
    let a = paid_and_accepted_on_the_pages(&s).await;
    let (iid, number) = &a.invoice;
    assert!(number.starts_with("INV-2026-"), "{number}");
    let path = format!("/invoices/{iid}");

    let r = a.reader.get(&path).await;
    assert_eq!(r.status(), 200);
    assert!(r.headers().get("content-disposition").is_none());
    let html = r.text().await.unwrap();
    for part in [
        format!("Invoice {number}"),
        "Colloquy GmbH".into(),
        "Invalidenstraße 1, 10115 Berlin".into(),
        "Tax id: DE999999999".into(),
        "Rita Reader".into(),
        "Linden 1, Berlin".into(),
        "reader@uni.example".into(),
        "Consulting session with Grace Hopper on 10 December 2026 (60 minutes)".into(),
        "19.00 %".into(),
        "<dt>Net</dt><dd>EUR 40.00</dd>".into(),
        "<dt>Tax</dt><dd>EUR 7.60</dd>".into(),
        "<strong>EUR 47.60</strong>".into(),
    ] {
        assert!(html.contains(&part), "{part} missing: {html}");
    }

    let r = a.reader.get(&format!("{path}?download=1")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-disposition"],
        format!("attachment; filename=\"{number}.html\"").as_str()
    );
    assert!(r.text().await.unwrap().contains(number.as_str()));

    // The account's payments list it; no one else sees it.
    let html = a.reader.page("/account").await.1;
    assert!(
        html.contains(r#"id="payments""#) && html.contains(&format!(r#"href="/invoices/{iid}""#))
    );
    assert_eq!(a.researcher.page(&path).await.0, 404);
    let stranger = Web::new(app, "stranger@uni.example").await;
    assert_eq!(stranger.page(&path).await.0, 404);
    assert_eq!(stranger.page(&format!("{path}?download=1")).await.0, 404);
}

#[tokio::test]
async fn a_reader_cancelling_two_days_ahead_on_the_page_is_refunded_with_a_credit_note() {
    let s = spawn_stripe_app(german_vat).await;
    let app = &s.app;
    let a = paid_and_accepted_on_the_pages(&s).await;
    assert!(thursday_ten() - app.clock.now() >= chrono::Duration::hours(48));
    let here = format!("/sessions/{}", a.id);
    let cancel = [("action", "cancel"), ("reason", "Something came up")];
    let (_, html) = a
        .reader
        .submit(&here, &format!("{here}/action"), &cancel)
        .await;
    assert!(html.contains("The session is cancelled."), "{html}");

    let refunds = calls(&s.stripe, "POST", "/v1/refunds").await;
    assert_eq!(refunds.len(), 1, "74 hours ahead: one full refund");
    let f = form(&refunds[0]);
    assert_eq!(
        (f["amount"].as_str(), f["payment_intent"].clone()),
        ("4760", intent_id(a.id))
    );
    let status = payment_is(&html, "refunded · EUR 47.60");
    assert!(status.ends_with("refunded EUR 47.60"), "{status}");

    let links = invoice_links(&html);
    assert_eq!(links.len(), 2, "{html}");
    let (note, number) = links
        .iter()
        .find(|l| *l != &a.invoice)
        .expect("a credit note")
        .clone();
    let html = a.reader.page(&format!("/invoices/{note}")).await.1;
    assert!(html.contains(&format!("Credit note {number}")), "{html}");
    assert!(html.contains(&format!(r#"corrects <a href="/invoices/{}">"#, a.invoice.0)));
    assert!(html.contains("<strong>-EUR 47.60</strong>"), "{html}");
}

#[tokio::test]
async fn the_account_page_offers_plans_and_subscribing_goes_to_checkout_only_with_payments_on() {
    let s = spawn_stripe_app(|c| c.plans = vec![plan(20, 0)]).await;
    let app = &s.app;
    let web = Web::new(app, "reader@uni.example").await;
    let html = web.page("/account").await.1;
    for part in [
        r#"id="subscription""#,
        r#"id="billing""#,
        "<h3>Monthly</h3>",
        "Talk to researchers every month",
        "EUR 10.00 per month · 20 % off sessions",
        r#"name="plan_id" value="monthly""#,
    ] {
        assert!(html.contains(part), "{part} missing: {html}");
    }

    let to = web
        .away("/account", "/account/subscribe", &[("plan_id", "monthly")])
        .await;
    let made = calls(&s.stripe, "POST", "/v1/checkout/sessions").await;
    assert_eq!(made.len(), 1);
    let cs = checkout_id(&key_of(&made[0]));
    assert_eq!(to, format!("https://checkout.stripe.com/c/pay/{cs}"));
    let f = form(&made[0]);
    assert_eq!(f["mode"], "subscription");
    assert_eq!(f["line_items[0][price]"], "price_1PgafmB7WZ01zgkW6dKueIc5");
    let html = web.page("/account").await.1;
    assert!(
        html.contains("Monthly: <strong>waiting for the first payment</strong>"),
        "{html}"
    );

    // An unknown plan comes back as a readable error, not a redirect away.
    let (landed, html) = web
        .submit("/account", "/account/subscribe", &[("plan_id", "yearly")])
        .await;
    assert_eq!(landed, "/account");
    assert!(html.contains("plan_id: no such plan"), "{html}");

    // Payments off: plans configured, yet no money sections.
    let off = spawn_app_with(|c| c.plans = vec![plan(20, 0)]).await;
    let web = Web::new(&off, "reader@uni.example").await;
    let (status, html) = web.page("/account").await;
    assert_eq!(status, 200);
    for part in [
        r#"id="subscription""#,
        r#"id="billing""#,
        r#"id="payments""#,
        "Subscribe",
    ] {
        assert!(!html.contains(part), "{part} shown: {html}");
    }
}

#[tokio::test]
async fn the_billing_form_explains_a_bad_country_and_shows_saved_details_again() {
    let s = spawn_stripe_app(|_| {}).await;
    let app = &s.app;
    let web = Web::new(app, "reader@uni.example").await;
    let mut fields = vec![
        ("country", "Germany"),
        ("region", ""),
        ("name", "Reader GmbH"),
        ("address", "Unter den Linden 1, Berlin"),
        ("tax_id", "DE123456789"),
    ];
    let r = web
        .post(&web.follow, "/account", "/account/billing", &fields)
        .await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Country must be a two-letter country code such as DE."),
        "{html}"
    );
    assert!(
        html.contains(r#"name="country" value="Germany""#),
        "the form keeps what was typed"
    );
    let html = web.page("/account").await.1;
    assert!(
        html.contains(r#"name="country" value="""#),
        "nothing was saved"
    );

    fields[0].1 = "de";
    let (_, html) = web.submit("/account", "/account/billing", &fields).await;
    assert!(html.contains("Billing details saved."), "{html}");
    let html = web.page("/account").await.1;
    for part in [
        r#"name="country" value="DE""#,
        r#"name="name" value="Reader GmbH""#,
        ">Unter den Linden 1, Berlin</textarea>",
        r#"name="tax_id" value="DE123456789""#,
    ] {
        assert!(html.contains(part), "{part} missing: {html}");
    }
}

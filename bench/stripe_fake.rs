//! A Stripe stand-in on loopback for benchmarks whose generated data holds
//! payments: it cancels intents, refunds and cancels subscriptions at the
//! period's end, answering with the recorded shapes of
//! `tests/fixtures/stripe`.

use serde_json::{json, Value};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

fn fixture(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or(Value::Null)
}

fn form(req: &Request) -> std::collections::BTreeMap<String, String> {
    url::form_urlencoded::parse(&req.body)
        .into_owned()
        .collect()
}

struct Cancelled;

impl Respond for Cancelled {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let id = req
            .url
            .path()
            .split('/')
            .nth(3)
            .unwrap_or_default()
            .to_string();
        let mut pi = fixture(include_str!(
            "../tests/fixtures/stripe/payment_intent_create.json"
        ));
        pi["id"] = json!(id);
        pi["status"] = json!("canceled");
        ResponseTemplate::new(200).set_body_json(pi)
    }
}

struct Refunded;

impl Respond for Refunded {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let f = form(req);
        let mut r = fixture(include_str!("../tests/fixtures/stripe/refund.json"));
        let key = req
            .headers
            .get("Idempotency-Key")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("re")
            .replace('-', "");
        r["id"] = json!(format!("re_{key}"));
        r["amount"] = json!(f.get("amount").and_then(|a| a.parse::<i64>().ok()));
        r["payment_intent"] = json!(f.get("payment_intent"));
        ResponseTemplate::new(200).set_body_json(r)
    }
}

/// Starts the stand-in; point `[stripe] api_base_url` at its `uri()`.
pub async fn start() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path_regex(r"^/v1/payment_intents/[^/]+/cancel$"))
        .respond_with(Cancelled)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/refunds"))
        .respond_with(Refunded)
        .mount(&server)
        .await;
    let mut sub = fixture(include_str!("../tests/fixtures/stripe/subscription.json"));
    sub["cancel_at_period_end"] = json!(true);
    Mock::given(method("POST"))
        .and(path_regex(r"^/v1/subscriptions/[^/]+$"))
        .respond_with(ResponseTemplate::new(200).set_body_json(sub))
        .mount(&server)
        .await;
    server
}

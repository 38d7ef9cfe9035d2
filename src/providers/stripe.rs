//! Stripe's REST API: form-encoded requests with the secret key as bearer
//! and an `Idempotency-Key` on every write, so a retried call never charges
//! twice. Only the calls Colloquy makes, with private wire types.

use std::time::Duration;

use serde::Deserialize;

use super::transport::{self, Limits, RetryPolicy, Transport};
use super::ProviderError;
use crate::config::{Secret, StripeConfig};

const NAME: &str = "stripe";

pub struct StripeClient {
    transport: Transport,
    base: String,
    key: Secret,
}

/// A PaymentIntent as far as Colloquy reads it.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct PaymentIntent {
    pub id: String,
    pub status: String,
    pub amount: i64,
    #[serde(default)]
    pub amount_capturable: i64,
    #[serde(default)]
    pub amount_received: i64,
    pub currency: String,
    #[serde(default)]
    pub client_secret: Option<String>,
    #[serde(default)]
    pub latest_charge: Option<String>,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Refund {
    pub id: String,
    pub amount: i64,
    pub status: Option<String>,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Customer {
    pub id: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct CheckoutSession {
    pub id: String,
    pub url: Option<String>,
    /// The PaymentIntent a `payment` session made (once it has one).
    #[serde(default)]
    pub payment_intent: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
struct List<T> {
    data: Vec<T>,
}

/// A Subscription as far as Colloquy reads it (period fields moved to the
/// items in newer API versions; both places are read).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Subscription {
    pub id: String,
    pub status: String,
    #[serde(default)]
    pub cancel_at_period_end: bool,
    #[serde(default)]
    pub current_period_start: Option<i64>,
    #[serde(default)]
    pub current_period_end: Option<i64>,
    #[serde(default)]
    pub items: Option<Items>,
    #[serde(default)]
    pub customer: Option<String>,
    #[serde(default)]
    pub metadata: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Items {
    pub data: Vec<Item>,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Item {
    #[serde(default)]
    pub current_period_start: Option<i64>,
    #[serde(default)]
    pub current_period_end: Option<i64>,
}

impl Subscription {
    /// Colloquy's subscription id, set in the metadata at Checkout.
    pub fn metadata_id(&self) -> Option<i64> {
        self.metadata
            .get("colloquy_subscription_id")
            .and_then(|v| v.parse().ok())
    }

    /// The current period (start, end) as unix times.
    pub fn period(&self) -> (Option<i64>, Option<i64>) {
        let item = self.items.as_ref().and_then(|i| i.data.first());
        (
            self.current_period_start
                .or_else(|| item.and_then(|i| i.current_period_start)),
            self.current_period_end
                .or_else(|| item.and_then(|i| i.current_period_end)),
        )
    }
}

type Form = Vec<(String, String)>;

/// Builds a form from pairs.
pub fn form(pairs: &[(&str, String)]) -> Form {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_string(), v.clone()))
        .collect()
}

impl StripeClient {
    pub fn new(c: &StripeConfig) -> anyhow::Result<Self> {
        let limits = Limits {
            timeout_secs: c.timeout_secs,
            max_concurrency: 8,
            requests_per_minute: 6000,
        };
        let retry = RetryPolicy {
            max_attempts: c.max_retries + 1,
            backoff_base: Duration::from_millis(200),
            max_retry_wait: Duration::from_secs(10),
        };
        Ok(Self {
            transport: Transport::new(NAME, limits, retry, &[])?,
            base: c.api_base_url.trim_end_matches('/').to_string(),
            key: c.secret_key.clone(),
        })
    }

    /// One call; writes carry `idempotency_key` (the same on every retry).
    async fn call<T: serde::de::DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Form>,
        idempotency_key: Option<&str>,
    ) -> Result<T, ProviderError> {
        let url = format!("{}{path}", self.base);
        let answer = self
            .transport
            .send(|http| {
                let mut req = http
                    .request(method.clone(), &url)
                    .bearer_auth(self.key.expose());
                if let Some(k) = idempotency_key {
                    req = req.header("Idempotency-Key", k);
                }
                if let Some(b) = body {
                    req = req.form(b);
                }
                req
            })
            .await
            .map_err(|(e, _)| e)?;
        transport::parse(NAME, &answer.body)
    }

    pub async fn create_customer(
        &self,
        email: &str,
        name: &str,
        user_id: i64,
    ) -> Result<Customer, ProviderError> {
        let body = form(&[
            ("email", email.to_string()),
            ("name", name.to_string()),
            ("metadata[user_id]", user_id.to_string()),
        ]);
        let key = format!("colloquy-customer-{user_id}");
        self.call(
            reqwest::Method::POST,
            "/v1/customers",
            Some(&body),
            Some(&key),
        )
        .await
    }

    /// A PaymentIntent that only authorises (`capture_method=manual`).
    pub async fn create_payment_intent(
        &self,
        amount: i64,
        currency: &str,
        customer: &str,
        session_id: i64,
        idempotency_key: &str,
    ) -> Result<PaymentIntent, ProviderError> {
        let body = form(&[
            ("amount", amount.to_string()),
            ("currency", currency.to_lowercase()),
            ("customer", customer.to_string()),
            ("capture_method", "manual".into()),
            ("automatic_payment_methods[enabled]", "true".into()),
            ("metadata[session_id]", session_id.to_string()),
        ]);
        self.call(
            reqwest::Method::POST,
            "/v1/payment_intents",
            Some(&body),
            Some(idempotency_key),
        )
        .await
    }

    pub async fn retrieve_payment_intent(&self, id: &str) -> Result<PaymentIntent, ProviderError> {
        self.call(
            reqwest::Method::GET,
            &format!("/v1/payment_intents/{id}"),
            None,
            None,
        )
        .await
    }

    pub async fn capture(&self, id: &str, key: &str) -> Result<PaymentIntent, ProviderError> {
        self.call(
            reqwest::Method::POST,
            &format!("/v1/payment_intents/{id}/capture"),
            Some(&Vec::new()),
            Some(key),
        )
        .await
    }

    pub async fn cancel_intent(&self, id: &str, key: &str) -> Result<PaymentIntent, ProviderError> {
        self.call(
            reqwest::Method::POST,
            &format!("/v1/payment_intents/{id}/cancel"),
            Some(&Vec::new()),
            Some(key),
        )
        .await
    }

    pub async fn refund(
        &self,
        intent: &str,
        amount: i64,
        key: &str,
    ) -> Result<Refund, ProviderError> {
        let body = form(&[
            ("payment_intent", intent.to_string()),
            ("amount", amount.to_string()),
        ]);
        self.call(reqwest::Method::POST, "/v1/refunds", Some(&body), Some(key))
            .await
    }

    /// Every refund of a PaymentIntent (newest first).
    pub async fn list_refunds(&self, intent: &str) -> Result<Vec<Refund>, ProviderError> {
        let path = format!("/v1/refunds?payment_intent={}&limit=100", urlencode(intent));
        let list: List<Refund> = self.call(reqwest::Method::GET, &path, None, None).await?;
        Ok(list.data)
    }

    pub async fn retrieve_checkout_session(
        &self,
        id: &str,
    ) -> Result<CheckoutSession, ProviderError> {
        self.call(
            reqwest::Method::GET,
            &format!("/v1/checkout/sessions/{}", urlencode(id)),
            None,
            None,
        )
        .await
    }

    pub async fn create_checkout_session(
        &self,
        body: &Form,
        key: &str,
    ) -> Result<CheckoutSession, ProviderError> {
        self.call(
            reqwest::Method::POST,
            "/v1/checkout/sessions",
            Some(body),
            Some(key),
        )
        .await
    }

    /// A Billing Portal page where the customer updates their card.
    pub async fn billing_portal(
        &self,
        customer: &str,
        return_url: &str,
    ) -> Result<CheckoutSession, ProviderError> {
        let body = form(&[
            ("customer", customer.to_string()),
            ("return_url", return_url.to_string()),
        ]);
        self.call(
            reqwest::Method::POST,
            "/v1/billing_portal/sessions",
            Some(&body),
            None,
        )
        .await
    }

    pub async fn retrieve_subscription(&self, id: &str) -> Result<Subscription, ProviderError> {
        self.call(
            reqwest::Method::GET,
            &format!("/v1/subscriptions/{id}"),
            None,
            None,
        )
        .await
    }

    pub async fn cancel_at_period_end(
        &self,
        id: &str,
        key: &str,
    ) -> Result<Subscription, ProviderError> {
        let body = form(&[("cancel_at_period_end", "true".into())]);
        self.call(
            reqwest::Method::POST,
            &format!("/v1/subscriptions/{id}"),
            Some(&body),
            Some(key),
        )
        .await
    }
}

/// An id as one path or query component.
fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

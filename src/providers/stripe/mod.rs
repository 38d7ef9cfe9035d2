//! Stripe through async-stripe's typed requests and objects (API version
//! [`api_version`]), sent by our own [`Transport`]: the library's
//! `StripeClient` trait is implemented here, so every call keeps our
//! retry policy (the same `Idempotency-Key` on every retry, `Retry-After`
//! honoured), the concurrency and rate limits and timeouts that
//! every other provider has. Only the calls Colloquy makes.

pub mod metadata;

use bytes::Bytes;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use stripe_billing::billing_portal_session::CreateBillingPortalSession;
use stripe_billing::subscription::{RetrieveSubscription, UpdateSubscription};
pub use stripe_billing::BillingPortalSession;
use stripe_checkout::checkout_session::{
    CreateCheckoutSession, CreateCheckoutSessionLineItems, CreateCheckoutSessionLineItemsPriceData,
    CreateCheckoutSessionPaymentIntentData, CreateCheckoutSessionPaymentIntentDataCaptureMethod,
    CreateCheckoutSessionSubscriptionData, ListCheckoutSession, ProductData,
    RetrieveCheckoutSession,
};
use stripe_client_core::{
    CustomizedStripeRequest, RequestBuilder, RequestStrategy, StripeClientErr, StripeMethod,
    StripeRequest,
};
use stripe_core::customer::CreateCustomer;
use stripe_core::payment_intent::{
    CancelPaymentIntent, CapturePaymentIntent, CreatePaymentIntent,
    CreatePaymentIntentAutomaticPaymentMethods, RetrievePaymentIntent,
};
use stripe_core::refund::{CreateRefund, ListRefund};
use stripe_shared::Price;
pub use stripe_shared::{
    CheckoutSession, CheckoutSessionMode, Customer, PaymentIntent, PaymentIntentCaptureMethod,
    PaymentIntentStatus, Refund, Subscription,
};

use super::transport::{Limits, RetryPolicy, Transport};
use super::ProviderError;
use crate::config::{Secret, StripeConfig};
use crate::domain::money::Money;
use crate::domain::{ConsultingSessionId, UserId};

const NAME: &str = "stripe";

/// What an id may hold unescaped in a URL path (`price_1Pg…`).
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'_').remove(b'-');

/// The API version the typed objects model; sent as `Stripe-Version` on
/// every call, and the version a webhook endpoint must be created with.
pub fn api_version() -> &'static str {
    stripe_shared::version::VERSION.as_str()
}

pub struct StripeClient {
    transport: Transport,
    base: String,
    key: Secret,
}

impl StripeClientErr for ProviderError {
    fn deserialize_err(msg: impl std::fmt::Display) -> Self {
        ProviderError::Malformed {
            provider: NAME,
            detail: msg.to_string(),
        }
    }
}

impl stripe_client_core::StripeClient for StripeClient {
    type Err = ProviderError;

    async fn execute(&self, req: CustomizedStripeRequest) -> Result<Bytes, ProviderError> {
        let (req, config) = req.into_pieces();
        let key = config
            .request_strategy
            .as_ref()
            .and_then(RequestStrategy::get_key);
        let mut url = format!("{}/v1{}", self.base, req.path);
        if let Some(q) = &req.query {
            url.push('?');
            url.push_str(q);
        }
        let method = match req.method {
            StripeMethod::Get => reqwest::Method::GET,
            StripeMethod::Post => reqwest::Method::POST,
            StripeMethod::Delete => reqwest::Method::DELETE,
        };
        let answer = self
            .transport
            .send(|http| {
                let mut r = http
                    .request(method.clone(), &url)
                    .bearer_auth(self.key.expose())
                    .header("Stripe-Version", api_version());
                if let Some(k) = &key {
                    r = r.header("Idempotency-Key", k.as_str());
                }
                if let Some(body) = &req.body {
                    r = r
                        .header("Content-Type", "application/x-www-form-urlencoded")
                        .body(body.clone());
                }
                r
            })
            .await
            .map_err(|(e, _)| e)?;
        Ok(answer.body)
    }
}

/// A write sent under `key`, the same on every retry.
fn once(key: &str) -> Result<RequestStrategy, ProviderError> {
    stripe_client_core::IdempotencyKey::new(key)
        .map(RequestStrategy::Idempotent)
        .map_err(|e| ProviderError::Malformed {
            provider: NAME,
            detail: e.to_string(),
        })
}

/// Stripe's spelling of a currency (`eur`).
fn currency(amount: &Money) -> Result<stripe_types::Currency, ProviderError> {
    amount
        .currency
        .code()
        .to_lowercase()
        .parse()
        .map_err(|_| ProviderError::Malformed {
            provider: NAME,
            detail: format!("Stripe does not take {}", amount.currency),
        })
}

/// What a hosted Checkout page sells.
pub enum CheckoutFor<'a> {
    /// One session, its card only held (`capture_method=manual`).
    Session {
        id: ConsultingSessionId,
        amount: Money,
        product: String,
        /// The idempotency key (one per payment attempt).
        key: String,
    },
    /// A plan's recurring price, for `user`. The local subscription is
    /// written only once Stripe made the Checkout Session, so the objects
    /// carry the user; the row is found by the Checkout Session's id.
    Subscription {
        user: UserId,
        price_id: &'a str,
        /// The idempotency key (one per start of a subscription).
        key: String,
    },
}

/// What a plan's Stripe Price charges: what `[[plans]]` is checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanPrice {
    /// `None` for a tiered or customer-chosen amount.
    pub unit_amount: Option<i64>,
    /// Upper case (`EUR`).
    pub currency: String,
    /// `month`, `year`, …; `None` for a one-time price.
    pub interval: Option<String>,
    pub interval_count: u64,
    /// An archived Price cannot be bought.
    pub active: bool,
}

impl StripeClient {
    pub fn new(c: &StripeConfig) -> anyhow::Result<Self> {
        let limits = Limits {
            timeout_secs: c.timeout_secs,
            max_concurrency: 8,
            requests_per_minute: 6000,
        };
        let retry = RetryPolicy::service(c.max_retries);
        Ok(Self {
            transport: Transport::new(NAME, limits, retry, &[])?,
            base: c.api_base_url.trim_end_matches('/').to_string(),
            key: c.secret_key.clone(),
        })
    }

    pub async fn create_customer(
        &self,
        email: &str,
        name: &str,
        user: UserId,
    ) -> Result<Customer, ProviderError> {
        CreateCustomer::new()
            .email(email)
            .name(name)
            .metadata(metadata::for_user(user))
            .customize()
            .request_strategy(once(&format!("colloquy-customer-{user}"))?)
            .send(self)
            .await
    }

    /// A PaymentIntent that only authorises (`capture_method=manual`).
    pub async fn create_payment_intent(
        &self,
        amount: Money,
        customer: &str,
        session: ConsultingSessionId,
        idempotency_key: &str,
    ) -> Result<PaymentIntent, ProviderError> {
        CreatePaymentIntent::new(amount.minor, currency(&amount)?)
            .customer(customer)
            .capture_method(PaymentIntentCaptureMethod::Manual)
            .automatic_payment_methods(CreatePaymentIntentAutomaticPaymentMethods::new(true))
            .metadata(metadata::for_session(session))
            .customize()
            .request_strategy(once(idempotency_key)?)
            .send(self)
            .await
    }

    pub async fn retrieve_payment_intent(&self, id: &str) -> Result<PaymentIntent, ProviderError> {
        RetrievePaymentIntent::new(id).send(self).await
    }

    pub async fn capture(&self, id: &str, key: &str) -> Result<PaymentIntent, ProviderError> {
        CapturePaymentIntent::new(id)
            .customize()
            .request_strategy(once(key)?)
            .send(self)
            .await
    }

    pub async fn cancel_intent(&self, id: &str, key: &str) -> Result<PaymentIntent, ProviderError> {
        CancelPaymentIntent::new(id)
            .customize()
            .request_strategy(once(key)?)
            .send(self)
            .await
    }

    pub async fn refund(
        &self,
        intent: &str,
        amount_minor: i64,
        key: &str,
    ) -> Result<Refund, ProviderError> {
        CreateRefund::new()
            .payment_intent(intent)
            .amount(amount_minor)
            .customize()
            .request_strategy(once(key)?)
            .send(self)
            .await
    }

    /// Every refund of a PaymentIntent (newest first).
    pub async fn list_refunds(&self, intent: &str) -> Result<Vec<Refund>, ProviderError> {
        let list = ListRefund::new()
            .payment_intent(intent)
            .limit(100)
            .send(self)
            .await?;
        Ok(list.data)
    }

    pub async fn retrieve_checkout_session(
        &self,
        id: &str,
    ) -> Result<CheckoutSession, ProviderError> {
        RetrieveCheckoutSession::new(id).send(self).await
    }

    /// A hosted Checkout page for `what`, coming back to `back`.
    pub async fn create_checkout_session(
        &self,
        customer: &str,
        what: CheckoutFor<'_>,
        success_url: String,
        cancel_url: String,
    ) -> Result<CheckoutSession, ProviderError> {
        let mut item = CreateCheckoutSessionLineItems::new();
        item.quantity = Some(1);
        let mut req = CreateCheckoutSession::new()
            .customer(customer)
            .success_url(success_url)
            .cancel_url(cancel_url);
        let key = match what {
            CheckoutFor::Session {
                id,
                amount,
                product,
                key,
            } => {
                let mut price = CreateCheckoutSessionLineItemsPriceData::new(currency(&amount)?);
                price.unit_amount = Some(amount.minor);
                price.product_data = Some(ProductData {
                    description: None,
                    images: None,
                    metadata: None,
                    name: product,
                    tax_code: None,
                    tax_details: None,
                    unit_label: None,
                });
                item.price_data = Some(price);
                let mut intent = CreateCheckoutSessionPaymentIntentData::new();
                intent.capture_method =
                    Some(CreateCheckoutSessionPaymentIntentDataCaptureMethod::Manual);
                intent.metadata = Some(metadata::for_session(id));
                req = req
                    .mode(CheckoutSessionMode::Payment)
                    .payment_intent_data(intent)
                    .metadata(metadata::for_session(id));
                key
            }
            CheckoutFor::Subscription {
                user,
                price_id,
                key,
            } => {
                item.price = Some(price_id.to_string());
                let mut data = CreateCheckoutSessionSubscriptionData::new();
                data.metadata = Some(metadata::for_user(user));
                req = req
                    .mode(CheckoutSessionMode::Subscription)
                    .subscription_data(data)
                    .metadata(metadata::for_user(user));
                key
            }
        };
        req.line_items(vec![item])
            .customize()
            .request_strategy(once(&key)?)
            .send(self)
            .await
    }

    /// A Billing Portal page where the customer updates their card.
    pub async fn billing_portal(
        &self,
        customer: &str,
        return_url: &str,
        key: &str,
    ) -> Result<BillingPortalSession, ProviderError> {
        CreateBillingPortalSession::new()
            .customer(customer)
            .return_url(return_url)
            .customize()
            .request_strategy(once(key)?)
            .send(self)
            .await
    }

    /// The Checkout Session a subscription was bought through, if any.
    pub async fn checkout_of_subscription(
        &self,
        subscription: &str,
    ) -> Result<Option<String>, ProviderError> {
        let list = ListCheckoutSession::new()
            .subscription(subscription)
            .limit(1)
            .send(self)
            .await?;
        Ok(list.data.first().map(|cs| cs.id.to_string()))
    }

    /// A Price (`GET /v1/prices/{id}`), as far as a plan needs it.
    pub async fn retrieve_price(&self, id: &str) -> Result<PlanPrice, ProviderError> {
        let id = utf8_percent_encode(id, PATH_SEGMENT);
        let price: Price = RequestBuilder::new(StripeMethod::Get, format!("/prices/{id}"))
            .customize()
            .send(self)
            .await?;
        Ok(PlanPrice {
            unit_amount: price.unit_amount,
            currency: price.currency.to_string().to_uppercase(),
            interval: price
                .recurring
                .as_ref()
                .map(|r| r.interval.as_str().to_string()),
            interval_count: price.recurring.as_ref().map_or(0, |r| r.interval_count),
            active: price.active,
        })
    }

    pub async fn retrieve_subscription(&self, id: &str) -> Result<Subscription, ProviderError> {
        RetrieveSubscription::new(id).send(self).await
    }

    pub async fn cancel_at_period_end(
        &self,
        id: &str,
        key: &str,
    ) -> Result<Subscription, ProviderError> {
        UpdateSubscription::new(id)
            .cancel_at_period_end(true)
            .customize()
            .request_strategy(once(key)?)
            .send(self)
            .await
    }
}

/// An amount Stripe reports, as our [`Money`]; `None` for a currency
/// outside ISO 4217.
pub fn money(minor: i64, currency: &stripe_types::Currency) -> Option<Money> {
    let code = currency.to_string().to_uppercase();
    crate::domain::money::Currency::parse(&code)
        .ok()
        .map(|c| Money::new(minor, c))
}

/// The current period (start, end) of a subscription as unix times: on
/// its first item since API version 2025-03-31.
pub fn period(sub: &Subscription) -> (Option<i64>, Option<i64>) {
    let item = sub.items.data.first();
    (
        item.map(|i| i.current_period_start),
        item.map(|i| i.current_period_end),
    )
}
